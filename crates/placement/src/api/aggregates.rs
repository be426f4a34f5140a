//! `/resource_providers/{uuid}/aggregates` (1.1+; generations from 1.19).

use super::{json_body, json_response, ApiResult, State};
use crate::microversion::{self, Version};
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
use std::collections::BTreeSet;

pub fn routes() -> Router<State> {
    Router::new().route("/resource_providers/{uuid}/aggregates", get(list).put(set))
}

fn render(aggregates: &BTreeSet<String>, generation: i64, version: Version) -> Value {
    let mut v = json!({ "aggregates": aggregates });
    if version.at_least(19) {
        v["resource_provider_generation"] = json!(generation);
    }
    v
}

async fn list(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(uuid): Path<String>) -> ApiResult<Response> {
    microversion::require(version, 1)?;
    state.authorize("placement:resource_providers:aggregates:list", &ctx, None)?;
    let (generation, aggregates) = state.provider_aggregates(&uuid).await?;
    Ok(json_response(StatusCode::OK, version, None, render(&aggregates, generation, version)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    aggregates: Vec<String>,
    resource_provider_generation: i64,
}

async fn set(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(uuid): Path<String>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    microversion::require(version, 1)?;
    state.authorize("placement:resource_providers:aggregates:update", &ctx, None)?;
    state.provider(&uuid).await?;
    let (list, generation) = if version.at_least(19) {
        let body: Body = json_body(&headers, &body)?;
        (body.aggregates, Some(body.resource_provider_generation))
    } else {
        (json_body::<Vec<String>>(&headers, &body)?, None)
    };
    let unique: BTreeSet<String> = list.iter().cloned().collect();
    if unique.len() != list.len() {
        return Err(ApiError::bad_request("JSON does not validate: the aggregates have non-unique elements"));
    }
    let new_generation = state.set_provider_aggregates(&uuid, generation, unique).await?;
    let (_, aggregates) = state.provider_aggregates(&uuid).await?;
    Ok(json_response(StatusCode::OK, version, None, render(&aggregates, new_generation, version)))
}
