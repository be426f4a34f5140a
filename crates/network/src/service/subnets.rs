//! Subnets: IPv4 and IPv6 with Neutron's validation (CIDR of the right version, no overlap
//! inside the network, gateway defaulting to the first address, allocation pools inside the
//! subnet and clear of the gateway, name servers and host routes, IPv6 RA and address modes),
//! updates and deletion refused while ports hold addresses from it.

use crate::db::subnets::{self, Subnet};
use crate::db::{self, networks, tags, Bind, Cols};
use crate::error::{NeutronError, NeutronResult};
use crate::ipam::{self, Cidr, Range};
use crate::NetworkService;

pub const IPV6_MODES: [&str; 3] = ["slaac", "dhcpv6-stateful", "dhcpv6-stateless"];

/// The gateway asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Gateway {
    /// Not given: the first address of the subnet.
    Default,
    /// `null`: no gateway.
    NoGateway,
    Ip(String),
}

#[derive(Debug, Clone)]
pub struct SubnetCreate {
    pub project_id: String,
    pub network_id: String,
    pub name: String,
    pub description: String,
    pub ip_version: i64,
    /// None: allocated from `subnetpool`.
    pub cidr: Option<Cidr>,
    /// The pool the CIDR comes from (or is checked against), with the prefix length asked.
    pub subnetpool: Option<(String, Option<u8>)>,
    pub gateway: Gateway,
    pub allocation_pools: Option<Vec<(String, String)>>,
    pub dns_nameservers: Vec<String>,
    pub host_routes: Vec<(String, String)>,
    pub enable_dhcp: bool,
    pub ipv6_ra_mode: Option<String>,
    pub ipv6_address_mode: Option<String>,
    pub service_types: Vec<String>,
    pub dns_publish_fixed_ip: bool,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SubnetUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub gateway: Option<Gateway>,
    pub allocation_pools: Option<Vec<(String, String)>>,
    pub dns_nameservers: Option<Vec<String>>,
    pub host_routes: Option<Vec<(String, String)>>,
    pub enable_dhcp: Option<bool>,
    pub service_types: Option<Vec<String>>,
    pub dns_publish_fixed_ip: Option<bool>,
}

fn version_of(text: &str) -> Option<u8> {
    ipam::parse_ip(text)
        .map(|(v, _)| v)
        .or_else(|| Cidr::parse(text).ok().map(|c| c.version))
}

fn check_version(ip_version: i64, name: &str, addr: &str) -> NeutronResult<()> {
    if version_of(addr).map(i64::from) != Some(ip_version) {
        return Err(NeutronError::invalid_input(format!(
            "{name} '{addr}' does not match the ip_version '{ip_version}'"
        )));
    }
    Ok(())
}

/// Name servers: addresses of the subnet's version, no duplicates, at most the limit.
fn check_dns(
    svc: &NetworkService,
    subnet_id: &str,
    ip_version: i64,
    dns: &[String],
) -> NeutronResult<Vec<String>> {
    if dns.len() > svc.config.network.max_dns_nameservers as usize {
        return Err(NeutronError::bad(
            "DNSNameServersExhausted",
            format!(
                "Unable to complete operation for {subnet_id}. The number of DNS nameservers exceeds the limit {}.",
                svc.config.network.max_dns_nameservers
            ),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for d in dns {
        let canon = ipam::canonical_ip(d)
            .ok_or_else(|| NeutronError::invalid_input(format!("Error parsing dns address {d}")))?;
        check_version(ip_version, "dns_nameserver", d)?;
        if out.contains(&canon) {
            return Err(NeutronError::http_bad_request(format!(
                "Invalid input for dns_nameservers. Reason: Duplicate nameserver '{d}'."
            )));
        }
        out.push(canon);
    }
    Ok(out)
}

/// Host routes: a destination CIDR and a next-hop address, both of the subnet's version.
fn check_routes(
    svc: &NetworkService,
    subnet_id: &str,
    ip_version: i64,
    routes: &[(String, String)],
) -> NeutronResult<Vec<(String, String)>> {
    if routes.len() > svc.config.network.max_subnet_host_routes as usize {
        return Err(NeutronError::bad(
            "HostRoutesExhausted",
            format!(
                "Unable to complete operation for {subnet_id}. The number of host routes exceeds the limit {}.",
                svc.config.network.max_subnet_host_routes
            ),
        ));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (dest, hop) in routes {
        let shown = format!("{{'destination': '{dest}', 'nexthop': '{hop}'}}");
        let d = Cidr::parse(dest)
            .map_err(|_| NeutronError::invalid_input(format!("Invalid route: {shown}")))?;
        let h = ipam::canonical_ip(hop)
            .ok_or_else(|| NeutronError::invalid_input(format!("Invalid route: {shown}")))?;
        check_version(ip_version, "nexthop", hop)?;
        check_version(ip_version, "destination", dest)?;
        let route = (d.to_string(), h);
        if out.contains(&route) {
            return Err(NeutronError::http_bad_request(format!(
                "Invalid input for host_routes. Reason: Duplicate hostroute '{shown}'."
            )));
        }
        out.push(route);
    }
    Ok(out)
}

/// The gateway's address, checked: of the subnet's version and not its network or IPv4
/// broadcast address (it may lie outside the subnet, as Neutron allows).
fn resolve_gateway(cidr: &Cidr, ip_version: i64, gateway: &Gateway) -> NeutronResult<Option<u128>> {
    match gateway {
        Gateway::NoGateway => Ok(None),
        Gateway::Default => Ok(Some(cidr.first() + 1).filter(|g| cidr.contains(*g))),
        Gateway::Ip(text) => {
            let (v, ip) = ipam::parse_ip(text).ok_or_else(|| {
                NeutronError::http_bad_request(format!(
                    "Invalid input for gateway_ip. Reason: '{text}' is not a valid IP address."
                ))
            })?;
            if i64::from(v) != ip_version {
                return Err(NeutronError::invalid_input(format!(
                    "gateway_ip '{text}' does not match the ip_version '{ip_version}'"
                )));
            }
            if cidr.contains(ip)
                && cidr.version == 4
                && (ip == cidr.first() || ip == cidr.last())
                && cidr.prefix < 31
            {
                return Err(NeutronError::invalid_input(
                    "Gateway is not valid on subnet",
                ));
            }
            Ok(Some(ip))
        }
    }
}

/// The pools: the requested ones validated (and clear of the gateway), or Neutron's default.
fn resolve_pools(
    cidr: &Cidr,
    gateway: Option<u128>,
    requested: Option<&[(String, String)]>,
) -> NeutronResult<Vec<Range>> {
    match requested {
        None => Ok(cidr.default_pools(gateway)),
        Some(pools) => {
            let ranges = ipam::validate_pools(cidr, pools)?;
            if let Some(g) = gateway {
                if let Some(r) = ranges.iter().find(|r| r.contains(g)) {
                    return Err(NeutronError::conflict(
                        "GatewayConflictWithAllocationPools",
                        format!(
                            "Gateway ip {} conflicts with allocation pool {}-{}.",
                            cidr.format(g),
                            cidr.format(r.first),
                            cidr.format(r.last)
                        ),
                    ));
                }
            }
            Ok(ranges)
        }
    }
}

fn pool_texts(cidr: &Cidr, pools: &[Range]) -> Vec<(String, String)> {
    pools
        .iter()
        .map(|r| (cidr.format(r.first), cidr.format(r.last)))
        .collect()
}

fn check_ipv6_modes(req: &SubnetCreate, cidr: &Cidr) -> NeutronResult<()> {
    let (ra, addr) = (
        req.ipv6_ra_mode.as_deref(),
        req.ipv6_address_mode.as_deref(),
    );
    for m in [ra, addr].into_iter().flatten() {
        if !IPV6_MODES.contains(&m) {
            return Err(NeutronError::http_bad_request(format!(
                "Invalid input for ipv6 mode. Reason: '{m}' is not in {IPV6_MODES:?}."
            )));
        }
    }
    if req.ip_version == 4 {
        if ra.is_some() {
            return Err(NeutronError::invalid_input(
                "ipv6_ra_mode is not valid when ip_version is 4",
            ));
        }
        if addr.is_some() {
            return Err(NeutronError::invalid_input(
                "ipv6_address_mode is not valid when ip_version is 4",
            ));
        }
        return Ok(());
    }
    if let (Some(r), Some(a)) = (ra, addr) {
        if r != a {
            return Err(NeutronError::invalid_input(format!(
                "ipv6_ra_mode set to '{r}' with ipv6_address_mode set to '{a}' is not valid. If both attributes are set, they must be the same value"
            )));
        }
    }
    if !req.enable_dhcp && (ra.is_some() || addr.is_some()) {
        return Err(NeutronError::invalid_input(
            "ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False",
        ));
    }
    if matches!(addr, Some("slaac" | "dhcpv6-stateless")) && cidr.prefix != 64 {
        return Err(NeutronError::invalid_input(format!(
            "Invalid CIDR {} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64",
            cidr
        )));
    }
    Ok(())
}

/// Whether addresses of this subnet come from the MAC (SLAAC) rather than the pools.
pub fn is_auto_address(s: &Subnet) -> bool {
    s.ip_version == 6
        && matches!(
            s.ipv6_address_mode.as_deref(),
            Some("slaac" | "dhcpv6-stateless")
        )
}

fn check_cidr_for_dhcp(req: &SubnetCreate, c: &Cidr) -> NeutronResult<()> {
    if c.version == 6 && c.network == 0 {
        return Err(NeutronError::invalid_input(
            "IPv6 subnet '::' is not supported",
        ));
    }
    if req.enable_dhcp {
        if (c.version == 4 && c.prefix > 30) || (c.version == 6 && c.prefix > 126) {
            return Err(NeutronError::invalid_input(
                "Subnet has a prefix length that is incompatible with DHCP service enabled",
            ));
        }
        let first = c.first();
        let multicast = if c.version == 4 {
            first >> 28 == 0xE
        } else {
            first >> 120 == 0xFF
        };
        if multicast {
            return Err(NeutronError::invalid_input(
                "Multicast IP subnet is not supported if enable_dhcp is True",
            ));
        }
        let loopback = if c.version == 4 {
            first >> 24 == 127
        } else {
            first == 1 && c.prefix == 128
        };
        if loopback {
            return Err(NeutronError::invalid_input(
                "Loopback IP subnet is not supported if enable_dhcp is True",
            ));
        }
        if c.version == 4 && first == 0 {
            return Err(NeutronError::invalid_input(
                "First IP '0.0.0.0' of network is not supported if enable_dhcp is True.",
            ));
        }
    }
    Ok(())
}

/// The subnet `req` describes on `cidr`, validated.
fn build(svc: &NetworkService, req: &SubnetCreate, cidr: Cidr) -> NeutronResult<Subnet> {
    if i64::from(cidr.version) != req.ip_version {
        return Err(NeutronError::invalid_input(format!(
            "cidr '{cidr}' does not match the ip_version '{}'",
            req.ip_version
        )));
    }
    check_cidr_for_dhcp(req, &cidr)?;
    check_ipv6_modes(req, &cidr)?;
    let gateway = resolve_gateway(&cidr, req.ip_version, &req.gateway)?;
    let pools = resolve_pools(&cidr, gateway, req.allocation_pools.as_deref())?;
    let dns = check_dns(svc, "new subnet", req.ip_version, &req.dns_nameservers)?;
    let routes = check_routes(svc, "new subnet", req.ip_version, &req.host_routes)?;
    let now = monostack_common::time::now_micros();
    Ok(Subnet {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: req.project_id.clone(),
        network_id: req.network_id.clone(),
        name: req.name.clone(),
        description: req.description.clone(),
        ip_version: req.ip_version,
        cidr: cidr.to_string(),
        gateway_ip: gateway.map(|g| cidr.format(g)),
        enable_dhcp: req.enable_dhcp,
        ipv6_ra_mode: req.ipv6_ra_mode.clone(),
        ipv6_address_mode: req.ipv6_address_mode.clone(),
        subnetpool_id: req.subnetpool.as_ref().map(|(p, _)| p.clone()),
        allocation_pools: pool_texts(&cidr, &pools),
        dns_nameservers: dns,
        host_routes: routes,
        service_types: req.service_types.clone(),
        dns_publish_fixed_ip: req.dns_publish_fixed_ip,
        created_at: now,
        updated_at: now,
        revision_number: 1,
        tags: Vec::new(),
    })
}

pub async fn create(svc: &NetworkService, req: SubnetCreate) -> NeutronResult<Subnet> {
    if let Some(cidr) = req.cidr {
        // Bad input is refused before any transaction.
        build(svc, &req, cidr)?;
    }
    db::write(&svc.db, |tx, _| {
        let req = &req;
        Box::pin(async move {
            // Lock the network's row so two subnets added at once cannot both miss the other.
            networks::touch(tx, &req.network_id).await?;
            networks::must_get(tx, &req.network_id).await?;
            let cidr = match &req.subnetpool {
                Some((pool, prefixlen)) => crate::service::subnetpools::allocate(tx, pool, req.ip_version, req.cidr, *prefixlen).await?,
                None => req.cidr.ok_or_else(|| NeutronError::bad_request("subnets", "A cidr must be specified in the absence of a subnet pool"))?,
            };
            let subnet = build(svc, req, cidr)?;
            for other in subnets::load(tx, Some("network_id = ?"), &[Bind::Text(&subnet.network_id)]).await? {
                let theirs = Cidr::parse(&other.cidr).map_err(NeutronError::internal)?;
                if theirs.overlaps(&cidr) {
                    return Err(NeutronError::invalid_input(format!(
                        "Requested subnet with cidr: {cidr} for network: {} overlaps with another subnet",
                        subnet.network_id
                    )));
                }
            }
            crate::service::quotas::check(svc, tx, &subnet.project_id, "subnet", 1).await?;
            subnets::insert(tx, &subnet).await?;
            if !req.tags.is_empty() {
                tags::replace(tx, "subnets", &subnet.id, &req.tags).await?;
            }
            if subnet.enable_dhcp {
                crate::service::agents::auto_schedule_network(svc, tx, &subnet.network_id)
                    .await?;
            }
            subnets::must_get(tx, &subnet.id).await
        })
    })
    .await
}

/// Updates a subnet; `check` runs on the current record first (policy, If-Match).
pub async fn update(
    svc: &NetworkService,
    id: &str,
    req: SubnetUpdate,
    check: &(dyn Fn(&Subnet) -> NeutronResult<()> + Sync),
) -> NeutronResult<Subnet> {
    db::write(&svc.db, |tx, _| {
        let req = req.clone();
        Box::pin(async move {
            let mut s = subnets::must_get(tx, id).await?;
            check(&s)?;
            let cidr = Cidr::parse(&s.cidr).map_err(NeutronError::internal)?;
            if let Some(v) = req.name {
                s.name = v;
            }
            if let Some(v) = req.description {
                s.description = v;
            }
            if let Some(v) = req.enable_dhcp {
                s.enable_dhcp = v;
            }
            if let Some(v) = req.service_types {
                s.service_types = v;
            }
            if let Some(v) = req.dns_publish_fixed_ip {
                s.dns_publish_fixed_ip = v;
            }
            if let Some(dns) = &req.dns_nameservers {
                s.dns_nameservers = check_dns(svc, id, s.ip_version, dns)?;
            }
            if let Some(routes) = &req.host_routes {
                s.host_routes = check_routes(svc, id, s.ip_version, routes)?;
            }
            let gateway_changed = req.gateway.is_some();
            let gateway = match &req.gateway {
                Some(g) => resolve_gateway(&cidr, s.ip_version, g)?,
                None => s.gateway_ip.as_deref().and_then(ipam::parse_ip).map(|(_, ip)| ip),
            };
            if gateway_changed {
                if let Some(old) = &s.gateway_ip {
                    let used = tx
                        .fetch_optional("SELECT port_id FROM ipallocations WHERE subnet_id = ? AND ip_address = ?", &[Bind::Text(id), Bind::Text(old)])
                        .await?;
                    if let Some(row) = used {
                        if gateway.map(|g| cidr.format(g)).as_deref() != Some(old.as_str()) {
                            return Err(NeutronError::conflict(
                                "GatewayIpInUse",
                                format!("Current gateway ip {old} already in use by port {}. Unable to update.", row.s("port_id")?),
                            ));
                        }
                    }
                }
                s.gateway_ip = gateway.map(|g| cidr.format(g));
            }
            let pools_changed = req.allocation_pools.is_some() || gateway_changed;
            if pools_changed {
                let requested = req.allocation_pools.clone().unwrap_or_else(|| s.allocation_pools.clone());
                let pools = resolve_pools(&cidr, gateway, Some(&requested))?;
                s.allocation_pools = pool_texts(&cidr, &pools);
            }
            subnets::save(tx, &mut s).await?;
            if pools_changed {
                // The next allocation rebuilds the free ranges from the new pools.
                crate::db::ip_ranges::invalidate(tx, id).await?;
            }
            Ok(s)
        })
    })
    .await
}

/// Deletes a subnet (and the DHCP ports' addresses on it); 409 SubnetInUse while other
/// ports hold addresses from it.
pub async fn delete(
    svc: &NetworkService,
    id: &str,
    check: &(dyn Fn(&Subnet) -> NeutronResult<()> + Sync),
) -> NeutronResult<()> {
    db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            let s = subnets::must_get(tx, id).await?;
            check(&s)?;
            // An auto-address IPv6 subnet (SLAAC, DHCPv6-stateless) goes even when ports have
            // addresses from it, as in Neutron: those addresses are removed from the ports
            // (not from router interfaces, which keep it in use).
            let auto_address = s.ip_version == 6 && matches!(s.ipv6_address_mode.as_deref(), Some("slaac" | "dhcpv6-stateless"));
            if auto_address {
                let not_router = "SELECT a.port_id FROM ipallocations a JOIN ports p ON p.id = a.port_id WHERE a.subnet_id = ? AND p.device_owner NOT IN ('network:router_interface', 'network:router_interface_distributed', 'network:ha_router_replicated_interface', 'network:router_gateway')";
                let now = monostack_common::time::now_micros();
                // One port at a time: MariaDB refuses a DELETE whose subquery reads its table.
                let ports: Vec<String> = tx.fetch_all(not_router, &[Bind::Text(id)]).await?.iter().filter_map(|r| r.s("port_id").ok()).collect();
                for port in &ports {
                    tx.exec("UPDATE ports SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?", &[Bind::Int(now), Bind::Text(port)]).await?;
                    tx.exec("DELETE FROM ipallocations WHERE subnet_id = ? AND port_id = ?", &[Bind::Text(id), Bind::Text(port)]).await?;
                }
            }
            let in_use = tx
                .fetch_optional(
                    "SELECT a.port_id FROM ipallocations a JOIN ports p ON p.id = a.port_id WHERE a.subnet_id = ? AND p.device_owner <> 'network:dhcp'",
                    &[Bind::Text(id)],
                )
                .await?
                .is_some();
            if in_use {
                return Err(NeutronError::subnet_in_use(id));
            }
            tx.exec("DELETE FROM ipallocations WHERE subnet_id = ?", &[Bind::Text(id)]).await?;
            subnets::delete(tx, id).await?;
            networks::touch(tx, &s.network_id).await
        })
    })
    .await
}
