//! Services, endpoints, regions, application credentials with access rules, and unified limits.


use http::{Method, StatusCode};
use serde_json::{json, Value};
use crate::support::{subject, TestCloud};

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).to_string()
}

async fn new_service(cloud: &TestCloud, admin: &str, service_type: &str) -> String {
    let r = cloud.call(Method::POST, "/v3/services", Some(admin), Some(json!({"service": {"type": service_type, "name": format!("{service_type}-svc")}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    s(&r.body["service"]["id"])
}

#[tokio::test]
async fn services_crud_filters_and_policy() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let r = cloud
        .call(Method::POST, "/v3/services", Some(&admin), Some(json!({"service": {"type": "monitoring", "name": "mon", "description": "first", "color": "blue"}})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let svc = &r.body["service"];
    assert_eq!(svc["type"], "monitoring");
    assert_eq!(svc["name"], "mon");
    assert_eq!(svc["description"], "first");
    assert_eq!(svc["enabled"], true);
    assert_eq!(svc["color"], "blue", "extra attributes are kept");
    assert!(s(&svc["links"]["self"]).ends_with(&format!("/v3/services/{}", s(&svc["id"]))));
    let id = s(&svc["id"]);

    let no_name = cloud.call(Method::POST, "/v3/services", Some(&admin), Some(json!({"service": {"type": "dns"}}))).await;
    assert_eq!(no_name.status, StatusCode::CREATED);
    assert_eq!(no_name.body["service"]["name"], "");
    for bad in [json!({"service": {"name": "x"}}), json!({"service": {"type": ""}}), json!({"service": {"type": "x", "enabled": "true"}}), json!({})] {
        let r = cloud.call(Method::POST, "/v3/services", Some(&admin), Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }

    let list = cloud.call(Method::GET, "/v3/services?type=monitoring", Some(&admin), None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["services"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["services"][0]["id"], json!(id));
    assert!(list.body["links"]["self"].as_str().unwrap().ends_with("/v3/services?type=monitoring"));
    let by_name = cloud.call(Method::GET, "/v3/services?name=keystone", Some(&admin), None).await;
    assert_eq!(by_name.body["services"][0]["type"], "identity");
    let all = cloud.call(Method::GET, "/v3/services", Some(&admin), None).await;
    assert!(all.body["services"].as_array().unwrap().len() >= 8);

    let upd = cloud.call(Method::PATCH, &format!("/v3/services/{id}"), Some(&admin), Some(json!({"service": {"description": "second", "enabled": false}}))).await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    assert_eq!(upd.body["service"]["description"], "second");
    assert_eq!(upd.body["service"]["name"], "mon");
    let shown = cloud.call(Method::GET, &format!("/v3/services/{id}"), Some(&admin), None).await;
    assert_eq!(shown.body, upd.body);
    let empty = cloud.call(Method::PATCH, &format!("/v3/services/{id}"), Some(&admin), Some(json!({"service": {}}))).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let change_id = cloud.call(Method::PATCH, &format!("/v3/services/{id}"), Some(&admin), Some(json!({"service": {"id": "other"}}))).await;
    assert_eq!(change_id.status, StatusCode::BAD_REQUEST);

    // a member can neither administer nor read the catalog admin API
    let (_, _, member) = cloud.member(&admin, "svc-member").await;
    for (method, path, body) in [
        (Method::POST, "/v3/services".to_string(), Some(json!({"service": {"type": "x"}}))),
        (Method::GET, "/v3/services".to_string(), None),
        (Method::GET, format!("/v3/services/{id}"), None),
        (Method::PATCH, format!("/v3/services/{id}"), Some(json!({"service": {"name": "x"}}))),
        (Method::DELETE, format!("/v3/services/{id}"), None),
    ] {
        let r = cloud.call(method.clone(), &path, Some(&member), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}: {}", r.body);
    }
    // but the token catalog stays readable
    let catalog = cloud.call(Method::GET, "/v3/auth/catalog", Some(&member), None).await;
    assert_eq!(catalog.status, StatusCode::OK);
    assert!(catalog.body["catalog"].as_array().unwrap().iter().any(|c| c["type"] == "identity"));

    let del = cloud.call(Method::DELETE, &format!("/v3/services/{id}"), Some(&admin), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let gone = cloud.call(Method::GET, &format!("/v3/services/{id}"), Some(&admin), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body["error"]["message"], format!("Could not find service: {id}."));
    let again = cloud.call(Method::DELETE, &format!("/v3/services/{id}"), Some(&admin), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn endpoints_crud_legacy_region_and_catalog() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let svc = new_service(&cloud, &admin, "object-store").await;
    let ep = |body: Value| json!({"endpoint": body});

    // validation
    for bad in [
        ep(json!({"service_id": svc, "interface": "public"})),
        ep(json!({"service_id": svc, "interface": "external", "url": "http://x"})),
        ep(json!({"service_id": svc, "interface": "public", "url": "http://x", "enabled": "False"})),
        ep(json!({"service_id": "nope", "interface": "public", "url": "http://x"})),
        ep(json!({"service_id": svc, "interface": "public", "url": "http://x", "region_id": "no-such-region"})),
        ep(json!({"service_id": svc, "interface": "public", "url": "http://x/$(bogus)s"})),
        ep(json!({"service_id": svc, "interface": "public", "url": "not a url"})),
    ] {
        let r = cloud.call(Method::POST, "/v3/endpoints", Some(&admin), Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }

    // legacy `region` creates the region
    let r = cloud
        .call(Method::POST, "/v3/endpoints", Some(&admin), Some(ep(json!({"service_id": svc, "interface": "public", "url": "http://swift:8080/v1/AUTH_$(project_id)s", "region": "Legacy"}))))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let e = &r.body["endpoint"];
    assert_eq!(e["region"], "Legacy");
    assert_eq!(e["region_id"], "Legacy");
    assert_eq!(e["enabled"], true);
    let id = s(&e["id"]);
    let region = cloud.call(Method::GET, "/v3/regions/Legacy", Some(&admin), None).await;
    assert_eq!(region.status, StatusCode::OK, "{}", region.body);

    let internal = cloud
        .call(Method::POST, "/v3/endpoints", Some(&admin), Some(ep(json!({"service_id": svc, "interface": "internal", "url": "http://swift-int:8080", "region_id": "RegionOne"}))))
        .await;
    assert_eq!(internal.status, StatusCode::CREATED, "{}", internal.body);

    let by_service = cloud.call(Method::GET, &format!("/v3/endpoints?service_id={svc}"), Some(&admin), None).await;
    assert_eq!(by_service.body["endpoints"].as_array().unwrap().len(), 2);
    let public = cloud.call(Method::GET, &format!("/v3/endpoints?service_id={svc}&interface=public"), Some(&admin), None).await;
    assert_eq!(public.body["endpoints"].as_array().unwrap().len(), 1);
    assert_eq!(public.body["endpoints"][0]["id"], json!(id));
    let legacy = cloud.call(Method::GET, "/v3/endpoints?region_id=Legacy", Some(&admin), None).await;
    assert_eq!(legacy.body["endpoints"].as_array().unwrap().len(), 1);
    let bad_filter = cloud.call(Method::GET, "/v3/endpoints?interface=sideways", Some(&admin), None).await;
    assert_eq!(bad_filter.status, StatusCode::BAD_REQUEST);

    // the token catalog follows
    let catalog = cloud.call(Method::GET, "/v3/auth/catalog", Some(&admin), None).await;
    let entry = catalog.body["catalog"].as_array().unwrap().iter().find(|c| c["type"] == "object-store").cloned().expect("in catalog");
    assert_eq!(entry["endpoints"].as_array().unwrap().len(), 2);

    // update: move to another (legacy) region, disable
    let upd = cloud
        .call(Method::PATCH, &format!("/v3/endpoints/{id}"), Some(&admin), Some(ep(json!({"region": "Legacy2", "enabled": false, "url": "http://swift2:8080"}))))
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    assert_eq!(upd.body["endpoint"]["region_id"], "Legacy2");
    assert_eq!(upd.body["endpoint"]["enabled"], false);
    assert_eq!(upd.body["endpoint"]["url"], "http://swift2:8080");
    let bad_enabled = cloud.call(Method::PATCH, &format!("/v3/endpoints/{id}"), Some(&admin), Some(ep(json!({"enabled": "True"})))).await;
    assert_eq!(bad_enabled.status, StatusCode::BAD_REQUEST);
    let bad_region = cloud.call(Method::PATCH, &format!("/v3/endpoints/{id}"), Some(&admin), Some(ep(json!({"region_id": "missing"})))).await;
    assert_eq!(bad_region.status, StatusCode::BAD_REQUEST);
    let catalog = cloud.call(Method::GET, "/v3/auth/catalog", Some(&admin), None).await;
    let entry = catalog.body["catalog"].as_array().unwrap().iter().find(|c| c["type"] == "object-store").cloned().expect("in catalog");
    assert_eq!(entry["endpoints"].as_array().unwrap().len(), 1, "disabled endpoints leave the catalog");

    // a region with endpoints cannot go
    let busy = cloud.call(Method::DELETE, "/v3/regions/Legacy2", Some(&admin), None).await;
    assert_eq!(busy.status, StatusCode::FORBIDDEN, "{}", busy.body);

    // members
    let (_, _, member) = cloud.member(&admin, "ep-member").await;
    for (method, path) in [(Method::GET, "/v3/endpoints".to_string()), (Method::GET, format!("/v3/endpoints/{id}")), (Method::DELETE, format!("/v3/endpoints/{id}"))] {
        let r = cloud.call(method, &path, Some(&member), None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    let r = cloud.call(Method::POST, "/v3/endpoints", Some(&member), Some(ep(json!({"service_id": svc, "interface": "public", "url": "http://evil"})))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let del = cloud.call(Method::DELETE, &format!("/v3/endpoints/{id}"), Some(&admin), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let gone = cloud.call(Method::GET, &format!("/v3/endpoints/{id}"), Some(&admin), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let free = cloud.call(Method::DELETE, "/v3/regions/Legacy2", Some(&admin), None).await;
    assert_eq!(free.status, StatusCode::NO_CONTENT);

    // deleting a service takes its endpoints
    let del = cloud.call(Method::DELETE, &format!("/v3/services/{svc}"), Some(&admin), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let left = cloud.call(Method::GET, &format!("/v3/endpoints?service_id={svc}"), Some(&admin), None).await;
    assert_eq!(left.body["endpoints"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn regions_hierarchy_put_and_delete() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let r = cloud.call(Method::POST, "/v3/regions", Some(&admin), Some(json!({"region": {"description": "generated"}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let generated = r.body["region"].clone();
    assert_eq!(generated["description"], "generated");
    assert_eq!(generated["parent_region_id"], Value::Null);
    assert_eq!(s(&generated["id"]).len(), 32);

    let put = cloud.call(Method::PUT, "/v3/regions/Europe", Some(&admin), Some(json!({"region": {"description": "EU"}}))).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    assert_eq!(put.body["region"]["id"], "Europe");
    let dup = cloud.call(Method::PUT, "/v3/regions/Europe", Some(&admin), Some(json!({"region": {}}))).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let dup_post = cloud.call(Method::POST, "/v3/regions", Some(&admin), Some(json!({"region": {"id": "Europe"}}))).await;
    assert_eq!(dup_post.status, StatusCode::CONFLICT);
    let mismatch = cloud.call(Method::PUT, "/v3/regions/Asia", Some(&admin), Some(json!({"region": {"id": "Africa"}}))).await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    let orphan = cloud.call(Method::POST, "/v3/regions", Some(&admin), Some(json!({"region": {"id": "Lost", "parent_region_id": "Atlantis"}}))).await;
    assert_eq!(orphan.status, StatusCode::NOT_FOUND);
    assert_eq!(orphan.body["error"]["message"], "Could not find region: Atlantis.");

    let child = cloud.call(Method::POST, "/v3/regions", Some(&admin), Some(json!({"region": {"id": "Paris", "parent_region_id": "Europe"}}))).await;
    assert_eq!(child.status, StatusCode::CREATED);
    assert_eq!(child.body["region"]["description"], "");
    let grandchild = cloud.call(Method::PUT, "/v3/regions/Paris-1", Some(&admin), Some(json!({"region": {"parent_region_id": "Paris"}}))).await;
    assert_eq!(grandchild.status, StatusCode::CREATED);

    let kids = cloud.call(Method::GET, "/v3/regions?parent_region_id=Europe", Some(&admin), None).await;
    assert_eq!(kids.body["regions"].as_array().unwrap().len(), 1);
    assert_eq!(kids.body["regions"][0], child.body["region"], "list and create render the same");
    let all = cloud.call(Method::GET, "/v3/regions", Some(&admin), None).await;
    assert!(all.body["regions"].as_array().unwrap().contains(&generated));

    let cycle = cloud.call(Method::PATCH, "/v3/regions/Europe", Some(&admin), Some(json!({"region": {"parent_region_id": "Paris-1"}}))).await;
    assert_eq!(cycle.status, StatusCode::BAD_REQUEST, "{}", cycle.body);
    let self_parent = cloud.call(Method::PATCH, "/v3/regions/Europe", Some(&admin), Some(json!({"region": {"parent_region_id": "Europe"}}))).await;
    assert_eq!(self_parent.status, StatusCode::BAD_REQUEST);
    let missing_parent = cloud.call(Method::PATCH, "/v3/regions/Paris", Some(&admin), Some(json!({"region": {"parent_region_id": "Nowhere"}}))).await;
    assert_eq!(missing_parent.status, StatusCode::NOT_FOUND);
    let upd = cloud.call(Method::PATCH, "/v3/regions/Paris", Some(&admin), Some(json!({"region": {"description": "Île-de-France", "parent_region_id": null}}))).await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    assert_eq!(upd.body["region"]["parent_region_id"], Value::Null);
    let back = cloud.call(Method::PATCH, "/v3/regions/Paris", Some(&admin), Some(json!({"region": {"parent_region_id": "Europe"}}))).await;
    assert_eq!(back.body["region"]["description"], "Île-de-France");

    // anyone scoped may read regions; only admins write them
    let (_, _, member) = cloud.member(&admin, "region-member").await;
    let read = cloud.call(Method::GET, "/v3/regions/Europe", Some(&member), None).await;
    assert_eq!(read.status, StatusCode::OK);
    let list = cloud.call(Method::GET, "/v3/regions", Some(&member), None).await;
    assert_eq!(list.status, StatusCode::OK);
    for (method, path, body) in [
        (Method::POST, "/v3/regions", Some(json!({"region": {}}))),
        (Method::PUT, "/v3/regions/Mine", Some(json!({"region": {}}))),
        (Method::PATCH, "/v3/regions/Europe", Some(json!({"region": {"description": "x"}}))),
        (Method::DELETE, "/v3/regions/Europe", None),
    ] {
        let r = cloud.call(method, path, Some(&member), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }

    // deleting a region removes its children
    let del = cloud.call(Method::DELETE, "/v3/regions/Europe", Some(&admin), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    for id in ["Europe", "Paris", "Paris-1"] {
        let r = cloud.call(Method::GET, &format!("/v3/regions/{id}"), Some(&admin), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}");
    }
    let again = cloud.call(Method::DELETE, "/v3/regions/Europe", Some(&admin), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

async fn app_cred_token(cloud: &TestCloud, id: &str, secret: &str) -> crate::support::Resp {
    let body = json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": id, "secret": secret}}}});
    cloud.call(Method::POST, "/v3/auth/tokens", None, Some(body)).await
}

#[tokio::test]
async fn application_credentials_lifecycle() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (alice, project, alice_token) = cloud.member(&admin, "alice").await;
    let (bob, _, bob_token) = cloud.member(&admin, "bob").await;
    let base = format!("/v3/users/{alice}/application_credentials");

    let r = cloud.call(Method::POST, &base, Some(&alice_token), Some(json!({"application_credential": {"name": "ci", "description": "for CI"}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let cred = r.body["application_credential"].clone();
    let secret = s(&cred["secret"]);
    assert_eq!(secret.len(), 86);
    assert_eq!(cred["project_id"], json!(project));
    assert_eq!(cred["unrestricted"], false);
    assert_eq!(cred["expires_at"], Value::Null);
    let role_names: Vec<&str> = cred["roles"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(role_names.contains(&"member") && role_names.contains(&"reader"), "{role_names:?}");
    let id = s(&cred["id"]);
    assert!(s(&cred["links"]["self"]).ends_with(&format!("{base}/{id}")));

    let shown = cloud.call(Method::GET, &format!("{base}/{id}"), Some(&alice_token), None).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body["application_credential"].get("secret").is_none());
    assert_eq!(shown.body["application_credential"]["name"], "ci");

    // explicit secret, roles by name, expiry rendered as given
    let r = cloud
        .call(Method::POST, &base, Some(&alice_token), Some(json!({"application_credential": {
            "name": "reader-only", "secret": "my-secret", "roles": [{"name": "reader"}], "expires_at": "2099-01-02T03:04:05.123456"}})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["application_credential"]["secret"], "my-secret");
    assert_eq!(r.body["application_credential"]["expires_at"], "2099-01-02T03:04:05.123456");
    assert_eq!(r.body["application_credential"]["roles"].as_array().unwrap().len(), 1);
    let reader_id = s(&r.body["application_credential"]["id"]);

    // bad requests
    for (body, want) in [
        (json!({"application_credential": {"name": "ci"}}), StatusCode::CONFLICT),
        (json!({"application_credential": {}}), StatusCode::BAD_REQUEST),
        (json!({"application_credential": {"name": "x", "expires_at": "2001-01-01T00:00:00"}}), StatusCode::BAD_REQUEST),
        (json!({"application_credential": {"name": "x", "expires_at": "soon"}}), StatusCode::BAD_REQUEST),
        (json!({"application_credential": {"name": "x", "roles": [{"name": "admin"}]}}), StatusCode::BAD_REQUEST),
        (json!({"application_credential": {"name": "x", "bogus": 1}}), StatusCode::BAD_REQUEST),
        (json!({"application_credential": {"name": "x", "unrestricted": "yes"}}), StatusCode::BAD_REQUEST),
        (json!({"application_credential": {"name": "x", "access_rules": [{"service": "compute", "path": "/x", "method": "FETCH"}]}}), StatusCode::BAD_REQUEST),
    ] {
        let r = cloud.call(Method::POST, &base, Some(&alice_token), Some(body.clone())).await;
        assert_eq!(r.status, want, "{body}: {}", r.body);
    }

    let list = cloud.call(Method::GET, &base, Some(&alice_token), None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["application_credentials"].as_array().unwrap().len(), 2);
    assert!(list.body["application_credentials"].as_array().unwrap().iter().all(|c| c.get("secret").is_none()));
    let filtered = cloud.call(Method::GET, &format!("{base}?name=reader-only"), Some(&alice_token), None).await;
    assert_eq!(filtered.body["application_credentials"].as_array().unwrap().len(), 1);
    assert_eq!(filtered.body["application_credentials"][0]["id"], json!(reader_id));

    // another user sees nothing of alice's and cannot create for her
    let theirs = cloud.call(Method::GET, &base, Some(&bob_token), None).await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    for (method, path) in [(Method::GET, format!("{base}/{id}")), (Method::DELETE, format!("{base}/{id}")), (Method::GET, format!("/v3/users/{bob}/application_credentials/{id}"))] {
        let r = cloud.call(method.clone(), &path, Some(&bob_token), None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}: {}", r.body);
    }
    let forged = cloud.call(Method::POST, &base, Some(&bob_token), Some(json!({"application_credential": {"name": "steal"}}))).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // the admin may read them, not create them
    let by_admin = cloud.call(Method::GET, &base, Some(&admin), None).await;
    assert_eq!(by_admin.status, StatusCode::OK);
    let admin_create = cloud.call(Method::POST, &base, Some(&admin), Some(json!({"application_credential": {"name": "nope"}}))).await;
    assert_eq!(admin_create.status, StatusCode::FORBIDDEN);

    // authenticating with it gives a project token with the credential's roles
    let t = app_cred_token(&cloud, &id, &secret).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    assert_eq!(t.body["token"]["project"]["id"], json!(project));
    assert_eq!(t.body["token"]["application_credential"]["id"], json!(id));
    let cred_token = subject(&t);
    let wrong = app_cred_token(&cloud, &id, "not-the-secret").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    // a restricted credential's token cannot make or remove credentials
    let nested = cloud.call(Method::POST, &base, Some(&cred_token), Some(json!({"application_credential": {"name": "nested"}}))).await;
    assert_eq!(nested.status, StatusCode::FORBIDDEN, "{}", nested.body);
    let remove = cloud.call(Method::DELETE, &format!("{base}/{reader_id}"), Some(&cred_token), None).await;
    assert_eq!(remove.status, StatusCode::FORBIDDEN);
    // an unrestricted one can
    let r = cloud.call(Method::POST, &base, Some(&alice_token), Some(json!({"application_credential": {"name": "power", "unrestricted": true}}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let power = app_cred_token(&cloud, &s(&r.body["application_credential"]["id"]), &s(&r.body["application_credential"]["secret"])).await;
    assert_eq!(power.status, StatusCode::CREATED);
    let made = cloud.call(Method::POST, &base, Some(&subject(&power)), Some(json!({"application_credential": {"name": "child"}}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);

    // deleting the credential kills its tokens
    let check = cloud.call_with(Method::GET, "/v3/auth/tokens", Some(&admin), None, &[("x-subject-token", &cred_token)]).await;
    assert_eq!(check.status, StatusCode::OK);
    let del = cloud.call(Method::DELETE, &format!("{base}/{id}"), Some(&alice_token), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let check = cloud.call_with(Method::GET, "/v3/auth/tokens", Some(&admin), None, &[("x-subject-token", &cred_token)]).await;
    assert_eq!(check.status, StatusCode::NOT_FOUND);
    let used = cloud.call(Method::GET, "/v3/regions", Some(&cred_token), None).await;
    assert_eq!(used.status, StatusCode::UNAUTHORIZED);
    let again = cloud.call(Method::DELETE, &format!("{base}/{id}"), Some(&alice_token), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.body["error"]["message"], format!("Could not find Application Credential: {id}."));
    let relogin = app_cred_token(&cloud, &id, &secret).await;
    assert_eq!(relogin.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn access_rules_follow_their_credentials() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (carol, _, carol_token) = cloud.member(&admin, "carol").await;
    let (_, _, dave_token) = cloud.member(&admin, "dave").await;
    let base = format!("/v3/users/{carol}/application_credentials");
    let rule = json!({"path": "/v2.1/servers/*/ips", "method": "GET", "service": "compute"});
    let r = cloud.call(Method::POST, &base, Some(&carol_token), Some(json!({"application_credential": {"name": "ips", "access_rules": [rule]}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut got = r.body["application_credential"]["access_rules"][0].clone();
    let rule_id = s(&got["id"]);
    got.as_object_mut().unwrap().remove("id");
    assert_eq!(got, rule);
    let cred_id = s(&r.body["application_credential"]["id"]);

    // the same rule is reused, by content or by id
    let r2 = cloud.call(Method::POST, &base, Some(&carol_token), Some(json!({"application_credential": {"name": "ips2", "access_rules": [rule]}}))).await;
    assert_eq!(r2.body["application_credential"]["access_rules"][0]["id"], json!(rule_id));
    let r3 = cloud.call(Method::POST, &base, Some(&carol_token), Some(json!({"application_credential": {"name": "ips3", "access_rules": [{"id": rule_id}]}}))).await;
    assert_eq!(r3.status, StatusCode::CREATED, "{}", r3.body);
    assert_eq!(r3.body["application_credential"]["access_rules"][0]["id"], json!(rule_id));
    let unknown = cloud.call(Method::POST, &base, Some(&carol_token), Some(json!({"application_credential": {"name": "ips4", "access_rules": [{"id": "deadbeef"}]}}))).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let rules_path = format!("/v3/users/{carol}/access_rules");
    let list = cloud.call(Method::GET, &rules_path, Some(&carol_token), None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.body["access_rules"].as_array().unwrap().len(), 1);
    let filtered = cloud.call(Method::GET, &format!("{rules_path}?service=image"), Some(&carol_token), None).await;
    assert_eq!(filtered.body["access_rules"].as_array().unwrap().len(), 0);
    let one = cloud.call(Method::GET, &format!("{rules_path}/{rule_id}"), Some(&carol_token), None).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["access_rule"]["service"], "compute");
    let missing = cloud.call(Method::GET, &format!("{rules_path}/nope"), Some(&carol_token), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // others may not look
    for (method, path) in [(Method::GET, rules_path.clone()), (Method::GET, format!("{rules_path}/{rule_id}")), (Method::DELETE, format!("{rules_path}/{rule_id}"))] {
        let r = cloud.call(method, &path, Some(&dave_token), None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }

    // in use: 403; free once every credential using it is gone
    let busy = cloud.call(Method::DELETE, &format!("{rules_path}/{rule_id}"), Some(&carol_token), None).await;
    assert_eq!(busy.status, StatusCode::FORBIDDEN);
    for cred in [cred_id, s(&r2.body["application_credential"]["id"]), s(&r3.body["application_credential"]["id"])] {
        let d = cloud.call(Method::DELETE, &format!("{base}/{cred}"), Some(&carol_token), None).await;
        assert_eq!(d.status, StatusCode::NO_CONTENT);
    }
    let still = cloud.call(Method::GET, &rules_path, Some(&carol_token), None).await;
    assert_eq!(still.body["access_rules"].as_array().unwrap().len(), 1);
    let del = cloud.call(Method::DELETE, &format!("{rules_path}/{rule_id}"), Some(&carol_token), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let empty = cloud.call(Method::GET, &rules_path, Some(&carol_token), None).await;
    assert_eq!(empty.body["access_rules"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn registered_limits_and_limits() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (_, project_a, token_a) = cloud.member(&admin, "erin").await;
    let (_, project_b, _) = cloud.member(&admin, "frank").await;
    let compute = s(&cloud.call(Method::GET, "/v3/services?type=compute", Some(&admin), None).await.body["services"][0]["id"]);

    let model = cloud.call(Method::GET, "/v3/limits/model", Some(&token_a), None).await;
    assert_eq!(model.status, StatusCode::OK);
    assert_eq!(model.body["model"]["name"], "flat");

    // registered limits
    let batch = json!({"registered_limits": [
        {"service_id": compute, "resource_name": "cores", "default_limit": 10, "region_id": "RegionOne"},
        {"service_id": compute, "resource_name": "instances", "default_limit": 5, "description": "VMs"},
    ]});
    let r = cloud.call(Method::POST, "/v3/registered_limits", Some(&admin), Some(batch.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["registered_limits"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["registered_limits"][0]["region_id"], "RegionOne");
    let cores = s(&r.body["registered_limits"][0]["id"]);
    let instances = s(&r.body["registered_limits"][1]["id"]);
    let dup = cloud.call(Method::POST, "/v3/registered_limits", Some(&admin), Some(batch)).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    for bad in [
        json!({"registered_limits": []}),
        json!({"registered_limits": [{"service_id": "missing", "resource_name": "x", "default_limit": 1}]}),
        json!({"registered_limits": [{"service_id": compute, "resource_name": "x", "default_limit": 1, "region_id": "nowhere"}]}),
        json!({"registered_limits": [{"service_id": compute, "resource_name": "x", "default_limit": -2}]}),
        json!({"registered_limits": [{"service_id": compute, "resource_name": "x"}]}),
        json!({"registered_limits": [{"service_id": compute, "resource_name": "x", "default_limit": 1, "extra": 1}]}),
    ] {
        let r = cloud.call(Method::POST, "/v3/registered_limits", Some(&admin), Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
    let same_batch = json!({"registered_limits": [
        {"service_id": compute, "resource_name": "ram", "default_limit": 1},
        {"service_id": compute, "resource_name": "ram", "default_limit": 2},
    ]});
    let r = cloud.call(Method::POST, "/v3/registered_limits", Some(&admin), Some(same_batch)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let all = cloud.call(Method::GET, "/v3/registered_limits", Some(&token_a), None).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body["registered_limits"].as_array().unwrap().len(), 2, "the failed batch left nothing");
    let filtered = cloud.call(Method::GET, "/v3/registered_limits?resource_name=cores", Some(&token_a), None).await;
    assert_eq!(filtered.body["registered_limits"].as_array().unwrap().len(), 1);
    let one = cloud.call(Method::GET, &format!("/v3/registered_limits/{instances}"), Some(&token_a), None).await;
    assert_eq!(one.body["registered_limit"]["default_limit"], 5);
    let upd = cloud.call(Method::PATCH, &format!("/v3/registered_limits/{instances}"), Some(&admin), Some(json!({"registered_limit": {"default_limit": 7}}))).await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    assert_eq!(upd.body["registered_limit"]["default_limit"], 7);
    assert_eq!(upd.body["registered_limit"]["description"], "VMs");
    let clash = cloud.call(Method::PATCH, &format!("/v3/registered_limits/{instances}"), Some(&admin), Some(json!({"registered_limit": {"resource_name": "cores", "region_id": "RegionOne"}}))).await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    let by_member = cloud.call(Method::PATCH, &format!("/v3/registered_limits/{instances}"), Some(&token_a), Some(json!({"registered_limit": {"default_limit": 99}}))).await;
    assert_eq!(by_member.status, StatusCode::FORBIDDEN);
    let missing = cloud.call(Method::GET, "/v3/registered_limits/nope", Some(&admin), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // limits
    let limits = json!({"limits": [
        {"project_id": project_a, "service_id": compute, "resource_name": "instances", "resource_limit": 20},
        {"project_id": project_b, "service_id": compute, "resource_name": "cores", "region_id": "RegionOne", "resource_limit": 40},
        {"domain_id": "default", "service_id": compute, "resource_name": "instances", "resource_limit": 100},
    ]});
    let r = cloud.call(Method::POST, "/v3/limits", Some(&admin), Some(limits.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["limits"].as_array().unwrap().len(), 3);
    assert!(r.body.get("links").is_none());
    let limit_a = s(&r.body["limits"][0]["id"]);
    let limit_b = s(&r.body["limits"][1]["id"]);
    assert_eq!(r.body["limits"][2]["domain_id"], "default");
    assert_eq!(r.body["limits"][2]["project_id"], Value::Null);
    let dup = cloud.call(Method::POST, "/v3/limits", Some(&admin), Some(json!({"limits": [limits["limits"][0]]}))).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let unregistered = cloud.call(Method::POST, "/v3/limits", Some(&admin), Some(json!({"limits": [{"project_id": project_a, "service_id": compute, "resource_name": "gpus", "resource_limit": 1}]}))).await;
    assert_eq!(unregistered.status, StatusCode::FORBIDDEN, "{}", unregistered.body);
    for bad in [
        json!({"limits": [{"service_id": compute, "resource_name": "instances", "resource_limit": 1}]}),
        json!({"limits": [{"project_id": project_a, "domain_id": "default", "service_id": compute, "resource_name": "instances", "resource_limit": 1}]}),
        json!({"limits": [{"project_id": "no-such-project", "service_id": compute, "resource_name": "instances", "resource_limit": 1}]}),
        json!({"limits": [{"project_id": project_a, "service_id": compute, "resource_name": "instances", "resource_limit": "1"}]}),
    ] {
        let r = cloud.call(Method::POST, "/v3/limits", Some(&admin), Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
    let member_create = cloud.call(Method::POST, "/v3/limits", Some(&token_a), Some(json!({"limits": [{"project_id": project_a, "service_id": compute, "resource_name": "cores", "region_id": "RegionOne", "resource_limit": 1000}]}))).await;
    assert_eq!(member_create.status, StatusCode::FORBIDDEN);

    // visibility: admins see all, members their project's only
    let admin_list = cloud.call(Method::GET, "/v3/limits", Some(&admin), None).await;
    assert_eq!(admin_list.body["limits"].as_array().unwrap().len(), 3);
    let filtered = cloud.call(Method::GET, &format!("/v3/limits?project_id={project_b}"), Some(&admin), None).await;
    assert_eq!(filtered.body["limits"].as_array().unwrap().len(), 1);
    let mine = cloud.call(Method::GET, "/v3/limits", Some(&token_a), None).await;
    assert_eq!(mine.status, StatusCode::OK);
    let ids: Vec<&str> = mine.body["limits"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![limit_a.as_str()]);
    let snoop = cloud.call(Method::GET, &format!("/v3/limits?project_id={project_b}"), Some(&token_a), None).await;
    assert_eq!(snoop.body["limits"].as_array().unwrap().len(), 0);
    let own = cloud.call(Method::GET, &format!("/v3/limits/{limit_a}"), Some(&token_a), None).await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.body["limit"]["resource_limit"], 20);
    let other = cloud.call(Method::GET, &format!("/v3/limits/{limit_b}"), Some(&token_a), None).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let missing = cloud.call(Method::GET, "/v3/limits/nope", Some(&admin), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // updates
    let upd = cloud.call(Method::PATCH, &format!("/v3/limits/{limit_a}"), Some(&admin), Some(json!({"limit": {"resource_limit": 25, "description": "raised"}}))).await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    assert_eq!(upd.body["limit"]["resource_limit"], 25);
    assert_eq!(upd.body["limit"]["description"], "raised");
    let no_move = cloud.call(Method::PATCH, &format!("/v3/limits/{limit_a}"), Some(&admin), Some(json!({"limit": {"project_id": project_b}}))).await;
    assert_eq!(no_move.status, StatusCode::BAD_REQUEST);
    let member_upd = cloud.call(Method::PATCH, &format!("/v3/limits/{limit_a}"), Some(&token_a), Some(json!({"limit": {"resource_limit": 999}}))).await;
    assert_eq!(member_upd.status, StatusCode::FORBIDDEN);
    let member_del = cloud.call(Method::DELETE, &format!("/v3/limits/{limit_a}"), Some(&token_a), None).await;
    assert_eq!(member_del.status, StatusCode::FORBIDDEN);

    // a registered limit with limits cannot change or go
    let locked = cloud.call(Method::PATCH, &format!("/v3/registered_limits/{cores}"), Some(&admin), Some(json!({"registered_limit": {"default_limit": 1}}))).await;
    assert_eq!(locked.status, StatusCode::FORBIDDEN);
    let locked = cloud.call(Method::DELETE, &format!("/v3/registered_limits/{cores}"), Some(&admin), None).await;
    assert_eq!(locked.status, StatusCode::FORBIDDEN);
    let del = cloud.call(Method::DELETE, &format!("/v3/limits/{limit_b}"), Some(&admin), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let again = cloud.call(Method::DELETE, &format!("/v3/limits/{limit_b}"), Some(&admin), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let freed = cloud.call(Method::DELETE, &format!("/v3/registered_limits/{cores}"), Some(&admin), None).await;
    assert_eq!(freed.status, StatusCode::NO_CONTENT);
    let member_del = cloud.call(Method::DELETE, &format!("/v3/registered_limits/{instances}"), Some(&token_a), None).await;
    assert_eq!(member_del.status, StatusCode::FORBIDDEN);
}
