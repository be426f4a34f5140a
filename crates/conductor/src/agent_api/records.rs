//! The records the conductor hands to compute agents: plain, serializable copies of database
//! rows, so an agent can work with them without any access to the database.

use monostack_compute::db::flavor_snapshot::InstanceFlavor;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An instance as an agent sees it (Nova's `Instance` object, the fields compute uses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceRecord {
    pub uuid: String,
    /// The integer id; the hypervisor name is `instance-%08x` of it.
    pub id: i64,
    pub display_name: Option<String>,
    pub hostname: Option<String>,
    pub project_id: String,
    pub user_id: String,
    pub image_ref: Option<String>,
    pub flavor: InstanceFlavor,
    pub old_flavor: Option<InstanceFlavor>,
    pub new_flavor: Option<InstanceFlavor>,
    pub vm_state: String,
    pub task_state: Option<String>,
    pub power_state: i64,
    pub host: Option<String>,
    pub node: Option<String>,
    pub launched_on: Option<String>,
    pub availability_zone: Option<String>,
    pub key_data: Option<String>,
    pub user_data: Option<String>,
    pub launched_at: Option<i64>,
    pub terminated_at: Option<i64>,
    pub updated_at: Option<i64>,
    pub deleted: bool,
    /// User metadata (`/servers/{id}/metadata`).
    pub metadata: BTreeMap<String, String>,
    /// System metadata: `image_*` properties, `shelved_*`, `old_vm_state`.
    pub system_metadata: BTreeMap<String, String>,
}

impl InstanceRecord {
    /// Nova's `instance.name`: `instance-%08x` of the integer id.
    pub fn name(&self) -> String {
        format!("instance-{:08x}", self.id)
    }

    /// `[instance: <uuid>] `, the prefix Nova puts before every message about an instance.
    pub fn tag(&self) -> String {
        format!("[instance: {}] ", self.uuid)
    }
}

/// One column change of an instance, the ones compute may make (a closed list, so an agent
/// cannot write arbitrary columns through the conductor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "field", content = "value", rename_all = "snake_case")]
pub enum InstanceField {
    VmState(String),
    TaskState(Option<String>),
    PowerState(i64),
    Host(Option<String>),
    Node(Option<String>),
    LaunchedOn(Option<String>),
    /// Epoch microseconds.
    LaunchedAt(Option<i64>),
    TerminatedAt(Option<i64>),
    Progress(Option<i64>),
    Flavor(InstanceFlavor),
    OldFlavor(Option<InstanceFlavor>),
    NewFlavor(Option<InstanceFlavor>),
    ImageRef(Option<String>),
    AvailabilityZone(Option<String>),
}

/// A migration record (cold migration, resize, live migration or evacuation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationRecord {
    pub id: i64,
    /// Also the placement consumer that holds the source allocations during the move.
    pub uuid: String,
    pub instance_uuid: String,
    pub source_compute: Option<String>,
    pub source_node: Option<String>,
    pub dest_compute: Option<String>,
    pub dest_node: Option<String>,
    pub dest_host: Option<String>,
    pub old_instance_type_id: Option<i64>,
    pub new_instance_type_id: Option<i64>,
    pub status: String,
    /// `migration`, `resize`, `live-migration` or `evacuation`.
    pub migration_type: String,
    pub project_id: Option<String>,
    pub user_id: Option<String>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

/// Nova's migration types.
pub mod migration_types {
    pub const MIGRATION: &str = "migration";
    pub const RESIZE: &str = "resize";
    pub const LIVE_MIGRATION: &str = "live-migration";
    pub const EVACUATION: &str = "evacuation";
}

/// A compute service row as its agent needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRecord {
    pub id: i64,
    pub host: String,
    pub binary: String,
    pub disabled: bool,
    pub forced_down: bool,
}

/// What the resource tracker reports about one hypervisor node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeReport {
    pub host: String,
    pub hypervisor_hostname: String,
    pub hypervisor_type: String,
    pub hypervisor_version: i64,
    pub host_ip: Option<String>,
    pub vcpus: i64,
    pub memory_mb: i64,
    pub local_gb: i64,
    pub vcpus_used: i64,
    pub memory_mb_used: i64,
    pub local_gb_used: i64,
    pub running_vms: i64,
    pub current_workload: i64,
    pub disk_available_least: Option<i64>,
    /// The driver's cpu_info document, as JSON text.
    pub cpu_info: String,
    pub cpu_allocation_ratio: f64,
    pub ram_allocation_ratio: f64,
    pub disk_allocation_ratio: f64,
    pub service_id: Option<i64>,
    pub stats: serde_json::Map<String, serde_json::Value>,
}

/// A compute node as stored: its uuid is also its resource provider's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRecord {
    pub id: i64,
    pub uuid: String,
    pub host: String,
    pub hypervisor_hostname: String,
}

/// A fault to record on an instance (what `fault` shows on an ERROR server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultInfo {
    /// 500 for internal failures, as Nova records unexpected exceptions.
    pub code: i64,
    pub message: String,
    /// The error chain (Nova's traceback), shown to admins only.
    pub details: Option<String>,
}

impl FaultInfo {
    pub fn internal(message: impl Into<String>) -> Self {
        FaultInfo { code: 500, message: message.into(), details: None }
    }
}
