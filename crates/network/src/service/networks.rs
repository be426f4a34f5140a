//! Networks: creation with ML2 segments (provider or project), updates with revision checks,
//! deletion refused while ports other than the network's own DHCP ports are on it.

use crate::db::networks::{self, Network};
use crate::db::{self, segments, tags, Bind, Cols};
use crate::error::{NeutronError, NeutronResult};
use crate::ml2::{NetworkType, Segment};
use crate::NetworkService;

/// What a create asks for, already converted and validated attribute by attribute.
#[derive(Debug, Clone, Default)]
pub struct NetworkCreate {
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub admin_state_up: bool,
    pub shared: bool,
    pub router_external: bool,
    pub is_default: bool,
    pub port_security_enabled: bool,
    pub mtu: Option<i64>,
    pub availability_zone_hints: Vec<String>,
    pub dns_domain: String,
    /// Provider segments; empty means a project network of `tenant_network_types`.
    pub segments: Vec<Segment>,
    pub tags: Vec<String>,
}

/// The writable attributes of an update; None leaves an attribute alone.
#[derive(Debug, Clone, Default)]
pub struct NetworkUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub admin_state_up: Option<bool>,
    pub shared: Option<bool>,
    pub router_external: Option<bool>,
    pub is_default: Option<bool>,
    pub port_security_enabled: Option<bool>,
    pub mtu: Option<i64>,
    pub dns_domain: Option<String>,
}

/// 409 DefaultExternalNetworkExists when another network is the default external one.
async fn check_default_external(tx: &mut db::Tx, id: &str) -> NeutronResult<()> {
    let other = tx
        .fetch_optional(
            "SELECT id FROM networks WHERE is_default = 1 AND router_external = 1 AND id <> ?",
            &[Bind::Text(id)],
        )
        .await?;
    match other {
        Some(row) => Err(NeutronError::conflict(
            "DefaultExternalNetworkExists",
            format!(
                "A default external network already exists: {}.",
                row.s("id")?
            ),
        )),
        None => Ok(()),
    }
}

/// Smallest MTU Neutron accepts for a network carrying IPv4.
pub const MIN_MTU: i64 = 68;

/// Creates a network and reserves its segments in one transaction.
pub async fn create(svc: &NetworkService, req: NetworkCreate) -> NeutronResult<Network> {
    for seg in &req.segments {
        if let Some(d) = svc.ml2.driver(seg.network_type) {
            d.validate_provider_segment(seg)?;
        }
    }
    let now = monostack_common::time::now_micros();
    let id = uuid::Uuid::new_v4().to_string();
    db::write(&svc.db, |tx, _| {
        let req = req.clone();
        let id = id.clone();
        Box::pin(async move {
            let mut reserved = Vec::new();
            if req.segments.is_empty() {
                for t in svc.ml2.tenant_network_types() {
                    let seg = Segment {
                        network_type: *t,
                        physical_network: None,
                        segmentation_id: None,
                    };
                    if *t == NetworkType::Flat {
                        continue;
                    }
                    if let Some(row) = segments::reserve(tx, &svc.ml2, &id, 0, &seg).await? {
                        reserved.push((row, seg));
                        break;
                    }
                }
                if reserved.is_empty() {
                    return Err(NeutronError::no_network_available());
                }
            } else {
                for (i, seg) in req.segments.iter().enumerate() {
                    let index = i64::try_from(i).unwrap_or(0);
                    match segments::reserve(tx, &svc.ml2, &id, index, seg).await? {
                        Some(row) => reserved.push((row, seg.clone())),
                        None => return Err(NeutronError::no_network_available()),
                    }
                }
            }
            let typed: Vec<Segment> = reserved
                .iter()
                .map(|(row, seg)| Segment {
                    network_type: seg.network_type,
                    physical_network: row.physical_network.clone(),
                    segmentation_id: row.segmentation_id,
                })
                .collect();
            let max_mtu = svc.ml2.network_mtu(&typed);
            let mtu = match req.mtu {
                Some(m) if m > max_mtu => {
                    return Err(NeutronError::invalid_input(format!(
                        "Requested MTU is too big, maximum is {max_mtu}"
                    )))
                }
                Some(m) if m < MIN_MTU => {
                    return Err(NeutronError::invalid_input(format!(
                        "Requested MTU is too small, minimum is {MIN_MTU}"
                    )))
                }
                Some(m) => m,
                None => max_mtu,
            };
            if req.is_default && req.router_external {
                check_default_external(tx, &id).await?;
            }
            let net = Network {
                id: id.clone(),
                project_id: req.project_id.clone(),
                name: req.name.clone(),
                description: req.description.clone(),
                status: "ACTIVE".into(),
                admin_state_up: req.admin_state_up,
                shared: req.shared,
                router_external: req.router_external,
                is_default: req.is_default && req.router_external,
                port_security_enabled: req.port_security_enabled,
                mtu,
                availability_zone_hints: req.availability_zone_hints.clone(),
                dns_domain: req.dns_domain.clone(),
                created_at: now,
                updated_at: now,
                revision_number: 1,
                segments: reserved.into_iter().map(|(r, _)| r).collect(),
                subnets: Vec::new(),
                tags: Vec::new(),
                ipv4_address_scope: None,
                ipv6_address_scope: None,
            };
            crate::service::quotas::check(svc, tx, &net.project_id, "network", 1).await?;
            networks::insert(tx, &net).await?;
            if !req.tags.is_empty() {
                tags::replace(tx, "networks", &id, &req.tags).await?;
            }
            networks::must_get(tx, &id).await
        })
    })
    .await
}

/// Whether projects other than the owner have ports on the network.
async fn used_by_others(tx: &mut db::Tx, net: &Network) -> NeutronResult<bool> {
    Ok(tx
        .fetch_optional(
            "SELECT id FROM ports WHERE network_id = ? AND project_id <> ? AND device_owner <> 'network:dhcp'",
            &[Bind::Text(&net.id), Bind::Text(&net.project_id)],
        )
        .await?
        .is_some())
}

/// Updates a network; `check` runs on the current record first (policy, If-Match).
pub async fn update(
    svc: &NetworkService,
    id: &str,
    req: NetworkUpdate,
    check: &(dyn Fn(&Network) -> NeutronResult<()> + Sync),
) -> NeutronResult<Network> {
    db::write(&svc.db, |tx, _| {
        let req = req.clone();
        Box::pin(async move {
            let mut net = networks::must_get(tx, id).await?;
            check(&net)?;
            if let Some(v) = &req.name {
                net.name = v.clone();
            }
            if let Some(v) = &req.description {
                net.description = v.clone();
            }
            if let Some(v) = req.admin_state_up {
                net.admin_state_up = v;
            }
            if let Some(v) = req.shared {
                if net.shared && !v && used_by_others(tx, &net).await? {
                    return Err(NeutronError::conflict(
                        "InvalidSharedSetting",
                        format!("Unable to reconfigure sharing settings for network {id}. Multiple tenants are using it."),
                    ));
                }
                net.shared = v;
            }
            if let Some(v) = req.router_external {
                if net.router_external && !v {
                    let gateways = tx
                        .fetch_optional(
                            "SELECT id FROM ports WHERE network_id = ? AND device_owner = 'network:router_gateway'",
                            &[Bind::Text(id)],
                        )
                        .await?;
                    if gateways.is_some() {
                        return Err(NeutronError::conflict(
                            "ExternalNetworkInUse",
                            format!("External network {id} cannot be updated to be made non-external, since it has existing gateway ports."),
                        ));
                    }
                }
                net.router_external = v;
            }
            if let Some(v) = req.is_default {
                net.is_default = v;
            }
            net.is_default = net.is_default && net.router_external;
            if net.is_default {
                check_default_external(tx, id).await?;
            }
            if let Some(v) = req.port_security_enabled {
                net.port_security_enabled = v;
            }
            if let Some(v) = &req.dns_domain {
                net.dns_domain = v.clone();
            }
            if let Some(m) = req.mtu {
                let typed: Vec<Segment> = net
                    .segments
                    .iter()
                    .filter_map(|s| {
                        NetworkType::parse(&s.network_type).map(|t| Segment { network_type: t, physical_network: s.physical_network.clone(), segmentation_id: s.segmentation_id })
                    })
                    .collect();
                let max_mtu = svc.ml2.network_mtu(&typed);
                if m > max_mtu {
                    return Err(NeutronError::invalid_input(format!("Requested MTU is too big, maximum is {max_mtu}")));
                }
                if m < MIN_MTU {
                    return Err(NeutronError::invalid_input(format!("Requested MTU is too small, minimum is {MIN_MTU}")));
                }
                net.mtu = m;
            }
            networks::save(tx, &mut net).await?;
            Ok(net)
        })
    })
    .await
}

/// Deletes a network with its subnets and its DHCP ports; 409 NetworkInUse while other
/// ports are on it.
pub async fn delete(
    svc: &NetworkService,
    id: &str,
    check: &(dyn Fn(&Network) -> NeutronResult<()> + Sync),
) -> NeutronResult<()> {
    db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            let net = networks::must_get(tx, id).await?;
            check(&net)?;
            // As Neutron's external-net handler does before a network goes: its floating IPs
            // that no port uses go with it (with the ports that hold their addresses).
            let idle = tx
                .fetch_all("SELECT id, floating_port_id FROM floatingips WHERE floating_network_id = ? AND fixed_port_id IS NULL", &[Bind::Text(id)])
                .await?;
            for f in idle {
                crate::db::floatingips::delete(tx, &f.s("id")?).await?;
                crate::db::ports::delete(tx, &f.s("floating_port_id")?).await?;
            }
            let in_use = tx
                .fetch_optional(
                    "SELECT id FROM ports WHERE network_id = ? AND device_owner <> 'network:dhcp'",
                    &[Bind::Text(id)],
                )
                .await?
                .is_some();
            if in_use {
                return Err(NeutronError::network_in_use(id));
            }
            let ports = tx
                .fetch_all(
                    "SELECT id FROM ports WHERE network_id = ?",
                    &[Bind::Text(id)],
                )
                .await?;
            for p in ports {
                let pid = p.s("id")?;
                tags::remove_all(tx, "ports", &pid).await?;
                tx.exec(
                    "DELETE FROM port_security_groups WHERE port_id = ?",
                    &[Bind::Text(&pid)],
                )
                .await?;
            }
            tx.exec(
                "DELETE FROM ipallocations WHERE network_id = ?",
                &[Bind::Text(id)],
            )
            .await?;
            tx.exec("DELETE FROM ports WHERE network_id = ?", &[Bind::Text(id)])
                .await?;
            crate::db::agents::unbind_all(tx, crate::db::agents::Binding::DhcpNetwork, id).await?;
            for s in &net.subnets {
                tags::remove_all(tx, "subnets", s).await?;
                tx.exec(
                    "DELETE FROM ipam_availability_ranges WHERE subnet_id = ?",
                    &[Bind::Text(s)],
                )
                .await?;
            }
            tx.exec(
                "DELETE FROM subnets WHERE network_id = ?",
                &[Bind::Text(id)],
            )
            .await?;
            networks::delete(tx, id).await
        })
    })
    .await
}
