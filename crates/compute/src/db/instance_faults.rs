//! Instance faults: why a server went to ERROR (shown as `fault` on ERROR and DELETED servers).

use super::ids::insert_with_next_id;
use futures::TryFutureExt;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct InstanceFault {
    pub instance_uuid: String,
    /// An HTTP-like code: 500 for internal failures (whose details only admins see).
    pub code: i64,
    pub message: String,
    pub details: Option<String>,
    pub host: Option<String>,
    pub created_at: i64,
}

/// Records a fault (the conductor and compute agent record them when an operation fails).
pub async fn add(db: &Database, uuid: &str, code: i64, message: &str, details: Option<&str>, host: Option<&str>) -> Result<(), ApiError> {
    let message: String = message.chars().take(255).collect();
    let sql = db.sql("INSERT INTO instance_faults (id, instance_uuid, code, message, details, host, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
    let now = now_micros();
    insert_with_next_id(db, "instance_faults", |id| {
        sqlx::query(&sql)
            .bind(id)
            .bind(uuid.to_string())
            .bind(code)
            .bind(message.clone())
            .bind(details.map(str::to_string))
            .bind(host.map(str::to_string))
            .bind(now)
            .execute(&db.pool)
            .map_ok(|_| ())
    })
    .await?;
    Ok(())
}

/// The latest fault of each instance.
pub async fn latest_many(db: &Database, uuids: &[String]) -> Result<HashMap<String, InstanceFault>, ApiError> {
    let mut out: HashMap<String, InstanceFault> = HashMap::new();
    let sql = "SELECT instance_uuid, code, message, details, host, created_at FROM instance_faults WHERE instance_uuid IN ({uuids}) ORDER BY id";
    for row in super::by_uuids::fetch(db, sql, uuids).await? {
        let fault = InstanceFault {
            instance_uuid: row.text("instance_uuid")?,
            code: row.int("code")?,
            message: row.text("message")?,
            details: row.opt_text("details")?,
            host: row.opt_text("host")?,
            created_at: row.int("created_at")?,
        };
        out.insert(fault.instance_uuid.clone(), fault);
    }
    Ok(out)
}
