//! `/os-hypervisors`: compute nodes with the state and status of their host's compute
//! service. Paging from 2.33; uuids, `hypervisor_hostname_pattern` and `with_servers` from
//! 2.53 (replacing the `search` and `servers` routes); the resource figures, `statistics` and
//! `uptime` go at 2.88 (uptime joins the detail view).

use super::query::{marker_not_found, Query};
use super::{input, view, ApiResult, Microversion, State};
use crate::db::compute_nodes::{self as node_db, ComputeNode};
use crate::db::services::{self as service_db, Service, COMPUTE_BINARY};
use axum::extract::{Path, RawQuery, State as S};
use axum::routing::get;
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::RowExt;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/os-hypervisors", get(index))
        .route("/v2.1/os-hypervisors/detail", get(detail))
        .route("/v2.1/os-hypervisors/statistics", get(statistics))
        .route("/v2.1/os-hypervisors/{id}", get(show))
        .route("/v2.1/os-hypervisors/{id}/uptime", get(uptime))
        .route("/v2.1/os-hypervisors/{id}/search", get(search))
        .route("/v2.1/os-hypervisors/{id}/servers", get(servers))
}

fn gone() -> ApiError {
    ApiError::not_found("The resource could not be found.")
}

fn authorize(state: &State, ctx: &AuthContext, action: &str) -> ApiResult<()> {
    state.authorize(&format!("os_compute_api:os-hypervisors:{action}"), &json!({}), ctx)
}

/// The servers on a host, as (instance name, uuid); Nova shows the hypervisor-side name
/// (`instance-%08x`), not the display name.
async fn servers_on(state: &State, host: &str) -> ApiResult<Vec<(String, String)>> {
    let sql = "SELECT id, uuid FROM instances WHERE host = ? AND deleted = 0 ORDER BY created_at, id";
    let rows = sqlx::query(&state.db.sql(sql)).bind(host.to_string()).fetch_all(&state.db.pool).await?;
    rows.iter().map(|r| Ok((format!("instance-{:08x}", r.int("id")?), r.text("uuid")?))).collect()
}

/// How one node is shown.
#[derive(Clone, Copy)]
struct Shape {
    detail: bool,
    /// `servers` are listed (the pre-2.53 servers route, or `with_servers`).
    with_servers: bool,
}

async fn render(state: &State, node: &ComputeNode, service: &Service, mv: Microversion, shape: Shape) -> ApiResult<Value> {
    let up = service_db::is_up(service, state.config.compute.service_down_time, now_micros());
    let uuids = mv.at_least(53);
    let mut v = json!({
        "id": if uuids { json!(node.uuid) } else { json!(node.id) },
        "hypervisor_hostname": node.hypervisor_hostname,
        "state": if up { "up" } else { "down" },
        "status": if service.disabled { "disabled" } else { "enabled" },
    });
    if shape.detail {
        v["hypervisor_type"] = json!(node.hypervisor_type);
        v["hypervisor_version"] = json!(node.hypervisor_version);
        v["host_ip"] = json!(node.host_ip);
        v["service"] = json!({
            "id": if uuids { json!(service.uuid) } else { json!(service.id) },
            "host": node.host,
            "disabled_reason": service.disabled_reason,
        });
        if mv.at_least(88) {
            v["uptime"] = node.stats.get("uptime").cloned().unwrap_or(Value::Null);
        } else {
            add_resources(&mut v, node, mv);
        }
    }
    if shape.with_servers {
        let servers = servers_on(state, &node.host).await?;
        if !servers.is_empty() || mv.at_least(75) {
            v["servers"] = servers.iter().map(|(name, uuid)| json!({"name": name, "uuid": uuid})).collect();
        }
    }
    Ok(v)
}

fn add_resources(v: &mut Value, node: &ComputeNode, mv: Microversion) {
    let figures = [
        ("vcpus", node.vcpus),
        ("memory_mb", node.memory_mb),
        ("local_gb", node.local_gb),
        ("vcpus_used", node.vcpus_used),
        ("memory_mb_used", node.memory_mb_used),
        ("local_gb_used", node.local_gb_used),
        ("free_ram_mb", node.free_ram_mb),
        ("free_disk_gb", node.free_disk_gb),
        ("current_workload", node.current_workload),
        ("running_vms", node.running_vms),
    ];
    for (k, n) in figures {
        v[k] = json!(n);
    }
    v["disk_available_least"] = json!(node.disk_available_least);
    v["cpu_info"] = if mv.at_least(28) {
        serde_json::from_str::<Value>(&node.cpu_info).ok().filter(Value::is_object).unwrap_or_else(|| json!({}))
    } else {
        json!(node.cpu_info)
    };
}

/// Nodes paired with their host's compute service; nodes of deleted services are left out,
/// as Nova leaves them out.
async fn with_services(state: &State, nodes: Vec<ComputeNode>) -> ApiResult<Vec<(ComputeNode, Service)>> {
    let services = service_db::list(&state.db, None, Some(COMPUTE_BINARY)).await?;
    Ok(nodes.into_iter().filter_map(|n| services.iter().find(|s| s.host == n.host).cloned().map(|s| (n, s))).collect())
}

/// Nodes whose hypervisor hostname contains `pattern` (Nova's LIKE match), or Nova's 404.
async fn matching(state: &State, pattern: &str) -> ApiResult<Vec<ComputeNode>> {
    let nodes: Vec<ComputeNode> = node_db::list(&state.db).await?.into_iter().filter(|n| n.hypervisor_hostname.contains(pattern)).collect();
    if nodes.is_empty() {
        return Err(ApiError::not_found(format!("No hypervisor matching '{pattern}' could be found.")));
    }
    Ok(nodes)
}

async fn list(state: &State, ctx: &AuthContext, mv: Microversion, raw: Option<String>, detail: bool) -> ApiResult<Json<Value>> {
    let query = Query::parse(raw.as_deref());
    if mv.at_least(53) {
        query.only(&["limit", "marker", "hypervisor_hostname_pattern", "with_servers"])?;
    }
    authorize(state, ctx, if detail { "list-detail" } else { "list" })?;
    let paged = mv.at_least(33);
    let page = if paged { Some(query.page()?) } else { None };
    let pattern = if mv.at_least(53) { query.get("hypervisor_hostname_pattern") } else { None };
    let with_servers = match query.get("with_servers") {
        Some(v) if mv.at_least(53) => input::parse_bool(v).ok_or_else(|| ApiError::bad_request(format!("Invalid input for query parameters with_servers. Value: {v}.")))?,
        _ => false,
    };
    let nodes = match pattern {
        Some(p) => {
            if query.has("limit") || query.has("marker") {
                return Err(ApiError::bad_request("Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported."));
            }
            matching(state, p).await?
        }
        None => {
            let all = node_db::list(&state.db).await?;
            match &page {
                Some(page) => page_nodes(all, page, mv)?,
                None => all,
            }
        }
    };
    let shape = Shape { detail, with_servers };
    let mut items = Vec::new();
    for (node, service) in with_services(state, nodes).await? {
        items.push(render(state, &node, &service, mv, shape).await?);
    }
    let mut body = json!({"hypervisors": items});
    if paged && pattern.is_none() {
        let last = items.last().map(|h| match &h["id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let collection = if detail { "os-hypervisors/detail" } else { "os-hypervisors" };
        if let Some(links) = view::next_links(state, collection, &query, items.len(), last.as_deref()) {
            body["hypervisors_links"] = links;
        }
    }
    Ok(Json(body))
}

/// Nodes after the marker (an id before 2.53, a uuid from it), at most `limit`.
fn page_nodes(all: Vec<ComputeNode>, page: &super::query::Page, mv: Microversion) -> ApiResult<Vec<ComputeNode>> {
    let start = match &page.marker {
        None => 0,
        Some(m) => {
            let pos = all.iter().position(|n| if mv.at_least(53) { &n.uuid == m } else { n.id.to_string() == *m });
            pos.map(|p| p + 1).ok_or_else(|| marker_not_found(m))?
        }
    };
    Ok(all.into_iter().skip(start).take(page.limit).collect())
}

async fn index(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    list(&state, &ctx, mv, raw, false).await
}

async fn detail(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    list(&state, &ctx, mv, raw, true).await
}

/// The node `id` with its service: ids are integers before 2.53 and uuids from it.
async fn find(state: &State, mv: Microversion, id: &str) -> ApiResult<(ComputeNode, Service)> {
    let not_found = || ApiError::not_found(format!("Hypervisor with ID '{id}' could not be found."));
    let node = if mv.at_least(53) {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(ApiError::bad_request(format!("Invalid uuid {id}")));
        }
        node_db::by_uuid(&state.db, id).await?
    } else {
        let n = id.trim().parse::<i64>().map_err(|_| not_found())?;
        node_db::by_id(&state.db, n).await?
    };
    let node = node.ok_or_else(not_found)?;
    let service = service_db::by_host_and_binary(&state.db, &node.host, COMPUTE_BINARY).await?.ok_or_else(not_found)?;
    Ok((node, service))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let query = Query::parse(raw.as_deref());
    if mv.at_least(53) {
        query.only(&["with_servers"])?;
    }
    let with_servers = match query.get("with_servers") {
        Some(v) if mv.at_least(53) => input::parse_bool(v).ok_or_else(|| ApiError::bad_request(format!("Invalid input for query parameters with_servers. Value: {v}.")))?,
        _ => false,
    };
    authorize(&state, &ctx, "show")?;
    let (node, service) = find(&state, mv, &id).await?;
    Ok(Json(json!({"hypervisor": render(&state, &node, &service, mv, Shape { detail: true, with_servers }).await?})))
}

async fn uptime(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    if mv.at_least(88) {
        return Err(gone());
    }
    authorize(&state, &ctx, "uptime")?;
    let (node, service) = find(&state, mv, &id).await?;
    let Some(up) = node.stats.get("uptime").cloned() else {
        return Err(ApiError::not_implemented("Action is not supported."));
    };
    let mut v = render(&state, &node, &service, mv, Shape { detail: false, with_servers: false }).await?;
    v["uptime"] = up;
    Ok(Json(json!({"hypervisor": v})))
}

async fn search(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(pattern): Path<String>) -> ApiResult<Json<Value>> {
    matches_before_253(&state, &ctx, mv, &pattern, "search", false).await
}

async fn servers(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(pattern): Path<String>) -> ApiResult<Json<Value>> {
    matches_before_253(&state, &ctx, mv, &pattern, "servers", true).await
}

/// The pre-2.53 `search` and `servers` routes.
async fn matches_before_253(state: &State, ctx: &AuthContext, mv: Microversion, pattern: &str, action: &str, with_servers: bool) -> ApiResult<Json<Value>> {
    if mv.at_least(53) {
        return Err(gone());
    }
    authorize(state, ctx, action)?;
    let nodes = matching(state, pattern).await?;
    let mut items = Vec::new();
    for (node, service) in with_services(state, nodes).await? {
        items.push(render(state, &node, &service, mv, Shape { detail: false, with_servers }).await?);
    }
    Ok(Json(json!({"hypervisors": items})))
}

async fn statistics(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion) -> ApiResult<Json<Value>> {
    if mv.at_least(88) {
        return Err(gone());
    }
    authorize(&state, &ctx, "statistics")?;
    // Nova sums over nodes whose compute service is enabled.
    let nodes: Vec<ComputeNode> = with_services(&state, node_db::list(&state.db).await?).await?.into_iter().filter(|(_, s)| !s.disabled).map(|(n, _)| n).collect();
    let sum = |f: fn(&ComputeNode) -> i64| nodes.iter().map(f).sum::<i64>();
    Ok(Json(json!({"hypervisor_statistics": {
        "count": nodes.len(),
        "vcpus": sum(|n| n.vcpus),
        "memory_mb": sum(|n| n.memory_mb),
        "local_gb": sum(|n| n.local_gb),
        "vcpus_used": sum(|n| n.vcpus_used),
        "memory_mb_used": sum(|n| n.memory_mb_used),
        "local_gb_used": sum(|n| n.local_gb_used),
        "free_ram_mb": sum(|n| n.free_ram_mb),
        "free_disk_gb": sum(|n| n.free_disk_gb),
        "current_workload": sum(|n| n.current_workload),
        "running_vms": sum(|n| n.running_vms),
        "disk_available_least": sum(|n| n.disk_available_least.unwrap_or(0)),
    }})))
}
