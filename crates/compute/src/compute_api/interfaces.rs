//! Server networking at the API (Nova's `attach_interface`, `detach_interface` and the
//! security group API of servers): preconditions and the instance action here, the port work
//! on the compute agent of the server's host (attach/detach), or in the networking service
//! with the caller's token (security groups of the server's ports), after which the server's
//! network info cache is refreshed.

use super::checks::{self, Precondition};
use super::{call_failed, call_timeout, record_action, ApiResult};
use crate::context::RequestContext;
use crate::db::info_caches;
use crate::db::instances::Instance;
use crate::network_api::{model, security_groups, NetError};
use crate::network_client::{self as net, NetAuth, NetworkError};
use crate::rpc::compute::{self, AttachInterface, ComputeRequest, DetachInterface, RemoteFault};
use crate::states::vm;
use crate::ComputeService;
use monostack_common::ApiError;
use serde_json::{json, Value};

const STATES: &[&str] = &[vm::ACTIVE, vm::PAUSED, vm::STOPPED];

pub fn caller_auth(ctx: &RequestContext) -> NetAuth {
    NetAuth::new(ctx.token.clone(), ctx.request_id.clone())
}

/// A networking-service failure as the compute API answers it.
pub fn network_failure(e: NetworkError) -> ApiError {
    NetError::Neutron(e).to_api()
}

/// The agent's refusal of an attach or detach, as Nova's API maps the exceptions.
fn refusal(what: &str, e: &monostack_bus::BusError) -> ApiError {
    match RemoteFault::parse(e) {
        Some(f) => match f.kind.as_str() {
            "PortNotFound" | "NetworkNotFound" | "InstanceNotFound" => {
                ApiError::not_found(f.message)
            }
            "PortInUse" | "FixedIpAlreadyInUse" => ApiError::conflict(f.message),
            "PortLimitExceeded" => ApiError::forbidden(f.message),
            "InterfaceAttachFailed" => {
                ApiError::new(http::StatusCode::INTERNAL_SERVER_ERROR, f.message)
            }
            _ => ApiError::bad_request(f.message),
        },
        None => call_failed(what, e),
    }
}

/// Nova's `attach_interface`: answers the id of the port attached.
pub async fn attach(
    svc: &ComputeService,
    ctx: &RequestContext,
    instance: &Instance,
    network_id: Option<String>,
    port_id: Option<String>,
    fixed_ip: Option<String>,
    tag: Option<String>,
) -> ApiResult<String> {
    checks::check(
        ctx,
        instance,
        &Precondition::new("attach_interface", STATES)
            .launched(false)
            .host(true),
    )?;
    let host = instance.host.clone().unwrap_or_default();
    record_action(svc, ctx, &instance.uuid, "attach_interface").await?;
    let request = ComputeRequest::AttachInterface(AttachInterface {
        instance_uuid: instance.uuid.clone(),
        network_id,
        port_id,
        fixed_ip,
        tag,
    });
    let reply = compute::call(svc.bus.as_ref(), ctx, &host, request, call_timeout(svc))
        .await
        .map_err(|e| refusal("attach_interface", &e))?;
    reply
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| ApiError::internal("attach_interface reply without a port id"))
}

/// Nova's `detach_interface`.
pub async fn detach(
    svc: &ComputeService,
    ctx: &RequestContext,
    instance: &Instance,
    port_id: &str,
) -> ApiResult<()> {
    checks::check(
        ctx,
        instance,
        &Precondition::new("detach_interface", STATES)
            .launched(false)
            .host(true),
    )?;
    let host = instance.host.clone().unwrap_or_default();
    record_action(svc, ctx, &instance.uuid, "detach_interface").await?;
    let request = ComputeRequest::DetachInterface(DetachInterface {
        instance_uuid: instance.uuid.clone(),
        port_id: port_id.to_string(),
    });
    compute::call(svc.bus.as_ref(), ctx, &host, request, call_timeout(svc))
        .await
        .map_err(|e| refusal("detach_interface", &e))?;
    Ok(())
}

/// The interface view of a port (os-interface's `interfaceAttachment`).
pub fn attachment_view(port: &Value, tag: Option<Option<String>>) -> Value {
    let mut v = json!({
        "net_id": port.get("network_id").cloned().unwrap_or(Value::Null),
        "port_id": port.get("id").cloned().unwrap_or(Value::Null),
        "mac_addr": port.get("mac_address").cloned().unwrap_or(Value::Null),
        "port_state": port.get("status").cloned().unwrap_or(Value::Null),
        "fixed_ips": port.get("fixed_ips").cloned().unwrap_or(Value::Null),
    });
    if let Some(tag) = tag {
        v["tag"] = json!(tag);
    }
    v
}

/// The server's ports (os-interface list), with the caller's token.
pub async fn list_ports(
    svc: &ComputeService,
    ctx: &RequestContext,
    instance: &Instance,
) -> ApiResult<Vec<Value>> {
    net::list(
        svc.network.as_ref(),
        &caller_auth(ctx),
        "ports",
        &[("device_id", instance.uuid.as_str())],
    )
    .await
    .map_err(network_failure)
}

/// One port of the server (404 when it is not the server's).
pub async fn show_port(
    svc: &ComputeService,
    ctx: &RequestContext,
    instance: &Instance,
    port_id: &str,
) -> ApiResult<Value> {
    let port = match net::show(svc.network.as_ref(), &caller_auth(ctx), "ports", port_id).await {
        Ok(p) => p,
        Err(e) if e.is_not_found() => {
            return Err(ApiError::not_found(format!(
                "Port id {port_id} could not be found."
            )))
        }
        Err(e) => return Err(network_failure(e)),
    };
    if port.get("device_id").and_then(Value::as_str) != Some(instance.uuid.as_str()) {
        return Err(ApiError::not_found(format!(
            "Instance {} does not have a port with id {port_id}",
            instance.uuid
        )));
    }
    Ok(port)
}

/// Reads the server's ports again into its network info cache.
pub async fn refresh_cache(svc: &ComputeService, ctx: &RequestContext, uuid: &str) {
    let previous = info_caches::get_many(&svc.db, &[uuid.to_string()])
        .await
        .ok()
        .and_then(|mut m| m.remove(uuid))
        .unwrap_or_else(|| json!([]));
    match model::refresh(svc.network.as_ref(), &ctx.request_id, uuid, &previous).await {
        Ok(info) => {
            if let Err(e) = info_caches::set(&svc.db, uuid, &info).await {
                tracing::warn!(
                    "[instance: {uuid}] network info cache not saved: {}",
                    e.message
                );
            }
        }
        Err(e) => tracing::warn!("[instance: {uuid}] network info cache not refreshed: {e}"),
    }
}

/// `addSecurityGroup` / `removeSecurityGroup` (Nova's `add_to_instance` /
/// `remove_from_instance`): the group goes onto (or off) every port of the server.
pub async fn change_security_group(
    svc: &ComputeService,
    ctx: &RequestContext,
    instance: &Instance,
    name: &str,
    add: bool,
) -> ApiResult<()> {
    let api = svc.network.as_ref();
    let auth = caller_auth(ctx);
    let group_id =
        match security_groups::resolve(api, &auth, &instance.project_id, &[name.to_string()]).await
        {
            Ok(ids) => ids.into_iter().next().unwrap_or_default(),
            Err(NetError::SecurityGroupNotFound(_)) => {
                return Err(ApiError::not_found(format!(
                    "Security group {name} not found."
                )))
            }
            Err(NetError::NoUniqueMatch(_)) => return Err(ApiError::conflict(format!(
                "Multiple security groups found matching '{name}'. Use an ID to be more specific."
            ))),
            Err(e) => return Err(e.to_api()),
        };
    let ports = list_ports(svc, ctx, instance).await?;
    if ports.is_empty() {
        return Err(ApiError::not_found(format!(
            "instance_id {} could not be found as device id on any ports",
            instance.uuid
        )));
    }
    let mut found = false;
    for port in &ports {
        let port_id = port.get("id").and_then(Value::as_str).unwrap_or_default();
        let mut groups: Vec<String> = port
            .get("security_groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        if add {
            if port.get("port_security_enabled").and_then(Value::as_bool) == Some(false) {
                return Err(ApiError::bad_request("Network requires port_security_enabled and subnet associated in order to apply security groups."));
            }
            if groups.contains(&group_id) {
                continue;
            }
            groups.push(group_id.clone());
        } else {
            if !groups.contains(&group_id) {
                continue;
            }
            found = true;
            groups.retain(|g| *g != group_id);
        }
        net::update(
            api,
            &auth,
            "ports",
            port_id,
            json!({"security_groups": groups}),
        )
        .await
        .map_err(network_failure)?;
    }
    if !add && !found {
        return Err(ApiError::not_found(format!(
            "Security group {name} not associated with the instance {}",
            instance.uuid
        )));
    }
    refresh_cache(svc, ctx, &instance.uuid).await;
    Ok(())
}

/// The security groups of the server's ports (Neutron documents), for
/// `/servers/{id}/os-security-groups`.
pub async fn server_security_groups(
    svc: &ComputeService,
    ctx: &RequestContext,
    instance: &Instance,
) -> ApiResult<Vec<Value>> {
    let api = svc.network.as_ref();
    let auth = caller_auth(ctx);
    let ports = list_ports(svc, ctx, instance).await?;
    let mut ids: Vec<String> = Vec::new();
    for g in ports.iter().flat_map(|p| {
        p.get("security_groups")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }) {
        if let Some(id) = g.as_str() {
            if !ids.iter().any(|i| i == id) {
                ids.push(id.to_string());
            }
        }
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let filters: Vec<(&str, &str)> = ids.iter().map(|id| ("id", id.as_str())).collect();
    net::list(api, &auth, "security_groups", &filters)
        .await
        .map_err(network_failure)
}
