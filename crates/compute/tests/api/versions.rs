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
}
