//! Server tags (microversion 2.26): at most [`MAX_TAGS`] per server.

use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use std::collections::HashMap;

/// Nova's `MAX_TAG_COUNT`.
pub const MAX_TAGS: usize = 50;
/// Nova's `MAX_TAG_LENGTH`.
pub const MAX_TAG_LENGTH: usize = 60;

/// The tags of one server, sorted.
pub async fn list(db: &Database, uuid: &str) -> Result<Vec<String>, ApiError> {
    Ok(list_many(db, &[uuid.to_string()]).await?.remove(uuid).unwrap_or_default())
}

/// The tags of several servers, by uuid.
pub async fn list_many(db: &Database, uuids: &[String]) -> Result<HashMap<String, Vec<String>>, ApiError> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    let sql = "SELECT instance_uuid, tag FROM instance_tags WHERE instance_uuid IN ({uuids}) ORDER BY tag";
    for row in super::by_uuids::fetch(db, sql, uuids).await? {
        out.entry(row.text("instance_uuid")?).or_default().push(row.text("tag")?);
    }
    Ok(out)
}

/// Inserts the tags of a new server inside the caller's transaction.
pub async fn insert_all(db: &Database, tx: &mut sqlx::Transaction<'_, sqlx::Any>, uuid: &str, tags: &[String]) -> Result<(), ApiError> {
    let mut seen = std::collections::BTreeSet::new();
    for tag in tags.iter().filter(|t| seen.insert(t.as_str())) {
        sqlx::query(&db.sql("INSERT INTO instance_tags (instance_uuid, tag) VALUES (?, ?)"))
            .bind(uuid)
            .bind(tag.clone())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Adds one tag (no-op when present); returns whether it was added.
pub async fn add(db: &Database, uuid: &str, tag: &str) -> Result<bool, ApiError> {
    if exists(db, uuid, tag).await? {
        return Ok(false);
    }
    sqlx::query(&db.sql("INSERT INTO instance_tags (instance_uuid, tag) VALUES (?, ?)")).bind(uuid).bind(tag).execute(&db.pool).await?;
    Ok(true)
}

pub async fn exists(db: &Database, uuid: &str, tag: &str) -> Result<bool, ApiError> {
    let row = sqlx::query(&db.sql("SELECT tag FROM instance_tags WHERE instance_uuid = ? AND tag = ?"))
        .bind(uuid)
        .bind(tag)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.is_some())
}

/// Replaces all tags of a server.
pub async fn replace(db: &Database, uuid: &str, tags: &[String]) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(&db.sql("DELETE FROM instance_tags WHERE instance_uuid = ?")).bind(uuid).execute(&mut *tx).await?;
    insert_all(db, &mut tx, uuid, tags).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes one tag; returns whether it existed.
pub async fn delete(db: &Database, uuid: &str, tag: &str) -> Result<bool, ApiError> {
    let sql = "DELETE FROM instance_tags WHERE instance_uuid = ? AND tag = ?";
    Ok(sqlx::query(&db.sql(sql)).bind(uuid).bind(tag).execute(&db.pool).await?.rows_affected() > 0)
}
