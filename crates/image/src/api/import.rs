//! `POST /v2/images/{id}/import`: interoperable image import (glance-direct, web-download,
//! copy-image). Accepted with 202; the work runs in the background (see [`crate::import`]).

use super::{ApiResult, Found, State};
use monostack_auth::AuthContext;
use crate::db::images as image_db;
use crate::db::tasks::Task;
use crate::import::{self, Method};
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::Extension;
use monostack_common::request_id::RequestId;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_common::json::parse_json;
use monostack_common::ApiError;
use serde_json::Value;

pub fn routes() -> Router<State> {
    Router::new().route("/v2/images/{id}/import", post(start))
}

/// Checks a web-download URL: http or https only.
pub fn download_url(uri: &str) -> ApiResult<String> {
    let parsed = url::Url::parse(uri).map_err(|_| ApiError::bad_request(format!("URI for web-download is not valid: {uri}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ApiError::bad_request("URI for web-download must be http or https"));
    }
    Ok(uri.to_string())
}

fn parse_method(body: &Value) -> ApiResult<Method> {
    let method = body.get("method").ok_or_else(|| ApiError::bad_request("Request body must contain 'method'"))?;
    let name = method.get("name").and_then(Value::as_str).ok_or_else(|| ApiError::bad_request("Import method must have a 'name'"))?;
    match name {
        "glance-direct" => Ok(Method::GlanceDirect),
        "web-download" => {
            let uri = method.get("uri").and_then(Value::as_str).ok_or_else(|| ApiError::bad_request("web-download needs a 'uri'"))?;
            Ok(Method::WebDownload(download_url(uri)?))
        }
        "copy-image" => Ok(Method::CopyImage),
        other => Err(ApiError::bad_request(format!("Import method {other} is not valid"))),
    }
}

/// The stores named by `stores` / `all_stores`; every one must exist.
fn target_stores(state: &State, body: &Value, all_stores: bool) -> ApiResult<Vec<String>> {
    let known = state.store.id().to_string();
    if all_stores {
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

/// Checks that `method` may run on the image now; returns the status it starts from.
fn precondition(state: &State, method: &Method, found: &Found, ctx: &AuthContext, stores: &[String], all_stores: bool) -> ApiResult<&'static str> {
    let (action, from) = match method {
        Method::GlanceDirect => ("modify_image", "uploading"),
        Method::WebDownload(_) => ("modify_image", "queued"),
        Method::CopyImage => ("copy_image", "active"),
    };
    state.authorize_on(action, found, ctx)?;
    let img = &found.image;
    if img.status != from {
        let id = &img.id;
        let why = match method {
            Method::GlanceDirect => format!("Image {id} is not staged (status {}); stage its data first", img.status),
            Method::WebDownload(_) => format!("Image {id} must be queued to import with web-download, not {}", img.status),
            Method::CopyImage => format!("Image {id} must be active to be copied, not {}", img.status),
        };
        return Err(ApiError::conflict(why));
    }
    if *method == Method::CopyImage && !all_stores {
        let present: Vec<&str> = img.stores.as_deref().unwrap_or("").split(',').collect();
        if let Some(s) = stores.iter().find(|s| present.contains(&s.as_str())) {
            return Err(ApiError::conflict(format!("Image {} is already present in store {s}", img.id)));
        }
    }
    Ok(from)
}

async fn start(
    S(state): S<State>,
    Authenticated(ctx): Authenticated,
    request_id: Option<Extension<RequestId>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let body: Value = parse_json(&body)?;
    let method = parse_method(&body)?;
    if !state.config.image.enabled_import_methods.iter().any(|m| m == method.name()) {
        return Err(ApiError::bad_request(format!("Import method {} is not enabled", method.name())));
    }
    // With all_stores, Glance skips the stores that already hold the image.
    let all_stores = body.get("all_stores").and_then(Value::as_bool) == Some(true);
    let stores = target_stores(&state, &body, all_stores)?;
    let found = state.find(&id, &ctx).await?;
    let from = precondition(&state, &method, &found, &ctx, &stores, all_stores)?;
    // Glance's progress markers: the stores still to do, and those that failed.
    let mut img = found.image.clone();
    let pending = if from == "active" { String::new() } else { stores.join(",") };
    img.properties.insert("os_glance_importing_to_stores".into(), pending);
    img.properties.insert("os_glance_failed_import".into(), String::new());
    img.status = if from == "active" { "active".into() } else { "importing".into() };
    if !image_db::save(&state.db, &img, from).await? {
        return Err(ApiError::conflict(format!("Image {id} changed status; retry the import")));
    }
    let mut input = serde_json::Map::new();
    input.insert("image_id".into(), Value::String(id.clone()));
    input.insert("import_req".into(), body.clone());
    input.insert("backend".into(), serde_json::json!(stores));
    let mut task = Task::new("api_image_import", found.image.owner.clone(), &ctx.user_id, input);
    task.request_id = request_id.map(|Extension(r)| r.0);
    import::spawn(state.clone(), id, method, stores, task).await?;
    Ok(StatusCode::ACCEPTED)
}
