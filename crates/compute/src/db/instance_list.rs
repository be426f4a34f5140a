//! Listing instances with Nova's exact-match filters in SQL (project, user, states, host,
//! image, flavor, uuids, lock, tags, deletion, change times). Regular-expression filters and
//! ordering are applied by the caller: SQL regular expressions are not portable.

use super::instances::{from_row, Instance, COLUMNS};
use crate::states::vm;
use monostack_common::ApiError;
use monostack_db::Database;

/// Which instances by deletion state (Nova's `deleted` and `soft_deleted` filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deleted {
    /// Live instances, not soft-deleted ones (the default listing).
    #[default]
    Live,
    /// Live instances including soft-deleted ones.
    LiveAndSoftDeleted,
    /// Deleted instances, plus soft-deleted ones unless `soft_deleted=false`.
    Deleted { soft_deleted: bool },
    /// Everything (a `changes-since`/`changes-before` listing shows recent deletions).
    Any,
}

/// The exact filters of a listing; None means "not filtered".
#[derive(Debug, Clone, Default)]
pub struct ExactFilters {
    pub project_id: Option<String>,
    pub user_id: Option<String>,
    pub uuids: Option<Vec<String>>,
    pub vm_states: Option<Vec<String>>,
    /// Task states to match; `None` inside the list matches instances without a task.
    pub task_states: Option<Vec<Option<String>>>,
    pub host: Option<String>,
    pub image_ref: Option<String>,
    pub instance_type_id: Option<i64>,
    pub locked: Option<bool>,
    pub deleted: Deleted,
    pub changes_since: Option<i64>,
    pub changes_before: Option<i64>,
    /// All of these tags.
    pub tags: Vec<String>,
    /// Any of these tags.
    pub tags_any: Vec<String>,
    /// Not all of these tags together.
    pub not_tags: Vec<String>,
    /// None of these tags.
    pub not_tags_any: Vec<String>,
}

enum Bind {
    Text(String),
    Int(i64),
}

fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn tag_clauses(f: &ExactFilters, clauses: &mut Vec<String>, binds: &mut Vec<Bind>) {
    for tag in &f.tags {
        clauses.push("uuid IN (SELECT instance_uuid FROM instance_tags WHERE tag = ?)".into());
        binds.push(Bind::Text(tag.clone()));
    }
    if !f.tags_any.is_empty() {
        clauses.push(format!("uuid IN (SELECT instance_uuid FROM instance_tags WHERE tag IN ({}))", marks(f.tags_any.len())));
        binds.extend(f.tags_any.iter().cloned().map(Bind::Text));
    }
    if !f.not_tags.is_empty() {
        let n = f.not_tags.len();
        clauses.push(format!(
            "uuid NOT IN (SELECT instance_uuid FROM instance_tags WHERE tag IN ({}) GROUP BY instance_uuid HAVING COUNT(DISTINCT tag) = {n})",
            marks(n)
        ));
        binds.extend(f.not_tags.iter().cloned().map(Bind::Text));
    }
    if !f.not_tags_any.is_empty() {
        clauses.push(format!("uuid NOT IN (SELECT instance_uuid FROM instance_tags WHERE tag IN ({}))", marks(f.not_tags_any.len())));
        binds.extend(f.not_tags_any.iter().cloned().map(Bind::Text));
    }
}

fn deleted_clause(deleted: Deleted, clauses: &mut Vec<String>, binds: &mut Vec<Bind>) {
    match deleted {
        Deleted::Live => {
            clauses.push("deleted = 0 AND vm_state <> ?".into());
            binds.push(Bind::Text(vm::SOFT_DELETED.into()));
        }
        Deleted::LiveAndSoftDeleted => clauses.push("deleted = 0".into()),
        Deleted::Deleted { soft_deleted: true } => {
            clauses.push("(deleted <> 0 OR vm_state = ?)".into());
            binds.push(Bind::Text(vm::SOFT_DELETED.into()));
        }
        Deleted::Deleted { soft_deleted: false } => clauses.push("deleted <> 0".into()),
        Deleted::Any => {}
    }
}

fn task_clause(states: &[Option<String>], clauses: &mut Vec<String>, binds: &mut Vec<Bind>) {
    let named: Vec<&String> = states.iter().flatten().collect();
    let mut alternatives = Vec::new();
    if !named.is_empty() {
        alternatives.push(format!("task_state IN ({})", marks(named.len())));
        binds.extend(named.into_iter().cloned().map(Bind::Text));
    }
    if states.iter().any(Option::is_none) {
        alternatives.push("task_state IS NULL".into());
    }
    clauses.push(if alternatives.is_empty() { "1 = 0".into() } else { format!("({})", alternatives.join(" OR ")) });
}

/// Instances matching `f`, in no particular order (hidden ones never).
pub async fn list(db: &Database, f: &ExactFilters) -> Result<Vec<Instance>, ApiError> {
    let mut clauses: Vec<String> = vec!["hidden = 0".into()];
    let mut binds: Vec<Bind> = Vec::new();
    deleted_clause(f.deleted, &mut clauses, &mut binds);
    for (column, value) in [("project_id", &f.project_id), ("user_id", &f.user_id), ("host", &f.host), ("image_ref", &f.image_ref)] {
        if let Some(v) = value {
            clauses.push(format!("{column} = ?"));
            binds.push(Bind::Text(v.clone()));
        }
    }
    for (column, values) in [("uuid", &f.uuids), ("vm_state", &f.vm_states)] {
        if let Some(values) = values {
            if values.is_empty() {
                return Ok(Vec::new());
            }
            clauses.push(format!("{column} IN ({})", marks(values.len())));
            binds.extend(values.iter().cloned().map(Bind::Text));
        }
    }
    if let Some(states) = &f.task_states {
        task_clause(states, &mut clauses, &mut binds);
    }
    if let Some(id) = f.instance_type_id {
        clauses.push("instance_type_id = ?".into());
        binds.push(Bind::Int(id));
    }
    if let Some(locked) = f.locked {
        clauses.push("locked = ?".into());
        binds.push(Bind::Int(i64::from(locked)));
    }
    if let Some(t) = f.changes_since {
        clauses.push("COALESCE(updated_at, created_at) >= ?".into());
        binds.push(Bind::Int(t));
    }
    if let Some(t) = f.changes_before {
        clauses.push("COALESCE(updated_at, created_at) <= ?".into());
        binds.push(Bind::Int(t));
    }
    tag_clauses(f, &mut clauses, &mut binds);
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE {}", clauses.join(" AND "));
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = match b {
            Bind::Text(t) => q.bind(t),
            Bind::Int(n) => q.bind(n),
        };
    }
    q.fetch_all(&db.pool).await?.iter().map(from_row).collect()
}
