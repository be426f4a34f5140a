//! The test cloud: identity + block storage in-process, with helpers to call the volume API
//! at a microversion.
#![allow(dead_code)]

use crate::identity_support::TestCloud;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use monostack_volume::VolumeService;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

pub struct Cloud {
    pub identity: TestCloud,
    pub volume: Arc<VolumeService>,
    pub router: axum::Router,
    pub admin: String,
    pub admin_project: String,
    pub bus: monostack_bus::InProcessBus,
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
        let volume = VolumeService::open(identity.identity.config.clone(), bus)
            .await
            .expect("open volume");
        let validator: monostack_auth::SharedValidator = Arc::new(
            monostack_identity::validator::LocalValidator(identity.identity.clone()),
        );
        let router = monostack_common::server::with_common_layers(
            monostack_volume::api::router(volume.clone(), validator, "http://127.0.0.1:5000/v3"),
            monostack_common::FaultStyle::Compute,
            1 << 20,
        );
        let admin = identity.admin_token().await;
        let admin_project = monostack_identity::store::projects::get_by_name(
            &identity.identity,
            "default",
            "admin",
        )
        .await
        .expect("db")
        .expect("admin project")
        .id;
        Cloud {
            identity,
            volume,
            router,
            admin,
            admin_project,
            bus: in_process,
        }
    }

    /// A call at 3.0 (no version header).
    pub async fn call(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Resp {
        self.call_at(None, method, path, token, body).await
    }

    /// A call at `version` ("3.45", "latest"), or with no version header when None.
    pub async fn call_at(
        &self,
        version: Option<&str>,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Resp {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json");
        if !token.is_empty() {
            req = req.header("x-auth-token", token);
        }
        if let Some(v) = version {
            req = req.header("openstack-api-version", format!("volume {v}"));
        }
        let body = body
            .map(|b| Body::from(b.to_string()))
            .unwrap_or_else(Body::empty);
        let resp = self
            .router
            .clone()
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A new project with a member: (user id, project id, token).
    pub async fn member(&self, name: &str) -> (String, String, String) {
        self.identity.member(&self.admin, name).await
    }
}
