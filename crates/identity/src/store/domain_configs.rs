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
    let mut sql = String::from("SELECT group_name, option_name, option_value, is_sensitive FROM domain_configs WHERE domain_id = ?");
    if group.is_some() {
        sql.push_str(" AND group_name = ?");
    }
    if option.is_some() {
        sql.push_str(" AND option_name = ?");
    }
    sql.push_str(" ORDER BY group_name, option_name");
    let sql = state.db.sql(&sql);
    let mut query = sqlx::query(&sql).bind(domain_id);
    if let Some(g) = group {
        query = query.bind(g);
    }
    if let Some(o) = option {
        query = query.bind(o);
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
    let mut tx = state.db.pool.begin().await?;
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
    let mut sql = String::from("DELETE FROM domain_configs WHERE domain_id = ?");
    if group.is_some() {
        sql.push_str(" AND group_name = ?");
    }
    if option.is_some() {
        sql.push_str(" AND option_name = ?");
    }
    let sql = state.db.sql(&sql);
    let mut query = sqlx::query(&sql).bind(domain_id);
    if let Some(g) = group {
        query = query.bind(g);
    }
    if let Some(o) = option {
        query = query.bind(o);
    }
    query.execute(&state.db.pool).await?;
    state.changed();
    Ok(())
}
