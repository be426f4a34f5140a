//! `/resource_providers` and `/resource_providers/{uuid}`.

use super::{empty, json_body, json_response, query, ApiResult, State};
use crate::microversion::Version;
use crate::service::canonical_uuid;
use crate::service::providers::{NewProvider, ParentChange, ProviderFilter};
use crate::types::ResourceProvider;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as S};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_common::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/resource_providers", get(list).post(create))
        .route("/resource_providers/{uuid}", get(show).put(update).delete(delete))
}

/// A provider as placement shows it at `version`.
pub fn render(rp: &ResourceProvider, version: Version) -> Value {
    let url = format!("/resource_providers/{}", rp.uuid);
    let mut rels = vec!["inventories", "usages"];
    if version.at_least(1) {
        rels.push("aggregates");
    }
    if version.at_least(6) {
        rels.push("traits");
    }
    if version.at_least(11) {
        rels.push("allocations");
    }
    let mut links = vec![json!({"rel": "self", "href": url})];
    links.extend(rels.iter().map(|r| json!({"rel": r, "href": format!("{url}/{r}")})));
    let mut body = json!({"uuid": rp.uuid, "name": rp.name, "generation": rp.generation, "links": links});
    if version.at_least(14) {
        body["parent_provider_uuid"] = json!(rp.parent_provider_uuid);
        body["root_provider_uuid"] = json!(rp.root_provider_uuid);
    }
    body
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    uuid: Option<String>,
    #[serde(default)]
    parent_provider_uuid: Option<String>,
}

async fn create(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    state.authorize("placement:resource_providers:create", &ctx, None)?;
    let body: Value = json_body(&headers, &body)?;
    if !version.at_least(14) && body.get("parent_provider_uuid").is_some() {
        return Err(ApiError::bad_request("JSON does not validate: Additional properties are not allowed ('parent_provider_uuid' was unexpected)"));
    }
    let body: CreateBody = serde_json::from_value(body).map_err(|e| ApiError::bad_request(format!("JSON does not validate: {e}")))?;
    let spec = NewProvider { uuid: body.uuid, name: body.name, parent_provider_uuid: body.parent_provider_uuid };
    let rp = state.create_provider(spec).await?;
    let location = format!("/resource_providers/{}", rp.uuid);
    if version.at_least(20) {
        let mut resp = json_response(StatusCode::OK, version, Some(rp.updated_at), render(&rp, version));
        if let Ok(v) = location.parse() {
            resp.headers_mut().insert(http::header::LOCATION, v);
        }
        return Ok(resp);
    }
    Ok(empty(StatusCode::CREATED, Some(location)))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(uuid): Path<String>) -> ApiResult<Response> {
    state.authorize("placement:resource_providers:show", &ctx, None)?;
    let rp = state.provider(&uuid).await?;
    Ok(json_response(StatusCode::OK, version, Some(rp.updated_at), render(&rp, version)))
}

/// The query parameters each version accepts.
fn allowed(key: &str, version: Version) -> bool {
    match key {
        "name" | "uuid" => true,
        "member_of" => version.at_least(3),
        "resources" => version.at_least(4),
        "in_tree" => version.at_least(14),
        "required" => version.at_least(18),
        _ => false,
    }
}

async fn list(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    state.authorize("placement:resource_providers:list", &ctx, None)?;
    let pairs = query::pairs(raw.as_deref());
    query::only(&pairs, |k| allowed(k, version))?;
    let mut filter = ProviderFilter { name: query::last(&pairs, "name").map(str::to_string), ..Default::default() };
    if let Some(u) = query::last(&pairs, "uuid") {
        filter.uuid = Some(canonical_uuid(u).ok_or_else(|| ApiError::bad_request(format!("Invalid query string parameters: '{u}' is not a 'uuid'")))?);
    }
    if let Some(t) = query::last(&pairs, "in_tree") {
        filter.in_tree = Some(canonical_uuid(t).ok_or_else(|| ApiError::bad_request(format!("Invalid query string parameters: '{t}' is not a 'uuid'")))?);
    }
    if let Some(r) = query::last(&pairs, "resources") {
        filter.resources = query::resources(r)?;
    }
    (filter.member_of, filter.forbidden_aggregates) = query::member_of(&pairs, "member_of", version)?;
    (filter.required, filter.forbidden_traits) = query::required_all(&pairs, "required", version)?;
    let providers = state.list_providers(&filter).await?;
    let last_modified = providers.iter().map(|p| p.updated_at).max();
    let body = json!({"resource_providers": providers.iter().map(|p| render(p, version)).collect::<Vec<_>>()});
    Ok(json_response(StatusCode::OK, version, last_modified, body))
}

async fn update(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(uuid): Path<String>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    state.authorize("placement:resource_providers:update", &ctx, None)?;
    state.provider(&uuid).await?;
    let body: Value = json_body(&headers, &body)?;
    let Value::Object(fields) = body else {
        return Err(ApiError::bad_request("JSON does not validate: the body must be an object"));
    };
    if let Some(k) = fields.keys().find(|k| !(k.as_str() == "name" || (k.as_str() == "parent_provider_uuid" && version.at_least(14)))) {
        return Err(ApiError::bad_request(format!("JSON does not validate: Additional properties are not allowed ('{k}' was unexpected)")));
    }
    let name = fields.get("name").and_then(Value::as_str).ok_or_else(|| ApiError::bad_request("JSON does not validate: 'name' is a required property"))?;
    let parent = match fields.get("parent_provider_uuid") {
        None => ParentChange::Keep,
        Some(Value::Null) => ParentChange::Set(None),
        Some(Value::String(p)) => ParentChange::Set(Some(p.clone())),
        Some(other) => return Err(ApiError::bad_request(format!("JSON does not validate: {other} is not valid under any of the given schemas"))),
    };
    let rp = state.update_provider(&uuid, name, parent, version.at_least(37)).await?;
    Ok(json_response(StatusCode::OK, version, Some(rp.updated_at), render(&rp, version)))
}

async fn delete(S(state): S<State>, Authenticated(ctx): Authenticated, Path(uuid): Path<String>) -> ApiResult<Response> {
    state.authorize("placement:resource_providers:delete", &ctx, None)?;
    state.delete_provider(&uuid).await?;
    Ok(empty(StatusCode::NO_CONTENT, None))
}
