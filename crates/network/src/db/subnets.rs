//! Subnets: rows with their pools, name servers, host routes and tags.

use super::{placeholders, Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use monostack_db::flag;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Subnet {
    pub id: String,
    pub project_id: String,
    pub network_id: String,
    pub name: String,
    pub description: String,
    pub ip_version: i64,
    pub cidr: String,
    pub gateway_ip: Option<String>,
    pub enable_dhcp: bool,
    pub ipv6_ra_mode: Option<String>,
    pub ipv6_address_mode: Option<String>,
    pub subnetpool_id: Option<String>,
    /// `[{"start", "end"}]` in address order.
    pub allocation_pools: Vec<(String, String)>,
    pub dns_nameservers: Vec<String>,
    /// `[{"destination", "nexthop"}]`.
    pub host_routes: Vec<(String, String)>,
    pub service_types: Vec<String>,
    pub dns_publish_fixed_ip: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub revision_number: i64,
    pub tags: Vec<String>,
}

const COLUMNS: &str = "id, project_id, network_id, name, description, ip_version, cidr, gateway_ip, enable_dhcp, ipv6_ra_mode, ipv6_address_mode, subnetpool_id, allocation_pools, dns_nameservers, host_routes, service_types, dns_publish_fixed_ip, created_at, updated_at, revision_number";

fn pools_json(pools: &[(String, String)]) -> String {
    Value::Array(
        pools
            .iter()
            .map(|(s, e)| serde_json::json!({"start": s, "end": e}))
            .collect(),
    )
    .to_string()
}

fn routes_json(routes: &[(String, String)]) -> String {
    Value::Array(
        routes
            .iter()
            .map(|(d, n)| serde_json::json!({"destination": d, "nexthop": n}))
            .collect(),
    )
    .to_string()
}

fn pairs(v: Value, a: &str, b: &str) -> Vec<(String, String)> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    (
                        i[a].as_str().unwrap_or_default().to_string(),
                        i[b].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn strings(v: Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn check_sizes(pools: &str, dns: &str, routes: &str, types: &str) -> NeutronResult<()> {
    super::fit("allocation_pools", pools, 2000)?;
    super::fit("dns_nameservers", dns, 1024)?;
    super::fit("host_routes", routes, 4000)?;
    super::fit("service_types", types, 1024)
}

pub async fn insert(tx: &mut Tx, s: &Subnet) -> NeutronResult<()> {
    let pools = pools_json(&s.allocation_pools);
    let dns = serde_json::to_string(&s.dns_nameservers).map_err(NeutronError::internal)?;
    let routes = routes_json(&s.host_routes);
    let types = serde_json::to_string(&s.service_types).map_err(NeutronError::internal)?;
    check_sizes(&pools, &dns, &routes, &types)?;
    tx.exec(
        "INSERT INTO subnets (id, project_id, network_id, name, description, ip_version, cidr, gateway_ip, enable_dhcp, ipv6_ra_mode, ipv6_address_mode, subnetpool_id, segment_id, allocation_pools, dns_nameservers, host_routes, service_types, dns_publish_fixed_ip, alloc_generation, created_at, updated_at, revision_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
        &[
            Bind::Text(&s.id),
            Bind::Text(&s.project_id),
            Bind::Text(&s.network_id),
            Bind::Text(&s.name),
            Bind::Text(&s.description),
            Bind::Int(s.ip_version),
            Bind::Text(&s.cidr),
            Bind::OptText(s.gateway_ip.as_deref()),
            Bind::Int(flag(s.enable_dhcp)),
            Bind::OptText(s.ipv6_ra_mode.as_deref()),
            Bind::OptText(s.ipv6_address_mode.as_deref()),
            Bind::OptText(s.subnetpool_id.as_deref()),
            Bind::Text(&pools),
            Bind::Text(&dns),
            Bind::Text(&routes),
            Bind::Text(&types),
            Bind::Int(flag(s.dns_publish_fixed_ip)),
            Bind::Int(s.created_at),
            Bind::Int(s.updated_at),
            Bind::Int(s.revision_number),
        ],
    )
    .await?;
    Ok(())
}

/// Saves the writable attributes, bumping the revision; `s` is updated.
pub async fn save(tx: &mut Tx, s: &mut Subnet) -> NeutronResult<()> {
    s.revision_number += 1;
    s.updated_at = monostack_common::time::now_micros().max(s.updated_at);
    let pools = pools_json(&s.allocation_pools);
    let dns = serde_json::to_string(&s.dns_nameservers).map_err(NeutronError::internal)?;
    let routes = routes_json(&s.host_routes);
    let types = serde_json::to_string(&s.service_types).map_err(NeutronError::internal)?;
    check_sizes(&pools, &dns, &routes, &types)?;
    tx.exec(
        "UPDATE subnets SET name = ?, description = ?, gateway_ip = ?, enable_dhcp = ?, allocation_pools = ?, dns_nameservers = ?, host_routes = ?, service_types = ?, dns_publish_fixed_ip = ?, updated_at = ?, revision_number = ? WHERE id = ?",
        &[
            Bind::Text(&s.name),
            Bind::Text(&s.description),
            Bind::OptText(s.gateway_ip.as_deref()),
            Bind::Int(flag(s.enable_dhcp)),
            Bind::Text(&pools),
            Bind::Text(&dns),
            Bind::Text(&routes),
            Bind::Text(&types),
            Bind::Int(flag(s.dns_publish_fixed_ip)),
            Bind::Int(s.updated_at),
            Bind::Int(s.revision_number),
            Bind::Text(&s.id),
        ],
    )
    .await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: &str) -> NeutronResult<()> {
    super::tags::remove_all(tx, "subnets", id).await?;
    tx.exec(
        "DELETE FROM ipam_availability_ranges WHERE subnet_id = ?",
        &[Bind::Text(id)],
    )
    .await?;
    tx.exec("DELETE FROM subnets WHERE id = ?", &[Bind::Text(id)])
        .await?;
    Ok(())
}

/// Subnets matching `filter` (SQL after WHERE, or None for all), with tags, oldest first.
pub async fn load(
    tx: &mut Tx,
    filter: Option<&str>,
    binds: &[Bind<'_>],
) -> NeutronResult<Vec<Subnet>> {
    let sql = match filter {
        Some(f) => format!("SELECT {COLUMNS} FROM subnets WHERE {f} ORDER BY created_at, id"),
        None => format!("SELECT {COLUMNS} FROM subnets ORDER BY created_at, id"),
    };
    let rows = tx.fetch_all(&sql, binds).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(Subnet {
            id: row.s("id")?,
            project_id: row.s("project_id")?,
            network_id: row.s("network_id")?,
            name: row.s("name")?,
            description: row.s("description")?,
            ip_version: row.i("ip_version")?,
            cidr: row.s("cidr")?,
            gateway_ip: row.os("gateway_ip")?,
            enable_dhcp: row.b("enable_dhcp")?,
            ipv6_ra_mode: row.os("ipv6_ra_mode")?,
            ipv6_address_mode: row.os("ipv6_address_mode")?,
            subnetpool_id: row.os("subnetpool_id")?,
            allocation_pools: pairs(row.doc("allocation_pools")?, "start", "end"),
            dns_nameservers: strings(row.doc("dns_nameservers")?),
            host_routes: pairs(row.doc("host_routes")?, "destination", "nexthop"),
            service_types: strings(row.doc("service_types")?),
            dns_publish_fixed_ip: row.b("dns_publish_fixed_ip")?,
            created_at: row.i("created_at")?,
            updated_at: row.i("updated_at")?,
            revision_number: row.i("revision_number")?,
            tags: Vec::new(),
        });
    }
    let ids: Vec<String> = out.iter().map(|s| s.id.clone()).collect();
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let binds: Vec<Bind> = chunk.iter().map(|i| Bind::Text(i)).collect();
        let sql = format!("SELECT resource_id, tag FROM tags WHERE resource_type = 'subnets' AND resource_id IN {} ORDER BY tag", placeholders(chunk.len()));
        for row in tx.fetch_all(&sql, &binds).await? {
            tags.entry(row.s("resource_id")?)
                .or_default()
                .push(row.s("tag")?);
        }
    }
    for s in &mut out {
        s.tags = tags.remove(&s.id).unwrap_or_default();
    }
    Ok(out)
}

pub async fn get(tx: &mut Tx, id: &str) -> NeutronResult<Option<Subnet>> {
    Ok(load(tx, Some("id = ?"), &[Bind::Text(id)]).await?.pop())
}

pub async fn must_get(tx: &mut Tx, id: &str) -> NeutronResult<Subnet> {
    get(tx, id)
        .await?
        .ok_or_else(|| NeutronError::subnet_not_found(id))
}

/// Locks the subnet's row for address allocation (see [`super`]): allocators of one subnet
/// run one after the other on every backend.
pub async fn lock_for_allocation(tx: &mut Tx, id: &str) -> NeutronResult<()> {
    tx.exec(
        "UPDATE subnets SET alloc_generation = alloc_generation + 1 WHERE id = ?",
        &[Bind::Text(id)],
    )
    .await?;
    Ok(())
}
