//! Resource providers: creation in each version's shape, trees, re-parenting, filters and
//! deletion rules.

use crate::{uuid, Cloud, LATEST};
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn create_show_list_update_delete() {
    let c = Cloud::start().await;
    // 1.0: 201, no body, a location.
    let id = uuid();
    let r = c.call(Method::POST, "/resource_providers", "1.0", Some(json!({"name": "cn1", "uuid": id}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.headers["location"], format!("/resource_providers/{id}").as_str());
    // 1.20+: 200 with the provider.
    let r = c.call(Method::POST, "/resource_providers", "1.20", Some(json!({"name": "cn2"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["generation"], 0);
    assert_eq!(r.body["root_provider_uuid"], r.body["uuid"]);
    assert!(r.headers.contains_key("last-modified"));
    assert_eq!(r.headers["cache-control"], "no-cache");

    let dup = c.call(Method::POST, "/resource_providers", LATEST, Some(json!({"name": "cn1"}))).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.code(), "placement.duplicate_name");
    assert!(dup.detail().contains("name: cn1"), "{}", dup.body);
    let dup = c.call(Method::POST, "/resource_providers", LATEST, Some(json!({"name": "other", "uuid": id}))).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let bad = c.call(Method::POST, "/resource_providers", LATEST, Some(json!({"name": "x", "bogus": 1}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let long = c.call(Method::POST, "/resource_providers", LATEST, Some(json!({"name": "x".repeat(201)}))).await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    let old = c.call(Method::POST, "/resource_providers", "1.13", Some(json!({"name": "x", "parent_provider_uuid": id}))).await;
    assert_eq!(old.status, StatusCode::BAD_REQUEST, "parents need 1.14");

    let shown = c.call(Method::GET, &format!("/resource_providers/{id}"), "1.0", None).await;
    assert_eq!(shown.body["name"], "cn1");
    assert!(shown.body.get("root_provider_uuid").is_none(), "tree fields from 1.14");
    let links: Vec<&str> = shown.body["links"].as_array().unwrap().iter().map(|l| l["rel"].as_str().unwrap()).collect();
    assert_eq!(links, vec!["self", "inventories", "usages"]);
    let shown = c.get(&format!("/resource_providers/{id}")).await;
    assert_eq!(shown.body["links"].as_array().unwrap().len(), 6);

    let list = c.get("/resource_providers?name=cn2").await;
    assert_eq!(list.body["resource_providers"].as_array().unwrap().len(), 1);
    let list = c.get(&format!("/resource_providers?uuid={id}")).await;
    assert_eq!(list.body["resource_providers"][0]["name"], "cn1");
    let bad = c.get("/resource_providers?bogus=1").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let r = c.call(Method::PUT, &format!("/resource_providers/{id}"), LATEST, Some(json!({"name": "cn1-renamed"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], "cn1-renamed");
    let clash = c.call(Method::PUT, &format!("/resource_providers/{id}"), LATEST, Some(json!({"name": "cn2"}))).await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    assert_eq!(clash.code(), "placement.duplicate_name");

    assert_eq!(c.call(Method::DELETE, &format!("/resource_providers/{id}"), LATEST, None).await.status, StatusCode::NO_CONTENT);
    let gone = c.get(&format!("/resource_providers/{id}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone.detail().contains(&id));
    assert_eq!(c.call(Method::DELETE, &format!("/resource_providers/{id}"), LATEST, None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn trees_reparenting_and_deletion_rules() {
    let c = Cloud::start().await;
    let root = c.provider("host", None).await;
    let numa0 = c.provider("host-numa0", Some(&root)).await;
    let pf = c.provider("host-numa0-pf", Some(&numa0)).await;
    let other = c.provider("other", None).await;
    let shown = c.get(&format!("/resource_providers/{pf}")).await;
    assert_eq!(shown.body["parent_provider_uuid"], numa0.as_str());
    assert_eq!(shown.body["root_provider_uuid"], root.as_str());
    let tree = c.get(&format!("/resource_providers?in_tree={pf}")).await;
    assert_eq!(tree.body["resource_providers"].as_array().unwrap().len(), 3);
    let none = c.get(&format!("/resource_providers?in_tree={}", uuid())).await;
    assert_eq!(none.body["resource_providers"].as_array().unwrap().len(), 0);
    let missing_parent = c.call(Method::POST, "/resource_providers", LATEST, Some(json!({"name": "orphan", "parent_provider_uuid": uuid()}))).await;
    assert_eq!(missing_parent.status, StatusCode::BAD_REQUEST);
    assert!(missing_parent.detail().contains("parent provider UUID does not exist"));

    // Before 1.37 a provider keeps its parent.
    let moved = c.call(Method::PUT, &format!("/resource_providers/{numa0}"), "1.36", Some(json!({"name": "host-numa0", "parent_provider_uuid": other}))).await;
    assert_eq!(moved.status, StatusCode::BAD_REQUEST);
    assert!(moved.detail().contains("re-parenting a provider is not currently allowed"));
    // A loop is never allowed.
    let looped = c.call(Method::PUT, &format!("/resource_providers/{numa0}"), LATEST, Some(json!({"name": "host-numa0", "parent_provider_uuid": pf}))).await;
    assert_eq!(looped.status, StatusCode::BAD_REQUEST);
    assert!(looped.detail().contains("loop"));
    // 1.37 moves the whole subtree.
    let moved = c.call(Method::PUT, &format!("/resource_providers/{numa0}"), LATEST, Some(json!({"name": "host-numa0", "parent_provider_uuid": other}))).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(c.get(&format!("/resource_providers/{pf}")).await.body["root_provider_uuid"], other.as_str());
    let unparented = c.call(Method::PUT, &format!("/resource_providers/{numa0}"), LATEST, Some(json!({"name": "host-numa0", "parent_provider_uuid": null}))).await;
    assert_eq!(unparented.status, StatusCode::OK);
    assert_eq!(c.get(&format!("/resource_providers/{pf}")).await.body["root_provider_uuid"], numa0.as_str());
    // A root may get a parent at 1.14.
    let adopted = c.call(Method::PUT, &format!("/resource_providers/{numa0}"), "1.14", Some(json!({"name": "host-numa0", "parent_provider_uuid": root}))).await;
    assert_eq!(adopted.status, StatusCode::OK);

    let parent = c.call(Method::DELETE, &format!("/resource_providers/{numa0}"), LATEST, None).await;
    assert_eq!(parent.status, StatusCode::CONFLICT);
    assert_eq!(parent.code(), "placement.resource_provider.cannot_delete_parent");
    c.inventory(&pf, json!({"SRIOV_NET_VF": {"total": 4}})).await;
    assert_eq!(c.allocate(&uuid(), json!({pf.clone(): {"resources": {"SRIOV_NET_VF": 1}}}), None).await.status, StatusCode::NO_CONTENT);
    let in_use = c.call(Method::DELETE, &format!("/resource_providers/{pf}"), LATEST, None).await;
    assert_eq!(in_use.status, StatusCode::CONFLICT);
    assert_eq!(in_use.code(), "placement.resource_provider.inuse");
}

#[tokio::test]
async fn list_filters_resources_traits_aggregates() {
    let c = Cloud::start().await;
    let big = c.provider("big", None).await;
    let small = c.provider("small", None).await;
    c.inventory(&big, json!({"VCPU": {"total": 16}, "MEMORY_MB": {"total": 4096, "max_unit": 2048}})).await;
    c.inventory(&small, json!({"VCPU": {"total": 2}, "MEMORY_MB": {"total": 1024, "step_size": 256}})).await;
    c.traits(&big, &["HW_CPU_X86_AVX2"]).await;
    let agg = uuid();
    c.aggregates(&small, &[&agg]).await;
    let names = |r: &crate::Resp| -> Vec<String> {
        let mut v: Vec<String> = r.body["resource_providers"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(names(&c.get("/resource_providers?resources=VCPU:4").await), vec!["big"]);
    assert_eq!(names(&c.get("/resource_providers?resources=MEMORY_MB:3000").await), Vec::<String>::new(), "max_unit");
    assert_eq!(names(&c.get("/resource_providers?resources=MEMORY_MB:300").await), vec!["big"], "step_size");
    assert_eq!(names(&c.get("/resource_providers?resources=MEMORY_MB:512").await), vec!["big", "small"]);
    assert_eq!(names(&c.get("/resource_providers?required=HW_CPU_X86_AVX2").await), vec!["big"]);
    assert_eq!(names(&c.get("/resource_providers?required=!HW_CPU_X86_AVX2").await), vec!["small"]);
    assert_eq!(names(&c.get("/resource_providers?required=in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE").await), vec!["big"]);
    assert_eq!(names(&c.get(&format!("/resource_providers?member_of={agg}")).await), vec!["small"]);
    assert_eq!(names(&c.get(&format!("/resource_providers?member_of=!{agg}")).await), vec!["big"]);
    assert_eq!(c.get("/resource_providers?resources=CUSTOM_NOPE:1").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.get("/resource_providers?required=CUSTOM_NOPE").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.call(Method::GET, "/resource_providers?required=HW_CPU_X86_AVX2", "1.17", None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.call(Method::GET, "/resource_providers?required=in:A,B", "1.38", None).await.status, StatusCode::BAD_REQUEST);
}
