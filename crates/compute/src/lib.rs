//! The Compute service (Nova v2.1): the API, and (as they land) the conductor that runs its
//! flows. Scheduling lives in `monostack-scheduler`, hypervisors behind the virt drivers of
//! `monostack-compute-agent`; the agents reach this service's database only through the
//! conductor, over the bus.

pub mod api;
pub mod compute_api;
pub mod context;
pub mod db;
pub mod default_flavors;
pub mod extra_specs;
pub mod keys;
pub mod image_client;
pub mod network_api;
pub mod network_client;
pub mod policy_defaults;
pub mod quota;
pub mod request_spec;
pub mod rpc;
pub mod states;
pub mod volume_client;

pub use default_flavors::seed_default_flavors;

use monostack_auth::policy::Enforcer;
use monostack_bus::Bus;
use monostack_common::config::Config;
use monostack_db::Database;
use std::sync::Arc;

/// The compute service's state, shared by every request.
pub struct ComputeService {
    pub config: Arc<Config>,
    pub db: Database,
    pub policy: Enforcer,
    /// Base URL of this API as clients reach it (without `/v2.1`).
    pub public_url: String,
    /// The message bus to the conductor, scheduler and compute agents.
    pub bus: Arc<dyn Bus>,
    /// Serialises quota-checked creates per project (see [`quota`]).
    pub quota_locks: quota::QuotaLocks,
    /// The image service, asked with the caller's token (boot images, snapshots).
    pub images: Arc<dyn image_client::ImageApi>,
    /// The networking service (`[network] port`), asked with the caller's token, and with the
    /// `nova` service user's for port bindings.
    pub network: Arc<dyn network_client::NetworkApi>,
    /// The block storage service (`[volume] port`), asked with the caller's token.
    pub volume: Arc<dyn volume_client::VolumeApi>,
}

impl ComputeService {
    /// Opens the database (migrating it) and the policy. `images` is the image service
    /// (`image_client::HttpImageApi::from_config` in a deployment).
    pub async fn open(config: Arc<Config>, bus: Arc<dyn Bus>, images: Arc<dyn image_client::ImageApi>) -> anyhow::Result<Arc<Self>> {
        let state_dir = config.state_dir();
        let db = Database::connect(config.database.connection.as_deref(), &state_dir, "compute", config.database.max_pool_size).await?;
        db.migrate(db::schema::MIGRATIONS).await?;
        db::prepare_id_sequences(&db).await?;
        let policy_file = config.compute.policy_file.clone().unwrap_or_else(|| state_dir.join("policy").join("compute.yaml"));
        let policy = Enforcer::new(policy_defaults::DEFAULT_RULES).with_overrides_file(&policy_file)?;
        let public_url = format!("http://{}:{}", config.public_host(), config.compute.port);
        let network: Arc<dyn network_client::NetworkApi> = Arc::new(network_client::HttpNetworkApi::from_config(&config)?);
        let volume: Arc<dyn volume_client::VolumeApi> = Arc::new(volume_client::HttpVolumeApi::from_config(&config)?);
        let service = Arc::new(ComputeService { config, db, policy, public_url, bus, quota_locks: quota::QuotaLocks::default(), images, network, volume });
        seed_default_flavors(&service).await?;
        Ok(service)
    }
}
