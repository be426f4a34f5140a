//! `/os-quota-class-sets/{class}`: quota classes; the class `default` overrides the configured
//! defaults of every project. Server group quotas appear at 2.50, when the nova-network ones
//! go; injected-file quotas go at 2.57.

use super::quota_sets::{parse_limits, shown};
use super::{input, ApiResult, Microversion, State};
use crate::db::quotas as quota_db;
use crate::quota::{self, Limits};
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::routing::get;
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new().route("/v2.1/os-quota-class-sets/{id}", get(show).put(update))
}

/// The resources a class shows at `mv`: no server group quotas before 2.50.
fn class_resources(mv: Microversion) -> Vec<&'static str> {
    shown(mv, 50).into_iter().filter(|r| mv.at_least(50) || !r.starts_with("server_group")).collect()
}

fn render(limits: &Limits, mv: Microversion, id: Option<&str>) -> Value {
    let mut set: Map<String, Value> = class_resources(mv).iter().map(|r| (r.to_string(), json!(limits[r]))).collect();
    if let Some(id) = id {
        set.insert("id".into(), json!(id));
    }
    json!({"quota_class_set": set})
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    state.authorize("os_compute_api:os-quota-class-sets:show", &json!({}), &ctx)?;
    let limits = quota::class_limits(&state, &id).await?;
    Ok(Json(render(&limits, mv, Some(&id))))
}

async fn update(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    // Server group quotas may be set at any version, though only shown from 2.50.
    let settable = shown(mv, 50);
    let (limits, _) = parse_limits(&input::parse(&body)?, "quota_class_set", &settable, false)?;
    state.authorize("os_compute_api:os-quota-class-sets:update", &json!({}), &ctx)?;
    if id.is_empty() || id.chars().count() > 255 {
        return Err(ApiError::bad_request("Invalid input received: quota_class_name has a length outside 1-255."));
    }
    quota_db::set_class_limits(&state.db, &id, &limits).await?;
    tracing::info!("quota class {id} set: {limits:?}");
    let limits = quota::class_limits(&state, &id).await?;
    Ok(Json(render(&limits, mv, None)))
}
