//! Credentials (`/v3/credentials`: ec2, cert, totp… blobs). The blob is stored encrypted at
//! rest with Fernet, under a key repository of its own (`<state_dir>/credential-keys`), so a
//! copy of the database alone does not reveal secrets.

use super::{to_json_text, RowExt};
use crate::fernet::{self, KeyRepository};
use crate::Identity;
use monostack_common::ApiError;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub id: String,
    pub user_id: String,
    pub project_id: Option<String>,
    /// Keystone's `type` (`ec2`, `cert`, `totp`, …).
    pub cred_type: String,
    /// The decrypted blob, exactly as the client gave it.
    pub blob: String,
    pub extra: Map<String, Value>,
}

const COLUMNS: &str = "id, user_id, project_id, credential_type, encrypted_blob, extra";

/// Where the credential encryption keys live.
pub fn key_dir(state: &Identity) -> PathBuf {
    state.config.state_dir().join("credential-keys")
}

/// The credential key repository, created on first use.
fn keys(state: &Identity) -> Result<KeyRepository, ApiError> {
    KeyRepository::setup(&key_dir(state)).map_err(ApiError::internal)
}

fn encrypt(state: &Identity, blob: &str) -> Result<String, ApiError> {
    let keys = keys(state)?;
    let now = u64::try_from(monostack_common::time::now_micros() / 1_000_000).unwrap_or(0);
    Ok(fernet::encrypt(keys.primary(), blob.as_bytes(), now))
}

fn decrypt(keys: &KeyRepository, encrypted: &str) -> Result<String, ApiError> {
    let (plain, _) = fernet::decrypt(keys.all(), encrypted).map_err(|e| ApiError::internal(format!("credential blob: {e}")))?;
    String::from_utf8(plain).map_err(ApiError::internal)
}

/// Encrypts another secret that must stay recoverable (e.g. an OAuth1 consumer secret) under
/// the credential keys.
pub fn encrypt_secret(state: &Identity, plain: &str) -> Result<String, ApiError> {
    encrypt(state, plain)
}

/// Reverses [`encrypt_secret`].
pub fn decrypt_secret(state: &Identity, sealed: &str) -> Result<String, ApiError> {
    decrypt(&keys(state)?, sealed)
}

fn from_row(keys: &KeyRepository, row: &AnyRow) -> Result<Credential, ApiError> {
    Ok(Credential {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        project_id: row.opt_text("project_id")?,
        cred_type: row.text("credential_type")?,
        blob: decrypt(keys, &row.text("encrypted_blob")?)?,
        extra: row.json("extra")?,
    })
}

pub async fn get(state: &Identity, id: &str) -> Result<Option<Credential>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM credentials WHERE id = ?");
    let row = sqlx::query(&state.db.sql(&sql)).bind(id).fetch_optional(&state.db.pool).await?;
    match row {
        Some(row) => Ok(Some(from_row(&keys(state)?, &row)?)),
        None => Ok(None),
    }
}

/// Every credential, ordered by id.
pub async fn list(state: &Identity) -> Result<Vec<Credential>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM credentials ORDER BY id");
    let rows = sqlx::query(&sql).fetch_all(&state.db.pool).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let keys = keys(state)?;
    rows.iter().map(|r| from_row(&keys, r)).collect()
}

/// A user's credentials, optionally of one type.
pub async fn list_for_user(state: &Identity, user_id: &str, cred_type: Option<&str>) -> Result<Vec<Credential>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM credentials WHERE user_id = ? ORDER BY id");
    let rows = sqlx::query(&state.db.sql(&sql)).bind(user_id).fetch_all(&state.db.pool).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let keys = keys(state)?;
    let all = rows.iter().map(|r| from_row(&keys, r)).collect::<Result<Vec<_>, _>>()?;
    Ok(all.into_iter().filter(|c| cred_type.is_none_or(|t| c.cred_type == t)).collect())
}

pub async fn insert(state: &Identity, c: &Credential) -> Result<(), ApiError> {
    let encrypted = encrypt(state, &c.blob)?;
    sqlx::query(&state.db.sql(&format!("INSERT INTO credentials ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)")))
        .bind(&c.id)
        .bind(&c.user_id)
        .bind(&c.project_id)
        .bind(&c.cred_type)
        .bind(encrypted)
        .bind(to_json_text(&c.extra))
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

/// Writes every mutable field (the blob re-encrypted with the current primary key).
pub async fn update(state: &Identity, c: &Credential) -> Result<(), ApiError> {
    let encrypted = encrypt(state, &c.blob)?;
    sqlx::query(&state.db.sql(
        "UPDATE credentials SET user_id = ?, project_id = ?, credential_type = ?, encrypted_blob = ?, extra = ? WHERE id = ?",
    ))
    .bind(&c.user_id)
    .bind(&c.project_id)
    .bind(&c.cred_type)
    .bind(encrypted)
    .bind(to_json_text(&c.extra))
    .bind(&c.id)
    .execute(&state.db.pool)
    .await?;
    state.changed();
    Ok(())
}

/// Deletes a credential; false when there was none.
pub async fn delete(state: &Identity, id: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&state.db.sql("DELETE FROM credentials WHERE id = ?"))
        .bind(id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(done.rows_affected() > 0)
}

/// Deletes the credentials bound to a project (when the project goes away).
pub async fn delete_for_project(state: &Identity, project_id: &str) -> Result<(), ApiError> {
    sqlx::query(&state.db.sql("DELETE FROM credentials WHERE project_id = ?"))
        .bind(project_id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

/// A user's ec2 credentials (type `ec2`, any case), ordered by id.
pub async fn list_ec2_for_user(state: &Identity, user_id: &str) -> Result<Vec<Credential>, ApiError> {
    let all = list_for_user(state, user_id, None).await?;
    Ok(all.into_iter().filter(|c| c.cred_type.eq_ignore_ascii_case("ec2")).collect())
}
