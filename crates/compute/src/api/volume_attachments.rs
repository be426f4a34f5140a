//! `/servers/{id}/os-volume_attachments` (Nova's volume_attachments): the server's volumes;
//! attach one (reserved here, connected by the compute agent), detach one, change
//! `delete_on_termination` (2.85), swap one for another (admins, for Cinder's migrations).

use super::caller::Caller;
use super::input;
use super::query::Query;
use super::{validation, ApiResult, Microversion, State};
use crate::compute_api::{self, volumes};
use crate::context::RequestContext;
use crate::db::block_device_mappings::{self as bdm_db, BlockDeviceMapping};
use crate::db::instances::Instance;
use crate::states::vm;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as S};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/servers/{id}/os-volume_attachments", get(index).post(create))
        .route("/v2.1/servers/{id}/os-volume_attachments/{volume_id}", get(show).put(update).delete(delete))
}

const DEVICE_PATTERN: &str = "(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$";

async fn authorized(state: &State, ctx: &RequestContext, id: &str, action: &str, owned: bool) -> ApiResult<Instance> {
    let instance = compute_api::get_instance(state, ctx, id).await?;
    let target = if owned { json!({"project_id": instance.project_id}) } else { json!({}) };
    state.authorize(&format!("os_compute_api:os-volumes-attachments:{action}"), &target, &ctx.auth)?;
    Ok(instance)
}

/// Nova's `_translate_attachment_detail_view`.
fn view(b: &BlockDeviceMapping, mv: Microversion) -> Value {
    let volume_id = b.volume_id.clone().unwrap_or_default();
    let mut v = Map::new();
    if !mv.at_least(89) {
        v.insert("id".into(), json!(volume_id));
    }
    v.insert("volumeId".into(), json!(volume_id));
    v.insert("serverId".into(), json!(b.instance_uuid));
    if let Some(d) = &b.device_name {
        v.insert("device".into(), json!(d));
    }
    if mv.at_least(70) {
        v.insert("tag".into(), json!(b.tag));
    }
    if mv.at_least(79) {
        v.insert("delete_on_termination".into(), json!(b.delete_on_termination));
    }
    if mv.at_least(89) {
        v.insert("attachment_id".into(), json!(b.attachment_id));
        v.insert("bdm_uuid".into(), json!(b.uuid));
    }
    Value::Object(v)
}

fn shown(b: &BlockDeviceMapping, mv: Microversion) -> bool {
    b.volume_id.is_some() && !(mv.at_least(89) && b.attachment_id.is_none())
}

async fn index(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let q = Query::parse(raw.as_deref());
    if mv.at_least(75) {
        q.only(&["limit", "offset"])?;
    }
    let limit = q.non_negative("limit")?;
    let offset = q.non_negative("offset")?.unwrap_or(0);
    let instance = authorized(&state, &ctx, &id, "index", true).await?;
    let bdms = bdm_db::list(&state.db, &instance.uuid).await?;
    let limit = limit.unwrap_or(usize::MAX).min(super::query::MAX_LIMIT);
    let list: Vec<Value> = bdms.iter().skip(offset).take(limit).filter(|b| shown(b, mv)).map(|b| view(b, mv)).collect();
    Ok(Json(json!({"volumeAttachments": list})))
}

async fn show(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path((id, volume_id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let instance = authorized(&state, &ctx, &id, "show", true).await?;
    let bdm = volumes::attached(&state, &instance, &volume_id).await?;
    if !shown(&bdm, mv) {
        return Err(ApiError::not_found(format!("Instance {} is not attached to volume {volume_id}", instance.uuid)));
    }
    Ok(Json(json!({"volumeAttachment": view(&bdm, mv)})))
}

fn device_of(obj: &Map<String, Value>) -> ApiResult<Option<String>> {
    match obj.get("device") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let s = v.as_str().ok_or_else(|| input::invalid("device", v, format!("{} is not of type 'string', 'null'", validation::py_repr(v))))?;
            if !volumes::match_device(s) {
                return Err(input::invalid("device", v, format!("{} does not match '{DEVICE_PATTERN}'", validation::py_repr(v))));
            }
            Ok(Some(s.to_string()))
        }
    }
}

/// The `volumeAttachment` object of a create or update body, with the keys `allowed`.
fn attachment_body<'a>(body: &'a Value, allowed: &[&str]) -> ApiResult<&'a Map<String, Value>> {
    let obj = input::root(body, "volumeAttachment")?;
    input::only(obj, allowed, Some("volumeAttachment"))?;
    input::required(obj, &["volumeId"], "volumeAttachment")?;
    Ok(obj)
}

async fn create(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>, bytes: Bytes) -> ApiResult<Json<Value>> {
    let body = input::parse(&bytes)?;
    let mut allowed = vec!["volumeId", "device"];
    if mv.at_least(49) {
        allowed.push("tag");
    }
    if mv.at_least(79) {
        allowed.push("delete_on_termination");
    }
    let obj = attachment_body(&body, &allowed)?;
    let volume_id = validation::uuid("volumeId", &obj["volumeId"])?;
    let device = device_of(obj)?;
    let tag = obj.get("tag").map(|v| validation::tag("tag", v)).transpose()?;
    let delete_on_termination = obj.get("delete_on_termination").map(|v| input::boolean(v, "delete_on_termination")).transpose()?.unwrap_or(false);
    let instance = authorized(&state, &ctx, &id, "create", true).await?;
    if [vm::SHELVED, vm::SHELVED_OFFLOADED].contains(&instance.vm_state.as_str()) && !mv.at_least(20) {
        return Err(compute_api::errors::invalid_state("attach_volume", &instance.uuid, "vm_state", Some(&instance.vm_state)));
    }
    let req = volumes::AttachRequest { volume_id: volume_id.clone(), device, tag: tag.clone(), delete_on_termination, supports_multiattach: mv.at_least(60) };
    let device = volumes::attach(&state, &ctx, &instance, req).await?;
    let mut v = json!({"id": volume_id, "serverId": instance.uuid, "volumeId": volume_id, "device": device});
    if mv.at_least(70) {
        v["tag"] = json!(tag);
    }
    if mv.at_least(79) {
        v["delete_on_termination"] = json!(delete_on_termination);
    }
    Ok(Json(json!({"volumeAttachment": v})))
}

async fn update(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path((id, volume_id)): Path<(String, String)>, bytes: Bytes) -> ApiResult<StatusCode> {
    let body = input::parse(&bytes)?;
    let allowed: &[&str] = if mv.at_least(85) { &["volumeId", "device", "tag", "delete_on_termination", "serverId", "id"] } else { &["volumeId"] };
    let obj = attachment_body(&body, allowed)?;
    let new_volume_id = validation::uuid("volumeId", &obj["volumeId"])?;
    if mv.at_least(85) {
        device_of(obj)?;
        if let Some(v) = obj.get("tag") {
            validation::tag("tag", v)?;
        }
        if let Some(v) = obj.get("delete_on_termination") {
            input::boolean(v, "delete_on_termination")?;
        }
        if let Some(v) = obj.get("serverId") {
            validation::uuid("serverId", v)?;
        }
        if let Some(v) = obj.get("id") {
            validation::uuid("id", v)?;
        }
    }
    let only_swap = !mv.at_least(85);
    let swapping = only_swap || new_volume_id != volume_id;
    let instance = authorized(&state, &ctx, &id, if swapping { "swap" } else { "update" }, !swapping).await?;
    if !only_swap {
        volumes::update(&state, &instance, &volume_id, obj).await?;
    }
    if swapping {
        volumes::swap(&state, &ctx, &instance, &volume_id, &new_volume_id).await?;
    }
    Ok(StatusCode::ACCEPTED)
}

async fn delete(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path((id, volume_id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let instance = authorized(&state, &ctx, &id, "delete", true).await?;
    if [vm::SHELVED, vm::SHELVED_OFFLOADED].contains(&instance.vm_state.as_str()) && !mv.at_least(20) {
        return Err(compute_api::errors::invalid_state("detach_volume", &instance.uuid, "vm_state", Some(&instance.vm_state)));
    }
    volumes::detach(&state, &ctx, &instance, &volume_id).await?;
    Ok(StatusCode::ACCEPTED)
}
