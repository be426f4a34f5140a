//! Volume type encryption (Cinder's `encryption` table): at most one record per type.

use monostack_common::ApiError;
use monostack_db::{Database, RowExt};

/// The encryption a volume type asks for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Encryption {
    pub volume_type_id: String,
    pub encryption_id: String,
    pub provider: String,
    pub cipher: Option<String>,
    pub key_size: Option<i64>,
    pub control_location: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "volume_type_id, encryption_id, provider, cipher, key_size, control_location, created_at, updated_at";

/// The encryption of this type, if it has one.
pub async fn get(db: &Database, type_id: &str) -> Result<Option<Encryption>, ApiError> {
    let row = sqlx::query(&db.sql(&format!(
        "SELECT {COLUMNS} FROM encryption WHERE volume_type_id = ?"
    )))
    .bind(type_id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Encryption {
        volume_type_id: row.text("volume_type_id")?,
        encryption_id: row.text("encryption_id")?,
        provider: row.text("provider")?,
        cipher: row.opt_text("cipher")?,
        key_size: row.opt_int("key_size")?,
        control_location: row.text("control_location")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    }))
}

/// Records a new encryption (the caller checked there was none).
pub async fn insert(db: &Database, e: &Encryption) -> Result<(), ApiError> {
    sqlx::query(&db.sql(&format!(
        "INSERT INTO encryption ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )))
    .bind(&e.volume_type_id)
    .bind(&e.encryption_id)
    .bind(&e.provider)
    .bind(&e.cipher)
    .bind(e.key_size)
    .bind(&e.control_location)
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Writes the fields of an existing encryption.
pub async fn update(db: &Database, e: &Encryption) -> Result<(), ApiError> {
    sqlx::query(&db.sql(
        "UPDATE encryption SET provider = ?, cipher = ?, key_size = ?, control_location = ?, updated_at = ? WHERE volume_type_id = ?",
    ))
    .bind(&e.provider)
    .bind(&e.cipher)
    .bind(e.key_size)
    .bind(&e.control_location)
    .bind(e.updated_at)
    .bind(&e.volume_type_id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Removes the encryption of this type.
pub async fn delete(db: &Database, type_id: &str) -> Result<(), ApiError> {
    sqlx::query(&db.sql("DELETE FROM encryption WHERE volume_type_id = ?"))
        .bind(type_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
