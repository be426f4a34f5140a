//! The test cloud: identity + compute in-process, with helpers to call the compute API at a
//! microversion.

use crate::identity_support::TestCloud;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use monostack_compute::ComputeService;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

pub struct Cloud {
    pub identity: TestCloud,
    pub compute: Arc<ComputeService>,
    pub router: axum::Router,
    pub admin: String,
    /// The bus the compute service casts on (listen on it to see what it sends).
    pub bus: monostack_bus::InProcessBus,
    /// A real image service on 127.0.0.1 (the compute service's `ImageApi` talks to it).
    pub image_url: String,
    /// An active public image (1 KiB of raw data).
    pub image_id: String,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Cloud {
    pub async fn start() -> Cloud {
        let identity = TestCloud::start().await;
        let in_process = monostack_bus::InProcessBus::new();
        let bus: Arc<dyn monostack_bus::Bus> = Arc::new(in_process.clone());
        let image_url = crate::images::start_image_service(&identity).await;
        let images: Arc<dyn monostack_compute::image_client::ImageApi> =
            Arc::new(monostack_compute::image_client::HttpImageApi::new(image_url.clone()).expect("image client"));
        let compute = ComputeService::open(identity.identity.config.clone(), bus, images).await.expect("open compute");
        let validator: monostack_auth::SharedValidator =
            Arc::new(monostack_identity::validator::LocalValidator(identity.identity.clone()));
        let router = monostack_common::server::with_common_layers(
            monostack_compute::api::router(compute.clone(), validator, "http://127.0.0.1:5000/v3"),
            monostack_common::FaultStyle::Compute,
            1 << 20,
        );
        let admin = identity.admin_token().await;
        let image_id = crate::images::upload(&image_url, &admin, serde_json::json!({"name": "cirros", "visibility": "public"}), &[0u8; 1024]).await;
        Cloud { identity, compute, router, admin, bus: in_process, image_url, image_id }
    }

    /// A call at the minimum microversion (no version header).
    pub async fn call(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Resp {
        self.call_at(None, method, path, token, body).await
    }

    /// A call at `version` ("2.53", "latest"), or with no version header when None.
    pub async fn call_at(&self, version: Option<&str>, method: Method, path: &str, token: &str, body: Option<Value>) -> Resp {
        let mut req = Request::builder().method(method).uri(path).header("x-auth-token", token).header("content-type", "application/json");
        if let Some(v) = version {
            req = req.header("openstack-api-version", format!("compute {v}"));
        }
        let body = body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty);
        let resp = self.router.clone().oneshot(req.body(body).expect("request")).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp { status, headers, body }
    }

    /// A new project with a member: (user id, project id, token).
    pub async fn member(&self, name: &str) -> (String, String, String) {
        self.identity.member(&self.admin, name).await
    }
}
