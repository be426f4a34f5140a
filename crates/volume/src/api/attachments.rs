//! Attachments (`/attachments`, 3.27+): create (reserve, or reserve and connect when a
//! connector is given), list (summary and detail, filters volume_id, status, instance_id and
//! attach_status, sorting and paging), show, update (connect), delete (disconnect, answers the
//! volume's remaining attachments), and the `os-complete` action (3.44).

use super::input;
use super::query::{self, Paging};
use super::view::{self, opt_ts};
use super::{own_target, ApiResult, Caller, Microversion, State};
use crate::db::attachments::{self, Attachment};
use crate::db::volumes;
use crate::volume_api::attachments as api;
use crate::volume_api::volumes as vol_api;
use axum::extract::{OriginalUri, Path, State as S};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use monostack_common::json::Json as Body;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};
use std::cmp::Ordering;
use std::collections::BTreeMap;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/attachments", get(index).post(create))
        .route("/v3/attachments/detail", get(detail))
        .route("/v3/attachments/{id}", get(show).put(update).delete(delete))
        .route("/v3/attachments/{id}/action", post(action))
}

/// The attachments API exists from 3.27 (Cinder's NEW_ATTACH).
fn require(mv: Microversion, minor: u16) -> ApiResult<()> {
    if mv.at_least(minor) {
        Ok(())
    } else {
        Err(ApiError::not_found("The resource could not be found."))
    }
}

/// Cinder's attachment summary view.
pub fn summary(a: &Attachment) -> Value {
    json!({"id": a.id, "status": a.attach_status, "instance": a.instance_uuid, "volume_id": a.volume_id})
}

/// Cinder's attachment detail view (times empty until set).
pub fn detail_view(a: &Attachment) -> Value {
    let mut v = summary(a);
    let when = |t: Option<i64>| if t.is_some() { opt_ts(t) } else { json!("") };
    v["attached_at"] = when(a.attach_time);
    v["detached_at"] = when(a.detach_time);
    v["attach_mode"] = json!(a.attach_mode);
    v["connection_info"] = a.connection_info.clone().unwrap_or_else(|| json!({}));
    v
}

fn invalid(field: &str, value: &Value, reason: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid input for field/attribute {field}. Value: {value}. {reason}"))
}

/// The `attachment` object of a body, refusing other top-level keys and unknown fields.
fn attachment_body<'a>(body: &'a Value, allowed: &[&str]) -> ApiResult<&'a Map<String, Value>> {
    let obj = input::object(body, "attachment")?;
    if let Some(k) = body.as_object().and_then(|t| t.keys().find(|k| *k != "attachment")) {
        return Err(ApiError::bad_request(format!(
            "Invalid input for field/attribute {k}. Additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "Invalid input for field/attribute attachment. Additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    Ok(obj)
}

fn uuid_field(obj: &Map<String, Value>, field: &str) -> ApiResult<Option<String>> {
    match obj.get(field) {
        None => Ok(None),
        Some(Value::String(s)) if uuid::Uuid::parse_str(s).is_ok() => Ok(Some(s.clone())),
        Some(Value::String(s)) => Err(invalid(field, &json!(s), &format!("'{s}' is not a 'uuid'"))),
        Some(other) => Err(invalid(field, other, "is not of type 'string'")),
    }
}

async fn create(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Body(mut body): Body<Value>) -> ApiResult<Json<Value>> {
    require(mv, 27)?;
    // openstacksdk sends `"mode": null` at every version; before 3.54 a null mode is no mode.
    if !mv.at_least(54) {
        if let Some(a) = body.get_mut("attachment").and_then(Value::as_object_mut) {
            if a.get("mode").is_some_and(Value::is_null) {
                a.remove("mode");
            }
        }
    }
    let allowed: &[&str] = if mv.at_least(54) {
        &["volume_uuid", "instance_uuid", "connector", "mode"]
    } else {
        &["volume_uuid", "instance_uuid", "connector"]
    };
    let obj = attachment_body(&body, allowed)?;
    let volume_id = uuid_field(obj, "volume_uuid")?
        .ok_or_else(|| ApiError::bad_request("Invalid input for field/attribute attachment. 'volume_uuid' is a required property"))?;
    let instance = uuid_field(obj, "instance_uuid")?;
    let connector = match obj.get("connector") {
        None | Some(Value::Null) => None,
        Some(c @ Value::Object(_)) => Some(c.clone()),
        Some(other) => return Err(invalid("connector", other, "is not of type 'object', 'null'")),
    };
    let mode = match obj.get("mode") {
        None => None,
        Some(Value::String(m)) if m == "rw" || m == "ro" => Some(m.clone()),
        Some(other) => return Err(invalid("mode", other, &format!("{other} is not one of ['rw', 'ro']"))),
    };
    let v = vol_api::find(&state, &ctx, &volume_id).await?;
    let a = api::create(&state, &ctx, &v, instance.as_deref(), connector, mode.as_deref()).await?;
    Ok(Json(json!({"attachment": detail_view(&a)})))
}

const FILTERS: &[&str] = &["volume_id", "status", "instance_id", "attach_status", "all_tenants"];
const SORT_KEYS: &[&str] = &["id", "created_at", "updated_at", "attach_status", "volume_id", "instance_uuid"];

fn compare(a: &Attachment, b: &Attachment, key: &str) -> Ordering {
    match key {
        "id" => a.id.cmp(&b.id),
        "updated_at" => a.updated_at.cmp(&b.updated_at),
        "attach_status" => a.attach_status.cmp(&b.attach_status),
        "volume_id" => a.volume_id.cmp(&b.volume_id),
        "instance_uuid" => a.instance_uuid.cmp(&b.instance_uuid),
        _ => a.created_at.cmp(&b.created_at),
    }
}

async fn listing(state: State, ctx: crate::context::RequestContext, mv: Microversion, uri: &http::Uri, detailed: bool) -> ApiResult<Json<Value>> {
    require(mv, 27)?;
    state.authorize("volume:get_all", &own_target(&ctx), &ctx)?;
    let pairs = query::pairs(uri.query());
    let paging = Paging::from_pairs(&pairs, state.config.volume.osapi_max_limit, SORT_KEYS, "created_at")?;
    let invalid: Vec<&str> = pairs
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !query::PAGING_KEYS.contains(k) && !FILTERS.contains(k))
        .collect();
    if !invalid.is_empty() && mv.at_least(31) {
        return Err(ApiError::bad_request(format!(
            "Invalid filters {} are found in query options.",
            invalid.join(",")
        )));
    }
    let all_tenants = ctx.is_admin && query::get(&pairs, "all_tenants").is_some();
    let projects: BTreeMap<String, String> = volumes::list(&state.db, if all_tenants { None } else { Some(ctx.project_id()) })
        .await?
        .into_iter()
        .map(|v| (v.id, v.project_id))
        .collect();
    let mut items: Vec<Attachment> = attachments::list(&state.db)
        .await?
        .into_iter()
        .filter(|a| projects.contains_key(&a.volume_id))
        .collect();
    for (k, want) in &pairs {
        match k.as_str() {
            "volume_id" => items.retain(|a| a.volume_id == *want),
            "status" | "attach_status" => items.retain(|a| a.attach_status == *want),
            "instance_id" => items.retain(|a| a.instance_uuid.as_deref() == Some(want.as_str())),
            _ => {}
        }
    }
    let page = paging.page(items, |a| &a.id, compare)?;
    let view = if detailed { detail_view } else { summary };
    let path = if detailed { "attachments/detail" } else { "attachments" };
    Ok(Json(query::list_body(
        "attachments",
        &view::collection_url(&state, &ctx, path),
        &pairs,
        page.items.iter().map(view).collect(),
        page.items.last().map(|a| a.id.as_str()),
        page.more,
        query::with_count(&pairs, mv.at_least(45))?.then_some(page.count),
    )))
}

async fn index(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, OriginalUri(uri): OriginalUri) -> ApiResult<Json<Value>> {
    listing(state, ctx, mv, &uri, false).await
}

async fn detail(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, OriginalUri(uri): OriginalUri) -> ApiResult<Json<Value>> {
    listing(state, ctx, mv, &uri, true).await
}

async fn show(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    require(mv, 27)?;
    let (a, v) = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:get", &vol_api::target(&v), &ctx)?;
    Ok(Json(json!({"attachment": detail_view(&a)})))
}

async fn update(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>, Body(body): Body<Value>) -> ApiResult<Json<Value>> {
    require(mv, 27)?;
    let obj = attachment_body(&body, &["connector"])?;
    let connector = match obj.get("connector") {
        Some(Value::Object(o)) if !o.is_empty() => Value::Object(o.clone()),
        Some(c @ Value::Object(_)) => return Err(invalid("connector", c, "{} does not have enough properties")),
        Some(other) => return Err(invalid("connector", other, "is not of type 'object'")),
        None => {
            return Err(ApiError::bad_request(
                "Invalid input for field/attribute attachment. 'connector' is a required property",
            ))
        }
    };
    let (a, v) = api::find(&state, &ctx, &id).await?;
    let a = api::update(&state, &ctx, &a, &v, connector).await?;
    Ok(Json(json!({"attachment": detail_view(&a)})))
}

async fn delete(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    require(mv, 27)?;
    let (a, v) = api::find(&state, &ctx, &id).await?;
    let remaining = api::delete(&state, &ctx, &a, &v).await?;
    Ok(Json(json!({"attachments": remaining.iter().map(summary).collect::<Vec<_>>()})))
}

async fn action(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>, Body(body): Body<Value>) -> ApiResult<Response> {
    require(mv, 27)?;
    let obj = body.as_object().ok_or_else(|| ApiError::bad_request("Malformed request body"))?;
    match obj.keys().next().map(String::as_str) {
        Some("os-complete") if obj.len() == 1 => {
            require(mv, 44)?;
            let (a, v) = api::find(&state, &ctx, &id).await?;
            api::complete(&state, &ctx, &a, &v).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Some(other) if obj.len() == 1 => Err(ApiError::bad_request(format!("There is no such action: {other}"))),
        _ => Err(ApiError::bad_request("Malformed request body: exactly one action is expected.")),
    }
}
