//! The Image service (Glance v2): image records and their data in a store, with the safety
//! checks Glance added after its format CVEs ([`inspect`]), sharing, import and quotas.

pub mod api;
pub mod db;
pub mod import;
pub mod inspect;
pub mod policy_defaults;
pub mod quota;
pub mod schemas;
pub mod store;
pub mod upload;

use monostack_auth::limits::LimitSource;
use monostack_auth::policy::Enforcer;
use monostack_common::config::Config;
use monostack_db::Database;
use std::sync::Arc;
use store::{FilesystemStore, Store};

/// The image service's state, shared by every request.
pub struct ImageService {
    pub config: Arc<Config>,
    pub db: Database,
    pub policy: Enforcer,
    /// Where image data lives (`file`, the default store).
    pub store: Arc<dyn Store>,
    /// Where `PUT …/stage` keeps data until it is imported.
    pub staging: Arc<dyn Store>,
    /// Unified limits from identity; None leaves quotas unenforced.
    pub limits: Option<Arc<dyn LimitSource>>,
    /// Base URL of this API as clients reach it.
    pub public_url: String,
    /// Client for `web-download` imports.
    pub http: reqwest::Client,
}

impl ImageService {
    /// Opens the database (migrating it) and the stores, and settles work a crash interrupted.
    pub async fn open(config: Arc<Config>, limits: Option<Arc<dyn LimitSource>>) -> anyhow::Result<Arc<Self>> {
        let state_dir = config.state_dir();
        let db = Database::connect(config.database.connection.as_deref(), &state_dir, "image", config.database.max_pool_size).await?;
        db.migrate(db::schema::MIGRATIONS).await?;
        let data_dir = config.image.filesystem_store_datadir.clone().unwrap_or_else(|| state_dir.join("images"));
        let staging_dir = config.image.staging_dir.clone().unwrap_or_else(|| state_dir.join("image-staging"));
        let policy_file = config.image.policy_file.clone().unwrap_or_else(|| state_dir.join("policy").join("image.yaml"));
        let policy = Enforcer::new(policy_defaults::DEFAULT_RULES).with_overrides_file(&policy_file)?;
        let public_url = format!("http://{}:{}", config.public_host(), config.image.port);
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()?;
        let limits = if config.image.use_keystone_limits { limits } else { None };
        let service = Arc::new(ImageService {
            db,
            policy,
            store: Arc::new(FilesystemStore::open("file", &data_dir)?),
            staging: Arc::new(FilesystemStore::open("staging", &staging_dir)?),
            limits,
            public_url,
            http,
            config,
        });
        service.recover().await?;
        Ok(service)
    }

    /// After a crash: partial writes are discarded, uploads that were in flight end `killed`,
    /// imports that were in flight go back to where they can be retried.
    async fn recover(&self) -> anyhow::Result<()> {
        let discarded = self.store.discard_partial_writes().await? + self.staging.discard_partial_writes().await?;
        if discarded > 0 {
            tracing::warn!("discarded {discarded} partial image writes left by an earlier run");
        }
        db::tasks::fail_unfinished(&self.db).await?;
        for (id, status) in db::images::interrupted(&self.db).await? {
            if status == "saving" {
                db::images::transition(&self.db, &id, &["saving"], "killed").await?;
                tracing::warn!("image {id}: upload interrupted by a restart; status killed");
            } else {
                import::interrupted(self, &id).await?;
            }
        }
        Ok(())
    }
}
