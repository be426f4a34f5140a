//! Service records of the volume scheduler (`cinder-scheduler`, host `<host>`) and of each
//! backend's volume manager (`cinder-volume`, host `<host>@<backend>`), with their heartbeat:
//! a service is up while its `updated_at` is younger than `[volume] service_down_time`.

use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{flag, Database, RowExt};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Service {
    pub id: i64,
    pub host: String,
    pub binary: String,
    pub topic: String,
    pub availability_zone: String,
    pub disabled: bool,
    pub disabled_reason: Option<String>,
    pub report_count: i64,
    pub frozen: bool,
    pub replication_status: Option<String>,
    pub active_backend_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Service {
    /// Whether the last heartbeat is recent enough.
    pub fn is_up(&self, service_down_time_secs: u64) -> bool {
        now_micros() - self.updated_at <= (service_down_time_secs as i64) * 1_000_000
    }
}

const COLUMNS: &str = "id, host, service_binary, topic, availability_zone, disabled, disabled_reason, report_count, frozen, replication_status, active_backend_id, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Service, ApiError> {
    Ok(Service {
        id: row.int("id")?,
        host: row.text("host")?,
        binary: row.text("service_binary")?,
        topic: row.text("topic")?,
        availability_zone: row.text("availability_zone")?,
        disabled: row.flag("disabled")?,
        disabled_reason: row.opt_text("disabled_reason")?,
        report_count: row.int("report_count")?,
        frozen: row.flag("frozen")?,
        replication_status: row.opt_text("replication_status")?,
        active_backend_id: row.opt_text("active_backend_id")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub async fn list(db: &Database) -> Result<Vec<Service>, ApiError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM services ORDER BY id"))
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get_by_host_binary(
    db: &Database,
    host: &str,
    binary: &str,
) -> Result<Option<Service>, ApiError> {
    let row = sqlx::query(&db.sql(&format!(
        "SELECT {COLUMNS} FROM services WHERE host = ? AND service_binary = ?"
    )))
    .bind(host)
    .bind(binary)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Registers (or refreshes the zone of) a service and returns it; its heartbeat starts now.
pub async fn register(
    db: &Database,
    host: &str,
    binary: &str,
    topic: &str,
    zone: &str,
) -> Result<Service, ApiError> {
    let now = now_micros();
    if get_by_host_binary(db, host, binary).await?.is_some() {
        sqlx::query(&db.sql("UPDATE services SET availability_zone = ?, topic = ?, updated_at = ? WHERE host = ? AND service_binary = ?"))
            .bind(zone)
            .bind(topic)
            .bind(now)
            .bind(host)
            .bind(binary)
            .execute(&db.pool)
            .await?;
    } else {
        // Ids are MAX(id) + 1: two services registering at once on PostgreSQL or MariaDB
        // may pick the same; the loser (a unique violation) tries again with the next one, and
        // a service of the same host and binary registered meanwhile is simply taken.
        let mut attempt = 0u64;
        loop {
            match insert_next(db, host, binary, topic, zone, now).await {
                Ok(()) => break,
                Err(e) if e.status == http::StatusCode::CONFLICT && attempt < 50 => {
                    if get_by_host_binary(db, host, binary).await?.is_some() {
                        break;
                    }
                    attempt += 1;
                    // A little jitter, so the racers do not collide again in step.
                    let pause = 1 + (uuid::Uuid::new_v4().as_u128() % 20) as u64;
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
    get_by_host_binary(db, host, binary)
        .await?
        .ok_or_else(|| ApiError::internal(format!("service {binary} on {host} vanished")))
}

async fn insert_next(
    db: &Database,
    host: &str,
    binary: &str,
    topic: &str,
    zone: &str,
    now: i64,
) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    let (max,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM services")
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(&db.sql(&format!(
        "INSERT INTO services ({COLUMNS}) VALUES (?, ?, ?, ?, ?, 0, NULL, 0, 0, NULL, NULL, ?, ?)"
    )))
    .bind(max.unwrap_or(0) + 1)
    .bind(host)
    .bind(binary)
    .bind(topic)
    .bind(zone)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One heartbeat; false when the service record is gone (deleted by an admin).
pub async fn heartbeat(db: &Database, host: &str, binary: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&db.sql("UPDATE services SET report_count = report_count + 1, updated_at = ? WHERE host = ? AND service_binary = ?"))
        .bind(now_micros())
        .bind(host)
        .bind(binary)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Enables or disables a service (os-services enable/disable).
pub async fn set_disabled(
    db: &Database,
    id: i64,
    disabled: bool,
    reason: Option<&str>,
) -> Result<(), ApiError> {
    sqlx::query(&db.sql("UPDATE services SET disabled = ?, disabled_reason = ? WHERE id = ?"))
        .bind(flag(disabled))
        .bind(reason)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Freezes or thaws a volume service (os-services freeze/thaw).
pub async fn set_frozen(db: &Database, id: i64, frozen: bool) -> Result<(), ApiError> {
    sqlx::query(&db.sql("UPDATE services SET frozen = ? WHERE id = ?"))
        .bind(flag(frozen))
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
