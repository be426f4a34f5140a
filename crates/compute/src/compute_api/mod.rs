//! What nova/compute/api.py does: the checks and state changes of every server operation at
//! the API, up to the message that hands the work to the conductor or a compute agent. The
//! HTTP handlers parse and authorize; these functions enforce Nova's preconditions (lock,
//! vm/task state, host), move the task state, record the instance action, and cast.

pub mod actions;
pub mod checks;
pub mod console;
pub mod create;
pub mod delete;
pub mod diagnostics;
pub mod errors;
pub mod events;
pub mod hosts;
pub mod interfaces;
pub mod list;
pub mod lock;
pub mod metadata;
pub mod migrate;
pub mod rebuild;
pub mod service_group;
pub mod shelve;
pub mod snapshot;
pub mod tags;
pub mod volumes;
pub mod zones;

use crate::context::RequestContext;
use crate::db::instance_actions::{self, Actor};
use crate::db::instances::{self, Instance};
use crate::rpc::{self, compute::ComputeRequest, conductor::ComputeTaskRequest};
use crate::ComputeService;
use monostack_common::ApiError;

pub type ApiResult<T> = Result<T, ApiError>;

/// The instance `uuid` as the caller may see it: another project's server is a 404 for
/// non-admins, as Nova's project-scoped queries make it.
pub async fn get_instance(svc: &ComputeService, ctx: &RequestContext, uuid: &str) -> ApiResult<Instance> {
    match instances::get(&svc.db, uuid).await? {
        Some(i) if ctx.is_admin || i.project_id == ctx.project_id() => Ok(i),
        _ => Err(errors::instance_not_found(uuid)),
    }
}

/// Like [`get_instance`], including deleted servers (instance actions, 2.21).
pub async fn get_instance_any(svc: &ComputeService, ctx: &RequestContext, uuid: &str) -> ApiResult<Instance> {
    match instances::get_any(&svc.db, uuid).await? {
        Some(i) if ctx.is_admin || i.project_id == ctx.project_id() => Ok(i),
        _ => Err(errors::instance_not_found(uuid)),
    }
}

/// The actor of actions started by this request.
pub fn actor(ctx: &RequestContext) -> Actor<'_> {
    Actor { request_id: &ctx.request_id, user_id: Some(ctx.user_id()), project_id: ctx.auth.project_id.as_deref() }
}

/// Records the start of `action` on the instance (Nova's `_record_action_start`).
pub async fn record_action(svc: &ComputeService, ctx: &RequestContext, uuid: &str, action: &str) -> ApiResult<i64> {
    instance_actions::action_start(&svc.db, uuid, action, actor(ctx)).await
}

/// Casts `request` to the compute agent of `host`. Like an AMQP cast, it does not wait for
/// the agent: a cast that cannot be delivered (the agent is not running) is logged, and the
/// instance keeps its task state for the agent to settle when it starts.
pub async fn cast_to_host(svc: &ComputeService, ctx: &RequestContext, host: &str, request: ComputeRequest) {
    if let Err(e) = rpc::compute::cast(svc.bus.as_ref(), ctx, host, request).await {
        tracing::error!("cast to compute agent of {host} not delivered: {e}");
    }
}

/// Casts `request` to the conductor (logged when undelivered, as [`cast_to_host`]).
pub async fn cast_to_conductor(svc: &ComputeService, ctx: &RequestContext, request: ComputeTaskRequest) {
    if let Err(e) = rpc::conductor::cast(svc.bus.as_ref(), ctx, request).await {
        tracing::error!("cast to the conductor not delivered: {e}");
    }
}

/// How long a call to a compute agent may take (`[bus] rpc_response_timeout`).
pub fn call_timeout(svc: &ComputeService) -> std::time::Duration {
    std::time::Duration::from_secs(svc.config.bus.rpc_response_timeout)
}

/// The answer to a call to an agent that did not answer: Nova lets the messaging error
/// through as a 500 ("Unexpected API Error").
pub fn call_failed(what: &str, e: &monostack_bus::BusError) -> ApiError {
    tracing::error!("{what}: {e}");
    ApiError::new(
        http::StatusCode::INTERNAL_SERVER_ERROR,
        format!("Unexpected API Error. The compute host did not answer {what}: {e}"),
    )
}
