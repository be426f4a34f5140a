//! The pools each volume manager reports (Cinder's `update_service_capabilities`), kept in
//! the database rather than in the schedulers' memory so that any scheduler, started any
//! time, sees every backend. One row per pool: `host@backend#pool`, its backend, the report
//! (capacities and capabilities, as JSON) and when it was made.

use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct PoolRecord {
    /// `host@backend#pool`.
    pub name: String,
    /// `host@backend`.
    pub backend: String,
    pub capabilities: Value,
    pub updated_at: i64,
}

/// Replaces the pools of `backend` with `pools` ((pool name, capabilities)).
pub async fn report(
    db: &Database,
    backend: &str,
    pools: &[(String, Value)],
) -> Result<(), ApiError> {
    let now = now_micros();
    let mut tx = db.begin_write().await?;
    sqlx::query(&db.sql("DELETE FROM volume_pools WHERE backend = ?"))
        .bind(backend)
        .execute(&mut *tx)
        .await?;
    for (name, caps) in pools {
        sqlx::query(&db.sql("INSERT INTO volume_pools (name, backend, capabilities, updated_at) VALUES (?, ?, ?, ?)"))
            .bind(name)
            .bind(backend)
            .bind(caps.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn list(db: &Database) -> Result<Vec<PoolRecord>, ApiError> {
    let rows = sqlx::query(
        "SELECT name, backend, capabilities, updated_at FROM volume_pools ORDER BY name",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PoolRecord {
                name: r.text("name")?,
                backend: r.text("backend")?,
                capabilities: serde_json::from_str(&r.text("capabilities")?)
                    .map_err(ApiError::internal)?,
                updated_at: r.int("updated_at")?,
            })
        })
        .collect()
}
