//! Backup rows, soft-deleted as in Cinder, with conditional status updates.

use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{flag, Database, RowExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// One backup as stored. It serialises to the record `export_record` encodes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Backup {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub volume_id: String,
    pub display_name: Option<String>,
    pub display_description: Option<String>,
    pub status: String,
    pub fail_reason: Option<String>,
    /// GiB of the volume backed up.
    pub size: i64,
    pub object_count: i64,
    pub availability_zone: Option<String>,
    pub container: Option<String>,
    /// The backup driver that holds the data.
    pub service: Option<String>,
    /// The backup service host that made it.
    pub host: Option<String>,
    pub parent_id: Option<String>,
    pub snapshot_id: Option<String>,
    pub data_timestamp: Option<i64>,
    pub restore_volume_id: Option<String>,
    pub num_dependent_backups: i64,
    pub service_metadata: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default)]
    pub deleted: bool,
}

impl Backup {
    pub fn is_incremental(&self) -> bool {
        self.parent_id.is_some()
    }
}

const COLUMNS: &str = "id, project_id, user_id, volume_id, display_name, display_description, status, fail_reason, size, object_count, availability_zone, container, service, host, parent_id, snapshot_id, data_timestamp, restore_volume_id, num_dependent_backups, service_metadata, metadata, created_at, updated_at, deleted";

fn from_row(row: &AnyRow) -> Result<Backup, ApiError> {
    Ok(Backup {
        id: row.text("id")?,
        project_id: row.text("project_id")?,
        user_id: row.text("user_id")?,
        volume_id: row.text("volume_id")?,
        display_name: row.opt_text("display_name")?,
        display_description: row.opt_text("display_description")?,
        status: row.text("status")?,
        fail_reason: row.opt_text("fail_reason")?,
        size: row.int("size")?,
        object_count: row.int("object_count")?,
        availability_zone: row.opt_text("availability_zone")?,
        container: row.opt_text("container")?,
        service: row.opt_text("service")?,
        host: row.opt_text("host")?,
        parent_id: row.opt_text("parent_id")?,
        snapshot_id: row.opt_text("snapshot_id")?,
        data_timestamp: row.opt_int("data_timestamp")?,
        restore_volume_id: row.opt_text("restore_volume_id")?,
        num_dependent_backups: row.int("num_dependent_backups")?,
        service_metadata: row.opt_text("service_metadata")?,
        metadata: row.opt_text("metadata")?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default(),
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        deleted: row.flag("deleted")?,
    })
}

/// Inserts a backup, or brings back a deleted one with the same id (an import of a record
/// exported before the backup was deleted).
pub async fn insert(db: &Database, b: &Backup) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(&db.sql("DELETE FROM backups WHERE id = ? AND deleted = 1"))
        .bind(&b.id)
        .execute(&mut *tx)
        .await?;
    let marks = vec!["?"; 24].join(", ");
    sqlx::query(&db.sql(&format!("INSERT INTO backups ({COLUMNS}) VALUES ({marks})")))
        .bind(&b.id)
        .bind(&b.project_id)
        .bind(&b.user_id)
        .bind(&b.volume_id)
        .bind(&b.display_name)
        .bind(&b.display_description)
        .bind(&b.status)
        .bind(&b.fail_reason)
        .bind(b.size)
        .bind(b.object_count)
        .bind(&b.availability_zone)
        .bind(&b.container)
        .bind(&b.service)
        .bind(&b.host)
        .bind(&b.parent_id)
        .bind(&b.snapshot_id)
        .bind(b.data_timestamp)
        .bind(&b.restore_volume_id)
        .bind(b.num_dependent_backups)
        .bind(&b.service_metadata)
        .bind(serde_json::to_string(&b.metadata).ok())
        .bind(b.created_at)
        .bind(b.updated_at)
        .bind(flag(b.deleted))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The backup with this id that is not deleted.
pub async fn get(db: &Database, id: &str) -> Result<Option<Backup>, ApiError> {
    let row = sqlx::query(&db.sql(&format!("SELECT {COLUMNS} FROM backups WHERE id = ? AND deleted = 0")))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Whether a row with this id exists, deleted or not.
pub async fn exists_deleted(db: &Database, id: &str) -> Result<bool, ApiError> {
    let row = sqlx::query(&db.sql("SELECT id FROM backups WHERE id = ? AND deleted = 1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.is_some())
}

/// Backups that are not deleted: of `project` when given, else of every project.
pub async fn list(db: &Database, project: Option<&str>) -> Result<Vec<Backup>, ApiError> {
    let rows = match project {
        Some(p) => {
            sqlx::query(&db.sql(&format!("SELECT {COLUMNS} FROM backups WHERE deleted = 0 AND project_id = ?")))
                .bind(p)
                .fetch_all(&db.pool)
                .await?
        }
        None => {
            sqlx::query(&format!("SELECT {COLUMNS} FROM backups WHERE deleted = 0"))
                .fetch_all(&db.pool)
                .await?
        }
    };
    rows.iter().map(from_row).collect()
}

/// The backups of one volume that are not deleted.
pub async fn of_volume(db: &Database, volume_id: &str) -> Result<Vec<Backup>, ApiError> {
    let rows = sqlx::query(&db.sql(&format!("SELECT {COLUMNS} FROM backups WHERE deleted = 0 AND volume_id = ?")))
        .bind(volume_id)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Writes back every mutable field if the backup's status is one of `expected` (any when
/// empty). Returns whether it applied.
pub async fn save_if(db: &Database, b: &Backup, expected: &[&str]) -> Result<bool, ApiError> {
    let mut sql = "UPDATE backups SET display_name = ?, display_description = ?, status = ?, fail_reason = ?, size = ?, object_count = ?, container = ?, service = ?, host = ?, parent_id = ?, data_timestamp = ?, restore_volume_id = ?, num_dependent_backups = ?, service_metadata = ?, metadata = ?, updated_at = ? WHERE id = ? AND deleted = 0".to_string();
    if !expected.is_empty() {
        sql.push_str(&format!(" AND status IN ({})", vec!["?"; expected.len()].join(", ")));
    }
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql)
        .bind(&b.display_name)
        .bind(&b.display_description)
        .bind(&b.status)
        .bind(&b.fail_reason)
        .bind(b.size)
        .bind(b.object_count)
        .bind(&b.container)
        .bind(&b.service)
        .bind(&b.host)
        .bind(&b.parent_id)
        .bind(b.data_timestamp)
        .bind(&b.restore_volume_id)
        .bind(b.num_dependent_backups)
        .bind(&b.service_metadata)
        .bind(serde_json::to_string(&b.metadata).ok())
        .bind(now_micros())
        .bind(&b.id);
    for s in expected {
        q = q.bind(s.to_string());
    }
    Ok(q.execute(&db.pool).await?.rows_affected() > 0)
}

/// Sets the status (and fail reason) if the status is one of `expected` (any when empty).
pub async fn set_status(db: &Database, id: &str, expected: &[&str], status: &str, fail_reason: Option<&str>) -> Result<bool, ApiError> {
    let mut sql = "UPDATE backups SET status = ?, fail_reason = ?, updated_at = ? WHERE id = ? AND deleted = 0".to_string();
    if !expected.is_empty() {
        sql.push_str(&format!(" AND status IN ({})", vec!["?"; expected.len()].join(", ")));
    }
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql).bind(status).bind(fail_reason).bind(now_micros()).bind(id);
    for s in expected {
        q = q.bind(s.to_string());
    }
    Ok(q.execute(&db.pool).await?.rows_affected() > 0)
}

/// Adds `delta` to the dependent count of backup `id`.
pub async fn add_dependents(db: &Database, id: &str, delta: i64) -> Result<(), ApiError> {
    sqlx::query(&db.sql("UPDATE backups SET num_dependent_backups = num_dependent_backups + ?, updated_at = ? WHERE id = ? AND deleted = 0"))
        .bind(delta)
        .bind(now_micros())
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Marks the backup deleted.
pub async fn destroy(db: &Database, id: &str) -> Result<(), ApiError> {
    let now = now_micros();
    sqlx::query(&db.sql("UPDATE backups SET deleted = 1, deleted_at = ?, status = 'deleted', updated_at = ? WHERE id = ?"))
        .bind(now)
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Backups of `project` counted against its quota: (count, GiB).
pub async fn usage(db: &Database, project: &str) -> Result<(i64, i64), ApiError> {
    let list = list(db, Some(project)).await?;
    Ok((list.len() as i64, list.iter().map(|b| b.size).sum()))
}

/// The record of a backup as JSON (`export_record`'s payload).
pub fn to_record(b: &Backup) -> Value {
    serde_json::to_value(b).unwrap_or(Value::Null)
}
