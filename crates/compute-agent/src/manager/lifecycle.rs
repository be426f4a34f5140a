//! Rescue/unrescue, delete (terminate, soft delete, restore), the admin password, crash dumps
//! and network info injection.

use super::instance::image_meta;
use super::op::{Failure, OpResult};
use super::ComputeManager;
use crate::virt::{AdminPassword, BlockDeviceInfo, RescueRequest, VirtError};
use monostack_bus::{Context, Reply};
use monostack_common::time::now_micros;
use monostack_compute::rpc::compute::RescueInstance;
use monostack_compute::states::{power, task, vm};
use monostack_conductor::agent_api::client::fault_reply;
use monostack_conductor::agent_api::conductor::{ConductorRequest, InstanceRef as InstanceArg, MigrationAllocations, MigrationsOnHost};
use monostack_conductor::agent_api::records::{InstanceField, InstanceRecord, MigrationRecord};
use serde_json::Value;

impl ComputeManager {
    pub(crate) async fn rescue_instance(&self, ctx: &Context, r: RescueInstance) {
        let Some(op) = self.begin(ctx, &r.instance_uuid, "compute_rescue_instance").await else { return };
        let instance = &op.instance;
        let request = RescueRequest {
            image_meta: image_meta(instance, r.rescue_image_ref.as_deref()),
            rescue_password: Some(AdminPassword(r.rescue_password.clone())),
            network_info: self.network_info(ctx, &instance.uuid).await,
        };
        tracing::info!("{}Rescuing", instance.tag());
        let result = match self.driver.rescue(&self.guest(instance), &request).await {
            Ok(()) => self.settle(ctx, instance, vm::RESCUED, task::RESCUING).await,
            Err(e) => Err(Failure::from(e).fatal()),
        };
        self.end(ctx, op, result).await;
    }

    pub(crate) async fn unrescue_instance(&self, ctx: &Context, uuid: &str) {
        let Some(op) = self.begin(ctx, uuid, "compute_unrescue_instance").await else { return };
        tracing::info!("{}Unrescuing", op.instance.tag());
        let result = match self.driver.unrescue(&self.guest(&op.instance)).await {
            Ok(()) => self.settle(ctx, &op.instance, vm::ACTIVE, task::UNRESCUING).await,
            Err(e) => Err(e.into()),
        };
        self.end(ctx, op, result).await;
    }

    /// Nova's `terminate_instance`: the guest goes, the instance becomes DELETED and its row
    /// is destroyed, its allocations (and those of an unconfirmed resize) are removed.
    pub(crate) async fn terminate_instance(&self, ctx: &Context, uuid: &str) {
        let Some(op) = self.begin(ctx, uuid, "compute_terminate_instance").await else { return };
        let node = op.instance.node.clone();
        let result = self.delete_instance(ctx, &op.instance).await.map_err(Failure::fatal);
        self.end(ctx, op, result).await;
        if let Some(node) = node {
            self.update_node_resources(ctx, &node).await;
        }
    }

    /// Shuts the guest down and removes every trace of the instance.
    pub(crate) async fn delete_instance(&self, ctx: &Context, instance: &InstanceRecord) -> OpResult {
        let uuid = &instance.uuid;
        tracing::info!("{}Terminating instance", instance.tag());
        let guest = self.guest(instance);
        let network_info = self.network_info(ctx, uuid).await;
        let bdms = self.bdms(ctx, uuid).await.unwrap_or_default();
        self.driver.destroy(&guest, &network_info, &super::volumes::block_device_info(&bdms, None), true).await?;
        tracing::info!("{}Instance destroyed successfully.", instance.tag());
        self.deallocate_network(ctx, uuid).await;
        self.cleanup_volumes(ctx, instance, &bdms).await;
        if instance.vm_state == vm::RESIZED {
            self.drop_unconfirmed_resize(ctx, instance).await;
        }
        let deleted = vec![
            InstanceField::VmState(vm::DELETED.into()),
            InstanceField::TaskState(None),
            InstanceField::PowerState(power::NOSTATE),
            InstanceField::TerminatedAt(Some(now_micros())),
        ];
        self.save(ctx, uuid, deleted, None).await?;
        // Released before the row goes, so that a server answering 404 holds nothing: a
        // client that deletes and boots again never finds the old claim in its way.
        self.release_allocations(ctx, uuid).await;
        let _: Value = self.conductor.call(ctx, ConductorRequest::InstanceDestroy(InstanceArg { uuid: uuid.clone() })).await.map_err(Failure::from)?;
        tracing::info!("{}Took the instance to DELETED", instance.tag());
        Ok(())
    }

    /// A resized instance deleted before confirm: its source copy and the source allocations
    /// its migration holds go too (Nova confirms such a resize on delete).
    async fn drop_unconfirmed_resize(&self, ctx: &Context, instance: &InstanceRecord) {
        let Some(migration) = self.finished_migration(ctx, instance).await else { return };
        if let Some(source_node) = &migration.source_node {
            if Some(source_node) != instance.node.as_ref() {
                let source = super::instance::driver_ref(instance, migration.source_compute.as_deref().unwrap_or(&self.host), Some(source_node));
                self.destroy_guest(&source).await;
            }
        }
        let drop = MigrationAllocations { instance_uuid: instance.uuid.clone(), migration_uuid: migration.uuid.clone() };
        if let Err(e) = self.conductor.run(ctx, ConductorRequest::MigrationAllocationsDrop(drop)).await {
            tracing::error!("{}allocations of migration {} not removed: {e}", instance.tag(), migration.uuid);
        }
        let _ = self.conductor.migration_set_status(ctx, migration.id, "confirmed").await;
    }

    /// The `finished` resize of an instance in VERIFY_RESIZE.
    pub(crate) async fn finished_migration(&self, ctx: &Context, instance: &InstanceRecord) -> Option<MigrationRecord> {
        let request = MigrationsOnHost { host: instance.host.clone().unwrap_or_default(), statuses: vec!["finished".into()], updated_before: None };
        let list: Vec<MigrationRecord> = self.conductor.call(ctx, ConductorRequest::MigrationsOnHost(request)).await.ok()?;
        list.into_iter().rev().find(|m| m.instance_uuid == instance.uuid)
    }

    pub(crate) async fn soft_delete_instance(&self, ctx: &Context, uuid: &str) {
        let Some(op) = self.begin(ctx, uuid, "compute_soft_delete_instance").await else { return };
        let guest = self.guest(&op.instance);
        let result = match self.driver.power_off(&guest, std::time::Duration::ZERO, std::time::Duration::ZERO).await {
            Ok(()) => self.settle(ctx, &op.instance, vm::SOFT_DELETED, task::SOFT_DELETING).await,
            Err(e) => Err(Failure::from(e).fatal()),
        };
        self.end(ctx, op, result).await;
    }

    pub(crate) async fn restore_instance(&self, ctx: &Context, uuid: &str) {
        let Some(op) = self.begin(ctx, uuid, "compute_restore_instance").await else { return };
        let guest = self.guest(&op.instance);
        let result = match self.driver.power_on(&guest, &[], &BlockDeviceInfo::default()).await {
            Ok(()) => self.settle(ctx, &op.instance, vm::ACTIVE, task::RESTORING).await,
            Err(e) => Err(e.into()),
        };
        self.end(ctx, op, result).await;
    }

    /// A call: answers null once the guest took the password, or Nova's refusals.
    pub(crate) async fn set_admin_password(&self, ctx: &Context, uuid: &str, password: &str) -> Reply {
        let Some(op) = self.begin(ctx, uuid, "compute_set_admin_password").await else {
            return Err(fault_reply("InstanceNotFound", format!("Instance {uuid} could not be found.")));
        };
        let guest = self.guest(&op.instance);
        let outcome = if self.power_state(&guest).await != power::RUNNING {
            Err(("InstancePasswordSetFailed", format!("Failed to set admin password on {uuid} because instance is not running")))
        } else {
            match self.driver.set_admin_password(&guest, &AdminPassword(password.to_string())).await {
                Ok(()) => Ok(()),
                Err(VirtError::NotSupported { .. }) => Err(("NotImplemented", "Unable to set password on instance".to_string())),
                Err(e) => Err(("InstancePasswordSetFailed", format!("Failed to set admin password on {uuid} because {e}"))),
            }
        };
        let clear = self.save(ctx, uuid, vec![InstanceField::TaskState(None)], Some(&[Some(task::UPDATING_PASSWORD)])).await;
        match outcome {
            Ok(()) => {
                self.end(ctx, op, clear.map(|_| ())).await;
                tracing::info!("[instance: {uuid}] Admin password set");
                Ok(Value::Null)
            }
            Err((kind, message)) => {
                self.end(ctx, op, Err(Failure::Abandoned(message.clone()))).await;
                Err(fault_reply(kind, message))
            }
        }
    }

    pub(crate) async fn trigger_crash_dump(&self, ctx: &Context, uuid: &str) {
        let Some(op) = self.begin(ctx, uuid, "compute_trigger_crash_dump").await else { return };
        tracing::info!("{}Triggering a crash dump (NMI) of the guest", op.instance.tag());
        self.end(ctx, op, Ok(())).await;
    }

    pub(crate) async fn inject_network_info(&self, ctx: &Context, uuid: &str) {
        let Some(op) = self.begin(ctx, uuid, "compute_inject_network_info").await else { return };
        let network_info = self.network_info(ctx, uuid).await;
        let result = self.driver.inject_network_info(&self.guest(&op.instance), &network_info).await.map_err(Failure::from);
        self.end(ctx, op, result).await;
    }
}
