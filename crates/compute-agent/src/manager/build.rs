//! Building an instance (Nova's `build_and_run_instance`): BUILDING with the task states
//! networking → block_device_mapping → spawning, the driver's spawn, then ACTIVE/RUNNING. A
//! failed spawn is cleaned up here and handed back to the conductor, which frees the claim
//! and reschedules to an alternate host or puts the instance in ERROR.

use super::instance::image_meta;
use super::op::{Failure, OpResult};
use super::ComputeManager;
use crate::virt::{AdminPassword, BlockDeviceInfo, InjectedFile, InstanceRef, SpawnProgress, SpawnRequest, SpawnStep, Vif};
use base64::Engine as _;
use monostack_bus::Context;
use monostack_common::time::now_micros;
use monostack_compute::states::{task, vm};
use monostack_conductor::agent_api::compute::{BuildAndRunInstance, BuildArgs};
use monostack_conductor::agent_api::conductor::{BuildFailed, Consumer, ConductorRequest};
use monostack_conductor::agent_api::records::{FaultInfo, InstanceField, InstanceRecord};

const EVENT: &str = "compute__do_build_and_run_instance";

/// Logs the steps of a spawn as the launch notes describe them.
struct LoggedProgress<'a> {
    tag: &'a str,
}

impl SpawnProgress for LoggedProgress<'_> {
    fn step(&self, step: SpawnStep, percent: u8) {
        tracing::debug!("{}Spawn step {step:?} ({percent}%)", self.tag);
    }
}

/// `personality` files, decoded (undecodable ones are skipped with a warning).
pub(crate) fn injected_files(files: &[(String, String)]) -> Vec<InjectedFile> {
    files
        .iter()
        .filter_map(|(path, contents)| match base64::engine::general_purpose::STANDARD.decode(contents) {
            Ok(bytes) => Some(InjectedFile { path: path.clone(), contents: bytes }),
            Err(e) => {
                tracing::warn!("Injected file {path} is not base64 ({e}); skipped");
                None
            }
        })
        .collect()
}

impl ComputeManager {
    pub(crate) async fn build_and_run_instance(&self, ctx: &Context, t: BuildAndRunInstance) {
        let uuid = t.instance_uuid.clone();
        let Some(op) = self.begin(ctx, &uuid, EVENT).await else {
            tracing::info!("[instance: {uuid}] deleted before its build started; releasing its claim");
            self.release_allocations(ctx, &uuid).await;
            return;
        };
        let instance = op.instance.clone();
        let guest = super::instance::driver_ref(&instance, &self.host, Some(&t.node));
        let result = self.build(ctx, &instance, &guest, &t).await;
        match result {
            Ok(()) => self.end(ctx, op, Ok(())).await,
            Err(Failure::Abandoned(message)) => {
                self.abandon_build(ctx, &uuid, &guest).await;
                self.end(ctx, op, Err(Failure::Abandoned(message))).await;
            }
            Err(Failure::Error(message)) => {
                // Nova's BuildAbortException: no other host would do better.
                self.end_without_revert(ctx, op, &message).await;
                self.abort_build(ctx, &instance, &guest, &t.build, &message).await;
            }
            Err(failure) => {
                let message = failure.message().to_string();
                self.end_without_revert(ctx, op, &message).await;
                self.reschedule(ctx, &instance, &guest, &t.build, &message).await;
            }
        }
        self.update_node_resources(ctx, &t.node).await;
    }

    async fn build(&self, ctx: &Context, instance: &InstanceRecord, guest: &InstanceRef, t: &BuildAndRunInstance) -> OpResult {
        let uuid = &instance.uuid;
        if !self.owns_node(&t.node) {
            return Err(Failure::Recoverable(format!("Compute host {} does not manage node {}", self.host, t.node)));
        }
        let building = vec![InstanceField::VmState(vm::BUILDING.into()), InstanceField::TaskState(None)];
        self.save(ctx, uuid, building, Some(&[Some(task::SCHEDULING), None])).await?;
        tracing::info!("{}Attempting claim on node {}: memory {} MB, disk {} GB, vcpus {} CPU", instance.tag(), t.node, instance.flavor.memory_mb, instance.flavor.root_gb, instance.flavor.vcpus);
        tracing::info!("{}Claim successful on node {}", instance.tag(), t.node);
        let claimed = vec![InstanceField::TaskState(Some(task::NETWORKING.into())), InstanceField::Host(Some(self.host.clone())), InstanceField::Node(Some(t.node.clone()))];
        self.save(ctx, uuid, claimed, Some(&[None])).await?;
        let network_info = self.allocate_network(ctx, instance, &t.build.requested_networks, &t.build.security_groups).await?;
        self.save(ctx, uuid, vec![InstanceField::TaskState(Some(task::BLOCK_DEVICE_MAPPING.into()))], Some(&[Some(task::NETWORKING)])).await?;
        let bdms = self.prep_block_device(ctx, instance, guest).await?;
        self.save(ctx, uuid, vec![InstanceField::TaskState(Some(task::SPAWNING.into()))], Some(&[Some(task::BLOCK_DEVICE_MAPPING)])).await?;
        let request = SpawnRequest {
            image_meta: image_meta(instance, t.build.image_id.as_deref()),
            injected_files: injected_files(&t.build.injected_files),
            admin_password: t.build.admin_password.clone().map(AdminPassword),
            network_info,
            block_device_info: super::volumes::block_device_info(&bdms, None),
            power_on: true,
        };
        let tag = instance.tag();
        self.driver.spawn(guest, &request, &LoggedProgress { tag: &tag }).await?;
        let state = self.power_state(guest).await;
        let active = vec![
            InstanceField::VmState(vm::ACTIVE.into()),
            InstanceField::TaskState(None),
            InstanceField::PowerState(state),
            InstanceField::LaunchedAt(Some(now_micros())),
        ];
        self.save(ctx, uuid, active, Some(&[Some(task::SPAWNING)])).await?;
        tracing::info!("{}Took the instance from spawning to ACTIVE on node {}", instance.tag(), t.node);
        Ok(())
    }

    /// The instance was deleted (or is being deleted) while it was built. A delete in progress
    /// waits for this build and cleans up itself; a finished one left the guest and the claim.
    async fn abandon_build(&self, ctx: &Context, uuid: &str, guest: &InstanceRef) {
        if matches!(self.conductor.instance_get(ctx, uuid).await, Ok(Some(_))) {
            return;
        }
        tracing::info!("[instance: {uuid}] Instance was deleted during its build; cleaning up");
        self.destroy_guest(guest).await;
        self.deallocate_network(ctx, uuid).await;
        self.release_allocations(ctx, uuid).await;
    }

    /// A build that cannot succeed anywhere: the guest and the ports go, and the conductor puts
    /// the instance in ERROR without rescheduling.
    async fn abort_build(&self, ctx: &Context, instance: &InstanceRecord, guest: &InstanceRef, build: &BuildArgs, message: &str) {
        let uuid = &instance.uuid;
        self.destroy_guest(guest).await;
        self.deallocate_network(ctx, uuid).await;
        if let Ok(bdms) = self.bdms(ctx, uuid).await {
            self.cleanup_volumes(ctx, instance, &bdms).await;
        }
        tracing::error!("[instance: {uuid}] {message}");
        let failed = BuildFailed {
            instance_uuid: uuid.clone(),
            host: self.host.clone(),
            node: guest.node.clone(),
            fault: FaultInfo::internal(message),
            reschedule: false,
            build: build.clone(),
        };
        if let Err(e) = self.conductor.cast(ctx, ConductorRequest::BuildFailed(failed)).await {
            tracing::error!("[instance: {uuid}] the conductor could not be told about the aborted build: {e}");
        }
    }

    /// Records the failed build's fault and event without touching its states: the conductor
    /// decides what comes next.
    async fn end_without_revert(&self, ctx: &Context, op: super::op::Op, message: &str) {
        let uuid = op.instance.uuid.clone();
        tracing::error!("[instance: {uuid}] Instance failed to spawn: {message}");
        self.record_fault(ctx, &uuid, message).await;
        if let Err(e) = self.conductor.event_finish(ctx, &uuid, op.event, Some(message)).await {
            tracing::warn!("[instance: {uuid}] event {} not finished: {e}", op.event);
        }
    }

    /// Cleans the failed guest up, gives the instance back to scheduling and tells the
    /// conductor (Nova's `_reschedule` path of `_do_build_and_run_instance`).
    async fn reschedule(&self, ctx: &Context, instance: &InstanceRecord, guest: &InstanceRef, build: &BuildArgs, message: &str) {
        let uuid = &instance.uuid;
        self.destroy_guest(guest).await;
        // The next host allocates its own (Nova's `_cleanup_allocated_networks` on reschedule),
        // and connects the volumes itself.
        self.deallocate_network(ctx, uuid).await;
        self.reset_attachments(ctx, instance).await;
        let back = vec![
            InstanceField::VmState(vm::BUILDING.into()),
            InstanceField::TaskState(Some(task::SCHEDULING.into())),
            InstanceField::Host(None),
            InstanceField::Node(None),
            InstanceField::PowerState(0),
        ];
        let expected = [None, Some(task::SCHEDULING), Some(task::NETWORKING), Some(task::BLOCK_DEVICE_MAPPING), Some(task::SPAWNING)];
        if let Err(e) = self.save(ctx, uuid, back, Some(&expected)).await {
            tracing::info!("[instance: {uuid}] not rescheduled ({}); releasing its claim", e.message());
            self.release_allocations(ctx, uuid).await;
            return;
        }
        tracing::info!("[instance: {uuid}] Build of instance was re-scheduled: {message}");
        let failed = BuildFailed {
            instance_uuid: uuid.clone(),
            host: self.host.clone(),
            node: guest.node.clone(),
            fault: FaultInfo::internal(message),
            reschedule: true,
            build: build.clone(),
        };
        if let Err(e) = self.conductor.cast(ctx, ConductorRequest::BuildFailed(failed)).await {
            tracing::error!("[instance: {uuid}] the conductor could not be told about the failed build: {e}");
        }
    }

    /// Removes the guest from the hypervisor, if it is there (clean-up paths).
    pub(crate) async fn destroy_guest(&self, guest: &InstanceRef) {
        if let Err(e) = self.driver.destroy(guest, &[], &BlockDeviceInfo::default(), true).await {
            tracing::warn!("[instance: {}] guest not destroyed on {}: {e}", guest.uuid, guest.node);
        }
    }

    /// Removes every placement allocation of `consumer`.
    pub(crate) async fn release_allocations(&self, ctx: &Context, consumer: &str) {
        let request = ConductorRequest::AllocationsDelete(Consumer { consumer_uuid: consumer.to_string() });
        if let Err(e) = self.conductor.run(ctx, request).await {
            tracing::error!("Allocations of {consumer} not removed: {e}");
        }
    }

    /// The instance's network info (its VIFs), as cached; empty without networking.
    pub(crate) async fn network_info(&self, ctx: &Context, uuid: &str) -> Vec<Vif> {
        super::network::vifs_of(&self.cached_network_info(ctx, uuid).await)
    }
}
