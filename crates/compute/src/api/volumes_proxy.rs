//! `/os-volumes` and `/os-snapshots` (Nova's volumes proxy, gone from 2.36): the caller's
//! volumes and snapshots in the block storage service, with the caller's token, in Nova's
//! camel-case views.

use super::caller::Caller;
use super::input;
use super::query::Query;
use super::{validation, ApiResult, Microversion, State};
use crate::compute_api::interfaces::caller_auth;
use crate::compute_api::volumes::{cinder_failure, volume_failure};
use crate::context::RequestContext;
use crate::volume_client::{self as cinder, VolumeError};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as S};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/os-volumes", get(volume_index).post(volume_create))
        .route("/v2.1/os-volumes/detail", get(volume_detail))
        .route("/v2.1/os-volumes/{id}", get(volume_show).delete(volume_delete))
        .route("/v2.1/os-snapshots", get(snapshot_index).post(snapshot_create))
        .route("/v2.1/os-snapshots/detail", get(snapshot_detail))
        .route("/v2.1/os-snapshots/{id}", get(snapshot_show).delete(snapshot_delete))
}

/// 404 from 2.36, then the policy `os_compute_api:os-volumes:<action>` on the caller's project.
fn allowed(state: &State, ctx: &RequestContext, mv: Microversion, action: &str) -> ApiResult<()> {
    if mv.at_least(36) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    state.authorize(&format!("os_compute_api:os-volumes:{action}"), &json!({"project_id": ctx.project_id()}), &ctx.auth)
}

/// Nova's `_translate_volume_summary_view` of a Cinder volume.
fn volume_view(v: &Value) -> Value {
    let id = v["id"].clone();
    let attachments = match v["attachments"].as_array().and_then(|a| a.first()) {
        Some(a) => {
            let mut att = json!({"id": id, "volumeId": id, "serverId": a["server_id"]});
            if let Some(d) = a["device"].as_str().filter(|d| !d.is_empty()) {
                att["device"] = json!(d);
            }
            json!([att])
        }
        None => json!([{}]),
    };
    json!({
        "id": id,
        "status": v["status"],
        "size": v["size"],
        "availabilityZone": v["availability_zone"],
        "createdAt": v["created_at"],
        "attachments": attachments,
        "displayName": v["name"],
        "displayDescription": v["description"],
        "volumeType": v["volume_type"],
        "snapshotId": v["snapshot_id"],
        "metadata": if v["metadata"].is_object() { v["metadata"].clone() } else { json!({}) },
    })
}

/// Nova's `_translate_snapshot_summary_view` of a Cinder snapshot.
fn snapshot_view(s: &Value) -> Value {
    json!({
        "id": s["id"],
        "volumeId": s["volume_id"],
        "status": s["status"],
        "size": s["size"],
        "createdAt": s["created_at"],
        "displayName": s["name"],
        "displayDescription": s["description"],
    })
}

/// Nova's `common.limited`: `offset` then `limit` (capped at `max_limit`).
fn limited(items: Vec<Value>, raw: Option<&str>) -> ApiResult<Vec<Value>> {
    let q = Query::parse(raw);
    let limit = q.non_negative("limit")?.unwrap_or(super::query::MAX_LIMIT).min(super::query::MAX_LIMIT);
    let offset = q.non_negative("offset")?.unwrap_or(0);
    Ok(items.into_iter().skip(offset).take(limit).collect())
}

async fn list(state: &State, ctx: &RequestContext, collection: &str) -> ApiResult<Vec<Value>> {
    let doc = state.volume.request(&caller_auth(ctx), reqwest::Method::GET, &format!("/{collection}/detail"), None).await.map_err(cinder_failure)?;
    Ok(doc[collection].as_array().cloned().unwrap_or_default())
}

async fn volume_index(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    allowed(&state, &ctx, mv, "list")?;
    let items = limited(list(&state, &ctx, "volumes").await?, raw.as_deref())?;
    Ok(Json(json!({"volumes": items.iter().map(volume_view).collect::<Vec<_>>()})))
}

async fn volume_detail(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    allowed(&state, &ctx, mv, "detail")?;
    let items = limited(list(&state, &ctx, "volumes").await?, raw.as_deref())?;
    Ok(Json(json!({"volumes": items.iter().map(volume_view).collect::<Vec<_>>()})))
}

async fn volume_show(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    allowed(&state, &ctx, mv, "show")?;
    let v = cinder::get_volume(state.volume.as_ref(), &caller_auth(&ctx), &id).await.map_err(|e| volume_failure(&id, e))?;
    Ok(Json(json!({"volume": volume_view(&v)})))
}

async fn volume_delete(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>) -> ApiResult<StatusCode> {
    allowed(&state, &ctx, mv, "delete")?;
    cinder::delete_volume(state.volume.as_ref(), &caller_auth(&ctx), &id).await.map_err(|e| volume_failure(&id, e))?;
    Ok(StatusCode::ACCEPTED)
}

fn opt_string(obj: &Map<String, Value>, key: &str) -> ApiResult<Option<String>> {
    obj.get(key).map(|v| v.as_str().map(str::to_string).ok_or_else(|| input::invalid(key, v, format!("{} is not of type 'string'", validation::py_repr(v))))).transpose()
}

/// Nova's create schema of the proxy: `size` (an integer, or a string of digits) of at least 1.
fn size_of(v: &Value) -> ApiResult<i64> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) => s.parse().ok(),
        Value::String(s) => return Err(input::invalid("size", v, format!("'{s}' does not match '^[0-9]+$'"))),
        _ => None,
    };
    match n {
        Some(n) if n >= 1 => Ok(n),
        Some(n) => Err(input::invalid("size", v, format!("{n} is less than the minimum of 1"))),
        None => Err(input::invalid("size", v, format!("{} is not of type 'integer', 'string'", validation::py_repr(v)))),
    }
}

async fn volume_create(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, bytes: Bytes) -> ApiResult<Json<Value>> {
    let body = input::parse(&bytes)?;
    let obj = input::root(&body, "volume")?;
    input::only(obj, &["volume_type", "metadata", "snapshot_id", "size", "availability_zone", "display_name", "display_description"], Some("volume"))?;
    input::required(obj, &["size"], "volume")?;
    let size = size_of(&obj["size"])?;
    let mut req = json!({"size": size, "name": opt_string(obj, "display_name")?, "description": opt_string(obj, "display_description")?});
    for key in ["volume_type", "snapshot_id", "availability_zone"] {
        if let Some(v) = opt_string(obj, key)? {
            req[key] = json!(v);
        }
    }
    if let Some(m) = obj.get("metadata") {
        if !m.is_object() {
            return Err(input::invalid("metadata", m, format!("{} is not of type 'object'", validation::py_repr(m))));
        }
        req["metadata"] = m.clone();
    }
    allowed(&state, &ctx, mv, "create")?;
    let auth = caller_auth(&ctx);
    if let Some(snapshot_id) = obj.get("snapshot_id").and_then(Value::as_str) {
        cinder::get_snapshot(state.volume.as_ref(), &auth, snapshot_id).await.map_err(|e| match e {
            VolumeError::NotFound(_) => ApiError::not_found(format!("Snapshot {snapshot_id} could not be found.")),
            other => cinder_failure(other),
        })?;
    }
    let v = cinder::create_volume(state.volume.as_ref(), &auth, req).await.map_err(|e| match e {
        VolumeError::OverQuota(m) => ApiError::forbidden(m),
        other => cinder_failure(other),
    })?;
    Ok(Json(json!({"volume": volume_view(&v)})))
}

async fn snapshot_index(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    allowed(&state, &ctx, mv, "snapshots:list")?;
    let items = limited(list(&state, &ctx, "snapshots").await?, raw.as_deref())?;
    Ok(Json(json!({"snapshots": items.iter().map(snapshot_view).collect::<Vec<_>>()})))
}

async fn snapshot_detail(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    allowed(&state, &ctx, mv, "snapshots:detail")?;
    let items = limited(list(&state, &ctx, "snapshots").await?, raw.as_deref())?;
    Ok(Json(json!({"snapshots": items.iter().map(snapshot_view).collect::<Vec<_>>()})))
}

async fn snapshot_show(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    allowed(&state, &ctx, mv, "snapshots:show")?;
    let s = cinder::get_snapshot(state.volume.as_ref(), &caller_auth(&ctx), &id).await.map_err(|e| match e {
        VolumeError::NotFound(_) => ApiError::not_found(format!("Snapshot {id} could not be found.")),
        other => cinder_failure(other),
    })?;
    Ok(Json(json!({"snapshot": snapshot_view(&s)})))
}

async fn snapshot_delete(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>) -> ApiResult<StatusCode> {
    allowed(&state, &ctx, mv, "snapshots:delete")?;
    state.volume.request(&caller_auth(&ctx), reqwest::Method::DELETE, &format!("/snapshots/{}", crate::network_client::enc(&id)), None).await.map_err(|e| match e {
        VolumeError::NotFound(_) => ApiError::not_found(format!("Snapshot {id} could not be found.")),
        other => cinder_failure(other),
    })?;
    Ok(StatusCode::ACCEPTED)
}

async fn snapshot_create(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, bytes: Bytes) -> ApiResult<Json<Value>> {
    let body = input::parse(&bytes)?;
    let obj = input::root(&body, "snapshot")?;
    input::only(obj, &["volume_id", "force", "display_name", "display_description"], Some("snapshot"))?;
    input::required(obj, &["volume_id"], "snapshot")?;
    let volume_id = opt_string(obj, "volume_id")?.unwrap_or_default();
    let force = match obj.get("force") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => input::parse_bool(s).ok_or_else(|| ApiError::bad_request(format!("Unrecognized value '{s}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'")))?,
        Some(other) => return Err(input::invalid("force", other, format!("{} is not of type 'boolean', 'string'", validation::py_repr(other)))),
    };
    allowed(&state, &ctx, mv, "snapshots:create")?;
    let mut req = json!({"snapshot": {"volume_id": volume_id, "name": opt_string(obj, "display_name")?, "description": opt_string(obj, "display_description")?}});
    // From 3.66 Cinder snapshots in-use volumes without it, and refuses a false one.
    if force {
        req["snapshot"]["force"] = json!(true);
    }
    let doc = state.volume.request(&caller_auth(&ctx), reqwest::Method::POST, "/snapshots", Some(&req)).await.map_err(|e| match e {
        VolumeError::OverQuota(m) => ApiError::forbidden(m),
        VolumeError::NotFound(_) => ApiError::not_found(format!("Volume {volume_id} could not be found.")),
        other => cinder_failure(other),
    })?;
    Ok(Json(json!({"snapshot": snapshot_view(&doc["snapshot"])})))
}
