//! OAuth1 consumers (`/v3/OS-OAUTH1/consumers`): third-party applications that may ask users
//! for delegated access. The consumer secret signs OAuth1 requests, so it must be recoverable;
//! it is kept encrypted at rest under the credential keys (see `store::credentials`).

use super::{to_json_text, RowExt};
use crate::Identity;
use monostack_common::ApiError;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct Consumer {
    pub id: String,
    pub description: Option<String>,
    /// The plain secret (decrypted on read, encrypted on write).
    pub secret: String,
    pub extra: Map<String, Value>,
}

const COLUMNS: &str = "id, description, secret, extra";

fn from_row(state: &Identity, row: &AnyRow) -> Result<Consumer, ApiError> {
    Ok(Consumer {
        id: row.text("id")?,
        description: row.opt_text("description")?,
        secret: super::credentials::decrypt_secret(state, &row.text("secret")?)?,
        extra: row.json("extra")?,
    })
}

pub async fn get(state: &Identity, id: &str) -> Result<Option<Consumer>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM oauth1_consumers WHERE id = ?");
    let row = sqlx::query(&state.db.sql(&sql)).bind(id).fetch_optional(&state.db.pool).await?;
    row.as_ref().map(|r| from_row(state, r)).transpose()
}

/// Every consumer, ordered by id.
pub async fn list(state: &Identity) -> Result<Vec<Consumer>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM oauth1_consumers ORDER BY id");
    let rows = sqlx::query(&sql).fetch_all(&state.db.pool).await?;
    rows.iter().map(|r| from_row(state, r)).collect()
}

pub async fn insert(state: &Identity, c: &Consumer) -> Result<(), ApiError> {
    let sealed = super::credentials::encrypt_secret(state, &c.secret)?;
    sqlx::query(&state.db.sql(&format!("INSERT INTO oauth1_consumers ({COLUMNS}) VALUES (?, ?, ?, ?)")))
        .bind(&c.id)
        .bind(&c.description)
        .bind(sealed)
        .bind(to_json_text(&c.extra))
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

/// Writes the description and extra attributes (the secret never changes).
pub async fn update(state: &Identity, c: &Consumer) -> Result<(), ApiError> {
    sqlx::query(&state.db.sql("UPDATE oauth1_consumers SET description = ?, extra = ? WHERE id = ?"))
        .bind(&c.description)
        .bind(to_json_text(&c.extra))
        .bind(&c.id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

/// Deletes a consumer; false when there was none.
pub async fn delete(state: &Identity, id: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&state.db.sql("DELETE FROM oauth1_consumers WHERE id = ?")).bind(id).execute(&state.db.pool).await?;
    state.changed();
    Ok(done.rows_affected() > 0)
}
