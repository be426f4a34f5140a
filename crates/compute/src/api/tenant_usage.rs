//! `/os-simple-tenant-usage`: instance hours (and vCPU, RAM and disk hours) per project over a
//! period, from the instances table, deleted instances included. Admins list every project;
//! members see their own. Paging (by instance) from 2.40.

use super::query::Query;
use super::{view, ApiResult, Microversion, State};
use axum::extract::{Path, RawQuery, State as S};
use axum::routing::get;
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::RowExt;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/os-simple-tenant-usage", get(index))
        .route("/v2.1/os-simple-tenant-usage/{tenant_id}", get(show))
}

const MICROS_PER_HOUR: f64 = 3_600_000_000.0;

/// One instance as usage counts it.
struct Usage {
    uuid: String,
    name: Option<String>,
    project_id: String,
    vm_state: String,
    launched_at: i64,
    terminated_at: Option<i64>,
    flavor: Value,
}

/// `start`/`end` as Nova accepts them (naive UTC, with or without fraction); absent is now.
fn parse_time(value: Option<&str>) -> ApiResult<i64> {
    let Some(text) = value.filter(|t| !t.is_empty()) else { return Ok(now_micros()) };
    for fmt in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, fmt) {
            return Ok(t.and_utc().timestamp_micros());
        }
    }
    Err(ApiError::bad_request("Invalid datetime string: Datetime is in invalid format"))
}

/// The period of a request: start before end, end no later than now.
fn period(query: &Query) -> ApiResult<(i64, i64)> {
    let start = parse_time(query.get("start"))?;
    let end = parse_time(query.get("end"))?;
    if start >= end {
        return Err(ApiError::bad_request("Invalid start time. The start time cannot occur after the end time."));
    }
    Ok((start, end.min(now_micros())))
}

/// Instances that ran in the period (launched before its end, not terminated before its
/// start), oldest first, after `marker` and at most `limit`.
async fn instances(state: &State, start: i64, end: i64, project: Option<&str>, limit: usize, marker: Option<&str>) -> ApiResult<Vec<Usage>> {
    let mut sql = "SELECT uuid, display_name, project_id, vm_state, launched_at, terminated_at, flavor FROM instances \
                   WHERE launched_at IS NOT NULL AND launched_at < ? AND (terminated_at IS NULL OR terminated_at > ?)"
        .to_string();
    if project.is_some() {
        sql.push_str(" AND project_id = ?");
    }
    sql.push_str(" ORDER BY created_at, id");
    let sql = state.db.sql(&sql);
    let mut q = sqlx::query(&sql).bind(end).bind(start);
    if let Some(p) = project {
        q = q.bind(p.to_string());
    }
    let mut all = Vec::new();
    for row in q.fetch_all(&state.db.pool).await? {
        all.push(Usage {
            uuid: row.text("uuid")?,
            name: row.opt_text("display_name")?,
            project_id: row.text("project_id")?,
            vm_state: row.text("vm_state")?,
            launched_at: row.int("launched_at")?,
            terminated_at: row.opt_int("terminated_at")?,
            flavor: serde_json::from_str(&row.text("flavor")?).unwrap_or_default(),
        });
    }
    let skip = match marker {
        Some(m) => all.iter().position(|u| u.uuid == m).map(|p| p + 1).ok_or_else(|| ApiError::bad_request(format!("Marker {m} could not be found.")))?,
        None => 0,
    };
    Ok(all.into_iter().skip(skip).take(limit).collect())
}

/// Hours an instance ran within [start, end].
fn hours(u: &Usage, start: i64, end: i64) -> f64 {
    let from = u.launched_at.max(start);
    let to = u.terminated_at.map_or(end, |t| t.min(end));
    (to - from).max(0) as f64 / MICROS_PER_HOUR
}

fn server_usage(u: &Usage, start: i64, end: i64) -> Value {
    let size = |k: &str| u.flavor.get(k).and_then(Value::as_i64).unwrap_or(0);
    let state = if u.terminated_at.is_some() { "terminated".to_string() } else { u.vm_state.clone() };
    let uptime_to = u.terminated_at.unwrap_or_else(now_micros);
    json!({
        "instance_id": u.uuid,
        "name": u.name,
        "tenant_id": u.project_id,
        "hours": hours(u, start, end),
        "flavor": u.flavor.get("name").and_then(Value::as_str).unwrap_or(""),
        "memory_mb": size("memory_mb"),
        "local_gb": size("root_gb") + size("ephemeral_gb"),
        "vcpus": size("vcpus"),
        "started_at": view::timestamp(u.launched_at),
        "ended_at": view::opt_timestamp(u.terminated_at),
        "state": state,
        "uptime": (uptime_to - u.launched_at) / 1_000_000,
    })
}

/// Per-project summaries in the order projects first appear, with their server usages when
/// `detailed`.
fn summarize(usages: &[Usage], start: i64, end: i64, detailed: bool) -> Vec<Value> {
    let mut order: Vec<String> = Vec::new();
    let mut summaries: std::collections::HashMap<String, Map<String, Value>> = std::collections::HashMap::new();
    for u in usages {
        let one = server_usage(u, start, end);
        let h = one["hours"].as_f64().unwrap_or(0.0);
        let entry = summaries.entry(u.project_id.clone()).or_insert_with(|| {
            order.push(u.project_id.clone());
            let mut s = Map::new();
            s.insert("tenant_id".into(), json!(u.project_id));
            if detailed {
                s.insert("server_usages".into(), json!([]));
            }
            for k in ["total_local_gb_usage", "total_vcpus_usage", "total_memory_mb_usage", "total_hours"] {
                s.insert(k.into(), json!(0.0));
            }
            s.insert("start".into(), json!(view::timestamp(start)));
            s.insert("stop".into(), json!(view::timestamp(end)));
            s
        });
        let add = |s: &mut Map<String, Value>, key: &str, amount: f64| {
            let total = s.get(key).and_then(Value::as_f64).unwrap_or(0.0) + amount;
            s.insert(key.into(), json!(total));
        };
        add(entry, "total_local_gb_usage", one["local_gb"].as_f64().unwrap_or(0.0) * h);
        add(entry, "total_vcpus_usage", one["vcpus"].as_f64().unwrap_or(0.0) * h);
        add(entry, "total_memory_mb_usage", one["memory_mb"].as_f64().unwrap_or(0.0) * h);
        add(entry, "total_hours", h);
        if let Some(Value::Array(list)) = entry.get_mut("server_usages") {
            list.push(one);
        }
    }
    order.into_iter().filter_map(|p| summaries.remove(&p).map(Value::Object)).collect()
}

/// limit and marker: from 2.40 as asked (capped), before it the first `max_limit` instances.
fn paging(query: &Query, mv: Microversion) -> ApiResult<(usize, Option<String>)> {
    if mv.at_least(40) {
        let page = query.page()?;
        Ok((page.limit, page.marker))
    } else {
        Ok((super::query::MAX_LIMIT, None))
    }
}

async fn index(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let query = Query::parse(raw.as_deref());
    if mv.at_least(75) {
        query.only(&["start", "end", "detailed", "limit", "marker"])?;
    }
    state.authorize("os_compute_api:os-simple-tenant-usage:list", &json!({"project_id": ctx.project_id, "user_id": ctx.user_id}), &ctx)?;
    let (start, end) = period(&query)?;
    let detailed = query.get("detailed") == Some("1");
    let (limit, marker) = paging(&query, mv)?;
    let usages = instances(&state, start, end, None, limit, marker.as_deref()).await?;
    let mut body = json!({"tenant_usages": summarize(&usages, start, end, detailed)});
    if mv.at_least(40) {
        if let Some(links) = view::next_links(&state, "os-simple-tenant-usage", &query, usages.len(), usages.last().map(|u| u.uuid.as_str())) {
            body["tenant_usages_links"] = links;
        }
    }
    Ok(Json(body))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(tenant_id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let query = Query::parse(raw.as_deref());
    if mv.at_least(75) {
        query.only(&["start", "end", "limit", "marker"])?;
    }
    state.authorize("os_compute_api:os-simple-tenant-usage:show", &json!({"project_id": tenant_id}), &ctx)?;
    let (start, end) = period(&query)?;
    let (limit, marker) = paging(&query, mv)?;
    let usages = instances(&state, start, end, Some(&tenant_id), limit, marker.as_deref()).await?;
    let usage = summarize(&usages, start, end, true).into_iter().next().unwrap_or_else(|| json!({}));
    let mut body = json!({"tenant_usage": usage});
    if mv.at_least(40) {
        let collection = format!("os-simple-tenant-usage/{tenant_id}");
        if let Some(links) = view::next_links(&state, &collection, &query, usages.len(), usages.last().map(|u| u.uuid.as_str())) {
            body["tenant_usage_links"] = links;
        }
    }
    Ok(Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(launched_at: i64, terminated_at: Option<i64>) -> Usage {
        Usage { uuid: "u".into(), name: None, project_id: "p".into(), vm_state: "active".into(), launched_at, terminated_at, flavor: json!({}) }
    }

    #[test]
    fn hours_are_clipped_to_the_period() {
        let hour = 3_600_000_000;
        assert_eq!(hours(&usage(0, None), hour, 3 * hour), 2.0);
        assert_eq!(hours(&usage(2 * hour, Some(5 * hour)), 0, 4 * hour), 2.0);
        assert_eq!(hours(&usage(0, Some(hour)), 2 * hour, 3 * hour), 0.0);
    }

    #[test]
    fn times_parse_in_novas_formats() {
        assert!(parse_time(Some("2026-01-01T00:00:00")).is_ok());
        assert!(parse_time(Some("2026-01-01T00:00:00.123456")).is_ok());
        assert!(parse_time(Some("2026-01-01 00:00:00.5")).is_ok());
        assert!(parse_time(Some("yesterday")).is_err());
    }
}
