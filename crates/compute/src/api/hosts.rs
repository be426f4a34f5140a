//! `/os-hosts` (deprecated, gone from 2.43): the hosts of the enabled services with their
//! zone, a compute host's resources (its node's totals and usage, and what its servers take per
//! project), and the host operations its compute agent answers: status, maintenance mode and
//! power actions (`GET …/startup`, `…/shutdown`, `…/reboot`).

use super::availability_zones::with_zones;
use super::query::Query;
use super::{input, validation, ApiResult, Microversion, State};
use crate::api::caller::Caller;
use crate::compute_api::hosts as host_api;
use crate::db::compute_nodes as node_db;
use crate::db::instance_list::{self, Deleted, ExactFilters};
use crate::db::instances::Instance;
use crate::db::services as service_db;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as S};
use axum::routing::get;
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/os-hosts", get(index))
        .route("/v2.1/os-hosts/{host}", get(show).put(update))
        .route("/v2.1/os-hosts/{host}/startup", get(startup))
        .route("/v2.1/os-hosts/{host}/shutdown", get(shutdown))
        .route("/v2.1/os-hosts/{host}/reboot", get(reboot))
}

/// The API is gone from 2.43 (os-services and os-hypervisors replace it).
fn check_version(mv: Microversion) -> ApiResult<()> {
    if mv.at_least(43) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    Ok(())
}

fn authorize(state: &State, ctx: &AuthContext, action: &str) -> ApiResult<()> {
    state.authorize(&format!("os_compute_api:os-hosts:{action}"), &json!({}), ctx)
}

/// The hosts of enabled services, each with its service's topic and zone; `zone` (when not
/// blank) keeps those of that zone.
async fn index(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    check_version(mv)?;
    authorize(&state, &ctx, "list")?;
    let query = Query::parse(raw.as_deref());
    let zone = query.get("zone").filter(|z| !z.is_empty());
    let enabled = service_db::list(&state.db, None, None).await?.into_iter().filter(|s| !s.disabled).collect();
    let hosts: Vec<Value> = with_zones(&state, enabled)
        .await?
        .into_iter()
        .filter(|(_, z)| zone.is_none_or(|wanted| z == wanted))
        .map(|(s, z)| {
            let topic = s.topic.clone().unwrap_or_else(|| s.binary.trim_start_matches("nova-").to_string());
            json!({"host_name": s.host, "service": topic, "zone": z})
        })
        .collect();
    Ok(Json(json!({"hosts": hosts})))
}

/// One line of a host's resources.
fn resource(host: &str, project: &str, cpu: i64, memory_mb: i64, disk_gb: i64) -> Value {
    json!({"resource": {"host": host, "project": project, "cpu": cpu, "memory_mb": memory_mb, "disk_gb": disk_gb}})
}

/// (vcpus, memory MB, root + ephemeral GB) of a server's flavor.
fn footprint(i: &Instance) -> (i64, i64, i64) {
    (i.flavor.vcpus, i.flavor.memory_mb, i.flavor.root_gb + i.flavor.ephemeral_gb)
}

/// The host's node totals (`(total)`), the node's usage (`(used_now)`), what its servers'
/// flavors add up to (`(used_max)`), then the same per project, in the order the projects'
/// first servers were created.
async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(host): Path<String>) -> ApiResult<Json<Value>> {
    check_version(mv)?;
    authorize(&state, &ctx, "show")?;
    let mut nodes = node_db::by_host(&state.db, &host).await?;
    nodes.sort_by_key(|n| n.id);
    let node = nodes.first().ok_or_else(|| ApiError::not_found(format!("Compute host {host} could not be found.")))?;
    let filters = ExactFilters { host: Some(host.clone()), deleted: Deleted::LiveAndSoftDeleted, ..ExactFilters::default() };
    let mut instances = instance_list::list(&state.db, &filters).await?;
    instances.sort_by_key(|i| (i.created_at, i.id));
    let mut lines = vec![
        resource(&host, "(total)", node.vcpus, node.memory_mb, node.local_gb),
        resource(&host, "(used_now)", node.vcpus_used, node.memory_mb_used, node.local_gb_used),
    ];
    let mut total = (0, 0, 0);
    let mut projects: Vec<(String, (i64, i64, i64))> = Vec::new();
    for i in &instances {
        let (c, m, d) = footprint(i);
        total = (total.0 + c, total.1 + m, total.2 + d);
        match projects.iter_mut().find(|(p, _)| *p == i.project_id) {
            Some((_, sum)) => *sum = (sum.0 + c, sum.1 + m, sum.2 + d),
            None => projects.push((i.project_id.clone(), (c, m, d))),
        }
    }
    lines.push(resource(&host, "(used_max)", total.0, total.1, total.2));
    lines.extend(projects.iter().map(|(p, (c, m, d))| resource(&host, p, *c, *m, *d)));
    Ok(Json(json!({"host": lines})))
}

/// `enable`/`disable` in any of the three spellings Nova's schema lists, as a flag.
fn switch(body: &Map<String, Value>, key: &str) -> ApiResult<Option<bool>> {
    let Some(value) = body.get(key) else { return Ok(None) };
    let choices = ["enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE"];
    Ok(Some(validation::one_of(key, value, &choices)?.eq_ignore_ascii_case("enable")))
}

/// `{"status": "enable"|"disable", "maintenance_mode": "enable"|"disable"}` (at least one):
/// each is asked of the host's agent, status first.
async fn update(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(host): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    check_version(mv)?;
    let body = input::parse(&body)?;
    let obj = input::object(&body, "body")?;
    input::only(obj, &["status", "maintenance_mode"], None)?;
    if !obj.contains_key("status") && !obj.contains_key("maintenance_mode") {
        return Err(ApiError::bad_request(format!("{body} is not valid under any of the given schemas")));
    }
    let status = switch(obj, "status")?;
    let maintenance = switch(obj, "maintenance_mode")?;
    authorize(&state, &ctx.auth, "update")?;
    let mut result = json!({"host": host});
    if let Some(enabled) = status {
        result["status"] = json!(host_api::set_host_enabled(&state, &ctx, &host, enabled).await?);
    }
    if let Some(on) = maintenance {
        result["maintenance_mode"] = json!(host_api::set_maintenance(&state, &ctx, &host, on).await?);
    }
    Ok(Json(result))
}

async fn power_action(state: &State, ctx: &crate::context::RequestContext, mv: Microversion, host: &str, action: &str, rule: &str) -> ApiResult<Json<Value>> {
    check_version(mv)?;
    authorize(state, &ctx.auth, rule)?;
    let answer = host_api::power_action(state, ctx, host, action).await?;
    Ok(Json(json!({"host": host, "power_action": answer})))
}

async fn startup(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(host): Path<String>) -> ApiResult<Json<Value>> {
    power_action(&state, &ctx, mv, &host, "startup", "start").await
}

async fn shutdown(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(host): Path<String>) -> ApiResult<Json<Value>> {
    power_action(&state, &ctx, mv, &host, "shutdown", "shutdown").await
}

async fn reboot(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(host): Path<String>) -> ApiResult<Json<Value>> {
    power_action(&state, &ctx, mv, &host, "reboot", "reboot").await
}
