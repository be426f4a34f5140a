//! Networks: rows, their segments, subnet ids and tags, loaded together.

use super::segments::{self, SegmentRow};
use super::{placeholders, Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use monostack_db::flag;
use std::collections::HashMap;

/// A network as stored, with what its view needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub status: String,
    pub admin_state_up: bool,
    pub shared: bool,
    pub router_external: bool,
    /// The default external network of auto-allocated topologies.
    pub is_default: bool,
    pub port_security_enabled: bool,
    pub mtu: i64,
    pub availability_zone_hints: Vec<String>,
    pub dns_domain: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub revision_number: i64,
    pub segments: Vec<SegmentRow>,
    pub subnets: Vec<String>,
    pub tags: Vec<String>,
    /// The address scopes of its subnets' pools, per IP version (Neutron's
    /// ipv4_address_scope/ipv6_address_scope: a network is in one scope per version).
    pub ipv4_address_scope: Option<String>,
    pub ipv6_address_scope: Option<String>,
}

const COLUMNS: &str = "id, project_id, name, description, status, admin_state_up, shared, router_external, is_default, port_security_enabled, mtu, availability_zone_hints, dns_domain, created_at, updated_at, revision_number";

pub async fn insert(tx: &mut Tx, n: &Network) -> NeutronResult<()> {
    let hints =
        serde_json::to_string(&n.availability_zone_hints).map_err(NeutronError::internal)?;
    super::fit("availability_zone_hints", &hints, 255)?;
    tx.exec(
        "INSERT INTO networks (id, project_id, name, description, status, admin_state_up, shared, router_external, is_default, port_security_enabled, mtu, availability_zone_hints, dns_domain, created_at, updated_at, revision_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Bind::Text(&n.id),
            Bind::Text(&n.project_id),
            Bind::Text(&n.name),
            Bind::Text(&n.description),
            Bind::Text(&n.status),
            Bind::Int(flag(n.admin_state_up)),
            Bind::Int(flag(n.shared)),
            Bind::Int(flag(n.router_external)),
            Bind::Int(flag(n.is_default)),
            Bind::Int(flag(n.port_security_enabled)),
            Bind::Int(n.mtu),
            Bind::Text(&hints),
            Bind::Text(&n.dns_domain),
            Bind::Int(n.created_at),
            Bind::Int(n.updated_at),
            Bind::Int(n.revision_number),
        ],
    )
    .await?;
    Ok(())
}

/// Saves the writable attributes, bumping the revision and `updated_at`; `n` is updated.
pub async fn save(tx: &mut Tx, n: &mut Network) -> NeutronResult<()> {
    n.revision_number += 1;
    n.updated_at = monostack_common::time::now_micros().max(n.updated_at);
    tx.exec(
        "UPDATE networks SET name = ?, description = ?, admin_state_up = ?, shared = ?, router_external = ?, is_default = ?, port_security_enabled = ?, mtu = ?, dns_domain = ?, updated_at = ?, revision_number = ? WHERE id = ?",
        &[
            Bind::Text(&n.name),
            Bind::Text(&n.description),
            Bind::Int(flag(n.admin_state_up)),
            Bind::Int(flag(n.shared)),
            Bind::Int(flag(n.router_external)),
            Bind::Int(flag(n.is_default)),
            Bind::Int(flag(n.port_security_enabled)),
            Bind::Int(n.mtu),
            Bind::Text(&n.dns_domain),
            Bind::Int(n.updated_at),
            Bind::Int(n.revision_number),
            Bind::Text(&n.id),
        ],
    )
    .await?;
    Ok(())
}

/// Bumps a network's revision (its subnets or tags changed).
pub async fn touch(tx: &mut Tx, id: &str) -> NeutronResult<()> {
    tx.exec(
        "UPDATE networks SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?",
        &[
            Bind::Int(monostack_common::time::now_micros()),
            Bind::Text(id),
        ],
    )
    .await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: &str) -> NeutronResult<()> {
    segments::release(tx, id).await?;
    super::tags::remove_all(tx, "networks", id).await?;
    tx.exec("DELETE FROM networks WHERE id = ?", &[Bind::Text(id)])
        .await?;
    Ok(())
}

/// Networks matching `filter` (SQL after WHERE, or None for all), with segments, subnet ids
/// and tags, oldest first.
pub async fn load(
    tx: &mut Tx,
    filter: Option<&str>,
    binds: &[Bind<'_>],
) -> NeutronResult<Vec<Network>> {
    let sql = match filter {
        Some(f) => format!("SELECT {COLUMNS} FROM networks WHERE {f} ORDER BY created_at, id"),
        None => format!("SELECT {COLUMNS} FROM networks ORDER BY created_at, id"),
    };
    let rows = tx.fetch_all(&sql, binds).await?;
    let mut nets = Vec::with_capacity(rows.len());
    for row in rows {
        let hints: Vec<String> = serde_json::from_value(row.doc("availability_zone_hints")?)
            .map_err(NeutronError::internal)?;
        nets.push(Network {
            id: row.s("id")?,
            project_id: row.s("project_id")?,
            name: row.s("name")?,
            description: row.s("description")?,
            status: row.s("status")?,
            admin_state_up: row.b("admin_state_up")?,
            shared: row.b("shared")?,
            router_external: row.b("router_external")?,
            is_default: row.b("is_default")?,
            port_security_enabled: row.b("port_security_enabled")?,
            mtu: row.i("mtu")?,
            availability_zone_hints: hints,
            dns_domain: row.s("dns_domain")?,
            created_at: row.i("created_at")?,
            updated_at: row.i("updated_at")?,
            revision_number: row.i("revision_number")?,
            segments: Vec::new(),
            subnets: Vec::new(),
            tags: Vec::new(),
            ipv4_address_scope: None,
            ipv6_address_scope: None,
        });
    }
    if nets.is_empty() {
        return Ok(nets);
    }
    let ids: Vec<String> = nets.iter().map(|n| n.id.clone()).collect();
    let mut segs: HashMap<String, Vec<SegmentRow>> = HashMap::new();
    for s in segments::of_networks(tx, &ids).await? {
        segs.entry(s.network_id.clone()).or_default().push(s);
    }
    let mut subnets: HashMap<String, Vec<String>> = HashMap::new();
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    let mut scopes: HashMap<(String, i64), String> = HashMap::new();
    for chunk in ids.chunks(500) {
        let binds: Vec<Bind> = chunk.iter().map(|i| Bind::Text(i)).collect();
        let sql = format!(
            "SELECT id, network_id FROM subnets WHERE network_id IN {} ORDER BY created_at, id",
            placeholders(chunk.len())
        );
        for row in tx.fetch_all(&sql, &binds).await? {
            subnets
                .entry(row.s("network_id")?)
                .or_default()
                .push(row.s("id")?);
        }
        let sql = format!("SELECT resource_id, tag FROM tags WHERE resource_type = 'networks' AND resource_id IN {} ORDER BY tag", placeholders(chunk.len()));
        for row in tx.fetch_all(&sql, &binds).await? {
            tags.entry(row.s("resource_id")?)
                .or_default()
                .push(row.s("tag")?);
        }
        let sql = format!("SELECT s.network_id, p.ip_version, p.address_scope_id FROM subnets s JOIN subnetpools p ON p.id = s.subnetpool_id WHERE p.address_scope_id IS NOT NULL AND s.network_id IN {}", placeholders(chunk.len()));
        for row in tx.fetch_all(&sql, &binds).await? {
            if let Some(scope) = row.os("address_scope_id")? {
                scopes.insert((row.s("network_id")?, row.i("ip_version")?), scope);
            }
        }
    }
    for n in &mut nets {
        n.segments = segs.remove(&n.id).unwrap_or_default();
        n.subnets = subnets.remove(&n.id).unwrap_or_default();
        n.tags = tags.remove(&n.id).unwrap_or_default();
        n.ipv4_address_scope = scopes.remove(&(n.id.clone(), 4));
        n.ipv6_address_scope = scopes.remove(&(n.id.clone(), 6));
    }
    Ok(nets)
}

/// One network, or None.
pub async fn get(tx: &mut Tx, id: &str) -> NeutronResult<Option<Network>> {
    Ok(load(tx, Some("id = ?"), &[Bind::Text(id)]).await?.pop())
}

/// One network, or 404 NetworkNotFound.
pub async fn must_get(tx: &mut Tx, id: &str) -> NeutronResult<Network> {
    get(tx, id)
        .await?
        .ok_or_else(|| NeutronError::network_not_found(id))
}
