//! Groups and their members.

use super::{new_id, to_json_text, RowExt};
use crate::Identity;
use monostack_common::ApiError;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: String,
    pub domain_id: String,
    pub name: String,
    pub description: String,
    pub extra: Map<String, Value>,
}

const COLUMNS: &str = "id, domain_id, name, description, extra";

fn from_row(row: &AnyRow) -> Result<Group, ApiError> {
    Ok(Group {
        id: row.text("id")?,
        domain_id: row.text("domain_id")?,
        name: row.text("name")?,
        description: row.opt_text("description")?.unwrap_or_default(),
        extra: row.json("extra")?,
    })
}

impl Group {
    pub fn new(name: &str, domain_id: &str) -> Self {
        Group { id: new_id(), domain_id: domain_id.into(), name: name.into(), description: String::new(), extra: Map::new() }
    }
}

pub async fn get(state: &Identity, id: &str) -> Result<Option<Group>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM user_groups WHERE id = ?");
    let row = sqlx::query(&state.db.sql(&sql)).bind(id).fetch_optional(&state.db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get_by_name(state: &Identity, domain_id: &str, name: &str) -> Result<Option<Group>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM user_groups WHERE domain_id = ? AND name = ?");
    let row = sqlx::query(&state.db.sql(&sql)).bind(domain_id).bind(name).fetch_optional(&state.db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(state: &Identity) -> Result<Vec<Group>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM user_groups ORDER BY name, id");
    let rows = sqlx::query(&sql).fetch_all(&state.db.pool).await?;
    rows.iter().map(from_row).collect()
}

pub async fn insert(state: &Identity, g: &Group) -> Result<(), ApiError> {
    sqlx::query(&state.db.sql(&format!("INSERT INTO user_groups ({COLUMNS}) VALUES (?, ?, ?, ?, ?)")))
        .bind(&g.id)
        .bind(&g.domain_id)
        .bind(&g.name)
        .bind(&g.description)
        .bind(to_json_text(&g.extra))
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

pub async fn update(state: &Identity, g: &Group) -> Result<(), ApiError> {
    sqlx::query(&state.db.sql("UPDATE user_groups SET name = ?, description = ?, extra = ? WHERE id = ?"))
        .bind(&g.name)
        .bind(&g.description)
        .bind(to_json_text(&g.extra))
        .bind(&g.id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

/// Deletes a group with its memberships and assignments.
pub async fn delete(state: &Identity, id: &str) -> Result<(), ApiError> {
    super::delete_cascade(state, &[
        "DELETE FROM group_memberships WHERE group_id = ?",
        "DELETE FROM assignments WHERE actor_id = ?",
        "DELETE FROM user_groups WHERE id = ?",
    ], id).await?;
    Ok(())
}

pub async fn delete_in_domain(state: &Identity, domain_id: &str) -> Result<(), ApiError> {
    for g in list(state).await?.into_iter().filter(|g| g.domain_id == domain_id) {
        delete(state, &g.id).await?;
    }
    Ok(())
}

/// Ids of a group's members.
pub async fn member_ids(state: &Identity, group_id: &str) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query(&state.db.sql("SELECT user_id FROM group_memberships WHERE group_id = ?"))
        .bind(group_id)
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter().map(|r| r.text("user_id")).collect()
}

pub async fn is_member(state: &Identity, group_id: &str, user_id: &str) -> Result<bool, ApiError> {
    let row = sqlx::query(&state.db.sql("SELECT user_id FROM group_memberships WHERE group_id = ? AND user_id = ?"))
        .bind(group_id)
        .bind(user_id)
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(row.is_some())
}

pub async fn add_member(state: &Identity, group_id: &str, user_id: &str) -> Result<(), ApiError> {
    if is_member(state, group_id, user_id).await? {
        return Ok(());
    }
    sqlx::query(&state.db.sql("INSERT INTO group_memberships (user_id, group_id) VALUES (?, ?)"))
        .bind(user_id)
        .bind(group_id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

/// Removes a member; false when they were not one.
pub async fn remove_member(state: &Identity, group_id: &str, user_id: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&state.db.sql("DELETE FROM group_memberships WHERE group_id = ? AND user_id = ?"))
        .bind(group_id)
        .bind(user_id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(done.rows_affected() > 0)
}

/// The groups a user belongs to, ordered by name.
pub async fn list_for_user(state: &Identity, user_id: &str) -> Result<Vec<Group>, ApiError> {
    let cols = COLUMNS.split(", ").map(|c| format!("g.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {cols} FROM user_groups g JOIN group_memberships m ON m.group_id = g.id WHERE m.user_id = ? ORDER BY g.name, g.id"
    );
    let rows = sqlx::query(&state.db.sql(&sql)).bind(user_id).fetch_all(&state.db.pool).await?;
    rows.iter().map(from_row).collect()
}

/// Whether the group holds any role assignment (then removing it changes its members' roles).
pub async fn has_assignments(state: &Identity, group_id: &str) -> Result<bool, ApiError> {
    let row = sqlx::query(&state.db.sql("SELECT role_id FROM assignments WHERE actor_id = ?"))
        .bind(group_id)
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(row.is_some())
}
