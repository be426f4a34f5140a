//! `/servers/{id}/ips`: the server's addresses from its network info cache.

use super::caller::Caller;
use super::servers::view::addresses;
use super::{ApiResult, State};
use crate::compute_api;
use crate::db::info_caches;
use axum::extract::{Path, State as S};
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new().route("/v2.1/servers/{id}/ips", get(index)).route("/v2.1/servers/{id}/ips/{network}", get(show))
}

async fn all_addresses(state: &State, ctx: &crate::context::RequestContext, id: &str, action: &str) -> ApiResult<Value> {
    let instance = compute_api::get_instance(state, ctx, id).await?;
    state.authorize(&format!("os_compute_api:ips:{action}"), &json!({"project_id": instance.project_id}), &ctx.auth)?;
    let caches = info_caches::get_many(&state.db, std::slice::from_ref(&instance.uuid)).await?;
    Ok(addresses(caches.get(&instance.uuid), false))
}

async fn index(S(state): S<State>, Caller(ctx): Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"addresses": all_addresses(&state, &ctx, &id, "index").await?})))
}

async fn show(S(state): S<State>, Caller(ctx): Caller, Path((id, network)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let all = all_addresses(&state, &ctx, &id, "show").await?;
    let ips = all.get(&network).cloned().ok_or_else(|| ApiError::not_found("Instance is not a member of specified network"))?;
    Ok(Json(json!({ network: ips })))
}
