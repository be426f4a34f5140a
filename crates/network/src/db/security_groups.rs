//! Security groups, their rules, and each project's default group.
//!
//! A rule's `rule_key` is its normalized content (direction, ethertype, ports, protocol as a
//! number, remotes, with "any address" and "no remote" alike), unique per group: the same rule
//! twice is refused by the key even when two requests race.

use super::{placeholders, Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use monostack_db::flag;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub project_id: String,
    pub security_group_id: String,
    pub direction: String,
    pub ethertype: String,
    pub protocol: Option<String>,
    pub port_range_min: Option<i64>,
    pub port_range_max: Option<i64>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
    pub description: String,
    pub rule_key: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub revision_number: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SecurityGroup {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub stateful: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub revision_number: i64,
    pub is_default: bool,
    pub rules: Vec<Rule>,
    pub tags: Vec<String>,
}

pub async fn insert(tx: &mut Tx, g: &SecurityGroup) -> NeutronResult<()> {
    tx.exec(
        "INSERT INTO security_groups (id, project_id, name, description, stateful, created_at, updated_at, revision_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Bind::Text(&g.id),
            Bind::Text(&g.project_id),
            Bind::Text(&g.name),
            Bind::Text(&g.description),
            Bind::Int(flag(g.stateful)),
            Bind::Int(g.created_at),
            Bind::Int(g.updated_at),
            Bind::Int(g.revision_number),
        ],
    )
    .await?;
    Ok(())
}

pub async fn save(tx: &mut Tx, g: &mut SecurityGroup) -> NeutronResult<()> {
    g.revision_number += 1;
    g.updated_at = monostack_common::time::now_micros().max(g.updated_at);
    tx.exec(
        "UPDATE security_groups SET name = ?, description = ?, stateful = ?, updated_at = ?, revision_number = ? WHERE id = ?",
        &[Bind::Text(&g.name), Bind::Text(&g.description), Bind::Int(flag(g.stateful)), Bind::Int(g.updated_at), Bind::Int(g.revision_number), Bind::Text(&g.id)],
    )
    .await?;
    Ok(())
}

/// Bumps a group's revision (its rules changed).
pub async fn touch(tx: &mut Tx, id: &str) -> NeutronResult<()> {
    tx.exec(
        "UPDATE security_groups SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?",
        &[Bind::Int(monostack_common::time::now_micros()), Bind::Text(id)],
    )
    .await?;
    Ok(())
}

pub async fn insert_rule(tx: &mut Tx, r: &Rule) -> NeutronResult<()> {
    tx.exec(
        "INSERT INTO security_group_rules (id, project_id, security_group_id, direction, ethertype, protocol, port_range_min, port_range_max, remote_ip_prefix, remote_group_id, description, rule_key, created_at, updated_at, revision_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Bind::Text(&r.id),
            Bind::Text(&r.project_id),
            Bind::Text(&r.security_group_id),
            Bind::Text(&r.direction),
            Bind::Text(&r.ethertype),
            Bind::OptText(r.protocol.as_deref()),
            Bind::OptInt(r.port_range_min),
            Bind::OptInt(r.port_range_max),
            Bind::OptText(r.remote_ip_prefix.as_deref()),
            Bind::OptText(r.remote_group_id.as_deref()),
            Bind::Text(&r.description),
            Bind::Text(&r.rule_key),
            Bind::Int(r.created_at),
            Bind::Int(r.updated_at),
            Bind::Int(r.revision_number),
        ],
    )
    .await?;
    Ok(())
}

/// The rule of `group` with this key, if any.
pub async fn rule_with_key(tx: &mut Tx, group: &str, key: &str) -> NeutronResult<Option<String>> {
    let row = tx
        .fetch_optional(
            &tx.latest(
                "SELECT id FROM security_group_rules WHERE security_group_id = ? AND rule_key = ?",
            ),
            &[Bind::Text(group), Bind::Text(key)],
        )
        .await?;
    row.map(|r| r.s("id")).transpose()
}

pub async fn delete_rule(tx: &mut Tx, id: &str) -> NeutronResult<()> {
    tx.exec(
        "DELETE FROM security_group_rules WHERE id = ?",
        &[Bind::Text(id)],
    )
    .await?;
    Ok(())
}

/// Deletes a group, its rules and the rules of other groups that name it as remote.
pub async fn delete(tx: &mut Tx, id: &str) -> NeutronResult<()> {
    super::tags::remove_all(tx, "security-groups", id).await?;
    tx.exec(
        "DELETE FROM security_group_rules WHERE security_group_id = ? OR remote_group_id = ?",
        &[Bind::Text(id), Bind::Text(id)],
    )
    .await?;
    tx.exec(
        "DELETE FROM default_security_groups WHERE security_group_id = ?",
        &[Bind::Text(id)],
    )
    .await?;
    tx.exec(
        "DELETE FROM security_groups WHERE id = ?",
        &[Bind::Text(id)],
    )
    .await?;
    Ok(())
}

const RULE_COLUMNS: &str = "id, project_id, security_group_id, direction, ethertype, protocol, port_range_min, port_range_max, remote_ip_prefix, remote_group_id, description, rule_key, created_at, updated_at, revision_number";

fn rule_of(row: &sqlx::any::AnyRow) -> NeutronResult<Rule> {
    Ok(Rule {
        id: row.s("id")?,
        project_id: row.s("project_id")?,
        security_group_id: row.s("security_group_id")?,
        direction: row.s("direction")?,
        ethertype: row.s("ethertype")?,
        protocol: row.os("protocol")?,
        port_range_min: row.oi("port_range_min")?,
        port_range_max: row.oi("port_range_max")?,
        remote_ip_prefix: row.os("remote_ip_prefix")?,
        remote_group_id: row.os("remote_group_id")?,
        description: row.s("description")?,
        rule_key: row.s("rule_key")?,
        created_at: row.i("created_at")?,
        updated_at: row.i("updated_at")?,
        revision_number: row.i("revision_number")?,
    })
}

/// Rules matching `filter` (SQL after WHERE, or None for all), oldest first.
pub async fn load_rules(
    tx: &mut Tx,
    filter: Option<&str>,
    binds: &[Bind<'_>],
) -> NeutronResult<Vec<Rule>> {
    let sql = match filter {
        Some(f) => format!(
            "SELECT {RULE_COLUMNS} FROM security_group_rules WHERE {f} ORDER BY created_at, id"
        ),
        None => format!("SELECT {RULE_COLUMNS} FROM security_group_rules ORDER BY created_at, id"),
    };
    tx.fetch_all(&sql, binds)
        .await?
        .iter()
        .map(rule_of)
        .collect()
}

pub async fn must_get_rule(tx: &mut Tx, id: &str) -> NeutronResult<Rule> {
    load_rules(tx, Some("id = ?"), &[Bind::Text(id)])
        .await?
        .pop()
        .ok_or_else(|| {
            NeutronError::not_found(
                "SecurityGroupRuleNotFound",
                format!("Security group rule {id} does not exist"),
            )
        })
}

/// Groups matching `filter`, with their rules, default flag and tags, oldest first.
pub async fn load(
    tx: &mut Tx,
    filter: Option<&str>,
    binds: &[Bind<'_>],
) -> NeutronResult<Vec<SecurityGroup>> {
    let sql = match filter {
        Some(f) => format!("SELECT id, project_id, name, description, stateful, created_at, updated_at, revision_number FROM security_groups WHERE {f} ORDER BY created_at, id"),
        None => "SELECT id, project_id, name, description, stateful, created_at, updated_at, revision_number FROM security_groups ORDER BY created_at, id".to_string(),
    };
    let mut out = Vec::new();
    for row in tx.fetch_all(&sql, binds).await? {
        out.push(SecurityGroup {
            id: row.s("id")?,
            project_id: row.s("project_id")?,
            name: row.s("name")?,
            description: row.s("description")?,
            stateful: row.b("stateful")?,
            created_at: row.i("created_at")?,
            updated_at: row.i("updated_at")?,
            revision_number: row.i("revision_number")?,
            is_default: false,
            rules: Vec::new(),
            tags: Vec::new(),
        });
    }
    let ids: Vec<String> = out.iter().map(|g| g.id.clone()).collect();
    let mut rules: HashMap<String, Vec<Rule>> = HashMap::new();
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    let mut defaults = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        let binds: Vec<Bind> = chunk.iter().map(|i| Bind::Text(i)).collect();
        let f = format!("security_group_id IN {}", placeholders(chunk.len()));
        for r in load_rules(tx, Some(&f), &binds).await? {
            rules
                .entry(r.security_group_id.clone())
                .or_default()
                .push(r);
        }
        let sql = format!(
            "SELECT security_group_id FROM default_security_groups WHERE security_group_id IN {}",
            placeholders(chunk.len())
        );
        for row in tx.fetch_all(&sql, &binds).await? {
            defaults.insert(row.s("security_group_id")?);
        }
        let sql = format!("SELECT resource_id, tag FROM tags WHERE resource_type = 'security-groups' AND resource_id IN {} ORDER BY tag", placeholders(chunk.len()));
        for row in tx.fetch_all(&sql, &binds).await? {
            tags.entry(row.s("resource_id")?)
                .or_default()
                .push(row.s("tag")?);
        }
    }
    for g in &mut out {
        g.rules = rules.remove(&g.id).unwrap_or_default();
        g.tags = tags.remove(&g.id).unwrap_or_default();
        g.is_default = defaults.contains(&g.id);
    }
    Ok(out)
}

pub async fn get(tx: &mut Tx, id: &str) -> NeutronResult<Option<SecurityGroup>> {
    Ok(load(tx, Some("id = ?"), &[Bind::Text(id)]).await?.pop())
}

pub fn not_found(id: &str) -> NeutronError {
    NeutronError::not_found(
        "SecurityGroupNotFound",
        format!("Security group {id} does not exist"),
    )
}

pub async fn must_get(tx: &mut Tx, id: &str) -> NeutronResult<SecurityGroup> {
    get(tx, id).await?.ok_or_else(|| not_found(id))
}

/// The id of the project's default group, if it has one.
pub async fn default_of(tx: &mut Tx, project_id: &str) -> NeutronResult<Option<String>> {
    let row = tx
        .fetch_optional(
            &tx.latest(
                "SELECT security_group_id FROM default_security_groups WHERE project_id = ?",
            ),
            &[Bind::Text(project_id)],
        )
        .await?;
    row.map(|r| r.s("security_group_id")).transpose()
}

pub async fn set_default(tx: &mut Tx, project_id: &str, group: &str) -> NeutronResult<()> {
    tx.exec(
        "INSERT INTO default_security_groups (project_id, security_group_id) VALUES (?, ?)",
        &[Bind::Text(project_id), Bind::Text(group)],
    )
    .await?;
    Ok(())
}

/// Whether ports use the group.
pub async fn in_use(tx: &mut Tx, id: &str) -> NeutronResult<bool> {
    Ok(tx
        .fetch_optional(
            "SELECT port_id FROM port_security_groups WHERE security_group_id = ?",
            &[Bind::Text(id)],
        )
        .await?
        .is_some())
}
