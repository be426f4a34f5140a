//! `os-services`: the scheduler and volume services with their state (up while they
//! heartbeat), enable/disable (a disabled volume service gets no new volumes), and
//! `os-availability-zone`: the zones of the volume services.

use super::{own_target, ApiResult, Caller, Microversion, State};
use crate::db::services;
use crate::db::services::Service;
use axum::extract::{OriginalUri, Path, State as S};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use monostack_common::json::Json as Body;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/os-services", get(index))
        .route("/v3/os-services/{action}", put(update))
        .route("/v3/os-availability-zone", get(zones))
}

fn view(state: &State, mv: Microversion, s: &Service) -> Value {
    let up = s.is_up(state.config.volume.service_down_time);
    let mut m = Map::new();
    m.insert("binary".into(), json!(s.binary));
    m.insert("host".into(), json!(s.host));
    m.insert("zone".into(), json!(s.availability_zone));
    m.insert(
        "status".into(),
        json!(if s.disabled { "disabled" } else { "enabled" }),
    );
    m.insert("state".into(), json!(if up { "up" } else { "down" }));
    m.insert("updated_at".into(), json!(super::view::ts(s.updated_at)));
    if mv.at_least(49) && s.binary == "cinder-volume" {
        m.insert(
            "backend_state".into(),
            json!(if up { "up" } else { "down" }),
        );
    }
    if mv.at_least(7) {
        m.insert("cluster".into(), Value::Null);
    }
    m.insert("disabled_reason".into(), json!(s.disabled_reason));
    if s.binary == "cinder-volume" {
        m.insert(
            "replication_status".into(),
            json!(s
                .replication_status
                .clone()
                .unwrap_or_else(|| "disabled".into())),
        );
        m.insert("active_backend_id".into(), json!(s.active_backend_id));
        m.insert("frozen".into(), json!(s.frozen));
    }
    Value::Object(m)
}

async fn index(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<Value>> {
    state.authorize("volume_extension:services:index", &own_target(&ctx), &ctx)?;
    let pairs = super::query::pairs(uri.query());
    let host = super::query::get(&pairs, "host");
    let binary = super::query::get(&pairs, "binary");
    let list: Vec<Value> = services::list(&state.db)
        .await?
        .iter()
        .filter(|s| {
            host.is_none_or(|h| host_matches(h, &s.host)) && binary.is_none_or(|b| s.binary == b)
        })
        .map(|s| view(&state, mv, s))
        .collect();
    Ok(Json(json!({"services": list})))
}

/// Cinder's host filter: `host` names that host's services and its backends
/// (`host@backend`, `host@backend#pool`); `host@backend` also its pools.
pub fn host_matches(filter: &str, host: &str) -> bool {
    if host == filter {
        return true;
    }
    if filter.contains('#') {
        return false;
    }
    if host.starts_with(&format!("{filter}#")) {
        return true;
    }
    !filter.contains('@') && host.starts_with(&format!("{filter}@"))
}

/// `freeze` and `thaw`: the volume services of `host` (400 `No service found with host=X`
/// when there is none, as Cinder's proxy turns ServiceNotFound into InvalidInput). The flag is
/// recorded; the drivers have no replication to freeze.
async fn freeze_or_thaw(state: &State, body: &Value, freeze: bool) -> ApiResult<Response> {
    let host = match body.get("host") {
        Some(Value::String(h)) if !h.is_empty() => h.clone(),
        Some(other) => {
            return Err(super::input::invalid(
                "host",
                other,
                "is not a valid host name",
            ))
        }
        None => {
            return Err(ApiError::bad_request(
                "Invalid input for field/attribute host. 'host' is a required property",
            ))
        }
    };
    let found: Vec<Service> = services::list(&state.db)
        .await?
        .into_iter()
        .filter(|s| s.binary == "cinder-volume" && host_matches(&host, &s.host))
        .collect();
    if found.is_empty() {
        return Err(ApiError::bad_request(format!(
            "No service found with host={host}"
        )));
    }
    for s in &found {
        services::set_frozen(&state.db, s.id, freeze).await?;
    }
    tracing::info!("{} host {host}", if freeze { "Froze" } else { "Thawed" });
    Ok(StatusCode::OK.into_response())
}

async fn update(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(action): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Response> {
    state.authorize("volume_extension:services:update", &own_target(&ctx), &ctx)?;
    if action == "freeze" || action == "thaw" {
        return freeze_or_thaw(&state, &body, action == "freeze").await;
    }
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let host = text("host");
    let service = text("service");
    let binary = text("binary");
    let binary_key = if binary.is_empty() {
        service.clone()
    } else {
        binary.clone()
    };
    if !matches!(action.as_str(), "enable" | "disable" | "disable-log-reason") {
        return Err(ApiError::not_found(format!("Unknown action {action}")));
    }
    if host.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid input received: Host field is missing.",
        ));
    }
    let svc = services::get_by_host_binary(&state.db, &host, &binary_key)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Service {binary_key} on host {host} could not be found."
            ))
        })?;
    let reason = body
        .get("disabled_reason")
        .and_then(Value::as_str)
        .map(str::to_string);
    if action == "disable-log-reason" {
        match &reason {
            Some(r) if !r.trim().is_empty() && r.len() <= 255 => {}
            _ => return Err(ApiError::bad_request("Invalid input received: Disabled reason contains invalid characters or is too long")),
        }
    }
    let disabled = action != "enable";
    services::set_disabled(
        &state.db,
        svc.id,
        disabled,
        if disabled { reason.as_deref() } else { None },
    )
    .await?;
    tracing::info!(
        "Service {binary_key} on {host} {}",
        if disabled { "disabled" } else { "enabled" }
    );
    let mut out = json!({"host": host, "service": service, "binary": binary, "status": if disabled { "disabled" } else { "enabled" }, "disabled": disabled});
    if action == "disable-log-reason" {
        out["disabled_reason"] = json!(reason);
    }
    Ok(Json(out).into_response())
}

async fn zones(S(state): S<State>, Caller(_ctx): Caller) -> ApiResult<Json<Value>> {
    let down_time = state.config.volume.service_down_time;
    let mut zones: Vec<(String, bool)> = Vec::new();
    for s in services::list(&state.db).await? {
        if s.binary != "cinder-volume" || s.disabled {
            continue;
        }
        let up = s.is_up(down_time);
        match zones.iter_mut().find(|(z, _)| *z == s.availability_zone) {
            Some(entry) => entry.1 |= up,
            None => zones.push((s.availability_zone.clone(), up)),
        }
    }
    let info: Vec<Value> = zones
        .into_iter()
        .map(|(name, up)| json!({"zoneName": name, "zoneState": {"available": up}}))
        .collect();
    Ok(Json(json!({"availabilityZoneInfo": info})))
}
