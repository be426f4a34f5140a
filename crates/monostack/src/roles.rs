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

/// Runs every service that exists in one process until SIGINT/SIGTERM.
pub async fn all_in_one(config: Arc<Config>) -> anyhow::Result<()> {
    controller(config).await
}

/// The controller's API services.
pub async fn controller(config: Arc<Config>) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let bus = bus(&config)?;
    let identity = identity_ready(&config).await?;
    monostack_identity::validator::publish_revocations(&identity, bus.clone());
    let shutdown = server::shutdown_signal();
    let router = server::with_common_layers(
        monostack_identity::api::router(identity.clone()),
        FaultStyle::Identity,
        config.default.max_request_body_size,
    );
    let identity_listener = server::bind("identity", addr(&config, config.identity.port)?).await?;
    let image_task = start_image(&config, &identity, shutdown.clone()).await?;
    let placement_task = start_placement(&config, &identity, shutdown.clone()).await?;
    let identity_task = tokio::spawn(server::serve("identity", identity_listener, router, shutdown.clone()));
    tracing::info!(
        "monostack ready in {} ms; clouds.yaml at {}",
        started.elapsed().as_millis(),
        config.state_dir().join("clouds.yaml").display()
    );
    identity_task.await??;
    image_task.await??;
    placement_task.await??;
    identity.db.close().await;
    Ok(())
}

/// The image service, validating tokens and reading limits in-process from `identity`.
async fn start_image(
    config: &Arc<Config>,
    identity: &Arc<Identity>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<()>>> {
    let limits: Arc<dyn monostack_auth::limits::LimitSource> = Arc::new(monostack_identity::validator::LocalLimits::new(identity.clone()));
    let image = monostack_image::ImageService::open(config.clone(), Some(limits)).await?;
    let validator: monostack_auth::SharedValidator = Arc::new(monostack_identity::validator::LocalValidator(identity.clone()));
    let router = server::with_common_layers(
        monostack_image::api::router(image, validator, &format!("{}/v3", identity.public_url)),
        FaultStyle::Image,
        config.default.max_request_body_size,
    );
    let listener = server::bind("image", addr(config, config.image.port)?).await?;
    Ok(tokio::spawn(server::serve("image", listener, router, shutdown)))
}

/// The placement service, validating tokens in-process with `identity`.
async fn start_placement(
    config: &Arc<Config>,
    identity: &Arc<Identity>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<()>>> {
    let placement = monostack_placement::PlacementService::open(config.clone()).await?;
    let validator: monostack_auth::SharedValidator = Arc::new(monostack_identity::validator::LocalValidator(identity.clone()));
    let router = server::with_common_layers(
        monostack_placement::api::router(placement, validator, &format!("{}/v3", identity.public_url)),
        FaultStyle::Placement,
        config.default.max_request_body_size,
    );
    let listener = server::bind("placement", addr(config, config.placement.port)?).await?;
    Ok(tokio::spawn(server::serve("placement", listener, router, shutdown)))
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
    let placement = monostack_placement::PlacementService::open(config).await?;
    placement.db.close().await;
    println!("placement database is up to date");
    Ok(())
}

pub async fn bootstrap(config: Arc<Config>) -> anyhow::Result<()> {
    let identity = identity_ready(&config).await?;
    identity.db.close().await;
    println!("bootstrap complete; clouds.yaml in {}", config.state_dir().display());
    Ok(())
}
