//! A real image service for the compute tests: served over HTTP on 127.0.0.1 (an ephemeral
//! port) from the test cloud's identity, as compute reaches it in a deployment.

use crate::identity_support::TestCloud;
use serde_json::Value;
use std::sync::Arc;

/// Starts the image API on 127.0.0.1:0 and returns its base URL.
pub async fn start_image_service(identity: &TestCloud) -> String {
    let limits: Arc<dyn monostack_auth::limits::LimitSource> = Arc::new(monostack_identity::validator::LocalLimits::new(identity.identity.clone()));
    let image = monostack_image::ImageService::open(identity.identity.config.clone(), Some(limits)).await.expect("open image");
    let validator: monostack_auth::SharedValidator = Arc::new(monostack_identity::validator::LocalValidator(identity.identity.clone()));
    let router = monostack_common::server::with_common_layers(
        monostack_image::api::router(image, validator, "http://127.0.0.1:5000/v3"),
        monostack_common::FaultStyle::Image,
        1 << 20,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind image port");
    let addr = listener.local_addr().expect("image address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// Creates an image with `fields` (raw/bare unless given) and uploads `data`; returns its id.
pub async fn upload(base: &str, token: &str, fields: Value, data: &[u8]) -> String {
    let id = create(base, token, fields).await;
    let client = reqwest::Client::new();
    let resp = client
        .put(format!("{base}/v2/images/{id}/file"))
        .header("x-auth-token", token)
        .header("content-type", "application/octet-stream")
        .body(data.to_vec())
        .send()
        .await
        .expect("upload image");
    assert!(resp.status().is_success(), "upload: {}", resp.status());
    id
}

/// Creates an image record (status queued) and returns its id.
pub async fn create(base: &str, token: &str, mut fields: Value) -> String {
    for (k, v) in [("disk_format", "raw"), ("container_format", "bare")] {
        if fields.get(k).is_none() {
            fields[k] = Value::String(v.into());
        }
    }
    let client = reqwest::Client::new();
    let resp = client.post(format!("{base}/v2/images")).header("x-auth-token", token).json(&fields).send().await.expect("create image");
    assert_eq!(resp.status().as_u16(), 201, "create image");
    let body: Value = resp.json().await.expect("image body");
    body["id"].as_str().expect("image id").to_string()
}
