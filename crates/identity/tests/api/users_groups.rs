//! Users, groups and credentials through the API.


use http::{Method, StatusCode};
use monostack_identity::store::assignments::{self, Assignment, Kind};
use serde_json::{json, Value};
use crate::support::{subject, TestCloud};

fn id(v: &Value, kind: &str) -> String {
    v[kind]["id"].as_str().unwrap_or_else(|| panic!("no {kind} id in {v}")).to_string()
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    v[key].as_array().unwrap_or_else(|| panic!("no {key} list in {v}")).iter().map(|x| x["id"].as_str().expect("id").to_string()).collect()
}

async fn grant(cloud: &TestCloud, kind: Kind, actor: &str, target: &str, role: &str) {
    let role = monostack_identity::store::roles::get_by_name(&cloud.identity, role, None).await.expect("db").expect("role");
    assignments::grant(&cloud.identity, &Assignment { kind, actor_id: actor.into(), target_id: target.into(), role_id: role.id, inherited: false })
        .await
        .expect("grant");
}

async fn create_user(cloud: &TestCloud, admin: &str, body: Value) -> Value {
    let r = cloud.call(Method::POST, "/v3/users", Some(admin), Some(json!({ "user": body }))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["user"].clone()
}

async fn create_domain(cloud: &TestCloud, admin: &str, name: &str) -> String {
    let r = cloud.call(Method::POST, "/v3/domains", Some(admin), Some(json!({"domain": {"name": name}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    id(&r.body, "domain")
}

#[tokio::test]
async fn user_crud_and_views() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let user = create_user(&cloud, &admin, json!({"name": "  carol ", "password": "s3cret", "email": "carol@example.com", "description": "d", "enabled": false})).await;
    assert_eq!(user["name"], "carol", "name is stripped");
    assert_eq!(user["domain_id"], "default");
    assert_eq!(user["enabled"], false);
    assert_eq!(user["email"], "carol@example.com");
    assert_eq!(user["description"], "d");
    assert_eq!(user["options"], json!({}));
    assert!(user["password_expires_at"].is_null());
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());
    assert!(user.get("default_project_id").is_none());
    let uid = user["id"].as_str().unwrap().to_string();
    assert!(user["links"]["self"].as_str().unwrap().ends_with(&format!("/v3/users/{uid}")));

    let got = cloud.call(Method::GET, &format!("/v3/users/{uid}"), Some(&admin), None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["user"], user);

    // Duplicate name in the same domain; the same name elsewhere is fine.
    let dup = cloud.call(Method::POST, "/v3/users", Some(&admin), Some(json!({"user": {"name": "carol"}}))).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let dom = create_domain(&cloud, &admin, "other").await;
    let elsewhere = create_user(&cloud, &admin, json!({"name": "carol", "domain_id": dom, "default_project_id": "nowhere"})).await;
    assert_eq!(elsewhere["domain_id"], dom.as_str());
    assert_eq!(elsewhere["default_project_id"], "nowhere");

    // Bad input is a 400; an unknown domain a 404.
    for body in [
        json!({}),
        json!({"user": {}}),
        json!({"user": {"name": ""}}),
        json!({"user": {"name": "   "}}),
        json!({"user": {"name": "x".repeat(256)}}),
        json!({"user": {"name": 5}}),
        json!({"user": {"name": "x", "enabled": "yes"}}),
        json!({"user": {"name": "x", "password": 5}}),
        json!({"user": {"name": "x", "options": {"bogus": true}}}),
        json!({"user": {"name": "x", "options": {"multi_factor_auth_rules": [["password", "password"]]}}}),
        json!({"user": {"name": "x", "default_project_id": dom}}),
    ] {
        let r = cloud.call(Method::POST, "/v3/users", Some(&admin), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body} gave {}", r.body);
    }
    let r = cloud.call(Method::POST, "/v3/users", Some(&admin), Some(json!({"user": {"name": "x", "domain_id": "nope"}}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"]["message"], "Could not find domain: nope.");

    // Options are validated and kept; null unsets.
    let opt = create_user(&cloud, &admin, json!({"name": "opt", "options": {"ignore_password_expiry": true, "multi_factor_auth_rules": [["password", "totp"]]}})).await;
    assert_eq!(opt["options"]["ignore_password_expiry"], true);
    let oid = opt["id"].as_str().unwrap();
    let r = cloud.call(Method::PATCH, &format!("/v3/users/{oid}"), Some(&admin), Some(json!({"user": {"options": {"ignore_password_expiry": null}}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["user"]["options"].get("ignore_password_expiry").is_none());
    assert_eq!(r.body["user"]["options"]["multi_factor_auth_rules"], json!([["password", "totp"]]));

    // Update: extra attributes echoed back and kept.
    let patch = json!({"user": {"name": "carol2", "email": "c2@example.com", "project_id": "p1", "enabled": false, "description": "d2"}});
    let r = cloud.call(Method::PATCH, &format!("/v3/users/{uid}"), Some(&admin), Some(patch)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for (k, v) in [("name", "carol2"), ("email", "c2@example.com"), ("project_id", "p1"), ("description", "d2")] {
        assert_eq!(r.body["user"][k], v);
    }
    let got = cloud.call(Method::GET, &format!("/v3/users/{uid}"), Some(&admin), None).await;
    assert_eq!(got.body["user"], r.body["user"]);
    for (body, status) in [
        (json!({"user": {}}), StatusCode::BAD_REQUEST),
        (json!({"user": {"id": "other"}}), StatusCode::BAD_REQUEST),
        (json!({"user": {"domain_id": dom}}), StatusCode::BAD_REQUEST),
        (json!({"user": {"name": "opt"}}), StatusCode::CONFLICT),
        (json!({"user": {"enabled": 1}}), StatusCode::BAD_REQUEST),
    ] {
        let r = cloud.call(Method::PATCH, &format!("/v3/users/{uid}"), Some(&admin), Some(body.clone())).await;
        assert_eq!(r.status, status, "{body} gave {}", r.body);
    }
    let r = cloud.call(Method::PATCH, "/v3/users/missing", Some(&admin), Some(json!({"user": {"name": "z"}}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Delete.
    let r = cloud.call(Method::DELETE, &format!("/v3/users/{uid}"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = cloud.call(Method::GET, &format!("/v3/users/{uid}"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"]["message"], format!("Could not find user: {uid}."));
    let r = cloud.call(Method::DELETE, &format!("/v3/users/{uid}"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn list_users_filters() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let dom = create_domain(&cloud, &admin, "listdom").await;
    let a = create_user(&cloud, &admin, json!({"name": "alpha-user", "domain_id": dom})).await;
    let b = create_user(&cloud, &admin, json!({"name": "beta-user", "enabled": false})).await;
    let list = |q: &'static str| {
        let cloud = &cloud;
        let admin = admin.clone();
        async move {
            let r = cloud.call(Method::GET, &format!("/v3/users{q}"), Some(&admin), None).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert!(r.body["links"]["self"].is_string());
            ids(&r.body, "users")
        }
    };
    let all = list("").await;
    assert!(all.contains(&id(&json!({"u": a}), "u")) && all.contains(&b["id"].as_str().unwrap().to_string()));
    assert!(all.len() >= 3, "admin is listed too");
    let r = cloud.call(Method::GET, &format!("/v3/users?domain_id={dom}"), Some(&admin), None).await;
    assert_eq!(ids(&r.body, "users"), vec![a["id"].as_str().unwrap().to_string()]);
    assert_eq!(list("?enabled=false").await, vec![b["id"].as_str().unwrap().to_string()]);
    assert_eq!(list("?name=beta-user").await, vec![b["id"].as_str().unwrap().to_string()]);
    assert_eq!(list("?name__startswith=alpha").await, vec![a["id"].as_str().unwrap().to_string()]);
    assert_eq!(list("?name__icontains=USER").await.len(), 2);
    assert!(list("?idp_id=x").await.is_empty());
    let r = cloud.call(Method::GET, "/v3/users", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn admin_password_reset_and_disable_revoke_tokens() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (uid, pid, token) = cloud.member(&admin, "dave").await;
    let r = cloud.call(Method::GET, &format!("/v3/users/{uid}"), Some(&token), None).await;
    assert_eq!(r.status, StatusCode::OK, "a user reads themself");

    let r = cloud.call(Method::PATCH, &format!("/v3/users/{uid}"), Some(&admin), Some(json!({"user": {"password": "new-pw"}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["user"].get("password").is_none());
    let r = cloud.call(Method::GET, &format!("/v3/users/{uid}"), Some(&token), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "old token revoked");
    assert_eq!(cloud.token_for("dave", "pw-dave", None).await.status, StatusCode::UNAUTHORIZED);
    let fresh = cloud.token_for("dave", "new-pw", Some(json!({"project": {"id": pid}}))).await;
    assert_eq!(fresh.status, StatusCode::CREATED, "a token right after the change is valid: {}", fresh.body);
    let fresh = subject(&fresh);
    assert_eq!(cloud.call(Method::GET, &format!("/v3/users/{uid}"), Some(&fresh), None).await.status, StatusCode::OK);

    // Changing something else leaves tokens alone; disabling revokes them.
    let r = cloud.call(Method::PATCH, &format!("/v3/users/{uid}"), Some(&admin), Some(json!({"user": {"email": "d@x"}}))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(cloud.call(Method::GET, &format!("/v3/users/{uid}"), Some(&fresh), None).await.status, StatusCode::OK);
    let r = cloud.call(Method::PATCH, &format!("/v3/users/{uid}"), Some(&admin), Some(json!({"user": {"enabled": false}}))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(cloud.call(Method::GET, &format!("/v3/users/{uid}"), Some(&fresh), None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(cloud.token_for("dave", "new-pw", None).await.status, StatusCode::UNAUTHORIZED);
    let r = cloud.call(Method::PATCH, &format!("/v3/users/{uid}"), Some(&admin), Some(json!({"user": {"enabled": true}}))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(cloud.token_for("dave", "new-pw", None).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn self_service_password_change() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (uid, pid, token) = cloud.member(&admin, "erin").await;
    let path = format!("/v3/users/{uid}/password");
    let change = |orig: &str, new: &str| json!({"user": {"original_password": orig, "password": new}});

    let r = cloud.call(Method::POST, &path, Some(&token), Some(change("wrong", "next-pw"))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = cloud.call(Method::POST, "/v3/users/nobody/password", None, Some(change("pw-erin", "next-pw"))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    for body in [json!({}), json!({"user": {"password": "x"}}), json!({"user": {"original_password": "pw-erin"}}), json!({"user": {"original_password": "pw-erin", "password": 1}}), json!({"user": {"original_password": "pw-erin", "password": "x", "name": "y"}})] {
        let r = cloud.call(Method::POST, &path, Some(&token), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body} gave {}", r.body);
    }
    let r = cloud.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);

    let r = cloud.call(Method::POST, &path, Some(&token), Some(change("pw-erin", "next-pw"))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(cloud.call(Method::GET, &format!("/v3/users/{uid}"), Some(&token), None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(cloud.token_for("erin", "pw-erin", None).await.status, StatusCode::UNAUTHORIZED);
    let t = cloud.token_for("erin", "next-pw", Some(json!({"project": {"id": pid}}))).await;
    assert_eq!(t.status, StatusCode::CREATED);

    // No token is needed (an expired password leaves the user without one).
    let r = cloud.call(Method::POST, &path, None, Some(change("next-pw", "third-pw"))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // lock_password forbids self-service changes, not admin resets.
    let r = cloud.call(Method::PATCH, &format!("/v3/users/{uid}"), Some(&admin), Some(json!({"user": {"options": {"lock_password": true}}}))).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = cloud.call(Method::POST, &path, None, Some(change("third-pw", "fourth-pw"))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(cloud.token_for("erin", "third-pw", None).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn groups_crud_and_membership() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let dom = create_domain(&cloud, &admin, "gdom").await;
    let r = cloud.call(Method::POST, "/v3/groups", Some(&admin), Some(json!({"group": {"name": "ops", "description": "Ops", "domain_id": dom, "tier": 1}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let g = r.body["group"].clone();
    assert_eq!(g["name"], "ops");
    assert_eq!(g["description"], "Ops");
    assert_eq!(g["domain_id"], dom.as_str());
    assert_eq!(g["tier"], 1);
    let gid = g["id"].as_str().unwrap().to_string();
    let r = cloud.call(Method::POST, "/v3/groups", Some(&admin), Some(json!({"group": {"name": "ops", "domain_id": dom}}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = cloud.call(Method::POST, "/v3/groups", Some(&admin), Some(json!({"group": {"name": "ops"}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "same name, default domain");
    assert_eq!(r.body["group"]["domain_id"], "default");
    assert_eq!(r.body["group"]["description"], "");
    let other = id(&r.body, "group");
    for body in [json!({"group": {}}), json!({"group": {"name": ""}}), json!({"group": {"name": "y".repeat(256)}}), json!({"group": {"name": "n", "description": 3}})] {
        let r = cloud.call(Method::POST, "/v3/groups", Some(&admin), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body} gave {}", r.body);
    }
    let r = cloud.call(Method::POST, "/v3/groups", Some(&admin), Some(json!({"group": {"name": "n", "domain_id": "nope"}}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Update keeps what is not named.
    let r = cloud.call(Method::PATCH, &format!("/v3/groups/{gid}"), Some(&admin), Some(json!({"group": {"name": "ops2"}}))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["group"]["name"], "ops2");
    assert_eq!(r.body["group"]["description"], "Ops");
    assert_eq!(r.body["group"]["domain_id"], dom.as_str());
    let r = cloud.call(Method::PATCH, &format!("/v3/groups/{gid}"), Some(&admin), Some(json!({"group": {"domain_id": "default"}}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = cloud.call(Method::GET, &format!("/v3/groups/{gid}"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["group"]["name"], "ops2");
    assert_eq!(cloud.call(Method::GET, "/v3/groups/nope", Some(&admin), None).await.status, StatusCode::NOT_FOUND);

    // List with filters.
    let r = cloud.call(Method::GET, "/v3/groups", Some(&admin), None).await;
    let all = ids(&r.body, "groups");
    assert!(all.contains(&gid) && all.contains(&other));
    let r = cloud.call(Method::GET, &format!("/v3/groups?domain_id={dom}"), Some(&admin), None).await;
    assert_eq!(ids(&r.body, "groups"), vec![gid.clone()]);
    let r = cloud.call(Method::GET, "/v3/groups?name=ops", Some(&admin), None).await;
    assert_eq!(ids(&r.body, "groups"), vec![other.clone()]);

    // Membership (cross-domain membership is allowed, as in Keystone).
    let u1 = create_user(&cloud, &admin, json!({"name": "m1"})).await["id"].as_str().unwrap().to_string();
    let u2 = create_user(&cloud, &admin, json!({"name": "m2", "domain_id": dom})).await["id"].as_str().unwrap().to_string();
    let member = |g: &str, u: &str| format!("/v3/groups/{g}/users/{u}");
    for u in [&u1, &u2] {
        let r = cloud.call(Method::PUT, &member(&gid, u), Some(&admin), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    }
    assert_eq!(cloud.call(Method::PUT, &member(&gid, &u1), Some(&admin), None).await.status, StatusCode::NO_CONTENT, "idempotent");
    assert_eq!(cloud.call(Method::HEAD, &member(&gid, &u1), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::GET, &member(&gid, &u1), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::HEAD, &member(&other, &u1), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    let r = cloud.call(Method::PUT, &member(&gid, "ghost"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"]["message"], "Could not find user: ghost.");
    let r = cloud.call(Method::PUT, &member("ghost", &u1), Some(&admin), None).await;
    assert_eq!(r.body["error"]["message"], "Could not find group: ghost.");

    let r = cloud.call(Method::GET, &format!("/v3/groups/{gid}/users"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let mut got = ids(&r.body, "users");
    got.sort();
    let mut want = vec![u1.clone(), u2.clone()];
    want.sort();
    assert_eq!(got, want);
    assert!(r.body["users"][0].get("password").is_none());
    let r = cloud.call(Method::GET, &format!("/v3/groups/{gid}/users?name=m2"), Some(&admin), None).await;
    assert_eq!(ids(&r.body, "users"), vec![u2.clone()]);
    assert_eq!(cloud.call(Method::GET, "/v3/groups/ghost/users", Some(&admin), None).await.status, StatusCode::NOT_FOUND);

    // The user's side.
    assert_eq!(cloud.call(Method::PUT, &member(&other, &u1), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    let r = cloud.call(Method::GET, &format!("/v3/users/{u1}/groups"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let mut got = ids(&r.body, "groups");
    got.sort();
    let mut want = vec![gid.clone(), other.clone()];
    want.sort();
    assert_eq!(got, want);
    assert!(r.body["groups"][0]["membership_expires_at"].is_null());
    assert_eq!(cloud.call(Method::GET, "/v3/users/ghost/groups", Some(&admin), None).await.status, StatusCode::NOT_FOUND);

    // Removal.
    assert_eq!(cloud.call(Method::DELETE, &member(&gid, &u1), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::DELETE, &member(&gid, &u1), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::HEAD, &member(&gid, &u1), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    let r = cloud.call(Method::GET, &format!("/v3/groups/{gid}/users"), Some(&admin), None).await;
    assert_eq!(ids(&r.body, "users"), vec![u2.clone()]);

    // Deleting the group drops its memberships.
    assert_eq!(cloud.call(Method::DELETE, &format!("/v3/groups/{gid}"), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::GET, &format!("/v3/groups/{gid}"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::DELETE, &format!("/v3/groups/{gid}"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    let r = cloud.call(Method::GET, &format!("/v3/users/{u2}/groups"), Some(&admin), None).await;
    assert!(ids(&r.body, "groups").is_empty());
}

#[tokio::test]
async fn group_roles_reach_tokens_and_user_projects() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let uid = create_user(&cloud, &admin, json!({"name": "gina", "password": "pw"})).await["id"].as_str().unwrap().to_string();
    let p = |name: &str| json!({"project": {"name": name}});
    let p1 = id(&cloud.call(Method::POST, "/v3/projects", Some(&admin), Some(p("gp1"))).await.body, "project");
    let p2 = id(&cloud.call(Method::POST, "/v3/projects", Some(&admin), Some(p("gp2"))).await.body, "project");
    let _p3 = id(&cloud.call(Method::POST, "/v3/projects", Some(&admin), Some(p("gp3"))).await.body, "project");
    let gid = id(&cloud.call(Method::POST, "/v3/groups", Some(&admin), Some(json!({"group": {"name": "g"}}))).await.body, "group");
    grant(&cloud, Kind::UserProject, &uid, &p1, "member").await;
    grant(&cloud, Kind::GroupProject, &gid, &p2, "reader").await;

    let r = cloud.call(Method::GET, &format!("/v3/users/{uid}/projects"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(ids(&r.body, "projects"), vec![p1.clone()], "not yet in the group");
    assert_eq!(cloud.call(Method::PUT, &format!("/v3/groups/{gid}/users/{uid}"), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    let r = cloud.call(Method::GET, &format!("/v3/users/{uid}/projects"), Some(&admin), None).await;
    let mut got = ids(&r.body, "projects");
    got.sort();
    let mut want = vec![p1.clone(), p2.clone()];
    want.sort();
    assert_eq!(got, want);
    let r = cloud.call(Method::GET, &format!("/v3/users/{uid}/projects?name=gp2"), Some(&admin), None).await;
    assert_eq!(ids(&r.body, "projects"), vec![p2.clone()]);
    assert_eq!(cloud.call(Method::GET, "/v3/users/ghost/projects", Some(&admin), None).await.status, StatusCode::NOT_FOUND);

    // A token whose only role comes from the group dies with the membership.
    let t = cloud.token_for("gina", "pw", Some(json!({"project": {"id": p2}}))).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let t = subject(&t);
    let own = cloud.call(Method::GET, &format!("/v3/users/{uid}/projects"), Some(&t), None).await;
    assert_eq!(own.status, StatusCode::OK, "a user lists their own projects: {}", own.body);
    assert_eq!(cloud.call(Method::DELETE, &format!("/v3/groups/{gid}/users/{uid}"), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::GET, &format!("/v3/users/{uid}"), Some(&t), None).await.status, StatusCode::UNAUTHORIZED);
    let again = cloud.token_for("gina", "pw", Some(json!({"project": {"id": p2}}))).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "no role on p2 any more");
}

#[tokio::test]
async fn members_cannot_manage_or_see_others() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (alice, _, token_a) = cloud.member(&admin, "alice").await;
    let (bob, _, _) = cloud.member(&admin, "bob").await;
    let gid = id(&cloud.call(Method::POST, "/v3/groups", Some(&admin), Some(json!({"group": {"name": "staff"}}))).await.body, "group");
    assert_eq!(cloud.call(Method::PUT, &format!("/v3/groups/{gid}/users/{alice}"), Some(&admin), None).await.status, StatusCode::NO_CONTENT);

    let forbidden = [
        (Method::POST, "/v3/users".to_string(), Some(json!({"user": {"name": "mallory"}}))),
        (Method::GET, "/v3/users".to_string(), None),
        (Method::GET, format!("/v3/users/{bob}"), None),
        (Method::GET, "/v3/users/ghost".to_string(), None),
        (Method::PATCH, format!("/v3/users/{bob}"), Some(json!({"user": {"enabled": false}}))),
        (Method::PATCH, format!("/v3/users/{alice}"), Some(json!({"user": {"name": "queen"}}))),
        (Method::DELETE, format!("/v3/users/{bob}"), None),
        (Method::GET, format!("/v3/users/{bob}/groups"), None),
        (Method::GET, format!("/v3/users/{bob}/projects"), None),
        (Method::POST, "/v3/groups".to_string(), Some(json!({"group": {"name": "evil"}}))),
        (Method::GET, "/v3/groups".to_string(), None),
        (Method::GET, format!("/v3/groups/{gid}"), None),
        (Method::PATCH, format!("/v3/groups/{gid}"), Some(json!({"group": {"name": "x"}}))),
        (Method::DELETE, format!("/v3/groups/{gid}"), None),
        (Method::GET, format!("/v3/groups/{gid}/users"), None),
        (Method::PUT, format!("/v3/groups/{gid}/users/{bob}"), None),
        (Method::HEAD, format!("/v3/groups/{gid}/users/{alice}"), None),
        (Method::DELETE, format!("/v3/groups/{gid}/users/{alice}"), None),
    ];
    for (method, path, body) in forbidden {
        let r = cloud.call(method.clone(), &path, Some(&token_a), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path} gave {} {}", r.status, r.body);
    }
    let r = cloud.call(Method::GET, "/v3/users", Some(&token_a), None).await;
    assert_eq!(r.body["error"]["message"], "You are not authorized to perform the requested action: identity:list_users.");

    // What is theirs they may read.
    let r = cloud.call(Method::GET, &format!("/v3/users/{alice}"), Some(&token_a), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = cloud.call(Method::GET, &format!("/v3/users/{alice}/groups"), Some(&token_a), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(ids(&r.body, "groups"), vec![gid.clone()]);
    // Nothing changed behind the refusals.
    let r = cloud.call(Method::GET, &format!("/v3/users/{bob}"), Some(&admin), None).await;
    assert_eq!(r.body["user"]["enabled"], true);
    let r = cloud.call(Method::GET, &format!("/v3/groups/{gid}/users"), Some(&admin), None).await;
    assert_eq!(ids(&r.body, "users"), vec![alice.clone()]);
}

#[tokio::test]
async fn credentials_crud_encrypted_and_ec2_ids() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (alice, project_a, _) = cloud.member(&admin, "alice").await;
    let p2 = id(&cloud.call(Method::POST, "/v3/projects", Some(&admin), Some(json!({"project": {"name": "p2"}}))).await.body, "project");
    let blob = r#"{"access": "AKIA1", "secret": "s3cr3t"}"#;
    let r = cloud.call(Method::POST, "/v3/credentials", Some(&admin), Some(json!({"credential": {"user_id": alice, "project_id": project_a, "type": "ec2", "blob": blob, "note": "n"}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let c = r.body["credential"].clone();
    let cid = c["id"].as_str().unwrap().to_string();
    assert_eq!(cid, "7ad58bffb960bd1f7465d16ad5c8735ac2aa4129fe95e77cec5536dd0629ad7d", "sha256 of the access key");
    assert_eq!(c["blob"], blob);
    assert_eq!(c["user_id"], alice.as_str());
    assert_eq!(c["project_id"], project_a.as_str());
    assert_eq!(c["type"], "ec2");
    assert_eq!(c["note"], "n");
    assert!(c["links"]["self"].as_str().unwrap().ends_with(&format!("/v3/credentials/{cid}")));

    // Stored encrypted.
    let row: (String,) = sqlx::query_as("SELECT encrypted_blob FROM credentials").fetch_one(&cloud.identity.db.pool).await.unwrap();
    assert!(!row.0.contains("s3cr3t") && !row.0.contains("AKIA1"));

    let dup = cloud.call(Method::POST, "/v3/credentials", Some(&admin), Some(json!({"credential": {"user_id": alice, "project_id": project_a, "type": "ec2", "blob": blob}}))).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    for body in [
        json!({"credential": {"user_id": alice, "type": "ec2", "blob": blob}}),
        json!({"credential": {"user_id": alice, "project_id": project_a, "type": "ec2", "blob": "not json"}}),
        json!({"credential": {"user_id": alice, "project_id": project_a, "type": "ec2", "blob": "{\"secret\": \"x\"}"}}),
        json!({"credential": {"user_id": alice, "project_id": project_a, "type": "ec2", "blob": "[1]"}}),
        json!({"credential": {"user_id": alice, "type": "cert"}}),
        json!({"credential": {"type": "cert", "blob": "x"}}),
        json!({"credential": {"user_id": alice, "blob": "x"}}),
        json!({"credential": {"user_id": alice, "type": "cert", "blob": {"a": 1}}}),
        json!({"nope": {}}),
    ] {
        let r = cloud.call(Method::POST, "/v3/credentials", Some(&admin), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body} gave {}", r.body);
    }

    // Update: new blob and project, same id.
    let new_blob = r#"{"access": "AKIA2", "secret": "other"}"#;
    let r = cloud.call(Method::PATCH, &format!("/v3/credentials/{cid}"), Some(&admin), Some(json!({"credential": {"blob": new_blob, "project_id": p2, "type": "ec2"}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["credential"]["id"], cid.as_str());
    assert_eq!(r.body["credential"]["project_id"], p2.as_str());
    assert_eq!(r.body["credential"]["blob"], new_blob);
    assert_eq!(r.body["credential"]["note"], "n");
    let got = cloud.call(Method::GET, &format!("/v3/credentials/{cid}"), Some(&admin), None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["credential"], r.body["credential"]);
    for body in [
        json!({"credential": {}}),
        json!({"credential": {"id": "x"}}),
        json!({"credential": {"project_id": null}}),
        json!({"credential": {"blob": r#"{"access": "A", "trust_id": "t"}"#}}),
        json!({"credential": {"blob": 5}}),
    ] {
        let r = cloud.call(Method::PATCH, &format!("/v3/credentials/{cid}"), Some(&admin), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body} gave {}", r.body);
    }

    // A non-ec2 credential gets a random id; list filters.
    let r = cloud.call(Method::POST, "/v3/credentials", Some(&admin), Some(json!({"credential": {"user_id": alice, "type": "cert", "blob": "PEM"}}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.body["credential"]["project_id"].is_null());
    let cert = id(&r.body, "credential");
    let r = cloud.call(Method::GET, "/v3/credentials", Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(ids(&r.body, "credentials").len(), 2);
    let r = cloud.call(Method::GET, "/v3/credentials?type=cert", Some(&admin), None).await;
    assert_eq!(ids(&r.body, "credentials"), vec![cert.clone()]);
    let r = cloud.call(Method::GET, "/v3/credentials?user_id=nobody", Some(&admin), None).await;
    assert!(ids(&r.body, "credentials").is_empty());

    // Delete.
    assert_eq!(cloud.call(Method::DELETE, &format!("/v3/credentials/{cert}"), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::GET, &format!("/v3/credentials/{cert}"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::DELETE, &format!("/v3/credentials/{cert}"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    let r = cloud.call(Method::PATCH, "/v3/credentials/nope", Some(&admin), Some(json!({"credential": {"blob": "x"}}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"]["message"], "Could not find credential: nope.");

    // Deleting the user deletes their credentials.
    assert_eq!(cloud.call(Method::DELETE, &format!("/v3/users/{alice}"), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::GET, &format!("/v3/credentials/{cid}"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn members_see_only_their_own_credentials() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (alice, project_a, token_a) = cloud.member(&admin, "alice").await;
    let (bob, project_b, token_b) = cloud.member(&admin, "bob").await;
    let create = |token: &str, body: Value| {
        let token = token.to_string();
        let cloud = &cloud;
        async move { cloud.call(Method::POST, "/v3/credentials", Some(&token), Some(json!({ "credential": body }))).await }
    };
    let r = create(&token_a, json!({"user_id": alice, "project_id": project_a, "type": "ec2", "blob": r#"{"access": "a-key", "secret": "a"}"#})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mine = id(&r.body, "credential");
    let r = create(&token_b, json!({"user_id": bob, "project_id": project_b, "type": "totp", "blob": "seed"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let theirs = id(&r.body, "credential");
    let r = create(&token_a, json!({"user_id": bob, "type": "totp", "blob": "planted"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "not for another user");

    let r = cloud.call(Method::GET, "/v3/credentials", Some(&token_a), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(ids(&r.body, "credentials"), vec![mine.clone()]);
    let r = cloud.call(Method::GET, &format!("/v3/credentials?user_id={bob}"), Some(&token_a), None).await;
    assert!(ids(&r.body, "credentials").is_empty());
    let r = cloud.call(Method::GET, "/v3/credentials", Some(&admin), None).await;
    assert_eq!(ids(&r.body, "credentials").len(), 2, "admins see all");

    assert_eq!(cloud.call(Method::GET, &format!("/v3/credentials/{mine}"), Some(&token_a), None).await.status, StatusCode::OK);
    for (method, body) in [(Method::GET, None), (Method::PATCH, Some(json!({"credential": {"blob": "mine now"}}))), (Method::DELETE, None)] {
        let r = cloud.call(method.clone(), &format!("/v3/credentials/{theirs}"), Some(&token_a), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method}: {}", r.body);
    }
    assert_eq!(cloud.call(Method::GET, "/v3/credentials/missing", Some(&token_a), None).await.status, StatusCode::FORBIDDEN);
    // Moving one's own credential to another user is refused too.
    let r = cloud.call(Method::PATCH, &format!("/v3/credentials/{mine}"), Some(&token_a), Some(json!({"credential": {"user_id": bob}}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = cloud.call(Method::GET, &format!("/v3/credentials/{theirs}"), Some(&token_b), None).await;
    assert_eq!(r.body["credential"]["blob"], "seed", "untouched");
    assert_eq!(cloud.call(Method::DELETE, &format!("/v3/credentials/{mine}"), Some(&token_a), None).await.status, StatusCode::NO_CONTENT);
}
