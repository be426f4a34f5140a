//! Ports: rows with their fixed IPs (`ipallocations`), security groups and tags.

use super::{placeholders, Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use monostack_db::flag;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Port {
    pub id: String,
    pub project_id: String,
    pub network_id: String,
    pub name: String,
    pub description: String,
    pub mac_address: String,
    pub admin_state_up: bool,
    pub status: String,
    pub device_id: String,
    pub device_owner: String,
    pub port_security_enabled: bool,
    pub dns_name: String,
    pub binding_host_id: String,
    pub binding_vif_type: String,
    pub binding_vnic_type: String,
    pub binding_profile: Value,
    pub binding_vif_details: Value,
    /// `[{"ip_address", "mac_address"}]`.
    pub allowed_address_pairs: Value,
    /// `[{"opt_name", "opt_value", "ip_version"}]`.
    pub extra_dhcp_opts: Value,
    pub created_at: i64,
    pub updated_at: i64,
    pub revision_number: i64,
    /// (subnet_id, ip_address), in address order.
    pub fixed_ips: Vec<(String, String)>,
    pub security_groups: Vec<String>,
    pub tags: Vec<String>,
}

const COLUMNS: &str = "id, project_id, network_id, name, description, mac_address, admin_state_up, status, device_id, device_owner, port_security_enabled, dns_name, binding_host_id, binding_vif_type, binding_vnic_type, binding_profile, binding_vif_details, allowed_address_pairs, extra_dhcp_opts, created_at, updated_at, revision_number";

fn doc_text(v: &Value) -> String {
    v.to_string()
}

fn check_sizes(profile: &str, details: &str, pairs: &str, opts: &str) -> NeutronResult<()> {
    super::fit("binding:profile", profile, 4000)?;
    super::fit("binding:vif_details", details, 1024)?;
    super::fit("allowed_address_pairs", pairs, 2000)?;
    super::fit("extra_dhcp_opts", opts, 2000)
}

pub async fn insert(tx: &mut Tx, p: &Port) -> NeutronResult<()> {
    let (profile, details, pairs, opts) = (
        doc_text(&p.binding_profile),
        doc_text(&p.binding_vif_details),
        doc_text(&p.allowed_address_pairs),
        doc_text(&p.extra_dhcp_opts),
    );
    check_sizes(&profile, &details, &pairs, &opts)?;
    tx.exec(
        "INSERT INTO ports (id, project_id, network_id, name, description, mac_address, admin_state_up, status, device_id, device_owner, port_security_enabled, dns_name, binding_host_id, binding_vif_type, binding_vnic_type, binding_profile, binding_vif_details, allowed_address_pairs, extra_dhcp_opts, created_at, updated_at, revision_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Bind::Text(&p.id),
            Bind::Text(&p.project_id),
            Bind::Text(&p.network_id),
            Bind::Text(&p.name),
            Bind::Text(&p.description),
            Bind::Text(&p.mac_address),
            Bind::Int(flag(p.admin_state_up)),
            Bind::Text(&p.status),
            Bind::Text(&p.device_id),
            Bind::Text(&p.device_owner),
            Bind::Int(flag(p.port_security_enabled)),
            Bind::Text(&p.dns_name),
            Bind::Text(&p.binding_host_id),
            Bind::Text(&p.binding_vif_type),
            Bind::Text(&p.binding_vnic_type),
            Bind::Text(&profile),
            Bind::Text(&details),
            Bind::Text(&pairs),
            Bind::Text(&opts),
            Bind::Int(p.created_at),
            Bind::Int(p.updated_at),
            Bind::Int(p.revision_number),
        ],
    )
    .await?;
    set_security_groups(tx, &p.id, &p.security_groups).await
}

/// Saves every attribute but the fixed IPs (see [`add_ip`]/[`remove_ip`]), bumping the
/// revision; `p` is updated.
pub async fn save(tx: &mut Tx, p: &mut Port) -> NeutronResult<()> {
    p.revision_number += 1;
    p.updated_at = monostack_common::time::now_micros().max(p.updated_at);
    let (profile, details, pairs, opts) = (
        doc_text(&p.binding_profile),
        doc_text(&p.binding_vif_details),
        doc_text(&p.allowed_address_pairs),
        doc_text(&p.extra_dhcp_opts),
    );
    check_sizes(&profile, &details, &pairs, &opts)?;
    tx.exec(
        "UPDATE ports SET name = ?, description = ?, mac_address = ?, admin_state_up = ?, status = ?, device_id = ?, device_owner = ?, port_security_enabled = ?, dns_name = ?, binding_host_id = ?, binding_vif_type = ?, binding_vnic_type = ?, binding_profile = ?, binding_vif_details = ?, allowed_address_pairs = ?, extra_dhcp_opts = ?, updated_at = ?, revision_number = ? WHERE id = ?",
        &[
            Bind::Text(&p.name),
            Bind::Text(&p.description),
            Bind::Text(&p.mac_address),
            Bind::Int(flag(p.admin_state_up)),
            Bind::Text(&p.status),
            Bind::Text(&p.device_id),
            Bind::Text(&p.device_owner),
            Bind::Int(flag(p.port_security_enabled)),
            Bind::Text(&p.dns_name),
            Bind::Text(&p.binding_host_id),
            Bind::Text(&p.binding_vif_type),
            Bind::Text(&p.binding_vnic_type),
            Bind::Text(&profile),
            Bind::Text(&details),
            Bind::Text(&pairs),
            Bind::Text(&opts),
            Bind::Int(p.updated_at),
            Bind::Int(p.revision_number),
            Bind::Text(&p.id),
        ],
    )
    .await?;
    set_security_groups(tx, &p.id, &p.security_groups).await
}

pub async fn set_security_groups(
    tx: &mut Tx,
    port_id: &str,
    groups: &[String],
) -> NeutronResult<()> {
    tx.exec(
        "DELETE FROM port_security_groups WHERE port_id = ?",
        &[Bind::Text(port_id)],
    )
    .await?;
    for g in groups {
        tx.exec(
            "INSERT INTO port_security_groups (port_id, security_group_id) VALUES (?, ?)",
            &[Bind::Text(port_id), Bind::Text(g)],
        )
        .await?;
    }
    Ok(())
}

pub async fn add_ip(
    tx: &mut Tx,
    port_id: &str,
    network_id: &str,
    subnet_id: &str,
    ip: &str,
) -> NeutronResult<()> {
    tx.exec(
        "INSERT INTO ipallocations (subnet_id, ip_address, port_id, network_id) VALUES (?, ?, ?, ?)",
        &[Bind::Text(subnet_id), Bind::Text(ip), Bind::Text(port_id), Bind::Text(network_id)],
    )
    .await?;
    Ok(())
}

/// Frees an address of a port (back to its subnet's availability ranges).
pub async fn remove_ip(tx: &mut Tx, subnet_id: &str, ip: &str) -> NeutronResult<()> {
    super::ip_ranges::release_all(tx, &[(subnet_id.to_string(), ip.to_string())]).await?;
    tx.exec(
        "DELETE FROM ipallocations WHERE subnet_id = ? AND ip_address = ?",
        &[Bind::Text(subnet_id), Bind::Text(ip)],
    )
    .await?;
    Ok(())
}

/// The port holding an address of a subnet, if any.
pub async fn ip_holder(tx: &mut Tx, subnet_id: &str, ip: &str) -> NeutronResult<Option<String>> {
    let row = tx
        .fetch_optional(
            &tx.latest("SELECT port_id FROM ipallocations WHERE subnet_id = ? AND ip_address = ?"),
            &[Bind::Text(subnet_id), Bind::Text(ip)],
        )
        .await?;
    row.map(|r| r.s("port_id")).transpose()
}

pub async fn mac_in_use(tx: &mut Tx, network_id: &str, mac: &str) -> NeutronResult<bool> {
    Ok(tx
        .fetch_optional(
            &tx.latest("SELECT id FROM ports WHERE network_id = ? AND mac_address = ?"),
            &[Bind::Text(network_id), Bind::Text(mac)],
        )
        .await?
        .is_some())
}

/// Deletes a port; its addresses go back to their subnets' availability ranges.
pub async fn delete(tx: &mut Tx, id: &str) -> NeutronResult<()> {
    super::tags::remove_all(tx, "ports", id).await?;
    let held: Vec<(String, String)> = tx
        .fetch_all(
            "SELECT subnet_id, ip_address FROM ipallocations WHERE port_id = ?",
            &[Bind::Text(id)],
        )
        .await?
        .iter()
        .map(|r| Ok((r.s("subnet_id")?, r.s("ip_address")?)))
        .collect::<NeutronResult<_>>()?;
    super::ip_ranges::release_all(tx, &held).await?;
    tx.exec(
        "DELETE FROM ipallocations WHERE port_id = ?",
        &[Bind::Text(id)],
    )
    .await?;
    tx.exec(
        "DELETE FROM port_security_groups WHERE port_id = ?",
        &[Bind::Text(id)],
    )
    .await?;
    tx.exec("DELETE FROM ports WHERE id = ?", &[Bind::Text(id)])
        .await?;
    Ok(())
}

/// Ports matching `filter` (SQL after WHERE, or None for all), with fixed IPs, security
/// groups and tags, oldest first.
pub async fn load(
    tx: &mut Tx,
    filter: Option<&str>,
    binds: &[Bind<'_>],
) -> NeutronResult<Vec<Port>> {
    let sql = match filter {
        Some(f) => format!("SELECT {COLUMNS} FROM ports WHERE {f} ORDER BY created_at, id"),
        None => format!("SELECT {COLUMNS} FROM ports ORDER BY created_at, id"),
    };
    let rows = tx.fetch_all(&sql, binds).await?;
    let mut out = Vec::with_capacity(rows.len());
    let json_doc = |row: &sqlx::any::AnyRow, col: &str, empty: Value| -> NeutronResult<Value> {
        match row.os(col)? {
            Some(t) if !t.is_empty() => serde_json::from_str(&t).map_err(NeutronError::internal),
            _ => Ok(empty),
        }
    };
    for row in rows {
        out.push(Port {
            id: row.s("id")?,
            project_id: row.s("project_id")?,
            network_id: row.s("network_id")?,
            name: row.s("name")?,
            description: row.s("description")?,
            mac_address: row.s("mac_address")?,
            admin_state_up: row.b("admin_state_up")?,
            status: row.s("status")?,
            device_id: row.s("device_id")?,
            device_owner: row.s("device_owner")?,
            port_security_enabled: row.b("port_security_enabled")?,
            dns_name: row.s("dns_name")?,
            binding_host_id: row.s("binding_host_id")?,
            binding_vif_type: row.s("binding_vif_type")?,
            binding_vnic_type: row.s("binding_vnic_type")?,
            binding_profile: json_doc(&row, "binding_profile", Value::Object(Default::default()))?,
            binding_vif_details: json_doc(
                &row,
                "binding_vif_details",
                Value::Object(Default::default()),
            )?,
            allowed_address_pairs: json_doc(
                &row,
                "allowed_address_pairs",
                Value::Array(Vec::new()),
            )?,
            extra_dhcp_opts: json_doc(&row, "extra_dhcp_opts", Value::Array(Vec::new()))?,
            created_at: row.i("created_at")?,
            updated_at: row.i("updated_at")?,
            revision_number: row.i("revision_number")?,
            fixed_ips: Vec::new(),
            security_groups: Vec::new(),
            tags: Vec::new(),
        });
    }
    let ids: Vec<String> = out.iter().map(|p| p.id.clone()).collect();
    let mut ips: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut groups: HashMap<String, Vec<String>> = HashMap::new();
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let binds: Vec<Bind> = chunk.iter().map(|i| Bind::Text(i)).collect();
        let sql = format!(
            "SELECT port_id, subnet_id, ip_address FROM ipallocations WHERE port_id IN {}",
            placeholders(chunk.len())
        );
        for row in tx.fetch_all(&sql, &binds).await? {
            ips.entry(row.s("port_id")?)
                .or_default()
                .push((row.s("subnet_id")?, row.s("ip_address")?));
        }
        let sql = format!("SELECT port_id, security_group_id FROM port_security_groups WHERE port_id IN {} ORDER BY security_group_id", placeholders(chunk.len()));
        for row in tx.fetch_all(&sql, &binds).await? {
            groups
                .entry(row.s("port_id")?)
                .or_default()
                .push(row.s("security_group_id")?);
        }
        let sql = format!("SELECT resource_id, tag FROM tags WHERE resource_type = 'ports' AND resource_id IN {} ORDER BY tag", placeholders(chunk.len()));
        for row in tx.fetch_all(&sql, &binds).await? {
            tags.entry(row.s("resource_id")?)
                .or_default()
                .push(row.s("tag")?);
        }
    }
    for p in &mut out {
        let mut fixed = ips.remove(&p.id).unwrap_or_default();
        fixed.sort_by_key(|(_, ip)| crate::ipam::parse_ip(ip).unwrap_or((0, 0)));
        p.fixed_ips = fixed;
        p.security_groups = groups.remove(&p.id).unwrap_or_default();
        p.tags = tags.remove(&p.id).unwrap_or_default();
    }
    Ok(out)
}

pub async fn get(tx: &mut Tx, id: &str) -> NeutronResult<Option<Port>> {
    Ok(load(tx, Some("id = ?"), &[Bind::Text(id)]).await?.pop())
}

pub async fn must_get(tx: &mut Tx, id: &str) -> NeutronResult<Port> {
    get(tx, id)
        .await?
        .ok_or_else(|| NeutronError::port_not_found(id))
}
