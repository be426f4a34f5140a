use crate::support::Cloud;
use http::{Method, StatusCode};

#[tokio::test]
async fn version_documents_and_negotiation() {
    let cloud = Cloud::start().await;
    let root = cloud.call(Method::GET, "/", "", None).await;
    assert_eq!(root.status, StatusCode::OK, "{}", root.body);
    let v21 = root.body["versions"].as_array().and_then(|v| v.iter().find(|v| v["id"] == "v2.1")).cloned();
    assert_eq!(v21.as_ref().map(|v| v["min_version"].clone()), Some("2.1".into()));
    let current = cloud.call(Method::GET, "/v2.1/", "", None).await;
    assert_eq!(current.body["version"]["id"], "v2.1");

    let too_new = cloud.call_at(Some("2.999"), Method::GET, "/v2.1/flavors", &cloud.admin, None).await;
    assert_eq!(too_new.status, StatusCode::NOT_ACCEPTABLE, "{}", too_new.body);
    assert!(too_new.body["computeFault"]["message"].as_str().is_some_and(|m| m.contains("not supported")), "{}", too_new.body);
    let malformed = cloud.call_at(Some("2.x"), Method::GET, "/v2.1/flavors", &cloud.admin, None).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let no_token = cloud.call(Method::GET, "/v2.1/flavors", "", None).await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);

    // Nova's own request id header, on successes and faults alike.
    for resp in [&current, &too_new, &no_token] {
        let id = |name: &str| resp.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        assert!(id("x-compute-request-id").is_some_and(|id| id.starts_with("req-")), "{:?}", resp.headers);
        assert_eq!(id("x-compute-request-id"), id("x-openstack-request-id"));
    }
}

#[tokio::test]
async fn v2_document_and_legacy_v2_api() {
    let cloud = Cloud::start().await;
    let root = cloud.call(Method::GET, "/", "", None).await;
    let v20 = root.body["versions"][0].clone();
    assert_eq!(v20["id"], "v2.0", "Nova lists v2.0 first");
    let self_link = v20["links"][0]["href"].as_str().expect("v2.0 self link").to_string();
    assert!(self_link.ends_with("/v2/"), "{self_link}");
    for path in ["/v2", "/v2/"] {
        let doc = cloud.call(Method::GET, path, "", None).await;
        assert_eq!(doc.status, StatusCode::OK, "{path}: {}", doc.body);
        assert_eq!((doc.body["version"]["id"].as_str(), doc.body["version"]["status"].as_str()), (Some("v2.0"), Some("SUPPORTED")));
        assert_eq!(doc.body["version"]["links"][0]["href"], self_link.as_str(), "the document's self link is the listed one");
        assert_eq!(doc.body["version"]["media-types"][0]["type"], "application/vnd.openstack.compute+json;version=2");
    }

    // The legacy API: v2.1 at 2.1, with or without the project id, behind the token.
    let (_, project, token) = cloud.member("leg").await;
    let flavors = cloud.call_at(Some("2.60"), Method::GET, &format!("/v2/{project}/flavors"), &token, None).await;
    assert_eq!(flavors.status, StatusCode::OK, "{}", flavors.body);
    assert!(flavors.body["flavors"].as_array().is_some_and(|f| !f.is_empty()));
    assert!(flavors.headers.get("openstack-api-version").is_none(), "no version headers on the v2 API");
    let keypair = cloud.call_at(Some("2.60"), Method::POST, "/v2/os-keypairs", &token, Some(serde_json::json!({"keypair": {"name": "k"}}))).await;
    assert_eq!(keypair.status, StatusCode::OK, "{}", keypair.body);
    assert!(keypair.body["keypair"].get("type").is_none(), "served at 2.1, not at the version asked for (type came in 2.2)");
    let with_project = cloud.call_at(Some("2.60"), Method::GET, &format!("/v2.1/{project}/flavors/1"), &token, None).await;
    assert_eq!(with_project.status, StatusCode::OK, "the pre-2.18 URL form: {}", with_project.body);
    assert_eq!(with_project.headers["openstack-api-version"], "compute 2.60");
    let anonymous = cloud.call(Method::GET, "/v2/flavors", "", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
