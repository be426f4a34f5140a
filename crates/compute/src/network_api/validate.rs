//! Nova's `validate_networks` on the API, with the caller's token: the requested ports exist,
//! are free and have an address; the requested networks exist, are visible and have a subnet;
//! a requested fixed IP is free; without a network named, the project has at most one network
//! available, or (for `"auto"`) one can be allocated; and enough ports remain in the quota.

use super::NetError;
use crate::network_client::{self as net, NetAuth, NetworkApi, NetworkError};
use crate::request_spec::NetworkRequest;
use serde_json::Value;

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Nova's `_get_available_networks`: the project's own non-shared networks and the shared
/// ones (only those that are up, for an automatic choice), or the networks `ids` among those
/// the caller sees, in the order asked.
pub async fn available_networks(
    api: &dyn NetworkApi,
    auth: &NetAuth,
    project_id: &str,
    ids: &[String],
    auto_allocate: bool,
) -> Result<Vec<Value>, NetworkError> {
    if !ids.is_empty() {
        let filters: Vec<(&str, &str)> = ids.iter().map(|id| ("id", id.as_str())).collect();
        let mut nets = net::list(api, auth, "networks", &filters).await?;
        nets.sort_by_key(|n| {
            ids.iter()
                .position(|id| id == text(n, "id"))
                .unwrap_or(usize::MAX)
        });
        return Ok(nets);
    }
    let mut own: Vec<(&str, &str)> = vec![("project_id", project_id), ("shared", "false")];
    if auto_allocate {
        own.push(("admin_state_up", "true"));
    }
    let mut nets = net::list(api, auth, "networks", &own).await?;
    nets.extend(net::list(api, auth, "networks", &[("shared", "true")]).await?);
    Ok(nets)
}

/// Whether the project's topology can be allocated automatically (a dry run).
async fn can_auto_allocate(api: &dyn NetworkApi, auth: &NetAuth, project_id: &str) -> bool {
    match net::auto_allocated_topology(api, auth, project_id, true).await {
        Ok(_) => true,
        Err(e) => {
            tracing::debug!("Unable to auto-allocate networks for project {project_id}: {e}");
            false
        }
    }
}

/// `validate_networks`: checks `requested` (empty = no `networks` before 2.37) for
/// `num_instances` servers; answers how many of them the port quota allows.
pub async fn validate_networks(
    api: &dyn NetworkApi,
    auth: &NetAuth,
    project_id: &str,
    requested: &[NetworkRequest],
    num_instances: u32,
) -> Result<u32, NetError> {
    if requested.iter().any(|r| matches!(r, NetworkRequest::None)) {
        return Ok(num_instances);
    }
    let ports_needed = ports_needed_per_instance(api, auth, project_id, requested).await?;
    if ports_needed == 0 {
        return Ok(num_instances);
    }
    let quota = api
        .request(
            auth,
            reqwest::Method::GET,
            &format!("/v2.0/quotas/{}", net::enc(project_id)),
            None,
        )
        .await;
    let limit = match quota {
        Ok(doc) => doc
            .pointer("/quota/port")
            .and_then(Value::as_i64)
            .unwrap_or(-1),
        // A user who may not read quotas is limited by Neutron when the ports are created.
        Err(NetworkError::Forbidden { .. } | NetworkError::NotFound { .. }) => -1,
        Err(e) => return Err(e.into()),
    };
    if limit < 0 {
        return Ok(num_instances);
    }
    let used = net::list(
        api,
        auth,
        "ports",
        &[("project_id", project_id), ("fields", "id")],
    )
    .await?
    .len();
    let free = limit - i64::try_from(used).unwrap_or(i64::MAX);
    if free < 0 {
        return Err(NetError::PortLimitExceeded);
    }
    let needed = i64::from(ports_needed) * i64::from(num_instances);
    if free >= needed {
        return Ok(num_instances);
    }
    Ok(u32::try_from(free / i64::from(ports_needed)).unwrap_or(0))
}

/// Nova's `_ports_needed_per_instance`, with its checks.
async fn ports_needed_per_instance(
    api: &dyn NetworkApi,
    auth: &NetAuth,
    project_id: &str,
    requested: &[NetworkRequest],
) -> Result<u32, NetError> {
    let auto = requested.iter().any(|r| matches!(r, NetworkRequest::Auto));
    if requested.is_empty() || auto {
        let nets = available_networks(api, auth, project_id, &[], false).await?;
        if nets.len() > 1 {
            return Err(NetError::NetworkAmbiguous);
        }
        if nets.is_empty() {
            if auto {
                if !can_auto_allocate(api, auth, project_id).await {
                    return Err(NetError::UnableToAutoAllocateNetwork(
                        project_id.to_string(),
                    ));
                }
            } else {
                // No network available, none asked for: the server gets none.
                return Ok(0);
            }
        }
        return Ok(1);
    }
    let mut needed = 0;
    let mut net_ids: Vec<String> = Vec::new();
    for request in requested {
        match request {
            NetworkRequest::Port { port_id, .. } => {
                let port = match net::show(api, auth, "ports", port_id).await {
                    Ok(p) => p,
                    Err(e) if e.is_not_found() => {
                        return Err(NetError::PortNotFound(port_id.clone()))
                    }
                    Err(e) => return Err(e.into()),
                };
                if !text(&port, "device_id").is_empty() {
                    return Err(NetError::PortInUse(port_id.clone()));
                }
                let ip_allocation = text(&port, "ip_allocation");
                let addressless = ["deferred", "none"].contains(&ip_allocation);
                if !addressless
                    && port
                        .get("fixed_ips")
                        .and_then(Value::as_array)
                        .is_none_or(|a| a.is_empty())
                {
                    return Err(NetError::PortRequiresFixedIp(port_id.clone()));
                }
            }
            NetworkRequest::Network { uuid, fixed_ip, .. } => {
                needed += 1;
                net_ids.push(uuid.clone());
                if let Some(address) = fixed_ip {
                    let filter = format!("ip_address={address}");
                    let existing = net::list(
                        api,
                        auth,
                        "ports",
                        &[
                            ("network_id", uuid.as_str()),
                            ("fixed_ips", filter.as_str()),
                            ("fields", "device_id"),
                        ],
                    )
                    .await?;
                    if let Some(port) = existing.first() {
                        return Err(NetError::FixedIpAlreadyInUse {
                            address: address.clone(),
                            instance_uuid: text(port, "device_id").to_string(),
                        });
                    }
                }
            }
            NetworkRequest::Auto | NetworkRequest::None => {}
        }
    }
    if !net_ids.is_empty() {
        let nets = available_networks(api, auth, project_id, &net_ids, false).await?;
        if let Some(bare) = nets.iter().find(|n| {
            n.get("subnets")
                .and_then(Value::as_array)
                .is_none_or(|s| s.is_empty())
        }) {
            return Err(NetError::NetworkRequiresSubnet(
                text(bare, "id").to_string(),
            ));
        }
        let mut lost: Vec<&str> = Vec::new();
        for id in &net_ids {
            if !nets.iter().any(|n| text(n, "id") == id) && !lost.contains(&id.as_str()) {
                lost.push(id);
            }
        }
        if !lost.is_empty() {
            return Err(NetError::NetworkNotFound(lost.join(", ")));
        }
    }
    Ok(needed)
}
