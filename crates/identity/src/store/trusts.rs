//! Trusts (OS-TRUST): a trustor delegates some of their roles on a project to a trustee,
//! optionally letting the trustee act as them (impersonation), for a limited time or number
//! of uses. Deleting a trust removes it (and its roles) for good.

use super::{to_json_text, RowExt};
use crate::Identity;
use monostack_common::ApiError;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct Trust {
    pub id: String,
    pub trustor_user_id: String,
    pub trustee_user_id: String,
    pub project_id: Option<String>,
    pub impersonation: bool,
    /// Epoch microseconds.
    pub expires_at: Option<i64>,
    /// None: unlimited.
    pub remaining_uses: Option<i64>,
    pub redelegated_trust_id: Option<String>,
    pub redelegation_count: i64,
    pub extra: Map<String, Value>,
    pub created_at: i64,
    /// Delegated role ids, as given at creation (implied roles are added at token time).
    pub role_ids: Vec<String>,
}

impl Trust {
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }

    /// Not expired and with uses left: what Keystone still shows and lets tokens be issued from.
    pub fn is_usable(&self, now: i64) -> bool {
        !self.is_expired(now) && self.remaining_uses.is_none_or(|n| n > 0)
    }
}

const COLUMNS: &str = "id, trustor_user_id, trustee_user_id, project_id, impersonation, expires_at, remaining_uses, redelegated_trust_id, redelegation_count, extra, created_at";

fn from_row(row: &AnyRow) -> Result<Trust, ApiError> {
    Ok(Trust {
        id: row.text("id")?,
        trustor_user_id: row.text("trustor_user_id")?,
        trustee_user_id: row.text("trustee_user_id")?,
        project_id: row.opt_text("project_id")?,
        impersonation: row.flag("impersonation")?,
        expires_at: row.opt_int("expires_at")?,
        remaining_uses: row.opt_int("remaining_uses")?,
        redelegated_trust_id: row.opt_text("redelegated_trust_id")?,
        redelegation_count: row.opt_int("redelegation_count")?.unwrap_or(0),
        extra: row.json("extra")?,
        created_at: row.int("created_at")?,
        role_ids: Vec::new(),
    })
}

async fn role_ids(state: &Identity, trust_id: &str) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query(&state.db.sql("SELECT role_id FROM trust_roles WHERE trust_id = ? ORDER BY role_id"))
        .bind(trust_id)
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter().map(|r| r.text("role_id")).collect()
}

/// A trust with its roles, expired or used up included.
pub async fn get(state: &Identity, id: &str) -> Result<Option<Trust>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM trusts WHERE id = ?");
    let row = sqlx::query(&state.db.sql(&sql)).bind(id).fetch_optional(&state.db.pool).await?;
    let Some(row) = row else { return Ok(None) };
    let mut trust = from_row(&row)?;
    trust.role_ids = role_ids(state, id).await?;
    Ok(Some(trust))
}

/// Every trust (without roles), oldest first.
pub async fn list(state: &Identity) -> Result<Vec<Trust>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM trusts ORDER BY created_at, id");
    let rows = sqlx::query(&sql).fetch_all(&state.db.pool).await?;
    rows.iter().map(from_row).collect()
}

pub async fn insert(state: &Identity, t: &Trust) -> Result<(), ApiError> {
    let mut tx = state.db.begin_write().await?;
    sqlx::query(&state.db.sql(&format!("INSERT INTO trusts ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")))
        .bind(&t.id)
        .bind(&t.trustor_user_id)
        .bind(&t.trustee_user_id)
        .bind(&t.project_id)
        .bind(i64::from(t.impersonation))
        .bind(t.expires_at)
        .bind(t.remaining_uses)
        .bind(&t.redelegated_trust_id)
        .bind(t.redelegation_count)
        .bind(to_json_text(&t.extra))
        .bind(t.created_at)
        .execute(&mut *tx)
        .await?;
    for role_id in &t.role_ids {
        sqlx::query(&state.db.sql("INSERT INTO trust_roles (trust_id, role_id) VALUES (?, ?)"))
            .bind(&t.id)
            .bind(role_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    state.changed();
    Ok(())
}

/// Deletes a trust and its roles; false when it did not exist.
pub async fn delete(state: &Identity, id: &str) -> Result<bool, ApiError> {
    let mut tx = state.db.begin_write().await?;
    sqlx::query(&state.db.sql("DELETE FROM trust_roles WHERE trust_id = ?")).bind(id).execute(&mut *tx).await?;
    let done = sqlx::query(&state.db.sql("DELETE FROM trusts WHERE id = ?")).bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    state.changed();
    Ok(done.rows_affected() > 0)
}

/// Uses the trust once: true when it has no use limit or a use was left (and is now spent).
pub async fn consume_use(state: &Identity, id: &str) -> Result<bool, ApiError> {
    let Some(trust) = get(state, id).await? else { return Ok(false) };
    if trust.remaining_uses.is_none() {
        return Ok(true);
    }
    // Conditional decrement: two concurrent issues cannot both spend the last use.
    let done = sqlx::query(&state.db.sql(
        "UPDATE trusts SET remaining_uses = remaining_uses - 1 WHERE id = ? AND remaining_uses IS NOT NULL AND remaining_uses > 0",
    ))
    .bind(id)
    .execute(&state.db.pool)
    .await?;
    state.changed();
    Ok(done.rows_affected() > 0)
}

/// Ids of the trusts a user is trustor or trustee of.
pub async fn ids_for_user(state: &Identity, user_id: &str) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query(&state.db.sql("SELECT id FROM trusts WHERE trustor_user_id = ? OR trustee_user_id = ?"))
        .bind(user_id)
        .bind(user_id)
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter().map(|r| r.text("id")).collect()
}

/// Removes the trusts a deleted user was trustor or trustee of (as Keystone does).
pub async fn delete_for_user(state: &Identity, user_id: &str) -> Result<(), ApiError> {
    for id in ids_for_user(state, user_id).await? {
        delete(state, &id).await?;
    }
    Ok(())
}

/// Removes the trusts on a deleted project.
pub async fn delete_for_project(state: &Identity, project_id: &str) -> Result<(), ApiError> {
    let rows = sqlx::query(&state.db.sql("SELECT id FROM trusts WHERE project_id = ?"))
        .bind(project_id)
        .fetch_all(&state.db.pool)
        .await?;
    for r in &rows {
        delete(state, &r.text("id")?).await?;
    }
    Ok(())
}
