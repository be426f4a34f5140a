//! What a hypervisor node offers, as reported to the resource tracker, and what a driver can do.

use serde::{Deserialize, Serialize};

/// CPU topology of a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuTopology {
    pub sockets: u32,
    pub cores: u32,
    pub threads: u32,
}

/// The node's CPU (Nova's `cpu_info` document: what ComputeCapabilitiesFilter matches
/// `capabilities:cpu_info:*` against).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuInfo {
    pub arch: String,
    pub model: String,
    pub vendor: String,
    pub features: Vec<String>,
    pub topology: CpuTopology,
}

/// One `(architecture, hypervisor type, vm mode)` the node can run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportedInstance {
    pub arch: String,
    pub hv_type: String,
    pub vm_mode: String,
}

/// A node's resources and identity (Nova's `get_available_resource` dict).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeResources {
    pub hypervisor_hostname: String,
    pub hypervisor_type: String,
    /// Nova's integer encoding (6002000 is 6.2.0).
    pub hypervisor_version: u64,
    pub vcpus: u32,
    pub memory_mb: u64,
    /// Local disk, in GiB.
    pub local_gb: u64,
    pub vcpus_used: u32,
    pub memory_mb_used: u64,
    pub local_gb_used: u64,
    /// Disk actually left, which thin-provisioned disks make larger than `local_gb - used`.
    pub disk_available_least: i64,
    pub cpu_info: CpuInfo,
    pub supported_instances: Vec<SupportedInstance>,
}

/// What a driver supports (Nova's driver `capabilities`), checked by the compute manager
/// before it tries an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverCapabilities {
    /// The driver caches images locally (`_base`), so the manager runs its image-cache
    /// cleanup.
    pub has_imagecache: bool,
    pub supports_evacuate: bool,
    pub supports_migrate_to_same_host: bool,
    pub supports_attach_interface: bool,
    pub supports_multiattach: bool,
    pub supports_extend_volume: bool,
}
