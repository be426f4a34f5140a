//! Running the scheduler: the placement query of a flavor, the host states built from the
//! compute database (nodes, services, aggregates, instances) and placement's candidates, and
//! the retry bookkeeping a reschedule reads back from the stored request spec.

use crate::allocations::PlacementClaimer;
use crate::Conductor;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_compute::db::{aggregates, compute_nodes, services};
use monostack_compute::request_spec::{RequestSpec, SpecFlavor};
use monostack_db::RowExt;
use monostack_placement::types::{CandidateQuery, RequestGroup};
use monostack_scheduler::{self as scheduler, HostChoice, HostState, InstanceSet, NoValidHost, Selection, SupportedInstance, TriedHost};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a build or move remembers between attempts (kept in the request spec's `retry`):
/// the hosts tried and the alternates the scheduler offered. The scheduler's RetryFilter
/// reads `num_attempts` and `hosts` of the same document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Retry {
    pub num_attempts: u32,
    pub hosts: Vec<TriedHost>,
    #[serde(default)]
    pub alternates: Vec<HostChoice>,
}

impl Retry {
    pub fn of(spec: &RequestSpec) -> Retry {
        spec.retry.clone().and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default()
    }

    /// Records an attempt on `choice`.
    pub fn attempt(&mut self, choice: &HostChoice) {
        self.num_attempts += 1;
        self.hosts.push(TriedHost { host: choice.host.clone(), nodename: choice.nodename.clone() });
    }

    pub fn store(&self, spec: &mut RequestSpec) {
        spec.retry = serde_json::to_value(self).ok();
    }
}

/// Placement's query for one instance of `flavor` (Nova's `ResourceRequest.from_request_spec`):
/// VCPU, MEMORY_MB and DISK_GB (root unless booting from a volume, ephemeral, swap rounded up
/// to GiB), `resources:<CLASS>` extra specs overriding them, and `trait:<NAME>` extra specs as
/// required or forbidden traits.
pub(crate) fn candidate_query(flavor: &SpecFlavor, boot_from_volume: bool) -> CandidateQuery {
    let root = if boot_from_volume { 0 } else { flavor.root_gb };
    let disk = root + flavor.ephemeral_gb + flavor.swap.div_ceil(1024);
    let mut resources: BTreeMap<String, i64> = BTreeMap::new();
    resources.insert("VCPU".into(), i64::from(flavor.vcpus));
    resources.insert("MEMORY_MB".into(), i64::try_from(flavor.memory_mb).unwrap_or(i64::MAX));
    resources.insert("DISK_GB".into(), i64::try_from(disk).unwrap_or(i64::MAX));
    let mut group = RequestGroup::default();
    for (key, value) in &flavor.extra_specs {
        if let Some(class) = key.strip_prefix("resources:") {
            if let Ok(amount) = value.trim().parse::<i64>() {
                resources.insert(class.to_string(), amount);
            }
        } else if let Some(name) = key.strip_prefix("trait:") {
            match value.trim() {
                "required" => group.required.push(BTreeSet::from([name.to_string()])),
                "forbidden" => {
                    group.forbidden.insert(name.to_string());
                }
                _ => {}
            }
        }
    }
    resources.retain(|_, amount| *amount > 0);
    group.resources = resources;
    let mut query = CandidateQuery::default();
    query.groups.insert(String::new(), group);
    query
}

/// The stored spec as the scheduler's type (the stored shape is the scheduler's, with extra
/// fields it ignores).
pub(crate) fn scheduler_spec(spec: &RequestSpec) -> Result<scheduler::RequestSpec, ApiError> {
    let value = serde_json::to_value(spec).map_err(ApiError::internal)?;
    serde_json::from_value(value).map_err(ApiError::internal)
}

impl Conductor {
    /// Host states of every compute node placement offers for `query`, each with its
    /// allocation candidates. `in_tree` narrows placement to one node.
    ///
    /// The node records come from the conductor's cache (read again where they changed, see
    /// [`crate::host_cache`]); usage, services, aggregates and instances are read for every
    /// request, as placement's candidates are.
    pub(crate) async fn host_states(&self, query: &CandidateQuery) -> Result<Vec<HostState>, ApiError> {
        let candidates = self.placement.allocation_candidates(query).await.map_err(|e| ApiError::internal(format!("placement: {e}")))?;
        let mut by_provider = requests_by_provider(&candidates.allocation_requests);
        let db = &self.compute.db;
        let config = &self.compute.config;
        let services: HashMap<String, services::Service> =
            services::list(db, None, Some(services::COMPUTE_BINARY)).await?.into_iter().map(|s| (s.host.clone(), s)).collect();
        let all_aggregates = aggregates::list(db).await?;
        let instances = instances_by_host(db).await?;
        let nodes = self.nodes.nodes(db, base_state).await?;
        let now = now_micros();
        let mut hosts = Vec::new();
        for cached in nodes {
            let node = &cached.node;
            let Some(summary) = candidates.provider_summaries.get(&node.uuid) else { continue };
            let mut state = cached.state.clone();
            apply_placement_usage(&mut state, summary);
            state.availability_zone = config.compute.default_availability_zone.clone();
            state.service = match services.get(&node.host) {
                Some(s) => scheduler::ServiceState {
                    up: services::is_up(s, config.compute.service_down_time, now),
                    disabled: s.disabled,
                    disabled_reason: s.disabled_reason.clone(),
                },
                None => scheduler::ServiceState { up: false, disabled: false, disabled_reason: None },
            };
            state.aggregates = all_aggregates
                .iter()
                .filter(|a| a.hosts.contains(&node.host))
                .map(|a| scheduler::Aggregate { id: a.id, name: a.name.clone(), metadata: a.metadata.clone() })
                .collect();
            if let Some(on_host) = instances.get(&node.host) {
                state.instances = on_host.clone();
                state.num_instances = u32::try_from(on_host.len()).unwrap_or(u32::MAX);
            }
            state.traits = summary.traits.iter().cloned().collect();
            state.allocation_candidates = Some(by_provider.remove(&node.uuid).unwrap_or_default());
            hosts.push(state);
        }
        Ok(hosts)
    }

    /// Schedules (and claims in placement) every instance of `spec`; the group's hosts are
    /// refreshed from the database first.
    pub(crate) async fn select(&self, spec: &RequestSpec, exclude_from_group: &[String]) -> Result<Result<Vec<Selection>, NoValidHost>, ApiError> {
        let mut sched = scheduler_spec(spec)?;
        if let Some(group) = sched.instance_group.as_mut() {
            group.hosts = group_hosts(&self.compute.db, &group.uuid, exclude_from_group).await?;
        }
        let query = candidate_query(&spec.flavor, spec.boot_from_volume);
        let hosts = self.host_states(&query).await?;
        tracing::debug!("Starting to schedule for instances: {:?} on {} candidate hosts", sched.instance_uuids, hosts.len());
        let claimer = PlacementClaimer { placement: self.placement.as_ref(), project_id: &spec.project_id, user_id: &spec.user_id };
        Ok(self.scheduler.select_and_claim(&sched, hosts, &claimer).await)
    }
}

impl Conductor {
    /// Claims `spec`'s resources for its instance on a host an admin forced (no filters, as
    /// Nova's forced hosts): the host's first node that placement says can take them.
    pub(crate) async fn claim_on_host(&self, spec: &RequestSpec, host: &str) -> Result<Option<HostChoice>, ApiError> {
        let uuid = spec.instance_uuid.clone().unwrap_or_default();
        for node in compute_nodes::by_host(&self.compute.db, host).await? {
            let mut query = candidate_query(&spec.flavor, spec.boot_from_volume);
            if let Some(group) = query.groups.get_mut("") {
                group.in_tree = Some(node.uuid.clone());
            }
            let candidates = self.placement.allocation_candidates(&query).await.map_err(|e| ApiError::internal(format!("placement: {e}")))?;
            let Some(request) = candidates.allocation_requests.first() else { continue };
            let request = scheduler_request(request);
            if crate::allocations::claim(self.placement.as_ref(), &uuid, &request, &spec.project_id, &spec.user_id).await {
                let state = base_state(&node);
                return Ok(Some(HostChoice {
                    host: node.host.clone(),
                    nodename: node.hypervisor_hostname.clone(),
                    compute_node_uuid: node.uuid.clone(),
                    limits: state.limits(),
                    allocation_request: Some(request),
                }));
            }
        }
        Ok(None)
    }
}

/// What is used of each node as placement counts it right now. The compute node record lags
/// (the resource tracker reports periodically); placement has every claim the moment it is
/// made, so hosts that just took instances weigh as fuller and a burst of builds spreads.
fn apply_placement_usage(state: &mut HostState, summary: &monostack_placement::types::ProviderSummary) {
    if let Some(ram) = summary.resources.get("MEMORY_MB") {
        state.free_ram_mb = state.total_usable_ram_mb - ram.used;
    }
    if let Some(disk) = summary.resources.get("DISK_GB") {
        state.free_disk_mb = (state.total_usable_disk_gb - disk.used) * 1024;
    }
    if let Some(vcpu) = summary.resources.get("VCPU") {
        state.vcpus_used = vcpu.used;
    }
}

/// The parts of a host state the compute node record gives.
fn base_state(node: &compute_nodes::ComputeNode) -> HostState {
    let mut state = HostState::new(&node.host, &node.hypervisor_hostname, &node.uuid);
    state.total_usable_ram_mb = node.memory_mb;
    state.free_ram_mb = node.memory_mb - node.memory_mb_used;
    state.total_usable_disk_gb = node.local_gb;
    state.free_disk_mb = (node.local_gb - node.local_gb_used) * 1024;
    state.vcpus_total = node.vcpus;
    state.vcpus_used = node.vcpus_used;
    state.ram_allocation_ratio = node.ram_allocation_ratio;
    state.cpu_allocation_ratio = node.cpu_allocation_ratio;
    state.disk_allocation_ratio = node.disk_allocation_ratio;
    state.hypervisor_type = node.hypervisor_type.clone();
    state.hypervisor_version = u64::try_from(node.hypervisor_version).unwrap_or(0);
    state.cpu_info = std::sync::Arc::new(serde_json::from_str(&node.cpu_info).unwrap_or(serde_json::Value::Null));
    state.host_ip = node.host_ip.clone();
    let mut stats = BTreeMap::new();
    for (key, value) in &node.stats {
        if key == "supported_instances" {
            state.supported_instances = supported_instances(value);
            continue;
        }
        let text = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
        stats.insert(key.clone(), text);
    }
    state.stats = std::sync::Arc::new(stats);
    state
}

/// `[[arch, hv_type, vm_mode], …]`, as the agent reports it in the node's stats.
fn supported_instances(value: &serde_json::Value) -> Vec<SupportedInstance> {
    let parsed: Option<Vec<(String, String, String)>> = match value {
        serde_json::Value::String(text) => serde_json::from_str(text).ok(),
        other => serde_json::from_value(other.clone()).ok(),
    };
    parsed.unwrap_or_default().iter().map(|(a, h, m)| SupportedInstance::new(a, h, m)).collect()
}

/// Instance uuids by host (the server-group and same/different-host filters look at them);
/// the nodes of one host share its set.
async fn instances_by_host(db: &monostack_db::Database) -> Result<HashMap<String, InstanceSet>, ApiError> {
    let rows = sqlx::query("SELECT uuid, host FROM instances WHERE deleted = 0 AND host IS NOT NULL").fetch_all(&db.pool).await?;
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    for row in rows {
        out.entry(row.text("host")?).or_default().insert(row.text("uuid")?);
    }
    Ok(out.into_iter().map(|(host, uuids)| (host, InstanceSet::new(uuids))).collect())
}

/// Placement's allocation requests in the scheduler's type, indexed by every provider they
/// involve (Nova's `allocation_requests_by_provider`), converted field by field.
fn requests_by_provider(requests: &[monostack_placement::types::AllocationRequest]) -> HashMap<String, Vec<scheduler::AllocationRequest>> {
    let mut out: HashMap<String, Vec<scheduler::AllocationRequest>> = HashMap::new();
    for request in requests {
        let converted = scheduler_request(request);
        for provider in request.allocations.keys() {
            out.entry(provider.clone()).or_default().push(converted.clone());
        }
    }
    out
}

/// One placement allocation request as the scheduler's (amounts are never negative).
pub(crate) fn scheduler_request(request: &monostack_placement::types::AllocationRequest) -> scheduler::AllocationRequest {
    let allocations = request
        .allocations
        .iter()
        .map(|(rp, a)| {
            let resources = a.resources.iter().map(|(rc, n)| (rc.clone(), u64::try_from(*n).unwrap_or(0))).collect();
            (rp.clone(), scheduler::allocation::ProviderAllocation { resources })
        })
        .collect();
    scheduler::AllocationRequest { allocations, mappings: request.mappings.clone() }
}

/// The hosts of the group's live members, except `exclude`.
async fn group_hosts(db: &monostack_db::Database, group_uuid: &str, exclude: &[String]) -> Result<Vec<String>, ApiError> {
    let sql = "SELECT i.uuid, i.host FROM instance_group_members m JOIN instance_groups g ON g.id = m.group_id JOIN instances i ON i.uuid = m.instance_uuid AND i.deleted = 0 WHERE g.uuid = ? AND i.host IS NOT NULL";
    let rows = sqlx::query(&db.sql(sql)).bind(group_uuid.to_string()).fetch_all(&db.pool).await?;
    let mut hosts: Vec<String> = Vec::new();
    for row in rows {
        if exclude.contains(&row.text("uuid")?) {
            continue;
        }
        let host = row.text("host")?;
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavor_becomes_placement_resources_and_traits() {
        let mut flavor = SpecFlavor { vcpus: 2, memory_mb: 2048, root_gb: 20, ephemeral_gb: 5, swap: 1536, ..SpecFlavor::default() };
        flavor.extra_specs.insert("trait:HW_CPU_X86_AVX".into(), "required".into());
        flavor.extra_specs.insert("trait:CUSTOM_SLOW".into(), "forbidden".into());
        flavor.extra_specs.insert("resources:VCPU".into(), "4".into());
        let q = candidate_query(&flavor, false);
        let g = &q.groups[""];
        assert_eq!(g.resources["VCPU"], 4);
        assert_eq!(g.resources["MEMORY_MB"], 2048);
        assert_eq!(g.resources["DISK_GB"], 27, "root + ephemeral + swap rounded up");
        assert_eq!(g.required, vec![BTreeSet::from(["HW_CPU_X86_AVX".to_string()])]);
        assert!(g.forbidden.contains("CUSTOM_SLOW"));
        let bfv = candidate_query(&SpecFlavor { vcpus: 1, memory_mb: 64, root_gb: 1, ..SpecFlavor::default() }, true);
        assert!(!bfv.groups[""].resources.contains_key("DISK_GB"), "no local disk when booting from a volume");
    }

    #[test]
    fn retry_rides_in_the_spec_and_reads_as_the_schedulers() {
        let mut spec = RequestSpec::default();
        let mut retry = Retry::default();
        let choice = HostChoice {
            host: "h1".into(),
            nodename: "n1".into(),
            compute_node_uuid: "u".into(),
            limits: scheduler::Limits { memory_mb: 1.0, disk_gb: 1.0, vcpu: 1.0 },
            allocation_request: None,
        };
        retry.attempt(&choice);
        retry.alternates.push(choice);
        retry.store(&mut spec);
        assert_eq!(Retry::of(&spec), retry);
        let sched = scheduler_spec(&spec).unwrap();
        assert_eq!(sched.retry.unwrap().hosts[0].nodename, "n1");
    }
}
