//! Version discovery, microversion negotiation, faults and URL forms.

use crate::support::Cloud;
use http::{Method, StatusCode};

#[tokio::test]
async fn version_documents_need_no_token() {
    let cloud = Cloud::start().await;
    let root = cloud.call(Method::GET, "/", "", None).await;
    assert_eq!(root.status, StatusCode::MULTIPLE_CHOICES);
    let v = &root.body["versions"][0];
    assert_eq!(v["id"], "v3.0");
    assert_eq!(v["status"], "CURRENT");
    assert_eq!(v["min_version"], "3.0");
    assert_eq!(v["version"], "3.70");
    assert!(v["links"]
        .as_array()
        .expect("links")
        .iter()
        .any(|l| l["rel"] == "self" && l["href"].as_str().is_some_and(|h| h.ends_with("/v3/"))));
    for path in ["/v3", "/v3/"] {
        let r = cloud.call(Method::GET, path, "", None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(
            r.body["versions"][0]["media-types"][0]["type"],
            "application/vnd.openstack.volume+json;version=3"
        );
    }
}

#[tokio::test]
async fn microversions_are_negotiated_and_stamped() {
    let cloud = Cloud::start().await;
    let r = cloud
        .call(Method::GET, "/v3/types", &cloud.admin, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["openstack-api-version"], "volume 3.0");
    assert!(r.headers["vary"]
        .to_str()
        .is_ok_and(|v| v.contains("OpenStack-API-Version")));
    let r = cloud
        .call_at(Some("3.45"), Method::GET, "/v3/types", &cloud.admin, None)
        .await;
    assert_eq!(r.headers["openstack-api-version"], "volume 3.45");
    let r = cloud
        .call_at(Some("latest"), Method::GET, "/v3/types", &cloud.admin, None)
        .await;
    assert_eq!(r.headers["openstack-api-version"], "volume 3.70");
    let r = cloud
        .call_at(Some("3.71"), Method::GET, "/v3/types", &cloud.admin, None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(r.body["computeFault"]["code"], 406);
    assert_eq!(
        r.body["computeFault"]["message"],
        "Version 3.71 is not supported by the API. Minimum is 3.0 and maximum is 3.70."
    );
    let r = cloud
        .call_at(Some("3.x"), Method::GET, "/v3/types", &cloud.admin, None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["badRequest"]["code"], 400);
    // Other services' entries in the header are ignored.
    let r = cloud
        .call_at(
            Some("3.5, compute 2.90"),
            Method::GET,
            "/v3/types",
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(r.headers["openstack-api-version"], "volume 3.5");
}

#[tokio::test]
async fn faults_have_cinders_shape() {
    let cloud = Cloud::start().await;
    let r = cloud.call(Method::GET, "/v3/types", "", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["unauthorized"]["code"], 401);
    let r = cloud
        .call(Method::GET, "/v3/types", "not-a-token", None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = cloud
        .call(Method::GET, "/v3/no-such-thing", &cloud.admin, None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["itemNotFound"]["code"], 404);
    let r = cloud
        .call(
            Method::GET,
            "/v3/types/0b6f8e0e-0000-4000-8000-000000000000",
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(
        r.body["itemNotFound"]["message"],
        "Volume type 0b6f8e0e-0000-4000-8000-000000000000 could not be found."
    );
    let r = cloud
        .call(
            Method::POST,
            "/v3/types",
            &cloud.admin,
            Some(serde_json::json!([1])),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["badRequest"]["message"].is_string());
}

#[tokio::test]
async fn urls_with_and_without_the_project_id() {
    let cloud = Cloud::start().await;
    let with = cloud
        .call(
            Method::GET,
            &format!("/v3/{}/types", cloud.admin_project),
            &cloud.admin,
            None,
        )
        .await;
    let without = cloud
        .call(Method::GET, "/v3/types", &cloud.admin, None)
        .await;
    assert_eq!(with.status, StatusCode::OK);
    assert_eq!(with.body, without.body);
}
