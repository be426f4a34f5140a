//! The stored scheduling request of each instance (Nova's RequestSpec), read again by the
//! conductor for every move: cold and live migration, evacuation, unshelve.

use crate::request_spec::RequestSpec;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};

/// Stores the spec of a new instance inside the caller's transaction.
pub async fn insert(db: &Database, tx: &mut sqlx::Transaction<'_, sqlx::Any>, uuid: &str, spec: &RequestSpec) -> Result<(), ApiError> {
    let text = serde_json::to_string(spec).map_err(ApiError::internal)?;
    sqlx::query(&db.sql("INSERT INTO request_specs (instance_uuid, spec, updated_at) VALUES (?, ?, ?)"))
        .bind(uuid)
        .bind(text)
        .bind(now_micros())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn get(db: &Database, uuid: &str) -> Result<Option<RequestSpec>, ApiError> {
    let row = sqlx::query(&db.sql("SELECT spec FROM request_specs WHERE instance_uuid = ?")).bind(uuid).fetch_optional(&db.pool).await?;
    match row {
        Some(row) => Ok(Some(serde_json::from_str(&row.text("spec")?).map_err(ApiError::internal)?)),
        None => Ok(None),
    }
}

/// The specs of several instances, by uuid.
pub async fn get_many(db: &Database, uuids: &[String]) -> Result<std::collections::HashMap<String, RequestSpec>, ApiError> {
    let mut out = std::collections::HashMap::new();
    let sql = "SELECT instance_uuid, spec FROM request_specs WHERE instance_uuid IN ({uuids})";
    for row in super::by_uuids::fetch(db, sql, uuids).await? {
        let spec: RequestSpec = serde_json::from_str(&row.text("spec")?).map_err(ApiError::internal)?;
        out.insert(row.text("instance_uuid")?, spec);
    }
    Ok(out)
}

/// Replaces the spec of an instance.
pub async fn save(db: &Database, uuid: &str, spec: &RequestSpec) -> Result<(), ApiError> {
    let text = serde_json::to_string(spec).map_err(ApiError::internal)?;
    sqlx::query(&db.sql("UPDATE request_specs SET spec = ?, updated_at = ? WHERE instance_uuid = ?"))
        .bind(text)
        .bind(now_micros())
        .bind(uuid)
        .execute(&db.pool)
        .await?;
    Ok(())
}
