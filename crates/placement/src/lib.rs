//! The Placement service: resource providers and their trees, inventories, allocations with
//! consumer generations, usages, traits, resource classes, aggregates and allocation
//! candidates, through microversion 1.39.
//!
//! Layers: [`api`] (routes, microversions, wire formats, policy) and [`client`] (the
//! in-process [`client::PlacementClient`] for the compute scheduler and conductor) both call
//! the one service layer in [`service`], which runs every change in a [`db`] write
//! transaction; [`candidates`] answers `GET /allocation_candidates`.

pub mod api;
pub mod candidates;
pub mod client;
pub mod db;
pub mod error;
pub mod microversion;
pub mod policy_defaults;
pub mod service;
pub mod standard;
pub mod types;

use monostack_auth::policy::Enforcer;
use monostack_common::config::Config;
use monostack_db::Database;
use std::sync::Arc;

/// The placement service's state, shared by every request and by in-process clients.
pub struct PlacementService {
    pub config: Arc<Config>,
    pub db: Database,
    pub policy: Enforcer,
    /// The provider state of the last allocation-candidates request (a cache; see
    /// [`db::snapshot::SnapshotCache`]).
    pub snapshots: db::snapshot::SnapshotCache,
}

impl PlacementService {
    /// Opens the database (migrating it and seeding the standard resource classes and traits)
    /// and loads the policy.
    pub async fn open(config: Arc<Config>) -> anyhow::Result<Arc<Self>> {
        let state_dir = config.state_dir();
        let db = Database::connect(config.database.connection.as_deref(), &state_dir, "placement", config.database.max_pool_size).await?;
        db.migrate(db::schema::MIGRATIONS).await?;
        db::seed::standard_names(&db).await.map_err(|e| anyhow::anyhow!("seeding standard resource classes and traits: {e}"))?;
        let policy_file = config.placement.policy_file.clone().unwrap_or_else(|| state_dir.join("policy").join("placement.yaml"));
        let policy = Enforcer::new(policy_defaults::DEFAULT_RULES).with_overrides_file(&policy_file)?;
        Ok(Arc::new(PlacementService { config, db, policy, snapshots: db::snapshot::SnapshotCache::default() }))
    }
}
