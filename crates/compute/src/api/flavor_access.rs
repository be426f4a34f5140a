//! `os-flavor-access`: which projects may use a private flavor (`GET
//! /flavors/{id}/os-flavor-access`, and the `addTenantAccess`/`removeTenantAccess` actions).
//!
//! Nova asks Keystone whether the project exists before adding it; monostack's compute API has
//! no identity client of its own yet, so any project id is accepted, as Nova does when it
//! cannot reach Keystone.

use super::flavors::find;
use super::{input, ApiResult, Microversion, State};
use crate::db::flavors::{self as flavor_db, Flavor};
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::routing::{get, post};
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/flavors/{id}/os-flavor-access", get(index))
        .route("/v2.1/flavors/{id}/action", post(action))
}

async fn access_list(state: &State, flavor: &Flavor) -> ApiResult<Value> {
    let projects = flavor_db::projects(&state.db, flavor.id).await?;
    let entries: Vec<Value> = projects.iter().map(|p| json!({"flavor_id": flavor.flavorid, "tenant_id": p})).collect();
    Ok(json!({"flavor_access": entries}))
}

fn own_target(ctx: &AuthContext) -> Value {
    json!({"project_id": ctx.project_id, "user_id": ctx.user_id})
}

async fn index(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    state.authorize("os_compute_api:os-flavor-access", &own_target(&ctx), &ctx)?;
    let flavor = find(&state, &ctx, &id).await?;
    if flavor.is_public {
        return Err(ApiError::not_found("Access list not available for public flavors."));
    }
    Ok(Json(access_list(&state, &flavor).await?))
}

async fn action(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    let body = input::parse(&body)?;
    let name = body.as_object().and_then(|o| o.keys().next().cloned()).unwrap_or_default();
    match name.as_str() {
        "addTenantAccess" => add(&state, &ctx, mv, &id, &body).await.map(Json),
        "removeTenantAccess" => remove(&state, &ctx, &id, &body).await.map(Json),
        other => Err(ApiError::bad_request(format!("There is no such action: {other}"))),
    }
}

/// The `tenant` of an access action body.
fn tenant(body: &Value, action: &str) -> ApiResult<String> {
    let args = input::root(body, action)?;
    input::only(args, &["tenant"], Some(action))?;
    input::required(args, &["tenant"], action)?;
    Ok(input::string(&args["tenant"], "tenant", 1, 255)?.to_string())
}

async fn add(state: &State, ctx: &AuthContext, mv: Microversion, id: &str, body: &Value) -> ApiResult<Value> {
    let project = tenant(body, "addTenantAccess")?;
    state.authorize("os_compute_api:os-flavor-access:add_tenant_access", &json!({}), ctx)?;
    let flavor = find(state, ctx, id).await?;
    if mv.at_least(7) && flavor.is_public {
        return Err(ApiError::conflict("Can not add access to a public flavor."));
    }
    if !flavor_db::add_project(&state.db, flavor.id, &project).await? {
        return Err(ApiError::conflict(format!(
            "Flavor access already exists for flavor {id} and project {project} combination."
        )));
    }
    access_list(state, &flavor).await
}

async fn remove(state: &State, ctx: &AuthContext, id: &str, body: &Value) -> ApiResult<Value> {
    let project = tenant(body, "removeTenantAccess")?;
    state.authorize("os_compute_api:os-flavor-access:remove_tenant_access", &json!({}), ctx)?;
    let flavor = find(state, ctx, id).await?;
    if !flavor_db::remove_project(&state.db, flavor.id, &project).await? {
        return Err(ApiError::not_found(format!("Flavor access not found for {id} / {project} combination.")));
    }
    access_list(state, &flavor).await
}
