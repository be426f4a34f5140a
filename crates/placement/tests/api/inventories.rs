//! Inventories: generations, the capacity rules of each version, one-class operations and
//! inventory in use.

use crate::{uuid, Cloud, LATEST};
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn inventories_with_generations_and_defaults() {
    let c = Cloud::start().await;
    let rp = c.provider("cn", None).await;
    let path = format!("/resource_providers/{rp}/inventories");
    let r = c.call(Method::PUT, &path, LATEST, Some(json!({"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 8, "allocation_ratio": 16.0}, "DISK_GB": {"total": 100, "reserved": 10}}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["resource_provider_generation"], 1);
    assert_eq!(r.body["inventories"]["VCPU"], json!({"total": 8, "reserved": 0, "min_unit": 1, "max_unit": 2147483647, "step_size": 1, "allocation_ratio": 16.0}));
    let stale = c.call(Method::PUT, &path, LATEST, Some(json!({"resource_provider_generation": 0, "inventories": {}}))).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.code(), "placement.concurrent_update");
    let listed = c.get(&path).await;
    assert_eq!(listed.body["resource_provider_generation"], 1);
    assert_eq!(listed.body["inventories"]["DISK_GB"]["reserved"], 10);

    let one = c.get(&format!("{path}/VCPU")).await;
    assert_eq!(one.body["total"], 8);
    assert_eq!(one.body["resource_provider_generation"], 1);
    assert_eq!(c.get(&format!("{path}/MEMORY_MB")).await.status, StatusCode::NOT_FOUND);

    let r = c.call(Method::POST, &path, LATEST, Some(json!({"resource_class": "MEMORY_MB", "total": 2048}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["resource_provider_generation"], 2);
    let again = c.call(Method::POST, &path, LATEST, Some(json!({"resource_class": "MEMORY_MB", "total": 2048}))).await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    let r = c.call(Method::PUT, &format!("{path}/MEMORY_MB"), LATEST, Some(json!({"resource_provider_generation": 2, "total": 4096}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["total"], 4096);
    let stale = c.call(Method::PUT, &format!("{path}/MEMORY_MB"), LATEST, Some(json!({"resource_provider_generation": 2, "total": 1}))).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let missing = c.call(Method::PUT, &format!("{path}/PCI_DEVICE"), LATEST, Some(json!({"resource_provider_generation": 3, "total": 1}))).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);

    assert_eq!(c.call(Method::DELETE, &format!("{path}/MEMORY_MB"), LATEST, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(c.call(Method::DELETE, &format!("{path}/MEMORY_MB"), LATEST, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.call(Method::DELETE, &path, "1.4", None).await.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(c.call(Method::DELETE, &path, "1.5", None).await.status, StatusCode::NO_CONTENT);
    assert!(c.get(&path).await.body["inventories"].as_object().unwrap().is_empty());
    let unknown = c.call(Method::GET, &format!("/resource_providers/{}/inventories", uuid()), LATEST, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_inventories_are_refused() {
    let c = Cloud::start().await;
    let rp = c.provider("cn", None).await;
    let path = format!("/resource_providers/{rp}/inventories");
    let put = |version: &'static str, inv: serde_json::Value| {
        let c = &c;
        let path = path.clone();
        async move { c.call(Method::PUT, &path, version, Some(json!({"resource_provider_generation": 0, "inventories": inv}))).await }
    };
    assert_eq!(put("1.25", json!({"VCPU": {"total": 4, "reserved": 4}})).await.status, StatusCode::BAD_REQUEST, "reserved = total before 1.26");
    assert_eq!(put(LATEST, json!({"VCPU": {"total": 4, "reserved": 5}})).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(put(LATEST, json!({"VCPU": {"total": 0}})).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(put(LATEST, json!({"VCPU": {"total": 4, "step_size": 0}})).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(put(LATEST, json!({"VCPU": {"total": 4, "bogus": 1}})).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(put(LATEST, json!({"VCPU": {"reserved": 1}})).await.status, StatusCode::BAD_REQUEST, "total is required");
    assert_eq!(put(LATEST, json!({"CUSTOM_NOT_CREATED": {"total": 1}})).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(put(LATEST, json!({"VCPU": {"total": "many"}})).await.status, StatusCode::BAD_REQUEST);
    let r = put(LATEST, json!({"VCPU": {"total": 4, "reserved": 4}})).await;
    assert_eq!(r.status, StatusCode::OK, "1.26 allows reserved = total: {}", r.body);
    let no_json = c.call(Method::PUT, &path, LATEST, None).await;
    assert_eq!(no_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn inventory_in_use_cannot_be_removed() {
    let c = Cloud::start().await;
    let rp = c.provider("cn", None).await;
    c.inventory(&rp, json!({"VCPU": {"total": 4}, "DISK_GB": {"total": 10}})).await;
    assert_eq!(c.allocate(&uuid(), json!({rp.clone(): {"resources": {"VCPU": 2}}}), None).await.status, StatusCode::NO_CONTENT);
    let path = format!("/resource_providers/{rp}/inventories");
    let gen = c.generation(&rp).await;
    let r = c.call(Method::PUT, &path, LATEST, Some(json!({"resource_provider_generation": gen, "inventories": {"DISK_GB": {"total": 10}}}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "placement.inventory.inuse");
    assert_eq!(c.call(Method::DELETE, &format!("{path}/VCPU"), LATEST, None).await.status, StatusCode::CONFLICT);
    let all = c.call(Method::DELETE, &path, LATEST, None).await;
    assert_eq!(all.status, StatusCode::CONFLICT);
    assert_eq!(all.code(), "placement.inventory.inuse");
    // Shrinking below the usage is allowed (placement only warns).
    let r = c.call(Method::PUT, &path, LATEST, Some(json!({"resource_provider_generation": gen, "inventories": {"VCPU": {"total": 1}, "DISK_GB": {"total": 10}}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(c.call(Method::DELETE, &format!("{path}/DISK_GB"), LATEST, None).await.status, StatusCode::NO_CONTENT);
}
