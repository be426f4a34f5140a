//! Floating IPs: an address of an external network (held by a `network:floatingip` port of no
//! project) and, when associated, the internal port and fixed address it maps to through a
//! router.

use super::{placeholders, Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use std::collections::HashMap;

pub const OWNER_FLOATINGIP: &str = "network:floatingip";

#[derive(Debug, Clone, PartialEq)]
pub struct FloatingIp {
    pub id: String,
    pub project_id: String,
    pub description: String,
    pub floating_ip_address: String,
    pub floating_network_id: String,
    pub floating_port_id: String,
    pub fixed_port_id: Option<String>,
    pub fixed_ip_address: Option<String>,
    pub router_id: Option<String>,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub revision_number: i64,
    pub tags: Vec<String>,
}

const COLUMNS: &str = "id, project_id, description, floating_ip_address, floating_network_id, floating_port_id, fixed_port_id, fixed_ip_address, router_id, status, created_at, updated_at, revision_number";

pub async fn insert(tx: &mut Tx, f: &FloatingIp) -> NeutronResult<()> {
    tx.exec(
        &format!(
            "INSERT INTO floatingips ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        &[
            Bind::Text(&f.id),
            Bind::Text(&f.project_id),
            Bind::Text(&f.description),
            Bind::Text(&f.floating_ip_address),
            Bind::Text(&f.floating_network_id),
            Bind::Text(&f.floating_port_id),
            Bind::OptText(f.fixed_port_id.as_deref()),
            Bind::OptText(f.fixed_ip_address.as_deref()),
            Bind::OptText(f.router_id.as_deref()),
            Bind::Text(&f.status),
            Bind::Int(f.created_at),
            Bind::Int(f.updated_at),
            Bind::Int(f.revision_number),
        ],
    )
    .await?;
    Ok(())
}

/// Saves every attribute, bumping the revision; `f` is updated.
pub async fn save(tx: &mut Tx, f: &mut FloatingIp) -> NeutronResult<()> {
    f.revision_number += 1;
    f.updated_at = monostack_common::time::now_micros().max(f.updated_at);
    tx.exec(
        "UPDATE floatingips SET description = ?, fixed_port_id = ?, fixed_ip_address = ?, router_id = ?, status = ?, updated_at = ?, revision_number = ? WHERE id = ?",
        &[
            Bind::Text(&f.description),
            Bind::OptText(f.fixed_port_id.as_deref()),
            Bind::OptText(f.fixed_ip_address.as_deref()),
            Bind::OptText(f.router_id.as_deref()),
            Bind::Text(&f.status),
            Bind::Int(f.updated_at),
            Bind::Int(f.revision_number),
            Bind::Text(&f.id),
        ],
    )
    .await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: &str) -> NeutronResult<()> {
    tx.exec("DELETE FROM floatingips WHERE id = ?", &[Bind::Text(id)])
        .await?;
    super::tags::remove_all(tx, "floatingips", id).await
}

/// Floating IPs matching `filter` (SQL after WHERE, or None for all) with their tags, oldest
/// first.
pub async fn load(
    tx: &mut Tx,
    filter: Option<&str>,
    binds: &[Bind<'_>],
) -> NeutronResult<Vec<FloatingIp>> {
    let sql = match filter {
        Some(f) => format!("SELECT {COLUMNS} FROM floatingips WHERE {f} ORDER BY created_at, id"),
        None => format!("SELECT {COLUMNS} FROM floatingips ORDER BY created_at, id"),
    };
    let mut out = Vec::new();
    for row in tx.fetch_all(&sql, binds).await? {
        out.push(FloatingIp {
            id: row.s("id")?,
            project_id: row.s("project_id")?,
            description: row.s("description")?,
            floating_ip_address: row.s("floating_ip_address")?,
            floating_network_id: row.s("floating_network_id")?,
            floating_port_id: row.s("floating_port_id")?,
            fixed_port_id: row.os("fixed_port_id")?,
            fixed_ip_address: row.os("fixed_ip_address")?,
            router_id: row.os("router_id")?,
            status: row.s("status")?,
            created_at: row.i("created_at")?,
            updated_at: row.i("updated_at")?,
            revision_number: row.i("revision_number")?,
            tags: Vec::new(),
        });
    }
    let ids: Vec<String> = out.iter().map(|f| f.id.clone()).collect();
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let binds: Vec<Bind> = chunk.iter().map(|i| Bind::Text(i)).collect();
        let sql = format!("SELECT resource_id, tag FROM tags WHERE resource_type = 'floatingips' AND resource_id IN {} ORDER BY tag", placeholders(chunk.len()));
        for row in tx.fetch_all(&sql, &binds).await? {
            tags.entry(row.s("resource_id")?)
                .or_default()
                .push(row.s("tag")?);
        }
    }
    for f in &mut out {
        f.tags = tags.remove(&f.id).unwrap_or_default();
    }
    Ok(out)
}

pub fn not_found(id: &str) -> NeutronError {
    NeutronError::not_found(
        "FloatingIPNotFound",
        format!("Floating IP {id} could not be found"),
    )
}

pub async fn get(tx: &mut Tx, id: &str) -> NeutronResult<Option<FloatingIp>> {
    Ok(load(tx, Some("id = ?"), &[Bind::Text(id)]).await?.pop())
}

pub async fn must_get(tx: &mut Tx, id: &str) -> NeutronResult<FloatingIp> {
    get(tx, id).await?.ok_or_else(|| not_found(id))
}

/// Disassociates the floating IPs of an internal port that goes away.
pub async fn release_port(tx: &mut Tx, port_id: &str) -> NeutronResult<()> {
    tx.exec(
        "UPDATE floatingips SET fixed_port_id = NULL, fixed_ip_address = NULL, router_id = NULL, status = 'DOWN', revision_number = revision_number + 1, updated_at = ? WHERE fixed_port_id = ?",
        &[
            Bind::Int(monostack_common::time::now_micros()),
            Bind::Text(port_id),
        ],
    )
    .await?;
    Ok(())
}
