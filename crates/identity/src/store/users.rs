//! Users, their passwords (bcrypt) and group memberships.

use super::{new_id, to_json_text, RowExt};
use crate::Identity;
use monostack_common::ApiError;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub domain_id: String,
    pub name: String,
    pub enabled: bool,
    pub password_hash: Option<String>,
    pub password_expires_at: Option<i64>,
    pub default_project_id: Option<String>,
    /// Keystone's user options (`ignore_password_expiry`, `multi_factor_auth_rules`, …).
    pub options: Map<String, Value>,
    /// Any other attributes given at create/update (e.g. `email`, `description`).
    pub extra: Map<String, Value>,
}

const COLUMNS: &str =
    "id, domain_id, name, enabled, password_hash, password_expires_at, default_project_id, options, extra";

fn from_row(row: &AnyRow) -> Result<User, ApiError> {
    Ok(User {
        id: row.text("id")?,
        domain_id: row.text("domain_id")?,
        name: row.text("name")?,
        enabled: row.flag("enabled")?,
        password_hash: row.opt_text("password_hash")?,
        password_expires_at: row.opt_int("password_expires_at")?,
        default_project_id: row.opt_text("default_project_id")?,
        options: row.json("options")?,
        extra: row.json("extra")?,
    })
}

impl User {
    pub fn new(name: &str, domain_id: &str) -> Self {
        User {
            id: new_id(),
            domain_id: domain_id.into(),
            name: name.into(),
            enabled: true,
            password_hash: None,
            password_expires_at: None,
            default_project_id: None,
            options: Map::new(),
            extra: Map::new(),
        }
    }
}

/// Hashes a password with bcrypt at the configured cost, off the async threads.
pub async fn hash_password(state: &Identity, password: &str) -> Result<String, ApiError> {
    let cost = state.config.identity.password_hash_rounds;
    let password = password.to_string();
    tokio::task::spawn_blocking(move || bcrypt::hash(password, cost))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// Checks a password against a bcrypt hash, off the async threads.
pub async fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}

pub async fn get(state: &Identity, id: &str) -> Result<Option<User>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ?");
    let row = sqlx::query(&state.db.sql(&sql)).bind(id).fetch_optional(&state.db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get_by_name(state: &Identity, domain_id: &str, name: &str) -> Result<Option<User>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE domain_id = ? AND name = ?");
    let row = sqlx::query(&state.db.sql(&sql))
        .bind(domain_id)
        .bind(name)
        .fetch_optional(&state.db.pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every user, ordered by name.
pub async fn list(state: &Identity) -> Result<Vec<User>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY name, id");
    let rows = sqlx::query(&sql).fetch_all(&state.db.pool).await?;
    rows.iter().map(from_row).collect()
}

pub async fn insert(state: &Identity, u: &User) -> Result<(), ApiError> {
    let now = monostack_common::time::now_micros();
    sqlx::query(&state.db.sql(&format!(
        "INSERT INTO users ({COLUMNS}, password_created_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )))
    .bind(&u.id)
    .bind(&u.domain_id)
    .bind(&u.name)
    .bind(i64::from(u.enabled))
    .bind(&u.password_hash)
    .bind(u.password_expires_at)
    .bind(&u.default_project_id)
    .bind(to_json_text(&u.options))
    .bind(to_json_text(&u.extra))
    .bind(u.password_hash.as_ref().map(|_| now))
    .bind(now)
    .execute(&state.db.pool)
    .await?;
    state.changed();
    Ok(())
}

/// Writes every mutable field (the password hash included).
pub async fn update(state: &Identity, u: &User) -> Result<(), ApiError> {
    sqlx::query(&state.db.sql(
        "UPDATE users SET name = ?, enabled = ?, password_hash = ?, password_expires_at = ?, default_project_id = ?, options = ?, extra = ? WHERE id = ?",
    ))
    .bind(&u.name)
    .bind(i64::from(u.enabled))
    .bind(&u.password_hash)
    .bind(u.password_expires_at)
    .bind(&u.default_project_id)
    .bind(to_json_text(&u.options))
    .bind(to_json_text(&u.extra))
    .bind(&u.id)
    .execute(&state.db.pool)
    .await?;
    state.changed();
    Ok(())
}

/// Deletes a user with their memberships, assignments, application credentials and credentials.
pub async fn delete(state: &Identity, id: &str) -> Result<(), ApiError> {
    super::delete_cascade(state, &[
        "DELETE FROM group_memberships WHERE user_id = ?",
        "DELETE FROM assignments WHERE actor_id = ?",
        "DELETE FROM application_credential_roles WHERE application_credential_id IN (SELECT id FROM application_credentials WHERE user_id = ?)",
        "DELETE FROM application_credential_access_rules WHERE application_credential_id IN (SELECT id FROM application_credentials WHERE user_id = ?)",
        "DELETE FROM application_credentials WHERE user_id = ?",
        "DELETE FROM access_rules WHERE user_id = ?",
        "DELETE FROM credentials WHERE user_id = ?",
        "DELETE FROM users WHERE id = ?",
    ], id).await?;
    Ok(())
}

/// Ids of the groups a user belongs to.
pub async fn group_ids(state: &Identity, user_id: &str) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query(&state.db.sql("SELECT group_id FROM group_memberships WHERE user_id = ?"))
        .bind(user_id)
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter().map(|r| r.text("group_id")).collect()
}

/// The members of a group, ordered by name.
pub async fn list_in_group(state: &Identity, group_id: &str) -> Result<Vec<User>, ApiError> {
    let cols = COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {cols} FROM users u JOIN group_memberships m ON m.user_id = u.id WHERE m.group_id = ? ORDER BY u.name, u.id"
    );
    let rows = sqlx::query(&state.db.sql(&sql)).bind(group_id).fetch_all(&state.db.pool).await?;
    rows.iter().map(from_row).collect()
}
