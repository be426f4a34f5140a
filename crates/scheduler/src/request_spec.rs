//! What a scheduling request asks for (Nova's `RequestSpec`): the flavor, the image, where the
//! user wants or refuses to land, the server group, and the hosts already tried.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The flavor of the instances to place.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Flavor {
    pub name: String,
    pub vcpus: u32,
    pub memory_mb: u64,
    pub root_gb: u64,
    pub ephemeral_gb: u64,
    /// Swap, in MiB.
    pub swap: u64,
    pub extra_specs: BTreeMap<String, String>,
}

/// The image the instances boot from; `properties` holds Glance's properties as strings
/// (`hw_architecture`, `img_hv_type`, `img_hv_requested_version`, `hw_vm_mode`, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageMeta {
    pub id: Option<String>,
    pub properties: BTreeMap<String, String>,
}

/// A server group's placement policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupPolicy {
    Affinity,
    AntiAffinity,
    SoftAffinity,
    SoftAntiAffinity,
}

impl GroupPolicy {
    /// The policy's API name (`anti-affinity`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Affinity => "affinity",
            Self::AntiAffinity => "anti-affinity",
            Self::SoftAffinity => "soft-affinity",
            Self::SoftAntiAffinity => "soft-anti-affinity",
        }
    }

    /// Parses an API policy name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Affinity,
            Self::AntiAffinity,
            Self::SoftAffinity,
            Self::SoftAntiAffinity,
        ]
        .into_iter()
        .find(|p| p.as_str() == name)
    }
}

/// The server group the instances join.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerGroup {
    pub uuid: String,
    pub policy: GroupPolicy,
    /// The `max_server_per_host` rule of an anti-affinity group (1 when unset).
    pub max_server_per_host: Option<u32>,
    /// Hosts the group's members are on; grows as instances of this request are placed.
    pub hosts: Vec<String>,
    /// Uuids of the group's members, including the instances being placed.
    pub members: Vec<String>,
}

/// A (host, node) already tried for this request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriedHost {
    pub host: String,
    pub nodename: String,
}

/// Retry bookkeeping of a rescheduled build or move.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RetryInfo {
    pub num_attempts: u32,
    pub hosts: Vec<TriedHost>,
}

/// A destination the caller insists on (live migration or `host`/`hypervisor_hostname` at
/// boot, microversion 2.74).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    pub host: String,
    pub node: Option<String>,
}

/// One scheduling request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestSpec {
    /// The instances to place; empty means `num_instances` anonymous ones (nothing is
    /// claimed in placement then).
    pub instance_uuids: Vec<String>,
    pub num_instances: u32,
    /// The instance being placed right now: set by the scheduler for each of
    /// `instance_uuids`, or by the caller for a move of an existing instance.
    pub instance_uuid: Option<String>,
    pub project_id: String,
    pub user_id: String,
    pub flavor: Flavor,
    pub image: ImageMeta,
    /// The root disk is a volume, so the flavor's root_gb takes no local disk.
    pub boot_from_volume: bool,
    pub availability_zone: Option<String>,
    /// Admin-forced hosts (`az:host`); filters are skipped for them.
    pub force_hosts: Vec<String>,
    /// Admin-forced nodes (`az:host:node`); filters are skipped for them.
    pub force_nodes: Vec<String>,
    /// Hosts never to pick (e.g. the source of a cold migration when resizing to the same host
    /// is not allowed).
    pub ignore_hosts: Vec<String>,
    pub requested_destination: Option<Destination>,
    /// `os:scheduler_hints`, each value as a list of strings.
    pub scheduler_hints: BTreeMap<String, Vec<String>>,
    pub instance_group: Option<ServerGroup>,
    pub retry: Option<RetryInfo>,
    /// A rebuild checks the current host against the new image: only the filters that matter
    /// for a rebuild run.
    pub is_rebuild: bool,
}

impl RequestSpec {
    /// A request for `num_instances` of `flavor`.
    pub fn new(flavor: Flavor, num_instances: u32) -> Self {
        Self {
            flavor,
            num_instances,
            ..Self::default()
        }
    }

    /// The values of one scheduler hint (empty when absent).
    pub fn hint(&self, key: &str) -> &[String] {
        self.scheduler_hints
            .get(key)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Root disk this request takes on the host, in GiB.
    pub fn requested_root_gb(&self) -> u64 {
        if self.boot_from_volume {
            0
        } else {
            self.flavor.root_gb
        }
    }

    /// Local disk this request takes, in MiB (root, ephemeral and swap).
    pub fn requested_disk_mb(&self) -> u64 {
        (self.requested_root_gb() + self.flavor.ephemeral_gb) * 1024 + self.flavor.swap
    }

    /// How many instances the request places.
    pub fn instance_count(&self) -> usize {
        if self.instance_uuids.is_empty() {
            self.num_instances as usize
        } else {
            self.instance_uuids.len()
        }
    }

    /// The group's policy, if the request has a group.
    pub fn group_policy(&self) -> Option<GroupPolicy> {
        self.instance_group.as_ref().map(|g| g.policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_round_trip_through_their_api_names() {
        for name in [
            "affinity",
            "anti-affinity",
            "soft-affinity",
            "soft-anti-affinity",
        ] {
            let policy = GroupPolicy::parse(name).unwrap();
            assert_eq!(policy.as_str(), name);
            assert_eq!(
                serde_json::to_value(policy).unwrap(),
                serde_json::json!(name)
            );
        }
        assert_eq!(GroupPolicy::parse("sticky"), None);
    }

    #[test]
    fn requested_disk_counts_root_ephemeral_and_swap_unless_booting_from_volume() {
        let mut spec = RequestSpec::new(
            Flavor {
                root_gb: 10,
                ephemeral_gb: 2,
                swap: 512,
                ..Flavor::default()
            },
            1,
        );
        assert_eq!(spec.requested_disk_mb(), 12 * 1024 + 512);
        spec.boot_from_volume = true;
        assert_eq!(spec.requested_disk_mb(), 2 * 1024 + 512);
    }

    #[test]
    fn instance_count_prefers_the_uuid_list() {
        let mut spec = RequestSpec::new(Flavor::default(), 3);
        assert_eq!(spec.instance_count(), 3);
        spec.instance_uuids = vec!["a".into(), "b".into()];
        assert_eq!(spec.instance_count(), 2);
        assert!(spec.hint("same_host").is_empty());
    }
}
