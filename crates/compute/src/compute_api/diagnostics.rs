//! Server diagnostics: the compute agent of the server's host asks its driver about the
//! running guest (a bus call). Before 2.48 the answer is the driver's own counters, from 2.48
//! Nova's standard diagnostics.

use super::{call_failed, call_timeout, errors, ApiResult};
use crate::context::RequestContext;
use crate::db::instances::Instance;
use crate::rpc::compute::{self, ComputeRequest, InstanceRef, RemoteFault};
use crate::states::power;
use crate::ComputeService;
use monostack_common::ApiError;
use serde_json::Value;

/// Nova's name of a stored power state (`shutdown`), as its messages show it.
fn power_state_name(code: i64) -> &'static str {
    power::ALL.iter().find(|(c, _)| *c == code).map_or("pending", |(_, name)| name)
}

/// An agent's refusal as Nova maps it.
fn refusal(instance: &Instance, e: &monostack_bus::BusError) -> ApiError {
    match RemoteFault::parse(e) {
        Some(f) if f.kind == "InstanceInvalidState" => {
            errors::invalid_state("get_diagnostics", &instance.uuid, "power state", Some(power_state_name(instance.power_state)))
        }
        Some(f) if f.kind == "InstanceNotReady" => ApiError::conflict(f.message),
        Some(f) if f.kind == "InstanceNotFound" => ApiError::not_found(f.message),
        Some(f) if f.kind == "NotImplemented" => ApiError::not_implemented("The requested functionality is not supported."),
        _ => call_failed("get_diagnostics", e),
    }
}

/// The diagnostics of a running server: `standard` for the 2.48 form.
pub async fn diagnostics(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, standard: bool) -> ApiResult<Value> {
    let host = instance.host.clone().ok_or_else(|| errors::not_ready(&instance.uuid))?;
    let which = InstanceRef { instance_uuid: instance.uuid.clone() };
    let request = if standard { ComputeRequest::GetInstanceDiagnostics(which) } else { ComputeRequest::GetDiagnostics(which) };
    compute::call(svc.bus.as_ref(), ctx, &host, request, call_timeout(svc)).await.map_err(|e| refusal(instance, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_states_are_named_as_nova_names_them() {
        assert_eq!(power_state_name(power::SHUTDOWN), "shutdown");
        assert_eq!(power_state_name(power::NOSTATE), "pending");
        assert_eq!(power_state_name(42), "pending");
    }
}
