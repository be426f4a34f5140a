//! The network info cache of instances: the VIFs with their networks and addresses, as the
//! networking flows record them. It is what `addresses` and `/servers/{id}/ips` show.

use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use serde_json::Value;
use std::collections::HashMap;

/// Creates the (empty) cache of a new instance inside the caller's transaction.
pub async fn insert_empty(db: &Database, tx: &mut sqlx::Transaction<'_, sqlx::Any>, uuid: &str) -> Result<(), ApiError> {
    sqlx::query(&db.sql("INSERT INTO instance_info_caches (instance_uuid, network_info, updated_at) VALUES (?, ?, ?)"))
        .bind(uuid)
        .bind("[]")
        .bind(now_micros())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The cached network info (a JSON list of VIFs in Nova's network model) of several instances.
pub async fn get_many(db: &Database, uuids: &[String]) -> Result<HashMap<String, Value>, ApiError> {
    let mut out = HashMap::new();
    let sql = "SELECT instance_uuid, network_info FROM instance_info_caches WHERE instance_uuid IN ({uuids})";
    for row in super::by_uuids::fetch(db, sql, uuids).await? {
        let info = serde_json::from_str(&row.text("network_info")?).unwrap_or(Value::Array(Vec::new()));
        out.insert(row.text("instance_uuid")?, info);
    }
    Ok(out)
}

/// Replaces the cached network info of an instance (creating the row when missing).
pub async fn set(db: &Database, uuid: &str, network_info: &Value) -> Result<(), ApiError> {
    let text = network_info.to_string();
    let now = now_micros();
    let changed = sqlx::query(&db.sql("UPDATE instance_info_caches SET network_info = ?, updated_at = ? WHERE instance_uuid = ?"))
        .bind(text.clone())
        .bind(now)
        .bind(uuid)
        .execute(&db.pool)
        .await?
        .rows_affected();
    if changed == 0 {
        sqlx::query(&db.sql("INSERT INTO instance_info_caches (instance_uuid, network_info, updated_at) VALUES (?, ?, ?)"))
            .bind(uuid)
            .bind(text)
            .bind(now)
            .execute(&db.pool)
            .await?;
    }
    Ok(())
}
