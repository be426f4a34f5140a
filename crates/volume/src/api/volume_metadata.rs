//! A volume's metadata (`/volumes/{id}/metadata`): show, merge (POST), replace (PUT), one
//! key (GET/PUT/DELETE).

use super::volumes::metadata_of;
use super::{ApiResult, Caller, State};
use crate::db::metadata::{self, Table};
use crate::states;
use crate::volume_api::volumes as api;
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::json::Json as Body;
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route(
            "/v3/volumes/{id}/metadata",
            get(index).post(create).put(update_all),
        )
        .route(
            "/v3/volumes/{id}/metadata/{key}",
            get(show).put(update).delete(delete),
        )
}

async fn index(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let v = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:get_volume_metadata", &api::target(&v), &ctx)?;
    Ok(Json(
        json!({"metadata": metadata::get(&state.db, Table::Volume, &id).await?}),
    ))
}

fn not_maintenance(status: &str) -> ApiResult<()> {
    if status == states::volume::MAINTENANCE {
        return Err(ApiError::bad_request("Invalid volume: The volume metadata cannot be updated when the volume is in maintenance mode."));
    }
    Ok(())
}

async fn create(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    let meta = match body.get("metadata") {
        Some(m) => metadata_of("metadata", Some(m))?,
        None => return Err(ApiError::bad_request("Malformed request body")),
    };
    let v = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:create_volume_metadata", &api::target(&v), &ctx)?;
    not_maintenance(&v.status)?;
    metadata::set(&state.db, Table::Volume, &id, &meta, false).await?;
    Ok(Json(
        json!({"metadata": metadata::get(&state.db, Table::Volume, &id).await?}),
    ))
}

async fn update_all(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    let meta = match body.get("metadata") {
        Some(m) => metadata_of("metadata", Some(m))?,
        None => return Err(ApiError::bad_request("Malformed request body")),
    };
    let v = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:update_volume_metadata", &api::target(&v), &ctx)?;
    not_maintenance(&v.status)?;
    metadata::set(&state.db, Table::Volume, &id, &meta, true).await?;
    Ok(Json(json!({"metadata": meta})))
}

async fn show(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let v = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:get_volume_metadata", &api::target(&v), &ctx)?;
    let meta = metadata::get(&state.db, Table::Volume, &id).await?;
    match meta.get(&key) {
        Some(value) => Ok(Json(json!({"meta": {key: value}}))),
        None => Err(ApiError::not_found(format!(
            "Volume {id} has no metadata with key {key}."
        ))),
    }
}

async fn update(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path((id, key)): Path<(String, String)>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    let meta = match body.get("meta") {
        Some(m) => metadata_of("meta", Some(m))?,
        None => return Err(ApiError::bad_request("Malformed request body")),
    };
    if !meta.contains_key(&key) {
        return Err(ApiError::bad_request("Request body and URI mismatch"));
    }
    if meta.len() > 1 {
        return Err(ApiError::bad_request(
            "Request body contains too many items",
        ));
    }
    let v = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:update_volume_metadata", &api::target(&v), &ctx)?;
    not_maintenance(&v.status)?;
    metadata::set(&state.db, Table::Volume, &id, &meta, false).await?;
    Ok(Json(json!({"meta": meta})))
}

async fn delete(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let v = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:delete_volume_metadata", &api::target(&v), &ctx)?;
    not_maintenance(&v.status)?;
    if !metadata::delete(&state.db, Table::Volume, &id, &key).await? {
        return Err(ApiError::not_found(format!(
            "Volume {id} has no metadata with key {key}."
        )));
    }
    Ok(StatusCode::OK)
}
