//! What a driver is told about an instance: identity, where it lives, and its flavor.

use super::power_state::PowerState;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The flavor an instance runs with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlavorInfo {
    pub name: String,
    pub vcpus: u32,
    pub memory_mb: u64,
    pub root_gb: u64,
    pub ephemeral_gb: u64,
    /// Swap, in MiB.
    pub swap_mb: u64,
    pub extra_specs: BTreeMap<String, String>,
}

/// The instance an operation is about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceRef {
    pub uuid: String,
    /// The hypervisor's name for the guest (`instance-0000000a`, see [`instance_name`]).
    pub name: String,
    /// The server's name as the user gave it.
    pub display_name: String,
    /// The compute service host the instance is on.
    pub host: String,
    /// The hypervisor node the instance is on (during a migration: the node the operation
    /// targets is given by the migration, not by this field).
    pub node: String,
    pub project_id: String,
    pub user_id: String,
    /// The flavor; after a resize is finished, the new one.
    pub flavor: FlavorInfo,
    /// The image the instance was built from (`None` when booted from a volume).
    pub image_ref: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

/// The hypervisor name of the instance with database id `id` (Nova's
/// `instance_name_template = instance-%08x`).
pub fn instance_name(id: u64) -> String {
    format!("instance-{id:08x}")
}

/// What `get_info` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceInfo {
    pub state: PowerState,
    /// The hypervisor's own id for the guest, if it has one.
    pub internal_id: Option<String>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn instance_names_follow_novas_template() {
        assert_eq!(super::instance_name(10), "instance-0000000a");
    }
}
