//! Routers: rows with their gateway (external network, gateway port, SNAT) and static routes.
//! A router's ports are ordinary ports whose `device_id` is the router and whose
//! `device_owner` is `network:router_gateway` or `network:router_interface`.

use super::{placeholders, Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use monostack_db::flag;
use std::collections::HashMap;

pub const OWNER_GATEWAY: &str = "network:router_gateway";
pub const OWNER_INTERFACE: &str = "network:router_interface";

#[derive(Debug, Clone, PartialEq)]
pub struct Router {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub status: String,
    pub admin_state_up: bool,
    /// The external network of the gateway, if any.
    pub gw_network_id: Option<String>,
    pub gw_port_id: Option<String>,
    pub enable_snat: bool,
    /// (destination, nexthop).
    pub routes: Vec<(String, String)>,
    pub availability_zone_hints: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub revision_number: i64,
    pub tags: Vec<String>,
}

const COLUMNS: &str = "id, project_id, name, description, status, admin_state_up, gw_network_id, gw_port_id, enable_snat, routes, availability_zone_hints, created_at, updated_at, revision_number";

fn routes_json(routes: &[(String, String)]) -> String {
    serde_json::Value::Array(
        routes
            .iter()
            .map(|(d, n)| serde_json::json!({"destination": d, "nexthop": n}))
            .collect(),
    )
    .to_string()
}

fn texts(r: &Router) -> NeutronResult<(String, String)> {
    let routes = routes_json(&r.routes);
    let hints =
        serde_json::to_string(&r.availability_zone_hints).map_err(NeutronError::internal)?;
    super::fit("routes", &routes, 4000)?;
    super::fit("availability_zone_hints", &hints, 255)?;
    Ok((routes, hints))
}

pub async fn insert(tx: &mut Tx, r: &Router) -> NeutronResult<()> {
    let (routes, hints) = texts(r)?;
    tx.exec(
        &format!(
            "INSERT INTO routers ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        &[
            Bind::Text(&r.id),
            Bind::Text(&r.project_id),
            Bind::Text(&r.name),
            Bind::Text(&r.description),
            Bind::Text(&r.status),
            Bind::Int(flag(r.admin_state_up)),
            Bind::OptText(r.gw_network_id.as_deref()),
            Bind::OptText(r.gw_port_id.as_deref()),
            Bind::Int(flag(r.enable_snat)),
            Bind::Text(&routes),
            Bind::Text(&hints),
            Bind::Int(r.created_at),
            Bind::Int(r.updated_at),
            Bind::Int(r.revision_number),
        ],
    )
    .await?;
    Ok(())
}

/// Saves every attribute, bumping the revision; `r` is updated.
pub async fn save(tx: &mut Tx, r: &mut Router) -> NeutronResult<()> {
    r.revision_number += 1;
    r.updated_at = monostack_common::time::now_micros().max(r.updated_at);
    let (routes, hints) = texts(r)?;
    tx.exec(
        "UPDATE routers SET name = ?, description = ?, status = ?, admin_state_up = ?, gw_network_id = ?, gw_port_id = ?, enable_snat = ?, routes = ?, availability_zone_hints = ?, updated_at = ?, revision_number = ? WHERE id = ?",
        &[
            Bind::Text(&r.name),
            Bind::Text(&r.description),
            Bind::Text(&r.status),
            Bind::Int(flag(r.admin_state_up)),
            Bind::OptText(r.gw_network_id.as_deref()),
            Bind::OptText(r.gw_port_id.as_deref()),
            Bind::Int(flag(r.enable_snat)),
            Bind::Text(&routes),
            Bind::Text(&hints),
            Bind::Int(r.updated_at),
            Bind::Int(r.revision_number),
            Bind::Text(&r.id),
        ],
    )
    .await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: &str) -> NeutronResult<()> {
    tx.exec("DELETE FROM routers WHERE id = ?", &[Bind::Text(id)])
        .await?;
    super::tags::remove_all(tx, "routers", id).await
}

/// Routers matching `filter` (SQL after WHERE, or None for all) with their tags, oldest first.
pub async fn load(
    tx: &mut Tx,
    filter: Option<&str>,
    binds: &[Bind<'_>],
) -> NeutronResult<Vec<Router>> {
    let sql = match filter {
        Some(f) => format!("SELECT {COLUMNS} FROM routers WHERE {f} ORDER BY created_at, id"),
        None => format!("SELECT {COLUMNS} FROM routers ORDER BY created_at, id"),
    };
    let mut out = Vec::new();
    for row in tx.fetch_all(&sql, binds).await? {
        let routes = row
            .doc("routes")?
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| {
                        Some((
                            r.get("destination")?.as_str()?.to_string(),
                            r.get("nexthop")?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let hints: Vec<String> = serde_json::from_value(row.doc("availability_zone_hints")?)
            .map_err(NeutronError::internal)?;
        out.push(Router {
            id: row.s("id")?,
            project_id: row.s("project_id")?,
            name: row.s("name")?,
            description: row.s("description")?,
            status: row.s("status")?,
            admin_state_up: row.b("admin_state_up")?,
            gw_network_id: row.os("gw_network_id")?,
            gw_port_id: row.os("gw_port_id")?,
            enable_snat: row.b("enable_snat")?,
            routes,
            availability_zone_hints: hints,
            created_at: row.i("created_at")?,
            updated_at: row.i("updated_at")?,
            revision_number: row.i("revision_number")?,
            tags: Vec::new(),
        });
    }
    let ids: Vec<String> = out.iter().map(|r| r.id.clone()).collect();
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let binds: Vec<Bind> = chunk.iter().map(|i| Bind::Text(i)).collect();
        let sql = format!("SELECT resource_id, tag FROM tags WHERE resource_type = 'routers' AND resource_id IN {} ORDER BY tag", placeholders(chunk.len()));
        for row in tx.fetch_all(&sql, &binds).await? {
            tags.entry(row.s("resource_id")?)
                .or_default()
                .push(row.s("tag")?);
        }
    }
    for r in &mut out {
        r.tags = tags.remove(&r.id).unwrap_or_default();
    }
    Ok(out)
}

pub fn not_found(id: &str) -> NeutronError {
    NeutronError::not_found("RouterNotFound", format!("Router {id} could not be found"))
}

pub async fn get(tx: &mut Tx, id: &str) -> NeutronResult<Option<Router>> {
    Ok(load(tx, Some("id = ?"), &[Bind::Text(id)]).await?.pop())
}

pub async fn must_get(tx: &mut Tx, id: &str) -> NeutronResult<Router> {
    get(tx, id).await?.ok_or_else(|| not_found(id))
}

/// Locks the router's row for the rest of the transaction (interfaces and gateway changes of
/// one router run one after the other on every backend).
pub async fn lock(tx: &mut Tx, id: &str) -> NeutronResult<()> {
    tx.exec(
        "UPDATE routers SET revision_number = revision_number WHERE id = ?",
        &[Bind::Text(id)],
    )
    .await?;
    Ok(())
}

/// The ids of the router's interface ports, oldest first.
pub async fn interface_ports(tx: &mut Tx, router_id: &str) -> NeutronResult<Vec<String>> {
    tx.fetch_all(
        "SELECT id FROM ports WHERE device_id = ? AND device_owner = ? ORDER BY created_at, id",
        &[Bind::Text(router_id), Bind::Text(OWNER_INTERFACE)],
    )
    .await?
    .iter()
    .map(|r| r.s("id"))
    .collect()
}
