//! Image tasks: the record of each import (Glance's `api_image_import` tasks, and the legacy
//! `import` tasks of `/v2/tasks`), with its status, input, result and message.

use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use serde_json::{Map, Value};
use sqlx::any::AnyRow;

/// How long a finished task stays listed, as Glance's task_time_to_live (48 h).
const TIME_TO_LIVE_MICROS: i64 = 48 * 3600 * 1_000_000;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Task {
    pub id: String,
    pub task_type: String,
    /// pending, processing, success or failure.
    pub status: String,
    pub owner: Option<String>,
    pub image_id: Option<String>,
    pub user_id: Option<String>,
    pub request_id: Option<String>,
    pub input: Map<String, Value>,
    pub result: Map<String, Value>,
    pub message: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: Option<i64>,
}

const COLUMNS: &str = "id, task_type, status, owner, image_id, user_id, request_id, input, result, message, created_at, updated_at, expires_at";

fn from_row(row: &AnyRow) -> Result<Task, ApiError> {
    Ok(Task {
        id: row.text("id")?,
        task_type: row.text("task_type")?,
        status: row.text("status")?,
        owner: row.opt_text("owner")?,
        image_id: row.opt_text("image_id")?,
        user_id: row.opt_text("user_id")?,
        request_id: row.opt_text("request_id")?,
        input: row.json("input")?,
        result: row.json("result")?,
        message: row.opt_text("message")?.unwrap_or_default(),
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        expires_at: row.opt_int("expires_at")?,
    })
}

pub async fn insert(db: &Database, t: &Task) -> Result<(), ApiError> {
    sqlx::query(&db.sql(&format!("INSERT INTO image_tasks ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")))
        .bind(&t.id)
        .bind(&t.task_type)
        .bind(&t.status)
        .bind(&t.owner)
        .bind(&t.image_id)
        .bind(&t.user_id)
        .bind(&t.request_id)
        .bind(Value::Object(t.input.clone()).to_string())
        .bind(Value::Object(t.result.clone()).to_string())
        .bind(&t.message)
        .bind(t.created_at)
        .bind(t.updated_at)
        .bind(t.expires_at)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Records the end of a task: `success` or `failure`, with its result and message.
pub async fn finish(db: &Database, id: &str, status: &str, result: &Map<String, Value>, message: &str) -> Result<(), ApiError> {
    let now = now_micros();
    sqlx::query(&db.sql("UPDATE image_tasks SET status = ?, result = ?, message = ?, updated_at = ?, expires_at = ? WHERE id = ?"))
        .bind(status)
        .bind(Value::Object(result.clone()).to_string())
        .bind(message)
        .bind(now)
        .bind(now + TIME_TO_LIVE_MICROS)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn set_image(db: &Database, id: &str, image_id: &str) -> Result<(), ApiError> {
    sqlx::query(&db.sql("UPDATE image_tasks SET image_id = ?, status = 'processing', updated_at = ? WHERE id = ?"))
        .bind(image_id)
        .bind(now_micros())
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn get(db: &Database, id: &str) -> Result<Option<Task>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM image_tasks WHERE id = ?");
    let row = sqlx::query(&db.sql(&sql)).bind(id).fetch_optional(&db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

/// Tasks of an image, or (with `image_id` None) every task, newest first.
pub async fn list(db: &Database, image_id: Option<&str>) -> Result<Vec<Task>, ApiError> {
    let rows = match image_id {
        Some(image) => {
            let sql = format!("SELECT {COLUMNS} FROM image_tasks WHERE image_id = ? ORDER BY created_at DESC, id");
            sqlx::query(&db.sql(&sql)).bind(image).fetch_all(&db.pool).await?
        }
        None => sqlx::query(&format!("SELECT {COLUMNS} FROM image_tasks ORDER BY created_at DESC, id")).fetch_all(&db.pool).await?,
    };
    rows.iter().map(from_row).collect()
}

/// Tasks that were running when the service stopped: they end as failures.
pub async fn fail_unfinished(db: &Database) -> Result<u64, ApiError> {
    let now = now_micros();
    let done = sqlx::query(&db.sql("UPDATE image_tasks SET status = 'failure', message = 'interrupted by a restart', updated_at = ?, expires_at = ? WHERE status IN ('pending', 'processing')"))
        .bind(now)
        .bind(now + TIME_TO_LIVE_MICROS)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}

impl Task {
    pub fn new(task_type: &str, owner: Option<String>, user_id: &str, input: Map<String, Value>) -> Task {
        let now = now_micros();
        Task {
            id: uuid::Uuid::new_v4().to_string(),
            task_type: task_type.into(),
            status: "pending".into(),
            owner,
            user_id: Some(user_id.into()),
            request_id: None,
            input,
            created_at: now,
            updated_at: now,
            ..Default::default()
        }
    }
}
