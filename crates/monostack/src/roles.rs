//! Wiring of the node roles: which services a process runs.

use monostack_common::config::Config;
use monostack_common::server;
use monostack_common::FaultStyle;
use monostack_identity::Identity;
use std::net::SocketAddr;
use std::sync::Arc;

fn addr(config: &Config, port: u16) -> anyhow::Result<SocketAddr> {
    let host = config.default.bind_host.trim_matches(|c| c == '[' || c == ']');
    let ip: std::net::IpAddr = host
        .parse()
        .map_err(|_| anyhow::anyhow!("bind_host '{host}' is not an IP address"))?;
    Ok(SocketAddr::new(ip, port))
}

/// Opens identity and runs bootstrap, reporting where the admin credentials are.
async fn identity_ready(config: &Arc<Config>) -> anyhow::Result<Arc<Identity>> {
    std::fs::create_dir_all(config.state_dir())?;
    let identity = Identity::open(config.clone()).await?;
    let done = monostack_identity::bootstrap::run(&identity).await.map_err(|e| anyhow::anyhow!("bootstrap failed: {e}"))?;
    if done.created_admin {
        tracing::info!("bootstrap complete: admin credentials in {}", config.state_dir().join("clouds.yaml").display());
    }
    Ok(identity)
}

/// The bus named by `[bus] transport_url`: in-process when unset.
fn bus(config: &Config) -> anyhow::Result<Arc<dyn monostack_bus::Bus>> {
    match &config.bus.transport_url {
        None => Ok(Arc::new(monostack_bus::InProcessBus::new())),
        Some(url) => anyhow::bail!(
            "[bus] transport_url = {url}: only the in-process bus exists so far (RabbitMQ comes with multi-node work); unset it for all-in-one"
        ),
    }
}

/// Runs every service that exists in one process until SIGINT/SIGTERM: the controller's
/// services and this machine's compute agents.
pub async fn all_in_one(config: Arc<Config>) -> anyhow::Result<()> {
    run(config, true).await
}

/// The controller's services: the APIs, the conductor and the scheduler.
pub async fn controller(config: Arc<Config>) -> anyhow::Result<()> {
    run(config, false).await
}

async fn run(config: Arc<Config>, with_compute_agents: bool) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let bus = bus(&config)?;
    let identity = identity_ready(&config).await?;
    monostack_identity::validator::publish_revocations(&identity, bus.clone());
    let shutdown = server::shutdown_signal();
    let image_task = start_image(&config, &identity, shutdown.clone()).await?;
    let placement = monostack_placement::PlacementService::open(config.clone()).await?;
    let placement_task = start_placement(&config, &identity, placement.clone(), shutdown.clone()).await?;
    let network_task = start_network(&config, &identity, bus.clone(), shutdown.clone()).await?;
    let compute = open_compute(&config, bus.clone()).await?;
    let compute_task = start_compute(&config, &identity, compute.clone(), shutdown.clone()).await?;
    let volume = monostack_volume::VolumeService::open(config.clone(), bus.clone()).await?;
    let volume_task = start_volume(&config, &identity, volume.clone(), shutdown.clone()).await?;
    // The volume scheduler runs with the controller's services; this machine's volume managers
    // (one per enabled backend) with the all-in-one, as its compute agents do.
    let volume_scheduler = monostack_volume::scheduler::VolumeScheduler::start(volume.clone()).await?;
    let volume_managers = if with_compute_agents { monostack_volume::manager::start_all(volume.clone()).await? } else { Vec::new() };
    // The backup service (cinder-backup) runs beside them, where their volumes' data is reachable.
    let volume_backup = if with_compute_agents { Some(monostack_volume::backup::start(volume.clone()).await?) } else { None };
    let placement_client: Arc<dyn monostack_placement::client::PlacementClient> = Arc::new(monostack_placement::client::LocalPlacement(placement));
    let conductor = monostack_conductor::Conductor::start(compute.clone(), placement_client, bus.clone()).await?;
    let agents = if with_compute_agents { start_compute_agents(&config, bus.clone()).await? } else { Vec::new() };
    // Until the Linux data plane exists, a stand-in L3 agent reports router ports up
    // ([network] simulated_l3_agent), as the fake virt driver does for servers' ports.
    let l3_agent = if with_compute_agents && config.network.simulated_l3_agent {
        let host = monostack_conductor::host_name(&config);
        Some(monostack_network::simulated_l3_agent::start(bus.clone(), &host, &config.network.availability_zone).await?)
    } else {
        None
    };
    let identity_api = monostack_identity::api::router(identity.clone());
    let identity_task = serve_api(&config, "identity", config.identity.port, identity_api, FaultStyle::Identity, shutdown.clone()).await?;
    tracing::info!(
        "monostack ready in {} ms; clouds.yaml at {}",
        started.elapsed().as_millis(),
        config.state_dir().join("clouds.yaml").display()
    );
    identity_task.await??;
    image_task.await??;
    placement_task.await??;
    network_task.await??;
    compute_task.await??;
    volume_task.await??;
    for agent in &agents {
        agent.stop();
    }
    if let Some(l3) = &l3_agent {
        l3.stop();
    }
    conductor.stop();
    for manager in &volume_managers {
        manager.stop();
    }
    if let Some(backup) = &volume_backup {
        backup.stop();
    }
    volume_scheduler.stop();
    identity.db.close().await;
    Ok(())
}

/// The compute agents of this machine: one per host the virt driver presents (with the fake
/// driver's `host_per_node`, one per simulated node).
async fn start_compute_agents(
    config: &Arc<Config>,
    bus: Arc<dyn monostack_bus::Bus>,
) -> anyhow::Result<Vec<monostack_compute_agent::manager::ComputeManagerHandle>> {
    let driver = monostack_compute_agent::drivers::from_config_on_bus(config, Some(bus.clone())).map_err(|e| anyhow::anyhow!("[compute] compute_driver: {e}"))?;
    let host = monostack_conductor::host_name(config);
    monostack_compute_agent::manager::start_all(&host, driver, bus, config.clone(), None).await
}

type ServeTask = tokio::task::JoinHandle<anyhow::Result<()>>;

/// Serves `api` (a service's router) on `port` with the common layers and `style` faults.
async fn serve_api(
    config: &Config,
    name: &'static str,
    port: u16,
    api: axum::Router,
    style: FaultStyle,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<ServeTask> {
    let router = server::with_common_layers(api, style, config.default.max_request_body_size);
    let listener = server::bind(name, addr(config, port)?).await?;
    Ok(tokio::spawn(server::serve(name, listener, router, shutdown)))
}

/// Token validation in-process with `identity`, and where clients are sent to get a token.
fn local_auth(identity: &Arc<Identity>) -> (monostack_auth::SharedValidator, String) {
    let validator: monostack_auth::SharedValidator = Arc::new(monostack_identity::validator::LocalValidator(identity.clone()));
    (validator, format!("{}/v3", identity.public_url))
}

/// The image service, reading limits in-process from `identity`.
async fn start_image(config: &Arc<Config>, identity: &Arc<Identity>, shutdown: tokio::sync::watch::Receiver<bool>) -> anyhow::Result<ServeTask> {
    let limits: Arc<dyn monostack_auth::limits::LimitSource> = Arc::new(monostack_identity::validator::LocalLimits::new(identity.clone()));
    let image = monostack_image::ImageService::open(config.clone(), Some(limits)).await?;
    let (validator, www) = local_auth(identity);
    let api = monostack_image::api::router(image, validator, &www);
    serve_api(config, "image", config.image.port, api, FaultStyle::Image, shutdown).await
}

/// The placement API.
async fn start_placement(
    config: &Arc<Config>,
    identity: &Arc<Identity>,
    placement: Arc<monostack_placement::PlacementService>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<ServeTask> {
    let (validator, www) = local_auth(identity);
    let api = monostack_placement::api::router(placement, validator, &www);
    serve_api(config, "placement", config.placement.port, api, FaultStyle::Placement, shutdown).await
}

/// The networking API (Neutron v2.0), and the agents' heartbeats and L3 calls on the bus.
async fn start_network(config: &Arc<Config>, identity: &Arc<Identity>, bus: Arc<dyn monostack_bus::Bus>, shutdown: tokio::sync::watch::Receiver<bool>) -> anyhow::Result<ServeTask> {
    let network = monostack_network::NetworkService::open(config.clone()).await?;
    monostack_network::service::agents::serve_reports(network.clone(), bus.clone(), "neutron-server").await?;
    monostack_network::service::agents::serve_l3_plugin(network.clone(), bus.clone(), "neutron-server").await?;
    monostack_network::service::agents::serve_plugin(network.clone(), bus, "neutron-server").await?;
    let (validator, www) = local_auth(identity);
    let api = monostack_network::api::router(network, validator, &www);
    serve_api(config, "network", config.network.port, api, FaultStyle::Network, shutdown).await
}

/// The compute service, casting its flows on `bus` and reading images over the image API.
async fn open_compute(config: &Arc<Config>, bus: Arc<dyn monostack_bus::Bus>) -> anyhow::Result<Arc<monostack_compute::ComputeService>> {
    let images: Arc<dyn monostack_compute::image_client::ImageApi> = Arc::new(monostack_compute::image_client::HttpImageApi::from_config(config)?);
    monostack_compute::ComputeService::open(config.clone(), bus, images).await
}

/// The compute API.
async fn start_compute(
    config: &Arc<Config>,
    identity: &Arc<Identity>,
    compute: Arc<monostack_compute::ComputeService>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<ServeTask> {
    let (validator, www) = local_auth(identity);
    let api = monostack_compute::api::router(compute, validator, &www);
    serve_api(config, "compute", config.compute.port, api, FaultStyle::Compute, shutdown).await
}

/// The block storage API.
async fn start_volume(
    config: &Arc<Config>,
    identity: &Arc<Identity>,
    volume: Arc<monostack_volume::VolumeService>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<ServeTask> {
    let (validator, www) = local_auth(identity);
    let api = monostack_volume::api::router(volume, validator, &www);
    serve_api(config, "volume", config.volume.port, api, FaultStyle::Compute, shutdown).await
}

/// A compute node alone: its agents reach the controller's conductor over the bus, and only
/// the in-process bus exists so far.
pub fn compute_node() -> anyhow::Result<()> {
    anyhow::bail!(
        "a compute node reaches its controller over RabbitMQ ([bus] transport_url), which comes with the multi-node work; on one machine, run `monostack all-in-one`, which includes this machine's compute agents"
    )
}

/// A role whose services are not built yet: says so and exits cleanly.
pub fn not_yet(role: &str, services: &[&str]) -> anyhow::Result<()> {
    println!("the {role} role will run: {}; none of these services exists yet, so there is nothing to start", services.join(", "));
    Ok(())
}

pub async fn db_sync(config: Arc<Config>) -> anyhow::Result<()> {
    std::fs::create_dir_all(config.state_dir())?;
    let identity = Identity::open(config.clone()).await?;
    identity.db.close().await;
    println!("identity database is up to date");
    let image = monostack_image::ImageService::open(config.clone(), None).await?;
    image.db.close().await;
    println!("image database is up to date");
    let placement = monostack_placement::PlacementService::open(config.clone()).await?;
    placement.db.close().await;
    println!("placement database is up to date");
    let network = monostack_network::NetworkService::open(config.clone()).await?;
    network.db.close().await;
    println!("network database is up to date");
    let bus: Arc<dyn monostack_bus::Bus> = Arc::new(monostack_bus::InProcessBus::new());
    let compute = open_compute(&config, bus).await?;
    compute.db.close().await;
    println!("compute database is up to date");
    let bus: Arc<dyn monostack_bus::Bus> = Arc::new(monostack_bus::InProcessBus::new());
    let volume = monostack_volume::VolumeService::open(config.clone(), bus).await?;
    volume.db.close().await;
    println!("volume database is up to date");
    Ok(())
}

pub async fn bootstrap(config: Arc<Config>) -> anyhow::Result<()> {
    let identity = identity_ready(&config).await?;
    identity.db.close().await;
    println!("bootstrap complete; clouds.yaml in {}", config.state_dir().display());
    Ok(())
}
