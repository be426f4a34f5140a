//! Rebuild (a new root disk from an image, on the instance's host) and evacuation (`recreate`:
//! the instance is rebuilt on this host because its own is down), through Nova's task states
//! rebuilding → rebuild_block_device_mapping → rebuild_spawning. A STOPPED instance (or 2.95's
//! `target_state` stopped) ends STOPPED, others ACTIVE; a failure puts it in ERROR.

use super::instance::{driver_ref, image_meta};
use super::op::{Failure, OpResult};
use super::ComputeManager;
use crate::virt::{AdminPassword, BlockDeviceInfo, InstanceRef, SpawnRequest, VirtError};
use monostack_bus::Context;
use monostack_common::time::now_micros;
use monostack_compute::states::{task, vm};
use monostack_conductor::agent_api::compute::RebuildInstance;
use monostack_conductor::agent_api::conductor::{ConductorRequest, MigrationAllocations};
use monostack_conductor::agent_api::records::{InstanceField, InstanceRecord, MigrationRecord};
use std::time::Duration;

impl ComputeManager {
    pub(crate) async fn rebuild_instance(&self, ctx: &Context, t: RebuildInstance) {
        let Some(op) = self.begin(ctx, &t.instance_uuid, "compute_rebuild_instance").await else { return };
        let instance = op.instance.clone();
        let migration = match t.migration_id {
            Some(id) => self.conductor.migration_get(ctx, id).await.ok().flatten(),
            None => None,
        };
        if let Some(m) = &migration {
            let _ = self.conductor.migration_set_status(ctx, m.id, "pre-migrating").await;
        }
        let result = self.rebuild(ctx, &instance, &t).await.map_err(Failure::fatal);
        if let Some(m) = &migration {
            self.settle_evacuation(ctx, &instance, m, result.is_ok()).await;
        }
        self.end(ctx, op, result).await;
        if let Some(node) = t.node.clone().or(instance.node.clone()) {
            self.update_node_resources(ctx, &node).await;
        }
    }

    async fn rebuild(&self, ctx: &Context, instance: &InstanceRecord, t: &RebuildInstance) -> OpResult {
        let uuid = &instance.uuid;
        let node = t.node.clone().or_else(|| instance.node.clone()).unwrap_or_default();
        let guest = driver_ref(instance, &self.host, Some(&node));
        if t.recreate {
            if !self.owns_node(&node) {
                return Err(Failure::Recoverable(format!("Compute host {} does not manage node {node}", self.host)));
            }
            if self.driver.instance_exists(&guest).await.unwrap_or(false) {
                return Err(VirtError::InstanceExists { instance: uuid.clone(), node }.into());
            }
            tracing::info!("{}Evacuating instance to {} (node {node})", instance.tag(), self.host);
            let here = vec![InstanceField::Host(Some(self.host.clone())), InstanceField::Node(Some(node.clone())), InstanceField::LaunchedOn(Some(self.host.clone()))];
            self.save(ctx, uuid, here, Some(&[Some(task::REBUILDING)])).await?;
        } else {
            tracing::info!("{}Rebuilding instance", instance.tag());
        }
        let state = self.power_state(&guest).await;
        self.save(ctx, uuid, vec![InstanceField::PowerState(state), InstanceField::TaskState(Some(task::REBUILDING.into()))], Some(&[Some(task::REBUILDING)])).await?;
        if !t.recreate {
            self.driver.destroy(&guest, &[], &BlockDeviceInfo::default(), true).await?;
        }
        self.save(ctx, uuid, vec![InstanceField::TaskState(Some(task::REBUILD_BLOCK_DEVICE_MAPPING.into()))], Some(&[Some(task::REBUILDING)])).await?;
        self.save(ctx, uuid, vec![InstanceField::TaskState(Some(task::REBUILD_SPAWNING.into()))], Some(&[Some(task::REBUILD_BLOCK_DEVICE_MAPPING)])).await?;
        self.spawn_rebuilt(ctx, instance, &guest, t).await?;
        self.finish_rebuild(ctx, instance, &guest, t).await
    }

    async fn spawn_rebuilt(&self, ctx: &Context, instance: &InstanceRecord, guest: &InstanceRef, t: &RebuildInstance) -> OpResult {
        let request = SpawnRequest {
            image_meta: image_meta(instance, t.image_ref.as_deref()),
            injected_files: super::build::injected_files(&t.injected_files),
            admin_password: t.new_pass.clone().map(AdminPassword),
            network_info: self.bind_network_here(ctx, &instance.uuid).await,
            block_device_info: super::volumes::block_device_info(&self.bdms(ctx, &instance.uuid).await.unwrap_or_default(), None),
            power_on: true,
        };
        match self.driver.rebuild(guest, &request).await {
            Ok(()) => Ok(()),
            Err(VirtError::NotSupported { .. }) => Ok(self.driver.spawn(guest, &request, &crate::virt::NoProgress).await?),
            Err(e) => Err(e.into()),
        }
    }

    /// ACTIVE, or STOPPED when it was stopped (or asked to end stopped).
    async fn finish_rebuild(&self, ctx: &Context, instance: &InstanceRecord, guest: &InstanceRef, t: &RebuildInstance) -> OpResult {
        let stop = instance.vm_state == vm::STOPPED || t.target_state.as_deref() == Some(vm::STOPPED);
        if stop {
            self.driver.power_off(guest, Duration::ZERO, Duration::ZERO).await?;
        }
        let state = self.power_state(guest).await;
        let vm_state = if stop { vm::STOPPED } else { vm::ACTIVE };
        let mut done = vec![
            InstanceField::VmState(vm_state.into()),
            InstanceField::TaskState(None),
            InstanceField::PowerState(state),
            InstanceField::LaunchedAt(Some(now_micros())),
        ];
        if let Some(image) = &t.image_ref {
            done.push(InstanceField::ImageRef(Some(image.clone())));
        }
        self.save(ctx, &instance.uuid, done, Some(&[Some(task::REBUILD_SPAWNING)])).await?;
        tracing::info!("{}Instance rebuilt; now {vm_state}", instance.tag());
        Ok(())
    }

    /// An evacuation's end: done (the dead source's allocations go) or failed (the instance
    /// keeps its source host and allocations).
    async fn settle_evacuation(&self, ctx: &Context, instance: &InstanceRecord, migration: &MigrationRecord, success: bool) {
        let allocations = MigrationAllocations { instance_uuid: instance.uuid.clone(), migration_uuid: migration.uuid.clone() };
        if success {
            let _ = self.conductor.migration_set_status(ctx, migration.id, "done").await;
            if let Err(e) = self.conductor.run(ctx, ConductorRequest::MigrationAllocationsDrop(allocations)).await {
                tracing::error!("{}allocations of the evacuated source not removed: {e}", instance.tag());
            }
            return;
        }
        let _ = self.conductor.migration_set_status(ctx, migration.id, "failed").await;
        if let Err(e) = self.conductor.run(ctx, ConductorRequest::MigrationAllocationsRevert(allocations)).await {
            tracing::error!("{}allocations not given back after the failed evacuation: {e}", instance.tag());
        }
        self.save_logged(ctx, &instance.uuid, vec![InstanceField::Host(instance.host.clone()), InstanceField::Node(instance.node.clone())]).await;
    }
}
