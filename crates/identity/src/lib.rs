//! The Identity service (Keystone v3): users, projects, domains, groups, roles and
//! assignments, the service catalog, application credentials, limits, and Fernet tokens.

pub mod api;
pub mod auth;
pub mod bootstrap;
pub mod fernet;
pub mod gen_cache;
pub mod policy_defaults;
pub mod store;
pub mod token;
pub mod validator;

use dashmap::DashMap;
use monostack_auth::policy::Enforcer;
use monostack_common::config::Config;
use monostack_common::ApiError;
use monostack_db::Database;
use parking_lot::RwLock;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use store::revocations::RevocationEvent;
use token::ValidatedToken;

/// The identity service's state, shared by every request.
pub struct Identity {
    pub config: Arc<Config>,
    pub db: Database,
    pub policy: Enforcer,
    /// Base URL of this API as clients reach it (for `links`).
    pub public_url: String,
    keys: RwLock<Arc<fernet::KeyRepository>>,
    /// Bumped by every write; caches tagged with an older value are stale.
    generation: AtomicU64,
    token_cache: DashMap<String, (u64, Arc<ValidatedToken>)>,
    subjects: DashMap<(String, token::payload::Scope), (u64, Arc<token::provider::Subject>)>,
    catalog_json: gen_cache::GenCache<bytes::Bytes>,
    revocations: gen_cache::GenCache<Vec<RevocationEvent>>,
    catalog: gen_cache::GenCache<serde_json::Value>,
    /// All projects (`[0]`) and all domains (`[1]`), for list calls and scope lookups.
    project_lists: [gen_cache::GenCache<Vec<store::projects::Project>>; 2],
    revoked: tokio::sync::broadcast::Sender<()>,
}

impl Identity {
    /// Opens the database (migrating it), the key repository and the policy.
    pub async fn open(config: Arc<Config>) -> anyhow::Result<Arc<Self>> {
        let state_dir = config.state_dir();
        let db = Database::connect(
            config.database.connection.as_deref(),
            &state_dir,
            "identity",
            config.database.max_pool_size,
        )
        .await?;
        db.migrate(store::schema::MIGRATIONS).await?;
        let keys = fernet::KeyRepository::setup(&key_repository(&config))?;
        let policy_file = config
            .identity
            .policy_file
            .clone()
            .unwrap_or_else(|| state_dir.join("policy").join("identity.yaml"));
        let policy = Enforcer::new(policy_defaults::DEFAULT_RULES).with_overrides_file(&policy_file)?;
        let public_url = format!("http://{}:{}", config.public_host(), config.identity.port);
        let (revoked, _) = tokio::sync::broadcast::channel(16);
        Ok(Arc::new(Identity {
            config,
            db,
            policy,
            public_url,
            keys: RwLock::new(Arc::new(keys)),
            generation: AtomicU64::new(1),
            token_cache: DashMap::new(),
            subjects: DashMap::new(),
            catalog_json: Default::default(),
            revocations: Default::default(),
            catalog: Default::default(),
            project_lists: Default::default(),
            revoked,
        }))
    }

    /// The current Fernet keys.
    pub fn keys(&self) -> Arc<fernet::KeyRepository> {
        self.keys.read().clone()
    }

    /// Re-reads the key repository (after `fernet-rotate` on disk).
    pub fn reload_keys(&self) -> anyhow::Result<()> {
        let repo = fernet::KeyRepository::load(&key_repository(&self.config))?;
        *self.keys.write() = Arc::new(repo);
        self.changed();
        Ok(())
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Marks every cache stale: called after each identity write.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Tells subscribers (other services' token caches, via the bus) that tokens were revoked.
    pub fn announce_revocation(&self) {
        let _ = self.revoked.send(());
    }

    /// Receives a message each time tokens are revoked.
    pub fn subscribe_revocations(&self) -> tokio::sync::broadcast::Receiver<()> {
        self.revoked.subscribe()
    }

    /// Revocation events, re-read from the database only after a change.
    pub async fn revocation_events(&self) -> Result<Arc<Vec<RevocationEvent>>, ApiError> {
        self.revocations.get_or_load(self.generation(), store::revocations::list(self)).await
    }

    /// The token catalog, rebuilt only after a change.
    pub async fn catalog(&self) -> Result<Arc<serde_json::Value>, ApiError> {
        self.catalog.get_or_load(self.generation(), store::catalog::token_catalog(self)).await
    }

    /// The token catalog serialized, for splicing into token responses.
    pub async fn catalog_json(&self) -> Result<Arc<bytes::Bytes>, ApiError> {
        let generation = self.generation();
        self.catalog_json
            .get_or_load(generation, async { Ok(bytes::Bytes::from(self.catalog().await?.to_string())) })
            .await
    }

    /// Every project (or every domain), ordered by name, re-read only after a change.
    pub async fn project_list(&self, domains: bool) -> Result<Arc<Vec<store::projects::Project>>, ApiError> {
        let cache = &self.project_lists[usize::from(domains)];
        cache.get_or_load(self.generation(), store::projects::list(self, domains)).await
    }
}

/// Where the Fernet keys live.
pub fn key_repository(config: &Config) -> PathBuf {
    config
        .identity
        .key_repository
        .clone()
        .unwrap_or_else(|| config.state_dir().join("fernet-keys"))
}
