//! Services (`nova-compute`, `nova-conductor`, `nova-scheduler`) and their heartbeats: the
//! conductor registers each service when it starts and records its heartbeat every
//! `report_interval`; a service is up while its last heartbeat is younger than
//! `service_down_time` and nobody forced it down.

use super::ids::{insert_with_next_id, is_duplicate};
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{flag, Database, RowExt};
use sqlx::any::AnyRow;

/// The binary of compute services, the only ones the services API may update.
pub const COMPUTE_BINARY: &str = "nova-compute";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: i64,
    pub uuid: String,
    pub host: String,
    pub binary: String,
    pub topic: Option<String>,
    pub report_count: i64,
    pub disabled: bool,
    pub disabled_reason: Option<String>,
    pub forced_down: bool,
    pub last_seen_up: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

impl Service {
    /// Whether this service runs instances (Nova decides by the `compute` topic).
    pub fn is_compute(&self) -> bool {
        self.binary == COMPUTE_BINARY || self.topic.as_deref() == Some("compute")
    }
}

const COLUMNS: &str = "id, uuid, host, binary_name, topic, report_count, disabled, disabled_reason, forced_down, last_seen_up, version, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Service, ApiError> {
    Ok(Service {
        id: row.int("id")?,
        uuid: row.text("uuid")?,
        host: row.text("host")?,
        binary: row.text("binary_name")?,
        topic: row.opt_text("topic")?,
        report_count: row.int("report_count")?,
        disabled: row.flag("disabled")?,
        disabled_reason: row.opt_text("disabled_reason")?,
        forced_down: row.flag("forced_down")?,
        last_seen_up: row.opt_int("last_seen_up")?,
        version: row.int("version")?,
        created_at: row.int("created_at")?,
        updated_at: row.opt_int("updated_at")?,
    })
}

/// Whether `service` is up at `now` (epoch µs): not forced down, and its last heartbeat (or,
/// before the first one, its creation) at most `service_down_time` seconds old.
pub fn is_up(service: &Service, service_down_time: u64, now: i64) -> bool {
    if service.forced_down {
        return false;
    }
    let last = service.last_seen_up.unwrap_or(service.created_at);
    let window = i64::try_from(service_down_time).unwrap_or(i64::MAX / 1_000_000).saturating_mul(1_000_000);
    (now - last).abs() <= window
}

/// The live service of `binary` on `host`, created (enabled, never seen up) when there is
/// none. `topic` is the bus topic it listens on (`compute` for compute services); `version`
/// its service version.
pub async fn register(db: &Database, host: &str, binary: &str, topic: &str, version: i64) -> Result<Service, ApiError> {
    if let Some(existing) = by_host_and_binary(db, host, binary).await? {
        if existing.version != version {
            sqlx::query(&db.sql("UPDATE services SET version = ?, updated_at = ? WHERE id = ?"))
                .bind(version)
                .bind(now_micros())
                .bind(existing.id)
                .execute(&db.pool)
                .await?;
            return Ok(Service { version, ..existing });
        }
        return Ok(existing);
    }
    let uuid = uuid::Uuid::new_v4().to_string();
    let now = now_micros();
    let sql = format!("INSERT INTO services ({COLUMNS}, deleted) VALUES (?, ?, ?, ?, ?, 0, 0, NULL, 0, NULL, ?, ?, NULL, 0)");
    let sql = db.sql(&sql);
    let inserted = insert_with_next_id(db, "services", |id| {
        let q = sqlx::query(&sql).bind(id).bind(uuid.clone()).bind(host.to_string()).bind(binary.to_string()).bind(topic.to_string()).bind(version).bind(now);
        async move { q.execute(&db.pool).await.map(|_| ()) }
    })
    .await;
    match inserted {
        Ok(_) => {}
        // Another process registered the same service first: use theirs.
        Err(e) if is_duplicate(&e) => {}
        Err(e) => return Err(e.into()),
    }
    let service = by_host_and_binary(db, host, binary).await?;
    service.ok_or_else(|| ApiError::internal(format!("service {binary} on {host} vanished while registering")))
}

/// Records a heartbeat: one more report, seen up now. False when the service was deleted
/// (its process should register again).
pub async fn heartbeat(db: &Database, id: i64) -> Result<bool, ApiError> {
    let now = now_micros();
    let done = sqlx::query(&db.sql("UPDATE services SET report_count = report_count + 1, last_seen_up = ?, updated_at = ? WHERE id = ? AND deleted = 0"))
        .bind(now)
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Live services, optionally only those on `host` and/or of `binary`, by id.
pub async fn list(db: &Database, host: Option<&str>, binary: Option<&str>) -> Result<Vec<Service>, ApiError> {
    let mut sql = format!("SELECT {COLUMNS} FROM services WHERE deleted = 0");
    if host.is_some() {
        sql.push_str(" AND host = ?");
    }
    if binary.is_some() {
        sql.push_str(" AND binary_name = ?");
    }
    sql.push_str(" ORDER BY id");
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql);
    for v in [host, binary].into_iter().flatten() {
        q = q.bind(v.to_string());
    }
    q.fetch_all(&db.pool).await?.iter().map(from_row).collect()
}

pub async fn by_host_and_binary(db: &Database, host: &str, binary: &str) -> Result<Option<Service>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM services WHERE host = ? AND binary_name = ? AND deleted = 0");
    let row = sqlx::query(&db.sql(&sql)).bind(host.to_string()).bind(binary.to_string()).fetch_optional(&db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_id(db: &Database, id: i64) -> Result<Option<Service>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM services WHERE id = ? AND deleted = 0");
    let row = sqlx::query(&db.sql(&sql)).bind(id).fetch_optional(&db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_uuid(db: &Database, uuid: &str) -> Result<Option<Service>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM services WHERE uuid = ? AND deleted = 0");
    let row = sqlx::query(&db.sql(&sql)).bind(uuid.to_string()).fetch_optional(&db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

/// Saves the operator-set state of a service: enabled or disabled (with a reason), forced down.
pub async fn save_state(db: &Database, service: &Service) -> Result<(), ApiError> {
    sqlx::query(&db.sql("UPDATE services SET disabled = ?, disabled_reason = ?, forced_down = ?, updated_at = ? WHERE id = ?"))
        .bind(flag(service.disabled))
        .bind(service.disabled_reason.clone())
        .bind(flag(service.forced_down))
        .bind(now_micros())
        .bind(service.id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Deletes a service (soft: the row keeps its id, so ids are never reused).
pub async fn delete(db: &Database, id: i64) -> Result<(), ApiError> {
    let now = now_micros();
    sqlx::query(&db.sql("UPDATE services SET deleted = id, deleted_at = ?, updated_at = ? WHERE id = ?")).bind(now).bind(now).bind(id).execute(&db.pool).await?;
    Ok(())
}

/// How many live instances run on any of `hosts` (a host with instances cannot leave its
/// zone or lose its service).
pub async fn instances_on_hosts(db: &Database, hosts: &[String]) -> Result<i64, ApiError> {
    if hosts.is_empty() {
        return Ok(0);
    }
    let marks = vec!["?"; hosts.len()].join(", ");
    let sql = format!("SELECT COUNT(*) FROM instances WHERE deleted = 0 AND host IN ({marks})");
    let sql = db.sql(&sql);
    let mut q = sqlx::query_as::<_, (i64,)>(&sql);
    for h in hosts {
        q = q.bind(h.clone());
    }
    Ok(q.fetch_one(&db.pool).await?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(last_seen_up: Option<i64>, forced_down: bool) -> Service {
        Service {
            id: 1,
            uuid: "u".into(),
            host: "h".into(),
            binary: COMPUTE_BINARY.into(),
            topic: Some("compute".into()),
            report_count: 0,
            disabled: false,
            disabled_reason: None,
            forced_down,
            last_seen_up,
            version: 1,
            created_at: 0,
            updated_at: None,
        }
    }

    #[test]
    fn up_means_a_recent_heartbeat_and_not_forced_down() {
        let now = 1_000_000_000_000;
        assert!(is_up(&service(Some(now - 59_000_000), false), 60, now));
        assert!(!is_up(&service(Some(now - 61_000_000), false), 60, now));
        assert!(!is_up(&service(Some(now), true), 60, now));
        assert!(!is_up(&service(None, false), 60, now), "never seen: judged by its creation long ago");
    }
}
