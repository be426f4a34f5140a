//! Ports for an instance, where Nova's compute manager handles them (`allocate_for_instance`,
//! `deallocate_for_instance`, `setup_networks_on_host`/`migrate_instance_finish`):
//!
//! - allocation creates a port on each requested network with the caller's token
//!   (`device_id` = the instance, `device_owner` = `compute:<zone>`, the fixed IP and the
//!   security groups asked for), takes the ports the user passed, then binds them all to the
//!   host (`binding:host_id`, with the service's token); a failure deletes what it created and
//!   gives back what it took;
//! - deallocation deletes the ports it created and unbinds those the user passed
//!   (`preserve_on_delete` in the cache);
//! - a move rebinds every port of the instance to the new host.

use super::model;
use super::validate::available_networks;
use super::{security_groups, NetError};
use crate::network_client::{self as net, NetAuth, NetworkApi, NetworkError};
use crate::request_spec::NetworkRequest;
use serde_json::{json, Value};
use std::collections::HashSet;

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The instance the ports are for.
#[derive(Debug, Clone)]
pub struct InstanceNet<'a> {
    pub uuid: &'a str,
    pub project_id: &'a str,
    /// Its availability zone (`device_owner` = `compute:<zone>`).
    pub zone: &'a str,
    /// The compute host the ports are bound to.
    pub host: &'a str,
    pub request_id: &'a str,
}

impl InstanceNet<'_> {
    pub fn device_owner(&self) -> String {
        format!("compute:{}", self.zone)
    }
}

/// One port to give the instance: an existing one, or one to create on a network.
#[derive(Debug, Clone)]
enum Planned {
    Existing(Value),
    Create {
        network_id: String,
        fixed_ip: Option<String>,
    },
}

/// Turns the requests into ports to take or create (Nova's `_validate_requested_port_ids`
/// and `_validate_requested_network_ids`), allocating a topology for `"auto"` when the
/// project has no network.
async fn plan(
    api: &dyn NetworkApi,
    user: &NetAuth,
    inst: &InstanceNet<'_>,
    requested: &[NetworkRequest],
) -> Result<Vec<Planned>, NetError> {
    let auto = requested.iter().any(|r| matches!(r, NetworkRequest::Auto));
    if requested.is_empty() || auto {
        let mut nets = available_networks(api, user, inst.project_id, &[], auto).await?;
        if nets.is_empty() && auto {
            let id = net::auto_allocated_topology(api, user, inst.project_id, false)
                .await
                .map_err(|e| match e {
                    NetworkError::Conflict { .. }
                    | NetworkError::NotFound { .. }
                    | NetworkError::BadRequest { .. } => {
                        NetError::UnableToAutoAllocateNetwork(inst.project_id.to_string())
                    }
                    other => other.into(),
                })?
                .ok_or_else(|| {
                    NetError::UnableToAutoAllocateNetwork(inst.project_id.to_string())
                })?;
            nets = vec![json!({"id": id})];
        }
        return match nets.as_slice() {
            [] => Ok(Vec::new()),
            [one] => Ok(vec![Planned::Create {
                network_id: text(one, "id").to_string(),
                fixed_ip: None,
            }]),
            _ => Err(NetError::NetworkAmbiguous),
        };
    }
    let mut planned = Vec::new();
    for request in requested {
        match request {
            NetworkRequest::Port { port_id, .. } => {
                let port = match net::show(api, user, "ports", port_id).await {
                    Ok(p) => p,
                    Err(e) if e.is_not_found() => {
                        return Err(NetError::PortNotFound(port_id.clone()))
                    }
                    Err(e) => return Err(e.into()),
                };
                let device = text(&port, "device_id");
                // A retried build finds its own ports already taken.
                if !device.is_empty() && device != inst.uuid {
                    return Err(NetError::PortInUse(port_id.clone()));
                }
                planned.push(Planned::Existing(port));
            }
            NetworkRequest::Network { uuid, fixed_ip, .. } => {
                let nets = available_networks(
                    api,
                    user,
                    inst.project_id,
                    std::slice::from_ref(uuid),
                    false,
                )
                .await?;
                if nets.is_empty() {
                    return Err(NetError::NetworkNotFound(uuid.clone()));
                }
                planned.push(Planned::Create {
                    network_id: uuid.clone(),
                    fixed_ip: fixed_ip.clone(),
                });
            }
            NetworkRequest::Auto | NetworkRequest::None => {}
        }
    }
    Ok(planned)
}

/// Allocates and binds the instance's ports; answers its network info (Nova's model).
/// `security_groups` (names or ids) go onto the ports created.
pub async fn allocate_for_instance(
    api: &dyn NetworkApi,
    user: &NetAuth,
    inst: &InstanceNet<'_>,
    requested: &[NetworkRequest],
    security_groups: &[String],
) -> Result<Value, NetError> {
    if requested.iter().any(|r| matches!(r, NetworkRequest::None)) {
        return Ok(json!([]));
    }
    let planned = plan(api, user, inst, requested).await?;
    if planned.is_empty() {
        return Ok(json!([]));
    }
    // Neutron puts new ports in the project's default group by itself.
    let group_ids = if security_groups.iter().all(|g| g == "default") {
        Vec::new()
    } else {
        security_groups::resolve(api, user, inst.project_id, security_groups).await?
    };
    let mut created: Vec<String> = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    let result = create_and_bind(
        api,
        user,
        inst,
        &planned,
        &group_ids,
        &mut created,
        &mut taken,
    )
    .await;
    match result {
        Ok(ports) => {
            let service = api.service_auth(inst.request_id, false).await?;
            let preserve: HashSet<String> = taken.iter().cloned().collect();
            Ok(model::build(api, &service, ports, &json!([]), &preserve).await?)
        }
        Err(e) => {
            tracing::warn!("[instance: {}] Port allocation failed ({e}); releasing {} created and {} passed ports", inst.uuid, created.len(), taken.len());
            for id in &created {
                if let Err(err) = net::delete(api, user, "ports", id).await {
                    tracing::warn!(
                        "[instance: {}] Failed to delete port {id} while cleaning up: {err}",
                        inst.uuid
                    );
                }
            }
            for id in &taken {
                unbind(api, inst.request_id, id).await;
            }
            Err(e)
        }
    }
}

async fn create_and_bind(
    api: &dyn NetworkApi,
    user: &NetAuth,
    inst: &InstanceNet<'_>,
    planned: &[Planned],
    group_ids: &[String],
    created: &mut Vec<String>,
    taken: &mut Vec<String>,
) -> Result<Vec<Value>, NetError> {
    let mut ports = Vec::new();
    for p in planned {
        match p {
            Planned::Existing(port) => {
                taken.push(text(port, "id").to_string());
                ports.push(port.clone());
            }
            Planned::Create {
                network_id,
                fixed_ip,
            } => {
                let mut body = json!({"network_id": network_id, "admin_state_up": true, "device_id": inst.uuid, "device_owner": inst.device_owner()});
                if let Some(address) = fixed_ip {
                    body["fixed_ips"] = json!([{"ip_address": address}]);
                }
                if !group_ids.is_empty() {
                    body["security_groups"] = json!(group_ids);
                }
                let port = net::create(api, user, "ports", body)
                    .await
                    .map_err(|e| NetError::from_port_create(e, network_id, fixed_ip.as_deref()))?;
                tracing::debug!(
                    "[instance: {}] Successfully created port: {}",
                    inst.uuid,
                    text(&port, "id")
                );
                created.push(text(&port, "id").to_string());
                ports.push(port);
            }
        }
    }
    let mut bound = Vec::with_capacity(ports.len());
    for port in ports {
        let id = text(&port, "id").to_string();
        let body = json!({"device_id": inst.uuid, "device_owner": inst.device_owner(), "binding:host_id": inst.host});
        let updated = net::as_service(
            api,
            inst.request_id,
            reqwest::Method::PUT,
            &format!("/v2.0/ports/{}", net::enc(&id)),
            Some(&json!({ "port": body })),
        )
        .await?;
        bound.push(updated.get("port").cloned().unwrap_or(port));
    }
    Ok(bound)
}

/// Gives a port the user passed back: no device, no binding (Nova's `_unbind_ports`).
pub async fn unbind(api: &dyn NetworkApi, request_id: &str, port_id: &str) {
    let body = json!({"port": {"device_id": "", "device_owner": "", "binding:host_id": "", "binding:profile": {}}});
    match net::as_service(
        api,
        request_id,
        reqwest::Method::PUT,
        &format!("/v2.0/ports/{}", net::enc(port_id)),
        Some(&body),
    )
    .await
    {
        Ok(_) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => tracing::warn!("Unable to clear device ID for port {port_id}: {e}"),
    }
}

/// Releases the instance's ports (`deallocate_for_instance`): those the cache marks as the
/// user's are unbound, the others deleted. Answers how many ports were released.
pub async fn deallocate_for_instance(
    api: &dyn NetworkApi,
    request_id: &str,
    instance_uuid: &str,
    network_info: &Value,
) -> Result<usize, NetworkError> {
    let auth = api.service_auth(request_id, false).await?;
    let ports = net::list(api, &auth, "ports", &[("device_id", instance_uuid)]).await?;
    let preserved = model::preserved_ports(network_info);
    for port in &ports {
        let id = text(port, "id");
        if preserved.contains(id) {
            unbind(api, request_id, id).await;
        } else {
            match net::as_service(
                api,
                request_id,
                reqwest::Method::DELETE,
                &format!("/v2.0/ports/{}", net::enc(id)),
                None,
            )
            .await
            {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(ports.len())
}

/// Rebinds the instance's ports to `host` after a move (Nova's `migrate_instance_finish` /
/// `setup_networks_on_host`); answers the refreshed network info.
pub async fn bind_to_host(
    api: &dyn NetworkApi,
    request_id: &str,
    instance_uuid: &str,
    host: &str,
    previous: &Value,
) -> Result<Value, NetworkError> {
    let auth = api.service_auth(request_id, false).await?;
    let ports = net::list(api, &auth, "ports", &[("device_id", instance_uuid)]).await?;
    let mut bound = Vec::with_capacity(ports.len());
    for port in ports {
        if text(&port, "binding:host_id") == host {
            bound.push(port);
            continue;
        }
        let body = json!({"port": {"binding:host_id": host}});
        let updated = net::as_service(
            api,
            request_id,
            reqwest::Method::PUT,
            &format!("/v2.0/ports/{}", net::enc(text(&port, "id"))),
            Some(&body),
        )
        .await?;
        bound.push(updated.get("port").cloned().unwrap_or(port));
    }
    model::build(api, &auth, bound, previous, &HashSet::new()).await
}

/// One more port for a running instance (os-interface attach, Nova's
/// `allocate_port_for_instance`): the port passed, or one created on the network (with the
/// fixed IP asked for); answers the refreshed network info and the port's id.
pub async fn allocate_port_for_instance(
    api: &dyn NetworkApi,
    user: &NetAuth,
    inst: &InstanceNet<'_>,
    request: &NetworkRequest,
    previous: &Value,
) -> Result<(Value, String), NetError> {
    let planned = plan(api, user, inst, std::slice::from_ref(request)).await?;
    let mut created = Vec::new();
    let mut taken = Vec::new();
    match create_and_bind(api, user, inst, &planned, &[], &mut created, &mut taken).await {
        Ok(ports) => {
            let port_id = ports
                .first()
                .map(|p| text(p, "id").to_string())
                .unwrap_or_default();
            let service = api.service_auth(inst.request_id, false).await?;
            let all = net::list(api, &service, "ports", &[("device_id", inst.uuid)]).await?;
            let preserve: HashSet<String> = taken.iter().cloned().collect();
            Ok((
                model::build(api, &service, all, previous, &preserve).await?,
                port_id,
            ))
        }
        Err(e) => {
            for id in &created {
                let _ = net::delete(api, user, "ports", id).await;
            }
            for id in &taken {
                unbind(api, inst.request_id, id).await;
            }
            Err(e)
        }
    }
}

/// Releases one port of an instance (os-interface detach): deleted if compute created it,
/// unbound if the user passed it; answers the refreshed network info.
pub async fn deallocate_port_for_instance(
    api: &dyn NetworkApi,
    request_id: &str,
    instance_uuid: &str,
    port_id: &str,
    previous: &Value,
) -> Result<Value, NetworkError> {
    if model::preserved_ports(previous).contains(port_id) {
        unbind(api, request_id, port_id).await;
    } else {
        match net::as_service(
            api,
            request_id,
            reqwest::Method::DELETE,
            &format!("/v2.0/ports/{}", net::enc(port_id)),
            None,
        )
        .await
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    model::refresh(api, request_id, instance_uuid, previous).await
}
