//! Application credentials: a user's delegated, secret-bearing login limited to a project
//! and a subset of the user's roles, optionally expiring and restricted by access rules.

use super::{new_id, RowExt};
use crate::Identity;
use monostack_common::ApiError;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct AppCred {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub description: Option<String>,
    pub user_id: String,
    pub project_id: Option<String>,
    pub expires_at: Option<i64>,
    pub system_scope: Option<String>,
    pub unrestricted: bool,
    pub role_ids: Vec<String>,
    pub access_rule_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccessRule {
    pub id: String,
    pub user_id: String,
    pub service: String,
    pub path: String,
    pub method: String,
}

const COLUMNS: &str = "id, name, secret_hash, description, user_id, project_id, expires_at, system_scope, unrestricted";

fn from_row(row: &AnyRow) -> Result<AppCred, ApiError> {
    Ok(AppCred {
        id: row.text("id")?,
        name: row.text("name")?,
        secret_hash: row.text("secret_hash")?,
        description: row.opt_text("description")?,
        user_id: row.text("user_id")?,
        project_id: row.opt_text("project_id")?,
        expires_at: row.opt_int("expires_at")?,
        system_scope: row.opt_text("system_scope")?,
        unrestricted: row.flag("unrestricted")?,
        role_ids: Vec::new(),
        access_rule_ids: Vec::new(),
    })
}

async fn with_links(state: &Identity, mut cred: AppCred) -> Result<AppCred, ApiError> {
    let roles = sqlx::query(&state.db.sql("SELECT role_id FROM application_credential_roles WHERE application_credential_id = ?"))
        .bind(&cred.id)
        .fetch_all(&state.db.pool)
        .await?;
    cred.role_ids = roles.iter().map(|r| r.text("role_id")).collect::<Result<_, _>>()?;
    let rules = sqlx::query(&state.db.sql(
        "SELECT access_rule_id FROM application_credential_access_rules WHERE application_credential_id = ?",
    ))
    .bind(&cred.id)
    .fetch_all(&state.db.pool)
    .await?;
    cred.access_rule_ids = rules.iter().map(|r| r.text("access_rule_id")).collect::<Result<_, _>>()?;
    Ok(cred)
}

pub async fn get(state: &Identity, id: &str) -> Result<Option<AppCred>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM application_credentials WHERE id = ?");
    let row = sqlx::query(&state.db.sql(&sql)).bind(id).fetch_optional(&state.db.pool).await?;
    match row {
        Some(r) => Ok(Some(with_links(state, from_row(&r)?).await?)),
        None => Ok(None),
    }
}

pub async fn get_by_name(state: &Identity, user_id: &str, name: &str) -> Result<Option<AppCred>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM application_credentials WHERE user_id = ? AND name = ?");
    let row = sqlx::query(&state.db.sql(&sql)).bind(user_id).bind(name).fetch_optional(&state.db.pool).await?;
    match row {
        Some(r) => Ok(Some(with_links(state, from_row(&r)?).await?)),
        None => Ok(None),
    }
}

pub async fn list_for_user(state: &Identity, user_id: &str) -> Result<Vec<AppCred>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM application_credentials WHERE user_id = ? ORDER BY name");
    let rows = sqlx::query(&state.db.sql(&sql)).bind(user_id).fetch_all(&state.db.pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(with_links(state, from_row(r)?).await?);
    }
    Ok(out)
}

/// Stores a credential with its roles and access rules (rules are created when new).
pub async fn insert(state: &Identity, c: &AppCred, new_rules: &[AccessRule]) -> Result<(), ApiError> {
    let mut tx = state.db.begin_write().await?;
    sqlx::query(&state.db.sql(&format!("INSERT INTO application_credentials ({COLUMNS}, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")))
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.secret_hash)
        .bind(&c.description)
        .bind(&c.user_id)
        .bind(&c.project_id)
        .bind(c.expires_at)
        .bind(&c.system_scope)
        .bind(i64::from(c.unrestricted))
        .bind(monostack_common::time::now_micros())
        .execute(&mut *tx)
        .await?;
    for role in &c.role_ids {
        sqlx::query(&state.db.sql("INSERT INTO application_credential_roles (application_credential_id, role_id) VALUES (?, ?)"))
            .bind(&c.id)
            .bind(role)
            .execute(&mut *tx)
            .await?;
    }
    for rule in new_rules {
        sqlx::query(&state.db.sql("INSERT INTO access_rules (id, user_id, service, path, method) VALUES (?, ?, ?, ?, ?)"))
            .bind(&rule.id)
            .bind(&rule.user_id)
            .bind(&rule.service)
            .bind(&rule.path)
            .bind(&rule.method)
            .execute(&mut *tx)
            .await?;
    }
    for rule in &c.access_rule_ids {
        sqlx::query(&state.db.sql("INSERT INTO application_credential_access_rules (application_credential_id, access_rule_id) VALUES (?, ?)"))
            .bind(&c.id)
            .bind(rule)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    state.changed();
    Ok(())
}

pub async fn delete(state: &Identity, id: &str) -> Result<(), ApiError> {
    super::delete_cascade(state, &[
        "DELETE FROM application_credential_roles WHERE application_credential_id = ?",
        "DELETE FROM application_credential_access_rules WHERE application_credential_id = ?",
        "DELETE FROM application_credentials WHERE id = ?",
    ], id).await?;
    Ok(())
}

fn access_rule_from_row(r: &AnyRow) -> Result<AccessRule, ApiError> {
    Ok(AccessRule {
        id: r.text("id")?,
        user_id: r.text("user_id")?,
        service: r.text("service")?,
        path: r.text("path")?,
        method: r.text("method")?,
    })
}

pub async fn list_access_rules(state: &Identity, user_id: &str) -> Result<Vec<AccessRule>, ApiError> {
    let rows = sqlx::query(&state.db.sql("SELECT id, user_id, service, path, method FROM access_rules WHERE user_id = ? ORDER BY id"))
        .bind(user_id)
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter().map(access_rule_from_row).collect()
}

/// Deletes an access rule unless an application credential still uses it (409).
pub async fn delete_access_rule(state: &Identity, id: &str) -> Result<(), ApiError> {
    let used = sqlx::query(&state.db.sql("SELECT application_credential_id FROM application_credential_access_rules WHERE access_rule_id = ?"))
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?;
    if used.is_some() {
        return Err(ApiError::forbidden("Cannot delete access rule in use by an application credential."));
    }
    sqlx::query(&state.db.sql("DELETE FROM access_rules WHERE id = ?")).bind(id).execute(&state.db.pool).await?;
    state.changed();
    Ok(())
}

pub fn new_access_rule(user_id: &str, service: &str, path: &str, method: &str) -> AccessRule {
    AccessRule { id: new_id(), user_id: user_id.into(), service: service.into(), path: path.into(), method: method.into() }
}

pub async fn get_access_rule(state: &Identity, id: &str) -> Result<Option<AccessRule>, ApiError> {
    let row = sqlx::query(&state.db.sql("SELECT id, user_id, service, path, method FROM access_rules WHERE id = ?"))
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?;
    row.as_ref().map(access_rule_from_row).transpose()
}
