//! `/resource_providers/{uuid}/inventories[/{resource_class}]`.

use super::{empty, json_body, json_response, ApiResult, State};
use crate::microversion::Version;
use crate::types::Inventory;
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_common::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/resource_providers/{uuid}/inventories", get(list).post(create).put(replace).delete(delete_all))
        .route("/resource_providers/{uuid}/inventories/{rc}", get(show).put(update).delete(delete_one))
}

/// The inventory fields of a request (all but `total` have placement's defaults).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryFields {
    total: i64,
    #[serde(default)]
    reserved: Option<i64>,
    #[serde(default)]
    min_unit: Option<i64>,
    #[serde(default)]
    max_unit: Option<i64>,
    #[serde(default)]
    step_size: Option<i64>,
    #[serde(default)]
    allocation_ratio: Option<f64>,
}

impl From<InventoryFields> for Inventory {
    fn from(f: InventoryFields) -> Self {
        let d = Inventory::of(f.total);
        Inventory {
            total: f.total,
            reserved: f.reserved.unwrap_or(d.reserved),
            min_unit: f.min_unit.unwrap_or(d.min_unit),
            max_unit: f.max_unit.unwrap_or(d.max_unit),
            step_size: f.step_size.unwrap_or(d.step_size),
            allocation_ratio: f.allocation_ratio.unwrap_or(d.allocation_ratio),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplaceBody {
    resource_provider_generation: i64,
    inventories: BTreeMap<String, InventoryFields>,
}

#[derive(Deserialize)]
struct OneBody {
    resource_provider_generation: i64,
    #[serde(flatten)]
    fields: Value,
}

fn render_one(inv: &Inventory, generation: Option<i64>) -> Value {
    let mut v = json!({
        "total": inv.total, "reserved": inv.reserved, "min_unit": inv.min_unit,
        "max_unit": inv.max_unit, "step_size": inv.step_size, "allocation_ratio": inv.allocation_ratio,
    });
    if let Some(g) = generation {
        v["resource_provider_generation"] = json!(g);
    }
    v
}

fn render_all(generation: i64, inventories: &BTreeMap<String, Inventory>) -> Value {
    let invs: serde_json::Map<String, Value> = inventories.iter().map(|(rc, inv)| (rc.clone(), render_one(inv, None))).collect();
    json!({"resource_provider_generation": generation, "inventories": invs})
}

fn fields(value: Value) -> ApiResult<Inventory> {
    serde_json::from_value::<InventoryFields>(value).map(Into::into).map_err(|e| ApiError::bad_request(format!("JSON does not validate: {e}")))
}

async fn list(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(uuid): Path<String>) -> ApiResult<Response> {
    state.authorize("placement:resource_providers:inventories:list", &ctx, None)?;
    let invs = state.inventories(&uuid).await?;
    Ok(json_response(StatusCode::OK, version, None, render_all(invs.resource_provider_generation, &invs.inventories)))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path((uuid, rc)): Path<(String, String)>) -> ApiResult<Response> {
    state.authorize("placement:resource_providers:inventories:show", &ctx, None)?;
    let invs = state.inventories(&uuid).await?;
    let inv = invs.inventories.get(&rc).ok_or_else(|| ApiError::not_found(format!("No inventory of class {rc} for {uuid}")))?;
    Ok(json_response(StatusCode::OK, version, None, render_one(inv, Some(invs.resource_provider_generation))))
}

async fn create(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(uuid): Path<String>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    state.authorize("placement:resource_providers:inventories:create", &ctx, None)?;
    state.provider(&uuid).await?;
    let mut body: serde_json::Map<String, Value> = json_body(&headers, &body)?;
    let rc = match body.remove("resource_class") {
        Some(Value::String(rc)) => rc,
        _ => return Err(ApiError::bad_request("JSON does not validate: 'resource_class' is a required property")),
    };
    body.remove("resource_provider_generation");
    let inv = fields(Value::Object(body))?;
    let generation = state.add_inventory(&uuid, &rc, inv.clone(), version.at_least(26)).await?;
    let mut resp = json_response(StatusCode::CREATED, version, None, render_one(&inv, Some(generation)));
    if let Ok(v) = format!("/resource_providers/{uuid}/inventories/{rc}").parse() {
        resp.headers_mut().insert(http::header::LOCATION, v);
    }
    Ok(resp)
}

async fn replace(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(uuid): Path<String>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    state.authorize("placement:resource_providers:inventories:update", &ctx, None)?;
    state.provider(&uuid).await?;
    let body: ReplaceBody = json_body(&headers, &body)?;
    let wanted: BTreeMap<String, Inventory> = body.inventories.into_iter().map(|(rc, f)| (rc, f.into())).collect();
    let invs = state.set_inventories(&uuid, body.resource_provider_generation, wanted, version.at_least(26)).await?;
    Ok(json_response(StatusCode::OK, version, None, render_all(invs.resource_provider_generation, &invs.inventories)))
}

async fn update(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path((uuid, rc)): Path<(String, String)>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    state.authorize("placement:resource_providers:inventories:update", &ctx, None)?;
    state.provider(&uuid).await?;
    let body: OneBody = json_body(&headers, &body)?;
    let inv = fields(body.fields)?;
    let generation = state.update_inventory(&uuid, &rc, body.resource_provider_generation, inv.clone(), version.at_least(26)).await?;
    Ok(json_response(StatusCode::OK, version, None, render_one(&inv, Some(generation))))
}

async fn delete_one(S(state): S<State>, Authenticated(ctx): Authenticated, Path((uuid, rc)): Path<(String, String)>) -> ApiResult<Response> {
    state.authorize("placement:resource_providers:inventories:delete", &ctx, None)?;
    state.provider(&uuid).await?;
    state.delete_inventory(&uuid, &rc).await?;
    Ok(empty(StatusCode::NO_CONTENT, None))
}

async fn delete_all(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(uuid): Path<String>) -> ApiResult<Response> {
    if !version.at_least(5) {
        return Err(ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "The method specified is not allowed for this resource."));
    }
    state.authorize("placement:resource_providers:inventories:delete", &ctx, None)?;
    state.provider(&uuid).await?;
    state.delete_inventories(&uuid, None).await?;
    Ok(empty(StatusCode::NO_CONTENT, None))
}
