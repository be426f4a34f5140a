//! OS-EP-FILTER: endpoint groups (filters over the catalog's endpoints), their association
//! with projects, and direct project ↔ endpoint associations.
//!
//! Associations may outlive the project or endpoint they name (those are deleted elsewhere);
//! readers skip such dangling rows.

use super::{to_json_text, RowExt};
use crate::Identity;
use monostack_common::ApiError;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct EndpointGroup {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// `service_id`, `interface` and/or `region_id` an endpoint must equal.
    pub filters: Map<String, Value>,
}

impl EndpointGroup {
    /// Whether an endpoint passes every filter of the group.
    pub fn matches(&self, e: &super::catalog::Endpoint) -> bool {
        self.filters.iter().all(|(key, want)| {
            let have = match key.as_str() {
                "service_id" => Value::String(e.service_id.clone()),
                "interface" => Value::String(e.interface.clone()),
                "region_id" => e.region_id.clone().map_or(Value::Null, Value::String),
                _ => return false,
            };
            &have == want
        })
    }
}

fn from_row(row: &AnyRow) -> Result<EndpointGroup, ApiError> {
    Ok(EndpointGroup {
        id: row.text("id")?,
        name: row.text("name")?,
        description: row.opt_text("description")?,
        filters: row.json("filters")?,
    })
}

pub async fn list(state: &Identity) -> Result<Vec<EndpointGroup>, ApiError> {
    let rows = sqlx::query("SELECT id, name, description, filters FROM endpoint_groups ORDER BY name, id")
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(state: &Identity, id: &str) -> Result<Option<EndpointGroup>, ApiError> {
    let row = sqlx::query(&state.db.sql("SELECT id, name, description, filters FROM endpoint_groups WHERE id = ?"))
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Inserts (`insert`) or updates an endpoint group.
pub async fn upsert(state: &Identity, g: &EndpointGroup, insert: bool) -> Result<(), ApiError> {
    let sql = if insert {
        "INSERT INTO endpoint_groups (name, description, filters, id) VALUES (?, ?, ?, ?)"
    } else {
        "UPDATE endpoint_groups SET name = ?, description = ?, filters = ? WHERE id = ?"
    };
    sqlx::query(&state.db.sql(sql))
        .bind(&g.name)
        .bind(&g.description)
        .bind(to_json_text(&g.filters))
        .bind(&g.id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

/// Deletes an endpoint group with its project associations; false when it did not exist.
pub async fn delete(state: &Identity, id: &str) -> Result<bool, ApiError> {
    let mut tx = state.db.begin_write().await?;
    sqlx::query(&state.db.sql("DELETE FROM project_endpoint_groups WHERE endpoint_group_id = ?"))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query(&state.db.sql("DELETE FROM endpoint_groups WHERE id = ?")).bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    state.changed();
    Ok(done.rows_affected() > 0)
}

/// One of the two association tables: `(table, left column, project column)`.
#[derive(Debug, Clone, Copy)]
pub enum Link {
    /// `project_endpoint_groups`: endpoint group ↔ project.
    GroupProject,
    /// `project_endpoints`: endpoint ↔ project.
    EndpointProject,
}

impl Link {
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Link::GroupProject => ("project_endpoint_groups", "endpoint_group_id"),
            Link::EndpointProject => ("project_endpoints", "endpoint_id"),
        }
    }
}

/// Whether `other` (an endpoint group or endpoint id) is associated with `project_id`.
pub async fn linked(state: &Identity, link: Link, other: &str, project_id: &str) -> Result<bool, ApiError> {
    let (table, col) = link.table();
    let sql = format!("SELECT project_id FROM {table} WHERE {col} = ? AND project_id = ?");
    let row = sqlx::query(&state.db.sql(&sql)).bind(other).bind(project_id).fetch_optional(&state.db.pool).await?;
    Ok(row.is_some())
}

/// Adds an association; false when it already existed.
pub async fn link(state: &Identity, link: Link, other: &str, project_id: &str) -> Result<bool, ApiError> {
    if linked(state, link, other, project_id).await? {
        return Ok(false);
    }
    let (table, col) = link.table();
    let sql = format!("INSERT INTO {table} ({col}, project_id) VALUES (?, ?)");
    sqlx::query(&state.db.sql(&sql)).bind(other).bind(project_id).execute(&state.db.pool).await?;
    state.changed();
    Ok(true)
}

/// Removes an association; false when there was none.
pub async fn unlink(state: &Identity, link: Link, other: &str, project_id: &str) -> Result<bool, ApiError> {
    let (table, col) = link.table();
    let sql = format!("DELETE FROM {table} WHERE {col} = ? AND project_id = ?");
    let done = sqlx::query(&state.db.sql(&sql)).bind(other).bind(project_id).execute(&state.db.pool).await?;
    state.changed();
    Ok(done.rows_affected() > 0)
}

/// Ids of the projects associated with `other`.
pub async fn projects_of(state: &Identity, link: Link, other: &str) -> Result<Vec<String>, ApiError> {
    let (table, col) = link.table();
    let sql = format!("SELECT project_id FROM {table} WHERE {col} = ? ORDER BY project_id");
    let rows = sqlx::query(&state.db.sql(&sql)).bind(other).fetch_all(&state.db.pool).await?;
    rows.iter().map(|r| r.text("project_id")).collect()
}

/// Ids of the endpoint groups / endpoints associated with a project.
pub async fn of_project(state: &Identity, link: Link, project_id: &str) -> Result<Vec<String>, ApiError> {
    let (table, col) = link.table();
    let sql = format!("SELECT {col} FROM {table} WHERE project_id = ? ORDER BY {col}");
    let rows = sqlx::query(&state.db.sql(&sql)).bind(project_id).fetch_all(&state.db.pool).await?;
    rows.iter().map(|r| r.text(col)).collect()
}

/// Drops every association of a project (for when the project is deleted).
pub async fn delete_for_project(state: &Identity, project_id: &str) -> Result<(), ApiError> {
    super::delete_cascade(state, &["DELETE FROM project_endpoint_groups WHERE project_id = ?", "DELETE FROM project_endpoints WHERE project_id = ?"], project_id).await?;
    Ok(())
}

/// Drops every project association of an endpoint (for when the endpoint is deleted).
pub async fn delete_for_endpoint(state: &Identity, endpoint_id: &str) -> Result<(), ApiError> {
    sqlx::query(&state.db.sql("DELETE FROM project_endpoints WHERE endpoint_id = ?"))
        .bind(endpoint_id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}
