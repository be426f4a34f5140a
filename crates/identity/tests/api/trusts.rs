//! OS-TRUST: trusts CRUD, delegated roles, and trust-scoped tokens.


use http::{Method, StatusCode};
use serde_json::{json, Value};
use crate::support::{subject, Resp, TestCloud};

/// A trustor with two roles (one to delegate) on a project, and a trustee.
struct Setup {
    admin: String,
    project: String,
    trustor: String,
    trustor_token: String,
    trustee: String,
    delegated: String,
    delegated_name: String,
    other_role: String,
}

async fn role(cloud: &TestCloud, admin: &str, name: &str) -> String {
    let r = cloud.call(Method::POST, "/v3/roles", Some(admin), Some(json!({"role": {"name": name}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["role"]["id"].as_str().expect("role id").to_string()
}

async fn grant(cloud: &TestCloud, admin: &str, project: &str, user: &str, role: &str) {
    let r = cloud.call(Method::PUT, &format!("/v3/projects/{project}/users/{user}/roles/{role}"), Some(admin), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
}

async fn setup(cloud: &TestCloud) -> Setup {
    let admin = cloud.admin_token().await;
    let p = cloud.call(Method::POST, "/v3/projects", Some(&admin), Some(json!({"project": {"name": "trusted"}}))).await;
    let project = p.body["project"]["id"].as_str().expect("project id").to_string();
    let trustor = cloud.create_user("trustor", "pw-trustor".into()).await;
    let trustee = cloud.create_user("trustee", "pw-trustee".into()).await;
    let delegated = role(cloud, &admin, "Delegated").await;
    let other_role = role(cloud, &admin, "NotDelegated").await;
    grant(cloud, &admin, &project, &trustor, &delegated).await;
    grant(cloud, &admin, &project, &trustor, &other_role).await;
    let t = cloud.token_for("trustor", "pw-trustor", Some(json!({"project": {"id": project}}))).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    Setup { admin, project, trustor, trustor_token: subject(&t), trustee, delegated, delegated_name: "Delegated".into(), other_role }
}

fn trust_body(s: &Setup, impersonation: bool, extra: Value) -> Value {
    let mut t = json!({
        "trustor_user_id": s.trustor, "trustee_user_id": s.trustee, "project_id": s.project,
        "impersonation": impersonation, "roles": [{"name": s.delegated_name}],
    });
    if let (Some(t), Some(e)) = (t.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            t.insert(k.clone(), v.clone());
        }
    }
    json!({ "trust": t })
}

async fn create(cloud: &TestCloud, s: &Setup, impersonation: bool, extra: Value) -> Resp {
    cloud.call(Method::POST, "/v3/OS-TRUST/trusts", Some(&s.trustor_token), Some(trust_body(s, impersonation, extra))).await
}

async fn trust_token(cloud: &TestCloud, trust_id: &str) -> Resp {
    cloud.token_for("trustee", "pw-trustee", Some(json!({"OS-TRUST:trust": {"id": trust_id}}))).await
}

async fn validate(cloud: &TestCloud, admin: &str, token: &str) -> Resp {
    cloud.call_with(Method::GET, "/v3/auth/tokens", Some(admin), None, &[("x-subject-token", token)]).await
}

#[tokio::test]
async fn trust_crud_and_roles() {
    let cloud = TestCloud::start().await;
    let s = setup(&cloud).await;
    let expires = "2099-02-27T18:30:59Z";
    let r = create(&cloud, &s, true, json!({"expires_at": expires})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let t = &r.body["trust"];
    let id = t["id"].as_str().unwrap().to_string();
    assert_eq!(t["impersonation"], true);
    assert_eq!(t["trustor_user_id"], s.trustor.as_str());
    assert_eq!(t["trustee_user_id"], s.trustee.as_str());
    assert_eq!(t["project_id"], s.project.as_str());
    assert_eq!(t["expires_at"], "2099-02-27T18:30:59.000000Z");
    assert_eq!(t["remaining_uses"], Value::Null);
    assert_eq!(t["redelegation_count"], 0);
    assert!(t["links"]["self"].as_str().unwrap().ends_with(&format!("/v3/OS-TRUST/trusts/{id}")));
    assert_eq!(t["roles"].as_array().unwrap().len(), 1);
    assert_eq!(t["roles"][0]["id"], s.delegated.as_str());
    assert_eq!(t["roles"][0]["name"], "Delegated");
    assert!(t["roles"][0]["links"]["self"].as_str().unwrap().ends_with(&format!("/v3/roles/{}", s.delegated)));
    assert!(t["roles_links"]["self"].as_str().unwrap().ends_with(&format!("/v3/OS-TRUST/trusts/{id}/roles")));

    let g = cloud.call(Method::GET, &format!("/v3/OS-TRUST/trusts/{id}"), Some(&s.trustor_token), None).await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.body["trust"]["roles"][0]["name"], "Delegated");
    assert_eq!(g.body["trust"]["expires_at"], "2099-02-27T18:30:59.000000Z");

    let roles = cloud.call(Method::GET, &format!("/v3/OS-TRUST/trusts/{id}/roles"), Some(&s.trustor_token), None).await;
    assert_eq!(roles.status, StatusCode::OK);
    assert_eq!(roles.body["roles"].as_array().unwrap().len(), 1);
    assert_eq!(roles.body["roles"][0]["id"], s.delegated.as_str());
    let one = cloud.call(Method::GET, &format!("/v3/OS-TRUST/trusts/{id}/roles/{}", s.delegated), Some(&s.trustor_token), None).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["role"]["name"], "Delegated");
    let head = cloud.call(Method::HEAD, &format!("/v3/OS-TRUST/trusts/{id}/roles/{}", s.delegated), Some(&s.trustor_token), None).await;
    assert_eq!(head.status, StatusCode::OK);
    let missing = cloud.call(Method::GET, &format!("/v3/OS-TRUST/trusts/{id}/roles/{}", s.other_role), Some(&s.trustor_token), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let missing = cloud.call(Method::HEAD, &format!("/v3/OS-TRUST/trusts/{id}/roles/{}", s.other_role), Some(&s.trustor_token), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // listing: by trustor (the trustor themselves, trailing slash as tempest sends), all (admin)
    let mine = cloud.call(Method::GET, &format!("/v3/OS-TRUST/trusts/?trustor_user_id={}", s.trustor), Some(&s.trustor_token), None).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(mine.body["trusts"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["trusts"][0]["id"], id.as_str());
    assert!(mine.body["trusts"][0].get("roles").is_none());
    let all = cloud.call(Method::GET, "/v3/OS-TRUST/trusts", Some(&s.admin), None).await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(all.body["trusts"].as_array().unwrap().iter().any(|t| t["id"] == id.as_str()));
    let none = cloud.call(Method::GET, &format!("/v3/OS-TRUST/trusts?trustee_user_id={}", s.trustee), Some(&s.trustor_token), None).await;
    assert_eq!(none.status, StatusCode::FORBIDDEN, "the trustor may not list another trustee's trusts");

    // the trustor deletes; then it is gone
    let d = cloud.call(Method::DELETE, &format!("/v3/OS-TRUST/trusts/{id}"), Some(&s.trustor_token), None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let g = cloud.call(Method::GET, &format!("/v3/OS-TRUST/trusts/{id}"), Some(&s.trustor_token), None).await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);
    assert_eq!(g.body["error"]["message"], format!("Could not find trust: {id}."));
    let d = cloud.call(Method::DELETE, &format!("/v3/OS-TRUST/trusts/{id}"), Some(&s.trustor_token), None).await;
    assert_eq!(d.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn authorization_of_trust_calls() {
    let cloud = TestCloud::start().await;
    let s = setup(&cloud).await;
    let (mallory, _, mallory_token) = cloud.member(&s.admin, "mallory").await;
    let r = create(&cloud, &s, false, json!({})).await;
    let id = r.body["trust"]["id"].as_str().unwrap().to_string();

    // a stranger sees nothing and can change nothing
    for (method, path) in [
        (Method::GET, format!("/v3/OS-TRUST/trusts/{id}")),
        (Method::GET, format!("/v3/OS-TRUST/trusts/{id}/roles")),
        (Method::GET, format!("/v3/OS-TRUST/trusts/{id}/roles/{}", s.delegated)),
        (Method::DELETE, format!("/v3/OS-TRUST/trusts/{id}")),
        (Method::GET, "/v3/OS-TRUST/trusts".to_string()),
        (Method::GET, format!("/v3/OS-TRUST/trusts?trustor_user_id={}", s.trustor)),
        (Method::GET, format!("/v3/OS-TRUST/trusts?trustee_user_id={}", s.trustee)),
    ] {
        let r = cloud.call(method.clone(), &path, Some(&mallory_token), None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}: {}", r.body);
    }
    let own = cloud.call(Method::GET, &format!("/v3/OS-TRUST/trusts?trustor_user_id={mallory}"), Some(&mallory_token), None).await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.body["trusts"], json!([]));
    // creating a trust for someone else
    let forged = cloud.call(Method::POST, "/v3/OS-TRUST/trusts", Some(&mallory_token), Some(trust_body(&s, false, json!({})))).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let unauth = cloud.call(Method::GET, &format!("/v3/OS-TRUST/trusts/{id}"), None, None).await;
    assert_eq!(unauth.status, StatusCode::UNAUTHORIZED);

    // the trustee may read it and list their trusts, not delete it
    let t = cloud.token_for("trustee", "pw-trustee", None).await;
    let trustee_unscoped = subject(&t);
    grant(&cloud, &s.admin, &s.project, &s.trustee, &s.other_role).await;
    let t = cloud.token_for("trustee", "pw-trustee", Some(json!({"project": {"id": s.project}}))).await;
    let trustee_token = subject(&t);
    let g = cloud.call(Method::GET, &format!("/v3/OS-TRUST/trusts/{id}"), Some(&trustee_token), None).await;
    assert_eq!(g.status, StatusCode::OK, "{}", g.body);
    let l = cloud.call(Method::GET, &format!("/v3/OS-TRUST/trusts?trustee_user_id={}", s.trustee), Some(&trustee_token), None).await;
    assert_eq!(l.status, StatusCode::OK);
    assert_eq!(l.body["trusts"].as_array().unwrap().len(), 1);
    let d = cloud.call(Method::DELETE, &format!("/v3/OS-TRUST/trusts/{id}"), Some(&trustee_token), None).await;
    assert_eq!(d.status, StatusCode::FORBIDDEN);
    // an unscoped token cannot create trusts (project scope required)
    let c = cloud.call(Method::POST, "/v3/OS-TRUST/trusts", Some(&trustee_unscoped), Some(trust_body(&s, false, json!({})))).await;
    assert_eq!(c.status, StatusCode::FORBIDDEN);
    // admin may delete it
    let d = cloud.call(Method::DELETE, &format!("/v3/OS-TRUST/trusts/{id}"), Some(&s.admin), None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn create_validation() {
    let cloud = TestCloud::start().await;
    let s = setup(&cloud).await;
    let post = |body: Value| {
        let token = s.trustor_token.clone();
        let cloud = &cloud;
        async move { cloud.call(Method::POST, "/v3/OS-TRUST/trusts", Some(&token), Some(body)).await }
    };
    let mut no_imp = trust_body(&s, true, json!({}));
    no_imp["trust"].as_object_mut().unwrap().remove("impersonation");
    for (body, status) in [
        (json!({}), StatusCode::BAD_REQUEST),
        (no_imp, StatusCode::BAD_REQUEST),
        (trust_body(&s, true, json!({"impersonation": "yes"})), StatusCode::BAD_REQUEST),
        (trust_body(&s, true, json!({"expires_at": "bad.123Z"})), StatusCode::BAD_REQUEST),
        (trust_body(&s, true, json!({"expires_at": "2001-01-01T00:00:00Z"})), StatusCode::BAD_REQUEST),
        (trust_body(&s, true, json!({"remaining_uses": 0})), StatusCode::BAD_REQUEST),
        (trust_body(&s, true, json!({"remaining_uses": "x"})), StatusCode::BAD_REQUEST),
        (trust_body(&s, true, json!({"roles": [{"id": "a", "name": "b"}]})), StatusCode::BAD_REQUEST),
        (trust_body(&s, true, json!({"roles": "member"})), StatusCode::BAD_REQUEST),
        (trust_body(&s, true, json!({"allow_redelegation": true, "remaining_uses": 2})), StatusCode::BAD_REQUEST),
        (trust_body(&s, true, json!({"roles": []})), StatusCode::FORBIDDEN),
        (trust_body(&s, true, json!({"trustor_user_id": s.trustee})), StatusCode::FORBIDDEN),
        (trust_body(&s, true, json!({"allow_redelegation": true, "redelegation_count": 9})), StatusCode::FORBIDDEN),
        (trust_body(&s, true, json!({"trustee_user_id": "nobody"})), StatusCode::NOT_FOUND),
        (trust_body(&s, true, json!({"roles": [{"name": "no-such-role"}]})), StatusCode::NOT_FOUND),
        (trust_body(&s, true, json!({"roles": [{"name": "admin"}]})), StatusCode::NOT_FOUND),
        (trust_body(&s, true, json!({"project_id": "nope"})), StatusCode::NOT_FOUND),
    ] {
        let r = post(body.clone()).await;
        assert_eq!(r.status, status, "{body} gave {}", r.body);
        assert_eq!(r.body["error"]["code"], status.as_u16());
    }
    // roles by id, redelegation allowed, extra attributes echoed, duplicates refused
    let body = trust_body(&s, false, json!({"roles": [{"id": s.delegated}, {"id": s.other_role}], "allow_redelegation": true,
                                             "expires_at": "2099-01-01T00:00:00", "color": "blue"}));
    let r = post(body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["trust"]["roles"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["trust"]["redelegation_count"], 3);
    assert_eq!(r.body["trust"]["allow_redelegation"], true);
    assert_eq!(r.body["trust"]["color"], "blue");
    let dup = post(body).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn impersonating_trust_token() {
    let cloud = TestCloud::start().await;
    let s = setup(&cloud).await;
    let r = create(&cloud, &s, true, json!({})).await;
    let id = r.body["trust"]["id"].as_str().unwrap().to_string();
    let t = trust_token(&cloud, &id).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let token = subject(&t);
    let body = &t.body["token"];
    assert_eq!(body["user"]["id"], s.trustor.as_str(), "impersonation shows the trustor");
    assert_eq!(body["OS-TRUST:trust"]["id"], id.as_str());
    assert_eq!(body["OS-TRUST:trust"]["impersonation"], true);
    assert_eq!(body["OS-TRUST:trust"]["trustor_user"]["id"], s.trustor.as_str());
    assert_eq!(body["OS-TRUST:trust"]["trustee_user"]["id"], s.trustee.as_str());
    assert_eq!(body["project"]["id"], s.project.as_str());
    let names: Vec<&str> = body["roles"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Delegated"]);
    assert!(body["catalog"].is_array());

    let v = validate(&cloud, &s.admin, &token).await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(v.body["token"]["OS-TRUST:trust"]["id"], id.as_str());
    // the token works as the trustor in the project
    let p = cloud.call(Method::GET, &format!("/v3/projects/{}", s.project), Some(&token), None).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);

    // no further delegation: neither a new trust nor a new token from it
    let c = cloud.call(Method::POST, "/v3/OS-TRUST/trusts", Some(&token), Some(trust_body(&s, true, json!({})))).await;
    assert_eq!(c.status, StatusCode::FORBIDDEN);
    let re = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": token}}, "scope": {"project": {"id": s.project}}}});
    let re = cloud.call(Method::POST, "/v3/auth/tokens", None, Some(re)).await;
    assert_eq!(re.status, StatusCode::FORBIDDEN);

    // deleting the trust revokes its tokens
    let d = cloud.call(Method::DELETE, &format!("/v3/OS-TRUST/trusts/{id}"), Some(&s.trustor_token), None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    assert_eq!(validate(&cloud, &s.admin, &token).await.status, StatusCode::NOT_FOUND);
    let used = cloud.call(Method::GET, &format!("/v3/projects/{}", s.project), Some(&token), None).await;
    assert_eq!(used.status, StatusCode::UNAUTHORIZED);
    assert_eq!(trust_token(&cloud, &id).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn non_impersonating_trust_token_via_token_method() {
    let cloud = TestCloud::start().await;
    let s = setup(&cloud).await;
    let r = create(&cloud, &s, false, json!({})).await;
    let id = r.body["trust"]["id"].as_str().unwrap().to_string();
    let unscoped = cloud.token_for("trustee", "pw-trustee", None).await;
    let body = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": subject(&unscoped)}},
                               "scope": {"OS-TRUST:trust": {"id": id}}}});
    let t = cloud.call(Method::POST, "/v3/auth/tokens", None, Some(body)).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    assert_eq!(t.body["token"]["user"]["id"], s.trustee.as_str());
    assert_eq!(t.body["token"]["OS-TRUST:trust"]["impersonation"], false);
    assert_eq!(t.body["token"]["project"]["id"], s.project.as_str());
    assert_eq!(t.body["token"]["expires_at"], unscoped.body["token"]["expires_at"]);

    // only the trustee may use it; unknown trusts are 401; bad scope bodies 400
    let thief = cloud.token_for("trustor", "pw-trustor", Some(json!({"OS-TRUST:trust": {"id": id}}))).await;
    assert_eq!(thief.status, StatusCode::FORBIDDEN);
    assert_eq!(trust_token(&cloud, "no-such-trust").await.status, StatusCode::UNAUTHORIZED);
    let bad = cloud.token_for("trustee", "pw-trustee", Some(json!({"OS-TRUST:trust": {}}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn remaining_uses_and_expiry() {
    let cloud = TestCloud::start().await;
    let s = setup(&cloud).await;
    let r = create(&cloud, &s, false, json!({"remaining_uses": 1})).await;
    assert_eq!(r.body["trust"]["remaining_uses"], 1);
    let id = r.body["trust"]["id"].as_str().unwrap().to_string();
    let first = trust_token(&cloud, &id).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let second = trust_token(&cloud, &id).await;
    assert_eq!(second.status, StatusCode::UNAUTHORIZED, "the only use is spent");
    assert_eq!(validate(&cloud, &s.admin, &subject(&first)).await.status, StatusCode::OK, "its token stays valid");
    let g = cloud.call(Method::GET, &format!("/v3/OS-TRUST/trusts/{id}"), Some(&s.trustor_token), None).await;
    assert_eq!(g.status, StatusCode::NOT_FOUND, "a used-up trust is not shown");
    let d = cloud.call(Method::DELETE, &format!("/v3/OS-TRUST/trusts/{id}"), Some(&s.trustor_token), None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);

    // a trust token expires with its trust
    let soon = monostack_common::time::now_micros() + 2_000_000;
    let r = create(&cloud, &s, true, json!({"expires_at": monostack_common::time::iso_micros(soon)})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["trust"]["id"].as_str().unwrap().to_string();
    let t = trust_token(&cloud, &id).await;
    assert_eq!(t.status, StatusCode::CREATED);
    assert_eq!(t.body["token"]["expires_at"], monostack_common::time::iso_micros(soon));
    tokio::time::sleep(std::time::Duration::from_millis(2_300)).await;
    assert_eq!(validate(&cloud, &s.admin, &subject(&t)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(trust_token(&cloud, &id).await.status, StatusCode::UNAUTHORIZED);
    let g = cloud.call(Method::GET, &format!("/v3/OS-TRUST/trusts/{id}"), Some(&s.trustor_token), None).await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);
    let listed = cloud.call(Method::GET, &format!("/v3/OS-TRUST/trusts?trustor_user_id={}", s.trustor), Some(&s.trustor_token), None).await;
    assert_eq!(listed.body["trusts"].as_array().unwrap().len(), 1, "expired trusts are still listed, as in Keystone");
}

#[tokio::test]
async fn trust_tokens_follow_the_trustor() {
    let cloud = TestCloud::start().await;
    let s = setup(&cloud).await;
    let r = create(&cloud, &s, true, json!({})).await;
    let id = r.body["trust"]["id"].as_str().unwrap().to_string();
    let token = subject(&trust_token(&cloud, &id).await);
    assert_eq!(validate(&cloud, &s.admin, &token).await.status, StatusCode::OK);

    // the trustor loses the delegated role: the trust grants nothing
    let path = format!("/v3/projects/{}/users/{}/roles/{}", s.project, s.trustor, s.delegated);
    assert_eq!(cloud.call(Method::DELETE, &path, Some(&s.admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(validate(&cloud, &s.admin, &token).await.status, StatusCode::NOT_FOUND);
    assert_eq!(trust_token(&cloud, &id).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(cloud.call(Method::PUT, &path, Some(&s.admin), None).await.status, StatusCode::NO_CONTENT);
    let token = subject(&trust_token(&cloud, &id).await);

    // disabling the trustor (or the trustee) invalidates trust tokens
    let off = cloud.call(Method::PATCH, &format!("/v3/users/{}", s.trustor), Some(&s.admin), Some(json!({"user": {"enabled": false}}))).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(validate(&cloud, &s.admin, &token).await.status, StatusCode::NOT_FOUND);
    let on = cloud.call(Method::PATCH, &format!("/v3/users/{}", s.trustor), Some(&s.admin), Some(json!({"user": {"enabled": true}}))).await;
    assert_eq!(on.status, StatusCode::OK);
    let token = subject(&trust_token(&cloud, &id).await);
    assert_eq!(validate(&cloud, &s.admin, &token).await.status, StatusCode::OK);
    let off = cloud.call(Method::PATCH, &format!("/v3/users/{}", s.trustee), Some(&s.admin), Some(json!({"user": {"enabled": false}}))).await;
    assert_eq!(off.status, StatusCode::OK);
    assert_eq!(validate(&cloud, &s.admin, &token).await.status, StatusCode::NOT_FOUND);
}
