//! Floating IPs (Neutron's L3 plugin): an IPv4 address allocated by IPAM on an external
//! network for a port of no project (`network:floatingip`, status `N/A`), associated with an
//! internal port's fixed IPv4 address through the router that joins the port's subnet to that
//! external network (404 ExternalGatewayForFloatingIPNotFound when none does).
//!
//! Status: `DOWN` while unassociated, `ACTIVE` once associated through a router (the L3 agent
//! that will realize it is the data plane's work, see [`crate::rpc`]).

use crate::db::floatingips::{self, FloatingIp, OWNER_FLOATINGIP};
use crate::db::routers::OWNER_INTERFACE;
use crate::db::{self, ports, subnets, tags, Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use crate::ipam;
use crate::service::ports::{create_in as create_port, FixedIpRequest};
use crate::service::routers::service_port;
use crate::NetworkService;

pub const STATUS_DOWN: &str = "DOWN";
pub const STATUS_ACTIVE: &str = "ACTIVE";

#[derive(Debug, Clone, Default)]
pub struct FipCreate {
    pub project_id: String,
    pub floating_network_id: String,
    pub floating_ip_address: Option<String>,
    pub subnet_id: Option<String>,
    pub port_id: Option<String>,
    pub fixed_ip_address: Option<String>,
    pub description: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct FipUpdate {
    /// Some(None) disassociates.
    pub port_id: Option<Option<String>>,
    pub fixed_ip_address: Option<String>,
    pub description: Option<String>,
}

pub type Check<'a> = &'a (dyn Fn(&FloatingIp) -> NeutronResult<()> + Sync);

pub fn bad_fip(msg: impl AsRef<str>) -> NeutronError {
    NeutronError::bad_request("floatingip", msg)
}

/// The router joining `subnet_id` to the external network, oldest first.
async fn router_for(
    tx: &mut Tx,
    port_id: &str,
    subnet_id: &str,
    external_network_id: &str,
) -> NeutronResult<String> {
    let row = tx
        .fetch_optional(
            "SELECT r.id AS id FROM routers r JOIN ports p ON p.device_id = r.id JOIN ipallocations a ON a.port_id = p.id WHERE p.device_owner = ? AND a.subnet_id = ? AND r.gw_network_id = ? ORDER BY r.created_at, r.id",
            &[
                Bind::Text(OWNER_INTERFACE),
                Bind::Text(subnet_id),
                Bind::Text(external_network_id),
            ],
        )
        .await?;
    match row {
        Some(r) => r.s("id"),
        None => Err(NeutronError::not_found(
            "ExternalGatewayForFloatingIPNotFound",
            format!("External network {external_network_id} is not reachable from subnet {subnet_id}.  Therefore, cannot associate Port {port_id} with a Floating IP."),
        )),
    }
}

/// Associates `f` with the port's fixed IPv4 address (`fixed_ip`, or its only one).
async fn associate(
    tx: &mut Tx,
    f: &mut FloatingIp,
    port_id: &str,
    fixed_ip: Option<&str>,
    is_admin: bool,
) -> NeutronResult<()> {
    let port = ports::must_get(tx, port_id).await?;
    if port.project_id != f.project_id && !is_admin {
        return Err(bad_fip(format!("Cannot process floating IP association with Port {port_id}, since that port is owned by a different project")));
    }
    if port.device_owner.starts_with("network:") {
        return Err(bad_fip(format!(
            "Port {port_id} is unable to be assigned a floating IP"
        )));
    }
    let (subnet_id, address) = match fixed_ip {
        Some(ip) => {
            if ipam::parse_ip(ip).map(|(v, _)| v) != Some(4) {
                return Err(bad_fip(format!("Cannot process floating IP association with {ip}, since that is not an IPv4 address")));
            }
            let canon = ipam::canonical_ip(ip).unwrap_or_else(|| ip.to_string());
            port.fixed_ips
                .iter()
                .find(|(_, a)| *a == canon)
                .cloned()
                .ok_or_else(|| bad_fip(format!("Port {port_id} does not have fixed ip {ip}")))?
        }
        None => {
            let v4: Vec<&(String, String)> = port
                .fixed_ips
                .iter()
                .filter(|(_, a)| ipam::parse_ip(a).map(|(v, _)| v) == Some(4))
                .collect();
            match v4.as_slice() {
                [] => {
                    return Err(bad_fip(format!(
                        "Cannot add floating IP to port {port_id} that has no fixed IPv4 addresses"
                    )))
                }
                [one] => (*one).clone(),
                _ => return Err(bad_fip(format!("Port {port_id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP"))),
            }
        }
    };
    let router_id = router_for(tx, port_id, &subnet_id, &f.floating_network_id).await?;
    let taken = tx
        .fetch_optional(
            "SELECT id FROM floatingips WHERE floating_network_id = ? AND fixed_port_id = ? AND fixed_ip_address = ? AND id <> ?",
            &[
                Bind::Text(&f.floating_network_id),
                Bind::Text(port_id),
                Bind::Text(&address),
                Bind::Text(&f.id),
            ],
        )
        .await?;
    if taken.is_some() {
        return Err(NeutronError::conflict(
            "FloatingIPPortAlreadyAssociated",
            format!("Cannot associate floating IP {} ({}) with port {port_id} using fixed IP {address}, as that fixed IP already has a floating IP on external network {}.", f.floating_ip_address, f.id, f.floating_network_id),
        ));
    }
    f.fixed_port_id = Some(port_id.to_string());
    f.fixed_ip_address = Some(address);
    f.router_id = Some(router_id);
    f.status = STATUS_ACTIVE.into();
    Ok(())
}

fn disassociate(f: &mut FloatingIp) {
    f.fixed_port_id = None;
    f.fixed_ip_address = None;
    f.router_id = None;
    f.status = STATUS_DOWN.into();
}

pub async fn create(
    svc: &NetworkService,
    req: FipCreate,
    is_admin: bool,
) -> NeutronResult<FloatingIp> {
    let id = uuid::Uuid::new_v4().to_string();
    let created = db::write(&svc.db, |tx, _| {
        let req = &req;
        let id = id.clone();
        Box::pin(async move {
            crate::service::quotas::check(svc, tx, &req.project_id, "floatingip", 1).await?;
            let net_id = &req.floating_network_id;
            let net = crate::db::networks::must_get(tx, net_id).await?;
            if !net.router_external {
                return Err(bad_fip(format!(
                    "Network {net_id} is not a valid external network"
                )));
            }
            let v4 = subnets::load(
                tx,
                Some("network_id = ? AND ip_version = 4"),
                &[Bind::Text(net_id)],
            )
            .await?;
            if v4.is_empty() {
                return Err(bad_fip(format!(
                    "Network {net_id} does not contain any IPv4 subnet"
                )));
            }
            let fixed = if req.subnet_id.is_some() || req.floating_ip_address.is_some() {
                Some(vec![FixedIpRequest {
                    subnet_id: req.subnet_id.clone(),
                    ip_address: req.floating_ip_address.clone(),
                }])
            } else {
                None
            };
            let port_id = uuid::Uuid::new_v4().to_string();
            let preq = service_port("", net_id, OWNER_FLOATINGIP, &id, fixed);
            let mut port = create_port(svc, tx, &port_id, &preq, false).await?;
            let address = port
                .fixed_ips
                .iter()
                .map(|(_, a)| a.clone())
                .find(|a| ipam::parse_ip(a).map(|(v, _)| v) == Some(4))
                .ok_or_else(|| {
                    NeutronError::bad(
                        "ExternalIpAddressExhausted",
                        format!("Unable to find any IP address on external network {net_id}."),
                    )
                })?;
            port.status = "N/A".into();
            ports::save(tx, &mut port).await?;
            let now = monostack_common::time::now_micros();
            let mut f = FloatingIp {
                id: id.clone(),
                project_id: req.project_id.clone(),
                description: req.description.clone(),
                floating_ip_address: address,
                floating_network_id: net_id.clone(),
                floating_port_id: port_id,
                fixed_port_id: None,
                fixed_ip_address: None,
                router_id: None,
                status: STATUS_DOWN.into(),
                created_at: now,
                updated_at: now,
                revision_number: 1,
                tags: Vec::new(),
            };
            if let Some(pid) = &req.port_id {
                associate(tx, &mut f, pid, req.fixed_ip_address.as_deref(), is_admin).await?;
            }
            floatingips::insert(tx, &f).await?;
            if !req.tags.is_empty() {
                tags::replace(tx, "floatingips", &id, &req.tags).await?;
            }
            floatingips::must_get(tx, &id).await
        })
    })
    .await?;
    notify_ports(svc, std::slice::from_ref(&created.fixed_port_id)).await;
    Ok(created)
}

/// `network-changed` for the servers whose ports gained or lost a floating IP.
async fn notify_ports(svc: &NetworkService, port_ids: &[Option<String>]) {
    let mut seen: Vec<&str> = Vec::new();
    for id in port_ids.iter().flatten() {
        if seen.contains(&id.as_str()) {
            continue;
        }
        seen.push(id);
        let port = match db::read(&svc.db).await {
            Ok(mut tx) => ports::get(&mut tx, id).await.ok().flatten(),
            Err(_) => None,
        };
        if let Some(p) = port {
            svc.nova.port_changed(&p);
        }
    }
}

pub async fn update(
    svc: &NetworkService,
    id: &str,
    req: FipUpdate,
    is_admin: bool,
    check: Check<'_>,
) -> NeutronResult<FloatingIp> {
    let (updated, before) = db::write(&svc.db, |tx, _| {
        let req = &req;
        Box::pin(async move {
            let mut f = floatingips::must_get(tx, id).await?;
            check(&f)?;
            let before = f.fixed_port_id.clone();
            if let Some(d) = &req.description {
                f.description = d.clone();
            }
            match &req.port_id {
                Some(Some(pid)) => {
                    associate(tx, &mut f, pid, req.fixed_ip_address.as_deref(), is_admin).await?
                }
                Some(None) => disassociate(&mut f),
                None if req.fixed_ip_address.is_some() => {
                    return Err(bad_fip(
                        "fixed_ip_address cannot be specified without a port_id",
                    ))
                }
                None => {}
            }
            floatingips::save(tx, &mut f).await?;
            Ok((floatingips::must_get(tx, id).await?, before))
        })
    })
    .await?;
    if updated.fixed_port_id != before {
        notify_ports(svc, &[before, updated.fixed_port_id.clone()]).await;
    }
    Ok(updated)
}

/// Deletes a floating IP and the port holding its address.
pub async fn delete(svc: &NetworkService, id: &str, check: Check<'_>) -> NeutronResult<()> {
    let associated = db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            let f = floatingips::must_get(tx, id).await?;
            check(&f)?;
            floatingips::delete(tx, id).await?;
            ports::delete(tx, &f.floating_port_id).await?;
            Ok(f.fixed_port_id)
        })
    })
    .await?;
    notify_ports(svc, &[associated]).await;
    Ok(())
}

/// An L3 agent's report on the floating IPs of `router_id` (`update_floatingip_statuses`):
/// each one still associated through that router takes the status reported (ACTIVE, DOWN or
/// ERROR; anything else is ignored).
pub async fn set_statuses(
    svc: &NetworkService,
    router_id: &str,
    statuses: &std::collections::BTreeMap<String, String>,
) -> NeutronResult<()> {
    db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            for (id, status) in statuses {
                if !["ACTIVE", "DOWN", "ERROR"].contains(&status.as_str()) {
                    continue;
                }
                let Some(mut f) = floatingips::get(tx, id).await? else {
                    continue;
                };
                if f.router_id.as_deref() == Some(router_id) && f.status != *status {
                    f.status = status.clone();
                    floatingips::save(tx, &mut f).await?;
                }
            }
            Ok(())
        })
    })
    .await
}
