//! `/images/{image_id}/metadata` (gone from 2.39): an image's custom properties through
//! Nova's proxy, read and written with the caller's token; writes count against the
//! project's `metadata_items` quota.

use super::caller::Caller;
use super::images::{auth, check_version, image_fault};
use super::{input, ApiResult, Microversion, State};
use crate::compute_api::snapshot::check_image_metadata_quota;
use crate::context::RequestContext;
use crate::image_client::ImageMeta;
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The last microversion that has the API.
const LAST_MINOR: u16 = 38;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/images/{id}/metadata", get(index).post(create).put(update_all))
        .route("/v2.1/images/{id}/metadata/{key}", get(show).put(update).delete(delete))
}

async fn image(state: &State, ctx: &RequestContext, id: &str) -> ApiResult<ImageMeta> {
    state.images.get(auth(ctx), id).await.map_err(image_fault)
}

/// Makes `wanted` the image's properties, within the quota.
async fn store(state: &State, ctx: &RequestContext, image: &ImageMeta, wanted: &BTreeMap<String, String>) -> ApiResult<ImageMeta> {
    check_image_metadata_quota(state, ctx, wanted).await?;
    state.images.replace_properties(auth(ctx), image, wanted).await.map_err(image_fault)
}

/// `{"<root>": {key: value, …}}` with Nova's metadata key and value rules.
fn metadata_body(bytes: &[u8], root: &str) -> ApiResult<BTreeMap<String, String>> {
    let body = input::parse(bytes)?;
    let obj = input::object(&body, "body")?;
    input::only(obj, &[root], None)?;
    let value = obj.get(root).ok_or_else(|| ApiError::bad_request(format!("'{root}' is a required property")))?;
    Ok(input::metadata(value, root, false, false)?.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect())
}

async fn index(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(image_id): Path<String>) -> ApiResult<Json<Value>> {
    check_version(mv, LAST_MINOR)?;
    Ok(Json(json!({"metadata": image(&state, &ctx, &image_id).await?.properties})))
}

/// Merges the given items into the image's properties.
async fn create(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(image_id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    check_version(mv, LAST_MINOR)?;
    let items = metadata_body(&body, "metadata")?;
    let current = image(&state, &ctx, &image_id).await?;
    let mut wanted = current.properties.clone();
    wanted.extend(items);
    let updated = store(&state, &ctx, &current, &wanted).await?;
    Ok(Json(json!({"metadata": updated.properties})))
}

/// Replaces all the image's properties with the given ones.
async fn update_all(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(image_id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    check_version(mv, LAST_MINOR)?;
    let wanted = metadata_body(&body, "metadata")?;
    let current = image(&state, &ctx, &image_id).await?;
    store(&state, &ctx, &current, &wanted).await?;
    Ok(Json(json!({"metadata": wanted})))
}

async fn show(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path((image_id, key)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    check_version(mv, LAST_MINOR)?;
    let properties = image(&state, &ctx, &image_id).await?.properties;
    let value = properties.get(&key).ok_or_else(|| ApiError::not_found("The resource could not be found."))?;
    Ok(Json(json!({"meta": {key: value}})))
}

/// Sets one item: `{"meta": {key: value}}`, the key being the one in the URL.
async fn update(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path((image_id, key)): Path<(String, String)>, body: Bytes) -> ApiResult<Json<Value>> {
    check_version(mv, LAST_MINOR)?;
    let meta = metadata_body(&body, "meta")?;
    if meta.len() != 1 {
        let problem = if meta.is_empty() { "does not have enough properties" } else { "has too many properties" };
        return Err(ApiError::bad_request(format!("Invalid input for field/attribute meta. Value: {meta:?}. {meta:?} {problem}")));
    }
    let Some(value) = meta.get(&key) else {
        return Err(ApiError::bad_request("Request body and URI mismatch"));
    };
    let current = image(&state, &ctx, &image_id).await?;
    let mut wanted = current.properties.clone();
    wanted.insert(key.clone(), value.clone());
    store(&state, &ctx, &current, &wanted).await?;
    Ok(Json(json!({"meta": meta})))
}

async fn delete(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path((image_id, key)): Path<(String, String)>) -> ApiResult<StatusCode> {
    check_version(mv, LAST_MINOR)?;
    let current = image(&state, &ctx, &image_id).await?;
    if !current.properties.contains_key(&key) {
        return Err(ApiError::not_found("Invalid metadata key"));
    }
    let mut wanted = current.properties.clone();
    wanted.remove(&key);
    state.images.replace_properties(auth(&ctx), &current, &wanted).await.map_err(image_fault)?;
    Ok(StatusCode::NO_CONTENT)
}
