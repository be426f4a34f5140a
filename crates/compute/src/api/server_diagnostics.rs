//! `GET /servers/{id}/diagnostics` (admin): what the hypervisor knows about a running server,
//! asked of its compute agent. Before 2.48 the driver's own counters, from 2.48 Nova's
//! standard form (state, driver, CPU, NIC, disk and memory details).

use super::caller::Caller;
use super::{ApiResult, Microversion, State};
use crate::compute_api::{self, diagnostics};
use axum::extract::{Path, State as S};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new().route("/v2.1/servers/{id}/diagnostics", get(index))
}

async fn index(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let instance = compute_api::get_instance(&state, &ctx, &id).await?;
    state.authorize("os_compute_api:os-server-diagnostics", &json!({"project_id": instance.project_id}), &ctx.auth)?;
    Ok(Json(diagnostics::diagnostics(&state, &ctx, &instance, mv.at_least(48)).await?))
}
