//! Roles, implied roles, grants (incl. system and OS-INHERIT) and role assignments.


use http::{Method, StatusCode};
use monostack_identity::store;
use serde_json::{json, Value};
use crate::support::{subject, Resp, TestCloud};

async fn create_role(cloud: &TestCloud, admin: &str, body: Value) -> Value {
    let r = cloud.call(Method::POST, "/v3/roles", Some(admin), Some(json!({ "role": body }))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["role"].clone()
}

async fn create_domain(cloud: &TestCloud, admin: &str, name: &str) -> String {
    let r = cloud.call(Method::POST, "/v3/domains", Some(admin), Some(json!({"domain": {"name": name}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["domain"]["id"].as_str().expect("domain id").to_string()
}

async fn create_project(cloud: &TestCloud, admin: &str, name: &str, domain: &str, parent: Option<&str>) -> String {
    let mut p = json!({"name": name, "domain_id": domain});
    if let Some(parent) = parent {
        p["parent_id"] = json!(parent);
    }
    let r = cloud.call(Method::POST, "/v3/projects", Some(admin), Some(json!({ "project": p }))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["project"]["id"].as_str().expect("project id").to_string()
}

async fn create_group(cloud: &TestCloud, name: &str, members: &[&str]) -> String {
    let g = store::groups::Group::new(name, "default");
    store::groups::insert(&cloud.identity, &g).await.expect("insert group");
    for m in members {
        store::groups::add_member(&cloud.identity, &g.id, m).await.expect("add member");
    }
    g.id
}

async fn role_id(cloud: &TestCloud, name: &str) -> String {
    store::roles::get_by_name(&cloud.identity, name, None).await.expect("db").expect("role").id
}

async fn call(cloud: &TestCloud, method: Method, path: &str, token: &str) -> Resp {
    cloud.call(method, path, Some(token), None).await
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list[key].as_array().expect("list").iter().map(|x| x["id"].as_str().expect("id").to_string()).collect()
}

async fn assignments(cloud: &TestCloud, token: &str, query: &str) -> Vec<Value> {
    let r = call(cloud, Method::GET, &format!("/v3/role_assignments?{query}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
    r.body["role_assignments"].as_array().expect("role_assignments").clone()
}

#[tokio::test]
async fn role_crud_and_validation() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let role = create_role(&cloud, &admin, json!({"name": "observer", "color": "blue"})).await;
    assert_eq!(role["name"], "observer");
    assert_eq!(role["domain_id"], Value::Null);
    assert_eq!(role["description"], Value::Null);
    assert_eq!(role["options"], json!({}));
    assert_eq!(role["color"], "blue", "extra attributes are echoed");
    let id = role["id"].as_str().unwrap().to_string();
    assert!(role["links"]["self"].as_str().unwrap().ends_with(&format!("/v3/roles/{id}")));

    let dup = cloud.call(Method::POST, "/v3/roles", Some(&admin), Some(json!({"role": {"name": "observer"}}))).await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
    for bad in [json!({}), json!({"role": {}}), json!({"role": {"name": ""}}), json!({"role": {"name": "x".repeat(256)}}), json!({"role": {"name": 5}}), json!({"role": {"name": "ok", "options": {"bogus": true}}}), json!({"role": {"name": "ok", "options": {"immutable": "yes"}}})] {
        let r = cloud.call(Method::POST, "/v3/roles", Some(&admin), Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad} gave {}", r.body);
    }

    // The list shows the very same view as create.
    let list = call(&cloud, Method::GET, "/v3/roles", &admin).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body["roles"].as_array().unwrap().contains(&role));
    assert!(list.body["links"]["self"].as_str().unwrap().ends_with("/v3/roles"));
    let by_name = call(&cloud, Method::GET, "/v3/roles?name=observer", &admin).await;
    assert_eq!(ids(&by_name.body, "roles"), vec![id.clone()]);
    let contains = call(&cloud, Method::GET, "/v3/roles?name__startswith=obs", &admin).await;
    assert_eq!(ids(&contains.body, "roles"), vec![id.clone()]);

    let shown = call(&cloud, Method::GET, &format!("/v3/roles/{id}"), &admin).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.body["role"], role);

    let up = cloud.call(Method::PATCH, &format!("/v3/roles/{id}"), Some(&admin), Some(json!({"role": {"name": "watcher", "description": "looks"}}))).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    assert_eq!(up.body["role"]["name"], "watcher");
    assert_eq!(up.body["role"]["description"], "looks");
    assert_eq!(up.body["role"]["color"], "blue");
    let up = cloud.call(Method::PATCH, &format!("/v3/roles/{id}"), Some(&admin), Some(json!({"role": {"domain_id": "default"}}))).await;
    assert_eq!(up.status, StatusCode::BAD_REQUEST);
    let up = cloud.call(Method::PATCH, &format!("/v3/roles/{id}"), Some(&admin), Some(json!({"role": {"name": "member"}}))).await;
    assert_eq!(up.status, StatusCode::CONFLICT);
    let up = cloud.call(Method::PATCH, &format!("/v3/roles/{id}"), Some(&admin), Some(json!({"role": {}}))).await;
    assert_eq!(up.status, StatusCode::BAD_REQUEST);
    let up = cloud.call(Method::PATCH, &format!("/v3/roles/{id}"), Some(&admin), Some(json!({"role": {"id": "other"}}))).await;
    assert_eq!(up.status, StatusCode::BAD_REQUEST);
    let up = cloud.call(Method::PATCH, "/v3/roles/nope", Some(&admin), Some(json!({"role": {"name": "x"}}))).await;
    assert_eq!(up.status, StatusCode::NOT_FOUND);

    let del = call(&cloud, Method::DELETE, &format!("/v3/roles/{id}"), &admin).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let gone = call(&cloud, Method::GET, &format!("/v3/roles/{id}"), &admin).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body["error"]["message"], format!("Could not find role: {id}."));
    let del = call(&cloud, Method::DELETE, &format!("/v3/roles/{id}"), &admin).await;
    assert_eq!(del.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn roles_are_admin_only_for_project_members() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (_, _, member) = cloud.member(&admin, "mia").await;
    let member_role = role_id(&cloud, "member").await;
    let r = cloud.call(Method::POST, "/v3/roles", Some(&member), Some(json!({"role": {"name": "x"}}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["message"], "You are not authorized to perform the requested action: identity:create_role.");
    assert_eq!(call(&cloud, Method::GET, "/v3/roles", &member).await.status, StatusCode::FORBIDDEN);
    assert_eq!(call(&cloud, Method::GET, &format!("/v3/roles/{member_role}"), &member).await.status, StatusCode::FORBIDDEN);
    // A missing role is not revealed to those who may not look.
    assert_eq!(call(&cloud, Method::GET, "/v3/roles/nope", &member).await.status, StatusCode::FORBIDDEN);
    let r = cloud.call(Method::PATCH, &format!("/v3/roles/{member_role}"), Some(&member), Some(json!({"role": {"name": "boss"}}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(call(&cloud, Method::DELETE, &format!("/v3/roles/{member_role}"), &member).await.status, StatusCode::FORBIDDEN);
    assert_eq!(call(&cloud, Method::GET, "/v3/role_inferences", &member).await.status, StatusCode::FORBIDDEN);
    let reader = role_id(&cloud, "reader").await;
    let r = call(&cloud, Method::PUT, &format!("/v3/roles/{member_role}/implies/{reader}"), &member).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn domain_roles_and_immutable_option() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let domain = create_domain(&cloud, &admin, "acme").await;
    let drole = create_role(&cloud, &admin, json!({"name": "operator", "domain_id": domain})).await;
    assert_eq!(drole["domain_id"], json!(domain));
    // Same name: allowed globally, not twice in the domain.
    create_role(&cloud, &admin, json!({"name": "operator"})).await;
    let dup = cloud.call(Method::POST, "/v3/roles", Some(&admin), Some(json!({"role": {"name": "operator", "domain_id": domain}}))).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let missing = cloud.call(Method::POST, "/v3/roles", Some(&admin), Some(json!({"role": {"name": "x", "domain_id": "nope"}}))).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let global = call(&cloud, Method::GET, "/v3/roles", &admin).await;
    assert!(!ids(&global.body, "roles").contains(&drole["id"].as_str().unwrap().to_string()), "global list omits domain roles");
    let in_domain = call(&cloud, Method::GET, &format!("/v3/roles?domain_id={domain}"), &admin).await;
    assert_eq!(in_domain.body["roles"], json!([drole]));

    let locked = create_role(&cloud, &admin, json!({"name": "locked", "options": {"immutable": true}})).await;
    assert_eq!(locked["options"], json!({"immutable": true}));
    let id = locked["id"].as_str().unwrap();
    let up = cloud.call(Method::PATCH, &format!("/v3/roles/{id}"), Some(&admin), Some(json!({"role": {"name": "unlocked"}}))).await;
    assert_eq!(up.status, StatusCode::FORBIDDEN);
    assert_eq!(call(&cloud, Method::DELETE, &format!("/v3/roles/{id}"), &admin).await.status, StatusCode::FORBIDDEN);
    let up = cloud.call(Method::PATCH, &format!("/v3/roles/{id}"), Some(&admin), Some(json!({"role": {"options": {"immutable": false}}}))).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    assert_eq!(call(&cloud, Method::DELETE, &format!("/v3/roles/{id}"), &admin).await.status, StatusCode::NO_CONTENT);

    let did = drole["id"].as_str().unwrap();
    assert_eq!(call(&cloud, Method::DELETE, &format!("/v3/roles/{did}"), &admin).await.status, StatusCode::NO_CONTENT);
    let in_domain = call(&cloud, Method::GET, &format!("/v3/roles?domain_id={domain}"), &admin).await;
    assert_eq!(in_domain.body["roles"], json!([]));
}

#[tokio::test]
async fn implied_roles() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let a = create_role(&cloud, &admin, json!({"name": "a"})).await["id"].as_str().unwrap().to_string();
    let b = create_role(&cloud, &admin, json!({"name": "b"})).await["id"].as_str().unwrap().to_string();
    let c = create_role(&cloud, &admin, json!({"name": "c"})).await["id"].as_str().unwrap().to_string();

    let r = call(&cloud, Method::PUT, &format!("/v3/roles/{a}/implies/{b}"), &admin).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["role_inference"]["prior_role"]["id"], json!(a));
    assert_eq!(r.body["role_inference"]["prior_role"]["name"], "a");
    assert_eq!(r.body["role_inference"]["implies"]["id"], json!(b));
    assert!(r.body["role_inference"]["implies"]["links"]["self"].as_str().unwrap().ends_with(&format!("/v3/roles/{b}")));
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/roles/{a}/implies/{b}"), &admin).await.status, StatusCode::CONFLICT);
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/roles/{a}/implies/{c}"), &admin).await.status, StatusCode::CREATED);

    let shown = call(&cloud, Method::GET, &format!("/v3/roles/{a}/implies/{b}"), &admin).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.body["role_inference"]["implies"]["name"], "b");
    assert_eq!(call(&cloud, Method::HEAD, &format!("/v3/roles/{a}/implies/{b}"), &admin).await.status, StatusCode::NO_CONTENT);
    assert_eq!(call(&cloud, Method::HEAD, &format!("/v3/roles/{b}/implies/{a}"), &admin).await.status, StatusCode::NOT_FOUND);
    let listed = call(&cloud, Method::GET, &format!("/v3/roles/{a}/implies"), &admin).await;
    assert_eq!(listed.status, StatusCode::OK);
    let mut implied = ids(&listed.body["role_inference"], "implies");
    implied.sort();
    let mut want = vec![b.clone(), c.clone()];
    want.sort();
    assert_eq!(implied, want);

    let all = call(&cloud, Method::GET, "/v3/role_inferences", &admin).await;
    assert_eq!(all.status, StatusCode::OK);
    let rule = all.body["role_inferences"].as_array().unwrap().iter().find(|r| r["prior_role"]["id"] == json!(a)).unwrap().clone();
    assert_eq!(rule["implies"].as_array().unwrap().len(), 2);
    let admin_role = role_id(&cloud, "admin").await;
    assert!(all.body["role_inferences"].as_array().unwrap().iter().any(|r| r["prior_role"]["id"] == json!(admin_role)), "bootstrap rules listed");

    // Rules: admin may not be implied; a global role may not imply a domain role.
    let r = call(&cloud, Method::PUT, &format!("/v3/roles/{a}/implies/{admin_role}"), &admin).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let domain = create_domain(&cloud, &admin, "d1").await;
    let other = create_domain(&cloud, &admin, "d2").await;
    let d1 = create_role(&cloud, &admin, json!({"name": "d1r", "domain_id": domain})).await["id"].as_str().unwrap().to_string();
    let d2 = create_role(&cloud, &admin, json!({"name": "d2r", "domain_id": other})).await["id"].as_str().unwrap().to_string();
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/roles/{a}/implies/{d1}"), &admin).await.status, StatusCode::FORBIDDEN);
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/roles/{d1}/implies/{a}"), &admin).await.status, StatusCode::CREATED);
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/roles/{d1}/implies/{d2}"), &admin).await.status, StatusCode::CREATED);
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/roles/nope/implies/{a}"), &admin).await.status, StatusCode::NOT_FOUND);
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/roles/{a}/implies/nope"), &admin).await.status, StatusCode::NOT_FOUND);
    assert_eq!(call(&cloud, Method::GET, "/v3/roles/nope/implies", &admin).await.status, StatusCode::NOT_FOUND);

    assert_eq!(call(&cloud, Method::DELETE, &format!("/v3/roles/{a}/implies/{b}"), &admin).await.status, StatusCode::NO_CONTENT);
    let gone = call(&cloud, Method::GET, &format!("/v3/roles/{a}/implies/{b}"), &admin).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body["error"]["message"], format!("{a} does not imply {b}."));
    assert_eq!(call(&cloud, Method::DELETE, &format!("/v3/roles/{a}/implies/{b}"), &admin).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn project_and_domain_grants() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let domain = create_domain(&cloud, &admin, "acme").await;
    let project = create_project(&cloud, &admin, "web", &domain, None).await;
    let user = cloud.create_user("uma", "pw-uma".into()).await;
    let group = create_group(&cloud, "ops", &[]).await;
    let role = create_role(&cloud, &admin, json!({"name": "deployer"})).await;
    let rid = role["id"].as_str().unwrap().to_string();

    for (target, actor) in [("projects", "users"), ("projects", "groups"), ("domains", "users"), ("domains", "groups")] {
        let tid = if target == "projects" { &project } else { &domain };
        let aid = if actor == "users" { &user } else { &group };
        let base = format!("/v3/{target}/{tid}/{actor}/{aid}/roles");
        let empty = call(&cloud, Method::GET, &base, &admin).await;
        assert_eq!(empty.status, StatusCode::OK, "{base}: {}", empty.body);
        assert_eq!(empty.body["roles"], json!([]));
        assert_eq!(call(&cloud, Method::HEAD, &format!("{base}/{rid}"), &admin).await.status, StatusCode::NOT_FOUND);
        assert_eq!(call(&cloud, Method::PUT, &format!("{base}/{rid}"), &admin).await.status, StatusCode::NO_CONTENT);
        assert_eq!(call(&cloud, Method::PUT, &format!("{base}/{rid}"), &admin).await.status, StatusCode::NO_CONTENT, "idempotent");
        let listed = call(&cloud, Method::GET, &base, &admin).await;
        assert_eq!(listed.body["roles"], json!([role]), "{base}");
        assert_eq!(call(&cloud, Method::HEAD, &format!("{base}/{rid}"), &admin).await.status, StatusCode::NO_CONTENT);
        assert_eq!(call(&cloud, Method::GET, &format!("{base}/{rid}"), &admin).await.status, StatusCode::NO_CONTENT);
        assert_eq!(call(&cloud, Method::DELETE, &format!("{base}/{rid}"), &admin).await.status, StatusCode::NO_CONTENT);
        assert_eq!(call(&cloud, Method::DELETE, &format!("{base}/{rid}"), &admin).await.status, StatusCode::NOT_FOUND);
        // Missing role, actor and target are 404s naming them.
        let r = call(&cloud, Method::PUT, &format!("{base}/nope"), &admin).await;
        assert_eq!(r.body["error"]["message"], "Could not find role: nope.");
        let r = call(&cloud, Method::PUT, &format!("/v3/{target}/{tid}/{actor}/nope/roles/{rid}"), &admin).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = call(&cloud, Method::PUT, &format!("/v3/{target}/nope/{actor}/{aid}/roles/{rid}"), &admin).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = call(&cloud, Method::GET, &format!("/v3/{target}/nope/{actor}/{aid}/roles"), &admin).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    // A project id is not a domain and vice versa.
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/projects/{domain}/users/{user}/roles/{rid}"), &admin).await.status, StatusCode::NOT_FOUND);
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/domains/{project}/users/{user}/roles/{rid}"), &admin).await.status, StatusCode::NOT_FOUND);

    // A domain-specific role is only granted within its own domain.
    let drole = create_role(&cloud, &admin, json!({"name": "local", "domain_id": domain})).await["id"].as_str().unwrap().to_string();
    let elsewhere = create_project(&cloud, &admin, "elsewhere", "default", None).await;
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/projects/{project}/users/{user}/roles/{drole}"), &admin).await.status, StatusCode::NO_CONTENT);
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/projects/{elsewhere}/users/{user}/roles/{drole}"), &admin).await.status, StatusCode::FORBIDDEN);
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/domains/default/users/{user}/roles/{drole}"), &admin).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn grants_drive_tokens_and_revocation_is_immediate() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let project = create_project(&cloud, &admin, "p1", "default", None).await;
    let user = cloud.create_user("tom", "pw-tom".into()).await;
    let group = create_group(&cloud, "team", &[&user]).await;
    let member = role_id(&cloud, "member").await;
    let scope = json!({"project": {"id": project}});
    assert_eq!(cloud.token_for("tom", "pw-tom", Some(scope.clone())).await.status, StatusCode::UNAUTHORIZED);

    // Through the group.
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/projects/{project}/groups/{group}/roles/{member}"), &admin).await.status, StatusCode::NO_CONTENT);
    let t = cloud.token_for("tom", "pw-tom", Some(scope.clone())).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let names: Vec<&str> = t.body["token"]["roles"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"member") && names.contains(&"reader"), "{names:?}");
    let token = subject(&t);
    assert_eq!(call(&cloud, Method::GET, &format!("/v3/projects/{project}"), &token).await.status, StatusCode::OK);

    assert_eq!(call(&cloud, Method::DELETE, &format!("/v3/projects/{project}/groups/{group}/roles/{member}"), &admin).await.status, StatusCode::NO_CONTENT);
    assert_eq!(call(&cloud, Method::GET, &format!("/v3/projects/{project}"), &token).await.status, StatusCode::UNAUTHORIZED, "a token left without roles stops working");

    // Directly, then revoked.
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/projects/{project}/users/{user}/roles/{member}"), &admin).await.status, StatusCode::NO_CONTENT);
    let token = subject(&cloud.token_for("tom", "pw-tom", Some(scope.clone())).await);
    assert_eq!(call(&cloud, Method::GET, &format!("/v3/projects/{project}"), &token).await.status, StatusCode::OK);
    assert_eq!(call(&cloud, Method::DELETE, &format!("/v3/projects/{project}/users/{user}/roles/{member}"), &admin).await.status, StatusCode::NO_CONTENT);
    assert_eq!(call(&cloud, Method::GET, &format!("/v3/projects/{project}"), &token).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn system_grants() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let user = cloud.create_user("sam", "pw-sam".into()).await;
    let group = create_group(&cloud, "sysops", &[]).await;
    let reader = role_id(&cloud, "reader").await;
    for (actor, aid) in [("users", &user), ("groups", &group)] {
        let base = format!("/v3/system/{actor}/{aid}/roles");
        assert_eq!(call(&cloud, Method::GET, &base, &admin).await.body["roles"], json!([]));
        assert_eq!(call(&cloud, Method::HEAD, &format!("{base}/{reader}"), &admin).await.status, StatusCode::NOT_FOUND);
        assert_eq!(call(&cloud, Method::PUT, &format!("{base}/{reader}"), &admin).await.status, StatusCode::NO_CONTENT);
        assert_eq!(ids(&call(&cloud, Method::GET, &base, &admin).await.body, "roles"), vec![reader.clone()]);
        assert_eq!(call(&cloud, Method::HEAD, &format!("{base}/{reader}"), &admin).await.status, StatusCode::NO_CONTENT);
        assert_eq!(call(&cloud, Method::GET, &format!("{base}/{reader}"), &admin).await.status, StatusCode::NO_CONTENT);
        assert_eq!(call(&cloud, Method::PUT, &format!("/v3/system/{actor}/nope/roles/{reader}"), &admin).await.status, StatusCode::NOT_FOUND);
        assert_eq!(call(&cloud, Method::PUT, &format!("{base}/nope"), &admin).await.status, StatusCode::NOT_FOUND);
    }
    let t = cloud.token_for("sam", "pw-sam", Some(json!({"system": {"all": true}}))).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let sys = subject(&t);
    // A system reader may list assignments and grants, but not grant.
    assert_eq!(call(&cloud, Method::GET, "/v3/role_assignments", &sys).await.status, StatusCode::OK);
    assert_eq!(call(&cloud, Method::GET, &format!("/v3/system/users/{user}/roles"), &sys).await.status, StatusCode::OK);
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/system/groups/{group}/roles/{reader}"), &sys).await.status, StatusCode::FORBIDDEN);

    let domain = create_domain(&cloud, &admin, "acme").await;
    let drole = create_role(&cloud, &admin, json!({"name": "local", "domain_id": domain})).await["id"].as_str().unwrap().to_string();
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/system/users/{user}/roles/{drole}"), &admin).await.status, StatusCode::BAD_REQUEST);

    for (actor, aid) in [("users", &user), ("groups", &group)] {
        let base = format!("/v3/system/{actor}/{aid}/roles/{reader}");
        assert_eq!(call(&cloud, Method::DELETE, &base, &admin).await.status, StatusCode::NO_CONTENT);
        assert_eq!(call(&cloud, Method::DELETE, &base, &admin).await.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(call(&cloud, Method::GET, "/v3/role_assignments", &sys).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn inherited_grants() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let domain = create_domain(&cloud, &admin, "acme").await;
    let parent = create_project(&cloud, &admin, "parent", &domain, None).await;
    let leaf = create_project(&cloud, &admin, "leaf", &domain, Some(&parent)).await;
    let user = cloud.create_user("ina", "pw-ina".into()).await;
    let group = create_group(&cloud, "inheritors", &[&user]).await;
    let role = create_role(&cloud, &admin, json!({"name": "heir"})).await;
    let rid = role["id"].as_str().unwrap().to_string();

    // Domain, user and group: assign, list, check, revoke.
    for (actor, aid) in [("users", &user), ("groups", &group)] {
        let base = format!("/v3/OS-INHERIT/domains/{domain}/{actor}/{aid}/roles");
        assert_eq!(call(&cloud, Method::PUT, &format!("{base}/{rid}/inherited_to_projects"), &admin).await.status, StatusCode::NO_CONTENT);
        let listed = call(&cloud, Method::GET, &format!("{base}/inherited_to_projects"), &admin).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        assert_eq!(listed.body["roles"], json!([role]));
        assert_eq!(call(&cloud, Method::HEAD, &format!("{base}/{rid}/inherited_to_projects"), &admin).await.status, StatusCode::NO_CONTENT);
        // The inherited grant is not a direct one.
        assert_eq!(call(&cloud, Method::GET, &format!("/v3/domains/{domain}/{actor}/{aid}/roles"), &admin).await.body["roles"], json!([]));
        assert_eq!(call(&cloud, Method::HEAD, &format!("/v3/domains/{domain}/{actor}/{aid}/roles/{rid}"), &admin).await.status, StatusCode::NOT_FOUND);
    }
    // The user holds the role on both projects (not on the domain itself).
    let q = format!("scope.project.id={leaf}&user.id={user}&effective");
    let eff = assignments(&cloud, &admin, &q).await;
    let heirs: Vec<&Value> = eff.iter().filter(|a| a["role"]["id"] == json!(rid)).collect();
    assert_eq!(heirs.len(), 2, "direct and via group: {eff:?}");
    for a in &heirs {
        assert_eq!(a["scope"]["project"]["id"], json!(leaf));
        assert_eq!(a["scope"]["OS-INHERIT:inherited_to"], "projects");
        assert!(a["links"]["assignment"].as_str().unwrap().contains(&format!("/v3/OS-INHERIT/domains/{domain}/")));
    }
    assert!(heirs.iter().any(|a| a["links"]["membership"].as_str().is_some_and(|m| m.ends_with(&format!("/v3/groups/{group}/users/{user}")))));
    let t = cloud.token_for("ina", "pw-ina", Some(json!({"project": {"id": leaf}}))).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let t = cloud.token_for("ina", "pw-ina", Some(json!({"domain": {"id": domain}}))).await;
    assert_eq!(t.status, StatusCode::UNAUTHORIZED, "inherited roles do not apply to the domain itself");

    for (actor, aid) in [("users", &user), ("groups", &group)] {
        let path = format!("/v3/OS-INHERIT/domains/{domain}/{actor}/{aid}/roles/{rid}/inherited_to_projects");
        assert_eq!(call(&cloud, Method::DELETE, &path, &admin).await.status, StatusCode::NO_CONTENT);
        assert_eq!(call(&cloud, Method::DELETE, &path, &admin).await.status, StatusCode::NOT_FOUND);
    }
    assert!(assignments(&cloud, &admin, &q).await.is_empty());

    // Project, user and group: inherited by the subtree, not the project itself.
    for (actor, aid) in [("users", &user), ("groups", &group)] {
        let path = format!("/v3/OS-INHERIT/projects/{parent}/{actor}/{aid}/roles/{rid}/inherited_to_projects");
        assert_eq!(call(&cloud, Method::HEAD, &path, &admin).await.status, StatusCode::NOT_FOUND);
        assert_eq!(call(&cloud, Method::PUT, &path, &admin).await.status, StatusCode::NO_CONTENT);
        assert_eq!(call(&cloud, Method::HEAD, &path, &admin).await.status, StatusCode::NO_CONTENT);
    }
    let on_leaf = assignments(&cloud, &admin, &q).await;
    assert_eq!(on_leaf.len(), 2);
    assert!(on_leaf[0]["links"]["assignment"].as_str().unwrap().contains(&format!("/v3/OS-INHERIT/projects/{parent}/")));
    let on_parent = assignments(&cloud, &admin, &format!("scope.project.id={parent}&user.id={user}&effective")).await;
    assert!(on_parent.is_empty(), "{on_parent:?}");
    let direct = assignments(&cloud, &admin, &format!("scope.project.id={parent}&scope.OS-INHERIT:inherited_to=projects")).await;
    assert_eq!(direct.len(), 2);
    assert!(direct.iter().all(|a| a["scope"]["OS-INHERIT:inherited_to"] == "projects"));
    for (actor, aid) in [("users", &user), ("groups", &group)] {
        let path = format!("/v3/OS-INHERIT/projects/{parent}/{actor}/{aid}/roles/{rid}/inherited_to_projects");
        assert_eq!(call(&cloud, Method::DELETE, &path, &admin).await.status, StatusCode::NO_CONTENT);
    }
    assert!(assignments(&cloud, &admin, &q).await.is_empty());
}

#[tokio::test]
async fn role_assignment_listing() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let domain = create_domain(&cloud, &admin, "acme").await;
    let parent = create_project(&cloud, &admin, "parent", &domain, None).await;
    let child = create_project(&cloud, &admin, "child", &domain, Some(&parent)).await;
    let user = cloud.create_user("lou", "pw-lou".into()).await;
    let group = create_group(&cloud, "crew", &[&user]).await;
    let prior = create_role(&cloud, &admin, json!({"name": "prior"})).await["id"].as_str().unwrap().to_string();
    let implied = create_role(&cloud, &admin, json!({"name": "implied"})).await["id"].as_str().unwrap().to_string();
    let drole = create_role(&cloud, &admin, json!({"name": "dom", "domain_id": domain})).await["id"].as_str().unwrap().to_string();
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/roles/{prior}/implies/{implied}"), &admin).await.status, StatusCode::CREATED);
    for path in [
        format!("/v3/projects/{parent}/users/{user}/roles/{prior}"),
        format!("/v3/projects/{child}/groups/{group}/roles/{implied}"),
        format!("/v3/projects/{parent}/users/{user}/roles/{drole}"),
        format!("/v3/domains/{domain}/users/{user}/roles/{implied}"),
    ] {
        assert_eq!(call(&cloud, Method::PUT, &path, &admin).await.status, StatusCode::NO_CONTENT, "{path}");
    }

    // Direct listing, by user.
    let direct = assignments(&cloud, &admin, &format!("user.id={user}")).await;
    assert_eq!(direct.len(), 3, "{direct:?}");
    let on_domain = direct.iter().find(|a| a["scope"]["domain"]["id"] == json!(domain)).unwrap();
    assert_eq!(on_domain["user"]["id"], json!(user));
    assert!(on_domain["links"]["assignment"].as_str().unwrap().ends_with(&format!("/v3/domains/{domain}/users/{user}/roles/{implied}")));
    // By group, by role, by scope.
    let by_group = assignments(&cloud, &admin, &format!("group.id={group}")).await;
    assert_eq!(by_group.len(), 1);
    assert_eq!(by_group[0]["group"]["id"], json!(group));
    assert_eq!(assignments(&cloud, &admin, &format!("role.id={implied}")).await.len(), 2);
    assert_eq!(assignments(&cloud, &admin, &format!("scope.domain.id={domain}")).await.len(), 1);
    assert_eq!(assignments(&cloud, &admin, &format!("scope.project.id={parent}")).await.len(), 2);
    let tree = assignments(&cloud, &admin, &format!("scope.project.id={parent}&include_subtree=true")).await;
    assert_eq!(tree.len(), 3);
    let admin_role = role_id(&cloud, "admin").await;
    let system = assignments(&cloud, &admin, "scope.system=all").await;
    assert!(!system.is_empty() && system.iter().all(|a| a["scope"]["system"]["all"] == true));
    assert!(system.iter().any(|a| a["role"]["id"] == json!(admin_role)));
    let everything = assignments(&cloud, &admin, "").await;
    assert!(everything.len() >= direct.len() + by_group.len() + system.len());

    // Effective: the group's assignment becomes the user's, implied roles are added,
    // the domain-specific role is dropped.
    let eff = assignments(&cloud, &admin, &format!("user.id={user}&scope.project.id={parent}&effective")).await;
    let roles: Vec<&str> = eff.iter().map(|a| a["role"]["id"].as_str().unwrap()).collect();
    assert_eq!(eff.len(), 2, "{eff:?}");
    assert!(roles.contains(&prior.as_str()) && roles.contains(&implied.as_str()));
    let via_prior = eff.iter().find(|a| a["role"]["id"] == json!(implied)).unwrap();
    assert!(via_prior["links"]["assignment"].as_str().unwrap().ends_with(&format!("/v3/projects/{parent}/users/{user}/roles/{prior}")));
    assert!(via_prior["links"]["prior_role"].is_string());
    let eff_child = assignments(&cloud, &admin, &format!("user.id={user}&scope.project.id={child}&effective")).await;
    assert_eq!(eff_child.len(), 1);
    assert_eq!(eff_child[0]["user"]["id"], json!(user));
    assert!(eff_child[0]["links"]["membership"].as_str().unwrap().ends_with(&format!("/v3/groups/{group}/users/{user}")));
    assert!(eff_child[0]["links"]["assignment"].as_str().unwrap().ends_with(&format!("/v3/projects/{child}/groups/{group}/roles/{implied}")));
    assert!(eff_child[0].get("group").is_none());
    let eff_role = assignments(&cloud, &admin, &format!("user.id={user}&role.id={implied}&effective")).await;
    assert_eq!(eff_role.len(), 3, "via prior, via group, on the domain: {eff_role:?}");

    // Names.
    let named = assignments(&cloud, &admin, &format!("scope.domain.id={domain}&include_names")).await;
    assert_eq!(named[0]["user"]["name"], "lou");
    assert_eq!(named[0]["user"]["domain"], json!({"id": "default", "name": "Default"}));
    assert_eq!(named[0]["scope"]["domain"], json!({"id": domain, "name": "acme"}));
    assert_eq!(named[0]["role"]["name"], "implied");
    let named = assignments(&cloud, &admin, &format!("scope.project.id={parent}&role.id={drole}&include_names=1")).await;
    assert_eq!(named[0]["scope"]["project"]["name"], "parent");
    assert_eq!(named[0]["scope"]["project"]["domain"]["name"], "acme");
    assert_eq!(named[0]["role"]["domain"], json!({"id": domain, "name": "acme"}));

    // Bad combinations.
    for bad in [
        "include_subtree=true".to_string(),
        format!("scope.project.id={parent}&scope.domain.id={domain}"),
        format!("scope.project.id={parent}&scope.system=all"),
        format!("user.id={user}&group.id={group}"),
        format!("group.id={group}&effective"),
        format!("scope.domain.id={domain}&scope.OS-INHERIT:inherited_to=projects&effective"),
        "scope.project.id=bad_id!".to_string(),
    ] {
        let r = call(&cloud, Method::GET, &format!("/v3/role_assignments?{bad}"), &admin).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
    let r = call(&cloud, Method::GET, "/v3/role_assignments?scope.project.id=nope&include_subtree", &admin).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn members_see_no_grants_or_assignments() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (alice, project_a, token_a) = cloud.member(&admin, "alice").await;
    let (bob, project_b, _) = cloud.member(&admin, "bob").await;
    let member = role_id(&cloud, "member").await;
    let admin_role = role_id(&cloud, "admin").await;
    for path in [
        "/v3/role_assignments".to_string(),
        format!("/v3/role_assignments?user.id={alice}"),
        format!("/v3/role_assignments?scope.project.id={project_a}&include_subtree"),
        format!("/v3/projects/{project_a}/users/{alice}/roles"),
        format!("/v3/projects/{project_b}/users/{bob}/roles"),
        format!("/v3/projects/{project_b}/users/{bob}/roles/{member}"),
        format!("/v3/system/users/{alice}/roles"),
        format!("/v3/OS-INHERIT/domains/default/users/{alice}/roles/inherited_to_projects"),
    ] {
        let r = call(&cloud, Method::GET, &path, &token_a).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    for path in [
        format!("/v3/projects/{project_a}/users/{alice}/roles/{admin_role}"),
        format!("/v3/projects/{project_b}/users/{alice}/roles/{member}"),
        format!("/v3/domains/default/users/{alice}/roles/{admin_role}"),
        format!("/v3/system/users/{alice}/roles/{admin_role}"),
        format!("/v3/OS-INHERIT/domains/default/users/{alice}/roles/{admin_role}/inherited_to_projects"),
        format!("/v3/OS-INHERIT/projects/{project_a}/users/{alice}/roles/{admin_role}/inherited_to_projects"),
    ] {
        let r = call(&cloud, Method::PUT, &path, &token_a).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    let r = call(&cloud, Method::DELETE, &format!("/v3/projects/{project_b}/users/{bob}/roles/{member}"), &token_a).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Missing entities are not revealed either.
    let r = call(&cloud, Method::PUT, "/v3/projects/nope/users/nope/roles/nope", &token_a).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Bob still has his role.
    assert_eq!(call(&cloud, Method::HEAD, &format!("/v3/projects/{project_b}/users/{bob}/roles/{member}"), &admin).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn domain_reader_sees_only_its_domain() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let domain = create_domain(&cloud, &admin, "acme").await;
    let inside = create_project(&cloud, &admin, "inside", &domain, None).await;
    let outside = create_project(&cloud, &admin, "outside", "default", None).await;
    let dana = cloud.create_user("dana", "pw-dana".into()).await;
    let other = cloud.create_user("otto", "pw-otto".into()).await;
    let reader = role_id(&cloud, "reader").await;
    let member = role_id(&cloud, "member").await;
    for path in [
        format!("/v3/domains/{domain}/users/{dana}/roles/{reader}"),
        format!("/v3/projects/{inside}/users/{other}/roles/{member}"),
        format!("/v3/projects/{outside}/users/{other}/roles/{member}"),
    ] {
        assert_eq!(call(&cloud, Method::PUT, &path, &admin).await.status, StatusCode::NO_CONTENT);
    }
    let t = cloud.token_for("dana", "pw-dana", Some(json!({"domain": {"id": domain}}))).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let token = subject(&t);
    let seen = assignments(&cloud, &token, "").await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|a| a["scope"]["domain"]["id"] == json!(domain) || a["scope"]["project"]["id"] == json!(inside)));
    let tree = assignments(&cloud, &token, &format!("scope.project.id={inside}&include_subtree")).await;
    assert_eq!(tree.len(), 1);
    let r = call(&cloud, Method::GET, &format!("/v3/role_assignments?scope.project.id={outside}&include_subtree"), &token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn domain_manager_grants_only_managed_roles_in_its_domain() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let manager_role = role_id(&cloud, "manager").await;
    let member = role_id(&cloud, "member").await;
    let admin_role = role_id(&cloud, "admin").await;
    let boss = cloud.create_user("boss", "pw-boss".into()).await;
    let worker = cloud.create_user("worker", "pw-worker".into()).await;
    assert_eq!(call(&cloud, Method::PUT, &format!("/v3/domains/default/users/{boss}/roles/{manager_role}"), &admin).await.status, StatusCode::NO_CONTENT);
    let inside = create_project(&cloud, &admin, "inside", "default", None).await;
    let acme = create_domain(&cloud, &admin, "acme").await;
    let outside = create_project(&cloud, &admin, "outside", &acme, None).await;
    let t = cloud.token_for("boss", "pw-boss", Some(json!({"domain": {"id": "default"}}))).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let token = subject(&t);

    let ok_path = format!("/v3/projects/{inside}/users/{worker}/roles/{member}");
    assert_eq!(call(&cloud, Method::PUT, &ok_path, &token).await.status, StatusCode::NO_CONTENT);
    assert_eq!(call(&cloud, Method::DELETE, &ok_path, &token).await.status, StatusCode::NO_CONTENT);
    let r = call(&cloud, Method::PUT, &format!("/v3/projects/{inside}/users/{worker}/roles/{admin_role}"), &token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a manager cannot hand out admin");
    let r = call(&cloud, Method::PUT, &format!("/v3/projects/{outside}/users/{worker}/roles/{member}"), &token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "nor grant in another domain");
    // It may read the roles it manages and list global roles.
    assert_eq!(call(&cloud, Method::GET, &format!("/v3/roles/{member}"), &token).await.status, StatusCode::OK);
    assert_eq!(call(&cloud, Method::GET, &format!("/v3/roles/{admin_role}"), &token).await.status, StatusCode::FORBIDDEN);
    assert_eq!(call(&cloud, Method::GET, "/v3/roles", &token).await.status, StatusCode::OK);
    assert_eq!(call(&cloud, Method::POST, "/v3/roles", &token).await.status, StatusCode::BAD_REQUEST, "no body");
    let r = cloud.call(Method::POST, "/v3/roles", Some(&token), Some(json!({"role": {"name": "mine"}}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
