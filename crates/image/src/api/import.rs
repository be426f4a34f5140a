//! `POST /v2/images/{id}/import`: interoperable image import (glance-direct, web-download,
//! copy-image). Accepted with 202; the work runs in the background (see [`crate::import`]).

use super::{ApiResult, State};
use crate::db::images as image_db;
use crate::import::{self, Method};
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_common::ApiError;
use serde_json::Value;

pub fn routes() -> Router<State> {
    Router::new().route("/v2/images/{id}/import", post(start))
}

fn parse_method(body: &Value) -> ApiResult<Method> {
    let method = body.get("method").ok_or_else(|| ApiError::bad_request("Request body must contain 'method'"))?;
    let name = method.get("name").and_then(Value::as_str).ok_or_else(|| ApiError::bad_request("Import method must have a 'name'"))?;
    match name {
        "glance-direct" => Ok(Method::GlanceDirect),
        "web-download" => {
            let uri = method.get("uri").and_then(Value::as_str).ok_or_else(|| ApiError::bad_request("web-download needs a 'uri'"))?;
            let parsed = url::Url::parse(uri).map_err(|_| ApiError::bad_request(format!("URI for web-download is not valid: {uri}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(ApiError::bad_request("URI for web-download must be http or https"));
            }
            Ok(Method::WebDownload(uri.to_string()))
        }
        "copy-image" => Ok(Method::CopyImage),
        other => Err(ApiError::bad_request(format!("Import method {other} is not valid"))),
    }
}

/// The stores named by `stores` / `all_stores`; every one must exist.
fn target_stores(state: &State, body: &Value) -> ApiResult<Vec<String>> {
    let known = state.store.id().to_string();
    if body.get("all_stores").and_then(Value::as_bool) == Some(true) {
        return Ok(vec![known]);
    }
    let Some(list) = body.get("stores") else { return Ok(vec![known]) };
    let names: Vec<String> = list
        .as_array()
        .ok_or_else(|| ApiError::bad_request("'stores' must be a list"))?
        .iter()
        .map(|s| s.as_str().map(str::to_string).ok_or_else(|| ApiError::bad_request("'stores' must be a list of store ids")))
        .collect::<ApiResult<_>>()?;
    if let Some(bad) = names.iter().find(|n| **n != known) {
        return Err(ApiError::bad_request(format!("Store {bad} is not available")));
    }
    Ok(names)
}

async fn start(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>, body: Bytes) -> ApiResult<StatusCode> {
    let body: Value = serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("Malformed JSON in request body: {e}")))?;
    let method = parse_method(&body)?;
    if !state.config.image.enabled_import_methods.iter().any(|m| m == method.name()) {
        return Err(ApiError::bad_request(format!("Import method {} is not enabled", method.name())));
    }
    let stores = target_stores(&state, &body)?;
    let found = state.find(&id, &ctx).await?;
    let img = &found.image;
    let from = match &method {
        Method::GlanceDirect => {
            state.authorize_on("modify_image", &found, &ctx)?;
            if img.status != "uploading" {
                return Err(ApiError::conflict(format!("Image {id} is not staged (status {}); stage its data first", img.status)));
            }
            "uploading"
        }
        Method::WebDownload(_) => {
            state.authorize_on("modify_image", &found, &ctx)?;
            if img.status != "queued" {
                return Err(ApiError::conflict(format!("Image {id} must be queued to import with web-download, not {}", img.status)));
            }
            "queued"
        }
        Method::CopyImage => {
            state.authorize_on("copy_image", &found, &ctx)?;
            if img.status != "active" {
                return Err(ApiError::conflict(format!("Image {id} must be active to be copied, not {}", img.status)));
            }
            let present: Vec<&str> = img.stores.as_deref().unwrap_or("").split(',').collect();
            if let Some(s) = stores.iter().find(|s| present.contains(&s.as_str())) {
                return Err(ApiError::conflict(format!("Image {id} is already present in store {s}")));
            }
            "active"
        }
    };
    if from != "active" && !image_db::transition(&state.db, &id, &[from], "importing").await? {
        return Err(ApiError::conflict(format!("Image {id} changed status; retry the import")));
    }
    import::spawn(state.clone(), id, method, stores);
    Ok(StatusCode::ACCEPTED)
}
