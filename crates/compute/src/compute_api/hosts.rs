//! Nova's HostAPI (`os-hosts`): operations on a compute host, answered by its compute agent
//! (bus calls). The host must run a compute service; a service that is down cannot answer,
//! which is a 400 here rather than a wait for the call to time out.

use super::{call_failed, call_timeout, ApiResult};
use crate::context::RequestContext;
use crate::db::services::{self as service_db, COMPUTE_BINARY};
use crate::rpc::compute::{self, ComputeRequest, HostMaintenanceMode, HostPowerAction, RemoteFault, SetHostEnabled};
use crate::ComputeService;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use serde_json::Value;

/// Calls the agent of `host` with `request`: 404 unless the host runs a compute service, 400
/// while that service is down.
async fn call_host(svc: &ComputeService, ctx: &RequestContext, host: &str, what: &str, request: ComputeRequest) -> ApiResult<Value> {
    let service = service_db::by_host_and_binary(&svc.db, host, COMPUTE_BINARY)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Compute host {host} could not be found.")))?;
    if !service_db::is_up(&service, svc.config.compute.service_down_time, now_micros()) {
        return Err(ApiError::bad_request(format!("Compute service of {host} is unavailable at this time.")));
    }
    compute::call(svc.bus.as_ref(), ctx, host, request, call_timeout(svc)).await.map_err(|e| match RemoteFault::parse(&e) {
        Some(f) if f.kind == "NotImplemented" => ApiError::not_implemented("The requested functionality is not supported."),
        _ => call_failed(what, &e),
    })
}

/// The agent's one-word answer, which must be one of `expected` (Nova's 400 otherwise).
fn one_of(answer: Value, expected: &[&str]) -> ApiResult<String> {
    let text = answer.as_str().map(str::to_string).unwrap_or_else(|| answer.to_string());
    if expected.contains(&text.as_str()) {
        Ok(text)
    } else {
        Err(ApiError::bad_request(text))
    }
}

/// Whether the host takes new guests: answers `enabled` or `disabled`.
pub async fn set_host_enabled(svc: &ComputeService, ctx: &RequestContext, host: &str, enabled: bool) -> ApiResult<String> {
    tracing::info!("{} host {host}.", if enabled { "Enabling" } else { "Disabling" });
    let answer = call_host(svc, ctx, host, "set_host_enabled", ComputeRequest::SetHostEnabled(SetHostEnabled { enabled })).await?;
    one_of(answer, &["enabled", "disabled"])
}

/// Starts (`on`) or ends the host's maintenance window: answers `on_maintenance` or
/// `off_maintenance`.
pub async fn set_maintenance(svc: &ComputeService, ctx: &RequestContext, host: &str, on: bool) -> ApiResult<String> {
    tracing::info!("Putting host {host} in maintenance mode {on}.");
    let request = ComputeRequest::HostMaintenanceMode(HostMaintenanceMode { host: host.to_string(), mode: on });
    let answer = call_host(svc, ctx, host, "host_maintenance_mode", request).await?;
    one_of(answer, &["on_maintenance", "off_maintenance"])
}

/// Starts, shuts down or reboots the host: answers what the driver reports.
pub async fn power_action(svc: &ComputeService, ctx: &RequestContext, host: &str, action: &str) -> ApiResult<Value> {
    call_host(svc, ctx, host, "host_power_action", ComputeRequest::HostPowerAction(HostPowerAction { action: action.to_string() })).await
}
