//! Migration records (the compute database's `migrations` table): created by the conductor for
//! every move, advanced by the agents through it, listed by `os-migrations`.

use crate::agent_api::records::MigrationRecord;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_compute::db::ids::insert_with_next_id;
use monostack_db::{Database, RowExt};
use sqlx::any::AnyRow;

const COLUMNS: &str = "id, uuid, instance_uuid, source_compute, source_node, dest_compute, dest_node, dest_host, old_instance_type_id, new_instance_type_id, status, migration_type, project_id, user_id, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<MigrationRecord, ApiError> {
    Ok(MigrationRecord {
        id: row.int("id")?,
        uuid: row.text("uuid")?,
        instance_uuid: row.text("instance_uuid")?,
        source_compute: row.opt_text("source_compute")?,
        source_node: row.opt_text("source_node")?,
        dest_compute: row.opt_text("dest_compute")?,
        dest_node: row.opt_text("dest_node")?,
        dest_host: row.opt_text("dest_host")?,
        old_instance_type_id: row.opt_int("old_instance_type_id")?,
        new_instance_type_id: row.opt_int("new_instance_type_id")?,
        status: row.text("status")?,
        migration_type: row.text("migration_type")?,
        project_id: row.opt_text("project_id")?,
        user_id: row.opt_text("user_id")?,
        created_at: row.int("created_at")?,
        updated_at: row.opt_int("updated_at")?,
    })
}

/// A new migration's fields.
#[derive(Debug, Clone, Default)]
pub struct NewMigration {
    pub instance_uuid: String,
    pub source_compute: Option<String>,
    pub source_node: Option<String>,
    pub old_instance_type_id: Option<i64>,
    pub new_instance_type_id: Option<i64>,
    pub status: String,
    pub migration_type: String,
    pub project_id: Option<String>,
    pub user_id: Option<String>,
}

pub async fn create(db: &Database, m: &NewMigration) -> Result<MigrationRecord, ApiError> {
    let uuid = uuid::Uuid::new_v4().to_string();
    let now = now_micros();
    let sql = db.sql("INSERT INTO migrations (id, uuid, instance_uuid, source_compute, source_node, old_instance_type_id, new_instance_type_id, status, migration_type, hidden, project_id, user_id, created_at, updated_at, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, 0)");
    let id = insert_with_next_id(db, "migrations", |id| {
        let q = sqlx::query(&sql)
            .bind(id)
            .bind(uuid.clone())
            .bind(m.instance_uuid.clone())
            .bind(m.source_compute.clone())
            .bind(m.source_node.clone())
            .bind(m.old_instance_type_id)
            .bind(m.new_instance_type_id)
            .bind(m.status.clone())
            .bind(m.migration_type.clone())
            .bind(m.project_id.clone())
            .bind(m.user_id.clone())
            .bind(now)
            .bind(now);
        async move { q.execute(&db.pool).await.map(|_| ()) }
    })
    .await?;
    get(db, id).await?.ok_or_else(|| ApiError::internal("migration vanished after insert"))
}

pub async fn get(db: &Database, id: i64) -> Result<Option<MigrationRecord>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM migrations WHERE id = ? AND deleted = 0");
    let row = sqlx::query(&db.sql(&sql)).bind(id).fetch_optional(&db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

/// The newest migration of an instance with one of `statuses` and type `migration_type`.
pub async fn latest_of_instance(db: &Database, instance_uuid: &str, migration_type: &str, statuses: &[&str]) -> Result<Option<MigrationRecord>, ApiError> {
    let marks = vec!["?"; statuses.len().max(1)].join(", ");
    let sql = format!("SELECT {COLUMNS} FROM migrations WHERE instance_uuid = ? AND migration_type = ? AND status IN ({marks}) AND deleted = 0 ORDER BY id DESC");
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql).bind(instance_uuid.to_string()).bind(migration_type.to_string());
    for s in statuses {
        q = q.bind(s.to_string());
    }
    let row = q.fetch_optional(&db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn set_status(db: &Database, id: i64, status: &str) -> Result<Option<MigrationRecord>, ApiError> {
    sqlx::query(&db.sql("UPDATE migrations SET status = ?, updated_at = ? WHERE id = ?")).bind(status).bind(now_micros()).bind(id).execute(&db.pool).await?;
    get(db, id).await
}

/// Records where the move goes.
pub async fn set_destination(db: &Database, id: i64, host: &str, node: &str) -> Result<(), ApiError> {
    sqlx::query(&db.sql("UPDATE migrations SET dest_compute = ?, dest_node = ?, dest_host = ?, updated_at = ? WHERE id = ?"))
        .bind(host)
        .bind(node)
        .bind(host)
        .bind(now_micros())
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Migrations from or to `host` in one of `statuses`, optionally last changed before
/// `updated_before`.
pub async fn on_host(db: &Database, host: &str, statuses: &[String], updated_before: Option<i64>) -> Result<Vec<MigrationRecord>, ApiError> {
    if statuses.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; statuses.len()].join(", ");
    let mut sql = format!("SELECT {COLUMNS} FROM migrations WHERE (source_compute = ? OR dest_compute = ?) AND status IN ({marks}) AND deleted = 0");
    if updated_before.is_some() {
        sql.push_str(" AND COALESCE(updated_at, created_at) < ?");
    }
    sql.push_str(" ORDER BY id");
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql).bind(host.to_string()).bind(host.to_string());
    for s in statuses {
        q = q.bind(s.clone());
    }
    if let Some(t) = updated_before {
        q = q.bind(t);
    }
    q.fetch_all(&db.pool).await?.iter().map(from_row).collect()
}
