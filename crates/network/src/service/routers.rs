//! Routers (Neutron's L3 service plugin, `router`, `ext-gw-mode` and `extraroute`): the
//! gateway port on an external network (SNAT on by default), interfaces on project subnets
//! (a port holding the subnet's gateway address, or a port handed over), static routes whose
//! next hops the router must reach, and the in-use rules between them and floating IPs.
//!
//! Every change runs in one write transaction that first locks the router's row, so two
//! interfaces added at once cannot both pass the overlap check.

use crate::db::agents::{self, Binding, AGENT_TYPE_L3};
use crate::db::ports::{self, Port};
use crate::db::routers::{self, Router, OWNER_GATEWAY, OWNER_INTERFACE};
use crate::db::subnets::{self, Subnet};
use crate::db::{self, tags, Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use crate::ipam::{self, Cidr};
use crate::rpc::{
    FixedIp, FloatingIpInfo, Route, RouterInfo, RouterPortInfo, SubnetInfo, SyncRouters,
};
use crate::service::agents::l3_hosts;
use crate::service::ports::{create_in as create_port, FixedIpRequest, PortCreate};
use crate::NetworkService;
use serde_json::json;

/// `external_gateway_info` as asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayRequest {
    pub network_id: String,
    pub enable_snat: Option<bool>,
    pub external_fixed_ips: Option<Vec<FixedIpRequest>>,
}

#[derive(Debug, Clone, Default)]
pub struct RouterCreate {
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub admin_state_up: bool,
    pub gateway: Option<GatewayRequest>,
    pub availability_zone_hints: Vec<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RouterUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub admin_state_up: Option<bool>,
    /// Some(None) removes the gateway.
    pub gateway: Option<Option<GatewayRequest>>,
    pub routes: Option<Vec<(String, String)>>,
}

/// How an interface is named in add/remove_router_interface.
#[derive(Debug, Clone, PartialEq)]
pub enum Interface {
    Subnet(String),
    Port(String),
}

/// What add/remove_router_interface answer.
#[derive(Debug, Clone, PartialEq)]
pub struct InterfaceInfo {
    pub router_id: String,
    pub project_id: String,
    pub port_id: String,
    pub network_id: String,
    pub subnet_ids: Vec<String>,
}

pub type Check<'a> = &'a (dyn Fn(&Router) -> NeutronResult<()> + Sync);

pub fn bad_router(msg: impl AsRef<str>) -> NeutronError {
    NeutronError::bad_request("router", msg)
}

fn in_use_by_fips(router_id: &str, net_id: &str) -> NeutronError {
    NeutronError::conflict(
        "RouterExternalGatewayInUseByFloatingIp",
        format!("Gateway cannot be updated for router {router_id}, since a gateway to external network {net_id} is required by one or more floating IPs."),
    )
}

/// The floating IPs associated through the router.
pub async fn floating_ips_of(tx: &mut Tx, router_id: &str) -> NeutronResult<Vec<(String, String)>> {
    tx.fetch_all(
        "SELECT id, fixed_ip_address FROM floatingips WHERE router_id = ? AND fixed_ip_address IS NOT NULL",
        &[Bind::Text(router_id)],
    )
    .await?
    .iter()
    .map(|r| Ok((r.s("id")?, r.os("fixed_ip_address")?.unwrap_or_default())))
    .collect()
}

/// The ports of the router (interfaces, then the gateway).
async fn router_ports(tx: &mut Tx, r: &Router) -> NeutronResult<Vec<Port>> {
    let mut out = Vec::new();
    for id in routers::interface_ports(tx, &r.id).await? {
        if let Some(p) = ports::get(tx, &id).await? {
            out.push(p);
        }
    }
    if let Some(gw) = &r.gw_port_id {
        if let Some(p) = ports::get(tx, gw).await? {
            out.push(p);
        }
    }
    Ok(out)
}

/// The subnets the router's ports hold addresses on.
async fn router_subnets(tx: &mut Tx, r: &Router) -> NeutronResult<Vec<Subnet>> {
    let mut out: Vec<Subnet> = Vec::new();
    for p in router_ports(tx, r).await? {
        for (sid, _) in &p.fixed_ips {
            if out.iter().any(|s| &s.id == sid) {
                continue;
            }
            if let Some(s) = subnets::get(tx, sid).await? {
                out.push(s);
            }
        }
    }
    Ok(out)
}

/// 400 when a new subnet is already on the router or overlaps one that is.
async fn check_new_subnets(tx: &mut Tx, r: &Router, new: &[Subnet]) -> NeutronResult<()> {
    let existing = router_subnets(tx, r).await?;
    for s in new {
        let cidr = Cidr::parse(&s.cidr).map_err(NeutronError::internal)?;
        for old in &existing {
            if old.id == s.id {
                return Err(bad_router(format!(
                    "Router already has a port on subnet {}",
                    s.id
                )));
            }
            let other = Cidr::parse(&old.cidr).map_err(NeutronError::internal)?;
            if cidr.overlaps(&other) {
                return Err(bad_router(format!(
                    "Cidr {} of subnet {} overlaps with cidr {} of subnet {}",
                    s.cidr, s.id, old.cidr, old.id
                )));
            }
        }
    }
    Ok(())
}

/// A network port the L3 plugin creates (gateway, interface, floating IP): no security
/// groups, addresses as asked.
pub fn service_port(
    project_id: &str,
    network_id: &str,
    owner: &str,
    device_id: &str,
    fixed_ips: Option<Vec<FixedIpRequest>>,
) -> PortCreate {
    PortCreate {
        project_id: project_id.to_string(),
        network_id: network_id.to_string(),
        admin_state_up: true,
        device_id: device_id.to_string(),
        device_owner: owner.to_string(),
        binding_vnic_type: "normal".into(),
        binding_profile: json!({}),
        allowed_address_pairs: json!([]),
        extra_dhcp_opts: json!([]),
        security_groups: Some(Vec::new()),
        fixed_ips,
        ..Default::default()
    }
}

/// Sets, changes or (None) removes the router's gateway. The gateway port belongs to no
/// project (as Neutron's) and takes its addresses from the external network's subnets.
async fn set_gateway(
    svc: &NetworkService,
    tx: &mut Tx,
    r: &mut Router,
    gw: Option<&GatewayRequest>,
) -> NeutronResult<()> {
    let default_snat = svc.config.network.enable_snat_by_default;
    if let Some(g) = gw {
        let net = crate::db::networks::must_get(tx, &g.network_id).await?;
        if !net.router_external {
            return Err(bad_router(format!(
                "Network {} is not an external network",
                g.network_id
            )));
        }
        if r.gw_network_id.as_deref() == Some(g.network_id.as_str())
            && g.external_fixed_ips.is_none()
        {
            r.enable_snat = g.enable_snat.unwrap_or(default_snat);
            return Ok(());
        }
    }
    if let Some(old_net) = r.gw_network_id.clone() {
        let same_net = gw.is_some_and(|g| g.network_id == old_net);
        if !same_net && !floating_ips_of(tx, &r.id).await?.is_empty() {
            return Err(in_use_by_fips(&r.id, &old_net));
        }
        if let Some(pid) = r.gw_port_id.take() {
            ports::delete(tx, &pid).await?;
        }
        r.gw_network_id = None;
    }
    let Some(g) = gw else {
        return Ok(());
    };
    let port_id = uuid::Uuid::new_v4().to_string();
    let req = service_port(
        "",
        &g.network_id,
        OWNER_GATEWAY,
        &r.id,
        g.external_fixed_ips.clone(),
    );
    let port = create_port(svc, tx, &port_id, &req, false).await?;
    if port.fixed_ips.is_empty() {
        return Err(bad_router(format!(
            "No IPs available for external network {}",
            g.network_id
        )));
    }
    let mut new = Vec::new();
    for (sid, _) in &port.fixed_ips {
        if let Some(s) = subnets::get(tx, sid).await? {
            new.push(s);
        }
    }
    check_new_subnets(tx, r, &new).await?;
    r.gw_network_id = Some(g.network_id.clone());
    r.gw_port_id = Some(port_id);
    r.enable_snat = g.enable_snat.unwrap_or(default_snat);
    Ok(())
}

fn route_text(dest: &str, nexthop: &str) -> String {
    format!("{{'destination': '{dest}', 'nexthop': '{nexthop}'}}")
}

fn invalid_routes(dest: &str, nexthop: &str, reason: &str) -> NeutronError {
    NeutronError::bad(
        "InvalidRoutes",
        format!(
            "Invalid format for routes: {}, {reason}",
            route_text(dest, nexthop)
        ),
    )
}

/// Neutron's extraroute checks: at most `max_routes`, each next hop on a subnet of the router
/// and not one of its own addresses.
async fn validate_routes(
    svc: &NetworkService,
    tx: &mut Tx,
    r: &Router,
    routes: &[(String, String)],
) -> NeutronResult<()> {
    let max = svc.config.network.max_routes as usize;
    if routes.len() > max {
        return Err(NeutronError::bad(
            "RoutesExhausted",
            format!(
                "Unable to complete operation for {}. The number of routes exceeds the maximum {max}.",
                r.id
            ),
        ));
    }
    let ports = router_ports(tx, r).await?;
    let own: Vec<u128> = ports
        .iter()
        .flat_map(|p| p.fixed_ips.iter())
        .filter_map(|(_, ip)| ipam::parse_ip(ip).map(|(_, a)| a))
        .collect();
    let cidrs: Vec<Cidr> = router_subnets(tx, r)
        .await?
        .iter()
        .filter_map(|s| Cidr::parse(&s.cidr).ok())
        .collect();
    for (dest, nexthop) in routes {
        let Some((v, hop)) = ipam::parse_ip(nexthop) else {
            return Err(invalid_routes(
                dest,
                nexthop,
                "the nexthop is not a valid IP address",
            ));
        };
        if own.contains(&hop) {
            return Err(invalid_routes(
                dest,
                nexthop,
                "the nexthop is used by router",
            ));
        }
        if !cidrs.iter().any(|c| c.version == v && c.contains(hop)) {
            return Err(invalid_routes(
                dest,
                nexthop,
                "the nexthop is not connected with router",
            ));
        }
    }
    Ok(())
}

pub async fn create(svc: &NetworkService, req: RouterCreate) -> NeutronResult<Router> {
    let id = uuid::Uuid::new_v4().to_string();
    let (router, hosts) = db::write(&svc.db, |tx, _| {
        let req = &req;
        let id = id.clone();
        Box::pin(async move {
            crate::service::quotas::check(svc, tx, &req.project_id, "router", 1).await?;
            let now = monostack_common::time::now_micros();
            let mut r = Router {
                id: id.clone(),
                project_id: req.project_id.clone(),
                name: req.name.clone(),
                description: req.description.clone(),
                status: "ACTIVE".into(),
                admin_state_up: req.admin_state_up,
                gw_network_id: None,
                gw_port_id: None,
                enable_snat: svc.config.network.enable_snat_by_default,
                routes: Vec::new(),
                availability_zone_hints: req.availability_zone_hints.clone(),
                created_at: now,
                updated_at: now,
                revision_number: 1,
                tags: Vec::new(),
            };
            set_gateway(svc, tx, &mut r, req.gateway.as_ref()).await?;
            routers::insert(tx, &r).await?;
            crate::service::agents::auto_schedule_router(svc, tx, &id).await?;
            if !req.tags.is_empty() {
                tags::replace(tx, "routers", &id, &req.tags).await?;
            }
            Ok((routers::must_get(tx, &id).await?, l3_hosts(tx, &id).await?))
        })
    })
    .await?;
    svc.l3_agents.routers_updated(hosts, &id);
    Ok(router)
}

pub async fn update(
    svc: &NetworkService,
    id: &str,
    req: RouterUpdate,
    check: Check<'_>,
) -> NeutronResult<Router> {
    let (router, hosts) = db::write(&svc.db, |tx, _| {
        let req = &req;
        Box::pin(async move {
            routers::lock(tx, id).await?;
            let mut r = routers::must_get(tx, id).await?;
            check(&r)?;
            if let Some(v) = &req.name {
                r.name = v.clone();
            }
            if let Some(v) = &req.description {
                r.description = v.clone();
            }
            if let Some(v) = req.admin_state_up {
                r.admin_state_up = v;
            }
            if let Some(gw) = &req.gateway {
                set_gateway(svc, tx, &mut r, gw.as_ref()).await?;
            }
            if let Some(routes) = &req.routes {
                validate_routes(svc, tx, &r, routes).await?;
                r.routes = routes.clone();
            }
            routers::save(tx, &mut r).await?;
            Ok((routers::must_get(tx, id).await?, l3_hosts(tx, id).await?))
        })
    })
    .await?;
    svc.l3_agents.routers_updated(hosts, id);
    Ok(router)
}

/// `add_extraroutes` (`add` true) and `remove_extraroutes`: routes added to or taken from the
/// router's, the rest kept.
pub async fn change_routes(
    svc: &NetworkService,
    id: &str,
    routes: Vec<(String, String)>,
    add: bool,
    check: Check<'_>,
) -> NeutronResult<Router> {
    let (router, hosts) = db::write(&svc.db, |tx, _| {
        let routes = &routes;
        Box::pin(async move {
            routers::lock(tx, id).await?;
            let mut r = routers::must_get(tx, id).await?;
            check(&r)?;
            let mut next = r.routes.clone();
            if add {
                for route in routes {
                    if !next.contains(route) {
                        next.push(route.clone());
                    }
                }
                validate_routes(svc, tx, &r, &next).await?;
            } else {
                next.retain(|route| !routes.contains(route));
            }
            r.routes = next;
            routers::save(tx, &mut r).await?;
            Ok((routers::must_get(tx, id).await?, l3_hosts(tx, id).await?))
        })
    })
    .await?;
    svc.l3_agents.routers_updated(hosts, id);
    Ok(router)
}

/// Deletes a router without interfaces (409 RouterInUse), with its gateway port.
pub async fn delete(svc: &NetworkService, id: &str, check: Check<'_>) -> NeutronResult<()> {
    let hosts = db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            routers::lock(tx, id).await?;
            let mut r = routers::must_get(tx, id).await?;
            check(&r)?;
            if !routers::interface_ports(tx, id).await?.is_empty() {
                return Err(NeutronError::conflict(
                    "RouterInUse",
                    format!("Router {id} still has ports"),
                ));
            }
            set_gateway(svc, tx, &mut r, None).await?;
            let hosts = l3_hosts(tx, id).await?;
            crate::db::agents::unbind_all(tx, crate::db::agents::Binding::L3Router, id).await?;
            routers::delete(tx, id).await?;
            Ok(hosts)
        })
    })
    .await?;
    svc.l3_agents
        .cast(hosts, "router_deleted", json!({"router_id": id}));
    Ok(())
}

fn info(r: &Router, p: &Port) -> InterfaceInfo {
    let mut subnet_ids: Vec<String> = Vec::new();
    for (sid, _) in &p.fixed_ips {
        if !subnet_ids.contains(sid) {
            subnet_ids.push(sid.clone());
        }
    }
    InterfaceInfo {
        router_id: r.id.clone(),
        project_id: r.project_id.clone(),
        port_id: p.id.clone(),
        network_id: p.network_id.clone(),
        subnet_ids,
    }
}

/// Attaches a subnet (a new port with its gateway address) or a free port to the router.
pub async fn add_interface(
    svc: &NetworkService,
    id: &str,
    which: Interface,
    check: Check<'_>,
) -> NeutronResult<InterfaceInfo> {
    let (info, hosts) = db::write(&svc.db, |tx, _| {
        let which = &which;
        Box::pin(async move {
            routers::lock(tx, id).await?;
            let mut r = routers::must_get(tx, id).await?;
            check(&r)?;
            let port = match which {
                Interface::Subnet(sid) => {
                    let s = subnets::must_get(tx, sid).await?;
                    let Some(gw) = s.gateway_ip.clone() else {
                        return Err(bad_router(
                            "Subnet for router interface must have a gateway IP",
                        ));
                    };
                    check_new_subnets(tx, &r, std::slice::from_ref(&s)).await?;
                    let req = service_port(
                        &r.project_id,
                        &s.network_id,
                        OWNER_INTERFACE,
                        &r.id,
                        Some(vec![FixedIpRequest {
                            subnet_id: Some(s.id.clone()),
                            ip_address: Some(gw),
                        }]),
                    );
                    let port_id = uuid::Uuid::new_v4().to_string();
                    create_port(svc, tx, &port_id, &req, false).await?
                }
                Interface::Port(pid) => {
                    let mut p = ports::must_get(tx, pid).await?;
                    if !p.device_id.is_empty() || !p.device_owner.is_empty() {
                        return Err(NeutronError::conflict(
                            "PortInUse",
                            format!("Unable to complete operation on port {pid} for network {}. Port already has an attached device {}.", p.network_id, p.device_id),
                        ));
                    }
                    if p.fixed_ips.is_empty() {
                        return Err(bad_router("Router port must have at least one fixed IP"));
                    }
                    let mut new: Vec<Subnet> = Vec::new();
                    for (sid, _) in &p.fixed_ips {
                        if new.iter().any(|s| &s.id == sid) {
                            continue;
                        }
                        new.push(subnets::must_get(tx, sid).await?);
                    }
                    if new.iter().filter(|s| s.ip_version == 4).count() > 1 {
                        return Err(bad_router(
                            "Cannot have multiple IPv4 subnets on router port",
                        ));
                    }
                    check_new_subnets(tx, &r, &new).await?;
                    p.device_id = r.id.clone();
                    p.device_owner = OWNER_INTERFACE.into();
                    ports::save(tx, &mut p).await?;
                    p
                }
            };
            routers::save(tx, &mut r).await?;
            Ok((info(&r, &port), l3_hosts(tx, id).await?))
        })
    })
    .await?;
    svc.l3_agents.routers_updated(hosts, id);
    Ok(info)
}

/// Detaches an interface named by port (and, optionally, a subnet it must hold) or by subnet;
/// its port is deleted. Refused while routes or floating IPs need it.
pub async fn remove_interface(
    svc: &NetworkService,
    id: &str,
    port_id: Option<String>,
    subnet_id: Option<String>,
    check: Check<'_>,
) -> NeutronResult<InterfaceInfo> {
    let (info, hosts) = db::write(&svc.db, |tx, _| {
        let (port_id, subnet_id) = (&port_id, &subnet_id);
        Box::pin(async move {
            routers::lock(tx, id).await?;
            let mut r = routers::must_get(tx, id).await?;
            check(&r)?;
            let not_on_subnet = |sid: &str| {
                NeutronError::not_found(
                    "RouterInterfaceNotFoundForSubnet",
                    format!("Router {id} has no interface on subnet {sid}"),
                )
            };
            let port = match (port_id, subnet_id) {
                (Some(pid), sid) => {
                    let p = ports::get(tx, pid)
                        .await?
                        .filter(|p| p.device_id == r.id && p.device_owner == OWNER_INTERFACE)
                        .ok_or_else(|| {
                            NeutronError::not_found(
                                "RouterInterfaceNotFound",
                                format!("Router {id} does not have an interface with id {pid}"),
                            )
                        })?;
                    if let Some(sid) = sid {
                        if !p.fixed_ips.iter().any(|(s, _)| s == sid) {
                            return Err(not_on_subnet(sid));
                        }
                    }
                    p
                }
                (None, Some(sid)) => {
                    let mut found = None;
                    for pid in routers::interface_ports(tx, id).await? {
                        if let Some(p) = ports::get(tx, &pid).await? {
                            if p.fixed_ips.iter().any(|(s, _)| s == sid) {
                                found = Some(p);
                                break;
                            }
                        }
                    }
                    found.ok_or_else(|| not_on_subnet(sid))?
                }
                (None, None) => {
                    return Err(bad_router("Either subnet_id or port_id must be specified"))
                }
            };
            let fips = floating_ips_of(tx, id).await?;
            for (sid, _) in &port.fixed_ips {
                let Some(s) = subnets::get(tx, sid).await? else {
                    continue;
                };
                let cidr = Cidr::parse(&s.cidr).map_err(NeutronError::internal)?;
                let inside = |ip: &str| {
                    ipam::parse_ip(ip).is_some_and(|(v, a)| v == cidr.version && cidr.contains(a))
                };
                if r.routes.iter().any(|(_, hop)| inside(hop)) {
                    return Err(NeutronError::conflict(
                        "RouterInterfaceInUseByRoute",
                        format!("Router interface for subnet {sid} on router {id} cannot be deleted, as it is required by one or more routes."),
                    ));
                }
                if fips.iter().any(|(_, fixed)| inside(fixed)) {
                    return Err(NeutronError::conflict(
                        "RouterInterfaceInUseByFloatingIP",
                        format!("Router interface for subnet {sid} on router {id} cannot be deleted, as it is required by one or more floating IPs."),
                    ));
                }
            }
            ports::delete(tx, &port.id).await?;
            routers::save(tx, &mut r).await?;
            Ok((info(&r, &port), l3_hosts(tx, id).await?))
        })
    })
    .await?;
    svc.l3_agents.routers_updated(hosts, id);
    Ok(info)
}

/// The gateway port's fixed IPs of each router that has one, for views.
pub async fn gateway_ips(tx: &mut Tx, r: &Router) -> NeutronResult<Vec<(String, String)>> {
    match &r.gw_port_id {
        Some(pid) => Ok(ports::get(tx, pid)
            .await?
            .map(|p| p.fixed_ips)
            .unwrap_or_default()),
        None => Ok(Vec::new()),
    }
}

async fn port_info(tx: &mut Tx, p: &Port) -> NeutronResult<RouterPortInfo> {
    let mtu = crate::db::networks::get(tx, &p.network_id)
        .await?
        .map(|n| n.mtu)
        .unwrap_or(0);
    let mut subnet_infos: Vec<SubnetInfo> = Vec::new();
    for (sid, _) in &p.fixed_ips {
        if subnet_infos.iter().any(|s| &s.id == sid) {
            continue;
        }
        if let Some(s) = subnets::get(tx, sid).await? {
            subnet_infos.push(SubnetInfo {
                id: s.id,
                cidr: s.cidr,
                gateway_ip: s.gateway_ip,
            });
        }
    }
    Ok(RouterPortInfo {
        id: p.id.clone(),
        network_id: p.network_id.clone(),
        mac_address: p.mac_address.clone(),
        mtu,
        fixed_ips: p
            .fixed_ips
            .iter()
            .map(|(s, ip)| FixedIp {
                subnet_id: s.clone(),
                ip_address: ip.clone(),
            })
            .collect(),
        subnets: subnet_infos,
    })
}

/// `sync_routers`: the routers scheduled to the L3 agent of `req.host` (none when no such
/// agent is registered), with their ports, routes and associated floating IPs. As in
/// Neutron's L3 RPC callback, a full sync (no `router_ids`) first schedules the routers no
/// agent hosts to an enabled agent (`auto_schedule_routers`), and the router ports not bound
/// to the agent's host are bound to it (`_ensure_host_set_on_ports`): that host's L2 agent
/// then reports them up.
pub async fn sync_routers(
    svc: &NetworkService,
    req: &SyncRouters,
) -> NeutronResult<Vec<RouterInfo>> {
    let agent = {
        let mut tx = db::read(&svc.db).await?;
        agents::by_type_host(&mut tx, AGENT_TYPE_L3, &req.host).await?
    };
    let Some(agent) = agent else {
        return Ok(Vec::new());
    };
    if req.router_ids.is_none() && agent.admin_state_up {
        schedule_unhosted_routers(svc, &agent.id).await?;
    }
    let (out, unbound) = read_routers(svc, &agent.id, req).await?;
    for port_id in unbound {
        let bind = crate::service::ports::PortUpdate {
            binding_host_id: Some(req.host.clone()),
            ..Default::default()
        };
        match crate::service::ports::update(svc, &port_id, bind, &|_| Ok(())).await {
            Ok(_) => {}
            Err(e) if e.status == http::StatusCode::NOT_FOUND => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Binds the routers no L3 agent hosts to the agent `agent_id`.
async fn schedule_unhosted_routers(svc: &NetworkService, agent_id: &str) -> NeutronResult<()> {
    db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            let rows = tx
                .fetch_all(
                    "SELECT r.id AS id FROM routers r LEFT JOIN router_l3_agent_bindings b ON b.router_id = r.id WHERE b.router_id IS NULL ORDER BY r.id",
                    &[],
                )
                .await?;
            for row in rows {
                agents::bind(tx, Binding::L3Router, &row.s("id")?, agent_id).await?;
            }
            Ok(())
        })
    })
    .await
}

/// The routers of the agent `agent_id` that `req` asks for, and the ids of their ports not
/// bound to `req.host`.
async fn read_routers(
    svc: &NetworkService,
    agent_id: &str,
    req: &SyncRouters,
) -> NeutronResult<(Vec<RouterInfo>, Vec<String>)> {
    let mut tx = db::read(&svc.db).await?;
    let mut out = Vec::new();
    let mut unbound = Vec::new();
    for id in agents::resources_of(&mut tx, Binding::L3Router, agent_id).await? {
        if req
            .router_ids
            .as_ref()
            .is_some_and(|ids| !ids.contains(&id))
        {
            continue;
        }
        let Some(r) = routers::get(&mut tx, &id).await? else {
            continue;
        };
        let gw_port = match &r.gw_port_id {
            Some(pid) => match ports::get(&mut tx, pid).await? {
                Some(p) => {
                    if p.binding_host_id != req.host {
                        unbound.push(p.id.clone());
                    }
                    Some(port_info(&mut tx, &p).await?)
                }
                None => None,
            },
            None => None,
        };
        let mut interfaces = Vec::new();
        for pid in routers::interface_ports(&mut tx, &id).await? {
            if let Some(p) = ports::get(&mut tx, &pid).await? {
                if p.binding_host_id != req.host {
                    unbound.push(p.id.clone());
                }
                interfaces.push(port_info(&mut tx, &p).await?);
            }
        }
        let floating_ips = crate::db::floatingips::load(
            &mut tx,
            Some("router_id = ? AND fixed_port_id IS NOT NULL"),
            &[Bind::Text(&id)],
        )
        .await?
        .into_iter()
        .map(|f| FloatingIpInfo {
            id: f.id,
            floating_ip_address: f.floating_ip_address,
            fixed_ip_address: f.fixed_ip_address.unwrap_or_default(),
            port_id: f.fixed_port_id.unwrap_or_default(),
            status: f.status,
        })
        .collect();
        out.push(RouterInfo {
            id: r.id.clone(),
            project_id: r.project_id.clone(),
            admin_state_up: r.admin_state_up,
            enable_snat: r.enable_snat,
            gw_port,
            interfaces,
            routes: r
                .routes
                .iter()
                .map(|(d, n)| Route {
                    destination: d.clone(),
                    nexthop: n.clone(),
                })
                .collect(),
            floating_ips,
        });
    }
    Ok((out, unbound))
}
