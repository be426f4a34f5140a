//! How conductor flows record their steps and failures: instance action events
//! (`conductor_<flow>`), faults, and the state an instance is left in when a flow fails.

use crate::Conductor;
use monostack_bus::Context;
use monostack_compute::db::instance_actions::{self, EventResult};
use monostack_compute::db::instance_faults;
use monostack_compute::db::instances::{self, Changes};
use monostack_compute::states::vm;

/// The request id of a message (`-` when it carried none).
pub(crate) fn request_id(ctx: &Context) -> &str {
    ctx.request_id.as_deref().unwrap_or("-")
}

impl Conductor {
    /// Starts event `event` of the instance's current action (the one of this request).
    pub(crate) async fn event_start(&self, ctx: &Context, uuid: &str, event: &str) {
        if let Err(e) = instance_actions::event_start(&self.compute.db, uuid, request_id(ctx), event, Some(&self.host)).await {
            tracing::warn!("[instance: {uuid}] event {event} not recorded: {}", e.message);
        }
    }

    /// Finishes event `event`; `error` marks it (and its action) failed.
    pub(crate) async fn event_finish(&self, ctx: &Context, uuid: &str, event: &str, error: Option<&str>) {
        let result = if error.is_some() { EventResult::Error } else { EventResult::Success };
        if let Err(e) = instance_actions::event_finish(&self.compute.db, uuid, request_id(ctx), event, result, None, error).await {
            tracing::warn!("[instance: {uuid}] event {event} not finished: {}", e.message);
        }
    }

    /// Records a fault (code 500 unless `code`) on the instance.
    pub(crate) async fn add_fault(&self, uuid: &str, code: i64, message: &str, details: Option<&str>) {
        if let Err(e) = instance_faults::add(&self.compute.db, uuid, code, message, details, Some(&self.host)).await {
            tracing::error!("[instance: {uuid}] fault not recorded: {}", e.message);
        }
    }

    /// Applies `changes` to the instance, logging a failure (clean-up paths).
    pub(crate) async fn update_logged(&self, uuid: &str, changes: Changes) {
        if let Err(e) = instances::update(&self.compute.db, uuid, &changes, None).await {
            tracing::error!("[instance: {uuid}] state not saved: {}", e.message);
        }
    }

    /// Nova's `_set_vm_state_and_notify` for a failed build: ERROR, no task, no host, with a
    /// fault.
    pub(crate) async fn error_out(&self, uuid: &str, message: &str, details: Option<&str>) {
        tracing::warn!("[instance: {uuid}] Setting instance to ERROR state.: {message}");
        let changes = Changes::new()
            .set("vm_state", vm::ERROR)
            .set("task_state", None::<String>)
            .set("host", None::<String>)
            .set("node", None::<String>);
        // The fault goes first: a client that sees ERROR must see why, not an older fault.
        self.add_fault(uuid, 500, message, details).await;
        self.update_logged(uuid, changes).await;
    }

    /// A move that failed before anything changed on a host: back to `vm_state`, no task, with
    /// a fault (Nova's `_set_vm_state_and_notify` with the original state).
    pub(crate) async fn move_failed(&self, uuid: &str, vm_state: &str, message: &str) {
        tracing::warn!("[instance: {uuid}] {message}");
        let changes = Changes::new().set("vm_state", vm_state).set("task_state", None::<String>);
        self.add_fault(uuid, 500, message, None).await;
        self.update_logged(uuid, changes).await;
    }
}
