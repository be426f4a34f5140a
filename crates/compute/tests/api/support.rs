//! The test cloud: identity + compute in-process, with the image and networking services over
//! HTTP on 127.0.0.1 (identity too, for the service users' tokens), and helpers to call the
//! compute API at a microversion.

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
    /// The networking API's base URL.
    pub network_url: String,
    /// The block storage API's base URL (a fake backend `fake-1` of 100 GiB on `node1`).
    pub volume_url: String,
    /// The volume scheduler, managers and service (dropping them stops them).
    pub _volume: VolumeServices,
}

/// The block storage service's running parts.
pub struct VolumeServices {
    pub _service: Arc<monostack_volume::VolumeService>,
    pub _scheduler: monostack_volume::scheduler::SchedulerHandle,
    pub _managers: Vec<monostack_volume::manager::ManagerHandle>,
}

/// Gives the configuration one fake volume backend (`fake-1`, 100 GiB) on host `node1`.
pub fn with_fake_volume_backend(config: &mut monostack_common::config::Config) {
    config.volume.host = Some("node1".into());
    config.volume.enabled_backends = vec!["fake-1".into()];
    let backend = monostack_common::config::VolumeBackendSection { volume_driver: "fake".into(), capacity_gb: Some(100), ..Default::default() };
    config.volume_backends.insert("fake-1".into(), backend);
}

/// The block storage API on `listener` with its scheduler and volume managers on a bus of
/// their own; answers its URL.
pub async fn start_volume_service(identity: &TestCloud, config: Arc<monostack_common::config::Config>, listener: tokio::net::TcpListener) -> (String, VolumeServices) {
    let bus: Arc<dyn monostack_bus::Bus> = Arc::new(monostack_bus::InProcessBus::new());
    let service = monostack_volume::VolumeService::open(config, bus).await.expect("open volume");
    let scheduler = monostack_volume::scheduler::VolumeScheduler::start(service.clone()).await.expect("volume scheduler");
    let managers = monostack_volume::manager::start_all(service.clone()).await.expect("volume managers");
    let validator: monostack_auth::SharedValidator = Arc::new(monostack_identity::validator::LocalValidator(identity.identity.clone()));
    let router = monostack_common::server::with_common_layers(
        monostack_volume::api::router(service.clone(), validator, "http://127.0.0.1:5000/v3"),
        monostack_common::FaultStyle::Compute,
        1 << 20,
    );
    let url = format!("http://{}", listener.local_addr().expect("volume address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, VolumeServices { _service: service, _scheduler: scheduler, _managers: managers })
}

/// The networking API on `listener` (its agents' RPC server on `bus`); answers its URL.
async fn start_network_service(identity: &TestCloud, config: Arc<monostack_common::config::Config>, bus: Arc<dyn monostack_bus::Bus>, listener: tokio::net::TcpListener) -> String {
    let network = monostack_network::NetworkService::open(config).await.expect("open network");
    monostack_network::service::agents::serve_plugin(network.clone(), bus, "neutron-server").await.expect("serve q-plugin");
    let validator: monostack_auth::SharedValidator = Arc::new(monostack_identity::validator::LocalValidator(identity.identity.clone()));
    let router = monostack_common::server::with_common_layers(
        monostack_network::api::router(network, validator, "http://127.0.0.1:5000/v3"),
        monostack_common::FaultStyle::Network,
        1 << 20,
    );
    let url = format!("http://{}", listener.local_addr().expect("network address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    url
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
        let identity_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind identity port");
        let network_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind network port");
        let volume_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind volume port");
        let mut config = (*identity.identity.config).clone();
        config.volume.port = volume_listener.local_addr().expect("volume address").port();
        with_fake_volume_backend(&mut config);
        config.identity.port = identity_listener.local_addr().expect("identity address").port();
        config.network.port = network_listener.local_addr().expect("network address").port();
        let config = Arc::new(config);
        let identity_router = identity.router.clone();
        tokio::spawn(async move {
            let _ = axum::serve(identity_listener, identity_router).await;
        });
        let network_url = start_network_service(&identity, config.clone(), bus.clone(), network_listener).await;
        let (volume_url, volume) = start_volume_service(&identity, config.clone(), volume_listener).await;
        let compute = ComputeService::open(config, bus, images).await.expect("open compute");
        let validator: monostack_auth::SharedValidator =
            Arc::new(monostack_identity::validator::LocalValidator(identity.identity.clone()));
        let router = monostack_common::server::with_common_layers(
            monostack_compute::api::router(compute.clone(), validator, "http://127.0.0.1:5000/v3"),
            monostack_common::FaultStyle::Compute,
            1 << 20,
        );
        let admin = identity.admin_token().await;
        let image_id = crate::images::upload(&image_url, &admin, serde_json::json!({"name": "cirros", "visibility": "public"}), &[0u8; 1024]).await;
        Cloud { identity, compute, router, admin, bus: in_process, image_url, image_id, network_url, volume_url, _volume: volume }
    }

    /// A networking API call with `token`: (status, body).
    pub async fn net(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let client = reqwest::Client::new();
        let method = reqwest::Method::from_bytes(method.as_str().as_bytes()).expect("method");
        let mut req = client.request(method, format!("{}{path}", self.network_url)).header("x-auth-token", token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("network service");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A block storage API call with `token` at 3.67: (status, body).
    pub async fn vol(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let client = reqwest::Client::new();
        let method = reqwest::Method::from_bytes(method.as_str().as_bytes()).expect("method");
        let mut req = client.request(method, format!("{}/v3{path}", self.volume_url)).header("x-auth-token", token).header("openstack-api-version", "volume 3.67");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("volume service");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A volume of `size` GiB made by `token`'s project, once available: its id.
    pub async fn volume(&self, token: &str, size: i64) -> String {
        let (s, v) = self.vol(token, Method::POST, "/volumes", Some(serde_json::json!({"volume": {"size": size}}))).await;
        assert_eq!(s, 202, "create volume: {v}");
        let id = v["volume"]["id"].as_str().expect("volume id").to_string();
        self.wait_volume(token, &id, "available").await;
        id
    }

    /// Polls until the volume has `status` (10 s at most); answers it.
    pub async fn wait_volume(&self, token: &str, id: &str, status: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..500 {
            let (_, v) = self.vol(token, Method::GET, &format!("/volumes/{id}"), None).await;
            last = v["volume"].clone();
            if last["status"] == status {
                return last;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("volume {id} never reached {status}: {last}");
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
