//! `/resource_classes[/{name}]` (1.2+).

use super::{empty, json_body, json_response, ApiResult, State};
use crate::microversion::{self, Version};
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/resource_classes", get(list).post(create))
        .route("/resource_classes/{name}", get(show).put(put).delete(delete))
}

fn render(name: &str) -> Value {
    json!({"name": name, "links": [{"rel": "self", "href": format!("/resource_classes/{name}")}]})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameBody {
    name: String,
}

async fn list(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version) -> ApiResult<Response> {
    microversion::require(version, 2)?;
    state.authorize("placement:resource_classes:list", &ctx, None)?;
    let classes = state.list_resource_classes().await?;
    Ok(json_response(StatusCode::OK, version, None, json!({"resource_classes": classes.iter().map(|c| render(c)).collect::<Vec<_>>()})))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(name): Path<String>) -> ApiResult<Response> {
    microversion::require(version, 2)?;
    state.authorize("placement:resource_classes:show", &ctx, None)?;
    let name = state.resource_class(&name).await?;
    Ok(json_response(StatusCode::OK, version, None, render(&name)))
}

async fn create(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    microversion::require(version, 2)?;
    state.authorize("placement:resource_classes:create", &ctx, None)?;
    let body: NameBody = json_body(&headers, &body)?;
    state.create_resource_class(&body.name).await?;
    Ok(empty(StatusCode::CREATED, Some(format!("/resource_classes/{}", body.name))))
}

/// Before 1.7 a rename (with a body); from 1.7 a bodiless create-or-check.
async fn put(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(name): Path<String>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    microversion::require(version, 2)?;
    state.authorize("placement:resource_classes:update", &ctx, None)?;
    if !version.at_least(7) {
        let body: NameBody = json_body(&headers, &body)?;
        state.rename_resource_class(&name, &body.name).await?;
        return Ok(json_response(StatusCode::OK, version, None, render(&body.name)));
    }
    let created = state.ensure_resource_class(&name).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::NO_CONTENT };
    let mut resp = empty(status, Some(format!("/resource_classes/{name}")));
    super::add_cache_headers(&mut resp, version, None);
    Ok(resp)
}

async fn delete(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(name): Path<String>) -> ApiResult<Response> {
    microversion::require(version, 2)?;
    state.authorize("placement:resource_classes:delete", &ctx, None)?;
    state.delete_resource_class(&name).await?;
    Ok(empty(StatusCode::NO_CONTENT, None))
}
