//! Instance rows: the server record every flow reads and moves through its states. Writes that
//! start an operation compare-and-set the task state (Nova's `expected_task_state`), so two
//! requests racing on one server cannot both start.

use super::flavor_snapshot::InstanceFlavor;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use sqlx::any::AnyRow;

/// One server as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub uuid: String,
    pub id: i64,
    pub display_name: Option<String>,
    pub display_description: Option<String>,
    pub hostname: Option<String>,
    pub project_id: String,
    pub user_id: String,
    pub image_ref: Option<String>,
    pub flavor: InstanceFlavor,
    pub old_flavor: Option<InstanceFlavor>,
    pub new_flavor: Option<InstanceFlavor>,
    pub vm_state: String,
    pub task_state: Option<String>,
    pub power_state: i64,
    pub host: Option<String>,
    pub node: Option<String>,
    pub launched_on: Option<String>,
    pub availability_zone: Option<String>,
    pub key_name: Option<String>,
    pub key_data: Option<String>,
    pub user_data: Option<String>,
    /// "True" or "" as Nova stores it.
    pub config_drive: Option<String>,
    pub locked: bool,
    /// "owner" or "admin": who locked it.
    pub locked_by: Option<String>,
    pub locked_reason: Option<String>,
    pub access_ip_v4: Option<String>,
    pub access_ip_v6: Option<String>,
    pub progress: Option<i64>,
    pub launch_index: Option<i64>,
    pub reservation_id: Option<String>,
    pub root_device_name: Option<String>,
    pub auto_disk_config: bool,
    pub trusted_certs: Option<Vec<String>>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub launched_at: Option<i64>,
    pub terminated_at: Option<i64>,
    pub deleted: bool,
    pub deleted_at: Option<i64>,
}

impl Instance {
    /// Nova's `instance.name`: `instance-%08x` of the integer id.
    pub fn name(&self) -> String {
        format!("instance-{:08x}", self.id)
    }
}

pub const COLUMNS: &str = "uuid, id, display_name, display_description, hostname, project_id, user_id, image_ref, flavor, old_flavor, new_flavor, instance_type_id, vm_state, task_state, power_state, host, node, launched_on, availability_zone, key_name, key_data, user_data, config_drive, locked, locked_by, locked_reason, access_ip_v4, access_ip_v6, progress, launch_index, reservation_id, root_device_name, hidden, trusted_certs, created_at, updated_at, launched_at, terminated_at, deleted, deleted_at, auto_disk_config";

fn opt_flavor(row: &AnyRow, col: &str) -> Result<Option<InstanceFlavor>, ApiError> {
    match row.opt_text(col)? {
        Some(text) if !text.is_empty() => Ok(Some(serde_json::from_str(&text).map_err(ApiError::internal)?)),
        _ => Ok(None),
    }
}

pub fn from_row(row: &AnyRow) -> Result<Instance, ApiError> {
    let trusted_certs = match row.opt_text("trusted_certs")? {
        Some(text) if !text.is_empty() => Some(serde_json::from_str(&text).map_err(ApiError::internal)?),
        _ => None,
    };
    Ok(Instance {
        uuid: row.text("uuid")?,
        id: row.int("id")?,
        display_name: row.opt_text("display_name")?,
        display_description: row.opt_text("display_description")?,
        hostname: row.opt_text("hostname")?,
        project_id: row.text("project_id")?,
        user_id: row.text("user_id")?,
        image_ref: row.opt_text("image_ref")?,
        flavor: opt_flavor(row, "flavor")?.ok_or_else(|| ApiError::internal("instance without flavor"))?,
        old_flavor: opt_flavor(row, "old_flavor")?,
        new_flavor: opt_flavor(row, "new_flavor")?,
        vm_state: row.text("vm_state")?,
        task_state: row.opt_text("task_state")?,
        power_state: row.int("power_state")?,
        host: row.opt_text("host")?,
        node: row.opt_text("node")?,
        launched_on: row.opt_text("launched_on")?,
        availability_zone: row.opt_text("availability_zone")?,
        key_name: row.opt_text("key_name")?,
        key_data: row.opt_text("key_data")?,
        user_data: row.opt_text("user_data")?,
        config_drive: row.opt_text("config_drive")?,
        locked: row.flag("locked")?,
        locked_by: row.opt_text("locked_by")?,
        locked_reason: row.opt_text("locked_reason")?,
        access_ip_v4: row.opt_text("access_ip_v4")?,
        access_ip_v6: row.opt_text("access_ip_v6")?,
        progress: row.opt_int("progress")?,
        launch_index: row.opt_int("launch_index")?,
        reservation_id: row.opt_text("reservation_id")?,
        root_device_name: row.opt_text("root_device_name")?,
        auto_disk_config: row.flag("auto_disk_config")?,
        trusted_certs,
        created_at: row.int("created_at")?,
        updated_at: row.opt_int("updated_at")?,
        launched_at: row.opt_int("launched_at")?,
        terminated_at: row.opt_int("terminated_at")?,
        deleted: row.int("deleted")? != 0,
        deleted_at: row.opt_int("deleted_at")?,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

/// Inserts a new instance inside the caller's transaction.
pub async fn insert(db: &Database, tx: &mut sqlx::Transaction<'_, sqlx::Any>, i: &Instance) -> Result<(), ApiError> {
    let marks = vec!["?"; COLUMNS.split(',').count()].join(", ");
    let sql = format!("INSERT INTO instances ({COLUMNS}) VALUES ({marks})");
    let trusted = i.trusted_certs.as_ref().map(to_json).transpose()?;
    let old_flavor = i.old_flavor.as_ref().map(to_json).transpose()?;
    let new_flavor = i.new_flavor.as_ref().map(to_json).transpose()?;
    sqlx::query(&db.sql(&sql))
        .bind(i.uuid.clone())
        .bind(i.id)
        .bind(i.display_name.clone())
        .bind(i.display_description.clone())
        .bind(i.hostname.clone())
        .bind(i.project_id.clone())
        .bind(i.user_id.clone())
        .bind(i.image_ref.clone())
        .bind(to_json(&i.flavor)?)
        .bind(old_flavor)
        .bind(new_flavor)
        .bind(i.flavor.id)
        .bind(i.vm_state.clone())
        .bind(i.task_state.clone())
        .bind(i.power_state)
        .bind(i.host.clone())
        .bind(i.node.clone())
        .bind(i.launched_on.clone())
        .bind(i.availability_zone.clone())
        .bind(i.key_name.clone())
        .bind(i.key_data.clone())
        .bind(i.user_data.clone())
        .bind(i.config_drive.clone())
        .bind(i64::from(i.locked))
        .bind(i.locked_by.clone())
        .bind(i.locked_reason.clone())
        .bind(i.access_ip_v4.clone())
        .bind(i.access_ip_v6.clone())
        .bind(i.progress)
        .bind(i.launch_index)
        .bind(i.reservation_id.clone())
        .bind(i.root_device_name.clone())
        .bind(0_i64)
        .bind(trusted)
        .bind(i.created_at)
        .bind(i.updated_at)
        .bind(i.launched_at)
        .bind(i.terminated_at)
        .bind(if i.deleted { i.id } else { 0 })
        .bind(i.deleted_at)
        .bind(i64::from(i.auto_disk_config))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A live instance by uuid.
pub async fn get(db: &Database, uuid: &str) -> Result<Option<Instance>, ApiError> {
    get_any(db, uuid).await.map(|i| i.filter(|i| !i.deleted))
}

/// An instance by uuid, deleted or not (instance actions of deleted servers, 2.21).
pub async fn get_any(db: &Database, uuid: &str) -> Result<Option<Instance>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE uuid = ?");
    let row = sqlx::query(&db.sql(&sql)).bind(uuid).fetch_optional(&db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

/// Live instances with these uuids.
pub async fn get_many(db: &Database, uuids: &[String]) -> Result<Vec<Instance>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE deleted = 0 AND uuid IN ({{uuids}})");
    super::by_uuids::fetch(db, &sql, uuids).await?.iter().map(from_row).collect()
}

/// A column value for [`Changes`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(Some(s.to_string()))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(Some(s))
    }
}
impl From<Option<String>> for Value {
    fn from(s: Option<String>) -> Self {
        Value::Text(s)
    }
}
impl From<Option<&str>> for Value {
    fn from(s: Option<&str>) -> Self {
        Value::Text(s.map(str::to_string))
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(Some(n))
    }
}
impl From<Option<i64>> for Value {
    fn from(n: Option<i64>) -> Self {
        Value::Int(n)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Int(Some(i64::from(b)))
    }
}

/// Column updates of one instance; `updated_at` is always set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes(pub Vec<(&'static str, Value)>);

impl Changes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `column` (one of [`COLUMNS`]) to `value`.
    pub fn set(mut self, column: &'static str, value: impl Into<Value>) -> Self {
        self.0.push((column, value.into()));
        self
    }

    /// Sets a flavor column (`flavor`, `old_flavor`, `new_flavor`).
    pub fn set_flavor(self, column: &'static str, flavor: Option<&InstanceFlavor>) -> Result<Self, ApiError> {
        let text = flavor.map(to_json).transpose()?;
        Ok(self.set(column, text))
    }
}

/// The task states an update expects the row to be in; `None` in the list is "no task".
pub type Expected<'a> = Option<&'a [Option<&'a str>]>;

/// Applies `changes` to a live instance. With `expected` set, the update only applies when
/// the task state is one of them; returns whether a row changed.
pub async fn update(db: &Database, uuid: &str, changes: &Changes, expected: Expected<'_>) -> Result<bool, ApiError> {
    let mut sets: Vec<String> = changes.0.iter().map(|(c, _)| format!("{c} = ?")).collect();
    sets.push("updated_at = ?".into());
    let mut sql = format!("UPDATE instances SET {} WHERE uuid = ? AND deleted = 0", sets.join(", "));
    let mut expected_values = Vec::new();
    if let Some(states) = expected {
        let mut alternatives = Vec::new();
        for state in states {
            match state {
                None => alternatives.push("task_state IS NULL".to_string()),
                Some(s) => {
                    alternatives.push("task_state = ?".to_string());
                    expected_values.push(s.to_string());
                }
            }
        }
        if alternatives.is_empty() {
            return Ok(false);
        }
        sql.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
    }
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql);
    for (_, value) in &changes.0 {
        q = match value {
            Value::Text(t) => q.bind(t.clone()),
            Value::Int(n) => q.bind(*n),
        };
    }
    q = q.bind(now_micros()).bind(uuid.to_string());
    for v in expected_values {
        q = q.bind(v);
    }
    Ok(q.execute(&db.pool).await?.rows_affected() == 1)
}

/// Marks an instance deleted (Nova's `instance.destroy()`): `deleted` takes the row id so the
/// row stays for `changes-since` and instance actions, and every related row goes with it.
pub async fn destroy(db: &Database, uuid: &str) -> Result<bool, ApiError> {
    let now = now_micros();
    let mut tx = db.begin_write().await?;
    let sql = "UPDATE instances SET deleted = id, deleted_at = ?, updated_at = ?, vm_state = ?, task_state = NULL, terminated_at = COALESCE(terminated_at, ?) WHERE uuid = ? AND deleted = 0";
    let done = sqlx::query(&db.sql(sql))
        .bind(now)
        .bind(now)
        .bind(crate::states::vm::DELETED)
        .bind(now)
        .bind(uuid)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if done {
        for sql in [
            "DELETE FROM instance_metadata WHERE instance_uuid = ?",
            "DELETE FROM instance_system_metadata WHERE instance_uuid = ?",
            "DELETE FROM instance_tags WHERE instance_uuid = ?",
            "DELETE FROM instance_group_members WHERE instance_uuid = ?",
            "UPDATE block_device_mappings SET deleted = id WHERE instance_uuid = ? AND deleted = 0",
            // As Nova's instance_destroy: the server's migrations go with it (a finished
            // evacuation must no longer hold its source host's service down).
            "UPDATE migrations SET deleted = id WHERE instance_uuid = ? AND deleted = 0",
        ] {
            sqlx::query(&db.sql(sql)).bind(uuid).execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    Ok(done)
}
