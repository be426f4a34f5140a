//! Volume attachment rows (`volume_attachment`), soft-deleted when detached as in Cinder. The
//! volume's status and attach_status follow its attachments ([`volume_status_after`]).

use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use serde_json::Value;
use sqlx::any::AnyRow;

/// One attachment as stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attachment {
    pub id: String,
    pub volume_id: String,
    pub instance_uuid: Option<String>,
    pub attached_host: Option<String>,
    pub mountpoint: Option<String>,
    pub attach_time: Option<i64>,
    pub detach_time: Option<i64>,
    /// `rw`, `ro`, or Cinder's literal `null` before a connection sets it.
    pub attach_mode: Option<String>,
    pub attach_status: String,
    pub connector: Option<Value>,
    pub connection_info: Option<Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, volume_id, instance_uuid, attached_host, mountpoint, attach_time, detach_time, attach_mode, attach_status, connector, connection_info, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Attachment, ApiError> {
    Ok(Attachment {
        id: row.text("id")?,
        volume_id: row.text("volume_id")?,
        instance_uuid: row.opt_text("instance_uuid")?,
        attached_host: row.opt_text("attached_host")?,
        mountpoint: row.opt_text("mountpoint")?,
        attach_time: row.opt_int("attach_time")?,
        detach_time: row.opt_int("detach_time")?,
        attach_mode: row.opt_text("attach_mode")?,
        attach_status: row.text("attach_status")?,
        connector: row.opt_json("connector")?,
        connection_info: row.opt_json("connection_info")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub async fn insert(db: &Database, a: &Attachment) -> Result<(), ApiError> {
    sqlx::query(&db.sql(&format!(
        "INSERT INTO volume_attachment ({COLUMNS}, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"
    )))
    .bind(&a.id)
    .bind(&a.volume_id)
    .bind(&a.instance_uuid)
    .bind(&a.attached_host)
    .bind(&a.mountpoint)
    .bind(a.attach_time)
    .bind(a.detach_time)
    .bind(&a.attach_mode)
    .bind(&a.attach_status)
    .bind(a.connector.as_ref().map(Value::to_string))
    .bind(a.connection_info.as_ref().map(Value::to_string))
    .bind(a.created_at)
    .bind(a.updated_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The attachment with this id that is not deleted.
pub async fn get(db: &Database, id: &str) -> Result<Option<Attachment>, ApiError> {
    let row = sqlx::query(&db.sql(&format!("SELECT {COLUMNS} FROM volume_attachment WHERE id = ? AND deleted = 0")))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The attachments of a volume that are not deleted, oldest first.
pub async fn of_volume(db: &Database, volume_id: &str) -> Result<Vec<Attachment>, ApiError> {
    let rows = sqlx::query(&db.sql(&format!(
        "SELECT {COLUMNS} FROM volume_attachment WHERE volume_id = ? AND deleted = 0 ORDER BY created_at, id"
    )))
    .bind(volume_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Every attachment that is not deleted.
pub async fn list(db: &Database) -> Result<Vec<Attachment>, ApiError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM volume_attachment WHERE deleted = 0"))
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Writes back the mutable fields of an attachment.
pub async fn save(db: &Database, a: &Attachment) -> Result<(), ApiError> {
    sqlx::query(&db.sql(
        "UPDATE volume_attachment SET instance_uuid = ?, attached_host = ?, mountpoint = ?, attach_time = ?, detach_time = ?, attach_mode = ?, attach_status = ?, connector = ?, connection_info = ?, updated_at = ? WHERE id = ? AND deleted = 0",
    ))
    .bind(&a.instance_uuid)
    .bind(&a.attached_host)
    .bind(&a.mountpoint)
    .bind(a.attach_time)
    .bind(a.detach_time)
    .bind(&a.attach_mode)
    .bind(&a.attach_status)
    .bind(a.connector.as_ref().map(Value::to_string))
    .bind(a.connection_info.as_ref().map(Value::to_string))
    .bind(now_micros())
    .bind(&a.id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Marks the attachment detached and deleted.
pub async fn destroy(db: &Database, id: &str) -> Result<(), ApiError> {
    let now = now_micros();
    sqlx::query(&db.sql(
        "UPDATE volume_attachment SET attach_status = 'detached', detach_time = ?, deleted = 1, deleted_at = ?, updated_at = ? WHERE id = ? AND deleted = 0",
    ))
    .bind(now)
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The volume's (status, attach_status) its remaining attachments give (Cinder's
/// `_get_statuses_from_attachments`): attachments in an error status are ignored, the first of
/// attached < attaching < detaching < reserved wins, none means detached; attached shows as
/// `in-use` and detached as `available`.
pub fn volume_status_after(remaining: &[Attachment]) -> (String, String) {
    let attach_status = remaining
        .iter()
        .map(|a| a.attach_status.as_str())
        .filter(|s| !s.starts_with("error_"))
        .min()
        .unwrap_or("detached")
        .to_string();
    let status = match attach_status.as_str() {
        "attached" => "in-use".to_string(),
        "detached" => "available".to_string(),
        other => other.to_string(),
    };
    (status, attach_status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(status: &str) -> Attachment {
        Attachment {
            attach_status: status.into(),
            ..Default::default()
        }
    }

    #[test]
    fn volume_status_follows_the_strongest_attachment() {
        assert_eq!(volume_status_after(&[]), ("available".into(), "detached".into()));
        assert_eq!(volume_status_after(&[with("reserved"), with("attached")]), ("in-use".into(), "attached".into()));
        assert_eq!(
            volume_status_after(&[with("reserved"), with("detaching")]),
            ("detaching".into(), "detaching".into())
        );
        assert_eq!(volume_status_after(&[with("error_attaching")]), ("available".into(), "detached".into()));
    }
}
