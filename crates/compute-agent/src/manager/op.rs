//! How every operation records itself, as Nova's decorators do: `wrap_instance_event` (an
//! action event `compute_<operation>` with its start, finish and result),
//! `wrap_instance_fault` (a fault on failure), `reverts_task_state` (a recoverable failure
//! leaves the instance in its vm state with no task) and `_error_out_instance_on_exception`
//! (an unrecoverable one puts it in ERROR).

use super::instance::{code, driver_ref};
use super::ComputeManager;
use crate::virt::{InstanceRef, VirtError};
use monostack_bus::Context;
use monostack_compute::states::{power, vm};
use monostack_conductor::agent_api::records::{FaultInfo, InstanceField, InstanceRecord};
use monostack_conductor::agent_api::RpcError;
use tokio::sync::OwnedMutexGuard;

/// Why an operation stopped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// Back to the instance's vm state with no task, and a fault.
    Recoverable(String),
    /// The instance goes to ERROR, with a fault.
    Error(String),
    /// Nothing to record: the instance was deleted, or another task took it over.
    Abandoned(String),
}

impl Failure {
    pub(crate) fn message(&self) -> &str {
        match self {
            Failure::Recoverable(m) | Failure::Error(m) | Failure::Abandoned(m) => m,
        }
    }

    /// The same failure, made unrecoverable.
    pub(crate) fn fatal(self) -> Failure {
        match self {
            Failure::Recoverable(m) => Failure::Error(m),
            other => other,
        }
    }
}

impl From<VirtError> for Failure {
    fn from(e: VirtError) -> Self {
        Failure::Recoverable(e.to_string())
    }
}

impl From<RpcError> for Failure {
    fn from(e: RpcError) -> Self {
        if e.is_not_found() || e.is_unexpected_task_state() {
            Failure::Abandoned(e.to_string())
        } else {
            Failure::Recoverable(e.to_string())
        }
    }
}

pub(crate) type OpResult = Result<(), Failure>;

/// An operation in progress on one instance: the instance as loaded, under its lock.
pub(crate) struct Op {
    pub instance: InstanceRecord,
    pub event: &'static str,
    _guard: OwnedMutexGuard<()>,
}

impl ComputeManager {
    /// Starts `event` on the instance: takes its lock, loads it, records the event start.
    /// None (logged) when the instance is gone.
    pub(crate) async fn begin(&self, ctx: &Context, uuid: &str, event: &'static str) -> Option<Op> {
        let guard = self.locks.lock(uuid).await;
        let instance = match self.conductor.instance_get(ctx, uuid).await {
            Ok(Some(i)) => i,
            Ok(None) => {
                tracing::warn!("[instance: {uuid}] Instance not found; {event} skipped");
                return None;
            }
            Err(e) => {
                tracing::error!("[instance: {uuid}] Instance could not be loaded for {event}: {e}");
                return None;
            }
        };
        if let Err(e) = self.conductor.event_start(ctx, uuid, event, &self.host).await {
            tracing::warn!("[instance: {uuid}] event {event} not recorded: {e}");
        }
        Some(Op { instance, event, _guard: guard })
    }

    /// Records how `op` ended.
    pub(crate) async fn end(&self, ctx: &Context, op: Op, result: OpResult) {
        let uuid = op.instance.uuid.clone();
        let error = match &result {
            Ok(()) => None,
            Err(failure) => Some(failure.message().to_string()),
        };
        match result {
            Ok(()) => {}
            Err(Failure::Abandoned(message)) => tracing::info!("[instance: {uuid}] {} stopped: {message}", op.event),
            Err(Failure::Recoverable(message)) => {
                tracing::error!("[instance: {uuid}] {} failed: {message}", op.event);
                self.record_fault(ctx, &uuid, &message).await;
                self.save_logged(ctx, &uuid, vec![InstanceField::TaskState(None)]).await;
            }
            Err(Failure::Error(message)) => {
                tracing::error!("[instance: {uuid}] {} failed, setting instance to ERROR state: {message}", op.event);
                self.record_fault(ctx, &uuid, &message).await;
                self.save_logged(ctx, &uuid, vec![InstanceField::VmState(vm::ERROR.into()), InstanceField::TaskState(None)]).await;
            }
        }
        if let Err(e) = self.conductor.event_finish(ctx, &uuid, op.event, error.as_deref()).await {
            tracing::warn!("[instance: {uuid}] event {} not finished: {e}", op.event);
        }
    }

    /// Nova's `instance.save(expected_task_state=…)`; `expected` None accepts any task.
    pub(crate) async fn save(&self, ctx: &Context, uuid: &str, changes: Vec<InstanceField>, expected: Option<&[Option<&str>]>) -> Result<InstanceRecord, Failure> {
        Ok(self.conductor.instance_update(ctx, uuid, changes, expected).await?)
    }

    /// A save on a clean-up path: failures are only logged.
    pub(crate) async fn save_logged(&self, ctx: &Context, uuid: &str, changes: Vec<InstanceField>) {
        if let Err(e) = self.conductor.instance_update(ctx, uuid, changes, None).await {
            tracing::warn!("[instance: {uuid}] state not saved: {e}");
        }
    }

    pub(crate) async fn record_fault(&self, ctx: &Context, uuid: &str, message: &str) {
        if let Err(e) = self.conductor.fault_create(ctx, uuid, FaultInfo::internal(message), Some(&self.host)).await {
            tracing::warn!("[instance: {uuid}] fault not recorded: {e}");
        }
    }

    /// The driver's view of the instance on its node.
    pub(crate) fn guest(&self, instance: &InstanceRecord) -> InstanceRef {
        driver_ref(instance, &self.host, None)
    }

    /// The guest's power state as Nova stores it (NOSTATE when the hypervisor has no such
    /// guest).
    pub(crate) async fn power_state(&self, guest: &InstanceRef) -> i64 {
        match self.driver.get_info(guest).await {
            Ok(info) => code(info.state),
            Err(_) => power::NOSTATE,
        }
    }
}
