//! Unified limits: registered (default) limits per service/region/resource, and project or
//! domain overrides of them (Keystone's flat enforcement model).

use super::RowExt;
use crate::Identity;
use monostack_common::ApiError;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredLimit {
    pub id: String,
    pub service_id: String,
    pub region_id: Option<String>,
    pub resource_name: String,
    pub default_limit: i64,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    pub id: String,
    pub project_id: Option<String>,
    pub domain_id: Option<String>,
    pub service_id: String,
    pub region_id: Option<String>,
    pub resource_name: String,
    pub resource_limit: i64,
    pub description: Option<String>,
}

impl RegisteredLimit {
    /// Whether a limit on (service, region, resource) overrides this registered limit.
    pub fn covers(&self, service_id: &str, region_id: Option<&str>, resource_name: &str) -> bool {
        self.service_id == service_id && self.region_id.as_deref() == region_id && self.resource_name == resource_name
    }
}

const REGISTERED_COLUMNS: &str = "id, service_id, region_id, resource_name, default_limit, description";
const LIMIT_COLUMNS: &str = "id, project_id, domain_id, service_id, region_id, resource_name, resource_limit, description";

fn registered_from_row(row: &AnyRow) -> Result<RegisteredLimit, ApiError> {
    Ok(RegisteredLimit {
        id: row.text("id")?,
        service_id: row.text("service_id")?,
        region_id: row.opt_text("region_id")?,
        resource_name: row.text("resource_name")?,
        default_limit: row.int("default_limit")?,
        description: row.opt_text("description")?,
    })
}

fn limit_from_row(row: &AnyRow) -> Result<Limit, ApiError> {
    Ok(Limit {
        id: row.text("id")?,
        project_id: row.opt_text("project_id")?,
        domain_id: row.opt_text("domain_id")?,
        service_id: row.text("service_id")?,
        region_id: row.opt_text("region_id")?,
        resource_name: row.text("resource_name")?,
        resource_limit: row.int("resource_limit")?,
        description: row.opt_text("description")?,
    })
}

pub async fn list_registered(state: &Identity) -> Result<Vec<RegisteredLimit>, ApiError> {
    let sql = format!("SELECT {REGISTERED_COLUMNS} FROM registered_limits ORDER BY service_id, resource_name, id");
    let rows = sqlx::query(&sql).fetch_all(&state.db.pool).await?;
    rows.iter().map(registered_from_row).collect()
}

pub async fn get_registered(state: &Identity, id: &str) -> Result<Option<RegisteredLimit>, ApiError> {
    let sql = format!("SELECT {REGISTERED_COLUMNS} FROM registered_limits WHERE id = ?");
    let row = sqlx::query(&state.db.sql(&sql)).bind(id).fetch_optional(&state.db.pool).await?;
    row.as_ref().map(registered_from_row).transpose()
}

/// Stores a batch of registered limits atomically.
pub async fn insert_registered(state: &Identity, limits: &[RegisteredLimit]) -> Result<(), ApiError> {
    let mut tx = state.db.begin_write().await?;
    let sql = format!("INSERT INTO registered_limits ({REGISTERED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)");
    for l in limits {
        sqlx::query(&state.db.sql(&sql))
            .bind(&l.id)
            .bind(&l.service_id)
            .bind(&l.region_id)
            .bind(&l.resource_name)
            .bind(l.default_limit)
            .bind(&l.description)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    state.changed();
    Ok(())
}

pub async fn update_registered(state: &Identity, l: &RegisteredLimit) -> Result<(), ApiError> {
    sqlx::query(&state.db.sql(
        "UPDATE registered_limits SET service_id = ?, region_id = ?, resource_name = ?, default_limit = ?, description = ? WHERE id = ?",
    ))
    .bind(&l.service_id)
    .bind(&l.region_id)
    .bind(&l.resource_name)
    .bind(l.default_limit)
    .bind(&l.description)
    .bind(&l.id)
    .execute(&state.db.pool)
    .await?;
    state.changed();
    Ok(())
}

pub async fn delete_registered(state: &Identity, id: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&state.db.sql("DELETE FROM registered_limits WHERE id = ?")).bind(id).execute(&state.db.pool).await?;
    state.changed();
    Ok(done.rows_affected() > 0)
}

pub async fn list_limits(state: &Identity) -> Result<Vec<Limit>, ApiError> {
    let sql = format!("SELECT {LIMIT_COLUMNS} FROM limits ORDER BY service_id, resource_name, id");
    let rows = sqlx::query(&sql).fetch_all(&state.db.pool).await?;
    rows.iter().map(limit_from_row).collect()
}

pub async fn get_limit(state: &Identity, id: &str) -> Result<Option<Limit>, ApiError> {
    let sql = format!("SELECT {LIMIT_COLUMNS} FROM limits WHERE id = ?");
    let row = sqlx::query(&state.db.sql(&sql)).bind(id).fetch_optional(&state.db.pool).await?;
    row.as_ref().map(limit_from_row).transpose()
}

/// Limits overriding `reg` (same service, region and resource).
pub async fn limits_of(state: &Identity, reg: &RegisteredLimit) -> Result<Vec<Limit>, ApiError> {
    let sql = format!("SELECT {LIMIT_COLUMNS} FROM limits WHERE service_id = ? AND resource_name = ?");
    let rows = sqlx::query(&state.db.sql(&sql))
        .bind(&reg.service_id)
        .bind(&reg.resource_name)
        .fetch_all(&state.db.pool)
        .await?;
    let all: Vec<Limit> = rows.iter().map(limit_from_row).collect::<Result<_, _>>()?;
    Ok(all.into_iter().filter(|l| l.region_id == reg.region_id).collect())
}

/// Stores a batch of limits atomically.
pub async fn insert_limits(state: &Identity, limits: &[Limit]) -> Result<(), ApiError> {
    let mut tx = state.db.begin_write().await?;
    let sql = format!("INSERT INTO limits ({LIMIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    for l in limits {
        sqlx::query(&state.db.sql(&sql))
            .bind(&l.id)
            .bind(&l.project_id)
            .bind(&l.domain_id)
            .bind(&l.service_id)
            .bind(&l.region_id)
            .bind(&l.resource_name)
            .bind(l.resource_limit)
            .bind(&l.description)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    state.changed();
    Ok(())
}

/// Updates what a limit may change: its value and description.
pub async fn update_limit(state: &Identity, l: &Limit) -> Result<(), ApiError> {
    sqlx::query(&state.db.sql("UPDATE limits SET resource_limit = ?, description = ? WHERE id = ?"))
        .bind(l.resource_limit)
        .bind(&l.description)
        .bind(&l.id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

pub async fn delete_limit(state: &Identity, id: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&state.db.sql("DELETE FROM limits WHERE id = ?")).bind(id).execute(&state.db.pool).await?;
    state.changed();
    Ok(done.rows_affected() > 0)
}

/// Drops the limits of a deleted project (or domain); returns how many went.
pub async fn delete_for_project(state: &Identity, project_id: &str) -> Result<u64, ApiError> {
    let done = sqlx::query(&state.db.sql("DELETE FROM limits WHERE project_id = ? OR domain_id = ?"))
        .bind(project_id)
        .bind(project_id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(done.rows_affected())
}

/// Drops the registered limits and limits of a deleted service.
pub async fn delete_for_service(state: &Identity, service_id: &str) -> Result<(), ApiError> {
    super::delete_cascade(state, &["DELETE FROM limits WHERE service_id = ?", "DELETE FROM registered_limits WHERE service_id = ?"], service_id).await?;
    Ok(())
}
