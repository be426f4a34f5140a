//! Key pairs: public keys (or x509 certificates) belonging to a user, by name.

use super::ids::{insert_with_next_id, is_duplicate};
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPair {
    pub id: i64,
    pub user_id: String,
    pub name: String,
    /// `ssh` or `x509`.
    pub key_type: String,
    pub fingerprint: String,
    pub public_key: String,
    pub created_at: i64,
}

const COLUMNS: &str = "id, user_id, name, key_type, fingerprint, public_key, created_at";

fn from_row(row: &AnyRow) -> Result<KeyPair, ApiError> {
    Ok(KeyPair {
        id: row.int("id")?,
        user_id: row.text("user_id")?,
        name: row.text("name")?,
        key_type: row.text("key_type")?,
        fingerprint: row.text("fingerprint")?,
        public_key: row.text("public_key")?,
        created_at: row.int("created_at")?,
    })
}

/// A user's key pairs ordered by name, as Nova pages them.
pub async fn list(db: &Database, user_id: &str) -> Result<Vec<KeyPair>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM key_pairs WHERE user_id = ? ORDER BY name");
    let rows = sqlx::query(&db.sql(&sql)).bind(user_id.to_string()).fetch_all(&db.pool).await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(db: &Database, user_id: &str, name: &str) -> Result<Option<KeyPair>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM key_pairs WHERE user_id = ? AND name = ?");
    let row = sqlx::query(&db.sql(&sql)).bind(user_id.to_string()).bind(name.to_string()).fetch_optional(&db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

/// How many key pairs a user has (the `key_pairs` quota counts per user).
pub async fn count(db: &Database, user_id: &str) -> Result<i64, ApiError> {
    let (n,): (i64,) = sqlx::query_as(&db.sql("SELECT COUNT(*) FROM key_pairs WHERE user_id = ?")).bind(user_id.to_string()).fetch_one(&db.pool).await?;
    Ok(n)
}

/// Stores a key pair; false when the user already has one of that name.
pub async fn insert(db: &Database, kp: &KeyPair) -> Result<Option<i64>, ApiError> {
    let sql = format!("INSERT INTO key_pairs ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)");
    let sql = db.sql(&sql);
    let inserted = insert_with_next_id(db, "key_pairs", |id| {
        let q = sqlx::query(&sql)
            .bind(id)
            .bind(kp.user_id.clone())
            .bind(kp.name.clone())
            .bind(kp.key_type.clone())
            .bind(kp.fingerprint.clone())
            .bind(kp.public_key.clone())
            .bind(kp.created_at);
        async move { q.execute(&db.pool).await.map(|_| ()) }
    })
    .await;
    match inserted {
        Ok(id) => Ok(Some(id)),
        Err(e) if is_duplicate(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a key pair; false when there was none.
pub async fn delete(db: &Database, user_id: &str, name: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&db.sql("DELETE FROM key_pairs WHERE user_id = ? AND name = ?")).bind(user_id.to_string()).bind(name.to_string()).execute(&db.pool).await?;
    Ok(done.rows_affected() > 0)
}
