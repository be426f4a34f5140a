//! `/servers`: create, list, show, update, delete, and the actions of `POST
//! /servers/{id}/action` ([`actions`]).

mod actions;
mod actions_admin;
mod actions_move;
mod create;
mod create_parts;
mod list;
mod list_query;
pub mod password;
mod update;
pub mod view;

use super::caller::Caller;
use super::{ApiResult, Microversion, State};
use crate::compute_api::{self, delete as delete_api};
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use view::{Options, Related};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/servers", get(list::index).post(create::create))
        .route("/v2.1/servers/detail", get(list::detail))
        .route("/v2.1/servers/{id}", get(show).put(update::update).delete(delete))
        .route("/v2.1/servers/{id}/action", post(actions::dispatch))
}

async fn show(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let instance = compute_api::get_instance(&state, &ctx, &id).await?;
    state.authorize("os_compute_api:servers:show", &json!({"project_id": instance.project_id}), &ctx.auth)?;
    let mut opts = Options::detailed(&state, &ctx, mv, Some(&instance.project_id));
    opts.server_groups = mv.at_least(71);
    let related = Related::load(&state, std::slice::from_ref(&instance), &opts).await?;
    Ok(Json(json!({"server": view::show(&state, &instance, &related, &opts)})))
}

async fn delete(S(state): S<State>, Caller(ctx): Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let instance = compute_api::get_instance(&state, &ctx, &id).await?;
    state.authorize("os_compute_api:servers:delete", &json!({"project_id": instance.project_id, "user_id": instance.user_id}), &ctx.auth)?;
    delete_api::delete(&state, &ctx, &instance).await?;
    Ok(StatusCode::NO_CONTENT)
}
