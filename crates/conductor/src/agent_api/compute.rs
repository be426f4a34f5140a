//! What the conductor and other agents ask a compute agent (topic `compute`, server = the
//! agent's host), beside the API's own [`ComputeRequest`]s: the build, and the steps of moves
//! that hop between hosts (resize, live migration, rebuild/evacuate, unshelve). Casts unless
//! noted.
//!
//! [`ComputeRequest`]: monostack_compute::rpc::compute::ComputeRequest

use monostack_compute::db::flavor_snapshot::InstanceFlavor;
use monostack_compute::request_spec::NetworkRequest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const TOPIC: &str = monostack_compute::rpc::compute::TOPIC;

/// What a build needs besides the stored instance (never stored: passwords, files).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildArgs {
    pub image_id: Option<String>,
    pub admin_password: Option<String>,
    /// (path, base64 contents).
    pub injected_files: Vec<(String, String)>,
    pub requested_networks: Vec<NetworkRequest>,
    /// Security groups (names or ids) the ports created for the instance get.
    #[serde(default)]
    pub security_groups: Vec<String>,
}

/// The oversubscription limits the chosen node must respect (the scheduler's).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NodeLimits {
    pub memory_mb: f64,
    pub disk_gb: f64,
    pub vcpu: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildAndRunInstance {
    pub instance_uuid: String,
    pub node: String,
    pub limits: Option<NodeLimits>,
    pub build: BuildArgs,
}

/// To the destination of a cold migration or resize.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepResize {
    pub instance_uuid: String,
    pub migration_id: i64,
    pub new_flavor: InstanceFlavor,
    pub node: String,
    pub clean_shutdown: bool,
}

/// To the source, once the destination is ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResizeInstance {
    pub instance_uuid: String,
    pub migration_id: i64,
    pub new_flavor: InstanceFlavor,
    pub clean_shutdown: bool,
}

/// To the destination, once the source handed the disks over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinishResize {
    pub instance_uuid: String,
    pub migration_id: i64,
    /// The driver's description of the disks (`MigrationDiskInfo`).
    pub disk_info: Value,
}

/// To the source of a reverted resize, once the destination dropped its copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinishRevertResize {
    pub instance_uuid: String,
    pub migration_id: i64,
}

/// A call to the destination of a live migration: can it take the instance? Answers the
/// agreed `LiveMigrateData` (after asking the source in turn).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckCanLiveMigrateDestination {
    pub instance_uuid: String,
    pub dest_node: String,
    pub block_migration: Option<bool>,
    pub disk_over_commit: bool,
}

/// A call to the source: can the instance leave with that data? Answers the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckCanLiveMigrateSource {
    pub instance_uuid: String,
    /// `LiveMigrateData` as JSON.
    pub data: Value,
}

/// To the source: run the live migration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveMigration {
    pub instance_uuid: String,
    pub migration_id: i64,
    pub data: Value,
}

/// A call to the destination: prepare to receive the guest; answers the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreLiveMigration {
    pub instance_uuid: String,
    pub data: Value,
}

/// A call to the destination after a successful move: the instance is now here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostLiveMigrationAtDestination {
    pub instance_uuid: String,
    pub migration_id: i64,
    pub data: Value,
}

/// To the destination after a failed move: remove what was prepared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackLiveMigrationAtDestination {
    pub instance_uuid: String,
    pub data: Value,
}

/// Rebuild on the instance's host, or evacuation (`recreate`) on this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RebuildInstance {
    pub instance_uuid: String,
    pub image_ref: Option<String>,
    pub orig_image_ref: Option<String>,
    pub new_pass: Option<String>,
    pub injected_files: Vec<(String, String)>,
    pub preserve_ephemeral: bool,
    pub recreate: bool,
    /// The evacuation's migration record.
    pub migration_id: Option<i64>,
    /// The node an evacuation lands on.
    pub node: Option<String>,
    /// 2.95: the state an evacuated instance ends in.
    pub target_state: Option<String>,
}

/// Spawn an offloaded instance from its shelved image on this host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnshelveInstance {
    pub instance_uuid: String,
    pub image_id: Option<String>,
    pub node: String,
}

/// Every task sent to an agent; serialized as `{"method": ..., "args": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "snake_case")]
pub enum ComputeTask {
    BuildAndRunInstance(BuildAndRunInstance),
    PrepResize(PrepResize),
    ResizeInstance(ResizeInstance),
    FinishResize(FinishResize),
    FinishRevertResize(FinishRevertResize),
    /// A call.
    CheckCanLiveMigrateDestination(CheckCanLiveMigrateDestination),
    /// A call.
    CheckCanLiveMigrateSource(CheckCanLiveMigrateSource),
    LiveMigration(LiveMigration),
    /// A call.
    PreLiveMigration(PreLiveMigration),
    /// A call.
    PostLiveMigrationAtDestination(PostLiveMigrationAtDestination),
    RollbackLiveMigrationAtDestination(RollbackLiveMigrationAtDestination),
    RebuildInstance(RebuildInstance),
    UnshelveInstance(UnshelveInstance),
}
