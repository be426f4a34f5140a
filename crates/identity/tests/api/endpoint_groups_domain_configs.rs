//! OS-EP-FILTER (endpoint groups, project ↔ endpoint-group and project ↔ endpoint
//! associations) and domain-specific configuration.


use http::{Method, StatusCode};
use serde_json::{json, Value};
use crate::support::TestCloud;

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).to_string()
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array().unwrap_or_else(|| panic!("not a list: {v}")).iter().map(|e| s(&e["id"])).collect()
}

async fn new_service(cloud: &TestCloud, admin: &str, service_type: &str) -> String {
    let r = cloud.call(Method::POST, "/v3/services", Some(admin), Some(json!({"service": {"type": service_type, "name": service_type}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    s(&r.body["service"]["id"])
}

async fn new_endpoint(cloud: &TestCloud, admin: &str, service_id: &str, interface: &str) -> String {
    let body = json!({"endpoint": {"service_id": service_id, "interface": interface, "url": format!("http://{interface}.example:5000")}});
    let r = cloud.call(Method::POST, "/v3/endpoints", Some(admin), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    s(&r.body["endpoint"]["id"])
}

async fn new_domain(cloud: &TestCloud, admin: &str, name: &str) -> String {
    let r = cloud.call(Method::POST, "/v3/domains", Some(admin), Some(json!({"domain": {"name": name}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    s(&r.body["domain"]["id"])
}

const EG: &str = "/v3/OS-EP-FILTER/endpoint_groups";

#[tokio::test]
async fn endpoint_groups_crud_and_validation() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let svc = new_service(&cloud, &admin, "eg-one").await;
    let svc2 = new_service(&cloud, &admin, "eg-two").await;

    let r = cloud
        .call(Method::POST, EG, Some(&admin), Some(json!({"endpoint_group": {"name": "g1", "description": "first", "filters": {"service_id": svc}}})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let g = r.body["endpoint_group"].clone();
    let id = s(&g["id"]);
    assert_eq!(g["name"], "g1");
    assert_eq!(g["description"], "first");
    assert_eq!(g["filters"], json!({"service_id": svc}));
    assert!(s(&g["links"]["self"]).ends_with(&format!("{EG}/{id}")));

    let r2 = cloud.call(Method::POST, EG, Some(&admin), Some(json!({"endpoint_group": {"name": "g2", "filters": {"interface": "admin"}}}))).await;
    assert_eq!(r2.status, StatusCode::CREATED, "{}", r2.body);
    assert_eq!(r2.body["endpoint_group"]["description"], Value::Null);
    let id2 = s(&r2.body["endpoint_group"]["id"]);

    for bad in [
        json!({"endpoint_group": {"name": "x"}}),
        json!({"endpoint_group": {"name": "x", "filters": {}}}),
        json!({"endpoint_group": {"name": "x", "filters": {"url": "u"}}}),
        json!({"endpoint_group": {"name": "x", "filters": {"enabled": true}}}),
        json!({"endpoint_group": {"name": "x", "filters": {"interface": "private"}}}),
        json!({"endpoint_group": {"name": "x", "filters": {"service_id": 5}}}),
        json!({"endpoint_group": {"filters": {"interface": "public"}}}),
        json!({"endpoint_group": {"name": "", "filters": {"interface": "public"}}}),
        json!({"endpoint_group": {"name": "x", "filters": {"interface": "public"}, "color": "red"}}),
        json!({"endpoint_group": "x"}),
        json!({}),
    ] {
        let r = cloud.call(Method::POST, EG, Some(&admin), Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }

    let list = cloud.call(Method::GET, EG, Some(&admin), None).await;
    assert_eq!(list.status, StatusCode::OK);
    let listed = ids(&list.body["endpoint_groups"]);
    assert!(listed.contains(&id) && listed.contains(&id2));
    assert!(list.body["endpoint_groups"].as_array().unwrap().contains(&g), "list shows the same view as create");
    assert!(s(&list.body["links"]["self"]).ends_with(EG));
    let by_name = cloud.call(Method::GET, &format!("{EG}?name=g2"), Some(&admin), None).await;
    assert_eq!(ids(&by_name.body["endpoint_groups"]), vec![id2.clone()]);

    let shown = cloud.call(Method::GET, &format!("{EG}/{id}"), Some(&admin), None).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.body["endpoint_group"], g);
    let head = cloud.call(Method::HEAD, &format!("{EG}/{id}"), Some(&admin), None).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(cloud.call(Method::GET, &format!("{EG}/nope"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::HEAD, &format!("{EG}/nope"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);

    let upd = cloud
        .call(Method::PATCH, &format!("{EG}/{id}"), Some(&admin), Some(json!({"endpoint_group": {"name": "g1b", "description": "second", "filters": {"service_id": svc2}}})))
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    assert_eq!(upd.body["endpoint_group"]["name"], "g1b");
    assert_eq!(upd.body["endpoint_group"]["description"], "second");
    assert_eq!(upd.body["endpoint_group"]["filters"], json!({"service_id": svc2}));
    let partial = cloud.call(Method::PATCH, &format!("{EG}/{id}"), Some(&admin), Some(json!({"endpoint_group": {"description": null}}))).await;
    assert_eq!(partial.status, StatusCode::OK, "{}", partial.body);
    assert_eq!(partial.body["endpoint_group"]["name"], "g1b");
    assert_eq!(partial.body["endpoint_group"]["description"], Value::Null);
    for bad in [json!({"endpoint_group": {}}), json!({"endpoint_group": {"filters": {"url": "x"}}}), json!({"endpoint_group": {"id": "x"}})] {
        let r = cloud.call(Method::PATCH, &format!("{EG}/{id}"), Some(&admin), Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
    let missing = cloud.call(Method::PATCH, &format!("{EG}/nope"), Some(&admin), Some(json!({"endpoint_group": {"name": "z"}}))).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    assert_eq!(cloud.call(Method::DELETE, &format!("{EG}/{id}"), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::DELETE, &format!("{EG}/{id}"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    let after = cloud.call(Method::GET, EG, Some(&admin), None).await;
    assert!(!ids(&after.body["endpoint_groups"]).contains(&id));
}

#[tokio::test]
async fn endpoint_group_projects_and_endpoints() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (_, project, _) = cloud.member(&admin, "epf").await;
    let svc = new_service(&cloud, &admin, "epf-svc").await;
    let public = new_endpoint(&cloud, &admin, &svc, "public").await;
    let internal = new_endpoint(&cloud, &admin, &svc, "internal").await;
    let r = cloud
        .call(Method::POST, EG, Some(&admin), Some(json!({"endpoint_group": {"name": "pub", "filters": {"service_id": svc, "interface": "public"}}})))
        .await;
    let g = s(&r.body["endpoint_group"]["id"]);

    let eps = cloud.call(Method::GET, &format!("{EG}/{g}/endpoints"), Some(&admin), None).await;
    assert_eq!(eps.status, StatusCode::OK, "{}", eps.body);
    assert_eq!(ids(&eps.body["endpoints"]), vec![public.clone()]);
    assert_eq!(eps.body["endpoints"][0]["interface"], "public");
    assert_eq!(cloud.call(Method::GET, &format!("{EG}/nope/endpoints"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);

    let assoc = format!("{EG}/{g}/projects/{project}");
    assert_eq!(cloud.call(Method::GET, &assoc, Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::PUT, &assoc, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::PUT, &assoc, Some(&admin), None).await.status, StatusCode::CONFLICT);
    let shown = cloud.call(Method::GET, &assoc, Some(&admin), None).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.body["project_endpoint_group"]["endpoint_group_id"], json!(g));
    assert_eq!(shown.body["project_endpoint_group"]["project_id"], json!(project));
    assert!(s(&shown.body["project_endpoint_group"]["links"]["self"]).ends_with(&assoc));
    assert_eq!(cloud.call(Method::PUT, &format!("{EG}/{g}/projects/nope"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::PUT, &format!("{EG}/nope/projects/{project}"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);

    let projects = cloud.call(Method::GET, &format!("{EG}/{g}/projects"), Some(&admin), None).await;
    assert_eq!(projects.status, StatusCode::OK);
    assert_eq!(ids(&projects.body["projects"]), vec![project.clone()]);
    let groups = cloud.call(Method::GET, &format!("/v3/OS-EP-FILTER/projects/{project}/endpoint_groups"), Some(&admin), None).await;
    assert_eq!(groups.status, StatusCode::OK);
    assert_eq!(ids(&groups.body["endpoint_groups"]), vec![g.clone()]);
    let none = cloud.call(Method::GET, "/v3/OS-EP-FILTER/projects/nope/endpoint_groups", Some(&admin), None).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);

    // Project endpoints: direct associations plus the endpoints of the project's groups.
    let pe = format!("/v3/OS-EP-FILTER/projects/{project}/endpoints/{internal}");
    assert_eq!(cloud.call(Method::HEAD, &pe, Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::PUT, &pe, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::PUT, &pe, Some(&admin), None).await.status, StatusCode::CONFLICT);
    assert_eq!(cloud.call(Method::HEAD, &pe, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::GET, &pe, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    let bad_ep = format!("/v3/OS-EP-FILTER/projects/{project}/endpoints/nope");
    assert_eq!(cloud.call(Method::PUT, &bad_ep, Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    let bad_project = format!("/v3/OS-EP-FILTER/projects/nope/endpoints/{internal}");
    assert_eq!(cloud.call(Method::PUT, &bad_project, Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    let list = cloud.call(Method::GET, &format!("/v3/OS-EP-FILTER/projects/{project}/endpoints"), Some(&admin), None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let mut got = ids(&list.body["endpoints"]);
    got.sort();
    let mut want = vec![public.clone(), internal.clone()];
    want.sort();
    assert_eq!(got, want);
    let for_endpoint = cloud.call(Method::GET, &format!("/v3/OS-EP-FILTER/endpoints/{internal}/projects"), Some(&admin), None).await;
    assert_eq!(for_endpoint.status, StatusCode::OK);
    assert_eq!(ids(&for_endpoint.body["projects"]), vec![project.clone()]);
    let missing = cloud.call(Method::GET, "/v3/OS-EP-FILTER/endpoints/nope/projects", Some(&admin), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    assert_eq!(cloud.call(Method::DELETE, &pe, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::DELETE, &pe, Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::DELETE, &assoc, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::DELETE, &assoc, Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    let list = cloud.call(Method::GET, &format!("/v3/OS-EP-FILTER/projects/{project}/endpoints"), Some(&admin), None).await;
    assert!(ids(&list.body["endpoints"]).is_empty());

    // Deleting a group drops its associations; deleted endpoints vanish from listings.
    assert_eq!(cloud.call(Method::PUT, &assoc, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::PUT, &pe, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::DELETE, &format!("{EG}/{g}"), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    let groups = cloud.call(Method::GET, &format!("/v3/OS-EP-FILTER/projects/{project}/endpoint_groups"), Some(&admin), None).await;
    assert!(ids(&groups.body["endpoint_groups"]).is_empty());
    assert_eq!(cloud.call(Method::DELETE, &format!("/v3/endpoints/{internal}"), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    let list = cloud.call(Method::GET, &format!("/v3/OS-EP-FILTER/projects/{project}/endpoints"), Some(&admin), None).await;
    assert!(ids(&list.body["endpoints"]).is_empty(), "{}", list.body);
}

#[tokio::test]
async fn endpoint_filter_policy() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (_, project, member) = cloud.member(&admin, "epf-member").await;
    let svc = new_service(&cloud, &admin, "pol-svc").await;
    let ep = new_endpoint(&cloud, &admin, &svc, "public").await;
    let r = cloud.call(Method::POST, EG, Some(&admin), Some(json!({"endpoint_group": {"name": "p", "filters": {"service_id": svc}}}))).await;
    let g = s(&r.body["endpoint_group"]["id"]);
    let body = json!({"endpoint_group": {"name": "m", "filters": {"interface": "public"}}});
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::POST, EG.to_string(), Some(body.clone())),
        (Method::GET, EG.to_string(), None),
        (Method::GET, format!("{EG}/{g}"), None),
        (Method::PATCH, format!("{EG}/{g}"), Some(body)),
        (Method::DELETE, format!("{EG}/{g}"), None),
        (Method::GET, format!("{EG}/{g}/endpoints"), None),
        (Method::GET, format!("{EG}/{g}/projects"), None),
        (Method::PUT, format!("{EG}/{g}/projects/{project}"), None),
        (Method::GET, format!("{EG}/{g}/projects/{project}"), None),
        (Method::DELETE, format!("{EG}/{g}/projects/{project}"), None),
        (Method::GET, format!("/v3/OS-EP-FILTER/projects/{project}/endpoint_groups"), None),
        (Method::GET, format!("/v3/OS-EP-FILTER/projects/{project}/endpoints"), None),
        (Method::PUT, format!("/v3/OS-EP-FILTER/projects/{project}/endpoints/{ep}"), None),
        (Method::HEAD, format!("/v3/OS-EP-FILTER/projects/{project}/endpoints/{ep}"), None),
        (Method::DELETE, format!("/v3/OS-EP-FILTER/projects/{project}/endpoints/{ep}"), None),
        (Method::GET, format!("/v3/OS-EP-FILTER/endpoints/{ep}/projects"), None),
    ];
    for (method, path, body) in calls {
        let r = cloud.call(method.clone(), &path, Some(&member), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}: {}", r.body);
        let r = cloud.call(method.clone(), &path, None, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    // The group is untouched.
    assert_eq!(cloud.call(Method::GET, &format!("{EG}/{g}"), Some(&admin), None).await.status, StatusCode::OK);
}

fn custom_config() -> Value {
    json!({
        "identity": {"driver": "ldap"},
        "ldap": {"url": "ldap://myldap.com:389/", "user_tree_dn": "ou=Users,dc=my_new_root,dc=org"}
    })
}

#[tokio::test]
async fn domain_config_create_show_update_delete() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let d = new_domain(&cloud, &admin, "configured").await;
    let base = format!("/v3/domains/{d}/config");

    assert_eq!(cloud.call(Method::GET, &base, Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    let r = cloud.call(Method::PUT, &base, Some(&admin), Some(json!({"config": custom_config()}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["config"], custom_config());
    let again = cloud.call(Method::PUT, &base, Some(&admin), Some(json!({"config": custom_config()}))).await;
    assert_eq!(again.status, StatusCode::OK, "replacing an existing config is a 200");
    assert_eq!(again.body["config"], custom_config());

    let shown = cloud.call(Method::GET, &base, Some(&admin), None).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.body["config"], custom_config());
    let group = cloud.call(Method::GET, &format!("{base}/ldap"), Some(&admin), None).await;
    assert_eq!(group.status, StatusCode::OK);
    assert_eq!(group.body["config"], json!({"ldap": custom_config()["ldap"]}));
    let option = cloud.call(Method::GET, &format!("{base}/ldap/url"), Some(&admin), None).await;
    assert_eq!(option.status, StatusCode::OK);
    assert_eq!(option.body["config"], json!({"url": "ldap://myldap.com:389/"}));
    assert_eq!(cloud.call(Method::HEAD, &format!("{base}/identity/driver"), Some(&admin), None).await.status, StatusCode::OK);
    assert_eq!(cloud.call(Method::GET, &format!("{base}/ldap/suffix"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::GET, &format!("{base}/ldap/bogus"), Some(&admin), None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(cloud.call(Method::GET, &format!("{base}/oslo"), Some(&admin), None).await.status, StatusCode::FORBIDDEN);

    // Whole-config merge.
    let mut new_config = custom_config();
    new_config["ldap"]["url"] = json!("http://changed.example");
    let upd = cloud.call(Method::PATCH, &base, Some(&admin), Some(json!({"config": new_config}))).await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    assert_eq!(upd.body["config"], new_config);
    assert_eq!(cloud.call(Method::GET, &base, Some(&admin), None).await.body["config"], new_config);

    // Group and option updates; the value keeps its JSON type.
    let upd = cloud
        .call(Method::PATCH, &format!("{base}/identity"), Some(&admin), Some(json!({"config": {"identity": {"driver": "d2", "list_limit": 42}}})))
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    assert_eq!(upd.body["config"]["identity"], json!({"driver": "d2", "list_limit": 42}));
    assert_eq!(upd.body["config"]["ldap"], new_config["ldap"], "the response is the whole config");
    let upd = cloud.call(Method::PATCH, &format!("{base}/identity/driver"), Some(&admin), Some(json!({"config": {"driver": "d3"}}))).await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    assert_eq!(upd.body["config"]["identity"]["driver"], "d3");
    for (path, body) in [
        (format!("{base}/identity"), json!({"config": {"ldap": {"url": "x"}}})),
        (format!("{base}/identity"), json!({"config": {"identity": {"driver": "x"}, "ldap": {"url": "x"}}})),
        (format!("{base}/identity/driver"), json!({"config": {"list_limit": 3}})),
        (format!("{base}/identity/driver"), json!({"config": {"driver": "a", "list_limit": 3}})),
        (base.clone(), json!({"config": {}})),
        (base.clone(), json!({"config": {"ldap": {}}})),
        (base.clone(), json!({"config": {"ldap": {"unknown": 1}}})),
        (base.clone(), json!({"other": 1})),
    ] {
        let r = cloud.call(Method::PATCH, &path, Some(&admin), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} {body}: {}", r.body);
    }
    // Updating a group or option that is not set yet is a 404.
    let r = cloud.call(Method::PATCH, &format!("{base}/ldap/suffix"), Some(&admin), Some(json!({"config": {"suffix": "dc=x"}}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // Deletes: option, group, whole.
    assert_eq!(cloud.call(Method::DELETE, &format!("{base}/identity/driver"), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::GET, &format!("{base}/identity/driver"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::DELETE, &format!("{base}/identity/driver"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::DELETE, &format!("{base}/identity"), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::GET, &format!("{base}/identity"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::DELETE, &format!("{base}/identity"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::DELETE, &base, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::GET, &base, Some(&admin), None).await.status, StatusCode::NOT_FOUND);

    // Invalid configs are refused whole.
    for bad in [json!({}), json!({"config": {}}), json!({"config": {"oslo": {"x": 1}}}), json!({"config": {"identity": "sql"}})] {
        let r = cloud.call(Method::PUT, &base, Some(&admin), Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{bad}: {}", r.body);
    }
    assert_eq!(cloud.call(Method::GET, &base, Some(&admin), None).await.status, StatusCode::NOT_FOUND);

    // Unknown domains.
    let r = cloud.call(Method::PUT, "/v3/domains/nope/config", Some(&admin), Some(json!({"config": custom_config()}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::GET, "/v3/domains/nope/config", Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::DELETE, "/v3/domains/nope/config", Some(&admin), None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn domain_config_sensitive_options_are_never_shown() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let d = new_domain(&cloud, &admin, "secretive").await;
    let base = format!("/v3/domains/{d}/config");
    let r = cloud.call(Method::PUT, &base, Some(&admin), Some(json!({"config": {"ldap": {"url": "ldap://x", "password": "hunter2"}}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["config"], json!({"ldap": {"url": "ldap://x"}}));
    assert_eq!(cloud.call(Method::GET, &base, Some(&admin), None).await.body["config"], json!({"ldap": {"url": "ldap://x"}}));
    assert_eq!(cloud.call(Method::GET, &format!("{base}/ldap/password"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    // It is stored, though: it can be updated and deleted.
    let upd = cloud.call(Method::PATCH, &format!("{base}/ldap/password"), Some(&admin), Some(json!({"config": {"password": "new"}}))).await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    assert!(!upd.body.to_string().contains("new\""), "{}", upd.body);
    assert_eq!(cloud.call(Method::DELETE, &format!("{base}/ldap/password"), Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    let stored = monostack_identity::store::domain_configs::list(&cloud.identity, &d, Some("ldap"), Some("password")).await.expect("db");
    assert!(stored.is_empty());
    // A config of only a sensitive option is "existing" for PUT (200) but shows nothing.
    let r = cloud.call(Method::PUT, &base, Some(&admin), Some(json!({"config": {"ldap": {"password": "p"}}}))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["config"], json!({}));
    let r = cloud.call(Method::PUT, &base, Some(&admin), Some(json!({"config": {"identity": {"driver": "ldap"}}}))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["config"], json!({"identity": {"driver": "ldap"}}), "PUT replaces the whole config");
}

#[tokio::test]
async fn domain_config_defaults_and_routing() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let all = cloud.call(Method::GET, "/v3/domains/config/default", Some(&admin), None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(all.body["config"]["identity"], json!({"driver": "sql", "list_limit": null}));
    assert_eq!(all.body["config"]["ldap"]["url"], "ldap://localhost");
    assert!(all.body["config"]["ldap"].get("password").is_none());
    let ldap = cloud.call(Method::GET, "/v3/domains/config/ldap/default", Some(&admin), None).await;
    assert_eq!(ldap.status, StatusCode::OK);
    let options: Vec<String> = ldap.body["config"]["ldap"].as_object().unwrap().keys().cloned().collect();
    assert!(options.len() > 40);
    for o in options {
        let r = cloud.call(Method::GET, &format!("/v3/domains/config/ldap/{o}/default"), Some(&admin), None).await;
        assert_eq!(r.status, StatusCode::OK, "{o}");
        assert!(r.body["config"].get(&o).is_some(), "{o}: {}", r.body);
    }
    let driver = cloud.call(Method::GET, "/v3/domains/config/identity/driver/default", Some(&admin), None).await;
    assert_eq!(driver.body["config"], json!({"driver": "sql"}));
    assert_eq!(cloud.call(Method::HEAD, "/v3/domains/config/identity/default", Some(&admin), None).await.status, StatusCode::OK);
    for bad in ["/v3/domains/config/ldap/password/default", "/v3/domains/config/oslo/default", "/v3/domains/config/ldap/nope/default"] {
        assert_eq!(cloud.call(Method::GET, bad, Some(&admin), None).await.status, StatusCode::FORBIDDEN, "{bad}");
    }

    // Domain ids resembling the static "config" segment still route to the domain.
    for id in ["conf1", "config2", "c0ffee"] {
        let r = cloud.call(Method::POST, "/v3/domains", Some(&admin), Some(json!({"domain": {"name": id, "explicit_domain_id": id}}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let shown = cloud.call(Method::GET, &format!("/v3/domains/{id}"), Some(&admin), None).await;
        assert_eq!(shown.status, StatusCode::OK, "{id}");
        let put = cloud.call(Method::PUT, &format!("/v3/domains/{id}/config"), Some(&admin), Some(json!({"config": custom_config()}))).await;
        assert_eq!(put.status, StatusCode::CREATED, "{id}: {}", put.body);
        let opt = cloud.call(Method::GET, &format!("/v3/domains/{id}/config/ldap/url"), Some(&admin), None).await;
        assert_eq!(opt.status, StatusCode::OK, "{id}");
    }

    // The security_compliance group of the default domain is readable by anyone.
    let (_, _, member) = cloud.member(&admin, "dc-member").await;
    let sc = cloud.call(Method::GET, "/v3/domains/default/config/security_compliance", Some(&member), None).await;
    assert_eq!(sc.status, StatusCode::OK, "{}", sc.body);
    assert!(sc.body["config"]["security_compliance"].get("password_regex").is_some());
    let one = cloud.call(Method::GET, "/v3/domains/default/config/security_compliance/password_regex", Some(&member), None).await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(one.body["config"].get("password_regex").is_some());
    let other = cloud.call(Method::GET, "/v3/domains/default/config/security_compliance/lockout_duration", Some(&member), None).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let other_domain = cloud.call(Method::GET, "/v3/domains/conf1/config/security_compliance", Some(&member), None).await;
    assert_eq!(other_domain.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn domain_config_policy() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let d = new_domain(&cloud, &admin, "guarded").await;
    let base = format!("/v3/domains/{d}/config");
    assert_eq!(cloud.call(Method::PUT, &base, Some(&admin), Some(json!({"config": custom_config()}))).await.status, StatusCode::CREATED);
    let (_, _, member) = cloud.member(&admin, "dc-guarded").await;
    let body = Some(json!({"config": custom_config()}));
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::PUT, base.clone(), body.clone()),
        (Method::GET, base.clone(), None),
        (Method::PATCH, base.clone(), body.clone()),
        (Method::DELETE, base.clone(), None),
        (Method::GET, format!("{base}/ldap"), None),
        (Method::PATCH, format!("{base}/ldap"), Some(json!({"config": {"ldap": {"url": "x"}}}))),
        (Method::DELETE, format!("{base}/ldap"), None),
        (Method::GET, format!("{base}/ldap/url"), None),
        (Method::PATCH, format!("{base}/ldap/url"), Some(json!({"config": {"url": "x"}}))),
        (Method::DELETE, format!("{base}/ldap/url"), None),
        // Unknown domains give a 403 too: their existence does not leak.
        (Method::GET, "/v3/domains/nope/config".to_string(), None),
        (Method::GET, "/v3/domains/config/default".to_string(), None),
        (Method::GET, "/v3/domains/config/ldap/default".to_string(), None),
        (Method::GET, "/v3/domains/config/ldap/url/default".to_string(), None),
    ];
    for (method, path, body) in calls {
        let r = cloud.call(method.clone(), &path, Some(&member), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}: {}", r.body);
        assert!(s(&r.body["error"]["message"]).contains("identity:"), "{}", r.body);
        let r = cloud.call(method.clone(), &path, None, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    // Nothing changed.
    let shown = cloud.call(Method::GET, &base, Some(&admin), None).await;
    assert_eq!(shown.body["config"], custom_config());
}
