//! Consoles: the console log and remote console URLs, answered by the compute agent of the
//! server's host (bus calls). A host that does not answer is Nova's 500.

use super::{call_failed, call_timeout as timeout, errors, ApiResult};
use crate::context::RequestContext;
use crate::db::instances::Instance;
use crate::rpc::compute::{self, ComputeRequest, GetConsole, GetConsoleOutput, RemoteFault};
use crate::states::task;
use crate::ComputeService;
use monostack_common::ApiError;
use serde_json::Value;

/// An agent's refusal as Nova maps it.
fn refusal(what: &str, e: &monostack_bus::BusError) -> ApiError {
    match RemoteFault::parse(e) {
        Some(f) if f.kind == "ConsoleTypeUnavailable" || f.kind == "ConsoleTypeInvalid" => ApiError::bad_request(f.message),
        Some(f) if f.kind == "ConsoleNotAvailable" || f.kind == "InstanceNotFound" => ApiError::not_found(f.message),
        Some(f) if f.kind == "InstanceNotReady" => ApiError::conflict(f.message),
        Some(f) if f.kind == "NotImplemented" => ApiError::not_implemented("The requested functionality is not supported."),
        _ => call_failed(what, e),
    }
}

/// The console log (its last `length` lines), without control characters.
pub async fn console_output(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, length: Option<i64>) -> ApiResult<String> {
    let host = instance.host.clone().ok_or_else(|| errors::not_ready(&instance.uuid))?;
    let tail_length = length.filter(|l| *l >= 0);
    let request = ComputeRequest::GetConsoleOutput(GetConsoleOutput { instance_uuid: instance.uuid.clone(), tail_length });
    let reply = compute::call(svc.bus.as_ref(), ctx, &host, request, timeout(svc)).await.map_err(|e| refusal("get_console_output", &e))?;
    let text = reply.as_str().unwrap_or_default();
    Ok(text.chars().filter(|c| !matches!(*c as u32, 0x00..=0x08 | 0x0b..=0x1f)).collect())
}

/// A remote console URL of `protocol` (vnc, spice, serial, mks) and `console_type`.
pub async fn remote_console(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, protocol: &str, console_type: &str) -> ApiResult<String> {
    let host = instance.host.clone().ok_or_else(|| errors::not_ready(&instance.uuid))?;
    if matches!(instance.task_state.as_deref(), Some(task::DELETING) | Some(task::MIGRATING)) {
        return Err(errors::invalid_state(&format!("get_{protocol}_console"), &instance.uuid, "task_state", instance.task_state.as_deref()));
    }
    let args = GetConsole { instance_uuid: instance.uuid.clone(), console_type: console_type.to_string() };
    let request = match protocol {
        "vnc" => ComputeRequest::GetVncConsole(args),
        "spice" => ComputeRequest::GetSpiceConsole(args),
        "serial" => ComputeRequest::GetSerialConsole(args),
        "mks" => ComputeRequest::GetMksConsole(args),
        other => return Err(ApiError::bad_request(format!("Unavailable console type {other}."))),
    };
    let reply = compute::call(svc.bus.as_ref(), ctx, &host, request, timeout(svc)).await.map_err(|e| refusal("get_console", &e))?;
    reply.get("url").and_then(Value::as_str).map(str::to_string).ok_or_else(|| ApiError::internal("console reply without url"))
}
