//! Sending typed requests over the bus with a bus [`Context`] (agents have no API request
//! context): the conductor's client for agents, and casts/calls to agents.

use super::compute::ComputeTask;
use super::conductor::{self, ConductorRequest, EventFinish, EventStart, FaultCreate, InstanceGet, InstanceUpdate};
use super::records::{FaultInfo, InstanceField, InstanceRecord, MigrationRecord};
use monostack_bus::{Bus, BusError, Context, Message, Target};
use monostack_compute::rpc::compute::RemoteFault;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Builds the bus message of a typed request (`{"method", "args"}` split into the envelope).
pub fn encode<T: Serialize>(request: &T, context: &Context) -> Result<Message, BusError> {
    let value = serde_json::to_value(request).map_err(|e| BusError::Transport(e.to_string()))?;
    let method = value.get("method").and_then(Value::as_str).unwrap_or_default().to_string();
    let args = value.get("args").cloned().unwrap_or(Value::Null);
    Ok(Message::new(method, args).with_context(context.clone()))
}

/// Why a request to the conductor or an agent failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RpcError {
    /// The other side refused with a typed fault (`InstanceNotFound`,
    /// `UnexpectedTaskStateError`, ...).
    #[error("{}: {}", .0.kind, .0.message)]
    Fault(RemoteFault),
    #[error("{0}")]
    Bus(BusError),
    #[error("undecodable reply: {0}")]
    Decode(String),
}

impl RpcError {
    /// The fault kind, if the other side sent one.
    pub fn kind(&self) -> Option<&str> {
        match self {
            RpcError::Fault(f) => Some(&f.kind),
            _ => None,
        }
    }

    /// The instance is gone (deleted meanwhile).
    pub fn is_not_found(&self) -> bool {
        self.kind() == Some("InstanceNotFound")
    }

    /// Nova's UnexpectedTaskStateError (or its deleting variant).
    pub fn is_unexpected_task_state(&self) -> bool {
        matches!(self.kind(), Some("UnexpectedTaskStateError") | Some("UnexpectedDeletingTaskStateError"))
    }

    /// The instance is being deleted (Nova's UnexpectedDeletingTaskStateError).
    pub fn is_deleting(&self) -> bool {
        self.kind() == Some("UnexpectedDeletingTaskStateError")
    }
}

impl From<BusError> for RpcError {
    fn from(e: BusError) -> Self {
        match RemoteFault::parse(&e) {
            Some(fault) => RpcError::Fault(fault),
            None => RpcError::Bus(e),
        }
    }
}

/// The error string a handler answers with for a typed fault.
pub fn fault_reply(kind: &str, message: impl Into<String>) -> String {
    let fault = RemoteFault { kind: kind.to_string(), message: message.into() };
    serde_json::to_string(&fault).unwrap_or_else(|_| fault.message.clone())
}

/// Calls one consumer of `target` and decodes the answer.
pub async fn call<T: Serialize, R: DeserializeOwned>(bus: &dyn Bus, target: &Target, request: &T, context: &Context, timeout: Duration) -> Result<R, RpcError> {
    let msg = encode(request, context)?;
    let reply = bus.call(target, msg, timeout).await?;
    serde_json::from_value(reply).map_err(|e| RpcError::Decode(e.to_string()))
}

/// Casts to one consumer of `target`.
pub async fn cast<T: Serialize>(bus: &dyn Bus, target: &Target, request: &T, context: &Context) -> Result<(), RpcError> {
    let msg = encode(request, context)?;
    bus.cast(target, msg).await.map_err(RpcError::from)
}

/// Casts a task to the agent of `host`.
pub async fn cast_to_compute(bus: &dyn Bus, host: &str, task: &ComputeTask, context: &Context) -> Result<(), RpcError> {
    cast(bus, &Target::server(super::compute::TOPIC, host), task, context).await
}

/// Calls the agent of `host` with a task (the answer is JSON).
pub async fn call_compute(bus: &dyn Bus, host: &str, task: &ComputeTask, context: &Context, timeout: Duration) -> Result<Value, RpcError> {
    call(bus, &Target::server(super::compute::TOPIC, host), task, context, timeout).await
}

/// What a compute agent uses to reach the database (and placement) through the conductor.
#[derive(Clone)]
pub struct ConductorClient {
    bus: Arc<dyn Bus>,
    timeout: Duration,
}

impl ConductorClient {
    /// A client whose calls time out after `timeout` (`[bus] rpc_response_timeout`).
    pub fn new(bus: Arc<dyn Bus>, timeout: Duration) -> Self {
        ConductorClient { bus, timeout }
    }

    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.bus
    }

    /// Calls any conductor and decodes the answer.
    pub async fn call<R: DeserializeOwned>(&self, context: &Context, request: ConductorRequest) -> Result<R, RpcError> {
        call(self.bus.as_ref(), &Target::topic(conductor::TOPIC), &request, context, self.timeout).await
    }

    /// Calls a conductor for a request that answers nothing useful.
    pub async fn run(&self, context: &Context, request: ConductorRequest) -> Result<(), RpcError> {
        let _: Value = self.call(context, request).await?;
        Ok(())
    }

    /// Casts to any conductor.
    pub async fn cast(&self, context: &Context, request: ConductorRequest) -> Result<(), RpcError> {
        cast(self.bus.as_ref(), &Target::topic(conductor::TOPIC), &request, context).await
    }

    pub async fn instance_get(&self, context: &Context, uuid: &str) -> Result<Option<InstanceRecord>, RpcError> {
        self.call(context, ConductorRequest::InstanceGet(InstanceGet { uuid: uuid.into(), include_deleted: false })).await
    }

    /// Nova's `instance.save(expected_task_state=...)`: `expected` None means any task state.
    pub async fn instance_update(
        &self,
        context: &Context,
        uuid: &str,
        changes: Vec<InstanceField>,
        expected: Option<&[Option<&str>]>,
    ) -> Result<InstanceRecord, RpcError> {
        let expected_task_state = expected.map(|states| states.iter().map(|s| s.map(str::to_string)).collect());
        let update = InstanceUpdate { uuid: uuid.into(), changes, expected_task_state };
        self.call(context, ConductorRequest::InstanceUpdate(update)).await
    }

    pub async fn event_start(&self, context: &Context, uuid: &str, event: &str, host: &str) -> Result<(), RpcError> {
        let request_id = context.request_id.clone().unwrap_or_default();
        let start = EventStart { uuid: uuid.into(), request_id, event: event.into(), host: host.into() };
        self.run(context, ConductorRequest::ActionEventStart(start)).await
    }

    pub async fn event_finish(&self, context: &Context, uuid: &str, event: &str, error: Option<&str>) -> Result<(), RpcError> {
        let request_id = context.request_id.clone().unwrap_or_default();
        let finish = EventFinish { uuid: uuid.into(), request_id, event: event.into(), success: error.is_none(), traceback: error.map(str::to_string) };
        self.run(context, ConductorRequest::ActionEventFinish(finish)).await
    }

    pub async fn fault_create(&self, context: &Context, uuid: &str, fault: FaultInfo, host: Option<&str>) -> Result<(), RpcError> {
        self.run(context, ConductorRequest::InstanceFaultCreate(FaultCreate { uuid: uuid.into(), fault, host: host.map(str::to_string) })).await
    }

    pub async fn migration_get(&self, context: &Context, id: i64) -> Result<Option<MigrationRecord>, RpcError> {
        self.call(context, ConductorRequest::MigrationGet(conductor::MigrationGet { id })).await
    }

    pub async fn migration_set_status(&self, context: &Context, id: i64, status: &str) -> Result<MigrationRecord, RpcError> {
        self.call(context, ConductorRequest::MigrationSetStatus(conductor::MigrationStatus { id, status: status.into() })).await
    }
}
