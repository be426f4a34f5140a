//! Cold migration and resize across hosts, as Nova runs them: `prep_resize` on the
//! destination (task resize_prep), `resize_instance` on the source (resize_migrating: the
//! driver powers the guest off and hands its disks over; resize_migrated), `finish_resize` on
//! the destination (resize_finish → RESIZED, "VERIFY_RESIZE"). Then `confirm_resize` on the
//! source (drops the source copy and the source allocations the migration holds → ACTIVE), or
//! `revert_resize` on the destination (drops the destination copy) and `finish_revert_resize`
//! on the source (the source allocations go back to the instance → ACTIVE on the source).

use super::instance::{driver_ref, flavor_info, image_meta};
use super::op::{Failure, OpResult};
use super::ComputeManager;
use crate::virt::{BlockDeviceInfo, FinishMigrationRequest, MigrateDiskRequest, MigrationDiskInfo, MigrationInfo, MigrationKind, RevertMigrationRequest, VirtError};
use monostack_bus::Context;
use monostack_compute::states::{power, task, vm};
use monostack_conductor::agent_api::client::cast_to_compute;
use monostack_conductor::agent_api::compute::{ComputeTask, FinishResize, FinishRevertResize, PrepResize, ResizeInstance};
use monostack_conductor::agent_api::conductor::{ConductorRequest, MigrationAllocations, ResizeFailed};
use monostack_conductor::agent_api::records::{migration_types, FaultInfo, InstanceField, InstanceRecord, MigrationRecord};
use std::time::Duration;

/// The driver's view of a migration record.
pub(crate) fn migration_info(m: &MigrationRecord) -> MigrationInfo {
    let kind = match m.migration_type.as_str() {
        migration_types::RESIZE => MigrationKind::Resize,
        migration_types::LIVE_MIGRATION => MigrationKind::LiveMigration,
        migration_types::EVACUATION => MigrationKind::Evacuation,
        _ => MigrationKind::Migration,
    };
    MigrationInfo {
        uuid: m.uuid.clone(),
        kind,
        source_compute: m.source_compute.clone().unwrap_or_default(),
        source_node: m.source_node.clone().unwrap_or_default(),
        dest_compute: m.dest_compute.clone().unwrap_or_default(),
        dest_node: m.dest_node.clone().unwrap_or_default(),
    }
}

/// The vm state a move returns the instance to (the one it had when the move began).
fn old_vm_state(instance: &InstanceRecord) -> &str {
    match instance.system_metadata.get("old_vm_state").map(String::as_str) {
        Some(vm::STOPPED) => vm::STOPPED,
        _ => vm::ACTIVE,
    }
}

impl ComputeManager {
    async fn migration(&self, ctx: &Context, id: i64) -> Result<MigrationRecord, Failure> {
        match self.conductor.migration_get(ctx, id).await? {
            Some(m) => Ok(m),
            None => Err(Failure::Recoverable(format!("Migration {id} could not be found."))),
        }
    }

    async fn set_migration_status(&self, ctx: &Context, id: i64, status: &str) {
        if let Err(e) = self.conductor.migration_set_status(ctx, id, status).await {
            tracing::warn!("migration {id} not set to {status}: {e}");
        }
    }

    pub(crate) async fn prep_resize(&self, ctx: &Context, t: PrepResize) {
        let Some(op) = self.begin(ctx, &t.instance_uuid, "compute_prep_resize").await else { return };
        let instance = op.instance.clone();
        let result = self.prepare_resize(ctx, &instance, &t).await;
        match result {
            Ok(()) | Err(Failure::Abandoned(_)) => self.end(ctx, op, result).await,
            Err(failure) => {
                // The destination refused: the conductor tries another one or rolls back.
                let message = failure.message().to_string();
                tracing::error!("{}prep_resize failed on {}: {message}", instance.tag(), self.host);
                self.record_fault(ctx, &instance.uuid, &message).await;
                let _ = self.conductor.event_finish(ctx, &instance.uuid, op.event, Some(&message)).await;
                drop(op);
                let failed = ResizeFailed {
                    instance_uuid: instance.uuid.clone(),
                    migration_id: t.migration_id,
                    host: self.host.clone(),
                    node: t.node.clone(),
                    fault: FaultInfo::internal(message),
                    reschedule: true,
                };
                if let Err(e) = self.conductor.cast(ctx, ConductorRequest::ResizeFailed(failed)).await {
                    tracing::error!("{}the conductor could not be told about the refused resize: {e}", instance.tag());
                }
            }
        }
        self.update_node_resources(ctx, &t.node).await;
    }

    async fn prepare_resize(&self, ctx: &Context, instance: &InstanceRecord, t: &PrepResize) -> OpResult {
        let migration = self.migration(ctx, t.migration_id).await?;
        let same_host = instance.host.as_deref() == Some(self.host.as_str());
        let same_flavor = t.new_flavor.id == instance.flavor.id;
        let allowed = self.config.compute.allow_resize_to_same_host && (!same_flavor || self.driver.capabilities().supports_migrate_to_same_host);
        if same_host && !allowed {
            return Err(Failure::Recoverable(format!("Unable to migrate instance ({}) to current host ({}).", instance.uuid, self.host)));
        }
        if !self.owns_node(&t.node) {
            return Err(Failure::Recoverable(format!("Compute host {} does not manage node {}", self.host, t.node)));
        }
        tracing::info!("{}Migrating (resize claim on node {}: {} MB, {} VCPU)", instance.tag(), t.node, t.new_flavor.memory_mb, t.new_flavor.vcpus);
        let flavors = vec![InstanceField::OldFlavor(Some(instance.flavor.clone())), InstanceField::NewFlavor(Some(t.new_flavor.clone()))];
        self.save(ctx, &instance.uuid, flavors, Some(&[Some(task::RESIZE_PREP)])).await?;
        let source = instance.host.clone().unwrap_or_default();
        let resize = ComputeTask::ResizeInstance(ResizeInstance {
            instance_uuid: instance.uuid.clone(),
            migration_id: migration.id,
            new_flavor: t.new_flavor.clone(),
            clean_shutdown: t.clean_shutdown,
        });
        cast_to_compute(self.bus.as_ref(), &source, &resize, ctx).await.map_err(|e| Failure::Recoverable(format!("source host {source} unreachable: {e}")))?;
        Ok(())
    }

    pub(crate) async fn resize_instance(&self, ctx: &Context, t: ResizeInstance) {
        let Some(op) = self.begin(ctx, &t.instance_uuid, "compute_resize_instance").await else { return };
        let instance = op.instance.clone();
        let result = self.migrate_out(ctx, &instance, &t).await;
        if let Err(failure) = &result {
            if !matches!(failure, Failure::Abandoned(_)) {
                self.roll_back_resize(ctx, &instance, t.migration_id).await;
            }
        }
        let result = result.map_err(|f| if f.message().starts_with("Resize error") { f } else { f.fatal() });
        self.end(ctx, op, result).await;
    }

    /// Source side: power off and hand the disks over, then let the destination finish.
    async fn migrate_out(&self, ctx: &Context, instance: &InstanceRecord, t: &ResizeInstance) -> OpResult {
        let uuid = &instance.uuid;
        let migration = self.migration(ctx, t.migration_id).await?;
        self.set_migration_status(ctx, migration.id, "migrating").await;
        self.save(ctx, uuid, vec![InstanceField::TaskState(Some(task::RESIZE_MIGRATING.into()))], Some(&[Some(task::RESIZE_PREP)])).await?;
        let source = driver_ref(instance, &self.host, migration.source_node.as_deref());
        let timeout = if t.clean_shutdown { Duration::from_secs(60) } else { Duration::ZERO };
        let request = MigrateDiskRequest {
            migration: migration_info(&migration),
            new_flavor: flavor_info(&t.new_flavor),
            network_info: self.network_info(ctx, uuid).await,
            block_device_info: super::volumes::block_device_info(&self.bdms(ctx, uuid).await.unwrap_or_default(), None),
            timeout,
            retry_interval: Duration::from_secs(10),
        };
        let disk_info = self.driver.migrate_disk_and_power_off(&source, &request).await?;
        self.set_migration_status(ctx, migration.id, "post-migrating").await;
        self.save(ctx, uuid, vec![InstanceField::TaskState(Some(task::RESIZE_MIGRATED.into()))], Some(&[Some(task::RESIZE_MIGRATING)])).await?;
        tracing::info!("{}Disks handed over to {}", instance.tag(), migration.dest_compute.as_deref().unwrap_or("-"));
        let dest = migration.dest_compute.clone().unwrap_or_default();
        let finish = ComputeTask::FinishResize(FinishResize { instance_uuid: uuid.clone(), migration_id: migration.id, disk_info: disk_info.0 });
        cast_to_compute(self.bus.as_ref(), &dest, &finish, ctx).await.map_err(|e| Failure::Recoverable(format!("destination host {dest} unreachable: {e}")))?;
        Ok(())
    }

    /// A resize that failed before the destination took over: the source allocations go back
    /// to the instance, the migration to `error`, the flavors as they were.
    async fn roll_back_resize(&self, ctx: &Context, instance: &InstanceRecord, migration_id: i64) {
        if let Ok(m) = self.migration(ctx, migration_id).await {
            let revert = MigrationAllocations { instance_uuid: instance.uuid.clone(), migration_uuid: m.uuid.clone() };
            if let Err(e) = self.conductor.run(ctx, ConductorRequest::MigrationAllocationsRevert(revert)).await {
                tracing::error!("{}allocations not reverted: {e}", instance.tag());
            }
            self.set_migration_status(ctx, m.id, "error").await;
        }
        let guest = self.guest(instance);
        let state = self.power_state(&guest).await;
        let vm_state = if state == power::RUNNING { vm::ACTIVE } else { old_vm_state(instance) };
        let back = vec![
            InstanceField::VmState(vm_state.into()),
            InstanceField::PowerState(state),
            InstanceField::OldFlavor(None),
            InstanceField::NewFlavor(None),
        ];
        self.save_logged(ctx, &instance.uuid, back).await;
    }

    pub(crate) async fn finish_resize(&self, ctx: &Context, t: FinishResize) {
        let Some(op) = self.begin(ctx, &t.instance_uuid, "compute_finish_resize").await else { return };
        let instance = op.instance.clone();
        let result = self.migrate_in(ctx, &instance, &t).await;
        if let Err(failure) = &result {
            if !matches!(failure, Failure::Abandoned(_)) {
                self.roll_back_resize(ctx, &instance, t.migration_id).await;
                let back = vec![InstanceField::Host(instance.host.clone()), InstanceField::Node(instance.node.clone()), InstanceField::Flavor(instance.flavor.clone())];
                self.save_logged(ctx, &instance.uuid, back).await;
            }
        }
        let node = self.migration(ctx, t.migration_id).await.ok().and_then(|m| m.dest_node);
        self.end(ctx, op, result.map_err(Failure::fatal)).await;
        if let Some(node) = node {
            self.update_node_resources(ctx, &node).await;
        }
    }

    /// Destination side: the instance takes its new flavor and host, the guest is built from
    /// the handed-over disks, and the user is left to confirm or revert.
    async fn migrate_in(&self, ctx: &Context, instance: &InstanceRecord, t: &FinishResize) -> OpResult {
        let uuid = &instance.uuid;
        let migration = self.migration(ctx, t.migration_id).await?;
        self.save(ctx, uuid, vec![InstanceField::TaskState(Some(task::RESIZE_FINISH.into()))], Some(&[Some(task::RESIZE_MIGRATED)])).await?;
        let new_flavor = instance.new_flavor.clone().unwrap_or_else(|| instance.flavor.clone());
        let dest_node = migration.dest_node.clone().unwrap_or_default();
        let moved = vec![InstanceField::Flavor(new_flavor.clone()), InstanceField::Host(Some(self.host.clone())), InstanceField::Node(Some(dest_node.clone()))];
        let updated = self.save(ctx, uuid, moved, Some(&[Some(task::RESIZE_FINISH)])).await?;
        let dest = driver_ref(&updated, &self.host, Some(&dest_node));
        let request = FinishMigrationRequest {
            migration: migration_info(&migration),
            disk_info: MigrationDiskInfo(t.disk_info.clone()),
            network_info: self.bind_network_here(ctx, uuid).await,
            image_meta: image_meta(instance, None),
            resize_instance: new_flavor.id != instance.old_flavor.as_ref().map_or(instance.flavor.id, |f| f.id),
            block_device_info: super::volumes::block_device_info(&self.bdms(ctx, uuid).await.unwrap_or_default(), None),
            power_on: old_vm_state(instance) != vm::STOPPED,
        };
        self.driver.finish_migration(&dest, &request).await?;
        self.set_migration_status(ctx, migration.id, "finished").await;
        let state = self.power_state(&dest).await;
        let resized = vec![InstanceField::VmState(vm::RESIZED.into()), InstanceField::TaskState(None), InstanceField::PowerState(state)];
        self.save(ctx, uuid, resized, Some(&[Some(task::RESIZE_FINISH)])).await?;
        tracing::info!("{}Resize finished on {} (node {dest_node}); waiting for confirm or revert", instance.tag(), self.host);
        Ok(())
    }

    /// On the source (from the API or the auto-confirm): drop the source copy and the source
    /// allocations.
    pub(crate) async fn confirm_resize(&self, ctx: &Context, uuid: &str, migration_id: i64) {
        let Some(op) = self.begin(ctx, uuid, "compute_confirm_resize").await else { return };
        let instance = op.instance.clone();
        let result = self.confirm(ctx, &instance, migration_id).await;
        if let Err(failure) = &result {
            if !matches!(failure, Failure::Abandoned(_)) {
                self.set_migration_status(ctx, migration_id, "error").await;
            }
        }
        self.end(ctx, op, result.map_err(Failure::fatal)).await;
        if let Ok(m) = self.migration(ctx, migration_id).await {
            if let Some(node) = m.source_node.filter(|n| self.owns_node(n)) {
                self.update_node_resources(ctx, &node).await;
            }
        }
    }

    async fn confirm(&self, ctx: &Context, instance: &InstanceRecord, migration_id: i64) -> OpResult {
        let uuid = &instance.uuid;
        let migration = self.migration(ctx, migration_id).await?;
        self.save(ctx, uuid, vec![InstanceField::TaskState(Some(task::RESIZE_CONFIRMING.into()))], Some(&[None])).await?;
        let source_host = migration.source_compute.clone().unwrap_or_else(|| self.host.clone());
        let source = driver_ref(instance, &source_host, migration.source_node.as_deref());
        let network_info = self.network_info(ctx, uuid).await;
        self.driver.confirm_migration(&source, &migration_info(&migration), &network_info).await?;
        let drop = MigrationAllocations { instance_uuid: uuid.clone(), migration_uuid: migration.uuid.clone() };
        self.conductor.run(ctx, ConductorRequest::MigrationAllocationsDrop(drop)).await?;
        self.set_migration_status(ctx, migration.id, "confirmed").await;
        let vm_state = if instance.power_state == power::SHUTDOWN { vm::STOPPED } else { vm::ACTIVE };
        let confirmed = vec![
            InstanceField::VmState(vm_state.into()),
            InstanceField::TaskState(None),
            InstanceField::OldFlavor(None),
            InstanceField::NewFlavor(None),
        ];
        self.save(ctx, uuid, confirmed, Some(&[Some(task::RESIZE_CONFIRMING)])).await?;
        tracing::info!("{}Resize confirmed; source copy on {source_host} removed", instance.tag());
        Ok(())
    }

    /// On the destination: drop the destination copy, then let the source take the instance
    /// back.
    pub(crate) async fn revert_resize(&self, ctx: &Context, uuid: &str, migration_id: i64) {
        let Some(op) = self.begin(ctx, uuid, "compute_revert_resize").await else { return };
        let instance = op.instance.clone();
        let result = self.revert_at_destination(ctx, &instance, migration_id).await;
        let node = instance.node.clone();
        self.end(ctx, op, result.map_err(Failure::fatal)).await;
        if let Some(node) = node.filter(|n| self.owns_node(n)) {
            self.update_node_resources(ctx, &node).await;
        }
    }

    async fn revert_at_destination(&self, ctx: &Context, instance: &InstanceRecord, migration_id: i64) -> OpResult {
        let migration = self.migration(ctx, migration_id).await?;
        let info = migration_info(&migration);
        if !info.is_same_node() {
            let dest = driver_ref(instance, &self.host, migration.dest_node.as_deref());
            let network_info = self.network_info(ctx, &instance.uuid).await;
            self.driver.destroy(&dest, &network_info, &BlockDeviceInfo::default(), true).await?;
        }
        tracing::info!("{}Destination copy removed; reverting on {}", instance.tag(), info.source_compute);
        let finish = ComputeTask::FinishRevertResize(FinishRevertResize { instance_uuid: instance.uuid.clone(), migration_id });
        cast_to_compute(self.bus.as_ref(), &info.source_compute, &finish, ctx)
            .await
            .map_err(|e| Failure::Recoverable(format!("source host {} unreachable: {e}", info.source_compute)))
    }

    pub(crate) async fn finish_revert_resize(&self, ctx: &Context, uuid: &str, migration_id: i64) {
        let Some(op) = self.begin(ctx, uuid, "compute_finish_revert_resize").await else { return };
        let instance = op.instance.clone();
        let result = self.revert_at_source(ctx, &instance, migration_id).await;
        self.end(ctx, op, result.map_err(Failure::fatal)).await;
        if let Ok(m) = self.migration(ctx, migration_id).await {
            if let Some(node) = m.source_node.filter(|n| self.owns_node(n)) {
                self.update_node_resources(ctx, &node).await;
            }
        }
    }

    async fn revert_at_source(&self, ctx: &Context, instance: &InstanceRecord, migration_id: i64) -> OpResult {
        let uuid = &instance.uuid;
        let migration = self.migration(ctx, migration_id).await?;
        let revert = MigrationAllocations { instance_uuid: uuid.clone(), migration_uuid: migration.uuid.clone() };
        self.conductor.run(ctx, ConductorRequest::MigrationAllocationsRevert(revert)).await?;
        let old_flavor = instance.old_flavor.clone().unwrap_or_else(|| instance.flavor.clone());
        let source_node = migration.source_node.clone().unwrap_or_default();
        let back = vec![
            InstanceField::Flavor(old_flavor),
            InstanceField::OldFlavor(None),
            InstanceField::NewFlavor(None),
            InstanceField::Host(Some(self.host.clone())),
            InstanceField::Node(Some(source_node.clone())),
        ];
        let reverted = self.save(ctx, uuid, back, Some(&[Some(task::RESIZE_REVERTING)])).await?;
        let source = driver_ref(&reverted, &self.host, Some(&source_node));
        let power_on = old_vm_state(instance) != vm::STOPPED;
        let request = RevertMigrationRequest {
            migration: migration_info(&migration),
            network_info: self.bind_network_here(ctx, uuid).await,
            block_device_info: super::volumes::block_device_info(&self.bdms(ctx, uuid).await.unwrap_or_default(), None),
            power_on,
        };
        match self.driver.finish_revert_migration(&source, &request).await {
            Ok(()) => {}
            Err(VirtError::InstanceNotFound { .. }) => return Err(Failure::Error(format!("the source copy of {uuid} is gone; it cannot be reverted"))),
            Err(e) => return Err(e.into()),
        }
        self.set_migration_status(ctx, migration.id, "reverted").await;
        let state = self.power_state(&source).await;
        let vm_state = if power_on { vm::ACTIVE } else { vm::STOPPED };
        let done = vec![InstanceField::VmState(vm_state.into()), InstanceField::TaskState(None), InstanceField::PowerState(state)];
        self.save(ctx, uuid, done, Some(&[Some(task::RESIZE_REVERTING)])).await?;
        tracing::info!("{}Resize reverted; instance back on {} (node {source_node})", instance.tag(), self.host);
        Ok(())
    }
}
