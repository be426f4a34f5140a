//! What the scheduler needs to place an instance, stored per instance (Nova's RequestSpec).
//!
//! The field names and shapes are those of `monostack_scheduler::RequestSpec`, so the
//! conductor can deserialize a stored spec straight into the scheduler's type; the fields the
//! scheduler does not know (security groups, requested networks, the image's details) are
//! ignored by it and used by the conductor.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The flavor as the scheduler sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpecFlavor {
    pub name: String,
    pub vcpus: u32,
    pub memory_mb: u64,
    pub root_gb: u64,
    pub ephemeral_gb: u64,
    /// MiB.
    pub swap: u64,
    pub extra_specs: BTreeMap<String, String>,
}

/// The image the instance boots from: id and Glance properties as strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpecImage {
    pub id: Option<String>,
    pub properties: BTreeMap<String, String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub min_ram: i64,
    #[serde(default)]
    pub min_disk: i64,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub disk_format: Option<String>,
    #[serde(default)]
    pub container_format: Option<String>,
}

/// A server group the instance joins (policy names as the API spells them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecGroup {
    pub uuid: String,
    pub policy: String,
    pub max_server_per_host: Option<u32>,
    pub hosts: Vec<String>,
    pub members: Vec<String>,
}

/// A destination the request insists on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecDestination {
    pub host: String,
    pub node: Option<String>,
}

/// One requested network: `none`/`auto`, a network uuid, or a port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum NetworkRequest {
    /// `"networks": "none"`: no network at all.
    None,
    /// `"networks": "auto"` (or no networks before 2.37).
    Auto,
    Network { uuid: String, fixed_ip: Option<String>, tag: Option<String> },
    Port { port_id: String, tag: Option<String> },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestSpec {
    pub instance_uuids: Vec<String>,
    pub num_instances: u32,
    pub instance_uuid: Option<String>,
    pub project_id: String,
    pub user_id: String,
    pub flavor: SpecFlavor,
    pub image: SpecImage,
    pub boot_from_volume: bool,
    pub availability_zone: Option<String>,
    pub force_hosts: Vec<String>,
    pub force_nodes: Vec<String>,
    pub ignore_hosts: Vec<String>,
    pub requested_destination: Option<SpecDestination>,
    /// `os:scheduler_hints`, every value as a list of strings.
    pub scheduler_hints: BTreeMap<String, Vec<String>>,
    pub instance_group: Option<SpecGroup>,
    pub retry: Option<serde_json::Value>,
    pub is_rebuild: bool,
    /// Security group names the ports get.
    #[serde(default)]
    pub security_groups: Vec<String>,
    #[serde(default)]
    pub requested_networks: Vec<NetworkRequest>,
}

impl SpecFlavor {
    pub fn from_instance_flavor(f: &crate::db::flavor_snapshot::InstanceFlavor) -> Self {
        SpecFlavor {
            name: f.name.clone(),
            vcpus: u32::try_from(f.vcpus).unwrap_or(0),
            memory_mb: u64::try_from(f.memory_mb).unwrap_or(0),
            root_gb: u64::try_from(f.root_gb).unwrap_or(0),
            ephemeral_gb: u64::try_from(f.ephemeral_gb).unwrap_or(0),
            swap: u64::try_from(f.swap).unwrap_or(0),
            extra_specs: f.extra_specs.clone(),
        }
    }
}
