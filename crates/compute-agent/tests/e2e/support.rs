//! The test cloud: identity, image, networking and the compute API (each also over HTTP on
//! 127.0.0.1, as the services call one another with service tokens), placement, the conductor
//! and N simulated compute hosts (`cn-1`…`cn-N`, one fake node each, sharing one fake driver,
//! which stands in for the hosts' L2 agent) on the in-process bus and temporary SQLite
//! databases.

use crate::identity_support::TestCloud;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use monostack_bus::{Bus, InProcessBus};
use monostack_common::config::Config;
use monostack_compute::ComputeService;
use monostack_compute_agent::drivers::fake::{FakeDriver, FakeDriverConfig};
use monostack_compute_agent::manager::{self, ComputeManager, ComputeManagerHandle, ManagerSetup};
use monostack_conductor::{Conductor, ConductorHandle};
use monostack_placement::client::{LocalPlacement, PlacementClient};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// The microversion the tests speak (networks "none", forced_down by uuid, 2.60 tags).
pub const VERSION: &str = "2.60";

pub struct Cloud {
    pub identity: TestCloud,
    pub config: Arc<Config>,
    pub compute: Arc<ComputeService>,
    pub placement: Arc<dyn PlacementClient>,
    pub router: axum::Router,
    pub admin: String,
    pub bus: Arc<dyn Bus>,
    pub image_url: String,
    pub image_id: String,
    pub driver: Arc<FakeDriver>,
    /// The networking API's base URL (`http://127.0.0.1:<port>`).
    pub network_url: String,
    /// The block storage API's base URL (fake backend `fake-1`, 100 GiB).
    pub volume_url: String,
    /// The block storage service, its scheduler and managers (kept alive with the cloud).
    pub _volume: VolumeServices,
    /// What compute's `os-server-external-events` received over HTTP: (request body, status).
    pub external_events: Arc<parking_lot::Mutex<Vec<(Value, u16)>>>,
    /// Kept so the conductor lives as long as the cloud.
    pub _conductor: ConductorHandle,
    pub managers: Vec<ComputeManagerHandle>,
}

pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
}

fn init_logging() {
    let _ = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_test_writer().try_init();
}

/// Starts the image API on 127.0.0.1:0 and returns its base URL.
async fn start_image_service(identity: &TestCloud, config: Arc<Config>) -> String {
    let limits: Arc<dyn monostack_auth::limits::LimitSource> = Arc::new(monostack_identity::validator::LocalLimits::new(identity.identity.clone()));
    let image = monostack_image::ImageService::open(config, Some(limits)).await.expect("open image");
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

async fn local_listener() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a local port")
}

fn port_of(listener: &tokio::net::TcpListener) -> u16 {
    listener.local_addr().expect("local address").port()
}

fn serve(listener: tokio::net::TcpListener, router: axum::Router) {
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}

/// The compute router, recording what `POST /v2.1/os-server-external-events` receives and
/// answers (the network service's nova notifier is its only caller here).
fn recording_events(router: axum::Router, log: Arc<parking_lot::Mutex<Vec<(Value, u16)>>>) -> axum::Router {
    router.layer(axum::middleware::from_fn(move |req: axum::extract::Request, next: axum::middleware::Next| {
        let log = log.clone();
        async move {
            if !req.uri().path().ends_with("/os-server-external-events") {
                return next.run(req).await;
            }
            let (parts, body) = req.into_parts();
            let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let sent: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let resp = next.run(axum::extract::Request::from_parts(parts, Body::from(bytes))).await;
            log.lock().push((sent, resp.status().as_u16()));
            resp
        }
    }))
}

/// The networking API on `listener`, with its agents' RPC server (`q-plugin`) on `bus`.
async fn start_network_service(identity: &TestCloud, config: Arc<Config>, bus: Arc<dyn Bus>, listener: tokio::net::TcpListener) -> String {
    let network = monostack_network::NetworkService::open(config).await.expect("open network");
    monostack_network::service::agents::serve_plugin(network.clone(), bus, "neutron-server").await.expect("serve q-plugin");
    let validator: monostack_auth::SharedValidator = Arc::new(monostack_identity::validator::LocalValidator(identity.identity.clone()));
    let router = monostack_common::server::with_common_layers(
        monostack_network::api::router(network, validator, "http://127.0.0.1:5000/v3"),
        monostack_common::FaultStyle::Network,
        1 << 20,
    );
    let url = format!("http://127.0.0.1:{}", port_of(&listener));
    serve(listener, router);
    url
}

/// The block storage service's running parts.
pub struct VolumeServices {
    pub _service: Arc<monostack_volume::VolumeService>,
    pub _scheduler: monostack_volume::scheduler::SchedulerHandle,
    pub _managers: Vec<monostack_volume::manager::ManagerHandle>,
}

/// The block storage API on `listener`, its scheduler and managers on a bus of their own.
async fn start_volume_service(identity: &TestCloud, config: Arc<Config>, listener: tokio::net::TcpListener) -> (String, VolumeServices) {
    let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
    let service = monostack_volume::VolumeService::open(config, bus).await.expect("open volume");
    let scheduler = monostack_volume::scheduler::VolumeScheduler::start(service.clone()).await.expect("volume scheduler");
    let managers = monostack_volume::manager::start_all(service.clone()).await.expect("volume managers");
    let validator: monostack_auth::SharedValidator = Arc::new(monostack_identity::validator::LocalValidator(identity.identity.clone()));
    let router = monostack_common::server::with_common_layers(
        monostack_volume::api::router(service.clone(), validator, "http://127.0.0.1:5000/v3"),
        monostack_common::FaultStyle::Compute,
        1 << 20,
    );
    let url = format!("http://127.0.0.1:{}", port_of(&listener));
    serve(listener, router);
    (url, VolumeServices { _service: service, _scheduler: scheduler, _managers: managers })
}

/// Creates a public raw image holding `data`; returns its id.
async fn upload_image(base: &str, token: &str, data: &[u8]) -> String {
    let client = reqwest::Client::new();
    let fields = json!({"name": "cirros", "visibility": "public", "disk_format": "raw", "container_format": "bare"});
    let resp = client.post(format!("{base}/v2/images")).header("x-auth-token", token).json(&fields).send().await.expect("create image");
    assert_eq!(resp.status().as_u16(), 201, "create image");
    let body: Value = resp.json().await.expect("image body");
    let id = body["id"].as_str().expect("image id").to_string();
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

impl Cloud {
    /// A cloud with `hosts` compute hosts and the default configuration.
    pub async fn start(hosts: u32) -> Cloud {
        Self::start_with(hosts, |_| {}).await
    }

    /// A cloud with `hosts` compute hosts and `tweak` applied to the configuration.
    pub async fn start_with(hosts: u32, tweak: impl FnOnce(&mut Config)) -> Cloud {
        init_logging();
        let identity = TestCloud::start().await;
        let mut config = (*identity.identity.config).clone();
        config.compute.host = Some("cn".into());
        config.compute.report_interval = 1;
        config.fake_driver.node_count = hosts;
        config.fake_driver.host_per_node = true;
        let identity_listener = local_listener().await;
        let network_listener = local_listener().await;
        let compute_listener = local_listener().await;
        let volume_listener = local_listener().await;
        config.volume.port = port_of(&volume_listener);
        config.volume.host = Some("storage".into());
        config.volume.enabled_backends = vec!["fake-1".into()];
        let backend = monostack_common::config::VolumeBackendSection { volume_driver: "fake".into(), capacity_gb: Some(100), ..Default::default() };
        config.volume_backends.insert("fake-1".into(), backend);
        config.identity.port = port_of(&identity_listener);
        config.network.port = port_of(&network_listener);
        config.compute.port = port_of(&compute_listener);
        tweak(&mut config);
        let config = Arc::new(config);
        serve(identity_listener, identity.router.clone());
        let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
        let image_url = start_image_service(&identity, config.clone()).await;
        let images: Arc<dyn monostack_compute::image_client::ImageApi> =
            Arc::new(monostack_compute::image_client::HttpImageApi::new(image_url.clone()).expect("image client"));
        let compute = ComputeService::open(config.clone(), bus.clone(), images).await.expect("open compute");
        let placement_service = monostack_placement::PlacementService::open(config.clone()).await.expect("open placement");
        let placement: Arc<dyn PlacementClient> = Arc::new(LocalPlacement(placement_service));
        let validator: monostack_auth::SharedValidator = Arc::new(monostack_identity::validator::LocalValidator(identity.identity.clone()));
        let router = monostack_common::server::with_common_layers(
            monostack_compute::api::router(compute.clone(), validator, "http://127.0.0.1:5000/v3"),
            monostack_common::FaultStyle::Compute,
            1 << 20,
        );
        let external_events = Arc::new(parking_lot::Mutex::new(Vec::new()));
        serve(compute_listener, recording_events(router.clone(), external_events.clone()));
        let network_url = start_network_service(&identity, config.clone(), bus.clone(), network_listener).await;
        let (volume_url, volume) = start_volume_service(&identity, config.clone(), volume_listener).await;
        let admin = identity.admin_token().await;
        let image_id = upload_image(&image_url, &admin, &[7u8; 1024]).await;
        let conductor = Conductor::start(compute.clone(), placement.clone(), bus.clone()).await.expect("start conductor");
        let driver = Arc::new(FakeDriver::new(FakeDriverConfig::from_section(&config.fake_driver).expect("fake driver")));
        driver.report_ports_on(bus.clone());
        let managers = manager::start_all("cn", driver.clone(), bus.clone(), config.clone(), Some(image_url.clone())).await.expect("start compute managers");
        Cloud { identity, config, compute, placement, router, admin, bus, image_url, image_id, driver, network_url, volume_url, _volume: volume, external_events, _conductor: conductor, managers }
    }

    /// Starts the manager of `host` again (after [`Self::stop_host`]), as a restarted agent.
    pub async fn restart_host(&mut self, index: usize) {
        let host = format!("cn-{}", index + 1);
        let node = format!("fake-{}", index + 1);
        let setup = ManagerSetup {
            host,
            nodes: Some(vec![node]),
            driver: self.driver.clone(),
            bus: self.bus.clone(),
            config: self.config.clone(),
            image_url: Some(self.image_url.clone()),
        };
        self.managers[index] = ComputeManager::start(setup).await.expect("restart compute manager");
    }

    pub fn stop_host(&self, index: usize) {
        self.managers[index].stop();
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.call_as(&self.admin, method, path, body).await
    }

    pub async fn call_as(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.call_at(VERSION, token, method, path, body).await
    }

    /// A call at microversion `version`.
    pub async fn call_at(&self, version: &str, token: &str, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = Request::builder().method(method).uri(path).header("x-auth-token", token).header("openstack-api-version", format!("compute {version}"));
        req = req.header("content-type", "application/json");
        let body = body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty);
        let resp = self.router.clone().oneshot(req.body(body).expect("request")).await.expect("infallible");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        Resp { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
    }

    /// Boots a server of `flavor` (no network) and returns its id.
    pub async fn boot(&self, name: &str, flavor: &str) -> String {
        let body = json!({"server": {"name": name, "imageRef": self.image_id, "flavorRef": flavor, "networks": "none"}});
        let r = self.call(Method::POST, "/v2.1/servers", Some(body)).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "boot {name}: {}", r.body);
        r.body["server"]["id"].as_str().expect("server id").to_string()
    }

    pub async fn server(&self, id: &str) -> Value {
        let r = self.call(Method::GET, &format!("/v2.1/servers/{id}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "show {id}: {}", r.body);
        r.body["server"].clone()
    }

    /// Polls until the server has `status` and no task (10 s at most); returns it.
    pub async fn wait_status(&self, id: &str, status: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..500 {
            last = self.server(id).await;
            if last["status"] == status && last["OS-EXT-STS:task_state"].is_null() {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("server {id} never reached {status}: {last}");
    }

    /// Polls until GET answers 404.
    pub async fn wait_gone(&self, id: &str) {
        for _ in 0..500 {
            let r = self.call(Method::GET, &format!("/v2.1/servers/{id}"), None).await;
            if r.status == StatusCode::NOT_FOUND {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("server {id} was never deleted");
    }

    /// A server action; asserts it was accepted (202, 200 or 204 depending on the action).
    pub async fn action(&self, id: &str, body: Value) -> Resp {
        let r = self.call(Method::POST, &format!("/v2.1/servers/{id}/action"), Some(body.clone())).await;
        assert!(r.status.is_success(), "action {body} on {id}: {} {}", r.status, r.body);
        r
    }

    /// The placement allocations of `consumer`: provider uuid → resources.
    pub async fn allocations(&self, consumer: &str) -> BTreeMap<String, BTreeMap<String, i64>> {
        let a = self.placement.get_allocations(consumer).await.expect("allocations");
        a.allocations.into_iter().map(|(rp, r)| (rp, r.resources)).collect()
    }

    /// Waits (5 s at most) until the consumer holds no allocations: shelve offload records
    /// SHELVED_OFFLOADED before it frees the claim, as Nova's does.
    pub async fn wait_no_allocations(&self, consumer: &str) {
        for _ in 0..250 {
            if self.allocations(consumer).await.is_empty() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("{consumer} still holds {:?}", self.allocations(consumer).await);
    }

    /// The compute node (resource provider) uuid of `host`'s node.
    pub async fn node_uuid(&self, host: &str) -> String {
        let nodes = monostack_compute::db::compute_nodes::by_host(&self.compute.db, host).await.expect("nodes");
        nodes.first().expect("a node").uuid.clone()
    }

    /// Asserts the server's allocations are exactly its flavor's on its host's node.
    pub async fn assert_allocated_on_own_host(&self, server: &Value, flavor: (i64, i64, i64)) {
        let id = server["id"].as_str().expect("id");
        let host = server["OS-EXT-SRV-ATTR:host"].as_str().expect("host");
        let allocations = self.allocations(id).await;
        let node = self.node_uuid(host).await;
        let expected = BTreeMap::from([("VCPU".to_string(), flavor.0), ("MEMORY_MB".to_string(), flavor.1), ("DISK_GB".to_string(), flavor.2)]);
        assert_eq!(allocations, BTreeMap::from([(node, expected)]), "allocations of {id} on {host}");
    }

    /// The events of the server's action `action` (the latest one): (event, result).
    pub async fn events(&self, id: &str, action: &str) -> Vec<(String, String)> {
        let list = self.call(Method::GET, &format!("/v2.1/servers/{id}/os-instance-actions"), None).await;
        let actions = list.body["instanceActions"].as_array().cloned().unwrap_or_default();
        let Some(a) = actions.iter().find(|a| a["action"] == action) else { return Vec::new() };
        let request_id = a["request_id"].as_str().unwrap_or_default();
        let show = self.call(Method::GET, &format!("/v2.1/servers/{id}/os-instance-actions/{request_id}"), None).await;
        show.body["instanceAction"]["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|e| (e["event"].as_str().unwrap_or_default().to_string(), e["result"].as_str().unwrap_or_default().to_string()))
            .collect()
    }

    /// Sum of every allocation in placement held for `project` (leak check).
    pub async fn project_usage(&self, project_id: &str) -> BTreeMap<String, i64> {
        self.placement.usages(project_id, None).await.expect("usages").into_iter().filter(|(_, n)| *n != 0).collect()
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

    /// A network with one IPv4 subnet (`cidr`) created by `token`'s project: (network id,
    /// subnet id).
    pub async fn network_with_subnet(&self, token: &str, name: &str, cidr: &str) -> (String, String) {
        let (s, n) = self.net(token, Method::POST, "/v2.0/networks", Some(json!({"network": {"name": name}}))).await;
        assert_eq!(s, 201, "network {name}: {n}");
        let net_id = n["network"]["id"].as_str().expect("network id").to_string();
        let (s, sub) = self.net(token, Method::POST, "/v2.0/subnets", Some(json!({"subnet": {"network_id": net_id, "cidr": cidr, "ip_version": 4, "name": format!("{name}-subnet")}}))).await;
        assert_eq!(s, 201, "subnet {cidr}: {sub}");
        (net_id, sub["subnet"]["id"].as_str().expect("subnet id").to_string())
    }

    /// The ports whose device is `server` (as admin).
    pub async fn ports_of(&self, server: &str) -> Vec<Value> {
        let (s, body) = self.net(&self.admin, Method::GET, &format!("/v2.0/ports?device_id={server}"), None).await;
        assert_eq!(s, 200, "ports of {server}: {body}");
        body["ports"].as_array().cloned().unwrap_or_default()
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
        let (s, v) = self.vol(token, Method::POST, "/volumes", Some(json!({"volume": {"size": size}}))).await;
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
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("volume {id} never reached {status}: {last}");
    }

    /// Polls until the volume is gone (404).
    pub async fn wait_volume_gone(&self, token: &str, id: &str) {
        for _ in 0..500 {
            let (s, _) = self.vol(token, Method::GET, &format!("/volumes/{id}"), None).await;
            if s == 404 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("volume {id} was never deleted");
    }

    pub async fn admin_project(&self) -> String {
        let v = self.identity.token_for("admin", crate::identity_support::ADMIN_PASSWORD, Some(json!({"project": {"name": "admin", "domain": {"id": "default"}}}))).await;
        v.body["token"]["project"]["id"].as_str().expect("project id").to_string()
    }
}

/// m1.tiny: 1 VCPU, 512 MB, 1 GB.
pub const TINY: (i64, i64, i64) = (1, 512, 1);
/// m1.small: 1 VCPU, 2048 MB, 20 GB.
pub const SMALL: (i64, i64, i64) = (1, 2048, 20);
