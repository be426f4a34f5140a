//! `/servers/{id}/metadata`: list, replace all, merge, show, set and delete one item.

use super::caller::Caller;
use super::input;
use super::{ApiResult, State};
use crate::compute_api::{self, metadata};
use crate::context::RequestContext;
use crate::db::instance_metadata::{self, Kind};
use crate::db::instances::Instance;
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/servers/{id}/metadata", get(index).post(create).put(update_all))
        .route("/v2.1/servers/{id}/metadata/{key}", get(show).put(update).delete(delete))
}

async fn authorized(state: &State, ctx: &RequestContext, id: &str, action: &str) -> ApiResult<Instance> {
    let instance = compute_api::get_instance(state, ctx, id).await?;
    state.authorize(&format!("os_compute_api:server-metadata:{action}"), &json!({"project_id": instance.project_id}), &ctx.auth)?;
    Ok(instance)
}

fn items(value: &Value) -> ApiResult<BTreeMap<String, String>> {
    Ok(input::metadata(value, "metadata", false, false)?.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect())
}

/// A body `{"metadata": {...}}`.
fn metadata_body(body: &Bytes) -> ApiResult<BTreeMap<String, String>> {
    let body = input::parse(body)?;
    items(super::validation::single_key(&body, "metadata")?)
}

async fn index(S(state): S<State>, Caller(ctx): Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let instance = authorized(&state, &ctx, &id, "index").await?;
    let meta = instance_metadata::get(&state.db, Kind::User, &instance.uuid).await?;
    Ok(Json(json!({"metadata": meta})))
}

async fn create(S(state): S<State>, Caller(ctx): Caller, Path(id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    let new = metadata_body(&body)?;
    let instance = authorized(&state, &ctx, &id, "create").await?;
    let all = metadata::update(&state, &ctx, &instance, new, false).await?;
    Ok(Json(json!({"metadata": all})))
}

async fn update_all(S(state): S<State>, Caller(ctx): Caller, Path(id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    let new = metadata_body(&body)?;
    let instance = authorized(&state, &ctx, &id, "update_all").await?;
    let all = metadata::update(&state, &ctx, &instance, new, true).await?;
    Ok(Json(json!({"metadata": all})))
}

async fn show(S(state): S<State>, Caller(ctx): Caller, Path((id, key)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let instance = authorized(&state, &ctx, &id, "show").await?;
    let meta = instance_metadata::get(&state.db, Kind::User, &instance.uuid).await?;
    let value = meta.get(&key).ok_or_else(|| ApiError::not_found("Metadata item was not found"))?;
    Ok(Json(json!({"meta": {key: value}})))
}

async fn update(S(state): S<State>, Caller(ctx): Caller, Path((id, key)): Path<(String, String)>, body: Bytes) -> ApiResult<Json<Value>> {
    let body = input::parse(&body)?;
    let meta = super::validation::single_key(&body, "meta")?;
    let item = items(meta)?;
    if item.len() != 1 {
        let reason = if item.is_empty() { "does not have enough properties" } else { "has too many properties" };
        return Err(input::invalid("meta", meta, format!("{} {reason}", super::validation::py_repr(meta))));
    }
    if !item.contains_key(&key) {
        return Err(ApiError::bad_request("Request body and URI mismatch"));
    }
    let instance = authorized(&state, &ctx, &id, "update").await?;
    metadata::update(&state, &ctx, &instance, item.clone(), false).await?;
    Ok(Json(json!({"meta": item})))
}

async fn delete(S(state): S<State>, Caller(ctx): Caller, Path((id, key)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let instance = authorized(&state, &ctx, &id, "delete").await?;
    metadata::delete(&state, &ctx, &instance, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}
