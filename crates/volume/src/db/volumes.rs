//! Volume rows. State changes are conditional updates (`UPDATE … WHERE status IN (…)`), as
//! Cinder's `conditional_update`: two requests racing on one volume cannot both win.

use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{flag, Database, RowExt};
use sqlx::any::AnyRow;

/// One volume as stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Volume {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub display_name: Option<String>,
    pub display_description: Option<String>,
    pub size: i64,
    pub status: String,
    pub previous_status: Option<String>,
    pub attach_status: String,
    pub migration_status: Option<String>,
    pub availability_zone: Option<String>,
    pub volume_type_id: String,
    /// `host@backend#pool` once scheduled.
    pub host: Option<String>,
    pub snapshot_id: Option<String>,
    pub source_volid: Option<String>,
    pub bootable: bool,
    pub multiattach: bool,
    /// Where the driver keeps the volume (the file driver: its directory).
    pub provider_location: Option<String>,
    pub provider_id: Option<String>,
    pub replication_status: Option<String>,
    pub group_id: Option<String>,
    pub encryption_key_id: Option<String>,
    pub service_uuid: Option<String>,
    pub use_quota: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub launched_at: Option<i64>,
    pub terminated_at: Option<i64>,
    pub deleted: bool,
    pub deleted_at: Option<i64>,
}

impl Volume {
    /// The name backends give the volume (`volume-<id>`, Cinder's volume_name_template).
    pub fn name(&self) -> String {
        format!("volume-{}", self.id)
    }

    /// `host@backend` (the volume manager that owns it), from `host@backend#pool`.
    pub fn backend(&self) -> Option<&str> {
        self.host
            .as_deref()
            .map(|h| h.split_once('#').map_or(h, |(b, _)| b))
    }
}

pub const COLUMNS: &str = "id, project_id, user_id, display_name, display_description, size, status, previous_status, attach_status, migration_status, availability_zone, volume_type_id, host, snapshot_id, source_volid, bootable, multiattach, provider_location, provider_id, replication_status, group_id, encryption_key_id, service_uuid, use_quota, created_at, updated_at, launched_at, terminated_at, deleted, deleted_at";

pub fn from_row(row: &AnyRow) -> Result<Volume, ApiError> {
    Ok(Volume {
        id: row.text("id")?,
        project_id: row.text("project_id")?,
        user_id: row.text("user_id")?,
        display_name: row.opt_text("display_name")?,
        display_description: row.opt_text("display_description")?,
        size: row.int("size")?,
        status: row.text("status")?,
        previous_status: row.opt_text("previous_status")?,
        attach_status: row.text("attach_status")?,
        migration_status: row.opt_text("migration_status")?,
        availability_zone: row.opt_text("availability_zone")?,
        volume_type_id: row.text("volume_type_id")?,
        host: row.opt_text("host")?,
        snapshot_id: row.opt_text("snapshot_id")?,
        source_volid: row.opt_text("source_volid")?,
        bootable: row.flag("bootable")?,
        multiattach: row.flag("multiattach")?,
        provider_location: row.opt_text("provider_location")?,
        provider_id: row.opt_text("provider_id")?,
        replication_status: row.opt_text("replication_status")?,
        group_id: row.opt_text("group_id")?,
        encryption_key_id: row.opt_text("encryption_key_id")?,
        service_uuid: row.opt_text("service_uuid")?,
        use_quota: row.flag("use_quota")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        launched_at: row.opt_int("launched_at")?,
        terminated_at: row.opt_int("terminated_at")?,
        deleted: row.flag("deleted")?,
        deleted_at: row.opt_int("deleted_at")?,
    })
}

/// Inserts a new volume.
pub async fn insert(db: &Database, v: &Volume) -> Result<(), ApiError> {
    let marks = vec!["?"; 30].join(", ");
    sqlx::query(&db.sql(&format!("INSERT INTO volumes ({COLUMNS}) VALUES ({marks})")))
        .bind(&v.id)
        .bind(&v.project_id)
        .bind(&v.user_id)
        .bind(&v.display_name)
        .bind(&v.display_description)
        .bind(v.size)
        .bind(&v.status)
        .bind(&v.previous_status)
        .bind(&v.attach_status)
        .bind(&v.migration_status)
        .bind(&v.availability_zone)
        .bind(&v.volume_type_id)
        .bind(&v.host)
        .bind(&v.snapshot_id)
        .bind(&v.source_volid)
        .bind(flag(v.bootable))
        .bind(flag(v.multiattach))
        .bind(&v.provider_location)
        .bind(&v.provider_id)
        .bind(&v.replication_status)
        .bind(&v.group_id)
        .bind(&v.encryption_key_id)
        .bind(&v.service_uuid)
        .bind(flag(v.use_quota))
        .bind(v.created_at)
        .bind(v.updated_at)
        .bind(v.launched_at)
        .bind(v.terminated_at)
        .bind(flag(v.deleted))
        .bind(v.deleted_at)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The volume with this id that is not deleted.
pub async fn get(db: &Database, id: &str) -> Result<Option<Volume>, ApiError> {
    let row = sqlx::query(&db.sql(&format!(
        "SELECT {COLUMNS} FROM volumes WHERE id = ? AND deleted = 0"
    )))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Volumes that are not deleted: of `project` when given, else of every project.
pub async fn list(db: &Database, project: Option<&str>) -> Result<Vec<Volume>, ApiError> {
    let rows = match project {
        Some(p) => {
            sqlx::query(&db.sql(&format!(
                "SELECT {COLUMNS} FROM volumes WHERE deleted = 0 AND project_id = ?"
            )))
            .bind(p)
            .fetch_all(&db.pool)
            .await?
        }
        None => {
            sqlx::query(&format!("SELECT {COLUMNS} FROM volumes WHERE deleted = 0"))
                .fetch_all(&db.pool)
                .await?
        }
    };
    rows.iter().map(from_row).collect()
}

/// Volumes that are not deleted on one backend (`host@backend`, any pool).
pub async fn on_backend(db: &Database, backend: &str) -> Result<Vec<Volume>, ApiError> {
    let rows = sqlx::query(&db.sql(&format!(
        "SELECT {COLUMNS} FROM volumes WHERE deleted = 0 AND (host = ? OR host LIKE ?)"
    )))
    .bind(backend)
    .bind(format!("{backend}#%"))
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// GiB of volumes that are not deleted, per pool (`host@backend#pool`), for the scheduler.
/// Summed here rather than with SQL's SUM, whose result type differs between backends.
pub async fn allocated_per_pool(
    db: &Database,
) -> Result<std::collections::BTreeMap<String, i64>, ApiError> {
    let rows = sqlx::query("SELECT host, size FROM volumes WHERE deleted = 0 AND host IS NOT NULL")
        .fetch_all(&db.pool)
        .await?;
    let mut out = std::collections::BTreeMap::new();
    for r in &rows {
        *out.entry(r.text("host")?).or_insert(0) += r.int("size")?;
    }
    Ok(out)
}

/// What a conditional update sets.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub status: Option<String>,
    pub previous_status: Option<Option<String>>,
    pub attach_status: Option<String>,
    pub host: Option<Option<String>>,
    pub size: Option<i64>,
    pub provider_location: Option<Option<String>>,
    pub availability_zone: Option<String>,
    pub display_name: Option<Option<String>>,
    pub display_description: Option<Option<String>>,
    pub bootable: Option<bool>,
    pub launched_at: Option<i64>,
    pub terminated_at: Option<i64>,
    pub volume_type_id: Option<String>,
}

impl Changes {
    pub fn status(status: &str) -> Self {
        Changes {
            status: Some(status.to_string()),
            ..Default::default()
        }
    }
}

/// Applies `changes` to volume `id` if it is not deleted and its status is one of
/// `expected` (any status when empty). Returns whether it applied.
pub async fn update_if(
    db: &Database,
    id: &str,
    expected: &[&str],
    changes: &Changes,
) -> Result<bool, ApiError> {
    let mut sets: Vec<&str> = vec!["updated_at = ?"];
    let now = now_micros();
    macro_rules! col {
        ($field:ident, $sql:literal) => {
            if changes.$field.is_some() {
                sets.push($sql);
            }
        };
    }
    col!(status, "status = ?");
    col!(previous_status, "previous_status = ?");
    col!(attach_status, "attach_status = ?");
    col!(host, "host = ?");
    col!(size, "size = ?");
    col!(provider_location, "provider_location = ?");
    col!(availability_zone, "availability_zone = ?");
    col!(display_name, "display_name = ?");
    col!(display_description, "display_description = ?");
    col!(bootable, "bootable = ?");
    col!(launched_at, "launched_at = ?");
    col!(terminated_at, "terminated_at = ?");
    col!(volume_type_id, "volume_type_id = ?");
    let mut sql = format!(
        "UPDATE volumes SET {} WHERE id = ? AND deleted = 0",
        sets.join(", ")
    );
    if !expected.is_empty() {
        sql.push_str(&format!(
            " AND status IN ({})",
            vec!["?"; expected.len()].join(", ")
        ));
    }
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql).bind(now);
    if let Some(v) = &changes.status {
        q = q.bind(v.clone());
    }
    if let Some(v) = &changes.previous_status {
        q = q.bind(v.clone());
    }
    if let Some(v) = &changes.attach_status {
        q = q.bind(v.clone());
    }
    if let Some(v) = &changes.host {
        q = q.bind(v.clone());
    }
    if let Some(v) = changes.size {
        q = q.bind(v);
    }
    if let Some(v) = &changes.provider_location {
        q = q.bind(v.clone());
    }
    if let Some(v) = &changes.availability_zone {
        q = q.bind(v.clone());
    }
    if let Some(v) = &changes.display_name {
        q = q.bind(v.clone());
    }
    if let Some(v) = &changes.display_description {
        q = q.bind(v.clone());
    }
    if let Some(v) = changes.bootable {
        q = q.bind(flag(v));
    }
    if let Some(v) = changes.launched_at {
        q = q.bind(v);
    }
    if let Some(v) = changes.terminated_at {
        q = q.bind(v);
    }
    if let Some(v) = &changes.volume_type_id {
        q = q.bind(v.clone());
    }
    q = q.bind(id.to_string());
    for s in expected {
        q = q.bind(s.to_string());
    }
    Ok(q.execute(&db.pool).await?.rows_affected() > 0)
}

/// Marks the volume deleted (soft delete) and drops its metadata.
pub async fn destroy(db: &Database, id: &str) -> Result<(), ApiError> {
    let now = now_micros();
    let mut tx = db.begin_write().await?;
    sqlx::query(&db.sql("UPDATE volumes SET deleted = 1, deleted_at = ?, status = 'deleted', updated_at = ?, terminated_at = ? WHERE id = ?"))
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for table in [
        "volume_metadata",
        "volume_admin_metadata",
        "volume_glance_metadata",
    ] {
        sqlx::query(&db.sql(&format!("DELETE FROM {table} WHERE volume_id = ?")))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Volumes of `project` that count against its quota: (count, GiB), optionally of one type.
pub async fn usage(
    db: &Database,
    project: &str,
    type_id: Option<&str>,
) -> Result<(i64, i64), ApiError> {
    let rows = sqlx::query(&db.sql("SELECT size, volume_type_id FROM volumes WHERE deleted = 0 AND use_quota = 1 AND project_id = ?"))
        .bind(project)
        .fetch_all(&db.pool)
        .await?;
    let (mut n, mut gb) = (0, 0);
    for r in &rows {
        if type_id.is_none_or(|t| r.text("volume_type_id").is_ok_and(|v| v == t)) {
            n += 1;
            gb += r.int("size")?;
        }
    }
    Ok((n, gb))
}

/// Sets (or clears) the migration status.
pub async fn set_migration_status(
    db: &Database,
    id: &str,
    status: Option<String>,
) -> Result<(), ApiError> {
    sqlx::query(&db.sql(
        "UPDATE volumes SET migration_status = ?, updated_at = ? WHERE id = ? AND deleted = 0",
    ))
    .bind(status)
    .bind(now_micros())
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}
