//! Flavors with their extra specs and the projects a private flavor is shared with.

use super::ids::{insert_with_next_id, is_duplicate};
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{flag, Database, RowExt};
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// A flavor as stored. `flavorid` is the id the API shows; `id` orders flavors internally.
#[derive(Debug, Clone, PartialEq)]
pub struct Flavor {
    pub id: i64,
    pub flavorid: String,
    pub name: String,
    pub memory_mb: i64,
    pub vcpus: i64,
    pub root_gb: i64,
    pub ephemeral_gb: i64,
    pub swap: i64,
    pub rxtx_factor: f64,
    pub vcpu_weight: Option<i64>,
    pub disabled: bool,
    pub is_public: bool,
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub extra_specs: BTreeMap<String, String>,
}

impl Flavor {
    /// A new public flavor with Nova's defaults for everything not given.
    pub fn new(flavorid: &str, name: &str, memory_mb: i64, vcpus: i64, root_gb: i64) -> Flavor {
        Flavor {
            id: 0,
            flavorid: flavorid.into(),
            name: name.into(),
            memory_mb,
            vcpus,
            root_gb,
            ephemeral_gb: 0,
            swap: 0,
            rxtx_factor: 1.0,
            vcpu_weight: None,
            disabled: false,
            is_public: true,
            description: None,
            created_at: now_micros(),
            updated_at: None,
            extra_specs: BTreeMap::new(),
        }
    }
}

/// Why a flavor could not be created.
#[derive(Debug, PartialEq, Eq)]
pub enum CreateError {
    NameExists,
    IdExists,
}

/// The columns a flavor list may be sorted by (Nova's VALID_SORT_KEYS).
pub const SORT_KEYS: &[&str] = &[
    "created_at", "description", "disabled", "ephemeral_gb", "flavorid", "id", "is_public", "memory_mb", "name", "root_gb",
    "rxtx_factor", "swap", "updated_at", "vcpu_weight", "vcpus",
];

const COLUMNS: &str = "id, flavorid, name, memory_mb, vcpus, root_gb, ephemeral_gb, swap, rxtx_factor, vcpu_weight, disabled, is_public, description, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Flavor, ApiError> {
    Ok(Flavor {
        id: row.int("id")?,
        flavorid: row.text("flavorid")?,
        name: row.text("name")?,
        memory_mb: row.int("memory_mb")?,
        vcpus: row.int("vcpus")?,
        root_gb: row.int("root_gb")?,
        ephemeral_gb: row.int("ephemeral_gb")?,
        swap: row.int("swap")?,
        rxtx_factor: sqlx::Row::try_get::<f64, _>(row, "rxtx_factor")?,
        vcpu_weight: row.opt_int("vcpu_weight")?,
        disabled: row.flag("disabled")?,
        is_public: row.flag("is_public")?,
        description: row.opt_text("description")?,
        created_at: row.int("created_at")?,
        updated_at: row.opt_int("updated_at")?,
        extra_specs: BTreeMap::new(),
    })
}

/// Which flavors a caller sees: admins all of them, others the public ones and the private
/// ones shared with their project (Nova's flavor query).
#[derive(Debug, Clone)]
pub enum Visibility {
    All,
    Project(Option<String>),
}

/// The list filters of `GET /flavors`.
#[derive(Debug, Clone)]
pub struct ListFilter {
    pub visibility: Visibility,
    /// The caller's project, which sees the private flavors shared with it as public ones.
    pub project_id: Option<String>,
    /// Some(true): public ones (plus those shared with the caller's project); Some(false):
    /// private ones; None: both.
    pub is_public: Option<bool>,
    pub disabled: Option<bool>,
    pub min_memory_mb: Option<i64>,
    pub min_root_gb: Option<i64>,
    /// One of [`SORT_KEYS`].
    pub sort_key: &'static str,
    pub descending: bool,
}

/// Builds the visibility clause; the project (when any) is bound by the caller.
fn visibility_clause(visibility: &Visibility) -> Option<(&'static str, Option<String>)> {
    match visibility {
        Visibility::All => None,
        Visibility::Project(p) => Some(("(is_public = 1 OR id IN (SELECT flavor_id FROM flavor_projects WHERE project_id = ?))", p.clone())),
    }
}

/// The flavor with API id `flavorid` if the caller may see it, with its extra specs.
pub async fn get(db: &Database, flavorid: &str, visibility: &Visibility) -> Result<Option<Flavor>, ApiError> {
    let mut sql = format!("SELECT {COLUMNS} FROM flavors WHERE flavorid = ?");
    let vis = visibility_clause(visibility);
    if let Some((clause, _)) = &vis {
        sql.push_str(" AND ");
        sql.push_str(clause);
    }
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql).bind(flavorid.to_string());
    if let Some((_, project)) = vis {
        q = q.bind(project.unwrap_or_default());
    }
    let Some(row) = q.fetch_optional(&db.pool).await? else { return Ok(None) };
    let mut flavor = from_row(&row)?;
    flavor.extra_specs = extra_specs(db, flavor.id).await?;
    Ok(Some(flavor))
}

/// Flavors matching `filter` in its order (ties broken by id, as Nova pages), with extra specs.
pub async fn list(db: &Database, filter: &ListFilter) -> Result<Vec<Flavor>, ApiError> {
    let mut clauses: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut ints: Vec<i64> = Vec::new();
    // Text binds come first in the statement: visibility, then the is_public project.
    if let Some((clause, project)) = visibility_clause(&filter.visibility) {
        clauses.push(clause.to_string());
        texts.push(project.unwrap_or_default());
    }
    match (filter.is_public, &filter.project_id) {
        (Some(true), Some(p)) => {
            clauses.push("(is_public = 1 OR id IN (SELECT flavor_id FROM flavor_projects WHERE project_id = ?))".into());
            texts.push(p.clone());
        }
        (Some(public), _) => clauses.push(format!("is_public = {}", flag(public))),
        (None, _) => {}
    }
    if let Some(disabled) = filter.disabled {
        clauses.push(format!("disabled = {}", flag(disabled)));
    }
    if let Some(ram) = filter.min_memory_mb {
        clauses.push("memory_mb >= ?".into());
        ints.push(ram);
    }
    if let Some(disk) = filter.min_root_gb {
        clauses.push("root_gb >= ?".into());
        ints.push(disk);
    }
    let key = SORT_KEYS.iter().find(|k| **k == filter.sort_key).copied().unwrap_or("flavorid");
    let dir = if filter.descending { "DESC" } else { "ASC" };
    let where_sql = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    let sql = format!("SELECT {COLUMNS} FROM flavors{where_sql} ORDER BY {key} {dir}, id {dir}");
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql);
    for t in texts {
        q = q.bind(t);
    }
    for i in ints {
        q = q.bind(i);
    }
    let mut flavors = q.fetch_all(&db.pool).await?.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    let mut specs = all_extra_specs(db).await?;
    for f in &mut flavors {
        f.extra_specs = specs.remove(&f.id).unwrap_or_default();
    }
    Ok(flavors)
}

/// How many flavors exist (the all-in-one seeds flavors into an empty table).
pub async fn count(db: &Database) -> Result<i64, ApiError> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM flavors").fetch_one(&db.pool).await?;
    Ok(n)
}

/// Stores a new flavor with its extra specs; returns its internal id.
pub async fn create(db: &Database, flavor: &Flavor) -> Result<Result<i64, CreateError>, ApiError> {
    if let Some(conflict) = conflict(db, flavor).await? {
        return Ok(Err(conflict));
    }
    let inserted = insert_with_next_id(db, "flavors", |id| insert_row(db, flavor, id)).await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) if is_duplicate(&e) => return Ok(Err(conflict(db, flavor).await?.unwrap_or(CreateError::IdExists))),
        Err(e) => return Err(e.into()),
    };
    let specs: Vec<(String, String)> = flavor.extra_specs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    set_extra_specs(db, id, &specs).await?;
    Ok(Ok(id))
}

async fn conflict(db: &Database, flavor: &Flavor) -> Result<Option<CreateError>, ApiError> {
    let by_name = sqlx::query(&db.sql("SELECT id FROM flavors WHERE name = ?")).bind(flavor.name.clone()).fetch_optional(&db.pool).await?;
    if by_name.is_some() {
        return Ok(Some(CreateError::NameExists));
    }
    let by_id = sqlx::query(&db.sql("SELECT id FROM flavors WHERE flavorid = ?")).bind(flavor.flavorid.clone()).fetch_optional(&db.pool).await?;
    Ok(by_id.map(|_| CreateError::IdExists))
}

async fn insert_row(db: &Database, f: &Flavor, id: i64) -> Result<(), sqlx::Error> {
    let sql = format!("INSERT INTO flavors ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlx::query(&db.sql(&sql))
        .bind(id)
        .bind(f.flavorid.clone())
        .bind(f.name.clone())
        .bind(f.memory_mb)
        .bind(f.vcpus)
        .bind(f.root_gb)
        .bind(f.ephemeral_gb)
        .bind(f.swap)
        .bind(f.rxtx_factor)
        .bind(f.vcpu_weight)
        .bind(flag(f.disabled))
        .bind(flag(f.is_public))
        .bind(f.description.clone())
        .bind(f.created_at)
        .bind(f.updated_at)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Deletes a flavor with its extra specs and access list; false when there was none.
pub async fn delete(db: &Database, flavorid: &str) -> Result<bool, ApiError> {
    let mut tx = db.begin_write().await?;
    let Some(row) = sqlx::query(&db.sql("SELECT id FROM flavors WHERE flavorid = ?")).bind(flavorid.to_string()).fetch_optional(&mut *tx).await? else {
        return Ok(false);
    };
    let id = row.int("id")?;
    for sql in ["DELETE FROM flavor_extra_specs WHERE flavor_id = ?", "DELETE FROM flavor_projects WHERE flavor_id = ?", "DELETE FROM flavors WHERE id = ?"] {
        sqlx::query(&db.sql(sql)).bind(id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Sets a flavor's description (2.55).
pub async fn set_description(db: &Database, id: i64, description: Option<&str>) -> Result<(), ApiError> {
    sqlx::query(&db.sql("UPDATE flavors SET description = ?, updated_at = ? WHERE id = ?"))
        .bind(description.map(str::to_string))
        .bind(now_micros())
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The extra specs of one flavor.
pub async fn extra_specs(db: &Database, id: i64) -> Result<BTreeMap<String, String>, ApiError> {
    let rows = sqlx::query(&db.sql("SELECT spec_key, spec_value FROM flavor_extra_specs WHERE flavor_id = ?")).bind(id).fetch_all(&db.pool).await?;
    rows.iter().map(|r| Ok((r.text("spec_key")?, r.text("spec_value")?))).collect()
}

async fn all_extra_specs(db: &Database) -> Result<BTreeMap<i64, BTreeMap<String, String>>, ApiError> {
    let rows = sqlx::query("SELECT flavor_id, spec_key, spec_value FROM flavor_extra_specs").fetch_all(&db.pool).await?;
    let mut out: BTreeMap<i64, BTreeMap<String, String>> = BTreeMap::new();
    for r in rows {
        out.entry(r.int("flavor_id")?).or_default().insert(r.text("spec_key")?, r.text("spec_value")?);
    }
    Ok(out)
}

/// Creates or replaces extra specs of a flavor, all in one transaction.
pub async fn set_extra_specs(db: &Database, id: i64, specs: &[(String, String)]) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    for (k, v) in specs {
        sqlx::query(&db.sql("DELETE FROM flavor_extra_specs WHERE flavor_id = ? AND spec_key = ?")).bind(id).bind(k.clone()).execute(&mut *tx).await?;
        sqlx::query(&db.sql("INSERT INTO flavor_extra_specs (flavor_id, spec_key, spec_value) VALUES (?, ?, ?)"))
            .bind(id)
            .bind(k.clone())
            .bind(v.clone())
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(&db.sql("UPDATE flavors SET updated_at = ? WHERE id = ?")).bind(now_micros()).bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes one extra spec; false when the flavor had no such key.
pub async fn delete_extra_spec(db: &Database, id: i64, key: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&db.sql("DELETE FROM flavor_extra_specs WHERE flavor_id = ? AND spec_key = ?")).bind(id).bind(key.to_string()).execute(&db.pool).await?;
    Ok(done.rows_affected() > 0)
}

/// The projects a flavor is shared with, in order.
pub async fn projects(db: &Database, id: i64) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query(&db.sql("SELECT project_id FROM flavor_projects WHERE flavor_id = ? ORDER BY project_id")).bind(id).fetch_all(&db.pool).await?;
    rows.iter().map(|r| r.text("project_id")).collect()
}

/// Shares a flavor with a project; false when it already was.
pub async fn add_project(db: &Database, id: i64, project_id: &str) -> Result<bool, ApiError> {
    let inserted = sqlx::query(&db.sql("INSERT INTO flavor_projects (flavor_id, project_id) VALUES (?, ?)"))
        .bind(id)
        .bind(project_id.to_string())
        .execute(&db.pool)
        .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Stops sharing a flavor with a project; false when it was not shared.
pub async fn remove_project(db: &Database, id: i64, project_id: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&db.sql("DELETE FROM flavor_projects WHERE flavor_id = ? AND project_id = ?")).bind(id).bind(project_id.to_string()).execute(&db.pool).await?;
    Ok(done.rows_affected() > 0)
}
