//! Resource classes, traits (global and per provider) and aggregates.

use crate::{uuid, Cloud, LATEST};
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn resource_classes() {
    let c = Cloud::start().await;
    let list = c.get("/resource_classes").await;
    let names: Vec<&str> = list.body["resource_classes"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(&names[..3], &["VCPU", "MEMORY_MB", "DISK_GB"]);
    assert!(names.contains(&"PCPU") && names.contains(&"NET_BW_EGR_KILOBIT_PER_SEC"));
    assert_eq!(c.call(Method::GET, "/resource_classes", "1.1", None).await.status, StatusCode::NOT_FOUND);

    let r = c.call(Method::POST, "/resource_classes", LATEST, Some(json!({"name": "CUSTOM_FPGA_X"}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.headers["location"], "/resource_classes/CUSTOM_FPGA_X");
    assert_eq!(c.call(Method::POST, "/resource_classes", LATEST, Some(json!({"name": "CUSTOM_FPGA_X"}))).await.status, StatusCode::CONFLICT);
    assert_eq!(c.call(Method::POST, "/resource_classes", LATEST, Some(json!({"name": "FPGA_X"}))).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.get("/resource_classes/CUSTOM_FPGA_X").await.body["name"], "CUSTOM_FPGA_X");
    assert_eq!(c.get("/resource_classes/CUSTOM_NOPE").await.status, StatusCode::NOT_FOUND);
    // 1.7+: PUT creates or confirms.
    assert_eq!(c.call(Method::PUT, "/resource_classes/CUSTOM_GOLD", LATEST, None).await.status, StatusCode::CREATED);
    assert_eq!(c.call(Method::PUT, "/resource_classes/CUSTOM_GOLD", LATEST, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(c.call(Method::PUT, "/resource_classes/VCPU", LATEST, None).await.status, StatusCode::BAD_REQUEST);
    // 1.2–1.6: PUT renames.
    let r = c.call(Method::PUT, "/resource_classes/CUSTOM_GOLD", "1.2", Some(json!({"name": "CUSTOM_SILVER"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(c.call(Method::PUT, "/resource_classes/VCPU", "1.2", Some(json!({"name": "CUSTOM_X"}))).await.status, StatusCode::BAD_REQUEST);

    let rp = c.provider("cn", None).await;
    c.inventory(&rp, json!({"CUSTOM_FPGA_X": {"total": 1}})).await;
    assert_eq!(c.call(Method::DELETE, "/resource_classes/CUSTOM_FPGA_X", LATEST, None).await.status, StatusCode::CONFLICT);
    assert_eq!(c.call(Method::DELETE, "/resource_classes/VCPU", LATEST, None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.call(Method::DELETE, "/resource_classes/CUSTOM_SILVER", LATEST, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(c.call(Method::DELETE, "/resource_classes/CUSTOM_SILVER", LATEST, None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn traits_global_and_per_provider() {
    let c = Cloud::start().await;
    let all = c.get("/traits").await;
    let names = all.body["traits"].as_array().unwrap();
    assert!(names.len() > 300, "the os-traits set");
    assert!(names.contains(&json!("COMPUTE_VOLUME_MULTI_ATTACH")) && names.contains(&json!("MISC_SHARES_VIA_AGGREGATE")));
    assert_eq!(c.call(Method::GET, "/traits", "1.5", None).await.status, StatusCode::NOT_FOUND);
    let storage = c.get("/traits?name=startswith:STORAGE_DISK").await;
    assert_eq!(storage.body["traits"], json!(["STORAGE_DISK_HDD", "STORAGE_DISK_SSD"]));
    let some = c.get("/traits?name=in:HW_CPU_X86_AVX,CUSTOM_NONE").await;
    assert_eq!(some.body["traits"], json!(["HW_CPU_X86_AVX"]));
    assert_eq!(c.get("/traits?name=HW").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.get("/traits?associated=maybe").await.status, StatusCode::BAD_REQUEST);

    assert_eq!(c.call(Method::PUT, "/traits/CUSTOM_RAID", LATEST, None).await.status, StatusCode::CREATED);
    assert_eq!(c.call(Method::PUT, "/traits/CUSTOM_RAID", LATEST, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(c.call(Method::PUT, "/traits/RAID", LATEST, None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.get("/traits/CUSTOM_RAID").await.status, StatusCode::NO_CONTENT);
    assert_eq!(c.get("/traits/CUSTOM_NONE").await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.call(Method::DELETE, "/traits/HW_CPU_X86_AVX", LATEST, None).await.status, StatusCode::BAD_REQUEST);

    let rp = c.provider("cn", None).await;
    let path = format!("/resource_providers/{rp}/traits");
    let r = c.call(Method::PUT, &path, LATEST, Some(json!({"traits": ["CUSTOM_RAID", "HW_CPU_X86_AVX"], "resource_provider_generation": 0}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["resource_provider_generation"], 1);
    let stale = c.call(Method::PUT, &path, LATEST, Some(json!({"traits": [], "resource_provider_generation": 0}))).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.code(), "placement.concurrent_update");
    let unknown = c.call(Method::PUT, &path, LATEST, Some(json!({"traits": ["CUSTOM_NONE"], "resource_provider_generation": 1}))).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let got = c.get(&path).await;
    assert_eq!(got.body, json!({"traits": ["CUSTOM_RAID", "HW_CPU_X86_AVX"], "resource_provider_generation": 1}));
    assert_eq!(c.get("/traits?associated=true").await.body["traits"], json!(["CUSTOM_RAID", "HW_CPU_X86_AVX"]));
    assert_eq!(c.call(Method::DELETE, "/traits/CUSTOM_RAID", LATEST, None).await.status, StatusCode::CONFLICT, "in use");
    assert_eq!(c.call(Method::DELETE, &path, LATEST, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(c.call(Method::DELETE, "/traits/CUSTOM_RAID", LATEST, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(c.get(&format!("/resource_providers/{}/traits", uuid())).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn aggregates_with_and_without_generations() {
    let c = Cloud::start().await;
    let rp = c.provider("cn", None).await;
    let path = format!("/resource_providers/{rp}/aggregates");
    let (a, b) = (uuid(), uuid());
    let r = c.call(Method::PUT, &path, "1.1", Some(json!([a]))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"aggregates": [a]}));
    assert_eq!(c.generation(&rp).await, 0, "before 1.19 the generation does not move");
    let r = c.call(Method::PUT, &path, LATEST, Some(json!({"aggregates": [a, b], "resource_provider_generation": 0}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["resource_provider_generation"], 1);
    assert_eq!(r.body["aggregates"].as_array().unwrap().len(), 2);
    let stale = c.call(Method::PUT, &path, LATEST, Some(json!({"aggregates": [], "resource_provider_generation": 0}))).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.code(), "placement.concurrent_update");
    assert_eq!(c.call(Method::PUT, &path, LATEST, Some(json!({"aggregates": ["nope"], "resource_provider_generation": 1}))).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.call(Method::PUT, &path, LATEST, Some(json!({"aggregates": [a, a], "resource_provider_generation": 1}))).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.call(Method::GET, &path, "1.0", None).await.status, StatusCode::NOT_FOUND);
    let got = c.call(Method::GET, &path, "1.18", None).await;
    assert!(got.body.get("resource_provider_generation").is_none());
}
