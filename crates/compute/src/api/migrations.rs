//! `GET /os-migrations`: migration records (resize, cold and live migration, evacuation) with
//! Nova's filters. `migration_type` and links to in-progress live migrations from 2.23;
//! uuids, newest-first paging and `changes-since` from 2.59; `changes-before` from 2.66;
//! `user_id`/`project_id` from 2.80. Hidden records (the half of a cross-cell move) are never
//! shown; host fields are blanked for callers the `index:host` rule does not allow.

use super::query::Query;
use super::{view, ApiResult, Microversion, State};
use axum::extract::{RawQuery, State as S};
use axum::routing::get;
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_common::ApiError;
use monostack_db::RowExt;
use serde_json::{json, Value};
use sqlx::any::AnyRow;

pub fn routes() -> Router<State> {
    Router::new().route("/v2.1/os-migrations", get(index))
}

const LIVE_IN_PROGRESS: &[&str] = &["queued", "preparing", "running", "post-migrating"];

const COLUMNS: &str = "id, uuid, instance_uuid, source_compute, dest_compute, source_node, dest_node, dest_host, old_instance_type_id, new_instance_type_id, status, migration_type, hidden, project_id, user_id, created_at, updated_at";

/// The filters of the request, as SQL conditions with their text values.
fn filters(query: &Query, mv: Microversion) -> ApiResult<(Vec<String>, Vec<String>, Vec<i64>)> {
    let mut clauses = vec!["deleted = 0".to_string(), "hidden = 0".to_string()];
    let mut texts = Vec::new();
    let mut times = Vec::new();
    for (param, column) in [("instance_uuid", "instance_uuid"), ("source_compute", "source_compute"), ("status", "status"), ("migration_type", "migration_type")] {
        if let Some(v) = query.get(param) {
            clauses.push(format!("{column} = ?"));
            texts.push(v.to_string());
        }
    }
    if let Some(host) = query.get("host") {
        clauses.push("(source_compute = ? OR dest_compute = ?)".into());
        texts.push(host.to_string());
        texts.push(host.to_string());
    }
    // Documented from 2.80, but Nova filters on them whenever they are given.
    for param in ["user_id", "project_id"] {
        if let Some(v) = query.get(param) {
            clauses.push(format!("{param} = ?"));
            texts.push(v.to_string());
        }
    }
    let time = |param: &str| -> ApiResult<Option<i64>> {
        query
            .get(param)
            .map(|v| monostack_common::time::parse_iso(v).ok_or_else(|| ApiError::bad_request(format!("Invalid input for query parameters {param}. Value: {v}. '{v}' is not a 'date-time'"))))
            .transpose()
    };
    let since = if mv.at_least(59) { time("changes-since")? } else { None };
    let before = if mv.at_least(66) { time("changes-before")? } else { None };
    if let (Some(s), Some(b)) = (since, before) {
        if b < s {
            return Err(ApiError::bad_request("The value of changes-since must be less than or equal to changes-before."));
        }
    }
    if let Some(s) = since {
        clauses.push("COALESCE(updated_at, created_at) >= ?".into());
        times.push(s);
    }
    if let Some(b) = before {
        clauses.push("COALESCE(updated_at, created_at) <= ?".into());
        times.push(b);
    }
    Ok((clauses, texts, times))
}

fn render(state: &State, row: &AnyRow, mv: Microversion, show_hosts: bool) -> ApiResult<Value> {
    let host = |col: &str| -> ApiResult<Value> { Ok(if show_hosts { json!(row.opt_text(col)?) } else { Value::Null }) };
    let id = row.int("id")?;
    let instance = row.text("instance_uuid")?;
    let mut v = json!({
        "id": id,
        "instance_uuid": instance,
        "source_compute": host("source_compute")?,
        "dest_compute": host("dest_compute")?,
        "source_node": host("source_node")?,
        "dest_node": host("dest_node")?,
        "dest_host": host("dest_host")?,
        "old_instance_type_id": row.opt_int("old_instance_type_id")?,
        "new_instance_type_id": row.opt_int("new_instance_type_id")?,
        "status": row.text("status")?,
        "created_at": view::timestamp(row.int("created_at")?),
        "updated_at": view::opt_timestamp(row.opt_int("updated_at")?),
    });
    if mv.at_least(23) {
        let kind = row.text("migration_type")?;
        if kind == "live-migration" && LIVE_IN_PROGRESS.contains(&v["status"].as_str().unwrap_or_default()) {
            v["links"] = view::links(state, &format!("servers/{instance}/migrations"), &id.to_string());
        }
        v["migration_type"] = json!(kind);
    }
    if mv.at_least(59) {
        v["uuid"] = json!(row.text("uuid")?);
    }
    if mv.at_least(80) {
        v["user_id"] = json!(row.opt_text("user_id")?);
        v["project_id"] = json!(row.opt_text("project_id")?);
    }
    Ok(v)
}

async fn index(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let query = Query::parse(raw.as_deref());
    if mv.at_least(59) {
        let mut allowed = vec!["hidden", "host", "instance_uuid", "source_compute", "status", "migration_type", "limit", "marker", "changes-since"];
        if mv.at_least(66) {
            allowed.push("changes-before");
        }
        if mv.at_least(80) {
            allowed.extend(["user_id", "project_id"]);
        }
        query.only(&allowed)?;
    }
    let own = json!({"project_id": ctx.project_id, "user_id": ctx.user_id});
    state.authorize("os_compute_api:os-migrations:index", &own, &ctx)?;
    let scoped_to_own = query.get("project_id").is_some_and(|p| Some(p) == ctx.project_id.as_deref());
    if !scoped_to_own {
        state.authorize("os_compute_api:os-migrations:index:all_projects", &own, &ctx)?;
    }
    let show_hosts = state.policy.enforce("os_compute_api:os-migrations:index:host", &own, ctx.policy_creds());
    let (clauses, texts, times) = filters(&query, mv)?;
    let order = if mv.at_least(59) { "created_at DESC, id DESC" } else { "id" };
    let sql = format!("SELECT {COLUMNS} FROM migrations WHERE {} ORDER BY {order}", clauses.join(" AND "));
    let sql = state.db.sql(&sql);
    let mut q = sqlx::query(&sql);
    for t in texts {
        q = q.bind(t);
    }
    for t in times {
        q = q.bind(t);
    }
    let mut rows = q.fetch_all(&state.db.pool).await?;
    let paged = mv.at_least(59);
    if paged {
        let page = query.page()?;
        let start = match &page.marker {
            Some(m) => {
                let pos = rows.iter().position(|r| r.text("uuid").ok().as_deref() == Some(m.as_str()));
                pos.map(|p| p + 1).ok_or_else(|| ApiError::bad_request(format!("Marker {m} could not be found.")))?
            }
            None => 0,
        };
        rows = rows.into_iter().skip(start).take(page.limit).collect();
    }
    let items = rows.iter().map(|r| render(&state, r, mv, show_hosts)).collect::<ApiResult<Vec<_>>>()?;
    let mut body = json!({"migrations": items});
    if paged {
        let last = rows.last().map(|r| r.text("uuid")).transpose()?;
        if let Some(links) = view::next_links(&state, "os-migrations", &query, rows.len(), last.as_deref()) {
            body["migrations_links"] = links;
        }
    }
    Ok(Json(body))
}
