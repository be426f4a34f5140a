//! Agents (one row per agent type and host, kept by their heartbeats) and the networks DHCP
//! agents serve and routers L3 agents host.

use super::{Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use monostack_db::flag;

pub const AGENT_TYPE_DHCP: &str = "DHCP agent";
pub const AGENT_TYPE_L3: &str = "L3 agent";

#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: String,
    pub agent_type: String,
    pub binary: String,
    pub topic: String,
    pub host: String,
    pub availability_zone: Option<String>,
    pub admin_state_up: bool,
    pub description: String,
    pub configurations: serde_json::Value,
    pub created_at: i64,
    pub started_at: i64,
    pub heartbeat_timestamp: i64,
}

const COLUMNS: &str = "id, agent_type, agent_binary, topic, host, availability_zone, admin_state_up, description, configurations, created_at, started_at, heartbeat_timestamp";

fn configurations_text(a: &Agent) -> NeutronResult<String> {
    let text = a.configurations.to_string();
    super::fit("configurations", &text, 4000)?;
    Ok(text)
}

pub async fn insert(tx: &mut Tx, a: &Agent) -> NeutronResult<()> {
    let conf = configurations_text(a)?;
    tx.exec(
        &format!("INSERT INTO agents ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        &[
            Bind::Text(&a.id),
            Bind::Text(&a.agent_type),
            Bind::Text(&a.binary),
            Bind::Text(&a.topic),
            Bind::Text(&a.host),
            Bind::OptText(a.availability_zone.as_deref()),
            Bind::Int(flag(a.admin_state_up)),
            Bind::Text(&a.description),
            Bind::Text(&conf),
            Bind::Int(a.created_at),
            Bind::Int(a.started_at),
            Bind::Int(a.heartbeat_timestamp),
        ],
    )
    .await?;
    Ok(())
}

pub async fn save(tx: &mut Tx, a: &Agent) -> NeutronResult<()> {
    let conf = configurations_text(a)?;
    tx.exec(
        "UPDATE agents SET agent_binary = ?, topic = ?, availability_zone = ?, admin_state_up = ?, description = ?, configurations = ?, started_at = ?, heartbeat_timestamp = ? WHERE id = ?",
        &[
            Bind::Text(&a.binary),
            Bind::Text(&a.topic),
            Bind::OptText(a.availability_zone.as_deref()),
            Bind::Int(flag(a.admin_state_up)),
            Bind::Text(&a.description),
            Bind::Text(&conf),
            Bind::Int(a.started_at),
            Bind::Int(a.heartbeat_timestamp),
            Bind::Text(&a.id),
        ],
    )
    .await?;
    Ok(())
}

/// Deletes an agent and its bindings.
pub async fn delete(tx: &mut Tx, id: &str) -> NeutronResult<()> {
    tx.exec(
        "DELETE FROM network_dhcp_agent_bindings WHERE agent_id = ?",
        &[Bind::Text(id)],
    )
    .await?;
    tx.exec(
        "DELETE FROM router_l3_agent_bindings WHERE agent_id = ?",
        &[Bind::Text(id)],
    )
    .await?;
    tx.exec("DELETE FROM agents WHERE id = ?", &[Bind::Text(id)])
        .await?;
    Ok(())
}

/// Agents matching `filter` (SQL after WHERE on `agents`, or None for all), by type and host.
pub async fn load(
    tx: &mut Tx,
    filter: Option<&str>,
    binds: &[Bind<'_>],
) -> NeutronResult<Vec<Agent>> {
    let sql = match filter {
        Some(f) => format!("SELECT {COLUMNS} FROM agents WHERE {f} ORDER BY agent_type, host"),
        None => format!("SELECT {COLUMNS} FROM agents ORDER BY agent_type, host"),
    };
    let mut out = Vec::new();
    for row in tx.fetch_all(&sql, binds).await? {
        let configurations = match row.os("configurations")? {
            Some(t) if !t.is_empty() => serde_json::from_str(&t).map_err(NeutronError::internal)?,
            _ => serde_json::json!({}),
        };
        out.push(Agent {
            id: row.s("id")?,
            agent_type: row.s("agent_type")?,
            binary: row.s("agent_binary")?,
            topic: row.s("topic")?,
            host: row.s("host")?,
            availability_zone: row.os("availability_zone")?,
            admin_state_up: row.b("admin_state_up")?,
            description: row.s("description")?,
            configurations,
            created_at: row.i("created_at")?,
            started_at: row.i("started_at")?,
            heartbeat_timestamp: row.i("heartbeat_timestamp")?,
        });
    }
    Ok(out)
}

pub fn not_found(id: &str) -> NeutronError {
    NeutronError::not_found("AgentNotFound", format!("Agent {id} could not be found."))
}

pub async fn get(tx: &mut Tx, id: &str) -> NeutronResult<Option<Agent>> {
    Ok(load(tx, Some("id = ?"), &[Bind::Text(id)]).await?.pop())
}

pub async fn must_get(tx: &mut Tx, id: &str) -> NeutronResult<Agent> {
    get(tx, id).await?.ok_or_else(|| not_found(id))
}

pub async fn by_type_host(
    tx: &mut Tx,
    agent_type: &str,
    host: &str,
) -> NeutronResult<Option<Agent>> {
    Ok(load(
        tx,
        Some("agent_type = ? AND host = ?"),
        &[Bind::Text(agent_type), Bind::Text(host)],
    )
    .await?
    .pop())
}

/// The binding table and resource column of a scheduler ("dhcp" networks, "l3" routers).
fn binding(kind: Binding) -> (&'static str, &'static str) {
    match kind {
        Binding::DhcpNetwork => ("network_dhcp_agent_bindings", "network_id"),
        Binding::L3Router => ("router_l3_agent_bindings", "router_id"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Binding {
    DhcpNetwork,
    L3Router,
}

/// The agents a resource is bound to.
pub async fn agents_of(
    tx: &mut Tx,
    kind: Binding,
    resource_id: &str,
) -> NeutronResult<Vec<String>> {
    let (table, col) = binding(kind);
    tx.fetch_all(
        &format!("SELECT agent_id FROM {table} WHERE {col} = ? ORDER BY agent_id"),
        &[Bind::Text(resource_id)],
    )
    .await?
    .iter()
    .map(|r| r.s("agent_id"))
    .collect()
}

/// The resources bound to an agent.
pub async fn resources_of(
    tx: &mut Tx,
    kind: Binding,
    agent_id: &str,
) -> NeutronResult<Vec<String>> {
    let (table, col) = binding(kind);
    tx.fetch_all(
        &format!("SELECT {col} AS rid FROM {table} WHERE agent_id = ? ORDER BY {col}"),
        &[Bind::Text(agent_id)],
    )
    .await?
    .iter()
    .map(|r| r.s("rid"))
    .collect()
}

pub async fn bind(
    tx: &mut Tx,
    kind: Binding,
    resource_id: &str,
    agent_id: &str,
) -> NeutronResult<()> {
    let (table, col) = binding(kind);
    tx.exec(
        &format!("INSERT INTO {table} ({col}, agent_id) VALUES (?, ?)"),
        &[Bind::Text(resource_id), Bind::Text(agent_id)],
    )
    .await?;
    Ok(())
}

/// Removes a binding; false when there was none.
pub async fn unbind(
    tx: &mut Tx,
    kind: Binding,
    resource_id: &str,
    agent_id: &str,
) -> NeutronResult<bool> {
    let (table, col) = binding(kind);
    Ok(tx
        .exec(
            &format!("DELETE FROM {table} WHERE {col} = ? AND agent_id = ?"),
            &[Bind::Text(resource_id), Bind::Text(agent_id)],
        )
        .await?
        > 0)
}

/// Removes every binding of a resource that goes away.
pub async fn unbind_all(tx: &mut Tx, kind: Binding, resource_id: &str) -> NeutronResult<()> {
    let (table, col) = binding(kind);
    tx.exec(
        &format!("DELETE FROM {table} WHERE {col} = ?"),
        &[Bind::Text(resource_id)],
    )
    .await?;
    Ok(())
}
