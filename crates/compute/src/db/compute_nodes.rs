//! Compute nodes (hypervisors) as the resource tracker reports them: one row per hypervisor
//! of a compute host, created on the first report and refreshed by every later one.

use super::ids::{insert_with_next_id, is_duplicate};
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use sqlx::any::AnyRow;

/// What a resource tracker reports about one hypervisor.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeReport {
    /// The node's stable identity; used when the node is first created (None: a new uuid).
    pub uuid: Option<String>,
    /// The services row of the host's nova-compute.
    pub service_id: Option<i64>,
    pub host: String,
    pub hypervisor_hostname: String,
    pub hypervisor_type: String,
    pub hypervisor_version: i64,
    pub host_ip: Option<String>,
    pub vcpus: i64,
    pub memory_mb: i64,
    pub local_gb: i64,
    pub vcpus_used: i64,
    pub memory_mb_used: i64,
    pub local_gb_used: i64,
    pub running_vms: i64,
    pub current_workload: i64,
    pub disk_available_least: Option<i64>,
    /// JSON (`{"arch": …, "model": …, "vendor": …, "topology": …, "features": […]}`).
    pub cpu_info: String,
    pub cpu_allocation_ratio: f64,
    pub ram_allocation_ratio: f64,
    pub disk_allocation_ratio: f64,
    /// JSON object of further figures, e.g. `{"uptime": "…"}`.
    pub stats: serde_json::Map<String, serde_json::Value>,
}

/// A stored compute node.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputeNode {
    pub id: i64,
    pub uuid: String,
    pub service_id: Option<i64>,
    pub host: String,
    pub hypervisor_hostname: String,
    pub hypervisor_type: String,
    pub hypervisor_version: i64,
    pub host_ip: Option<String>,
    pub vcpus: i64,
    pub memory_mb: i64,
    pub local_gb: i64,
    pub vcpus_used: i64,
    pub memory_mb_used: i64,
    pub local_gb_used: i64,
    pub free_ram_mb: i64,
    pub free_disk_gb: i64,
    pub running_vms: i64,
    pub current_workload: i64,
    pub disk_available_least: Option<i64>,
    pub cpu_info: String,
    pub cpu_allocation_ratio: f64,
    pub ram_allocation_ratio: f64,
    pub disk_allocation_ratio: f64,
    pub stats: serde_json::Map<String, serde_json::Value>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

const COLUMNS: &str = "id, uuid, service_id, host, hypervisor_hostname, hypervisor_type, hypervisor_version, host_ip, vcpus, memory_mb, local_gb, vcpus_used, memory_mb_used, local_gb_used, free_ram_mb, free_disk_gb, running_vms, current_workload, disk_available_least, cpu_info, cpu_allocation_ratio, ram_allocation_ratio, disk_allocation_ratio, stats, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<ComputeNode, ApiError> {
    let float = |col: &str| -> Result<f64, ApiError> { Ok(sqlx::Row::try_get::<f64, _>(row, col)?) };
    Ok(ComputeNode {
        id: row.int("id")?,
        uuid: row.text("uuid")?,
        service_id: row.opt_int("service_id")?,
        host: row.text("host")?,
        hypervisor_hostname: row.text("hypervisor_hostname")?,
        hypervisor_type: row.text("hypervisor_type")?,
        hypervisor_version: row.int("hypervisor_version")?,
        host_ip: row.opt_text("host_ip")?,
        vcpus: row.int("vcpus")?,
        memory_mb: row.int("memory_mb")?,
        local_gb: row.int("local_gb")?,
        vcpus_used: row.int("vcpus_used")?,
        memory_mb_used: row.int("memory_mb_used")?,
        local_gb_used: row.int("local_gb_used")?,
        free_ram_mb: row.int("free_ram_mb")?,
        free_disk_gb: row.int("free_disk_gb")?,
        running_vms: row.int("running_vms")?,
        current_workload: row.int("current_workload")?,
        disk_available_least: row.opt_int("disk_available_least")?,
        cpu_info: row.text("cpu_info")?,
        cpu_allocation_ratio: float("cpu_allocation_ratio")?,
        ram_allocation_ratio: float("ram_allocation_ratio")?,
        disk_allocation_ratio: float("disk_allocation_ratio")?,
        stats: row.json("stats")?,
        created_at: row.int("created_at")?,
        updated_at: row.opt_int("updated_at")?,
    })
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds the reported figures in the order of [`REPORTED`].
fn bind_report<'q>(q: AnyQuery<'q>, r: &NodeReport) -> AnyQuery<'q> {
    q.bind(r.service_id)
        .bind(r.hypervisor_type.clone())
        .bind(r.hypervisor_version)
        .bind(r.host_ip.clone())
        .bind(r.vcpus)
        .bind(r.memory_mb)
        .bind(r.local_gb)
        .bind(r.vcpus_used)
        .bind(r.memory_mb_used)
        .bind(r.local_gb_used)
        .bind(r.memory_mb - r.memory_mb_used)
        .bind(r.local_gb - r.local_gb_used)
        .bind(r.running_vms)
        .bind(r.current_workload)
        .bind(r.disk_available_least)
        .bind(r.cpu_info.clone())
        .bind(r.cpu_allocation_ratio)
        .bind(r.ram_allocation_ratio)
        .bind(r.disk_allocation_ratio)
        .bind(serde_json::Value::Object(r.stats.clone()).to_string())
}

/// The columns a report sets, in [`bind_report`]'s order.
const REPORTED: &[&str] = &[
    "service_id", "hypervisor_type", "hypervisor_version", "host_ip", "vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used",
    "local_gb_used", "free_ram_mb", "free_disk_gb", "running_vms", "current_workload", "disk_available_least", "cpu_info",
    "cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio", "stats",
];

/// Records a report: updates the live node of (host, hypervisor_hostname), or creates it.
/// Returns the node as stored.
pub async fn upsert(db: &Database, report: &NodeReport) -> Result<ComputeNode, ApiError> {
    if let Some(node) = by_host_and_node(db, &report.host, &report.hypervisor_hostname).await? {
        let sets: Vec<String> = REPORTED.iter().map(|c| format!("{c} = ?")).collect();
        let sql = format!("UPDATE compute_nodes SET {}, updated_at = ? WHERE id = ?", sets.join(", "));
        let sql = db.sql(&sql);
        bind_report(sqlx::query(&sql), report).bind(now_micros()).bind(node.id).execute(&db.pool).await?;
    } else {
        let uuid = report.uuid.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let marks = vec!["?"; REPORTED.len()].join(", ");
        let sql = format!(
            "INSERT INTO compute_nodes (id, uuid, host, hypervisor_hostname, {}, mapped, created_at, deleted) VALUES (?, ?, ?, ?, {marks}, 1, ?, 0)",
            REPORTED.join(", ")
        );
        let sql = db.sql(&sql);
        let inserted = insert_with_next_id(db, "compute_nodes", |id| {
            let q = sqlx::query(&sql).bind(id).bind(uuid.clone()).bind(report.host.clone()).bind(report.hypervisor_hostname.clone());
            let q = bind_report(q, report).bind(now_micros());
            async move { q.execute(&db.pool).await.map(|_| ()) }
        })
        .await;
        match inserted {
            Ok(_) => {}
            // A concurrent first report created it; this report updates it.
            Err(e) if is_duplicate(&e) => return Box::pin(upsert(db, report)).await,
            Err(e) => return Err(e.into()),
        }
    }
    by_host_and_node(db, &report.host, &report.hypervisor_hostname)
        .await?
        .ok_or_else(|| ApiError::internal(format!("compute node {} vanished while saving", report.hypervisor_hostname)))
}

pub async fn by_host_and_node(db: &Database, host: &str, hypervisor_hostname: &str) -> Result<Option<ComputeNode>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM compute_nodes WHERE host = ? AND hypervisor_hostname = ? AND deleted = 0");
    let row = sqlx::query(&db.sql(&sql)).bind(host.to_string()).bind(hypervisor_hostname.to_string()).fetch_optional(&db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

/// Every live node, by id.
pub async fn list(db: &Database) -> Result<Vec<ComputeNode>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM compute_nodes WHERE deleted = 0 ORDER BY id");
    sqlx::query(&sql).fetch_all(&db.pool).await?.iter().map(from_row).collect()
}

/// The live nodes of a compute host.
pub async fn by_host(db: &Database, host: &str) -> Result<Vec<ComputeNode>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM compute_nodes WHERE host = ? AND deleted = 0 ORDER BY id");
    sqlx::query(&db.sql(&sql)).bind(host.to_string()).fetch_all(&db.pool).await?.iter().map(from_row).collect()
}

pub async fn by_id(db: &Database, id: i64) -> Result<Option<ComputeNode>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM compute_nodes WHERE id = ? AND deleted = 0");
    let row = sqlx::query(&db.sql(&sql)).bind(id).fetch_optional(&db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_uuid(db: &Database, uuid: &str) -> Result<Option<ComputeNode>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM compute_nodes WHERE uuid = ? AND deleted = 0");
    let row = sqlx::query(&db.sql(&sql)).bind(uuid.to_string()).fetch_optional(&db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

/// Deletes one node (a hypervisor the driver no longer reports).
pub async fn delete(db: &Database, id: i64) -> Result<(), ApiError> {
    sqlx::query(&db.sql("UPDATE compute_nodes SET deleted = id, deleted_at = ? WHERE id = ?")).bind(now_micros()).bind(id).execute(&db.pool).await?;
    Ok(())
}

/// Deletes every node of a host (its compute service was deleted).
pub async fn delete_by_host(db: &Database, host: &str) -> Result<(), ApiError> {
    sqlx::query(&db.sql("UPDATE compute_nodes SET deleted = id, deleted_at = ? WHERE host = ? AND deleted = 0"))
        .bind(now_micros())
        .bind(host.to_string())
        .execute(&db.pool)
        .await?;
    Ok(())
}
