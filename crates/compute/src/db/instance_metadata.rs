//! User metadata of instances (`/servers/{id}/metadata`) and the system metadata Nova keeps
//! beside it (image properties at boot, the shelved snapshot, owner names).

use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use std::collections::{BTreeMap, HashMap};

/// Which of the two metadata tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    System,
}

impl Kind {
    fn table(self) -> &'static str {
        match self {
            Kind::User => "instance_metadata",
            Kind::System => "instance_system_metadata",
        }
    }
}

/// All items of one instance.
pub async fn get(db: &Database, kind: Kind, uuid: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let mut all = get_many(db, kind, &[uuid.to_string()]).await?;
    Ok(all.remove(uuid).unwrap_or_default())
}

/// All items of several instances, by instance uuid.
pub async fn get_many(db: &Database, kind: Kind, uuids: &[String]) -> Result<HashMap<String, BTreeMap<String, String>>, ApiError> {
    let mut out: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    let sql = format!("SELECT instance_uuid, meta_key, meta_value FROM {} WHERE instance_uuid IN ({{uuids}})", kind.table());
    for row in super::by_uuids::fetch(db, &sql, uuids).await? {
        let value = row.opt_text("meta_value")?.unwrap_or_default();
        out.entry(row.text("instance_uuid")?).or_default().insert(row.text("meta_key")?, value);
    }
    Ok(out)
}

/// Inserts items of a new instance inside the caller's transaction.
pub async fn insert_all(
    db: &Database,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    kind: Kind,
    uuid: &str,
    items: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    let sql = format!("INSERT INTO {} (instance_uuid, meta_key, meta_value) VALUES (?, ?, ?)", kind.table());
    for (k, v) in items {
        sqlx::query(&db.sql(&sql)).bind(uuid).bind(k.clone()).bind(v.clone()).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Replaces every item of an instance with `items`.
pub async fn replace(db: &Database, kind: Kind, uuid: &str, items: &BTreeMap<String, String>) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    let sql = format!("DELETE FROM {} WHERE instance_uuid = ?", kind.table());
    sqlx::query(&db.sql(&sql)).bind(uuid).execute(&mut *tx).await?;
    insert_all(db, &mut tx, kind, uuid, items).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets (inserts or overwrites) items, leaving the others.
pub async fn set(db: &Database, kind: Kind, uuid: &str, items: &BTreeMap<String, String>) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    let delete = format!("DELETE FROM {} WHERE instance_uuid = ? AND meta_key = ?", kind.table());
    for key in items.keys() {
        sqlx::query(&db.sql(&delete)).bind(uuid).bind(key.clone()).execute(&mut *tx).await?;
    }
    insert_all(db, &mut tx, kind, uuid, items).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes one item; returns whether it existed.
pub async fn delete(db: &Database, kind: Kind, uuid: &str, key: &str) -> Result<bool, ApiError> {
    let sql = format!("DELETE FROM {} WHERE instance_uuid = ? AND meta_key = ?", kind.table());
    Ok(sqlx::query(&db.sql(&sql)).bind(uuid).bind(key).execute(&db.pool).await?.rows_affected() > 0)
}
