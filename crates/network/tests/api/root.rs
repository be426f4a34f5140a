//! The version list, the v2.0 resource list, extensions, tokens and Neutron's fault format.

use crate::Cloud;
use http::{Method, StatusCode};

#[tokio::test]
async fn versions_resources_and_extensions() {
    let c = Cloud::start().await;
    let r = c.call_as("", Method::GET, "/", None).await;
    assert_eq!(r.status, StatusCode::OK, "the version list needs no token");
    assert_eq!(r.body["versions"][0]["id"], "v2.0");
    assert_eq!(
        r.body["versions"][0]["links"][0]["href"],
        "http://net.test:9696/v2.0/"
    );

    let r = c.get("/v2.0").await;
    assert_eq!(r.status, StatusCode::OK);
    let collections: Vec<_> = r.body["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|x| x["collection"].as_str().unwrap_or(""))
        .collect();
    assert!(
        collections.contains(&"networks") && collections.contains(&"ports"),
        "{collections:?}"
    );

    let r = c.get("/v2.0/extensions").await;
    assert_eq!(r.status, StatusCode::OK);
    let aliases: Vec<_> = r.body["extensions"]
        .as_array()
        .expect("extensions")
        .iter()
        .map(|x| x["alias"].as_str().unwrap_or(""))
        .collect();
    for alias in [
        "provider",
        "multi-provider",
        "external-net",
        "net-mtu",
        "binding",
        "port-security",
        "standard-attr-tag",
        "revision-if-match",
    ] {
        assert!(aliases.contains(&alias), "{alias} missing from {aliases:?}");
    }
    let r = c.get("/v2.0/extensions/provider").await;
    assert_eq!(r.body["extension"]["name"], "Provider Network");
    let r = c.get("/v2.0/extensions/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.kind(), "ExtensionNotFound");
}

#[tokio::test]
async fn tokens_are_required_and_faults_are_neutron_errors() {
    let c = Cloud::start().await;
    let r = c.call_as("", Method::GET, "/v2.0/extensions", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body["NeutronError"]["message"].is_string(), "{}", r.body);
    assert!(r.headers.get("www-authenticate").is_some());
    let r = c
        .call_as("bogus", Method::GET, "/v2.0/extensions", None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = c.get("/v2.0/bogus").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.kind(), "HTTPNotFound");
    assert_eq!(r.body["NeutronError"]["detail"], "");
    assert!(r.headers.get("x-openstack-request-id").is_some());
}
