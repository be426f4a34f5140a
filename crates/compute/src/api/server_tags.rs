//! `/servers/{id}/tags` (2.26): list, replace, delete all; check, add and delete one tag.

use super::caller::Caller;
use super::input;
use super::{validation, ApiResult, Microversion, State};
use crate::compute_api::{self, tags};
use crate::context::RequestContext;
use crate::db::instance_tags;
use crate::db::instances::Instance;
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/servers/{id}/tags", get(index).put(update_all).delete(delete_all))
        .route("/v2.1/servers/{id}/tags/{tag}", get(show).put(update).delete(delete))
}

async fn authorized(state: &State, ctx: &RequestContext, mv: Microversion, id: &str, action: &str) -> ApiResult<Instance> {
    if !mv.at_least(26) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    let instance = compute_api::get_instance(state, ctx, id).await?;
    state.authorize(&format!("os_compute_api:os-server-tags:{action}"), &json!({"project_id": instance.project_id}), &ctx.auth)?;
    Ok(instance)
}

async fn index(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let instance = authorized(&state, &ctx, mv, &id, "index").await?;
    Ok(Json(json!({"tags": instance_tags::list(&state.db, &instance.uuid).await?})))
}

async fn show(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path((id, tag)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let instance = authorized(&state, &ctx, mv, &id, "show").await?;
    if !instance_tags::exists(&state.db, &instance.uuid, &tag).await? {
        return Err(ApiError::not_found(format!("Server {id} has no tag '{tag}'")));
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn update(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path((id, tag)): Path<(String, String)>) -> ApiResult<Response> {
    let instance = authorized(&state, &ctx, mv, &id, "update").await?;
    if let Err(e) = validation::tag("tag", &Value::String(tag.clone())) {
        let reason = e.message.rsplit(". ").next().unwrap_or_default().to_string();
        return Err(ApiError::bad_request(format!(
            "Tag '{tag}' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: {reason}"
        )));
    }
    if !tags::add(&state, &instance, &tag).await? {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let mut resp = StatusCode::CREATED.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}/v2.1/servers/{id}/tags/{tag}", state.public_url)) {
        resp.headers_mut().insert("location", v);
    }
    Ok(resp)
}

async fn update_all(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    let list = if mv.at_least(26) {
        let body = input::parse(&body)?;
        let top = validation::single_key(&body, "tags")?;
        let items = validation::array("tags", top, Some(instance_tags::MAX_TAGS))?;
        items.iter().map(|t| validation::tag("tags", t)).collect::<ApiResult<Vec<String>>>()?
    } else {
        Vec::new()
    };
    let instance = authorized(&state, &ctx, mv, &id, "update_all").await?;
    Ok(Json(json!({"tags": tags::replace(&state, &instance, &list).await?})))
}

async fn delete(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path((id, tag)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let instance = authorized(&state, &ctx, mv, &id, "delete").await?;
    tags::delete(&state, &instance, &tag).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_all(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let instance = authorized(&state, &ctx, mv, &id, "delete_all").await?;
    tags::delete_all(&state, &instance).await?;
    Ok(StatusCode::NO_CONTENT)
}
