//! `scheduler-stats/get_pools`: the pools the volume managers report, as the scheduler sees
//! them, and `capabilities/{host@backend}`: what a backend offers (admins only).

use super::{own_target, ApiResult, Caller, State};
use crate::db::pools;
use axum::extract::{OriginalUri, State as S};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/scheduler-stats/get_pools", get(get_pools))
        .route("/v3/capabilities/{host}", get(capabilities))
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

async fn capabilities(
    S(state): S<State>,
    Caller(ctx): Caller,
    axum::extract::Path(host): axum::extract::Path<String>,
) -> ApiResult<Json<Value>> {
    state.authorize("volume_extension:capabilities", &own_target(&ctx), &ctx)?;
    let service =
        crate::db::services::get_by_host_binary(&state.db, &host, "cinder-volume").await?;
    let pool = pools::list(&state.db)
        .await?
        .into_iter()
        .find(|p| p.backend == host);
    let (Some(_), Some(pool)) = (service, pool) else {
        return Err(monostack_common::ApiError::not_found(format!(
            "Can't find service: {host}"
        )));
    };
    let caps = &pool.capabilities;
    let mut properties = serde_json::Map::new();
    if caps
        .get("thin_provisioning_support")
        .and_then(Value::as_bool)
        == Some(true)
    {
        properties.insert(
            "thin_provisioning".into(),
            json!({"title": "Thin Provisioning", "description": "Sets thin provisioning.", "type": "boolean"}),
        );
    }
    Ok(Json(json!({
        "namespace": format!("OS::Storage::Capabilities::{host}"),
        "vendor_name": caps.get("vendor_name"),
        "volume_backend_name": caps.get("volume_backend_name"),
        "pool_name": Value::Null,
        "driver_version": caps.get("driver_version"),
        "storage_protocol": caps.get("storage_protocol"),
        "display_name": Value::Null,
        "description": Value::Null,
        "visibility": Value::Null,
        "replication_targets": [],
        "properties": properties,
    })))
}
