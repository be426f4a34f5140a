//! Volume types, their extra specs and their project access list.

use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{flag, Database, RowExt};
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// One volume type with its extra specs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VolumeType {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub is_public: bool,
    pub qos_specs_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub extra_specs: BTreeMap<String, String>,
}

impl VolumeType {
    /// The backend name the type asks for (extra spec `volume_backend_name`).
    pub fn backend_name(&self) -> Option<&str> {
        self.extra_specs
            .get("volume_backend_name")
            .map(String::as_str)
    }
}

const COLUMNS: &str = "id, name, description, is_public, qos_specs_id, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<VolumeType, ApiError> {
    Ok(VolumeType {
        id: row.text("id")?,
        name: row.text("name")?,
        description: row.opt_text("description")?,
        is_public: row.flag("is_public")?,
        qos_specs_id: row.opt_text("qos_specs_id")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        extra_specs: BTreeMap::new(),
    })
}

async fn with_specs(
    db: &Database,
    mut types: Vec<VolumeType>,
) -> Result<Vec<VolumeType>, ApiError> {
    if types.is_empty() {
        return Ok(types);
    }
    let rows =
        sqlx::query("SELECT volume_type_id, spec_key, spec_value FROM volume_type_extra_specs")
            .fetch_all(&db.pool)
            .await?;
    let mut specs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for row in &rows {
        specs
            .entry(row.text("volume_type_id")?)
            .or_default()
            .insert(row.text("spec_key")?, row.text("spec_value")?);
    }
    for t in &mut types {
        t.extra_specs = specs.remove(&t.id).unwrap_or_default();
    }
    Ok(types)
}

/// The type with this id.
pub async fn get(db: &Database, id: &str) -> Result<Option<VolumeType>, ApiError> {
    let row = sqlx::query(&db.sql(&format!("SELECT {COLUMNS} FROM volume_types WHERE id = ?")))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut t = from_row(&row)?;
    t.extra_specs = extra_specs(db, &t.id).await?;
    Ok(Some(t))
}

/// The type with this name.
pub async fn get_by_name(db: &Database, name: &str) -> Result<Option<VolumeType>, ApiError> {
    let row = sqlx::query(&db.sql(&format!(
        "SELECT {COLUMNS} FROM volume_types WHERE name = ?"
    )))
    .bind(name)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut t = from_row(&row)?;
    t.extra_specs = extra_specs(db, &t.id).await?;
    Ok(Some(t))
}

/// Every type, with extra specs, by name.
pub async fn list(db: &Database) -> Result<Vec<VolumeType>, ApiError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM volume_types ORDER BY name"))
        .fetch_all(&db.pool)
        .await?;
    let types = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    with_specs(db, types).await
}

pub async fn insert(db: &Database, t: &VolumeType) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(&db.sql(&format!(
        "INSERT INTO volume_types ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
    )))
    .bind(&t.id)
    .bind(&t.name)
    .bind(&t.description)
    .bind(flag(t.is_public))
    .bind(&t.qos_specs_id)
    .bind(t.created_at)
    .bind(t.updated_at)
    .execute(&mut *tx)
    .await?;
    for (k, v) in &t.extra_specs {
        sqlx::query(&db.sql("INSERT INTO volume_type_extra_specs (volume_type_id, spec_key, spec_value) VALUES (?, ?, ?)"))
            .bind(&t.id)
            .bind(k)
            .bind(v)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Saves name, description and visibility.
pub async fn update(db: &Database, t: &VolumeType) -> Result<(), ApiError> {
    sqlx::query(&db.sql("UPDATE volume_types SET name = ?, description = ?, is_public = ?, updated_at = ? WHERE id = ?"))
        .bind(&t.name)
        .bind(&t.description)
        .bind(flag(t.is_public))
        .bind(now_micros())
        .bind(&t.id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn delete(db: &Database, id: &str) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    for table in ["volume_type_extra_specs", "volume_type_projects", "encryption"] {
        sqlx::query(&db.sql(&format!("DELETE FROM {table} WHERE volume_type_id = ?")))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(&db.sql("DELETE FROM volume_types WHERE id = ?"))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether any volume that is not deleted has this type.
pub async fn in_use(db: &Database, id: &str) -> Result<bool, ApiError> {
    let row = sqlx::query(
        &db.sql("SELECT id FROM volumes WHERE volume_type_id = ? AND deleted = 0 LIMIT 1"),
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.is_some())
}

pub async fn extra_specs(db: &Database, id: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let rows =
        sqlx::query(&db.sql(
            "SELECT spec_key, spec_value FROM volume_type_extra_specs WHERE volume_type_id = ?",
        ))
        .bind(id)
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.text("spec_key")?, r.text("spec_value")?)))
        .collect()
}

/// Sets (adds or replaces) these extra specs.
pub async fn set_extra_specs(
    db: &Database,
    id: &str,
    specs: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    for (k, v) in specs {
        sqlx::query(
            &db.sql(
                "DELETE FROM volume_type_extra_specs WHERE volume_type_id = ? AND spec_key = ?",
            ),
        )
        .bind(id)
        .bind(k)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&db.sql("INSERT INTO volume_type_extra_specs (volume_type_id, spec_key, spec_value) VALUES (?, ?, ?)"))
            .bind(id)
            .bind(k)
            .bind(v)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(&db.sql("UPDATE volume_types SET updated_at = ? WHERE id = ?"))
        .bind(now_micros())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes one extra spec; false when it was not there.
pub async fn delete_extra_spec(db: &Database, id: &str, key: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(
        &db.sql("DELETE FROM volume_type_extra_specs WHERE volume_type_id = ? AND spec_key = ?"),
    )
    .bind(id)
    .bind(key)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The projects a private type is shared with.
pub async fn projects(db: &Database, id: &str) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query(&db.sql(
        "SELECT project_id FROM volume_type_projects WHERE volume_type_id = ? ORDER BY project_id",
    ))
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(|r| r.text("project_id")).collect()
}

/// Whether `project_id` was given access to the type.
pub async fn has_access(db: &Database, id: &str, project_id: &str) -> Result<bool, ApiError> {
    let row = sqlx::query(&db.sql(
        "SELECT project_id FROM volume_type_projects WHERE volume_type_id = ? AND project_id = ?",
    ))
    .bind(id)
    .bind(project_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.is_some())
}

/// The ids of the private types `project_id` may use.
pub async fn accessible_ids(db: &Database, project_id: &str) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query(
        &db.sql("SELECT volume_type_id FROM volume_type_projects WHERE project_id = ?"),
    )
    .bind(project_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(|r| r.text("volume_type_id")).collect()
}

/// Grants access; a duplicate is a unique violation (409).
pub async fn add_project(db: &Database, id: &str, project_id: &str) -> Result<(), ApiError> {
    sqlx::query(
        &db.sql("INSERT INTO volume_type_projects (volume_type_id, project_id) VALUES (?, ?)"),
    )
    .bind(id)
    .bind(project_id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Revokes access; false when there was none.
pub async fn remove_project(db: &Database, id: &str, project_id: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(
        &db.sql("DELETE FROM volume_type_projects WHERE volume_type_id = ? AND project_id = ?"),
    )
    .bind(id)
    .bind(project_id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Creates the default type (`[volume] default_volume_type`) when no type has its name.
pub async fn ensure_default(db: &Database, name: &str) -> Result<(), ApiError> {
    if get_by_name(db, name).await?.is_some() {
        return Ok(());
    }
    let now = now_micros();
    let t = VolumeType {
        id: super::new_id(),
        name: name.to_string(),
        description: Some("Default Volume Type".into()),
        is_public: true,
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    match insert(db, &t).await {
        // Another process created it at the same time.
        Err(e) if e.status == http::StatusCode::CONFLICT => Ok(()),
        other => other,
    }
}
