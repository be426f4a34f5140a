//! Extra specs of a volume type (`/types/{id}/extra_specs`): the capabilities a type asks
//! of a backend, `volume_backend_name` first among them. Specs of a type some volume uses
//! cannot change (Cinder: "Volume Type is currently in use.").

use super::input;
use super::{own_target, ApiResult, Caller, State};
use crate::db::types as db;
use crate::volume_api::types as types_api;
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::json::Json as Body;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/types/{id}/extra_specs", get(index).post(create))
        .route(
            "/v3/types/{id}/extra_specs/{key}",
            get(show).put(update).delete(delete),
        )
}

fn specs_json(specs: &BTreeMap<String, String>) -> Value {
    Value::Object(
        specs
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<Map<_, _>>(),
    )
}

async fn index(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:types_extra_specs:index",
        &own_target(&ctx),
        &ctx,
    )?;
    let t = types_api::find(&state, &ctx, &id).await?;
    let sensitive = state.allowed(
        "volume_extension:types_extra_specs:read_sensitive",
        &own_target(&ctx),
        &ctx,
    );
    let specs: BTreeMap<String, String> = t
        .extra_specs
        .into_iter()
        .filter(|(k, _)| sensitive || super::types::user_visible(k))
        .collect();
    Ok(Json(json!({"extra_specs": specs_json(&specs)})))
}

async fn allow_update(state: &State, id: &str) -> ApiResult<()> {
    if db::in_use(&state.db, id).await? {
        return Err(ApiError::bad_request("Volume Type is currently in use."));
    }
    Ok(())
}

fn check_cacheable(
    new: &BTreeMap<String, String>,
    existing: &BTreeMap<String, String>,
) -> ApiResult<()> {
    let yes = |m: &BTreeMap<String, String>, k: &str| m.get(k).is_some_and(|v| v == "<is> True");
    let multiattach = yes(new, "multiattach") || yes(existing, "multiattach");
    let cacheable = yes(new, "cacheable") || yes(existing, "cacheable");
    if multiattach && cacheable && (yes(new, "multiattach") || yes(new, "cacheable")) {
        return Err(ApiError::bad_request(
            "cacheable cannot be set with multiattach.",
        ));
    }
    Ok(())
}

async fn create(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:types_extra_specs:create",
        &own_target(&ctx),
        &ctx,
    )?;
    allow_update(&state, &id).await?;
    let t = types_api::find(&state, &ctx, &id).await?;
    let specs = match body.get("extra_specs") {
        Some(v) => input::string_map("extra_specs", v)?,
        None => return Err(ApiError::bad_request(
            "Invalid input for field/attribute extra_specs. 'extra_specs' is a required property",
        )),
    };
    check_cacheable(&specs, &t.extra_specs)?;
    db::set_extra_specs(&state.db, &t.id, &specs).await?;
    Ok(Json(json!({"extra_specs": specs_json(&specs)})))
}

async fn show(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:types_extra_specs:show",
        &own_target(&ctx),
        &ctx,
    )?;
    let t = types_api::find(&state, &ctx, &id).await?;
    let sensitive = state.allowed(
        "volume_extension:types_extra_specs:read_sensitive",
        &own_target(&ctx),
        &ctx,
    );
    match t.extra_specs.get(&key) {
        Some(v) if sensitive || super::types::user_visible(&key) => Ok(Json(json!({ key: v }))),
        _ => Err(ApiError::not_found(format!(
            "Volume Type {id} has no extra specs with key {key}."
        ))),
    }
}

async fn update(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path((id, key)): Path<(String, String)>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:types_extra_specs:update",
        &own_target(&ctx),
        &ctx,
    )?;
    allow_update(&state, &id).await?;
    let t = types_api::find(&state, &ctx, &id).await?;
    let specs = input::string_map("extra_specs", &body)?;
    if !specs.contains_key(&key) {
        return Err(ApiError::bad_request("Request body and URI mismatch"));
    }
    if specs.len() > 1 {
        return Err(ApiError::bad_request(
            "Request body contains too many items",
        ));
    }
    check_cacheable(&specs, &t.extra_specs)?;
    db::set_extra_specs(&state.db, &t.id, &specs).await?;
    Ok(Json(specs_json(&specs)))
}

async fn delete(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.authorize(
        "volume_extension:types_extra_specs:delete",
        &own_target(&ctx),
        &ctx,
    )?;
    allow_update(&state, &id).await?;
    let t = types_api::find(&state, &ctx, &id).await?;
    if !db::delete_extra_spec(&state.db, &t.id, &key).await? {
        return Err(ApiError::not_found(format!(
            "Volume Type {id} has no extra specs with key {key}."
        )));
    }
    Ok(StatusCode::ACCEPTED)
}
