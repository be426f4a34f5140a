//! What compute agents ask the conductor (topic `conductor`): the database proxy (agents never
//! touch the database), placement writes, and the reports that hand a flow back to the
//! conductor (a failed build or resize to reschedule). Calls unless noted.
//!
//! Errors travel as a [`RemoteFault`] in the bus error: `InstanceNotFound`,
//! `UnexpectedTaskStateError`, `UnexpectedDeletingTaskStateError`, `MigrationNotFound`, or
//! `Internal`.
//!
//! [`RemoteFault`]: monostack_compute::rpc::compute::RemoteFault

use super::records::{FaultInfo, InstanceField, NodeReport};
use crate::agent_api::compute::BuildArgs;
use monostack_placement::types::Inventory;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const TOPIC: &str = "conductor";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceGet {
    pub uuid: String,
    /// Also answer for a deleted instance (a delete that finishes after a restart).
    pub include_deleted: bool,
}

/// Nova's `instance.save(expected_task_state=...)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceUpdate {
    pub uuid: String,
    pub changes: Vec<InstanceField>,
    /// The task states the instance must be in for the update to apply (`None` in the list is
    /// "no task"); absent means any.
    pub expected_task_state: Option<Vec<Option<String>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstancesOnHost {
    pub host: String,
    /// Only the instances on this node of the host (a resource tracker reporting one node of
    /// many need not read the others'); all of the host's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceRef {
    pub uuid: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemMetadataUpdate {
    pub uuid: String,
    pub set: BTreeMap<String, String>,
    pub delete: Vec<String>,
}

/// Starts an instance action for work an agent begins on its own (a periodic auto-confirm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionStart {
    pub uuid: String,
    pub action: String,
    pub request_id: String,
    pub user_id: Option<String>,
    pub project_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventStart {
    pub uuid: String,
    pub request_id: String,
    /// `compute_<operation>` as Nova names them.
    pub event: String,
    pub host: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventFinish {
    pub uuid: String,
    pub request_id: String,
    pub event: String,
    pub success: bool,
    /// The error chain of a failure (the event's traceback).
    pub traceback: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultCreate {
    pub uuid: String,
    pub fault: FaultInfo,
    pub host: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRegister {
    pub host: String,
    pub binary: String,
    pub topic: String,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceHeartbeat {
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationGet {
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationStatus {
    pub id: i64,
    pub status: String,
}

/// Migrations touching `host` (as source or destination) with one of `statuses`, optionally
/// only those last changed before `updated_before` (epoch µs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationsOnHost {
    pub host: String,
    pub statuses: Vec<String>,
    pub updated_before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfoCacheSet {
    pub uuid: String,
    pub network_info: Value,
}

/// The resource tracker's placement view of a node: its provider (the compute node's uuid)
/// with the node's VCPU, MEMORY_MB and DISK_GB inventories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderSync {
    pub uuid: String,
    pub name: String,
    pub inventories: BTreeMap<String, Inventory>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consumer {
    pub consumer_uuid: String,
}

/// A migration's allocations: the source's, held by the migration's uuid during the move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationAllocations {
    pub instance_uuid: String,
    pub migration_uuid: String,
}

/// A build failed on `host`/`node`; the conductor frees the claim and tries an alternate
/// (cast).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildFailed {
    pub instance_uuid: String,
    pub host: String,
    pub node: String,
    pub fault: FaultInfo,
    /// Retry the build elsewhere; false for failures another host would not fix.
    pub reschedule: bool,
    pub build: BuildArgs,
}

/// `prep_resize` failed on the destination; the conductor frees the destination claim and
/// tries an alternate or rolls the resize back (cast).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResizeFailed {
    pub instance_uuid: String,
    pub migration_id: i64,
    pub host: String,
    pub node: String,
    pub fault: FaultInfo,
    pub reschedule: bool,
}

/// Every request an agent sends the conductor; serialized as `{"method": ..., "args": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "snake_case")]
pub enum ConductorRequest {
    /// Answers `Option<InstanceRecord>`.
    InstanceGet(InstanceGet),
    /// Answers the updated `InstanceRecord`.
    InstanceUpdate(InstanceUpdate),
    /// Answers `Vec<InstanceRecord>`: the live instances whose host is `host`.
    InstancesOnHost(InstancesOnHost),
    /// Soft-deletes the instance row (Nova's `instance.destroy()`); answers whether it was live.
    InstanceDestroy(InstanceRef),
    SystemMetadataUpdate(SystemMetadataUpdate),
    ActionStart(ActionStart),
    ActionEventStart(EventStart),
    ActionEventFinish(EventFinish),
    InstanceFaultCreate(FaultCreate),
    /// Answers the `ServiceRecord`.
    ServiceRegister(ServiceRegister),
    /// Answers `Option<ServiceRecord>`: None when the service was deleted.
    ServiceHeartbeat(ServiceHeartbeat),
    /// Answers the `NodeRecord`.
    ComputeNodeUpdate(NodeReport),
    /// Answers `Option<MigrationRecord>`.
    MigrationGet(MigrationGet),
    /// Answers the updated `MigrationRecord`.
    MigrationSetStatus(MigrationStatus),
    /// Answers `Vec<MigrationRecord>`.
    MigrationsOnHost(MigrationsOnHost),
    /// Answers the cached network info (a JSON list).
    InfoCacheGet(InstanceRef),
    InfoCacheSet(InfoCacheSet),
    /// Answers the instance's block device mappings.
    BlockDeviceMappings(InstanceRef),
    /// Writes what the agent learnt about a mapping (volume, attachment, connection info,
    /// device); answers whether the mapping was still there.
    BlockDeviceMappingSave(monostack_compute::db::block_device_mappings::BlockDeviceMapping),
    /// Soft-deletes the mapping of this uuid (a detach).
    BlockDeviceMappingDestroy(InstanceRef),
    ProviderSync(ProviderSync),
    /// Removes every allocation of the consumer.
    AllocationsDelete(Consumer),
    /// Confirms a move: drops the source allocations the migration holds.
    MigrationAllocationsDrop(MigrationAllocations),
    /// Reverts a move: the instance takes back the source allocations from the migration
    /// (replacing any destination allocations), atomically.
    MigrationAllocationsRevert(MigrationAllocations),
    /// Cast.
    BuildFailed(BuildFailed),
    /// Cast.
    ResizeFailed(ResizeFailed),
}
