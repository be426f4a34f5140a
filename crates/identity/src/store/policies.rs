//! Policy blobs (`/v3/policies`): opaque documents of a given type that identity stores and
//! hands back (for services fetching their policy centrally). Identity never interprets them.

use super::{to_json_text, RowExt};
use crate::Identity;
use monostack_common::ApiError;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub id: String,
    /// Keystone's `type` (a MIME type such as `application/json`, by convention).
    pub policy_type: String,
    pub blob: String,
    pub extra: Map<String, Value>,
}

const COLUMNS: &str = "id, policy_type, blob_text, extra";

fn from_row(row: &AnyRow) -> Result<Policy, ApiError> {
    Ok(Policy {
        id: row.text("id")?,
        policy_type: row.text("policy_type")?,
        blob: row.text("blob_text")?,
        extra: row.json("extra")?,
    })
}

pub async fn get(state: &Identity, id: &str) -> Result<Option<Policy>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM policies WHERE id = ?");
    let row = sqlx::query(&state.db.sql(&sql)).bind(id).fetch_optional(&state.db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

/// Every policy, ordered by id.
pub async fn list(state: &Identity) -> Result<Vec<Policy>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM policies ORDER BY id");
    let rows = sqlx::query(&sql).fetch_all(&state.db.pool).await?;
    rows.iter().map(from_row).collect()
}

pub async fn insert(state: &Identity, p: &Policy) -> Result<(), ApiError> {
    sqlx::query(&state.db.sql(&format!("INSERT INTO policies ({COLUMNS}) VALUES (?, ?, ?, ?)")))
        .bind(&p.id)
        .bind(&p.policy_type)
        .bind(&p.blob)
        .bind(to_json_text(&p.extra))
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

/// Writes every mutable field.
pub async fn update(state: &Identity, p: &Policy) -> Result<(), ApiError> {
    sqlx::query(&state.db.sql("UPDATE policies SET policy_type = ?, blob_text = ?, extra = ? WHERE id = ?"))
        .bind(&p.policy_type)
        .bind(&p.blob)
        .bind(to_json_text(&p.extra))
        .bind(&p.id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

/// Deletes a policy; false when there was none.
pub async fn delete(state: &Identity, id: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&state.db.sql("DELETE FROM policies WHERE id = ?")).bind(id).execute(&state.db.pool).await?;
    state.changed();
    Ok(done.rows_affected() > 0)
}
