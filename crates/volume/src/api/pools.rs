//! `scheduler-stats/get_pools`: the pools the volume managers report, as the scheduler sees
//! them (admins only).

use super::{own_target, ApiResult, Caller, State};
use crate::db::pools;
use axum::extract::{OriginalUri, State as S};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new().route("/v3/scheduler-stats/get_pools", get(get_pools))
}

async fn get_pools(
    S(state): S<State>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "scheduler_extension:scheduler_stats:get_pools",
        &own_target(&ctx),
        &ctx,
    )?;
    let pairs = super::query::pairs(uri.query());
    let detail = super::query::get(&pairs, "detail")
        .map(|v| super::query::parse_bool("detail", v))
        .transpose()?
        .unwrap_or(false);
    let name = super::query::get(&pairs, "name");
    let list: Vec<Value> = pools::list(&state.db)
        .await?
        .into_iter()
        .filter(|p| name.is_none_or(|n| p.name == n))
        .map(|p| {
            if detail {
                json!({"name": p.name, "capabilities": p.capabilities})
            } else {
                json!({"name": p.name})
            }
        })
        .collect();
    Ok(Json(json!({"pools": list})))
}
