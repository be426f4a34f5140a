//! What the scheduler knows about one compute node: its resources, service, aggregates,
//! instances and capabilities (Nova's `HostState`).
//!
//! The conductor fills it from the compute node record, the service record, host aggregates
//! and the instance list. Free RAM and disk are kept the way Nova keeps them (they may go
//! negative under overcommit), and [`HostState::consume`] lowers them as a request is placed.

use crate::allocation::AllocationRequest;
use crate::request_spec::RequestSpec;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The availability zone of a host that is in no aggregate with `availability_zone` metadata.
pub const DEFAULT_AVAILABILITY_ZONE: &str = "nova";

/// A host aggregate the host belongs to, with its metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub id: i64,
    pub name: String,
    pub metadata: BTreeMap<String, String>,
}

/// State of the host's compute service (Nova's `services` row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceState {
    /// The service reported within `service_down_time`.
    pub up: bool,
    /// An operator disabled the service.
    pub disabled: bool,
    pub disabled_reason: Option<String>,
}

impl Default for ServiceState {
    fn default() -> Self {
        Self {
            up: true,
            disabled: false,
            disabled_reason: None,
        }
    }
}

/// One `(architecture, hypervisor type, vm mode)` triple the host can run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportedInstance {
    pub arch: String,
    pub hv_type: String,
    pub vm_mode: String,
}

impl SupportedInstance {
    pub fn new(arch: &str, hv_type: &str, vm_mode: &str) -> Self {
        Self {
            arch: arch.into(),
            hv_type: hv_type.into(),
            vm_mode: vm_mode.into(),
        }
    }

    /// Whether `value` is one of the triple's members (Nova compares by membership).
    pub fn contains(&self, value: &str) -> bool {
        self.arch == value || self.hv_type == value || self.vm_mode == value
    }
}

/// The uuids of the instances on a compute host. Every node of a host shares one set (as in
/// Nova, where all nodes of a host get the same instance dict), so building a thousand host
/// states of one host copies a pointer, not a thousand uuids; a change copies the set first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceSet(Arc<BTreeSet<String>>);

impl InstanceSet {
    pub fn new(uuids: BTreeSet<String>) -> Self {
        Self(Arc::new(uuids))
    }

    pub fn contains(&self, uuid: &str) -> bool {
        self.0.contains(uuid)
    }

    pub fn insert(&mut self, uuid: String) -> bool {
        if self.0.contains(&uuid) {
            return false;
        }
        Arc::make_mut(&mut self.0).insert(uuid)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &String> {
        self.0.iter()
    }
}

impl Extend<String> for InstanceSet {
    fn extend<I: IntoIterator<Item = String>>(&mut self, iter: I) {
        Arc::make_mut(&mut self.0).extend(iter);
    }
}

impl From<BTreeSet<String>> for InstanceSet {
    fn from(uuids: BTreeSet<String>) -> Self {
        Self::new(uuids)
    }
}

impl Serialize for InstanceSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for InstanceSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeSet::<String>::deserialize(deserializer).map(Self::new)
    }
}

/// Serde for the `Arc` fields (serde derives `Arc` only with its `rc` feature): the value
/// itself.
mod shared {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::sync::Arc;

    pub fn serialize<T, S>(value: &Arc<T>, serializer: S) -> Result<S::Ok, S::Error>
    where
        T: Serialize,
        S: Serializer,
    {
        value.as_ref().serialize(serializer)
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Arc<T>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        T::deserialize(deserializer).map(Arc::new)
    }
}

/// Oversubscription limits the chosen host must enforce in its claim.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    pub memory_mb: f64,
    pub disk_gb: f64,
    pub vcpu: f64,
}

/// Everything the filters and weighers look at for one (host, node).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostState {
    /// The compute service's host name.
    pub host: String,
    /// The hypervisor node name.
    pub nodename: String,
    /// The compute node's uuid, which is also its resource provider's uuid in placement.
    pub uuid: String,
    /// The host's availability zone when no aggregate names one.
    pub availability_zone: String,
    pub aggregates: Vec<Aggregate>,
    pub service: ServiceState,
    pub total_usable_ram_mb: i64,
    /// May be negative when RAM is overcommitted.
    pub free_ram_mb: i64,
    pub total_usable_disk_gb: i64,
    /// May be negative when disk is overcommitted.
    pub free_disk_mb: i64,
    pub vcpus_total: i64,
    pub vcpus_used: i64,
    pub ram_allocation_ratio: f64,
    pub cpu_allocation_ratio: f64,
    pub disk_allocation_ratio: f64,
    pub hypervisor_type: String,
    /// Nova's integer encoding: 6002000 is 6.2.0.
    pub hypervisor_version: u64,
    pub hypervisor_hostname: String,
    /// The driver's cpu_info document (`arch`, `model`, `vendor`, `features`, `topology`, ...),
    /// shared by the copies of one node's state.
    #[serde(with = "shared")]
    pub cpu_info: Arc<serde_json::Value>,
    pub supported_instances: Vec<SupportedInstance>,
    pub num_instances: u32,
    /// Uuids of the instances on this host (server-group and same/different-host filters).
    pub instances: InstanceSet,
    /// Traits of the host's resource provider.
    pub traits: BTreeSet<String>,
    /// Free-form stats of the compute node, reachable by ComputeCapabilitiesFilter; shared by
    /// the copies of one node's state.
    #[serde(with = "shared")]
    pub stats: Arc<BTreeMap<String, String>>,
    pub host_ip: Option<String>,
    /// Placement's allocation requests that involve this host. `None` means placement was not
    /// consulted (nothing is claimed); `Some(empty)` means no candidate is left for it.
    pub allocation_candidates: Option<Vec<AllocationRequest>>,
}

impl HostState {
    /// An empty, enabled, up host in the default AZ with Nova's default allocation ratios.
    pub fn new(host: &str, nodename: &str, uuid: &str) -> Self {
        Self {
            host: host.into(),
            nodename: nodename.into(),
            uuid: uuid.into(),
            availability_zone: DEFAULT_AVAILABILITY_ZONE.into(),
            aggregates: Vec::new(),
            service: ServiceState::default(),
            total_usable_ram_mb: 0,
            free_ram_mb: 0,
            total_usable_disk_gb: 0,
            free_disk_mb: 0,
            vcpus_total: 0,
            vcpus_used: 0,
            ram_allocation_ratio: 1.5,
            cpu_allocation_ratio: 16.0,
            disk_allocation_ratio: 1.0,
            hypervisor_type: String::new(),
            hypervisor_version: 0,
            hypervisor_hostname: nodename.into(),
            cpu_info: Arc::new(serde_json::Value::Null),
            supported_instances: Vec::new(),
            num_instances: 0,
            instances: InstanceSet::default(),
            traits: BTreeSet::new(),
            stats: Arc::default(),
            host_ip: None,
            allocation_candidates: None,
        }
    }

    pub fn used_ram_mb(&self) -> i64 {
        self.total_usable_ram_mb - self.free_ram_mb
    }

    pub fn used_disk_mb(&self) -> i64 {
        self.total_usable_disk_gb * 1024 - self.free_disk_mb
    }

    /// The (host, node) pair shown in logs.
    pub fn label(&self) -> String {
        format!("({}, {})", self.host, self.nodename)
    }

    /// Values of aggregate metadata `key`, each comma-separated value split out (Nova's
    /// `aggregate_metadata_get_by_host`).
    pub fn aggregate_metadata(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for aggregate in &self.aggregates {
            for (key, value) in &aggregate.metadata {
                let values = out.entry(key.clone()).or_default();
                values.extend(value.split(',').map(|v| v.trim().to_string()));
            }
        }
        out
    }

    /// The raw values of one metadata key over the host's aggregates.
    pub fn aggregate_values(&self, key: &str) -> BTreeSet<String> {
        self.aggregates
            .iter()
            .filter_map(|a| a.metadata.get(key).cloned())
            .collect()
    }

    /// The smallest numeric aggregate value of `key`, else `default` (Nova's
    /// `validate_num_values` with `min`). Unparsable values fall back to the default.
    pub fn aggregate_min_f64(&self, key: &str, default: f64) -> f64 {
        let values = self.aggregate_values(key);
        if values.is_empty() {
            return default;
        }
        let parsed: Result<Vec<f64>, _> = values.iter().map(|v| v.trim().parse::<f64>()).collect();
        match parsed {
            Ok(numbers) => numbers.into_iter().fold(f64::INFINITY, f64::min),
            Err(_) => {
                tracing::warn!("Could not decode {key} from aggregate metadata {values:?}");
                default
            }
        }
    }

    /// The availability zones the host is in: its aggregates' `availability_zone` values, or
    /// its own zone when no aggregate names one.
    pub fn availability_zones(&self) -> BTreeSet<String> {
        let zones = self
            .aggregate_metadata()
            .remove("availability_zone")
            .unwrap_or_default();
        if zones.is_empty() {
            BTreeSet::from([self.availability_zone.clone()])
        } else {
            zones
        }
    }

    /// The limits a claim on this host must respect.
    pub fn limits(&self) -> Limits {
        Limits {
            memory_mb: self.total_usable_ram_mb as f64 * self.ram_allocation_ratio,
            disk_gb: self.total_usable_disk_gb as f64 * self.disk_allocation_ratio,
            vcpu: self.vcpus_total as f64 * self.cpu_allocation_ratio,
        }
    }

    /// Virtually places one instance of `spec` here, so the next instance of the same request
    /// sees the host as it will be (Nova's `consume_from_request`).
    pub fn consume(&mut self, spec: &RequestSpec) {
        self.free_ram_mb -= spec.flavor.memory_mb as i64;
        self.free_disk_mb -= (spec.requested_root_gb() + spec.flavor.ephemeral_gb) as i64 * 1024;
        self.vcpus_used += i64::from(spec.flavor.vcpus);
        self.num_instances += 1;
        if let Some(uuid) = &spec.instance_uuid {
            self.instances.insert(uuid.clone());
        }
    }

    /// A host capability by path, as ComputeCapabilitiesFilter looks it up: the first element
    /// names a host attribute or a stat, the rest walk into it (`cpu_info:arch`). `None` when
    /// the path leads nowhere.
    pub fn capability(&self, path: &[&str]) -> Option<serde_json::Value> {
        let (first, rest) = path.split_first()?;
        let mut value = self.attribute(first)?;
        for key in rest {
            if let serde_json::Value::String(text) = &value {
                value = serde_json::from_str(text).ok()?;
            }
            value = value.get(key)?.clone();
            if value.is_null() {
                return None;
            }
        }
        Some(value)
    }

    /// Whether `name` is a host attribute or stat (unscoped flavor extra specs apply only then).
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attribute(name).is_some()
    }

    fn attribute(&self, name: &str) -> Option<serde_json::Value> {
        use serde_json::json;
        let value = match name {
            "host" => json!(self.host),
            "nodename" => json!(self.nodename),
            "uuid" => json!(self.uuid),
            "hypervisor_type" => json!(self.hypervisor_type),
            "hypervisor_version" => json!(self.hypervisor_version),
            "hypervisor_hostname" => json!(self.hypervisor_hostname),
            "cpu_info" if !self.cpu_info.is_null() => self.cpu_info.as_ref().clone(),
            "free_ram_mb" => json!(self.free_ram_mb),
            "free_disk_mb" => json!(self.free_disk_mb),
            "total_usable_ram_mb" => json!(self.total_usable_ram_mb),
            "total_usable_disk_gb" => json!(self.total_usable_disk_gb),
            "vcpus_total" => json!(self.vcpus_total),
            "vcpus_used" => json!(self.vcpus_used),
            "num_instances" => json!(self.num_instances),
            "host_ip" => json!(self.host_ip.clone()?),
            "ram_allocation_ratio" => json!(self.ram_allocation_ratio),
            "cpu_allocation_ratio" => json!(self.cpu_allocation_ratio),
            "disk_allocation_ratio" => json!(self.disk_allocation_ratio),
            _ => json!(self.stats.get(name)?),
        };
        Some(value)
    }
}

/// Renders a capability the way Python's `str()` does, so extra-spec operators compare the
/// same text Nova compares (`['pge', 'clflush']` for a list, `True` for a boolean).
pub fn python_str(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(python_repr).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("'{k}': {}", python_repr(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

fn python_repr(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => format!("'{s}'"),
        other => python_str(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{host, spec};
    use serde_json::json;

    #[test]
    fn consume_lowers_free_resources_and_records_the_instance() {
        let mut h = host("h1", 4096, 100, 8);
        let mut s = spec(1024, 10, 2);
        s.flavor.ephemeral_gb = 5;
        s.instance_uuid = Some("i-1".into());
        h.consume(&s);
        assert_eq!(h.free_ram_mb, 3072);
        assert_eq!(h.free_disk_mb, 100 * 1024 - 15 * 1024);
        assert_eq!(h.vcpus_used, 2);
        assert_eq!(h.num_instances, 1);
        assert!(h.instances.contains("i-1"));
        assert_eq!(h.used_ram_mb(), 1024);
    }

    #[test]
    fn boot_from_volume_consumes_no_root_disk() {
        let mut h = host("h1", 4096, 100, 8);
        let mut s = spec(1024, 10, 2);
        s.boot_from_volume = true;
        h.consume(&s);
        assert_eq!(h.free_disk_mb, 100 * 1024);
    }

    #[test]
    fn capabilities_walk_into_cpu_info_and_stats() {
        let mut h = host("h1", 4096, 100, 8);
        h.cpu_info = Arc::new(json!({"arch": "x86_64", "features": ["pge", "clflush"]}));
        Arc::make_mut(&mut h.stats).insert("gpu".into(), "yes".into());
        assert_eq!(h.capability(&["cpu_info", "arch"]), Some(json!("x86_64")));
        assert_eq!(
            python_str(&h.capability(&["cpu_info", "features"]).unwrap()),
            "['pge', 'clflush']"
        );
        assert_eq!(h.capability(&["gpu"]), Some(json!("yes")));
        assert_eq!(h.capability(&["cpu_info", "missing"]), None);
        assert_eq!(h.capability(&["nothing"]), None);
        assert!(h.has_attribute("hypervisor_type"));
        assert!(!h.has_attribute("bogus"));
    }

    #[test]
    fn cpu_info_given_as_json_text_is_parsed() {
        let mut h = host("h1", 4096, 100, 8);
        h.cpu_info = Arc::new(json!(r#"{"arch": "aarch64"}"#));
        assert_eq!(h.capability(&["cpu_info", "arch"]), Some(json!("aarch64")));
    }

    #[test]
    fn availability_zone_comes_from_aggregates_else_the_default() {
        let mut h = host("h1", 4096, 100, 8);
        assert_eq!(h.availability_zones(), BTreeSet::from(["nova".to_string()]));
        h.aggregates.push(Aggregate {
            id: 1,
            name: "rack1".into(),
            metadata: BTreeMap::from([("availability_zone".into(), "az1".into())]),
        });
        assert_eq!(h.availability_zones(), BTreeSet::from(["az1".to_string()]));
    }

    #[test]
    fn aggregate_numbers_take_the_minimum_and_ignore_garbage() {
        let mut h = host("h1", 4096, 100, 8);
        assert_eq!(h.aggregate_min_f64("ram_weight_multiplier", 1.0), 1.0);
        for (id, v) in [(1, "2.5"), (2, "-1")] {
            h.aggregates.push(Aggregate {
                id,
                name: format!("a{id}"),
                metadata: BTreeMap::from([("ram_weight_multiplier".into(), v.into())]),
            });
        }
        assert_eq!(h.aggregate_min_f64("ram_weight_multiplier", 1.0), -1.0);
        h.aggregates[0]
            .metadata
            .insert("ram_weight_multiplier".into(), "lots".into());
        assert_eq!(h.aggregate_min_f64("ram_weight_multiplier", 1.0), 1.0);
    }

    #[test]
    fn limits_apply_the_allocation_ratios() {
        let h = host("h1", 4096, 100, 8);
        let limits = h.limits();
        assert_eq!(limits.memory_mb, 6144.0);
        assert_eq!(limits.disk_gb, 100.0);
        assert_eq!(limits.vcpu, 128.0);
    }
}
