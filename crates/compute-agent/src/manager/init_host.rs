//! Start-up reconciliation (Nova's `init_host`/`_init_instance`): what a previous run of this
//! host left half done is settled, since any process may die at any moment. A build in flight
//! goes to ERROR, a delete is finished, a stop or start is carried out, a reboot is completed,
//! any other transitional task is cleared with the power state taken from the hypervisor; and
//! guests of instances evacuated away while this host was down are destroyed.

use super::instance::driver_ref;
use super::ComputeManager;
use crate::virt::{BlockDeviceInfo, RebootType};
use monostack_bus::Context;
use monostack_compute::states::{power, task, vm};
use monostack_conductor::agent_api::conductor::{ConductorRequest, MigrationsOnHost};
use monostack_conductor::agent_api::records::{migration_types, InstanceField, InstanceRecord, MigrationRecord};

const BUILDING_TASKS: &[&str] = &[task::SCHEDULING, task::BLOCK_DEVICE_MAPPING, task::NETWORKING, task::SPAWNING];
const REBOOT_TASKS: &[&str] =
    &[task::REBOOTING, task::REBOOT_PENDING, task::REBOOT_STARTED, task::REBOOTING_HARD, task::REBOOT_PENDING_HARD, task::REBOOT_STARTED_HARD];

impl ComputeManager {
    pub(crate) async fn init_host(&self, ctx: &Context) {
        for instance in self.instances_here(ctx).await {
            if instance.node.as_deref().is_some_and(|n| !self.owns_node(n)) {
                continue;
            }
            self.init_instance(ctx, &instance).await;
        }
        self.destroy_evacuated_instances(ctx).await;
    }

    async fn init_instance(&self, ctx: &Context, instance: &InstanceRecord) {
        let _guard = self.locks.lock(&instance.uuid).await;
        let uuid = &instance.uuid;
        let task_state = instance.task_state.as_deref();
        let guest = self.guest(instance);
        if instance.vm_state == vm::BUILDING || task_state.is_some_and(|t| BUILDING_TASKS.contains(&t)) {
            tracing::warn!("{}Instance failed to spawn: its build was interrupted by a restart of the compute service. Setting it to ERROR.", instance.tag());
            self.record_fault(ctx, uuid, "Instance build was interrupted by a restart of the compute service").await;
            self.save_logged(ctx, uuid, vec![InstanceField::VmState(vm::ERROR.into()), InstanceField::TaskState(None)]).await;
            return;
        }
        match task_state {
            None => {}
            Some(task::DELETING) => {
                tracing::info!("{}Instance was being deleted; completing the delete", instance.tag());
                if let Err(e) = self.delete_instance(ctx, instance).await {
                    tracing::error!("{}delete not completed: {}", instance.tag(), e.message());
                }
            }
            Some(task::POWERING_OFF) => {
                tracing::info!("{}Instance was being stopped; stopping it", instance.tag());
                if let Err(e) = self.power_off_to_stopped(ctx, instance, false, &[Some(task::POWERING_OFF)]).await {
                    tracing::error!("{}stop not completed: {}", instance.tag(), e.message());
                }
            }
            Some(task::POWERING_ON) => {
                tracing::info!("{}Instance was being started; starting it", instance.tag());
                let started = self.driver.power_on(&guest, &[], &BlockDeviceInfo::default()).await;
                self.settle_after_restart(ctx, instance, if started.is_ok() { vm::ACTIVE } else { vm::STOPPED }).await;
            }
            Some(t) if REBOOT_TASKS.contains(&t) => {
                tracing::info!("{}Instance was rebooting; rebooting it (hard)", instance.tag());
                let rebooted = self.driver.reboot(&guest, &[], RebootType::Hard, &BlockDeviceInfo::default()).await;
                let vm_state = if rebooted.is_ok() { vm::ACTIVE } else { vm::ERROR };
                self.settle_after_restart(ctx, instance, vm_state).await;
            }
            Some(t) => {
                tracing::info!("{}Clearing task state {t} left by a restart of the compute service", instance.tag());
                self.settle_after_restart(ctx, instance, &instance.vm_state).await;
            }
        }
    }

    /// `vm_state` with no task and the hypervisor's power state.
    async fn settle_after_restart(&self, ctx: &Context, instance: &InstanceRecord, vm_state: &str) {
        let state = self.power_state(&self.guest(instance)).await;
        let changes = vec![InstanceField::VmState(vm_state.into()), InstanceField::TaskState(None), InstanceField::PowerState(state)];
        self.save_logged(ctx, &instance.uuid, changes).await;
    }

    /// Guests of instances evacuated away from this host while it was down (Nova's
    /// `_destroy_evacuated_instances`).
    async fn destroy_evacuated_instances(&self, ctx: &Context) {
        let request = MigrationsOnHost { host: self.host.clone(), statuses: vec!["done".into()], updated_before: None };
        let done: Vec<MigrationRecord> = self.conductor.call(ctx, ConductorRequest::MigrationsOnHost(request)).await.unwrap_or_default();
        for migration in done {
            let from_here = migration.source_compute.as_deref() == Some(self.host.as_str());
            if migration.migration_type != migration_types::EVACUATION || !from_here {
                continue;
            }
            let Ok(Some(instance)) = self.conductor.instance_get(ctx, &migration.instance_uuid).await else {
                let _ = self.conductor.migration_set_status(ctx, migration.id, "completed").await;
                continue;
            };
            let Some(node) = migration.source_node.clone().filter(|n| self.owns_node(n)) else { continue };
            let guest = driver_ref(&instance, &self.host, Some(&node));
            if self.power_state(&guest).await != power::NOSTATE || self.driver.instance_exists(&guest).await.unwrap_or(false) {
                tracing::info!("{}Deleting the guest left on {node}: the instance was evacuated to {}", instance.tag(), instance.host.as_deref().unwrap_or("-"));
                self.destroy_guest(&guest).await;
            }
            let _ = self.conductor.migration_set_status(ctx, migration.id, "completed").await;
        }
    }
}
