//! The image list query: Glance's visibility rules for the caller, the filters, and the order.

use super::images::{from_row, ImageRecord, COLUMNS};
use monostack_common::ApiError;
use monostack_db::Database;

/// Who is listing: admins see every image; others what Glance's visibility rules allow.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub project_id: Option<String>,
    pub is_admin: bool,
}

/// A value bound to a `?` of the query.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
}

/// One `column <op> value` condition on a core attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub column: &'static str,
    /// `=`, `<>`, `<`, `<=`, `>`, `>=`, `IN` (any number of values) or `BETWEEN` (two).
    pub op: &'static str,
    pub values: Vec<Param>,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// public, private, shared, community or all; None is Glance's default view.
    pub visibility: Option<String>,
    /// Member status of shared images to include: pending, accepted, rejected or all.
    pub member_status: String,
    pub conditions: Vec<Condition>,
    /// Hidden images are left out unless asked for (`os_hidden=true` lists only them).
    pub os_hidden: bool,
    pub tags: Vec<String>,
    pub properties: Vec<(String, String)>,
    /// (column, descending) in priority order.
    pub sort: Vec<(&'static str, bool)>,
}

/// Every image matching `query` that `viewer` may see, in order, with properties and tags
/// left empty (load them with [`super::images::load_details`] for the page returned).
pub async fn list(db: &Database, viewer: &Viewer, query: &ListQuery) -> Result<Vec<ImageRecord>, ApiError> {
    let mut clauses = vec!["deleted = 0".to_string()];
    let mut params: Vec<Param> = Vec::new();
    visibility_clause(viewer, query, &mut clauses, &mut params);
    clauses.push("os_hidden = ?".into());
    params.push(Param::Int(i64::from(query.os_hidden)));
    for c in &query.conditions {
        if c.op == "IN" {
            clauses.push(format!("{} IN ({})", c.column, vec!["?"; c.values.len()].join(", ")));
        } else if c.op == "BETWEEN" {
            clauses.push(format!("{} BETWEEN ? AND ?", c.column));
        } else {
            clauses.push(format!("{} {} ?", c.column, c.op));
        }
        params.extend(c.values.iter().cloned());
    }
    for tag in &query.tags {
        clauses.push("id IN (SELECT image_id FROM image_tags WHERE value = ?)".into());
        params.push(Param::Text(tag.clone()));
    }
    for (name, value) in &query.properties {
        clauses.push("id IN (SELECT image_id FROM image_properties WHERE name = ? AND value = ?)".into());
        params.push(Param::Text(name.clone()));
        params.push(Param::Text(value.clone()));
    }
    let mut order: Vec<String> = query.sort.iter().map(|(c, desc)| format!("{c} {}", if *desc { "DESC" } else { "ASC" })).collect();
    if !query.sort.iter().any(|(c, _)| *c == "id") {
        let last_desc = query.sort.last().map(|(_, d)| *d).unwrap_or(true);
        order.push(format!("id {}", if last_desc { "DESC" } else { "ASC" }));
    }
    let sql = format!("SELECT {COLUMNS} FROM images WHERE {} ORDER BY {}", clauses.join(" AND "), order.join(", "));
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql);
    for p in params {
        q = match p {
            Param::Text(s) => q.bind(s),
            Param::Int(i) => q.bind(i),
        };
    }
    let rows = q.fetch_all(&db.pool).await?;
    rows.iter().map(from_row).collect()
}

/// Glance's rules: admins see everything; others see public images, their own, community
/// images only when asking for them, and shared images they are a member of (accepted ones
/// unless `member_status` says otherwise).
fn visibility_clause(viewer: &Viewer, query: &ListQuery, clauses: &mut Vec<String>, params: &mut Vec<Param>) {
    let wanted = query.visibility.as_deref().filter(|v| *v != "all");
    if viewer.is_admin {
        if let Some(v) = wanted {
            clauses.push("visibility = ?".into());
            params.push(Param::Text(v.into()));
        }
        return;
    }
    let project = viewer.project_id.clone().unwrap_or_default();
    let (member_sql, member_params) = if query.member_status == "all" {
        ("id IN (SELECT image_id FROM image_members WHERE member = ?)", vec![Param::Text(project.clone())])
    } else {
        (
            "id IN (SELECT image_id FROM image_members WHERE member = ? AND status = ?)",
            vec![Param::Text(project.clone()), Param::Text(query.member_status.clone())],
        )
    };
    match wanted {
        None => {
            clauses.push(format!("(visibility = 'public' OR owner = ? OR (visibility = 'shared' AND {member_sql}))"));
            params.push(Param::Text(project));
            params.extend(member_params);
        }
        Some("public") | Some("community") => {
            clauses.push("visibility = ?".into());
            params.push(Param::Text(wanted.unwrap_or_default().into()));
        }
        Some("private") => {
            clauses.push("visibility = 'private' AND owner = ?".into());
            params.push(Param::Text(project));
        }
        Some(_) => {
            clauses.push(format!("visibility = 'shared' AND (owner = ? OR {member_sql})"));
            params.push(Param::Text(project));
            params.extend(member_params);
        }
    }
}
