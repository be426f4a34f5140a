//! The networking service (Neutron v2.0), server side: networks, subnets and ports with
//! Neutron's attributes, the ML2 core plugin's type drivers, IPAM, and the agent RPC
//! contracts the Linux data plane will implement.
//!
//! Layers: [`api`] (routes, wire formats, filters/sorting/paging, policy) calls the service
//! logic in [`service`], which runs every change in one [`db`] write transaction; [`ml2`]
//! validates provider segments and says which ids project networks get; [`ipam`] does the
//! address arithmetic (pools, gateways, in-order allocation); [`rpc`] defines the messages
//! between the server and its agents.

pub mod api;
pub mod db;
pub mod error;
pub mod ipam;
pub mod l3_notifier;
pub mod ml2;
pub mod nova_notifier;
pub mod policy_defaults;
pub mod rpc;
pub mod service;
pub mod simulated_l3_agent;

use monostack_auth::policy::Enforcer;
use monostack_common::config::Config;
use monostack_db::Database;
use std::sync::Arc;

/// The networking service's state, shared by every request.
pub struct NetworkService {
    pub config: Arc<Config>,
    pub db: Database,
    pub policy: Enforcer,
    pub ml2: ml2::Ml2,
    /// Names of the policy's rules, to know which attributes have a rule of their own.
    pub rule_names: std::collections::HashSet<String>,
    /// Port events for compute (`os-server-external-events`).
    pub nova: nova_notifier::NovaNotifier,
    /// Router events for the L3 agents (`routers_updated`…).
    pub l3_agents: l3_notifier::L3AgentNotifier,
}

impl NetworkService {
    /// Checks the ML2 configuration, opens (and migrates) the database and loads the policy.
    pub async fn open(config: Arc<Config>) -> anyhow::Result<Arc<Self>> {
        let ml2 = ml2::Ml2::from_config(&config)?;
        let state_dir = config.state_dir();
        let db = Database::connect(
            config.database.connection.as_deref(),
            &state_dir,
            "network",
            config.database.max_pool_size,
        )
        .await?;
        db.migrate(db::schema::MIGRATIONS).await?;
        let policy_file = config
            .network
            .policy_file
            .clone()
            .unwrap_or_else(|| state_dir.join("policy").join("network.yaml"));
        let policy =
            Enforcer::new(policy_defaults::DEFAULT_RULES).with_overrides_file(&policy_file)?;
        let rule_names = policy.rules().into_iter().map(|(name, _)| name).collect();
        let config_for_nova = config.clone();
        Ok(Arc::new(NetworkService {
            config,
            db,
            policy,
            ml2,
            rule_names,
            nova: nova_notifier::NovaNotifier::from_config(&config_for_nova),
            l3_agents: l3_notifier::L3AgentNotifier::default(),
        }))
    }
}
