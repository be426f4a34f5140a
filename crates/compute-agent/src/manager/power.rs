//! Power operations: stop, start, reboot (soft and hard), pause/unpause, suspend/resume. Each
//! runs from the task state the API set to Nova's resulting vm and power states.

use super::op::{Failure, OpResult};
use super::ComputeManager;
use crate::virt::{BlockDeviceInfo, RebootType};
use monostack_bus::Context;
use monostack_compute::states::{power, task, vm};
use monostack_conductor::agent_api::records::{InstanceField, InstanceRecord};
use std::time::Duration;

/// How long a clean shutdown may take before it is forced (Nova's shutdown_timeout), and
/// how often it is retried (Nova's SHUTDOWN_RETRY_INTERVAL).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(60);
const SHUTDOWN_RETRY: Duration = Duration::from_secs(10);

/// A vm state change with the guest's power state, from `expected` task states.
fn settled(vm_state: &str, power_state: i64) -> Vec<InstanceField> {
    vec![InstanceField::VmState(vm_state.into()), InstanceField::TaskState(None), InstanceField::PowerState(power_state)]
}

impl ComputeManager {
    pub(crate) async fn stop_instance(&self, ctx: &Context, uuid: &str, clean_shutdown: bool) {
        let Some(op) = self.begin(ctx, uuid, "compute_stop_instance").await else { return };
        let result = self.power_off_to_stopped(ctx, &op.instance, clean_shutdown, &[Some(task::POWERING_OFF), None]).await;
        self.end(ctx, op, result).await;
    }

    /// Powers the guest off and records STOPPED (Nova's `stop_instance` body).
    pub(crate) async fn power_off_to_stopped(&self, ctx: &Context, instance: &InstanceRecord, clean_shutdown: bool, expected: &[Option<&str>]) -> OpResult {
        let guest = self.guest(instance);
        tracing::info!("{}Stopping instance", instance.tag());
        let timeout = if clean_shutdown { SHUTDOWN_TIMEOUT } else { Duration::ZERO };
        self.driver.power_off(&guest, timeout, SHUTDOWN_RETRY).await?;
        let state = self.power_state(&guest).await;
        let mut changes = settled(vm::STOPPED, state);
        changes.push(InstanceField::Progress(Some(0)));
        self.save(ctx, &instance.uuid, changes, Some(expected)).await?;
        tracing::info!("{}Instance stopped (power state {state})", instance.tag());
        Ok(())
    }

    pub(crate) async fn start_instance(&self, ctx: &Context, uuid: &str) {
        let Some(op) = self.begin(ctx, uuid, "compute_start_instance").await else { return };
        let result = self.power_on_to_active(ctx, &op.instance).await;
        self.end(ctx, op, result).await;
    }

    async fn power_on_to_active(&self, ctx: &Context, instance: &InstanceRecord) -> OpResult {
        let guest = self.guest(instance);
        let network_info = self.network_info(ctx, &instance.uuid).await;
        self.driver.power_on(&guest, &network_info, &BlockDeviceInfo::default()).await?;
        let state = self.power_state(&guest).await;
        self.save(ctx, &instance.uuid, settled(vm::ACTIVE, state), Some(&[Some(task::POWERING_ON)])).await?;
        if instance.vm_state == vm::SHELVED {
            self.forget_shelved_image(ctx, instance).await;
        }
        tracing::info!("{}Instance started", instance.tag());
        Ok(())
    }

    pub(crate) async fn reboot_instance(&self, ctx: &Context, uuid: &str, reboot_type: &str) {
        let Some(op) = self.begin(ctx, uuid, "compute_reboot_instance").await else { return };
        let hard = reboot_type.eq_ignore_ascii_case("HARD");
        let result = self.reboot(ctx, &op.instance, hard).await;
        self.end(ctx, op, result).await;
    }

    /// Nova's `reboot_instance`: pending, started, then ACTIVE. A failed reboot leaves a
    /// running guest ACTIVE and anything else in ERROR.
    pub(crate) async fn reboot(&self, ctx: &Context, instance: &InstanceRecord, hard: bool) -> OpResult {
        let uuid = &instance.uuid;
        let (asked, pending, started, kind) = if hard {
            (task::REBOOTING_HARD, task::REBOOT_PENDING_HARD, task::REBOOT_STARTED_HARD, RebootType::Hard)
        } else {
            (task::REBOOTING, task::REBOOT_PENDING, task::REBOOT_STARTED, RebootType::Soft)
        };
        let expected = [Some(asked), Some(pending), Some(started)];
        self.save(ctx, uuid, vec![InstanceField::TaskState(Some(pending.into()))], Some(&expected)).await?;
        self.save(ctx, uuid, vec![InstanceField::TaskState(Some(started.into()))], Some(&[Some(pending)])).await?;
        tracing::info!("{}Rebooting instance ({})", instance.tag(), if hard { "hard" } else { "soft" });
        let guest = self.guest(instance);
        let network_info = self.network_info(ctx, uuid).await;
        if let Err(e) = self.driver.reboot(&guest, &network_info, kind, &BlockDeviceInfo::default()).await {
            let state = self.power_state(&guest).await;
            if state == power::RUNNING {
                tracing::warn!("{}Reboot failed but instance is running: {e}", instance.tag());
                self.save(ctx, uuid, settled(vm::ACTIVE, state), None).await?;
                return Err(Failure::Recoverable(e.to_string()));
            }
            return Err(Failure::Error(e.to_string()));
        }
        let state = self.power_state(&guest).await;
        self.save(ctx, uuid, settled(vm::ACTIVE, state), Some(&[Some(started)])).await?;
        Ok(())
    }

    pub(crate) async fn pause_instance(&self, ctx: &Context, uuid: &str) {
        let Some(op) = self.begin(ctx, uuid, "compute_pause_instance").await else { return };
        let guest = self.guest(&op.instance);
        let result = match self.driver.pause(&guest).await {
            Ok(()) => self.settle(ctx, &op.instance, vm::PAUSED, task::PAUSING).await,
            Err(e) => Err(e.into()),
        };
        self.end(ctx, op, result).await;
    }

    pub(crate) async fn unpause_instance(&self, ctx: &Context, uuid: &str) {
        let Some(op) = self.begin(ctx, uuid, "compute_unpause_instance").await else { return };
        let guest = self.guest(&op.instance);
        let result = match self.driver.unpause(&guest).await {
            Ok(()) => self.settle(ctx, &op.instance, vm::ACTIVE, task::UNPAUSING).await,
            Err(e) => Err(e.into()),
        };
        self.end(ctx, op, result).await;
    }

    pub(crate) async fn suspend_instance(&self, ctx: &Context, uuid: &str) {
        let Some(op) = self.begin(ctx, uuid, "compute_suspend_instance").await else { return };
        let guest = self.guest(&op.instance);
        let result = match self.driver.suspend(&guest).await {
            Ok(()) => self.settle(ctx, &op.instance, vm::SUSPENDED, task::SUSPENDING).await,
            Err(e) => Err(e.into()),
        };
        self.end(ctx, op, result).await;
    }

    pub(crate) async fn resume_instance(&self, ctx: &Context, uuid: &str) {
        let Some(op) = self.begin(ctx, uuid, "compute_resume_instance").await else { return };
        let guest = self.guest(&op.instance);
        let network_info = self.network_info(ctx, uuid).await;
        let result = match self.driver.resume(&guest, &network_info, &BlockDeviceInfo::default()).await {
            Ok(()) => self.settle(ctx, &op.instance, vm::ACTIVE, task::RESUMING).await,
            Err(e) => Err(e.into()),
        };
        self.end(ctx, op, result).await;
    }

    /// Records `vm_state` with the guest's power state, from task `from`.
    pub(crate) async fn settle(&self, ctx: &Context, instance: &InstanceRecord, vm_state: &str, from: &str) -> OpResult {
        let state = self.power_state(&self.guest(instance)).await;
        self.save(ctx, &instance.uuid, settled(vm_state, state), Some(&[Some(from)])).await?;
        tracing::info!("{}Instance is now {vm_state} (power state {state})", instance.tag());
        Ok(())
    }
}
