//! The database proxy: what compute agents ask of the database and placement, answered here
//! so that agents never hold database credentials (nova-conductor's reason to exist).

use crate::agent_api::client::fault_reply;
use crate::agent_api::conductor::*;
use crate::agent_api::records::{NodeRecord, NodeReport, ServiceRecord};
use crate::allocations;
use crate::db::{instances as instance_db, migrations};
use crate::Conductor;
use monostack_bus::{Context, Reply};
use monostack_common::ApiError;
use monostack_compute::db::instance_actions::{self, Actor, EventResult};
use monostack_compute::db::instance_metadata::{self, Kind};
use monostack_compute::db::{block_device_mappings, compute_nodes, info_caches, instance_faults, instances, services};
use monostack_compute::states::task;
use monostack_placement::error::{ConflictKind, PlacementError};
use serde::Serialize;
use serde_json::Value;

/// An answer as JSON.
fn answer<T: Serialize>(value: T) -> Reply {
    serde_json::to_value(value).map_err(|e| fault_reply("Internal", e.to_string()))
}

fn internal(e: ApiError) -> String {
    fault_reply("Internal", e.message)
}

fn placement_failure(e: PlacementError) -> String {
    fault_reply("PlacementError", e.to_string())
}

impl Conductor {
    pub(crate) async fn proxy(&self, ctx: &Context, request: ConductorRequest) -> Reply {
        let db = &self.compute.db;
        match request {
            ConductorRequest::InstanceGet(r) => {
                let found = if r.include_deleted { instances::get_any(db, &r.uuid).await } else { instances::get(db, &r.uuid).await }.map_err(internal)?;
                match found {
                    Some(i) => answer(instance_db::record(db, &i).await.map_err(internal)?),
                    None => answer(Value::Null),
                }
            }
            ConductorRequest::InstanceUpdate(r) => self.instance_update(r).await,
            ConductorRequest::InstancesOnHost(r) => {
                let list = match &r.node {
                    Some(node) => instance_db::on_node(db, &r.host, node).await.map_err(internal)?,
                    None => instance_db::on_host(db, &r.host).await.map_err(internal)?,
                };
                answer(instance_db::records(db, &list).await.map_err(internal)?)
            }
            ConductorRequest::InstanceDestroy(r) => answer(instances::destroy(db, &r.uuid).await.map_err(internal)?),
            ConductorRequest::SystemMetadataUpdate(r) => {
                instance_metadata::set(db, Kind::System, &r.uuid, &r.set).await.map_err(internal)?;
                for key in &r.delete {
                    instance_metadata::delete(db, Kind::System, &r.uuid, key).await.map_err(internal)?;
                }
                answer(Value::Null)
            }
            ConductorRequest::ActionStart(r) => {
                let actor = Actor { request_id: &r.request_id, user_id: r.user_id.as_deref(), project_id: r.project_id.as_deref() };
                answer(instance_actions::action_start(db, &r.uuid, &r.action, actor).await.map_err(internal)?)
            }
            ConductorRequest::ActionEventStart(r) => {
                let started = instance_actions::event_start(db, &r.uuid, &r.request_id, &r.event, Some(&r.host)).await.map_err(internal)?;
                if started.is_none() {
                    tracing::debug!("[instance: {}] no action of {} to record {} in", r.uuid, r.request_id, r.event);
                }
                answer(Value::Null)
            }
            ConductorRequest::ActionEventFinish(r) => {
                let result = if r.success { EventResult::Success } else { EventResult::Error };
                instance_actions::event_finish(db, &r.uuid, &r.request_id, &r.event, result, None, r.traceback.as_deref()).await.map_err(internal)?;
                answer(Value::Null)
            }
            ConductorRequest::InstanceFaultCreate(r) => {
                let f = &r.fault;
                instance_faults::add(db, &r.uuid, f.code, &f.message, f.details.as_deref(), r.host.as_deref()).await.map_err(internal)?;
                answer(Value::Null)
            }
            ConductorRequest::ServiceRegister(r) => {
                let s = services::register(db, &r.host, &r.binary, &r.topic, r.version).await.map_err(internal)?;
                answer(service_record(&s))
            }
            ConductorRequest::ServiceHeartbeat(r) => {
                if !services::heartbeat(db, r.id).await.map_err(internal)? {
                    return answer(Value::Null);
                }
                answer(services::by_id(db, r.id).await.map_err(internal)?.as_ref().map(service_record))
            }
            ConductorRequest::ComputeNodeUpdate(report) => {
                let node = compute_nodes::upsert(db, &node_report(report)).await.map_err(internal)?;
                answer(NodeRecord { id: node.id, uuid: node.uuid, host: node.host, hypervisor_hostname: node.hypervisor_hostname })
            }
            ConductorRequest::MigrationGet(r) => answer(migrations::get(db, r.id).await.map_err(internal)?),
            ConductorRequest::MigrationSetStatus(r) => match migrations::set_status(db, r.id, &r.status).await.map_err(internal)? {
                Some(m) => answer(m),
                None => Err(fault_reply("MigrationNotFound", format!("Migration {} could not be found.", r.id))),
            },
            ConductorRequest::MigrationsOnHost(r) => answer(migrations::on_host(db, &r.host, &r.statuses, r.updated_before).await.map_err(internal)?),
            ConductorRequest::InfoCacheGet(r) => {
                let mut all = info_caches::get_many(db, std::slice::from_ref(&r.uuid)).await.map_err(internal)?;
                answer(all.remove(&r.uuid).unwrap_or(Value::Array(Vec::new())))
            }
            ConductorRequest::InfoCacheSet(r) => answer(info_caches::set(db, &r.uuid, &r.network_info).await.map_err(internal)?),
            ConductorRequest::BlockDeviceMappings(r) => answer(block_device_mappings::list(db, &r.uuid).await.map_err(internal)?),
            ConductorRequest::BlockDeviceMappingSave(b) => answer(block_device_mappings::save(db, &b).await.map_err(internal)?),
            ConductorRequest::BlockDeviceMappingDestroy(r) => {
                block_device_mappings::destroy(db, &r.uuid).await.map_err(internal)?;
                answer(Value::Null)
            }
            ConductorRequest::ProviderSync(r) => self.provider_sync(&r).await.map_err(placement_failure).and_then(|()| answer(Value::Null)),
            ConductorRequest::AllocationsDelete(r) => {
                allocations::release(self.placement.as_ref(), &r.consumer_uuid).await.map_err(placement_failure)?;
                answer(Value::Null)
            }
            ConductorRequest::MigrationAllocationsDrop(r) => {
                allocations::release(self.placement.as_ref(), &r.migration_uuid).await.map_err(placement_failure)?;
                answer(Value::Null)
            }
            ConductorRequest::MigrationAllocationsRevert(r) => {
                allocations::revert_from_migration(self.placement.as_ref(), &r.instance_uuid, &r.migration_uuid).await.map_err(placement_failure)?;
                answer(Value::Null)
            }
            ConductorRequest::BuildFailed(r) => {
                self.build_failed(ctx, r).await;
                answer(Value::Null)
            }
            ConductorRequest::ResizeFailed(r) => {
                self.resize_failed(ctx, r).await;
                answer(Value::Null)
            }
        }
    }

    /// Nova's `instance.save(expected_task_state=…)` with its two conflicts.
    async fn instance_update(&self, r: InstanceUpdate) -> Reply {
        let db = &self.compute.db;
        let changes = instance_db::changes_of(&r.changes).map_err(internal)?;
        let expected: Option<Vec<Option<&str>>> = r.expected_task_state.as_ref().map(|states| states.iter().map(Option::as_deref).collect());
        let applied = instances::update(db, &r.uuid, &changes, expected.as_deref()).await.map_err(internal)?;
        let current = instances::get(db, &r.uuid).await.map_err(internal)?;
        let Some(current) = current else {
            return Err(fault_reply("InstanceNotFound", format!("Instance {} could not be found.", r.uuid)));
        };
        if !applied {
            let actual = current.task_state.as_deref().unwrap_or("None");
            let kind = if current.task_state.as_deref() == Some(task::DELETING) { "UnexpectedDeletingTaskStateError" } else { "UnexpectedTaskStateError" };
            let wanted: Vec<&str> = expected.unwrap_or_default().into_iter().map(|s| s.unwrap_or("None")).collect();
            let message = format!("Conflict updating instance {}. Expected: {{'task_state': {wanted:?}}}. Actual: {{'task_state': '{actual}'}}", r.uuid);
            return Err(fault_reply(kind, message));
        }
        answer(instance_db::record(db, &current).await.map_err(internal)?)
    }

    /// The node's provider (created on first sight) gets the reported inventories; a
    /// concurrent change of the provider is re-read and retried.
    async fn provider_sync(&self, r: &ProviderSync) -> Result<(), PlacementError> {
        let mut last = None;
        for _ in 0..4 {
            let provider = self.placement.ensure_provider(&r.uuid, &r.name, None).await?;
            match self.placement.set_inventories(&r.uuid, provider.generation, &r.inventories).await {
                Ok(_) => return Ok(()),
                Err(e) if e_is_generation(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| PlacementError::Internal("provider sync kept conflicting".into())))
    }
}

fn e_is_generation(e: &PlacementError) -> bool {
    matches!(e, PlacementError::Conflict { kind: ConflictKind::Generation, .. })
}

fn service_record(s: &services::Service) -> ServiceRecord {
    ServiceRecord { id: s.id, host: s.host.clone(), binary: s.binary.clone(), disabled: s.disabled, forced_down: s.forced_down }
}

fn node_report(r: NodeReport) -> compute_nodes::NodeReport {
    compute_nodes::NodeReport {
        uuid: None,
        service_id: r.service_id,
        host: r.host,
        hypervisor_hostname: r.hypervisor_hostname,
        hypervisor_type: r.hypervisor_type,
        hypervisor_version: r.hypervisor_version,
        host_ip: r.host_ip,
        vcpus: r.vcpus,
        memory_mb: r.memory_mb,
        local_gb: r.local_gb,
        vcpus_used: r.vcpus_used,
        memory_mb_used: r.memory_mb_used,
        local_gb_used: r.local_gb_used,
        running_vms: r.running_vms,
        current_workload: r.current_workload,
        disk_available_least: r.disk_available_least,
        cpu_info: r.cpu_info,
        cpu_allocation_ratio: r.cpu_allocation_ratio,
        ram_allocation_ratio: r.ram_allocation_ratio,
        disk_allocation_ratio: r.disk_allocation_ratio,
        stats: r.stats,
    }
}
