//! The resource tracker (Nova's `ResourceTracker.update_available_resource`): for every node of
//! this host, the hypervisor's size from the driver and the usage of the instances (and the
//! moves in progress) the database places on it, reported as the compute node record (what
//! `openstack hypervisor show` and the scheduler's filters read) and as the node's resource
//! provider inventories in placement (VCPU, MEMORY_MB, DISK_GB with the `[compute]` allocation
//! ratios), with the host's `uptime` among the node's stats. It runs at start-up, every
//! `update_resources_interval`, and after every claim or release on the node.

use super::ComputeManager;
use crate::virt::NodeResources;
use monostack_bus::Context;
use monostack_compute::db::flavor_snapshot::InstanceFlavor;
use monostack_compute::states::vm;
use monostack_conductor::agent_api::conductor::{ConductorRequest, InstancesOnHost, MigrationsOnHost, ProviderSync};
use monostack_conductor::agent_api::records::{InstanceRecord, MigrationRecord, NodeRecord, NodeReport};
use monostack_conductor::agent_api::Inventory;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};

/// Migration statuses during which a move holds resources on both hosts.
const MOVING: &[&str] = &["pre-migrating", "migrating", "post-migrating", "finished", "confirming", "reverting", "accepted", "preparing", "running", "queued"];

/// What the tracker remembers per node: its compute node uuid (= provider uuid) and the
/// inventories last written to placement, so unchanged ones are not written again.
#[derive(Default)]
pub struct ResourceTracker {
    nodes: Mutex<HashMap<String, Reported>>,
    /// One report at a time per host (reports read then write the same records).
    running: tokio::sync::Mutex<()>,
}

/// A node's last report: its compute node uuid and the inventories written to placement.
struct Reported {
    uuid: String,
    inventories: BTreeMap<String, Inventory>,
}

impl ResourceTracker {
    /// The compute node uuid of `node` once reported.
    pub fn node_uuid(&self, node: &str) -> Option<String> {
        self.nodes.lock().get(node).map(|r| r.uuid.clone())
    }
}

/// Resources one flavor takes: (vcpus, memory MB, disk GB).
fn footprint(f: &InstanceFlavor) -> (i64, i64, i64) {
    (f.vcpus, f.memory_mb, f.root_gb + f.ephemeral_gb + (f.swap + 1023) / 1024)
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Usage {
    vcpus: i64,
    memory_mb: i64,
    disk_gb: i64,
    instances: i64,
}

impl Usage {
    fn add(&mut self, flavor: &InstanceFlavor) {
        let (c, m, d) = footprint(flavor);
        self.vcpus += c;
        self.memory_mb += m;
        self.disk_gb += d;
    }
}

/// Usage of `node`: its instances (not offloaded), plus incoming moves (the new flavor) and
/// resized-away instances whose source copy is still kept (the old flavor).
fn usage_of(node: &str, instances: &[InstanceRecord], moves: &[(MigrationRecord, InstanceRecord)]) -> Usage {
    let mut usage = Usage::default();
    for i in instances.iter().filter(|i| i.node.as_deref() == Some(node)) {
        if i.vm_state == vm::SHELVED_OFFLOADED || i.vm_state == vm::DELETED {
            continue;
        }
        usage.add(&i.flavor);
        usage.instances += 1;
    }
    for (m, i) in moves {
        if i.node.as_deref() == Some(node) {
            continue;
        }
        if m.dest_node.as_deref() == Some(node) {
            usage.add(i.new_flavor.as_ref().unwrap_or(&i.flavor));
        } else if m.source_node.as_deref() == Some(node) && i.vm_state == vm::RESIZED {
            usage.add(i.old_flavor.as_ref().unwrap_or(&i.flavor));
        }
    }
    usage
}

/// Placement inventories of a node with the configured allocation ratios.
fn inventories(r: &NodeResources, config: &monostack_common::config::ComputeSection) -> BTreeMap<String, Inventory> {
    let of = |total: i64, ratio: f64| Inventory { total, reserved: 0, min_unit: 1, max_unit: total.max(1), step_size: 1, allocation_ratio: ratio };
    let mut out = BTreeMap::new();
    out.insert("VCPU".to_string(), of(i64::from(r.vcpus), config.cpu_allocation_ratio));
    out.insert("MEMORY_MB".to_string(), of(i64::try_from(r.memory_mb).unwrap_or(i64::MAX), config.ram_allocation_ratio));
    if r.local_gb > 0 {
        out.insert("DISK_GB".to_string(), of(i64::try_from(r.local_gb).unwrap_or(i64::MAX), config.disk_allocation_ratio));
    }
    out
}

impl ComputeManager {
    /// Reports every node of this host.
    pub(crate) async fn update_available_resource(&self, ctx: &Context) {
        let nodes = self.nodes.clone();
        for node in nodes {
            self.update_node_resources(ctx, &node).await;
        }
    }

    /// Reports one node (no-op for a node of another host).
    pub(crate) async fn update_node_resources(&self, ctx: &Context, node: &str) {
        if !self.owns_node(node) {
            return;
        }
        let _one_at_a_time = self.tracker.running.lock().await;
        if let Err(e) = self.report_node(ctx, node).await {
            tracing::error!("Error updating resources for node {node}: {e}");
        }
    }

    async fn report_node(&self, ctx: &Context, node: &str) -> Result<(), String> {
        let resources = self.driver.get_available_resource(node).await.map_err(|e| e.to_string())?;
        let instances: Vec<InstanceRecord> = self.conductor.call(ctx, ConductorRequest::InstancesOnHost(InstancesOnHost { host: self.host.clone(), node: Some(node.to_string()) })).await.map_err(|e| e.to_string())?;
        let moves = self.moves_in_progress(ctx).await;
        let usage = usage_of(node, &instances, &moves);
        // What `uptime` prints on the host, as libvirt reports it with the stats; drivers
        // that cannot tell leave it out (the API then answers 501).
        let uptime = self.driver.get_host_uptime().await.ok();
        let report = self.node_report(node, &resources, &usage, &instances, uptime);
        let record: NodeRecord = self.conductor.call(ctx, ConductorRequest::ComputeNodeUpdate(report)).await.map_err(|e| e.to_string())?;
        let wanted = inventories(&resources, &self.config.compute);
        let unchanged = self.tracker.nodes.lock().get(node).is_some_and(|r| r.uuid == record.uuid && r.inventories == wanted);
        if !unchanged {
            let sync = ProviderSync { uuid: record.uuid.clone(), name: node.to_string(), inventories: wanted.clone() };
            self.conductor.run(ctx, ConductorRequest::ProviderSync(sync)).await.map_err(|e| e.to_string())?;
            self.tracker.nodes.lock().insert(node.to_string(), Reported { uuid: record.uuid.clone(), inventories: wanted });
        }
        tracing::debug!(
            "Final resource view: name={node} phys_ram={}MB used_ram={}MB phys_disk={}GB used_disk={}GB total_vcpus={} used_vcpus={}",
            resources.memory_mb,
            usage.memory_mb,
            resources.local_gb,
            usage.disk_gb,
            resources.vcpus,
            usage.vcpus
        );
        Ok(())
    }

    /// Moves touching this host, each with its instance.
    async fn moves_in_progress(&self, ctx: &Context) -> Vec<(MigrationRecord, InstanceRecord)> {
        let request = MigrationsOnHost { host: self.host.clone(), statuses: MOVING.iter().map(|s| s.to_string()).collect(), updated_before: None };
        let migrations: Vec<MigrationRecord> = self.conductor.call(ctx, ConductorRequest::MigrationsOnHost(request)).await.unwrap_or_default();
        let mut out = Vec::new();
        for m in migrations {
            if let Ok(Some(i)) = self.conductor.instance_get(ctx, &m.instance_uuid).await {
                out.push((m, i));
            }
        }
        out
    }

    fn node_report(&self, node: &str, r: &NodeResources, usage: &Usage, instances: &[InstanceRecord], uptime: Option<String>) -> NodeReport {
        let config = &self.config.compute;
        let supported: Vec<(String, String, String)> = r.supported_instances.iter().map(|s| (s.arch.clone(), s.hv_type.clone(), s.vm_mode.clone())).collect();
        let mut stats = serde_json::Map::new();
        stats.insert("supported_instances".into(), serde_json::Value::String(serde_json::to_string(&supported).unwrap_or_default()));
        stats.insert("num_instances".into(), serde_json::Value::String(usage.instances.to_string()));
        let mut by_state: BTreeMap<String, i64> = BTreeMap::new();
        for i in instances.iter().filter(|i| i.node.as_deref() == Some(node)) {
            *by_state.entry(format!("num_vm_{}", i.vm_state)).or_default() += 1;
            *by_state.entry(format!("num_task_{}", i.task_state.as_deref().unwrap_or("None"))).or_default() += 1;
            *by_state.entry(format!("num_proj_{}", i.project_id)).or_default() += 1;
        }
        for (k, v) in by_state {
            stats.insert(k, serde_json::Value::String(v.to_string()));
        }
        if let Some(uptime) = uptime {
            stats.insert("uptime".into(), serde_json::Value::String(uptime));
        }
        let workload = instances.iter().filter(|i| i.node.as_deref() == Some(node) && i.task_state.is_some()).count();
        NodeReport {
            host: self.host.clone(),
            hypervisor_hostname: node.to_string(),
            hypervisor_type: r.hypervisor_type.clone(),
            hypervisor_version: i64::try_from(r.hypervisor_version).unwrap_or(0),
            host_ip: None,
            vcpus: i64::from(r.vcpus),
            memory_mb: i64::try_from(r.memory_mb).unwrap_or(i64::MAX),
            local_gb: i64::try_from(r.local_gb).unwrap_or(i64::MAX),
            vcpus_used: usage.vcpus,
            memory_mb_used: usage.memory_mb,
            local_gb_used: usage.disk_gb,
            running_vms: usage.instances,
            current_workload: i64::try_from(workload).unwrap_or(0),
            disk_available_least: Some(i64::try_from(r.local_gb).unwrap_or(0) - usage.disk_gb),
            cpu_info: serde_json::to_string(&r.cpu_info).unwrap_or_default(),
            cpu_allocation_ratio: config.cpu_allocation_ratio,
            ram_allocation_ratio: config.ram_allocation_ratio,
            disk_allocation_ratio: config.disk_allocation_ratio,
            service_id: self.service_id(),
            stats,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use monostack_compute::db::flavor_snapshot::InstanceFlavor;

    fn flavor(id: i64, vcpus: i64, ram: i64, disk: i64) -> InstanceFlavor {
        InstanceFlavor {
            id,
            flavorid: id.to_string(),
            name: format!("f{id}"),
            memory_mb: ram,
            vcpus,
            root_gb: disk,
            ephemeral_gb: 0,
            swap: 0,
            rxtx_factor: 1.0,
            vcpu_weight: None,
            disabled: false,
            is_public: true,
            description: None,
            extra_specs: BTreeMap::new(),
        }
    }

    fn instance(uuid: &str, node: &str, vm_state: &str, f: InstanceFlavor) -> InstanceRecord {
        InstanceRecord {
            uuid: uuid.into(),
            id: 1,
            display_name: None,
            hostname: None,
            project_id: "p".into(),
            user_id: "u".into(),
            image_ref: None,
            flavor: f,
            old_flavor: None,
            new_flavor: None,
            vm_state: vm_state.into(),
            task_state: None,
            power_state: 1,
            host: Some("h".into()),
            node: Some(node.into()),
            launched_on: None,
            availability_zone: None,
            key_data: None,
            user_data: None,
            launched_at: None,
            terminated_at: None,
            updated_at: None,
            deleted: false,
            metadata: BTreeMap::new(),
            system_metadata: BTreeMap::new(),
        }
    }

    fn migration(source: &str, dest: &str) -> MigrationRecord {
        MigrationRecord {
            id: 1,
            uuid: "m".into(),
            instance_uuid: "i2".into(),
            source_compute: Some("h".into()),
            source_node: Some(source.into()),
            dest_compute: Some("h2".into()),
            dest_node: Some(dest.into()),
            dest_host: None,
            old_instance_type_id: None,
            new_instance_type_id: None,
            status: "finished".into(),
            migration_type: "resize".into(),
            project_id: None,
            user_id: None,
            created_at: 0,
            updated_at: None,
        }
    }

    #[test]
    fn usage_counts_instances_and_both_ends_of_a_resize() {
        let list = vec![
            instance("i1", "n1", vm::ACTIVE, flavor(1, 2, 1024, 10)),
            instance("off", "n1", vm::SHELVED_OFFLOADED, flavor(1, 2, 1024, 10)),
            instance("other", "n2", vm::ACTIVE, flavor(1, 2, 1024, 10)),
        ];
        assert_eq!(usage_of("n1", &list, &[]), Usage { vcpus: 2, memory_mb: 1024, disk_gb: 10, instances: 1 });
        let mut resized = instance("i2", "n2", vm::RESIZED, flavor(2, 4, 2048, 20));
        resized.old_flavor = Some(flavor(1, 1, 512, 5));
        let moves = vec![(migration("n1", "n2"), resized)];
        let source = usage_of("n1", &list, &moves);
        assert_eq!((source.vcpus, source.memory_mb, source.disk_gb), (3, 1536, 15), "the kept source copy counts with its old flavor");
        let mut incoming = instance("i3", "n1", vm::ACTIVE, flavor(1, 1, 512, 5));
        incoming.new_flavor = Some(flavor(2, 4, 2048, 20));
        let moves = vec![(migration("n1", "n3"), incoming)];
        let dest = usage_of("n3", &[], &moves);
        assert_eq!((dest.vcpus, dest.memory_mb), (4, 2048), "an incoming move counts with its new flavor");
    }

    #[tokio::test]
    async fn inventories_carry_the_allocation_ratios() {
        use crate::virt::VirtDriver;
        let config = monostack_common::config::ComputeSection::default();
        let driver = crate::drivers::fake::FakeDriver::new(crate::drivers::fake::FakeDriverConfig::with_nodes(1));
        let r = driver.get_available_resource("fake-1").await.unwrap();
        let inv = inventories(&r, &config);
        assert_eq!(inv["VCPU"].allocation_ratio, 16.0);
        assert_eq!(inv["MEMORY_MB"].allocation_ratio, 1.5);
        assert_eq!(inv["DISK_GB"].total, i64::try_from(r.local_gb).unwrap());
        assert_eq!(inv["VCPU"].max_unit, i64::from(r.vcpus));
    }
}
