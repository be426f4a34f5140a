//! Projects and domains (a domain is a project with `is_domain`), with their tags.

use super::{new_id, to_json_text, RowExt, ROOT_DOMAIN};
use crate::Identity;
use monostack_common::ApiError;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: String,
    pub name: String,
    /// For a domain: [`ROOT_DOMAIN`].
    pub domain_id: String,
    /// For a top-level project: its domain's id. For a domain: none.
    pub parent_id: Option<String>,
    pub is_domain: bool,
    pub enabled: bool,
    pub description: String,
    pub tags: Vec<String>,
    pub extra: Map<String, Value>,
}

const COLUMNS: &str = "id, name, domain_id, parent_id, is_domain, enabled, description, extra";

fn from_row(row: &AnyRow) -> Result<Project, ApiError> {
    Ok(Project {
        id: row.text("id")?,
        name: row.text("name")?,
        domain_id: row.text("domain_id")?,
        parent_id: row.opt_text("parent_id")?,
        is_domain: row.flag("is_domain")?,
        enabled: row.flag("enabled")?,
        description: row.opt_text("description")?.unwrap_or_default(),
        tags: Vec::new(),
        extra: row.json("extra")?,
    })
}

impl Project {
    /// A new project (or domain, when `domain_id` is [`ROOT_DOMAIN`]) with a fresh id.
    pub fn new(name: &str, domain_id: &str, parent_id: Option<String>) -> Self {
        Project {
            id: new_id(),
            name: name.to_string(),
            domain_id: domain_id.to_string(),
            parent_id,
            is_domain: domain_id == ROOT_DOMAIN,
            enabled: true,
            description: String::new(),
            tags: Vec::new(),
            extra: Map::new(),
        }
    }

    /// The domain that owns this project (a domain owns itself).
    pub fn owning_domain(&self) -> &str {
        if self.is_domain { &self.id } else { &self.domain_id }
    }
}

async fn with_tags(state: &Identity, mut projects: Vec<Project>) -> Result<Vec<Project>, ApiError> {
    if projects.is_empty() {
        return Ok(projects);
    }
    let rows = sqlx::query("SELECT project_id, name FROM project_tags ORDER BY name")
        .fetch_all(&state.db.pool)
        .await?;
    let mut tags: std::collections::HashMap<String, Vec<String>> = Default::default();
    for row in rows {
        tags.entry(row.text("project_id")?).or_default().push(row.text("name")?);
    }
    for p in &mut projects {
        p.tags = tags.remove(&p.id).unwrap_or_default();
    }
    Ok(projects)
}

pub async fn get(state: &Identity, id: &str) -> Result<Option<Project>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM projects WHERE id = ?");
    let row = sqlx::query(&state.db.sql(&sql)).bind(id).fetch_optional(&state.db.pool).await?;
    let Some(row) = row else { return Ok(None) };
    let mut project = from_row(&row)?;
    let tags = sqlx::query(&state.db.sql("SELECT name FROM project_tags WHERE project_id = ? ORDER BY name"))
        .bind(id)
        .fetch_all(&state.db.pool)
        .await?;
    project.tags = tags.iter().map(|r| r.text("name")).collect::<Result<_, _>>()?;
    Ok(Some(project))
}

/// A project by name within a domain, or a domain by name when `domain_id` is [`ROOT_DOMAIN`].
pub async fn get_by_name(state: &Identity, domain_id: &str, name: &str) -> Result<Option<Project>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM projects WHERE domain_id = ? AND name = ?");
    let row = sqlx::query(&state.db.sql(&sql))
        .bind(domain_id)
        .bind(name)
        .fetch_optional(&state.db.pool)
        .await?;
    match row {
        Some(row) => get(state, &row.text("id")?).await,
        None => Ok(None),
    }
}

/// Every project (or every domain when `domains` is set), ordered by name.
pub async fn list(state: &Identity, domains: bool) -> Result<Vec<Project>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM projects WHERE is_domain = ? ORDER BY name, id");
    let rows = sqlx::query(&state.db.sql(&sql))
        .bind(i64::from(domains))
        .fetch_all(&state.db.pool)
        .await?;
    let projects = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    with_tags(state, projects).await
}

/// The chain of parents of a project, nearest first (excluding the domain at the top).
pub async fn ancestors(state: &Identity, project: &Project) -> Result<Vec<Project>, ApiError> {
    let mut out = Vec::new();
    let mut parent = project.parent_id.clone();
    while let Some(pid) = parent {
        if pid == project.domain_id || out.len() > 64 {
            break;
        }
        match get(state, &pid).await? {
            Some(p) if !p.is_domain => {
                parent = p.parent_id.clone();
                out.push(p);
            }
            _ => break,
        }
    }
    Ok(out)
}

async fn insert_tags(state: &Identity, tx: &mut sqlx::Transaction<'_, sqlx::Any>, p: &Project) -> Result<(), ApiError> {
    for tag in &p.tags {
        sqlx::query(&state.db.sql("INSERT INTO project_tags (project_id, name) VALUES (?, ?)"))
            .bind(&p.id)
            .bind(tag)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub async fn insert(state: &Identity, p: &Project) -> Result<(), ApiError> {
    let mut tx = state.db.begin_write().await?;
    sqlx::query(&state.db.sql(
        "INSERT INTO projects (id, name, domain_id, parent_id, is_domain, enabled, description, extra, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ))
    .bind(&p.id)
    .bind(&p.name)
    .bind(&p.domain_id)
    .bind(&p.parent_id)
    .bind(i64::from(p.is_domain))
    .bind(i64::from(p.enabled))
    .bind(&p.description)
    .bind(to_json_text(&p.extra))
    .bind(monostack_common::time::now_micros())
    .execute(&mut *tx)
    .await?;
    insert_tags(state, &mut tx, p).await?;
    tx.commit().await?;
    state.changed();
    Ok(())
}

/// Writes every mutable field and replaces the tags.
pub async fn update(state: &Identity, p: &Project) -> Result<(), ApiError> {
    let mut tx = state.db.begin_write().await?;
    sqlx::query(&state.db.sql(
        "UPDATE projects SET name = ?, enabled = ?, description = ?, extra = ?, parent_id = ? WHERE id = ?",
    ))
    .bind(&p.name)
    .bind(i64::from(p.enabled))
    .bind(&p.description)
    .bind(to_json_text(&p.extra))
    .bind(&p.parent_id)
    .bind(&p.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&state.db.sql("DELETE FROM project_tags WHERE project_id = ?"))
        .bind(&p.id)
        .execute(&mut *tx)
        .await?;
    insert_tags(state, &mut tx, p).await?;
    tx.commit().await?;
    state.changed();
    Ok(())
}

/// Deletes a project with its tags and every role assignment on it.
pub async fn delete(state: &Identity, id: &str) -> Result<(), ApiError> {
    super::delete_cascade(state, &[
        "DELETE FROM project_tags WHERE project_id = ?",
        "DELETE FROM assignments WHERE target_id = ?",
        "DELETE FROM projects WHERE id = ?",
    ], id).await?;
    Ok(())
}

/// Direct children of a project or domain.
pub async fn children(state: &Identity, id: &str) -> Result<Vec<Project>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM projects WHERE parent_id = ? AND is_domain = 0 ORDER BY name");
    let rows = sqlx::query(&state.db.sql(&sql)).bind(id).fetch_all(&state.db.pool).await?;
    let projects = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    with_tags(state, projects).await
}
