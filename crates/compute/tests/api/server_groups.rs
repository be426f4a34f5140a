//! Server groups: policies across microversions, visibility, quotas and members.

use crate::quotas::insert_instance;
use crate::support::Cloud;
use http::{Method, StatusCode};
use monostack_compute::db::server_groups as group_db;
use serde_json::json;

#[tokio::test]
async fn create_show_list_delete_across_versions() {
    let cloud = Cloud::start().await;
    let (user, project, token) = cloud.member("gus").await;
    let old = cloud.call(Method::POST, "/v2.1/os-server-groups", &token, Some(json!({"server_group": {"name": "web", "policies": ["anti-affinity"]}}))).await;
    assert_eq!(old.status, StatusCode::OK, "{}", old.body);
    let g = &old.body["server_group"];
    assert_eq!((g["policies"].clone(), g["metadata"].clone(), g["members"].clone()), (json!(["anti-affinity"]), json!({}), json!([])));
    assert!(g.get("project_id").is_none() && g.get("policy").is_none());
    let id = g["id"].as_str().unwrap_or_default().to_string();

    let v213 = cloud.call_at(Some("2.13"), Method::GET, &format!("/v2.1/os-server-groups/{id}"), &token, None).await;
    assert_eq!((v213.body["server_group"]["project_id"].as_str(), v213.body["server_group"]["user_id"].as_str()), (Some(project.as_str()), Some(user.as_str())));
    let v264 = cloud.call_at(Some("2.64"), Method::GET, &format!("/v2.1/os-server-groups/{id}"), &token, None).await;
    assert_eq!((v264.body["server_group"]["policy"].clone(), v264.body["server_group"]["rules"].clone()), (json!("anti-affinity"), json!({})));
    assert!(v264.body["server_group"].get("policies").is_none());

    let soft_early = cloud.call_at(Some("2.14"), Method::POST, "/v2.1/os-server-groups", &token, Some(json!({"server_group": {"name": "s", "policies": ["soft-affinity"]}}))).await;
    assert_eq!(soft_early.status, StatusCode::BAD_REQUEST);
    let soft = cloud.call_at(Some("2.15"), Method::POST, "/v2.1/os-server-groups", &token, Some(json!({"server_group": {"name": "s", "policies": ["soft-affinity"]}}))).await;
    assert_eq!(soft.status, StatusCode::OK);
    let rules = cloud
        .call_at(Some("2.64"), Method::POST, "/v2.1/os-server-groups", &token, Some(json!({"server_group": {"name": "r", "policy": "anti-affinity", "rules": {"max_server_per_host": 3}}})))
        .await;
    assert_eq!(rules.status, StatusCode::OK, "{}", rules.body);
    assert_eq!(rules.body["server_group"]["rules"], json!({"max_server_per_host": 3}));
    let wrong_rules = cloud
        .call_at(Some("2.64"), Method::POST, "/v2.1/os-server-groups", &token, Some(json!({"server_group": {"name": "r", "policy": "affinity", "rules": {"max_server_per_host": 3}}})))
        .await;
    assert_eq!(wrong_rules.body["badRequest"]["message"], "Only anti-affinity policy supports rules.");
    let old_field = cloud.call_at(Some("2.64"), Method::POST, "/v2.1/os-server-groups", &token, Some(json!({"server_group": {"name": "x", "policies": ["affinity"]}}))).await;
    assert_eq!(old_field.status, StatusCode::BAD_REQUEST);

    let listed = cloud.call(Method::GET, "/v2.1/os-server-groups", &token, None).await;
    assert_eq!(listed.body["server_groups"].as_array().map(Vec::len), Some(3));
    let limited = cloud.call(Method::GET, "/v2.1/os-server-groups?limit=1&offset=1", &token, None).await;
    assert_eq!(limited.body["server_groups"].as_array().map(Vec::len), Some(1));
    assert_eq!(limited.body["server_groups"][0]["name"], "s");

    let (_, _, other) = cloud.member("hal").await;
    let hidden = cloud.call(Method::GET, &format!("/v2.1/os-server-groups/{id}"), &other, None).await;
    assert_eq!(hidden.status, StatusCode::FORBIDDEN);
    let other_list = cloud.call(Method::GET, "/v2.1/os-server-groups?all_projects=1", &other, None).await;
    assert_eq!(other_list.body["server_groups"], json!([]), "all_projects is ignored for non-admins");
    let admin_all = cloud.call(Method::GET, "/v2.1/os-server-groups?all_projects=1", &cloud.admin, None).await;
    assert_eq!(admin_all.body["server_groups"].as_array().map(Vec::len), Some(3));
    let admin_own = cloud.call(Method::GET, "/v2.1/os-server-groups", &cloud.admin, None).await;
    assert_eq!(admin_own.body["server_groups"], json!([]));

    let not_theirs = cloud.call(Method::DELETE, &format!("/v2.1/os-server-groups/{id}"), &other, None).await;
    assert_eq!(not_theirs.status, StatusCode::FORBIDDEN);
    let deleted = cloud.call(Method::DELETE, &format!("/v2.1/os-server-groups/{id}"), &token, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = cloud.call(Method::GET, &format!("/v2.1/os-server-groups/{id}"), &token, None).await;
    assert_eq!(gone.body["itemNotFound"]["message"], format!("Instance group {id} could not be found."));
}

#[tokio::test]
async fn quotas_and_members() {
    let cloud = Cloud::start().await;
    let (user, project, token) = cloud.member("ivy").await;
    let set = cloud.call(Method::PUT, &format!("/v2.1/os-quota-sets/{project}"), &cloud.admin, Some(json!({"quota_set": {"server_groups": 1, "server_group_members": 2}}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let first = cloud.call(Method::POST, "/v2.1/os-server-groups", &token, Some(json!({"server_group": {"name": "a", "policies": ["affinity"]}}))).await;
    assert_eq!(first.status, StatusCode::OK);
    let second = cloud.call(Method::POST, "/v2.1/os-server-groups", &token, Some(json!({"server_group": {"name": "b", "policies": ["affinity"]}}))).await;
    assert_eq!(second.status, StatusCode::FORBIDDEN);
    assert_eq!(second.body["forbidden"]["message"], "Quota exceeded, too many server groups.");
    let limits = cloud.call(Method::GET, "/v2.1/limits", &token, None).await;
    assert_eq!(limits.body["limits"]["absolute"]["totalServerGroupsUsed"], 1);

    let group = first.body["server_group"]["id"].as_str().unwrap_or_default().to_string();
    let svc = &cloud.compute;
    let a = insert_instance(svc, &project, &user, 1, 64, None).await;
    let b = insert_instance(svc, &project, &user, 1, 64, None).await;
    let c = insert_instance(svc, &project, &user, 1, 64, None).await;
    group_db::add_members(svc, &group, &[a.clone(), b.clone()], &project, &user).await.expect("two fit");
    let third = group_db::add_members(svc, &group, std::slice::from_ref(&c), &project, &user).await.err().map(|e| (e.status, e.message));
    assert_eq!(third, Some((StatusCode::FORBIDDEN, "Quota exceeded, too many servers in group".to_string())));
    let shown = cloud.call(Method::GET, &format!("/v2.1/os-server-groups/{group}"), &token, None).await;
    let mut members: Vec<String> = shown.body["server_group"]["members"].as_array().map(|m| m.iter().filter_map(|v| v.as_str().map(String::from)).collect()).unwrap_or_default();
    members.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(members, expected);

    // Deleted servers leave the view and free their place.
    sqlx::query(&svc.db.sql("UPDATE instances SET deleted = id WHERE uuid = ?")).bind(a.clone()).execute(&svc.db.pool).await.expect("delete");
    let after = cloud.call(Method::GET, &format!("/v2.1/os-server-groups/{group}"), &token, None).await;
    assert_eq!(after.body["server_group"]["members"], json!([b]));
    group_db::add_members(svc, &group, std::slice::from_ref(&c), &project, &user).await.expect("a place was freed");
    assert_eq!(group_db::of_instance(&svc.db, &c).await.expect("db").map(|g| g.uuid), Some(group.clone()));
    group_db::remove_instance(&svc.db, &c).await.expect("remove");
    assert!(group_db::of_instance(&svc.db, &c).await.expect("db").is_none());
}
