//! The Placement REST API: one file per resource, each exposing `routes()`. Every handler has
//! the same shape: check policy → read the request for its microversion → call the service
//! layer → render for the microversion.

pub mod aggregates;
pub mod allocation_candidates;
pub mod allocations;
pub mod candidate_query;
pub mod inventories;
pub mod query;
pub mod reshaper;
pub mod resource_classes;
pub mod resource_providers;
pub mod root;
pub mod traits;
pub mod usages;

use crate::microversion::{self, Version};
use crate::PlacementService;
use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use monostack_auth::middleware::require_token;
use monostack_auth::{AuthContext, SharedValidator};
use monostack_common::ApiError;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::sync::Arc;

pub type State = Arc<PlacementService>;
pub type ApiResult<T> = Result<T, ApiError>;

/// The whole placement API: the version document without a token, everything else behind
/// token validation, all of it under microversion negotiation.
pub fn router(state: State, validator: SharedValidator, identity_url: &str) -> Router {
    let www: Arc<str> = Arc::from(identity_url);
    let protected = Router::new()
        .merge(resource_providers::routes())
        .merge(inventories::routes())
        .merge(allocations::routes())
        .merge(allocation_candidates::routes())
        .merge(traits::routes())
        .merge(resource_classes::routes())
        .merge(aggregates::routes())
        .merge(usages::routes())
        .merge(reshaper::routes())
        .layer(axum::middleware::from_fn(move |req, next| require_token(validator.clone(), www.clone(), req, next)))
        .with_state(state.clone());
    Router::new()
        .merge(root::routes())
        .with_state(state)
        .merge(protected)
        .layer(axum::middleware::from_fn(microversion::layer))
}

impl PlacementService {
    /// 403 unless policy allows `action` for the caller, checked against the caller's own
    /// project and user as placement does (or `target` when given).
    pub fn authorize(&self, action: &str, ctx: &AuthContext, target: Option<Value>) -> ApiResult<()> {
        let target = target.unwrap_or_else(|| json!({"project_id": ctx.project_id, "user_id": ctx.user_id}));
        if self.policy.enforce(action, &target, ctx.policy_creds()) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("Policy does not allow {action} to be performed.")))
        }
    }
}

/// Reads a JSON request body: 415 unless it is declared `application/json`, 400 when it does
/// not parse ("Malformed JSON") or does not have the expected shape ("JSON does not validate").
pub fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> ApiResult<T> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        let shown = if media.is_empty() { "None" } else { media };
        return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("The media type {shown} is not supported, use application/json")));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("Malformed JSON: {e}")))?;
    serde_json::from_value(value).map_err(|e| ApiError::bad_request(format!("JSON does not validate: {e}")))
}

/// A JSON response, with `last-modified` and `cache-control: no-cache` from 1.15.
pub fn json_response(status: StatusCode, version: Version, last_modified: Option<i64>, body: Value) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    add_cache_headers(&mut resp, version, last_modified);
    resp
}

/// `last-modified` (the given time, or now) and `cache-control: no-cache`, from 1.15.
pub fn add_cache_headers(resp: &mut Response, version: Version, last_modified: Option<i64>) {
    if !version.at_least(15) {
        return;
    }
    let micros = last_modified.filter(|m| *m > 0).unwrap_or_else(monostack_common::time::now_micros);
    let date = monostack_common::time::to_datetime(micros).format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(v) = HeaderValue::from_str(&date) {
        resp.headers_mut().insert(header::LAST_MODIFIED, v);
    }
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

/// An empty response with `status` (204 or 201) and, optionally, a `location`.
pub fn empty(status: StatusCode, location: Option<String>) -> Response {
    let mut resp = status.into_response();
    if let Some(loc) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_need_json_and_the_right_shape() {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct B {
            #[allow(dead_code)]
            name: String,
        }
        let mut h = HeaderMap::new();
        assert_eq!(json_body::<B>(&h, &Bytes::from("{}")).err().map(|e| e.status), Some(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=UTF-8"));
        assert!(json_body::<B>(&h, &Bytes::from("{\"name\": \"x\"}")).is_ok());
        let e = json_body::<B>(&h, &Bytes::from("{nope")).err().unwrap();
        assert!(e.message.starts_with("Malformed JSON"));
        let e = json_body::<B>(&h, &Bytes::from("{\"name\": \"x\", \"y\": 1}")).err().unwrap();
        assert!(e.message.starts_with("JSON does not validate"));
    }
}
