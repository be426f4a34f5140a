//! Booting servers (Nova's `schedule_and_build_instances`): schedule and claim every instance
//! of the request, record the choice, and cast the build to the chosen hosts. A build that
//! fails on a host comes back here ([`Conductor::build_failed`]): its claim is freed and the
//! next alternate the scheduler offered is claimed and tried (RetryFilter semantics, at most
//! `[scheduler] max_attempts` hosts), until none is left and the instance goes to ERROR.

use crate::agent_api::client::cast_to_compute;
use crate::agent_api::compute::{BuildAndRunInstance, BuildArgs, ComputeTask, NodeLimits};
use crate::agent_api::conductor::BuildFailed;
use crate::allocations::{claim, release_logged};
use crate::schedule::Retry;
use crate::Conductor;
use monostack_bus::Context;
use monostack_compute::db::instances::{self, Changes, Instance};
use monostack_compute::db::request_specs;
use monostack_compute::request_spec::RequestSpec;
use monostack_compute::rpc::conductor::BuildInstances;
use monostack_compute::states::task;
use monostack_scheduler::HostChoice;

/// The conductor's event of a boot, as Nova names it.
const EVENT: &str = "conductor_schedule_and_build_instances";

fn build_args(b: &BuildInstances) -> BuildArgs {
    BuildArgs {
        image_id: b.image_id.clone(),
        admin_password: b.admin_password.clone(),
        injected_files: b.injected_files.clone(),
        requested_networks: b.requested_networks.clone(),
        security_groups: b.security_groups.clone(),
    }
}

impl Conductor {
    pub(crate) async fn build_instances(&self, ctx: &Context, request: BuildInstances) {
        let db = &self.compute.db;
        let live = match instances::get_many(db, &request.instance_uuids).await {
            Ok(list) => list,
            Err(e) => return tracing::error!("Build of {:?} failed reading the instances: {}", request.instance_uuids, e.message),
        };
        if live.is_empty() {
            return tracing::info!("Instances {:?} were deleted before they were scheduled", request.instance_uuids);
        }
        for instance in &live {
            self.event_start(ctx, &instance.uuid, EVENT).await;
        }
        let mut spec = match request_specs::get(db, &live[0].uuid).await {
            Ok(Some(spec)) => spec,
            Ok(None) => spec_of(&live[0]),
            Err(e) => return self.fail_all(ctx, &live, &format!("Failed to read the request spec: {}", e.message)).await,
        };
        spec.instance_uuids = live.iter().map(|i| i.uuid.clone()).collect();
        spec.num_instances = u32::try_from(live.len()).unwrap_or(u32::MAX);
        spec.retry = None;
        let selections = match self.select(&spec, &spec.instance_uuids.clone()).await {
            Ok(Ok(selections)) => selections,
            Ok(Err(no_valid_host)) => {
                tracing::warn!("Failed to schedule instances: {no_valid_host} (filters: {:?})", no_valid_host.filter_outcomes);
                return self.fail_all(ctx, &live, &no_valid_host.to_string()).await;
            }
            Err(e) => return self.fail_all(ctx, &live, &format!("No valid host was found. {}", e.message)).await,
        };
        let args = build_args(&request);
        for selection in selections {
            let Some(uuid) = selection.instance_uuid.clone() else { continue };
            let mut retry = Retry { alternates: selection.alternates.clone(), ..Retry::default() };
            retry.attempt(&selection.chosen);
            self.dispatch_build(ctx, &uuid, &selection.chosen, retry, args.clone()).await;
            self.event_finish(ctx, &uuid, EVENT, None).await;
        }
    }

    /// Every instance of a failed request goes to ERROR with the scheduler's message; nothing
    /// stays claimed.
    async fn fail_all(&self, ctx: &Context, live: &[Instance], message: &str) {
        for instance in live {
            release_logged(self.placement.as_ref(), &instance.uuid).await;
            self.error_out(&instance.uuid, message, None).await;
            self.event_finish(ctx, &instance.uuid, EVENT, Some(message)).await;
        }
    }

    /// Records `choice` on the instance and its spec, and casts the build there. A host that
    /// cannot be reached counts as a failed attempt.
    async fn dispatch_build(&self, ctx: &Context, uuid: &str, choice: &HostChoice, retry: Retry, args: BuildArgs) {
        let db = &self.compute.db;
        let changes = Changes::new().set("host", choice.host.clone()).set("node", choice.nodename.clone()).set("launched_on", choice.host.clone());
        match instances::update(db, uuid, &changes, Some(&[Some(task::SCHEDULING)])).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!("[instance: {uuid}] deleted or changed while scheduling; releasing its claim");
                return release_logged(self.placement.as_ref(), uuid).await;
            }
            Err(e) => return tracing::error!("[instance: {uuid}] selection not saved: {}", e.message),
        }
        if let Ok(Some(mut spec)) = request_specs::get(db, uuid).await {
            retry.store(&mut spec);
            if let Err(e) = request_specs::save(db, uuid, &spec).await {
                tracing::warn!("[instance: {uuid}] retry information not saved: {}", e.message);
            }
        }
        tracing::info!("[instance: {uuid}] Selected host {} (node {}) for the build", choice.host, choice.nodename);
        let task = ComputeTask::BuildAndRunInstance(BuildAndRunInstance {
            instance_uuid: uuid.to_string(),
            node: choice.nodename.clone(),
            limits: Some(NodeLimits { memory_mb: choice.limits.memory_mb, disk_gb: choice.limits.disk_gb, vcpu: choice.limits.vcpu }),
            build: args.clone(),
        });
        if let Err(e) = cast_to_compute(self.bus.as_ref(), &choice.host, &task, ctx).await {
            tracing::warn!("[instance: {uuid}] compute host {} unreachable: {e}", choice.host);
            let failed = BuildFailed {
                instance_uuid: uuid.to_string(),
                host: choice.host.clone(),
                node: choice.nodename.clone(),
                fault: crate::agent_api::records::FaultInfo::internal(format!("Compute host {} could not be reached: {e}", choice.host)),
                reschedule: true,
                build: args,
            };
            Box::pin(self.build_failed(ctx, failed)).await;
        }
    }

    /// A build failed on a host (or could not be sent there): free its claim and try the next
    /// alternate, or put the instance in ERROR when none is left.
    pub(crate) async fn build_failed(&self, ctx: &Context, failed: BuildFailed) {
        let uuid = failed.instance_uuid.clone();
        let db = &self.compute.db;
        release_logged(self.placement.as_ref(), &uuid).await;
        let instance = match instances::get(db, &uuid).await {
            Ok(Some(i)) => i,
            Ok(None) => return tracing::info!("[instance: {uuid}] deleted during its build; its claim is released"),
            Err(e) => return tracing::error!("[instance: {uuid}] reschedule failed: {}", e.message),
        };
        if !failed.reschedule {
            return self.build_error(ctx, &uuid, &failed.fault.message, failed.fault.details.as_deref()).await;
        }
        let spec = match request_specs::get(db, &uuid).await {
            Ok(Some(spec)) => spec,
            _ => spec_of(&instance),
        };
        let mut retry = Retry::of(&spec);
        let max_attempts = self.scheduler.max_attempts();
        while retry.num_attempts < max_attempts && !retry.alternates.is_empty() {
            let choice = retry.alternates.remove(0);
            let claimed = match &choice.allocation_request {
                Some(request) => claim(self.placement.as_ref(), &uuid, request, &instance.project_id, &instance.user_id).await,
                None => true,
            };
            if !claimed {
                tracing::info!("[instance: {uuid}] alternate host {} no longer fits; trying the next one", choice.host);
                continue;
            }
            tracing::info!("[instance: {uuid}] Rescheduling the build from {} to alternate host {}", failed.host, choice.host);
            retry.attempt(&choice);
            return self.dispatch_build(ctx, &uuid, &choice, retry, failed.build).await;
        }
        let message = format!("Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance {uuid}.");
        let details = format!("{}\n{}", failed.fault.message, failed.fault.details.unwrap_or_default());
        self.build_error(ctx, &uuid, &message, Some(details.trim_end())).await;
    }

    /// The build is over: ERROR with `message`, recorded as the conductor's failed event.
    async fn build_error(&self, ctx: &Context, uuid: &str, message: &str, details: Option<&str>) {
        self.event_start(ctx, uuid, EVENT).await;
        self.error_out(uuid, message, details).await;
        self.event_finish(ctx, uuid, EVENT, Some(message)).await;
    }
}

/// A spec for an instance created without one (it has its flavor and image at least).
fn spec_of(instance: &Instance) -> RequestSpec {
    RequestSpec {
        instance_uuids: vec![instance.uuid.clone()],
        num_instances: 1,
        instance_uuid: Some(instance.uuid.clone()),
        project_id: instance.project_id.clone(),
        user_id: instance.user_id.clone(),
        flavor: monostack_compute::request_spec::SpecFlavor::from_instance_flavor(&instance.flavor),
        availability_zone: instance.availability_zone.clone(),
        ..RequestSpec::default()
    }
}
