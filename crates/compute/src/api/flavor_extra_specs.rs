//! `os-flavor-extra-specs`: `/flavors/{id}/os-extra_specs[/{key}]`. Values may be sent as
//! numbers; they are stored (and shown) as text. From 2.86 keys and values are validated
//! ([`crate::extra_specs`]).

use super::flavors::find;
use super::{input, ApiResult, Microversion, State};
use crate::db::flavors as flavor_db;
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::routing::get;
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/flavors/{id}/os-extra_specs", get(index).post(create))
        .route("/v2.1/flavors/{id}/os-extra_specs/{key}", get(show).put(update).delete(delete))
}

fn reader_target(ctx: &AuthContext) -> Value {
    json!({"project_id": ctx.project_id})
}

fn no_such_key(flavor_id: &str, key: &str) -> ApiError {
    ApiError::not_found(format!("Flavor {flavor_id} has no extra specs with key {key}."))
}

/// Checks a spec map (numbers allowed, at most 255 characters either way), and from 2.86 each
/// key and value against what Nova knows.
fn check_specs(value: &Value, field: &str, mv: Microversion) -> ApiResult<Vec<(String, String)>> {
    let specs = input::metadata(value, field, false, true)?;
    let mut out = Vec::with_capacity(specs.len());
    for (key, v) in specs {
        let v = v.unwrap_or_default();
        if v.chars().count() > 255 {
            return Err(ApiError::bad_request("Invalid input received: extra_specs value has more than 255 characters."));
        }
        if mv.at_least(86) {
            crate::extra_specs::validate(&key, &v).map_err(ApiError::bad_request)?;
        }
        out.push((key, v));
    }
    Ok(out)
}

async fn index(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    state.authorize("os_compute_api:os-flavor-extra-specs:index", &reader_target(&ctx), &ctx)?;
    let flavor = find(&state, &ctx, &id).await?;
    Ok(Json(json!({"extra_specs": flavor.extra_specs})))
}

async fn create(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    let body = input::parse(&body)?;
    let top = body.as_object().ok_or_else(|| ApiError::bad_request(format!("{body} is not of type 'object'")))?;
    if !top.contains_key("extra_specs") {
        return Err(ApiError::bad_request("'extra_specs' is a required property"));
    }
    input::only(top, &["extra_specs"], None)?;
    state.authorize("os_compute_api:os-flavor-extra-specs:create", &json!({}), &ctx)?;
    let specs = check_specs(&top["extra_specs"], "extra_specs", mv)?;
    let flavor = find(&state, &ctx, &id).await?;
    flavor_db::set_extra_specs(&state.db, flavor.id, &specs).await?;
    Ok(Json(body))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, Path((id, key)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    state.authorize("os_compute_api:os-flavor-extra-specs:show", &reader_target(&ctx), &ctx)?;
    let flavor = find(&state, &ctx, &id).await?;
    let value = flavor.extra_specs.get(&key).ok_or_else(|| no_such_key(&id, &key))?;
    Ok(Json(json!({ key: value })))
}

async fn update(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path((id, key)): Path<(String, String)>, body: Bytes) -> ApiResult<Json<Value>> {
    let body = input::parse(&body)?;
    let count = body.as_object().map_or(0, |o| o.len());
    if count != 1 {
        let reason = if count == 0 { "does not have enough properties" } else { "has too many properties" };
        return Err(ApiError::bad_request(format!("{body} {reason}")));
    }
    let specs = check_specs(&body, "extra_specs", mv)?;
    state.authorize("os_compute_api:os-flavor-extra-specs:update", &json!({}), &ctx)?;
    if !specs.iter().any(|(k, _)| *k == key) {
        return Err(ApiError::bad_request("Request body and URI mismatch"));
    }
    let flavor = find(&state, &ctx, &id).await?;
    flavor_db::set_extra_specs(&state.db, flavor.id, &specs).await?;
    Ok(Json(body))
}

async fn delete(S(state): S<State>, Authenticated(ctx): Authenticated, Path((id, key)): Path<(String, String)>) -> ApiResult<()> {
    state.authorize("os_compute_api:os-flavor-extra-specs:delete", &json!({}), &ctx)?;
    let flavor = find(&state, &ctx, &id).await?;
    if !flavor_db::delete_extra_spec(&state.db, flavor.id, &key).await? {
        return Err(no_such_key(&id, &key));
    }
    Ok(())
}
