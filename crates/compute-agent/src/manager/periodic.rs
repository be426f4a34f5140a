//! The periodic tasks: the service heartbeat (`report_interval`), the resource tracker and the
//! auto-confirm of resizes (`update_resources_interval`), the power-state sync
//! (`sync_power_state_interval`), the offload of shelved instances (`shelved_poll_interval`
//! when `shelved_offload_time` > 0) and the reclaim of soft-deleted ones
//! (`reclaim_instance_interval`).

use super::ComputeManager;
use monostack_bus::Context;
use monostack_common::time::{now_micros, parse_iso};
use monostack_compute::db::instance_actions::names;
use monostack_compute::rpc::compute::{ComputeRequest, ResizeDecision};
use monostack_compute::states::{power, task, vm};
use monostack_conductor::agent_api::conductor::{ActionStart, ConductorRequest, InstancesOnHost, MigrationsOnHost, ServiceHeartbeat};
use monostack_conductor::agent_api::records::{InstanceField, InstanceRecord, MigrationRecord, ServiceRecord};
use monostack_conductor::agent_api::{self, client};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// Runs `task` every `interval`, each run with a fresh request id.
fn every<F, Fut>(manager: &Arc<ComputeManager>, interval: Duration, task: F) -> JoinHandle<()>
where
    F: Fn(Arc<ComputeManager>, Context) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let manager = manager.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let ctx = agent_api::internal_context();
            let span = agent_api::request_span(&ctx);
            task(manager.clone(), ctx).instrument(span).await;
        }
    })
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n.max(1))
}

pub(crate) fn start(manager: Arc<ComputeManager>) -> Vec<JoinHandle<()>> {
    let c = manager.config.compute.clone();
    let mut tasks = vec![every(&manager, secs(c.report_interval), |m, ctx| async move { m.heartbeat(&ctx).await })];
    let resources = if c.update_resources_interval == 0 { 60 } else { c.update_resources_interval };
    tasks.push(every(&manager, secs(resources), |m, ctx| async move {
        m.update_available_resource(&ctx).await;
        m.poll_unconfirmed_resizes(&ctx).await;
        m.locks.prune();
    }));
    if c.sync_power_state_interval > 0 {
        let interval = secs(u64::try_from(c.sync_power_state_interval).unwrap_or(600));
        tasks.push(every(&manager, interval, |m, ctx| async move { m.sync_power_states(&ctx).await }));
    }
    if c.shelved_offload_time > 0 {
        tasks.push(every(&manager, secs(c.shelved_poll_interval), |m, ctx| async move { m.poll_shelved_instances(&ctx).await }));
    }
    if c.reclaim_instance_interval > 0 {
        tasks.push(every(&manager, secs(c.reclaim_instance_interval), |m, ctx| async move { m.reclaim_queued_deletes(&ctx).await }));
    }
    tasks
}

impl ComputeManager {
    /// One heartbeat; a deleted service registers again.
    pub(crate) async fn heartbeat(&self, ctx: &Context) {
        let Some(id) = self.service_id() else {
            if let Err(e) = self.register(ctx).await {
                tracing::error!("Compute service of {} could not register: {e}", self.host);
            }
            return;
        };
        let beat: Result<Option<ServiceRecord>, _> = self.conductor.call(ctx, ConductorRequest::ServiceHeartbeat(ServiceHeartbeat { id })).await;
        match beat {
            Ok(Some(_)) => {}
            Ok(None) => {
                tracing::warn!("Compute service of {} was deleted; registering again", self.host);
                if let Err(e) = self.register(ctx).await {
                    tracing::error!("Compute service of {} could not register: {e}", self.host);
                }
            }
            Err(e) => tracing::warn!("Heartbeat of {} not recorded: {e}", self.host),
        }
    }

    pub(crate) async fn instances_here(&self, ctx: &Context) -> Vec<InstanceRecord> {
        let request = ConductorRequest::InstancesOnHost(InstancesOnHost { host: self.host.clone(), node: None });
        match self.conductor.call(ctx, request).await {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!("Instances of {} could not be listed: {e}", self.host);
                Vec::new()
            }
        }
    }

    /// Starts an action for work this agent begins on its own, so it shows in the server's
    /// event list under `ctx`'s request id.
    async fn start_action(&self, ctx: &Context, instance: &InstanceRecord, action: &str) {
        let start = ActionStart {
            uuid: instance.uuid.clone(),
            action: action.to_string(),
            request_id: ctx.request_id.clone().unwrap_or_default(),
            user_id: Some(instance.user_id.clone()),
            project_id: Some(instance.project_id.clone()),
        };
        if let Err(e) = self.conductor.run(ctx, ConductorRequest::ActionStart(start)).await {
            tracing::warn!("{}action {action} not recorded: {e}", instance.tag());
        }
    }

    /// Nova's `_sync_power_states`: the hypervisor is the authority on power states; a guest
    /// that stopped on its own makes its ACTIVE instance STOPPED (and a running guest of a
    /// STOPPED instance is stopped again).
    pub(crate) async fn sync_power_states(&self, ctx: &Context) {
        for instance in self.instances_here(ctx).await {
            if instance.task_state.is_some() || !instance.node.as_deref().is_some_and(|n| self.owns_node(n)) {
                continue;
            }
            self.sync_instance_power_state(ctx, &instance).await;
        }
    }

    async fn sync_instance_power_state(&self, ctx: &Context, instance: &InstanceRecord) {
        let _guard = self.locks.lock(&instance.uuid).await;
        let guest = self.guest(instance);
        let actual = self.power_state(&guest).await;
        if actual != instance.power_state {
            tracing::info!("{}During sync_power_state the power state in the database ({}) differs from the hypervisor's ({actual}); updating", instance.tag(), instance.power_state);
            if let Err(e) = self.save(ctx, &instance.uuid, vec![InstanceField::PowerState(actual)], Some(&[None])).await {
                return tracing::info!("{}power state not synced: {}", instance.tag(), e.message());
            }
        }
        let stop = match (instance.vm_state.as_str(), actual) {
            (vm::ACTIVE, power::SHUTDOWN | power::CRASHED | power::SUSPENDED) => {
                tracing::warn!("{}Instance shutdown by itself. Calling the stop API. Current vm_state: active, current task_state: None, original DB power_state: {}, current VM power_state: {actual}", instance.tag(), instance.power_state);
                true
            }
            (vm::STOPPED, power::RUNNING) | (vm::PAUSED, power::SHUTDOWN | power::CRASHED) => {
                tracing::warn!("{}Instance is not stopped or is paused while its guest is in power state {actual}. Calling the stop API.", instance.tag());
                true
            }
            (vm::ACTIVE, power::NOSTATE) => {
                tracing::warn!("{}Instance is not found on the hypervisor.", instance.tag());
                false
            }
            _ => false,
        };
        if stop {
            self.start_action(ctx, instance, names::STOP).await;
            let _ = self.conductor.event_start(ctx, &instance.uuid, "compute_stop_instance", &self.host).await;
            let result = self.power_off_to_stopped(ctx, instance, false, &[None]).await;
            let error = result.as_ref().err().map(|f| f.message().to_string());
            let _ = self.conductor.event_finish(ctx, &instance.uuid, "compute_stop_instance", error.as_deref()).await;
        }
    }

    /// Nova's `_poll_unconfirmed_resizes`: resizes finished on this host longer than
    /// `resize_confirm_window` ago are confirmed as if the user did.
    pub(crate) async fn poll_unconfirmed_resizes(&self, ctx: &Context) {
        let window = self.config.compute.resize_confirm_window;
        if window == 0 {
            return;
        }
        let before = now_micros() - i64::try_from(window).unwrap_or(i64::MAX / 2_000_000) * 1_000_000;
        let request = MigrationsOnHost { host: self.host.clone(), statuses: vec!["finished".into()], updated_before: Some(before) };
        let due: Vec<MigrationRecord> = self.conductor.call(ctx, ConductorRequest::MigrationsOnHost(request)).await.unwrap_or_default();
        for migration in due.into_iter().filter(|m| m.dest_compute.as_deref() == Some(self.host.as_str())) {
            self.auto_confirm(migration).await;
        }
    }

    async fn auto_confirm(&self, migration: MigrationRecord) {
        let ctx = agent_api::internal_context();
        let Ok(Some(instance)) = self.conductor.instance_get(&ctx, &migration.instance_uuid).await else { return };
        if instance.vm_state != vm::RESIZED || instance.task_state.is_some() {
            return;
        }
        tracing::info!("{}Automatically confirming migration {} after resize_confirm_window", instance.tag(), migration.id);
        self.start_action(&ctx, &instance, names::CONFIRM_RESIZE).await;
        if let Err(e) = self.conductor.migration_set_status(&ctx, migration.id, "confirming").await {
            return tracing::warn!("{}migration {} not set confirming: {e}", instance.tag(), migration.id);
        }
        let source = migration.source_compute.clone().unwrap_or_default();
        let confirm = ComputeRequest::ConfirmResize(ResizeDecision { instance_uuid: instance.uuid.clone(), migration_id: migration.id });
        let target = monostack_bus::Target::server(monostack_compute::rpc::compute::TOPIC, source.clone());
        if let Err(e) = client::cast(self.bus.as_ref(), &target, &confirm, &ctx).await {
            tracing::warn!("{}confirm not sent to {source}: {e}", instance.tag());
        }
    }

    /// Nova's `_poll_shelved_instances`: SHELVED instances older than `shelved_offload_time`
    /// are offloaded.
    pub(crate) async fn poll_shelved_instances(&self, ctx: &Context) {
        let limit = self.config.compute.shelved_offload_time.saturating_mul(1_000_000);
        let now = now_micros();
        for instance in self.instances_here(ctx).await {
            let due = instance.vm_state == vm::SHELVED
                && instance.task_state.is_none()
                && instance.system_metadata.get("shelved_at").and_then(|t| parse_iso(t)).is_some_and(|at| now - at >= limit);
            if !due {
                continue;
            }
            let ctx = agent_api::internal_context();
            self.start_action(&ctx, &instance, names::SHELVE_OFFLOAD).await;
            if self.save(&ctx, &instance.uuid, vec![InstanceField::TaskState(Some(task::SHELVING_OFFLOADING.into()))], Some(&[None])).await.is_ok() {
                self.shelve_offload_instance(&ctx, &instance.uuid, false).await;
            }
        }
    }

    /// Nova's `_reclaim_queued_deletes`: SOFT_DELETED instances older than
    /// `reclaim_instance_interval` are deleted for good.
    pub(crate) async fn reclaim_queued_deletes(&self, ctx: &Context) {
        let interval = i64::try_from(self.config.compute.reclaim_instance_interval).unwrap_or(i64::MAX / 2_000_000) * 1_000_000;
        let now = now_micros();
        for instance in self.instances_here(ctx).await {
            let due = instance.vm_state == vm::SOFT_DELETED && instance.task_state.is_none() && instance.updated_at.is_some_and(|at| now - at >= interval);
            if !due {
                continue;
            }
            let ctx = agent_api::internal_context();
            tracing::info!("{}Reclaiming deleted instance", instance.tag());
            self.start_action(&ctx, &instance, names::DELETE).await;
            if self.save(&ctx, &instance.uuid, vec![InstanceField::TaskState(Some(task::DELETING.into()))], Some(&[None])).await.is_ok() {
                self.terminate_instance(&ctx, &instance.uuid).await;
            }
        }
    }
}
