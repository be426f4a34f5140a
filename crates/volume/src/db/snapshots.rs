//! Snapshot rows, with the same conditional updates as volumes.

use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{flag, Database, RowExt};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    pub id: String,
    pub volume_id: String,
    pub project_id: String,
    pub user_id: String,
    pub display_name: Option<String>,
    pub display_description: Option<String>,
    pub status: String,
    pub progress: Option<String>,
    pub volume_size: i64,
    pub volume_type_id: Option<String>,
    pub provider_location: Option<String>,
    pub group_snapshot_id: Option<String>,
    pub use_quota: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted: bool,
}

impl Snapshot {
    /// The name backends give the snapshot (`snapshot-<id>`, Cinder's snapshot_name_template).
    pub fn name(&self) -> String {
        format!("snapshot-{}", self.id)
    }
}

const COLUMNS: &str = "id, volume_id, project_id, user_id, display_name, display_description, status, progress, volume_size, volume_type_id, provider_location, group_snapshot_id, use_quota, created_at, updated_at, deleted";

fn from_row(row: &AnyRow) -> Result<Snapshot, ApiError> {
    Ok(Snapshot {
        id: row.text("id")?,
        volume_id: row.text("volume_id")?,
        project_id: row.text("project_id")?,
        user_id: row.text("user_id")?,
        display_name: row.opt_text("display_name")?,
        display_description: row.opt_text("display_description")?,
        status: row.text("status")?,
        progress: row.opt_text("progress")?,
        volume_size: row.int("volume_size")?,
        volume_type_id: row.opt_text("volume_type_id")?,
        provider_location: row.opt_text("provider_location")?,
        group_snapshot_id: row.opt_text("group_snapshot_id")?,
        use_quota: row.flag("use_quota")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        deleted: row.flag("deleted")?,
    })
}

pub async fn insert(db: &Database, s: &Snapshot) -> Result<(), ApiError> {
    sqlx::query(&db.sql(&format!(
        "INSERT INTO snapshots ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )))
    .bind(&s.id)
    .bind(&s.volume_id)
    .bind(&s.project_id)
    .bind(&s.user_id)
    .bind(&s.display_name)
    .bind(&s.display_description)
    .bind(&s.status)
    .bind(&s.progress)
    .bind(s.volume_size)
    .bind(&s.volume_type_id)
    .bind(&s.provider_location)
    .bind(&s.group_snapshot_id)
    .bind(flag(s.use_quota))
    .bind(s.created_at)
    .bind(s.updated_at)
    .bind(flag(s.deleted))
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn get(db: &Database, id: &str) -> Result<Option<Snapshot>, ApiError> {
    let row = sqlx::query(&db.sql(&format!(
        "SELECT {COLUMNS} FROM snapshots WHERE id = ? AND deleted = 0"
    )))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Snapshots that are not deleted: of `project` when given, else of every project.
pub async fn list(db: &Database, project: Option<&str>) -> Result<Vec<Snapshot>, ApiError> {
    let rows = match project {
        Some(p) => {
            sqlx::query(&db.sql(&format!(
                "SELECT {COLUMNS} FROM snapshots WHERE deleted = 0 AND project_id = ?"
            )))
            .bind(p)
            .fetch_all(&db.pool)
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM snapshots WHERE deleted = 0"
            ))
            .fetch_all(&db.pool)
            .await?
        }
    };
    rows.iter().map(from_row).collect()
}

/// The snapshots of one volume that are not deleted.
pub async fn of_volume(db: &Database, volume_id: &str) -> Result<Vec<Snapshot>, ApiError> {
    let rows = sqlx::query(&db.sql(&format!(
        "SELECT {COLUMNS} FROM snapshots WHERE deleted = 0 AND volume_id = ?"
    )))
    .bind(volume_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Sets status (and progress, provider location when given) if the status is one of
/// `expected` (any when empty). Returns whether it applied.
pub async fn update_if(
    db: &Database,
    id: &str,
    expected: &[&str],
    status: &str,
    progress: Option<&str>,
    provider_location: Option<&str>,
) -> Result<bool, ApiError> {
    let mut sql = String::from("UPDATE snapshots SET status = ?, updated_at = ?");
    if progress.is_some() {
        sql.push_str(", progress = ?");
    }
    if provider_location.is_some() {
        sql.push_str(", provider_location = ?");
    }
    sql.push_str(" WHERE id = ? AND deleted = 0");
    if !expected.is_empty() {
        sql.push_str(&format!(
            " AND status IN ({})",
            vec!["?"; expected.len()].join(", ")
        ));
    }
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql)
        .bind(status.to_string())
        .bind(now_micros());
    if let Some(p) = progress {
        q = q.bind(p.to_string());
    }
    if let Some(p) = provider_location {
        q = q.bind(p.to_string());
    }
    q = q.bind(id.to_string());
    for s in expected {
        q = q.bind(s.to_string());
    }
    Ok(q.execute(&db.pool).await?.rows_affected() > 0)
}

/// Saves name and description.
pub async fn rename(
    db: &Database,
    id: &str,
    name: &Option<String>,
    description: &Option<String>,
) -> Result<(), ApiError> {
    sqlx::query(&db.sql("UPDATE snapshots SET display_name = ?, display_description = ?, updated_at = ? WHERE id = ? AND deleted = 0"))
        .bind(name)
        .bind(description)
        .bind(now_micros())
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Marks the snapshot deleted and drops its metadata.
pub async fn destroy(db: &Database, id: &str) -> Result<(), ApiError> {
    let now = now_micros();
    let mut tx = db.begin_write().await?;
    sqlx::query(&db.sql("UPDATE snapshots SET deleted = 1, deleted_at = ?, status = 'deleted', updated_at = ? WHERE id = ?")).bind(now).bind(now).bind(id).execute(&mut *tx).await?;
    sqlx::query(&db.sql("DELETE FROM snapshot_metadata WHERE snapshot_id = ?"))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Snapshots of `project` that count against its quota: (count, GiB), optionally of one type.
pub async fn usage(
    db: &Database,
    project: &str,
    type_id: Option<&str>,
) -> Result<(i64, i64), ApiError> {
    let rows = sqlx::query(&db.sql("SELECT volume_size, volume_type_id FROM snapshots WHERE deleted = 0 AND use_quota = 1 AND project_id = ?"))
        .bind(project)
        .fetch_all(&db.pool)
        .await?;
    let (mut n, mut gb) = (0, 0);
    for r in &rows {
        if type_id.is_none_or(|t| {
            r.opt_text("volume_type_id")
                .ok()
                .flatten()
                .is_some_and(|v| v == t)
        }) {
            n += 1;
            gb += r.int("volume_size")?;
        }
    }
    Ok((n, gb))
}
