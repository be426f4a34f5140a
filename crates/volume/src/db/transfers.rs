//! Volume transfers (Cinder's `transfers` table): a volume offered to whoever shows the
//! transfer's id and auth key. Soft-deleted when accepted or cancelled.

use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{flag, Database, RowExt};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Transfer {
    pub id: String,
    pub volume_id: String,
    pub display_name: Option<String>,
    pub salt: String,
    pub crypt_hash: String,
    pub source_project_id: String,
    pub destination_project_id: Option<String>,
    pub accepted: bool,
    pub no_snapshots: bool,
    pub created_at: i64,
}

const COLUMNS: &str = "id, volume_id, display_name, salt, crypt_hash, source_project_id, destination_project_id, accepted, no_snapshots, created_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Transfer, ApiError> {
    Ok(Transfer {
        id: row.text("id")?,
        volume_id: row.text("volume_id")?,
        display_name: row.opt_text("display_name")?,
        salt: row.text("salt")?,
        crypt_hash: row.text("crypt_hash")?,
        source_project_id: row.text("source_project_id")?,
        destination_project_id: row.opt_text("destination_project_id")?,
        accepted: row.flag("accepted")?,
        no_snapshots: row.flag("no_snapshots")?,
        created_at: row.int("created_at")?,
    })
}

pub async fn get(db: &Database, id: &str) -> Result<Option<Transfer>, ApiError> {
    let row = sqlx::query(&db.sql(&format!(
        "SELECT {COLUMNS} FROM transfers WHERE id = ? AND deleted = 0"
    )))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The open transfers, of one source project or (None) all.
pub async fn list(db: &Database, project: Option<&str>) -> Result<Vec<Transfer>, ApiError> {
    let rows = match project {
        Some(p) => {
            sqlx::query(&db.sql(&format!(
                "SELECT {COLUMNS} FROM transfers WHERE deleted = 0 AND source_project_id = ? ORDER BY created_at, id"
            )))
            .bind(p)
            .fetch_all(&db.pool)
            .await?
        }
        None => {
            sqlx::query(&db.sql(&format!(
                "SELECT {COLUMNS} FROM transfers WHERE deleted = 0 ORDER BY created_at, id"
            )))
            .fetch_all(&db.pool)
            .await?
        }
    };
    rows.iter().map(from_row).collect()
}

/// Records the transfer and sets the volume `awaiting-transfer` (from `available`); false when
/// the volume was no longer available.
pub async fn create(db: &Database, t: &Transfer) -> Result<bool, ApiError> {
    let mut tx = db.begin_write().await?;
    let now = now_micros();
    let done = sqlx::query(&db.sql(
        "UPDATE volumes SET status = 'awaiting-transfer', updated_at = ? WHERE id = ? AND status = 'available' AND deleted = 0",
    ))
    .bind(now)
    .bind(&t.volume_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(&db.sql(&format!(
        "INSERT INTO transfers ({COLUMNS}, updated_at, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"
    )))
    .bind(&t.id)
    .bind(&t.volume_id)
    .bind(&t.display_name)
    .bind(&t.salt)
    .bind(&t.crypt_hash)
    .bind(&t.source_project_id)
    .bind(&t.destination_project_id)
    .bind(flag(t.accepted))
    .bind(flag(t.no_snapshots))
    .bind(t.created_at)
    .bind(t.created_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Cancels the transfer: the volume goes back to `available`.
pub async fn delete(db: &Database, t: &Transfer) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    let now = now_micros();
    sqlx::query(
        &db.sql("UPDATE transfers SET deleted = 1, deleted_at = ?, updated_at = ? WHERE id = ?"),
    )
    .bind(now)
    .bind(now)
    .bind(&t.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&db.sql(
        "UPDATE volumes SET status = 'available', updated_at = ? WHERE id = ? AND status = 'awaiting-transfer'",
    ))
    .bind(now)
    .bind(&t.volume_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Accepts the transfer: the volume (and its snapshots unless `no_snapshots`) move to the
/// new project and user, the volume becomes `available`. False when the volume was no longer
/// awaiting the transfer.
pub async fn accept(
    db: &Database,
    t: &Transfer,
    project: &str,
    user: &str,
) -> Result<bool, ApiError> {
    let mut tx = db.begin_write().await?;
    let now = now_micros();
    let done = sqlx::query(&db.sql(
        "UPDATE volumes SET status = 'available', project_id = ?, user_id = ?, updated_at = ? WHERE id = ? AND status = 'awaiting-transfer' AND deleted = 0",
    ))
    .bind(project)
    .bind(user)
    .bind(now)
    .bind(&t.volume_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if !t.no_snapshots {
        sqlx::query(&db.sql(
            "UPDATE snapshots SET project_id = ?, user_id = ?, updated_at = ? WHERE volume_id = ? AND deleted = 0",
        ))
        .bind(project)
        .bind(user)
        .bind(now)
        .bind(&t.volume_id)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(&db.sql(
        "UPDATE transfers SET deleted = 1, deleted_at = ?, updated_at = ?, accepted = 1, destination_project_id = ? WHERE id = ?",
    ))
    .bind(now)
    .bind(now)
    .bind(project)
    .bind(&t.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}
