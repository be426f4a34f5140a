//! The Block Storage service (Cinder v3), structured as Cinder is: the API ([`api`], with the
//! request checks and database records of [`volume_api`]) casts to the volume scheduler
//! ([`scheduler`]), which picks a backend pool and casts to that backend's volume manager
//! ([`manager`]), which drives the storage through a [`drivers::VolumeDriver`]. They talk over
//! the bus ([`rpc`]); every state lives in the service's database ([`db`]), so any of them can
//! restart and reconcile. The backup service ([`backup`]) is cast to directly by the API and
//! reaches volume data through connections the volume managers make.

pub mod api;
pub mod backup;
pub mod context;
pub mod db;
pub mod drivers;
pub mod flow;
pub mod image_service;
pub mod manager;
pub mod policy_defaults;
pub mod quota;
pub mod rpc;
pub mod scheduler;
pub mod states;
pub mod volume_api;

use monostack_auth::policy::Enforcer;
use monostack_bus::Bus;
use monostack_common::config::Config;
use monostack_db::Database;
use std::sync::Arc;

/// The block storage service's state, shared by the API, the scheduler and the managers of
/// this process.
pub struct VolumeService {
    pub config: Arc<Config>,
    pub db: Database,
    pub policy: Enforcer,
    /// Base URL of this API as clients reach it (without `/v3`).
    pub public_url: String,
    /// The bus to the volume scheduler and the volume managers.
    pub bus: Arc<dyn Bus>,
    /// Serialises the quota check and the record of creates in this process, so two
    /// creates cannot both take the last of a quota.
    pub quota_lock: tokio::sync::Mutex<()>,
    /// The image service (create from image, upload to image).
    pub images: image_service::Glance,
}

impl VolumeService {
    /// Opens the database (migrating it), the policy, and makes sure the default volume type
    /// exists.
    pub async fn open(config: Arc<Config>, bus: Arc<dyn Bus>) -> anyhow::Result<Arc<Self>> {
        let state_dir = config.state_dir();
        let db = Database::connect(
            config.database.connection.as_deref(),
            &state_dir,
            "volume",
            config.database.max_pool_size,
        )
        .await?;
        db.migrate(db::schema::MIGRATIONS).await?;
        let policy_file = config
            .volume
            .policy_file
            .clone()
            .unwrap_or_else(|| state_dir.join("policy").join("volume.yaml"));
        let policy =
            Enforcer::new(policy_defaults::DEFAULT_RULES).with_overrides_file(&policy_file)?;
        let public_url = format!("http://{}:{}", config.public_host(), config.volume.port);
        let images = image_service::Glance::from_config(&config);
        let service = Arc::new(VolumeService {
            images,
            config,
            db,
            policy,
            public_url,
            bus,
            quota_lock: tokio::sync::Mutex::new(()),
        });
        db::types::ensure_default(&service.db, &service.config.volume.default_volume_type)
            .await
            .map_err(|e| anyhow::anyhow!("creating the default volume type: {}", e.message))?;
        Ok(service)
    }

    /// `[bus] rpc_response_timeout`.
    pub fn rpc_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.config.bus.rpc_response_timeout)
    }
}

/// The name this node's volume services register under: `[volume] host`, else the machine's
/// host name.
pub fn host_name(config: &Config) -> String {
    if let Some(host) = &config.volume.host {
        return host.clone();
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
