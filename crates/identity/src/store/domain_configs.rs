//! Domain-specific configuration options (Keystone's domain config API), stored only:
//! one row per (domain, group, option) with the value JSON-encoded.

use super::RowExt;
use crate::Identity;
use monostack_common::ApiError;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigOption {
    pub group: String,
    pub option: String,
    pub value: Value,
    /// Sensitive options (the LDAP password) are stored but never returned by the API.
    pub sensitive: bool,
}

/// The options of a domain, optionally restricted to a group and an option.
pub async fn list(state: &Identity, domain_id: &str, group: Option<&str>, option: Option<&str>) -> Result<Vec<ConfigOption>, ApiError> {
    let (where_sql, binds) = selection(domain_id, group, option);
    let sql = state.db.sql(&format!(
        "SELECT group_name, option_name, option_value, is_sensitive FROM domain_configs WHERE {where_sql} ORDER BY group_name, option_name"
    ))
    .into_owned();
    let mut query = sqlx::query(&sql);
    for b in binds {
        query = query.bind(b);
    }
    let rows = query.fetch_all(&state.db.pool).await?;
    rows.iter()
        .map(|row| {
            Ok(ConfigOption {
                group: row.text("group_name")?,
                option: row.text("option_name")?,
                value: serde_json::from_str(&row.text("option_value")?).map_err(ApiError::internal)?,
                sensitive: row.flag("is_sensitive")?,
            })
        })
        .collect()
}

/// Writes options; with `replace`, the domain's previous options are all dropped first.
pub async fn save(state: &Identity, domain_id: &str, options: &[ConfigOption], replace: bool) -> Result<(), ApiError> {
    let mut tx = state.db.begin_write().await?;
    if replace {
        sqlx::query(&state.db.sql("DELETE FROM domain_configs WHERE domain_id = ?"))
            .bind(domain_id)
            .execute(&mut *tx)
            .await?;
    }
    for o in options {
        sqlx::query(&state.db.sql("DELETE FROM domain_configs WHERE domain_id = ? AND group_name = ? AND option_name = ?"))
            .bind(domain_id)
            .bind(&o.group)
            .bind(&o.option)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&state.db.sql(
            "INSERT INTO domain_configs (domain_id, group_name, option_name, option_value, is_sensitive) VALUES (?, ?, ?, ?, ?)",
        ))
        .bind(domain_id)
        .bind(&o.group)
        .bind(&o.option)
        .bind(o.value.to_string())
        .bind(i64::from(o.sensitive))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    state.changed();
    Ok(())
}

/// Deletes a domain's options: all of them, a group, or one option.
pub async fn delete(state: &Identity, domain_id: &str, group: Option<&str>, option: Option<&str>) -> Result<(), ApiError> {
    let (where_sql, binds) = selection(domain_id, group, option);
    let sql = state.db.sql(&format!("DELETE FROM domain_configs WHERE {where_sql}")).into_owned();
    let mut query = sqlx::query(&sql);
    for b in binds {
        query = query.bind(b);
    }
    query.execute(&state.db.pool).await?;
    state.changed();
    Ok(())
}

/// The WHERE clause (and its values) picking a domain's options: all, one group, or one option.
fn selection<'a>(domain_id: &'a str, group: Option<&'a str>, option: Option<&'a str>) -> (String, Vec<&'a str>) {
    let mut clause = String::from("domain_id = ?");
    let mut binds = vec![domain_id];
    if let Some(g) = group {
        clause.push_str(" AND group_name = ?");
        binds.push(g);
    }
    if let Some(o) = option {
        clause.push_str(" AND option_name = ?");
        binds.push(o);
    }
    (clause, binds)
}
