//! `/os-services`: the compute, conductor and scheduler services with their zone, status and
//! heartbeat state. Compute services may be enabled, disabled (with a reason) and forced down:
//! before 2.53 through `PUT /os-services/{enable,disable,disable-log-reason,force-down}` naming
//! host and binary, from 2.53 through `PUT /os-services/{uuid}`. Deleting a compute service
//! that still hosts servers or migrations is refused.

use super::availability_zones::with_zones;
use super::query::Query;
use super::{input, view, ApiResult, Microversion, State};
use crate::db::services::{self as service_db, Service, COMPUTE_BINARY};
use crate::db::{aggregates as aggregate_db, compute_nodes as node_db};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as S};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::RowExt;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/os-services", get(index))
        .route("/v2.1/os-services/{id}", put(update).delete(delete))
}

/// Nova's service view: integer ids before 2.53, uuids from it; `forced_down` from 2.11.
fn render(state: &State, s: &Service, zone: &str, mv: Microversion) -> Value {
    let mut v = json!({
        "binary": s.binary,
        "host": s.host,
        "id": if mv.at_least(53) { json!(s.uuid) } else { json!(s.id) },
        "zone": zone,
        "status": if s.disabled { "disabled" } else { "enabled" },
        "state": if service_db::is_up(s, state.config.compute.service_down_time, now_micros()) { "up" } else { "down" },
        "updated_at": view::opt_timestamp(s.updated_at),
        "disabled_reason": s.disabled_reason,
    });
    if mv.at_least(11) {
        v["forced_down"] = json!(s.forced_down);
    }
    v
}

async fn index(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let query = Query::parse(raw.as_deref());
    if mv.at_least(75) {
        query.only(&["host", "binary"])?;
    }
    state.authorize("os_compute_api:os-services:list", &json!({}), &ctx)?;
    let host = query.get("host").filter(|h| !h.is_empty());
    let binary = query.get("binary").filter(|b| !b.is_empty());
    let services = with_zones(&state, service_db::list(&state.db, host, binary).await?).await?;
    let items: Vec<Value> = services.iter().map(|(s, z)| render(&state, s, z, mv)).collect();
    Ok(Json(json!({"services": items})))
}

async fn zone_of(state: &State, service: &Service) -> ApiResult<String> {
    Ok(with_zones(state, vec![service.clone()]).await?.pop().map(|(_, z)| z).unwrap_or_default())
}

fn not_compute(binary: &str) -> ApiError {
    ApiError::bad_request(format!("Updating a {binary} service is not supported. Only nova-compute services can be updated."))
}

/// Refuses to force a host back up while evacuations from it are `done` but not yet
/// `completed` by its restarted compute service (Nova's check).
async fn check_for_evacuations(state: &State, host: &str) -> ApiResult<()> {
    let sql = "SELECT id FROM migrations WHERE source_compute = ? AND status = 'done' AND migration_type = 'evacuation' AND deleted = 0";
    if sqlx::query(&state.db.sql(sql)).bind(host.to_string()).fetch_optional(&state.db.pool).await?.is_some() {
        return Err(ApiError::bad_request(format!(
            "Unable to force up host {host} as `done` evacuation migration records remain associated with the host. Ensure the compute service has been restarted, allowing these records to move to `completed` before retrying this request."
        )));
    }
    Ok(())
}

async fn update(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    let body = input::parse(&body)?;
    if mv.at_least(53) {
        update_by_uuid(&state, &ctx, mv, &id, &body).await
    } else {
        update_by_action(&state, &ctx, mv, &id, &body).await
    }
}

/// The pre-2.53 body: host and binary, maybe a reason and (2.11) forced_down.
struct ActionBody {
    host: String,
    binary: String,
    disabled_reason: Option<String>,
    forced_down: Option<bool>,
}

fn parse_action_body(body: &Value, mv: Microversion) -> ApiResult<ActionBody> {
    let obj = body.as_object().ok_or_else(|| ApiError::bad_request(format!("{body} is not of type 'object'")))?;
    let mut allowed = vec!["host", "binary", "disabled_reason"];
    if mv.at_least(11) {
        allowed.push("forced_down");
    }
    input::only(obj, &allowed, None)?;
    for key in ["host", "binary"] {
        if !obj.contains_key(key) {
            return Err(ApiError::bad_request(format!("'{key}' is a required property")));
        }
    }
    let host = input::string(&obj["host"], "host", 1, 255)?;
    if !host.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)) {
        return Err(input::invalid("host", &obj["host"], format!("'{host}' does not match '^[a-zA-Z0-9-._]*$'")));
    }
    Ok(ActionBody {
        host: host.to_string(),
        binary: input::string(&obj["binary"], "binary", 1, 255)?.to_string(),
        disabled_reason: obj.get("disabled_reason").map(|v| input::string(v, "disabled_reason", 1, 255).map(str::to_string)).transpose()?,
        forced_down: obj.get("forced_down").map(|v| input::boolean(v, "forced_down")).transpose()?,
    })
}

async fn update_by_action(state: &State, ctx: &monostack_auth::AuthContext, mv: Microversion, action: &str, body: &Value) -> ApiResult<Json<Value>> {
    let args = parse_action_body(body, mv)?;
    state.authorize("os_compute_api:os-services:update", &json!({}), ctx)?;
    let known = ["enable", "disable", "disable-log-reason"].contains(&action) || (mv.at_least(11) && action == "force-down");
    if !known {
        return Err(ApiError::not_found("Unknown action"));
    }
    if action == "disable-log-reason" && args.disabled_reason.is_none() {
        return Err(ApiError::bad_request("Missing disabled reason field"));
    }
    if action == "force-down" && args.forced_down.is_none() {
        return Err(ApiError::bad_request("Missing forced_down field"));
    }
    if args.binary != COMPUTE_BINARY {
        return Err(not_compute(&args.binary));
    }
    if action == "force-down" && args.forced_down == Some(false) {
        check_for_evacuations(state, &args.host).await?;
    }
    let mut service = service_db::by_host_and_binary(&state.db, &args.host, &args.binary)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Could not find binary {} on host {}.", args.binary, args.host)))?;
    let mut answer = Map::from_iter([("host".to_string(), json!(args.host)), ("binary".to_string(), json!(args.binary))]);
    match action {
        "enable" => {
            service.disabled = false;
            service.disabled_reason = None;
            answer.insert("status".into(), json!("enabled"));
        }
        "force-down" => {
            service.forced_down = args.forced_down.unwrap_or(false);
            answer.insert("forced_down".into(), json!(service.forced_down));
        }
        _ => {
            service.disabled = true;
            service.disabled_reason = if action == "disable-log-reason" { args.disabled_reason } else { None };
            answer.insert("status".into(), json!("disabled"));
            if let Some(reason) = &service.disabled_reason {
                answer.insert("disabled_reason".into(), json!(reason));
            }
        }
    }
    service_db::save_state(&state.db, &service).await?;
    tracing::info!("service {} on {}: {action}", service.binary, service.host);
    Ok(Json(json!({"service": answer})))
}

async fn update_by_uuid(state: &State, ctx: &monostack_auth::AuthContext, mv: Microversion, id: &str, body: &Value) -> ApiResult<Json<Value>> {
    let obj = body.as_object().ok_or_else(|| ApiError::bad_request(format!("{body} is not of type 'object'")))?;
    input::only(obj, &["status", "disabled_reason", "forced_down"], None)?;
    let status = match obj.get("status") {
        None => None,
        Some(v) => match v.as_str() {
            Some(s @ ("enabled" | "disabled")) => Some(s.to_string()),
            _ => return Err(input::invalid("status", v, format!("{v} is not one of ['enabled', 'disabled']"))),
        },
    };
    let reason = obj.get("disabled_reason").map(|v| input::string(v, "disabled_reason", 1, 255).map(str::to_string)).transpose()?;
    let forced_down = obj.get("forced_down").map(|v| input::boolean(v, "forced_down")).transpose()?;
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(ApiError::bad_request(format!("Invalid uuid {id}")));
    }
    state.authorize("os_compute_api:os-services:update", &json!({}), ctx)?;
    let mut service = service_db::by_uuid(&state.db, id).await?.ok_or_else(|| ApiError::not_found(format!("Service {id} could not be found.")))?;
    if service.binary != COMPUTE_BINARY {
        return Err(not_compute(&service.binary));
    }
    match status.as_deref() {
        Some("enabled") if reason.is_some() => {
            return Err(ApiError::bad_request("Specifying 'disabled_reason' with status 'enabled' is invalid."));
        }
        Some("enabled") => {
            service.disabled = false;
            service.disabled_reason = None;
        }
        Some(_) => {
            service.disabled = true;
            service.disabled_reason = reason;
        }
        None => {}
    }
    if let Some(down) = forced_down {
        service.forced_down = down;
        if !down {
            check_for_evacuations(state, &service.host).await?;
        }
    }
    if status.is_none() && forced_down.is_none() {
        return Err(ApiError::bad_request("No updates were requested. Fields 'status' or 'forced_down' should be specified."));
    }
    service_db::save_state(&state.db, &service).await?;
    let service = service_db::by_id(&state.db, service.id).await?.unwrap_or(service);
    let zone = zone_of(state, &service).await?;
    let mut v = render(state, &service, &zone, mv);
    v["forced_down"] = json!(service.forced_down);
    Ok(Json(json!({"service": v})))
}

async fn delete(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.authorize("os_compute_api:os-services:delete", &json!({}), &ctx)?;
    let found = if mv.at_least(53) {
        if uuid::Uuid::parse_str(&id).is_err() {
            return Err(ApiError::bad_request(format!("Invalid uuid {id}")));
        }
        service_db::by_uuid(&state.db, &id).await?
    } else {
        let n = id.trim().parse::<i64>().map_err(|_| ApiError::bad_request("Invalid input received: id must be an integer"))?;
        service_db::by_id(&state.db, n).await?
    };
    let service = found.ok_or_else(|| ApiError::not_found(format!("Service {id} not found.")))?;
    if service.binary == COMPUTE_BINARY {
        release_compute_host(&state, &service).await?;
    }
    service_db::delete(&state.db, service.id).await?;
    tracing::info!("service {} on {} deleted", service.binary, service.host);
    Ok(StatusCode::NO_CONTENT)
}

/// Before a compute service goes: refuse while it hosts servers or in-progress migrations,
/// then take its host out of every aggregate and delete its compute nodes.
async fn release_compute_host(state: &State, service: &Service) -> ApiResult<()> {
    if service_db::instances_on_hosts(&state.db, std::slice::from_ref(&service.host)).await? > 0 {
        return Err(ApiError::conflict("Unable to delete compute service that is hosting instances. Migrate or delete the instances first."));
    }
    let sql = "SELECT id FROM migrations WHERE deleted = 0 AND status NOT IN ('confirmed', 'reverted', 'error', 'failed', 'completed', 'cancelled', 'done') \
               AND (source_compute = ? OR dest_compute = ?)";
    let busy = sqlx::query(&state.db.sql(sql)).bind(service.host.clone()).bind(service.host.clone()).fetch_optional(&state.db.pool).await?;
    if let Some(row) = busy {
        tracing::info!("service {} keeps migration {}", service.host, row.int("id")?);
        return Err(ApiError::conflict(
            "Unable to delete compute service that has in-progress migrations. Complete the migrations or delete the instances first.",
        ));
    }
    for agg in aggregate_db::by_host(&state.db, &service.host).await? {
        aggregate_db::remove_host(&state.db, agg.id, &service.host).await?;
    }
    node_db::delete_by_host(&state.db, &service.host).await?;
    Ok(())
}
