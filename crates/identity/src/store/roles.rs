//! Roles (global, or specific to a domain) and implied roles.

use super::{new_id, to_json_text, RowExt, NULL_DOMAIN};
use crate::Identity;
use monostack_common::ApiError;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub id: String,
    pub name: String,
    /// None for a global role.
    pub domain_id: Option<String>,
    pub description: String,
    pub options: Map<String, Value>,
    pub extra: Map<String, Value>,
}

const COLUMNS: &str = "id, name, domain_id, description, options, extra";

fn from_row(row: &AnyRow) -> Result<Role, ApiError> {
    let domain = row.text("domain_id")?;
    Ok(Role {
        id: row.text("id")?,
        name: row.text("name")?,
        domain_id: (domain != NULL_DOMAIN).then_some(domain),
        description: row.opt_text("description")?.unwrap_or_default(),
        options: row.json("options")?,
        extra: row.json("extra")?,
    })
}

impl Role {
    pub fn new(name: &str, domain_id: Option<String>) -> Self {
        Role {
            id: new_id(),
            name: name.into(),
            domain_id,
            description: String::new(),
            options: Map::new(),
            extra: Map::new(),
        }
    }
}

pub async fn get(state: &Identity, id: &str) -> Result<Option<Role>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM roles WHERE id = ?");
    let row = sqlx::query(&state.db.sql(&sql)).bind(id).fetch_optional(&state.db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

/// A global role (`domain_id` None) or a domain's role by name.
pub async fn get_by_name(state: &Identity, name: &str, domain_id: Option<&str>) -> Result<Option<Role>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM roles WHERE name = ? AND domain_id = ?");
    let row = sqlx::query(&state.db.sql(&sql))
        .bind(name)
        .bind(domain_id.unwrap_or(NULL_DOMAIN))
        .fetch_optional(&state.db.pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every role, ordered by name.
pub async fn list(state: &Identity) -> Result<Vec<Role>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM roles ORDER BY name, id");
    let rows = sqlx::query(&sql).fetch_all(&state.db.pool).await?;
    rows.iter().map(from_row).collect()
}

pub async fn insert(state: &Identity, r: &Role) -> Result<(), ApiError> {
    sqlx::query(&state.db.sql(&format!("INSERT INTO roles ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)")))
        .bind(&r.id)
        .bind(&r.name)
        .bind(r.domain_id.as_deref().unwrap_or(NULL_DOMAIN))
        .bind(&r.description)
        .bind(to_json_text(&r.options))
        .bind(to_json_text(&r.extra))
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

pub async fn update(state: &Identity, r: &Role) -> Result<(), ApiError> {
    sqlx::query(&state.db.sql("UPDATE roles SET name = ?, description = ?, options = ?, extra = ? WHERE id = ?"))
        .bind(&r.name)
        .bind(&r.description)
        .bind(to_json_text(&r.options))
        .bind(to_json_text(&r.extra))
        .bind(&r.id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

/// Deletes a role with its assignments and implications.
pub async fn delete(state: &Identity, id: &str) -> Result<(), ApiError> {
    super::delete_cascade(state, &[
        "DELETE FROM assignments WHERE role_id = ?",
        "DELETE FROM implied_roles WHERE prior_role_id = ? OR implied_role_id = ?",
        "DELETE FROM application_credential_roles WHERE role_id = ?",
        "DELETE FROM trust_roles WHERE role_id = ?",
        "DELETE FROM roles WHERE id = ?",
    ], id).await?;
    Ok(())
}

/// Every (prior, implied) pair.
pub async fn implications(state: &Identity) -> Result<Vec<(String, String)>, ApiError> {
    let rows = sqlx::query("SELECT prior_role_id, implied_role_id FROM implied_roles ORDER BY prior_role_id, implied_role_id")
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter().map(|r| Ok((r.text("prior_role_id")?, r.text("implied_role_id")?))).collect()
}

pub async fn add_implication(state: &Identity, prior: &str, implied: &str) -> Result<(), ApiError> {
    sqlx::query(&state.db.sql("INSERT INTO implied_roles (prior_role_id, implied_role_id) VALUES (?, ?)"))
        .bind(prior)
        .bind(implied)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

/// Removes an implication; false when it did not exist.
pub async fn remove_implication(state: &Identity, prior: &str, implied: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&state.db.sql("DELETE FROM implied_roles WHERE prior_role_id = ? AND implied_role_id = ?"))
        .bind(prior)
        .bind(implied)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(done.rows_affected() > 0)
}

/// Expands role ids with everything they imply, transitively (cycles are harmless).
pub fn expand_implied(direct: &[String], implications: &[(String, String)]) -> Vec<String> {
    let mut graph: HashMap<&str, Vec<&str>> = HashMap::new();
    for (prior, implied) in implications {
        graph.entry(prior.as_str()).or_default().push(implied.as_str());
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut order = Vec::new();
    let mut stack: Vec<&str> = direct.iter().map(String::as_str).collect();
    while let Some(id) = stack.pop() {
        if seen.insert(id.to_string()) {
            order.push(id.to_string());
            if let Some(next) = graph.get(id) {
                stack.extend(next.iter().copied());
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    #[test]
    fn implied_roles_expand_transitively() {
        let imp = vec![("admin".to_string(), "member".to_string()), ("member".to_string(), "reader".to_string()), ("reader".to_string(), "admin".to_string())];
        let mut got = super::expand_implied(&["admin".to_string()], &imp);
        got.sort();
        assert_eq!(got, vec!["admin", "member", "reader"]);
    }
}
