//! Key/value metadata tables: a volume's user metadata (`volume_metadata`), admin metadata
//! (`volume_admin_metadata`: `readonly`, `attached_mode`), image metadata
//! (`volume_glance_metadata`) and a snapshot's metadata (`snapshot_metadata`).

use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use std::collections::BTreeMap;

/// One of the metadata tables, and the column naming its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Volume,
    VolumeAdmin,
    VolumeImage,
    Snapshot,
}

impl Table {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Table::Volume => ("volume_metadata", "volume_id"),
            Table::VolumeAdmin => ("volume_admin_metadata", "volume_id"),
            Table::VolumeImage => ("volume_glance_metadata", "volume_id"),
            Table::Snapshot => ("snapshot_metadata", "snapshot_id"),
        }
    }
}

/// The metadata of one owner.
pub async fn get(
    db: &Database,
    table: Table,
    owner: &str,
) -> Result<BTreeMap<String, String>, ApiError> {
    let (t, col) = table.names();
    let rows = sqlx::query(&db.sql(&format!(
        "SELECT meta_key, meta_value FROM {t} WHERE {col} = ?"
    )))
    .bind(owner)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.text("meta_key")?, r.text("meta_value")?)))
        .collect()
}

/// The metadata of every owner in `owners` (all owners when the table is small enough to
/// read whole is not assumed: one query per call, filtered in the database).
pub async fn get_many(
    db: &Database,
    table: Table,
    owners: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, ApiError> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let (t, col) = table.names();
    for chunk in owners.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!("SELECT {col}, meta_key, meta_value FROM {t} WHERE {col} IN ({marks})");
        let sql = db.sql(&sql);
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(&db.pool).await? {
            out.entry(r.text(col)?)
                .or_default()
                .insert(r.text("meta_key")?, r.text("meta_value")?);
        }
    }
    Ok(out)
}

/// Sets `items`; with `replace_all`, keys not in `items` are removed first.
pub async fn set(
    db: &Database,
    table: Table,
    owner: &str,
    items: &BTreeMap<String, String>,
    replace_all: bool,
) -> Result<(), ApiError> {
    let (t, col) = table.names();
    let mut tx = db.begin_write().await?;
    if replace_all {
        sqlx::query(&db.sql(&format!("DELETE FROM {t} WHERE {col} = ?")))
            .bind(owner)
            .execute(&mut *tx)
            .await?;
    }
    for (k, v) in items {
        if !replace_all {
            sqlx::query(&db.sql(&format!("DELETE FROM {t} WHERE {col} = ? AND meta_key = ?")))
                .bind(owner)
                .bind(k)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(&db.sql(&format!(
            "INSERT INTO {t} ({col}, meta_key, meta_value) VALUES (?, ?, ?)"
        )))
        .bind(owner)
        .bind(k)
        .bind(v)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Removes one key; false when it was not there.
pub async fn delete(db: &Database, table: Table, owner: &str, key: &str) -> Result<bool, ApiError> {
    let (t, col) = table.names();
    let done = sqlx::query(&db.sql(&format!("DELETE FROM {t} WHERE {col} = ? AND meta_key = ?")))
        .bind(owner)
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}
