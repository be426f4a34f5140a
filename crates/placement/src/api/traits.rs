//! `/traits[/{name}]` (1.6+) and `/resource_providers/{uuid}/traits`.

use super::{empty, json_body, json_response, query, ApiResult, State};
use crate::microversion::{self, Version};
use crate::service::traits::TraitFilter;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as S};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_common::ApiError;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeSet;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/traits", get(list))
        .route("/traits/{name}", get(show).put(put).delete(delete))
        .route("/resource_providers/{uuid}/traits", get(of_provider).put(set_of_provider).delete(clear_of_provider))
}

fn filter(raw: Option<&str>) -> ApiResult<TraitFilter> {
    let pairs = query::pairs(raw);
    query::only(&pairs, |k| k == "name" || k == "associated")?;
    let mut f = TraitFilter::default();
    if let Some(name) = query::last(&pairs, "name") {
        let Some((op, value)) = name.split_once(':') else {
            return Err(ApiError::bad_request(format!(
                "Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: \"{name}\""
            )));
        };
        match op {
            "in" => f.names = Some(value.split(',').map(str::to_string).collect()),
            "startswith" => f.prefix = Some(value.to_string()),
            _ => return Err(ApiError::bad_request(format!("Invalid query string parameters: '{name}' does not match '^(in|startswith):.+$'"))),
        }
    }
    if let Some(a) = query::last(&pairs, "associated") {
        f.associated = match a.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => return Err(ApiError::bad_request("The query parameter \"associated\" only accepts \"true\" or \"false\"")),
        };
    }
    Ok(f)
}

async fn list(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    microversion::require(version, 6)?;
    state.authorize("placement:traits:list", &ctx, None)?;
    let traits = state.list_traits(&filter(raw.as_deref())?).await?;
    Ok(json_response(StatusCode::OK, version, None, json!({ "traits": traits })))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(name): Path<String>) -> ApiResult<Response> {
    microversion::require(version, 6)?;
    state.authorize("placement:traits:show", &ctx, None)?;
    if !state.trait_exists(&name).await? {
        return Err(ApiError::not_found(format!("No such trait(s): {name}.")));
    }
    let mut resp = empty(StatusCode::NO_CONTENT, None);
    super::add_cache_headers(&mut resp, version, None);
    Ok(resp)
}

async fn put(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(name): Path<String>) -> ApiResult<Response> {
    microversion::require(version, 6)?;
    state.authorize("placement:traits:update", &ctx, None)?;
    let created = state.ensure_trait(&name).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::NO_CONTENT };
    let mut resp = empty(status, Some(format!("/traits/{name}")));
    super::add_cache_headers(&mut resp, version, None);
    Ok(resp)
}

async fn delete(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(name): Path<String>) -> ApiResult<Response> {
    microversion::require(version, 6)?;
    state.authorize("placement:traits:delete", &ctx, None)?;
    state.delete_trait(&name).await?;
    Ok(empty(StatusCode::NO_CONTENT, None))
}

async fn of_provider(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(uuid): Path<String>) -> ApiResult<Response> {
    microversion::require(version, 6)?;
    state.authorize("placement:resource_providers:traits:list", &ctx, None)?;
    let (generation, traits) = state.provider_traits(&uuid).await?;
    Ok(json_response(StatusCode::OK, version, None, json!({"traits": traits, "resource_provider_generation": generation})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetBody {
    traits: BTreeSet<String>,
    resource_provider_generation: i64,
}

async fn set_of_provider(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(uuid): Path<String>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    microversion::require(version, 6)?;
    state.authorize("placement:resource_providers:traits:update", &ctx, None)?;
    state.provider(&uuid).await?;
    let body: SetBody = json_body(&headers, &body)?;
    if let Some(bad) = body.traits.iter().find(|t| !crate::standard::is_valid_name(t)) {
        return Err(ApiError::bad_request(format!("JSON does not validate: '{bad}' does not match '^[A-Z0-9_]+$'")));
    }
    let generation = state.set_provider_traits(&uuid, Some(body.resource_provider_generation), body.traits.clone()).await?;
    Ok(json_response(StatusCode::OK, version, None, json!({"traits": body.traits, "resource_provider_generation": generation})))
}

async fn clear_of_provider(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(uuid): Path<String>) -> ApiResult<Response> {
    microversion::require(version, 6)?;
    state.authorize("placement:resource_providers:traits:delete", &ctx, None)?;
    state.set_provider_traits(&uuid, None, BTreeSet::new()).await?;
    Ok(empty(StatusCode::NO_CONTENT, None))
}
