//! Placement API tests: an in-process identity and placement service on temporary SQLite
//! databases (or PostgreSQL where `MONOSTACK_TEST_POSTGRES_URL` is set), driven over the
//! router as clients drive it.

#[path = "../../../identity/tests/api/support/mod.rs"]
mod identity_support;

mod allocations;
mod candidates;
mod classes_traits_aggregates;
mod client;
mod concurrency;
mod inventories;
mod microversions;
mod policy;
mod providers;

use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use identity_support::TestCloud;
use monostack_placement::PlacementService;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

pub const LATEST: &str = "1.39";

pub struct Cloud {
    pub identity: TestCloud,
    pub placement: Arc<PlacementService>,
    pub router: axum::Router,
    pub admin: String,
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Resp {
    /// The placement error code of a fault body.
    pub fn code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or("")
    }
    pub fn detail(&self) -> &str {
        self.body["errors"][0]["detail"].as_str().unwrap_or("")
    }
}

impl Cloud {
    pub async fn start() -> Cloud {
        Self::start_with(None).await
    }

    pub async fn start_with(connection: Option<String>) -> Cloud {
        let identity = TestCloud::start_with(connection).await;
        let placement = PlacementService::open(identity.identity.config.clone()).await.expect("open placement");
        let validator: monostack_auth::SharedValidator = Arc::new(monostack_identity::validator::LocalValidator(identity.identity.clone()));
        let router = monostack_common::server::with_common_layers(
            monostack_placement::api::router(placement.clone(), validator, "http://127.0.0.1:5000/v3"),
            monostack_common::FaultStyle::Placement,
            114_688,
        );
        let admin = identity.admin_token().await;
        Cloud { identity, placement, router, admin }
    }

    /// A request as the admin at microversion `version` ("" sends no version header).
    pub async fn call(&self, method: Method, path: &str, version: &str, body: Option<Value>) -> Resp {
        self.call_as(&self.admin.clone(), method, path, version, body).await
    }

    pub async fn call_as(&self, token: &str, method: Method, path: &str, version: &str, body: Option<Value>) -> Resp {
        let mut req = Request::builder().method(method).uri(path).header("accept", "application/json");
        if !token.is_empty() {
            req = req.header("x-auth-token", token);
        }
        if !version.is_empty() {
            req = req.header("openstack-api-version", format!("placement {version}"));
        }
        let req = match body {
            Some(b) => req.header("content-type", "application/json").body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .expect("request");
        send(&self.router, req).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, LATEST, None).await
    }

    /// Creates a provider at the latest version; returns its uuid.
    pub async fn provider(&self, name: &str, parent: Option<&str>) -> String {
        let r = self.call(Method::POST, "/resource_providers", LATEST, Some(json!({"name": name, "parent_provider_uuid": parent}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["uuid"].as_str().expect("uuid").to_string()
    }

    pub async fn generation(&self, rp: &str) -> i64 {
        self.get(&format!("/resource_providers/{rp}")).await.body["generation"].as_i64().expect("generation")
    }

    /// Sets inventories (class, total) with default settings.
    pub async fn inventory(&self, rp: &str, inventories: Value) {
        let gen = self.generation(rp).await;
        let r = self
            .call(Method::PUT, &format!("/resource_providers/{rp}/inventories"), LATEST, Some(json!({"resource_provider_generation": gen, "inventories": inventories})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    pub async fn traits(&self, rp: &str, traits: &[&str]) {
        let gen = self.generation(rp).await;
        let r = self.call(Method::PUT, &format!("/resource_providers/{rp}/traits"), LATEST, Some(json!({"traits": traits, "resource_provider_generation": gen}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    pub async fn aggregates(&self, rp: &str, aggs: &[&str]) {
        let gen = self.generation(rp).await;
        let r = self.call(Method::PUT, &format!("/resource_providers/{rp}/aggregates"), LATEST, Some(json!({"aggregates": aggs, "resource_provider_generation": gen}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    /// PUTs allocations for a consumer at the latest version.
    pub async fn allocate(&self, consumer: &str, allocations: Value, generation: Option<i64>) -> Resp {
        let body = json!({"allocations": allocations, "project_id": "p1", "user_id": "u1", "consumer_generation": generation, "consumer_type": "INSTANCE"});
        self.call(Method::PUT, &format!("/allocations/{consumer}"), LATEST, Some(body)).await
    }
}

pub async fn send(router: &axum::Router, req: Request<Body>) -> Resp {
    let resp = router.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Resp { status, headers, body }
}

pub fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A fresh PostgreSQL database per run, or None (with a note) when none is configured.
pub fn postgres() -> Option<String> {
    let Ok(url) = std::env::var("MONOSTACK_TEST_POSTGRES_URL") else {
        eprintln!("skipping the PostgreSQL part: MONOSTACK_TEST_POSTGRES_URL is not set");
        return None;
    };
    let mut url = url::Url::parse(&url).expect("valid URL");
    url.set_path(&format!("/mstest_{}_{{service}}", &uuid::Uuid::new_v4().simple().to_string()[..8]));
    Some(url.to_string().replace("%7B", "{").replace("%7D", "}"))
}
