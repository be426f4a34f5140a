//! Version discovery, microversion negotiation and the fault body format.

use crate::{Cloud, LATEST};
use http::{Method, StatusCode};

#[tokio::test]
async fn version_document_and_negotiation() {
    let c = Cloud::start().await;
    let root = c.call_as("", Method::GET, "/", "", None).await;
    assert_eq!(root.status, StatusCode::OK, "no token needed");
    let v = &root.body["versions"][0];
    assert_eq!(v["id"], "v1.0");
    assert_eq!(v["min_version"], "1.0");
    assert_eq!(v["max_version"], "1.39");
    assert_eq!(v["status"], "CURRENT");
    assert_eq!(root.headers["openstack-api-version"], "placement 1.0");
    assert_eq!(root.headers["vary"], "openstack-api-version");

    let latest = c.call_as("", Method::GET, "/", "latest", None).await;
    assert_eq!(latest.headers["openstack-api-version"], "placement 1.39");
    assert!(latest.headers.contains_key("last-modified"));

    // osc-placement negotiates by asking for its highest version and reading max_version.
    let too_new = c.call_as("", Method::GET, "/", "1.40", None).await;
    assert_eq!(too_new.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(too_new.body["errors"][0]["max_version"], "1.39");
    assert_eq!(too_new.body["errors"][0]["min_version"], "1.0");
    let malformed = c.call(Method::GET, "/resource_providers", "1.x", None).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);

    let listed = c.call(Method::GET, "/resource_providers", "1.14", None).await;
    assert_eq!(listed.headers["openstack-api-version"], "placement 1.14");
    assert_eq!(listed.headers["vary"], "openstack-api-version");
    assert!(!listed.headers.contains_key("last-modified"), "from 1.15");
    let listed = c.call(Method::GET, "/resource_providers", "1.15", None).await;
    assert_eq!(listed.headers["cache-control"], "no-cache");
}

#[tokio::test]
async fn faults_follow_the_api_wg_format() {
    let c = Cloud::start().await;
    let r = c.call_as("", Method::GET, "/resource_providers", LATEST, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = c.get("/resource_providers/3f1a8e8e-1c2b-4d5e-8f90-1234567890ab").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let e = &r.body["errors"][0];
    assert_eq!(e["status"], 404);
    assert_eq!(e["title"], "Not Found");
    assert_eq!(e["code"], "placement.undefined_code");
    assert!(e["detail"].as_str().unwrap().contains("No resource provider with uuid"));
    assert!(e["request_id"].as_str().unwrap().starts_with("req-"));
    assert_eq!(e["request_id"], r.headers["x-openstack-request-id"].to_str().unwrap());
    let old = c.call(Method::GET, "/resource_providers/3f1a8e8e-1c2b-4d5e-8f90-1234567890ab", "1.22", None).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    assert!(old.body["errors"][0].get("code").is_none(), "codes from 1.23: {}", old.body);
    assert!(old.body["errors"][0]["request_id"].as_str().unwrap().starts_with("req-"));
    let nowhere = c.get("/nowhere").await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert_eq!(nowhere.body["errors"][0]["status"], 404);
    let wrong_method = c.call(Method::PATCH, "/resource_providers", LATEST, None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.headers.contains_key("allow"));
    assert_eq!(wrong_method.body["errors"][0]["status"], 405);
}
