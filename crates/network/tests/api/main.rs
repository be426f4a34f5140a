//! Networking API tests: an in-process identity and networking service on temporary SQLite
//! databases (or PostgreSQL where `MONOSTACK_TEST_POSTGRES_URL` is set), driven over the
//! router as clients drive it.

#[path = "../../../identity/tests/api/support/mod.rs"]
mod identity_support;

mod address_scopes;
mod agents;
mod auto_allocate;
mod floatingips;
mod networks;
mod neutron_behaviours;
mod policy;
mod ports;
mod root;
mod routers;
mod security_groups;
mod subnets;

use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use identity_support::TestCloud;
use monostack_network::NetworkService;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

pub struct Cloud {
    pub identity: TestCloud,
    pub network: Arc<NetworkService>,
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
    /// The Neutron fault type of an error body.
    pub fn kind(&self) -> &str {
        self.body["NeutronError"]["type"].as_str().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.body["NeutronError"]["message"].as_str().unwrap_or("")
    }
}

impl Cloud {
    pub async fn start() -> Cloud {
        Self::start_with(None, |_| {}).await
    }

    /// A cloud on `connection` (None = SQLite) with the config changed by `tweak`.
    pub async fn start_with(
        connection: Option<String>,
        tweak: impl FnOnce(&mut monostack_common::config::Config),
    ) -> Cloud {
        let identity = TestCloud::start_with(connection).await;
        let mut config = (*identity.identity.config).clone();
        tweak(&mut config);
        let network = NetworkService::open(Arc::new(config))
            .await
            .expect("open network");
        let validator: monostack_auth::SharedValidator = Arc::new(
            monostack_identity::validator::LocalValidator(identity.identity.clone()),
        );
        let router = monostack_common::server::with_common_layers(
            monostack_network::api::router(network.clone(), validator, "http://127.0.0.1:5000/v3"),
            monostack_common::FaultStyle::Network,
            114_688,
        );
        let admin = identity.admin_token().await;
        Cloud {
            identity,
            network,
            router,
            admin,
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.call_as(&self.admin.clone(), method, path, body).await
    }

    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Resp {
        self.call_with(token, method, path, body, &[]).await
    }

    pub async fn call_with(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        send(&self.router, request(token, method, path, body, headers)).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None).await
    }

    /// A member of a new project: (project_id, token).
    pub async fn member(&self, name: &str) -> (String, String) {
        let (_, project, token) = self.identity.member(&self.admin, name).await;
        (project, token)
    }
}

pub fn request(
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("accept", "application/json")
        .header("host", "net.test:9696");
    if !token.is_empty() {
        req = req.header("x-auth-token", token);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .expect("request")
}

pub async fn send(router: &axum::Router, req: Request<Body>) -> Resp {
    let resp = router.clone().oneshot(req).await.expect("infallible");
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

/// A fresh PostgreSQL database per run, or None (with a note) when none is configured.
pub fn postgres() -> Option<String> {
    server("MONOSTACK_TEST_POSTGRES_URL")
}

/// A fresh MariaDB/MySQL database per run, or None (with a note) when none is configured.
pub fn mysql() -> Option<String> {
    server("MONOSTACK_TEST_MYSQL_URL")
}

/// The server databases configured for this run (PostgreSQL, MariaDB), fresh ones each.
pub fn servers() -> Vec<String> {
    postgres().into_iter().chain(mysql()).collect()
}

fn server(var: &str) -> Option<String> {
    let Ok(url) = std::env::var(var) else {
        eprintln!("skipping the {var} part: it is not set");
        return None;
    };
    let mut url = url::Url::parse(&url).expect("valid URL");
    url.set_path(&format!(
        "/mstest_{}_{{service}}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    Some(url.to_string().replace("%7B", "{").replace("%7D", "}"))
}
