//! Unshelve (Nova's conductor `unshelve_instance`): a SHELVED instance still has its host and
//! is simply started there; a SHELVED_OFFLOADED one is scheduled like a new build (flavor,
//! zone, requested host), claimed, and spawned from its shelved image on the chosen host.

use crate::agent_api::client::cast_to_compute;
use crate::agent_api::compute::{ComputeTask, UnshelveInstance as UnshelveTask};
use crate::allocations::release_logged;
use crate::migrate::move_spec;
use crate::Conductor;
use monostack_bus::Context;
use monostack_compute::db::instance_metadata::{self, Kind};
use monostack_compute::db::instances::{self, Changes, Instance};
use monostack_compute::rpc::compute::{ComputeRequest, InstanceRef};
use monostack_compute::rpc::conductor::UnshelveInstance;
use monostack_compute::states::{task, vm};

const EVENT: &str = "conductor_unshelve_instance";

impl Conductor {
    pub(crate) async fn unshelve_instance(&self, ctx: &Context, request: UnshelveInstance) {
        let uuid = request.instance_uuid.clone();
        let instance = match instances::get(&self.compute.db, &uuid).await {
            Ok(Some(i)) => i,
            _ => return tracing::info!("[instance: {uuid}] gone before its unshelve started"),
        };
        self.event_start(ctx, &uuid, EVENT).await;
        if instance.vm_state == vm::SHELVED {
            return self.start_shelved(ctx, &instance).await;
        }
        let spec = move_spec(self, &instance, &instance.flavor).await;
        let selection = match self.select(&spec, std::slice::from_ref(&uuid)).await {
            Ok(Ok(mut selections)) if !selections.is_empty() => selections.remove(0),
            Ok(Err(no_valid_host)) => return self.unshelve_failed(ctx, &instance, &no_valid_host.to_string()).await,
            Ok(Ok(_)) => return self.unshelve_failed(ctx, &instance, "No valid host was found. ").await,
            Err(e) => return self.unshelve_failed(ctx, &instance, &e.message).await,
        };
        let choice = selection.chosen;
        let sys = instance_metadata::get(&self.compute.db, Kind::System, &uuid).await.unwrap_or_default();
        let unshelve = ComputeTask::UnshelveInstance(UnshelveTask {
            instance_uuid: uuid.clone(),
            image_id: sys.get("shelved_image_id").cloned().or_else(|| instance.image_ref.clone()),
            node: choice.nodename.clone(),
        });
        tracing::info!("[instance: {uuid}] Unshelving on host {} (node {})", choice.host, choice.nodename);
        match cast_to_compute(self.bus.as_ref(), &choice.host, &unshelve, ctx).await {
            Ok(()) => self.event_finish(ctx, &uuid, EVENT, None).await,
            Err(e) => {
                release_logged(self.placement.as_ref(), &uuid).await;
                self.unshelve_failed(ctx, &instance, &format!("Compute host {} could not be reached: {e}", choice.host)).await;
            }
        }
    }

    /// A SHELVED instance is powered on where it is (task `powering-on`).
    async fn start_shelved(&self, ctx: &Context, instance: &Instance) {
        let uuid = &instance.uuid;
        let Some(host) = instance.host.clone() else {
            return self.unshelve_failed(ctx, instance, "Shelved instance has no host.").await;
        };
        let changes = Changes::new().set("task_state", task::POWERING_ON);
        match instances::update(&self.compute.db, uuid, &changes, Some(&[Some(task::UNSHELVING)])).await {
            Ok(true) => {}
            _ => return tracing::info!("[instance: {uuid}] changed while unshelving; nothing to start"),
        }
        let start = ComputeRequest::StartInstance(InstanceRef { instance_uuid: uuid.clone() });
        let target = monostack_bus::Target::server(crate::agent_api::compute::TOPIC, host.clone());
        match crate::agent_api::client::cast(self.bus.as_ref(), &target, &start, ctx).await {
            Ok(()) => self.event_finish(ctx, uuid, EVENT, None).await,
            Err(e) => self.unshelve_failed(ctx, instance, &format!("Compute host {host} could not be reached: {e}")).await,
        }
    }

    /// Nova leaves an instance that cannot be unshelved as it was, with no task.
    async fn unshelve_failed(&self, ctx: &Context, instance: &Instance, message: &str) {
        tracing::warn!("[instance: {}] Unshelve failed: {message}", instance.uuid);
        self.update_logged(&instance.uuid, Changes::new().set("task_state", None::<String>)).await;
        self.add_fault(&instance.uuid, 500, message, None).await;
        self.event_finish(ctx, &instance.uuid, EVENT, Some(message)).await;
    }
}
