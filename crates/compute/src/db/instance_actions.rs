//! Instance actions and their events: the trace of every operation on a server, shown by
//! `openstack server event list/show`. The API starts an action per request (keyed by the
//! request id); the conductor and compute agents add events to it as the flow advances, with
//! the request id the bus message carried.

use super::ids::insert_with_next_id;
use futures::TryFutureExt;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};

/// Nova's instance action names (nova/compute/instance_actions.py).
pub mod names {
    pub const CREATE: &str = "create";
    pub const DELETE: &str = "delete";
    pub const EVACUATE: &str = "evacuate";
    pub const RESTORE: &str = "restore";
    pub const STOP: &str = "stop";
    pub const START: &str = "start";
    pub const REBOOT: &str = "reboot";
    pub const REBUILD: &str = "rebuild";
    pub const REVERT_RESIZE: &str = "revertResize";
    pub const CONFIRM_RESIZE: &str = "confirmResize";
    pub const RESIZE: &str = "resize";
    pub const MIGRATE: &str = "migrate";
    pub const PAUSE: &str = "pause";
    pub const UNPAUSE: &str = "unpause";
    pub const SUSPEND: &str = "suspend";
    pub const RESUME: &str = "resume";
    pub const RESCUE: &str = "rescue";
    pub const UNRESCUE: &str = "unrescue";
    pub const CHANGE_PASSWORD: &str = "changePassword";
    pub const SHELVE: &str = "shelve";
    pub const SHELVE_OFFLOAD: &str = "shelveOffload";
    pub const UNSHELVE: &str = "unshelve";
    pub const LIVE_MIGRATION: &str = "live-migration";
    pub const TRIGGER_CRASH_DUMP: &str = "trigger_crash_dump";
    pub const LOCK: &str = "lock";
    pub const UNLOCK: &str = "unlock";
    pub const BACKUP: &str = "createBackup";
    pub const CREATE_IMAGE: &str = "createImage";
    pub const RESET_STATE: &str = "resetState";
}

/// How an event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventResult {
    Success,
    Error,
}

impl EventResult {
    pub fn as_str(self) -> &'static str {
        match self {
            EventResult::Success => "Success",
            EventResult::Error => "Error",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct InstanceAction {
    pub id: i64,
    pub request_id: String,
    pub instance_uuid: String,
    pub action: String,
    pub project_id: Option<String>,
    pub user_id: Option<String>,
    /// "Error" once an event failed.
    pub message: Option<String>,
    pub start_time: i64,
    pub finish_time: Option<i64>,
    pub updated_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionEvent {
    pub id: i64,
    pub action_id: i64,
    pub event: String,
    pub result: Option<String>,
    pub traceback: Option<String>,
    pub host: Option<String>,
    pub details: Option<String>,
    pub start_time: i64,
    pub finish_time: Option<i64>,
}

/// Who started an action.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub request_id: &'a str,
    pub user_id: Option<&'a str>,
    pub project_id: Option<&'a str>,
}

const ACTION_COLUMNS: &str = "id, request_id, instance_uuid, action, project_id, user_id, message, start_time, finish_time, updated_at";

fn action_from_row(row: &sqlx::any::AnyRow) -> Result<InstanceAction, ApiError> {
    Ok(InstanceAction {
        id: row.int("id")?,
        request_id: row.text("request_id")?,
        instance_uuid: row.text("instance_uuid")?,
        action: row.text("action")?,
        project_id: row.opt_text("project_id")?,
        user_id: row.opt_text("user_id")?,
        message: row.opt_text("message")?,
        start_time: row.int("start_time")?,
        finish_time: row.opt_int("finish_time")?,
        updated_at: row.opt_int("updated_at")?,
    })
}

/// Starts an action (Nova's `InstanceAction.action_start`); returns its id.
pub async fn action_start(db: &Database, instance_uuid: &str, action: &str, actor: Actor<'_>) -> Result<i64, ApiError> {
    let now = now_micros();
    let sql = format!("INSERT INTO instance_actions ({ACTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, NULL, ?)");
    let sql = db.sql(&sql);
    let id = insert_with_next_id(db, "instance_actions", |id| {
        sqlx::query(&sql)
            .bind(id)
            .bind(actor.request_id.to_string())
            .bind(instance_uuid.to_string())
            .bind(action.to_string())
            .bind(actor.project_id.map(str::to_string))
            .bind(actor.user_id.map(str::to_string))
            .bind(now)
            .bind(now)
            .execute(&db.pool)
            .map_ok(|_| ())
    })
    .await?;
    Ok(id)
}

/// Starts the action of a new instance inside the build transaction.
pub async fn action_start_in(
    db: &Database,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    instance_uuid: &str,
    action: &str,
    actor: Actor<'_>,
) -> Result<i64, ApiError> {
    let now = now_micros();
    let id = super::next_id(db, &mut **tx, "instance_actions").await?;
    let sql = format!("INSERT INTO instance_actions ({ACTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, NULL, ?)");
    sqlx::query(&db.sql(&sql))
        .bind(id)
        .bind(actor.request_id)
        .bind(instance_uuid)
        .bind(action)
        .bind(actor.project_id.map(str::to_string))
        .bind(actor.user_id.map(str::to_string))
        .bind(now)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

/// Finishes the action of `request_id` on the instance (Nova's `action_finish`).
pub async fn action_finish(db: &Database, instance_uuid: &str, request_id: &str) -> Result<bool, ApiError> {
    let now = now_micros();
    let sql = "UPDATE instance_actions SET finish_time = ?, updated_at = ? WHERE instance_uuid = ? AND request_id = ?";
    let n = sqlx::query(&db.sql(sql)).bind(now).bind(now).bind(instance_uuid).bind(request_id).execute(&db.pool).await?;
    Ok(n.rows_affected() > 0)
}

/// The latest action of `request_id` on the instance.
pub async fn get_by_request_id(db: &Database, instance_uuid: &str, request_id: &str) -> Result<Option<InstanceAction>, ApiError> {
    let sql = format!("SELECT {ACTION_COLUMNS} FROM instance_actions WHERE instance_uuid = ? AND request_id = ? ORDER BY start_time DESC, id DESC");
    let row = sqlx::query(&db.sql(&sql)).bind(instance_uuid).bind(request_id).fetch_optional(&db.pool).await?;
    row.as_ref().map(action_from_row).transpose()
}

/// Filters of an action list (2.58, 2.66).
#[derive(Debug, Clone, Default)]
pub struct ActionFilters {
    pub changes_since: Option<i64>,
    pub changes_before: Option<i64>,
}

/// The actions of an instance, newest first (Nova sorts by created_at, id descending).
pub async fn list(db: &Database, instance_uuid: &str, filters: &ActionFilters) -> Result<Vec<InstanceAction>, ApiError> {
    let mut sql = format!("SELECT {ACTION_COLUMNS} FROM instance_actions WHERE instance_uuid = ?");
    if filters.changes_since.is_some() {
        sql.push_str(" AND COALESCE(updated_at, start_time) >= ?");
    }
    if filters.changes_before.is_some() {
        sql.push_str(" AND COALESCE(updated_at, start_time) <= ?");
    }
    sql.push_str(" ORDER BY start_time DESC, id DESC");
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql).bind(instance_uuid);
    for t in [filters.changes_since, filters.changes_before].into_iter().flatten() {
        q = q.bind(t);
    }
    q.fetch_all(&db.pool).await?.iter().map(action_from_row).collect()
}

/// Starts an event of the action `request_id` (Nova's `event_start`); fails with 404-like
/// `None` when there is no such action.
pub async fn event_start(db: &Database, instance_uuid: &str, request_id: &str, event: &str, host: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(action) = get_by_request_id(db, instance_uuid, request_id).await? else {
        return Ok(None);
    };
    let now = now_micros();
    let sql = db.sql("INSERT INTO instance_action_events (id, action_id, event, result, traceback, host, details, start_time, finish_time) VALUES (?, ?, ?, NULL, NULL, ?, NULL, ?, NULL)");
    let id = insert_with_next_id(db, "instance_action_events", |id| {
        sqlx::query(&sql)
            .bind(id)
            .bind(action.id)
            .bind(event.to_string())
            .bind(host.map(str::to_string))
            .bind(now)
            .execute(&db.pool)
            .map_ok(|_| ())
    })
    .await?;
    sqlx::query(&db.sql("UPDATE instance_actions SET updated_at = ? WHERE id = ?")).bind(now).bind(action.id).execute(&db.pool).await?;
    Ok(Some(id))
}

/// Finishes an event (Nova's `event_finish`/`event_finish_with_failure`): an Error result also
/// marks the action's message "Error". Returns false when the event is unknown.
pub async fn event_finish(
    db: &Database,
    instance_uuid: &str,
    request_id: &str,
    event: &str,
    result: EventResult,
    details: Option<&str>,
    traceback: Option<&str>,
) -> Result<bool, ApiError> {
    let Some(action) = get_by_request_id(db, instance_uuid, request_id).await? else {
        return Ok(false);
    };
    let now = now_micros();
    let sql = "UPDATE instance_action_events SET finish_time = ?, result = ?, details = ?, traceback = ? WHERE action_id = ? AND event = ? AND finish_time IS NULL";
    let n = sqlx::query(&db.sql(sql))
        .bind(now)
        .bind(result.as_str())
        .bind(details.map(str::to_string))
        .bind(traceback.map(str::to_string))
        .bind(action.id)
        .bind(event)
        .execute(&db.pool)
        .await?
        .rows_affected();
    let message = (result == EventResult::Error).then_some("Error");
    let sql = "UPDATE instance_actions SET updated_at = ?, message = COALESCE(?, message) WHERE id = ?";
    sqlx::query(&db.sql(sql)).bind(now).bind(message).bind(action.id).execute(&db.pool).await?;
    Ok(n > 0)
}

/// The events of an action, oldest first.
pub async fn events(db: &Database, action_id: i64) -> Result<Vec<ActionEvent>, ApiError> {
    let sql = "SELECT id, action_id, event, result, traceback, host, details, start_time, finish_time FROM instance_action_events WHERE action_id = ? ORDER BY start_time, id";
    let rows = sqlx::query(&db.sql(sql)).bind(action_id).fetch_all(&db.pool).await?;
    rows.iter()
        .map(|row| {
            Ok(ActionEvent {
                id: row.int("id")?,
                action_id: row.int("action_id")?,
                event: row.text("event")?,
                result: row.opt_text("result")?,
                traceback: row.opt_text("traceback")?,
                host: row.opt_text("host")?,
                details: row.opt_text("details")?,
                start_time: row.int("start_time")?,
                finish_time: row.opt_int("finish_time")?,
            })
        })
        .collect()
}
