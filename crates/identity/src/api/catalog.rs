//! `/v3/services`, `/v3/endpoints` and `/v3/regions`: administering the service catalog.
//! The catalog policies need no target, so (as Keystone does) the policy is checked right
//! after the body is validated and before anything is looked up.

use super::body::{extra_of, merge_extra, object, opt_bool, opt_str, req_str};
use super::query::from_uri;
use super::{collection_links, created, enforce, links, no_content, not_found, ok, ApiResult, Caller, State};
use crate::store::{self, catalog::{Endpoint, Region, Service}};
use crate::Identity;
use axum::extract::{Path, State as S};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_common::json::Json;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};
use std::collections::HashSet;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/services", get(list_services).post(create_service))
        .route("/v3/services/{service_id}", get(show_service).patch(update_service).delete(delete_service))
        .route("/v3/endpoints", get(list_endpoints).post(create_endpoint))
        .route("/v3/endpoints/{endpoint_id}", get(show_endpoint).patch(update_endpoint).delete(delete_endpoint))
        .route("/v3/regions", get(list_regions).post(create_region))
        .route("/v3/regions/{region_id}", get(show_region).put(put_region).patch(update_region).delete(delete_region))
}

const INTERFACES: &[&str] = &["admin", "internal", "public"];
/// Substitutions Keystone allows in endpoint URLs (`$(project_id)s`, …).
const URL_SUBSTITUTIONS: &[&str] = &["tenant_id", "project_id", "user_id", "compute_host", "public_endpoint"];

const SERVICE_KNOWN: &[&str] = &["id", "type", "name", "description", "enabled", "links"];
const ENDPOINT_KNOWN: &[&str] = &["id", "service_id", "interface", "region_id", "region", "url", "enabled", "links", "legacy_endpoint_id"];
const REGION_KNOWN: &[&str] = &["id", "description", "parent_region_id", "links"];

/// A string field of bounded length, when present (null is None).
fn bounded<'a>(obj: &'a Map<String, Value>, key: &str, min: usize, max: usize) -> ApiResult<Option<&'a str>> {
    let v = opt_str(obj, key)?;
    if let Some(s) = v {
        let n = s.chars().count();
        if n < min || n > max {
            return Err(ApiError::bad_request(format!("Invalid input for field '{key}': length must be between {min} and {max}")));
        }
    }
    Ok(v)
}

/// A present field must not be null.
fn not_null(obj: &Map<String, Value>, key: &str) -> ApiResult<()> {
    if obj.get(key).is_some_and(Value::is_null) {
        return Err(ApiError::bad_request(format!("Invalid input for field '{key}': None is not allowed")));
    }
    Ok(())
}

/// `PATCH` bodies must name at least one attribute and may not change the id.
fn patch_object<'a>(body: &'a Value, key: &str, id: &str) -> ApiResult<&'a Map<String, Value>> {
    let obj = object(body, key)?;
    if obj.is_empty() {
        return Err(ApiError::bad_request(format!("Invalid input for field '{key}': it must have at least one property")));
    }
    if let Some(given) = obj.get("id").filter(|v| !v.is_null()) {
        if given.as_str() != Some(id) {
            return Err(ApiError::bad_request("Cannot change ID"));
        }
    }
    Ok(obj)
}

fn policy(state: &Identity, caller: &Caller, action: &str) -> ApiResult<()> {
    enforce(state, caller, action, &json!({}))
}

// ---- services ----

pub fn service_view(state: &Identity, s: &Service) -> Value {
    let mut v = json!({
        "id": s.id, "type": s.service_type, "name": s.name.clone().unwrap_or_default(),
        "enabled": s.enabled, "links": links(state, &format!("services/{}", s.id)),
    });
    if let Some(d) = &s.description {
        v["description"] = json!(d);
    }
    merge_extra(&mut v, &s.extra);
    v
}

async fn must_get_service(state: &Identity, id: &str) -> ApiResult<Service> {
    store::catalog::get_service(state, id).await?.ok_or_else(|| not_found("service", id))
}

async fn create_service(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = object(&body, "service")?;
    let service_type = bounded(obj, "type", 1, 255)?.ok_or_else(|| ApiError::bad_request("'type' is a required property"))?;
    let mut service = Service::new(service_type, Some(bounded(obj, "name", 1, 255)?.unwrap_or("")));
    not_null(obj, "enabled")?;
    service.enabled = opt_bool(obj, "enabled")?.unwrap_or(true);
    service.description = opt_str(obj, "description")?.map(str::to_string);
    service.extra = extra_of(obj, SERVICE_KNOWN);
    policy(&state, &caller, "identity:create_service")?;
    store::catalog::upsert_service(&state, &service, true).await?;
    tracing::info!("created service {} ({})", service.id, service.service_type);
    Ok(created(json!({"service": service_view(&state, &service)})))
}

async fn list_services(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    policy(&state, &caller, "identity:list_services")?;
    let q = from_uri(&uri);
    let services: Vec<Value> = store::catalog::list_services(&state)
        .await?
        .into_iter()
        .filter(|s| q.matches_text("type", Some(&s.service_type)))
        .filter(|s| q.matches_text("name", s.name.as_deref()))
        .map(|s| service_view(&state, &s))
        .collect();
    Ok(ok(json!({"services": services, "links": collection_links(&state, "services", uri.query())})))
}

async fn show_service(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:get_service")?;
    let service = must_get_service(&state, &id).await?;
    Ok(ok(json!({"service": service_view(&state, &service)})))
}

async fn update_service(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = patch_object(&body, "service", &id)?;
    not_null(obj, "type")?;
    not_null(obj, "enabled")?;
    let service_type = bounded(obj, "type", 1, 255)?;
    let name = bounded(obj, "name", 1, 255)?;
    let enabled = opt_bool(obj, "enabled")?;
    let description = opt_str(obj, "description")?;
    policy(&state, &caller, "identity:update_service")?;
    let mut service = must_get_service(&state, &id).await?;
    if let Some(t) = service_type {
        service.service_type = t.to_string();
    }
    if obj.contains_key("name") {
        service.name = Some(name.unwrap_or("").to_string());
    }
    if let Some(e) = enabled {
        service.enabled = e;
    }
    if obj.contains_key("description") {
        service.description = description.map(str::to_string);
    }
    for (k, v) in extra_of(obj, SERVICE_KNOWN) {
        service.extra.insert(k, v);
    }
    store::catalog::upsert_service(&state, &service, false).await?;
    Ok(ok(json!({"service": service_view(&state, &service)})))
}

async fn delete_service(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:delete_service")?;
    must_get_service(&state, &id).await?;
    store::catalog::delete_service(&state, &id).await?;
    store::limits::delete_for_service(&state, &id).await?;
    tracing::info!("deleted service {id} and its endpoints");
    Ok(no_content())
}

// ---- endpoints ----

pub fn endpoint_view(state: &Identity, e: &Endpoint) -> Value {
    let mut v = json!({
        "id": e.id, "service_id": e.service_id, "interface": e.interface,
        "region_id": e.region_id, "region": e.region_id, "url": e.url, "enabled": e.enabled,
        "links": links(state, &format!("endpoints/{}", e.id)),
    });
    merge_extra(&mut v, &e.extra);
    v
}

async fn must_get_endpoint(state: &Identity, id: &str) -> ApiResult<Endpoint> {
    store::catalog::get_endpoint(state, id).await?.ok_or_else(|| not_found("endpoint", id))
}

/// Keystone's URL checks: `scheme:rest`, at most 225 characters, only known `$(...)s` substitutions.
fn validate_url(url: &str) -> ApiResult<()> {
    let invalid = || ApiError::bad_request(format!("Cannot create an endpoint with an invalid URL: {url}."));
    if url.chars().count() > 225 {
        return Err(ApiError::bad_request("Invalid input for field 'url': longer than 225 characters"));
    }
    match url.split_once(':') {
        Some((scheme, rest))
            if !scheme.is_empty()
                && !rest.is_empty()
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')) => {}
        _ => return Err(ApiError::bad_request(format!("Invalid input for field 'url': '{url}' is not a URL"))),
    }
    let mut rest = url;
    while let Some(i) = rest.find("$(") {
        let after = &rest[i + 2..];
        let end = after.find(')').ok_or_else(invalid)?;
        if !URL_SUBSTITUTIONS.contains(&&after[..end]) || !after[end + 1..].starts_with('s') {
            return Err(invalid());
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

fn validate_interface(interface: &str) -> ApiResult<()> {
    if INTERFACES.contains(&interface) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!("Invalid input for field 'interface': '{interface}' is not one of {INTERFACES:?}")))
    }
}

/// Keystone's ValidationError: a reference in the body names nothing that exists.
pub(crate) fn expecting(attribute: &str, target: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Expecting to find {attribute} in {target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."
    ))
}

/// The region an endpoint body names: `region_id` must exist; the legacy `region` (used only
/// when `region_id` is absent) is created when missing, as Keystone does for v2-era clients.
/// Returns None when the body names no region.
async fn endpoint_region(state: &Identity, obj: &Map<String, Value>) -> ApiResult<Option<Option<String>>> {
    let region_id = opt_str(obj, "region_id")?;
    let legacy = opt_str(obj, "region")?;
    match (region_id, legacy) {
        (None, Some(name)) => {
            if name.is_empty() || name.chars().count() > 255 {
                return Err(ApiError::bad_request("Invalid input for field 'region': length must be between 1 and 255"));
            }
            if store::catalog::get_region(state, name).await?.is_none() {
                let r = Region { id: name.to_string(), description: String::new(), parent_region_id: None, extra: Map::new() };
                store::catalog::upsert_region(state, &r, true).await?;
                tracing::info!("created region {name} for a legacy endpoint 'region'");
            }
            Ok(Some(Some(name.to_string())))
        }
        (Some(id), _) => {
            if store::catalog::get_region(state, id).await?.is_none() {
                return Err(expecting("endpoint region_id", "region table"));
            }
            Ok(Some(Some(id.to_string())))
        }
        (None, None) if obj.contains_key("region_id") => Ok(Some(None)),
        (None, None) => Ok(None),
    }
}

async fn assert_service(state: &Identity, service_id: &str) -> ApiResult<()> {
    if store::catalog::get_service(state, service_id).await?.is_none() {
        return Err(expecting("endpoint service_id", "service table"));
    }
    Ok(())
}

async fn create_endpoint(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = object(&body, "endpoint")?;
    let service_id = req_str(obj, "service_id")?;
    let interface = req_str(obj, "interface")?;
    validate_interface(interface)?;
    let url = req_str(obj, "url")?;
    not_null(obj, "enabled")?;
    let enabled = opt_bool(obj, "enabled")?.unwrap_or(true);
    // type checks of the region fields before the policy, their effects after it
    opt_str(obj, "region_id")?;
    opt_str(obj, "region")?;
    policy(&state, &caller, "identity:create_endpoint")?;
    validate_url(url)?;
    assert_service(&state, service_id).await?;
    let region_id = endpoint_region(&state, obj).await?.flatten();
    let mut endpoint = Endpoint::new(service_id, interface, region_id.as_deref(), url);
    endpoint.enabled = enabled;
    endpoint.extra = extra_of(obj, ENDPOINT_KNOWN);
    store::catalog::upsert_endpoint(&state, &endpoint, true).await?;
    tracing::info!("created endpoint {} ({} {})", endpoint.id, endpoint.interface, endpoint.url);
    Ok(created(json!({"endpoint": endpoint_view(&state, &endpoint)})))
}

async fn list_endpoints(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    let q = from_uri(&uri);
    if let Some(i) = q.get("interface") {
        validate_interface(i)?;
    }
    policy(&state, &caller, "identity:list_endpoints")?;
    let endpoints: Vec<Value> = store::catalog::list_endpoints(&state)
        .await?
        .into_iter()
        .filter(|e| q.matches_text("interface", Some(&e.interface)))
        .filter(|e| q.matches_text("service_id", Some(&e.service_id)))
        .filter(|e| q.matches_text("region_id", e.region_id.as_deref()))
        .map(|e| endpoint_view(&state, &e))
        .collect();
    Ok(ok(json!({"endpoints": endpoints, "links": collection_links(&state, "endpoints", uri.query())})))
}

async fn show_endpoint(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:get_endpoint")?;
    let endpoint = must_get_endpoint(&state, &id).await?;
    Ok(ok(json!({"endpoint": endpoint_view(&state, &endpoint)})))
}

async fn update_endpoint(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = patch_object(&body, "endpoint", &id)?;
    for key in ["service_id", "interface", "url", "enabled"] {
        not_null(obj, key)?;
    }
    let service_id = opt_str(obj, "service_id")?;
    let interface = opt_str(obj, "interface")?;
    if let Some(i) = interface {
        validate_interface(i)?;
    }
    let url = opt_str(obj, "url")?;
    let enabled = opt_bool(obj, "enabled")?;
    opt_str(obj, "region_id")?;
    opt_str(obj, "region")?;
    policy(&state, &caller, "identity:update_endpoint")?;
    let mut endpoint = must_get_endpoint(&state, &id).await?;
    if let Some(u) = url {
        validate_url(u)?;
        endpoint.url = u.to_string();
    }
    if let Some(s) = service_id {
        assert_service(&state, s).await?;
        endpoint.service_id = s.to_string();
    }
    if let Some(region) = endpoint_region(&state, obj).await? {
        endpoint.region_id = region;
    }
    if let Some(i) = interface {
        endpoint.interface = i.to_string();
    }
    if let Some(e) = enabled {
        endpoint.enabled = e;
    }
    for (k, v) in extra_of(obj, ENDPOINT_KNOWN) {
        endpoint.extra.insert(k, v);
    }
    store::catalog::upsert_endpoint(&state, &endpoint, false).await?;
    Ok(ok(json!({"endpoint": endpoint_view(&state, &endpoint)})))
}

async fn delete_endpoint(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:delete_endpoint")?;
    if !store::catalog::delete_endpoint(&state, &id).await? {
        return Err(not_found("endpoint", &id));
    }
    store::endpoint_groups::delete_for_endpoint(&state, &id).await?;
    tracing::info!("deleted endpoint {id}");
    Ok(no_content())
}

// ---- regions ----

pub fn region_view(state: &Identity, r: &Region) -> Value {
    let mut v = json!({
        "id": r.id, "description": r.description, "parent_region_id": r.parent_region_id,
        "links": links(state, &format!("regions/{}", r.id)),
    });
    merge_extra(&mut v, &r.extra);
    v
}

async fn must_get_region(state: &Identity, id: &str) -> ApiResult<Region> {
    store::catalog::get_region(state, id).await?.ok_or_else(|| not_found("region", id))
}

/// A region from a create body; `id` is the id to use (already decided by the caller).
fn region_from_body(obj: &Map<String, Value>, id: String) -> ApiResult<Region> {
    if id.chars().count() > 255 {
        return Err(ApiError::bad_request("Invalid input for field 'id': longer than 255 characters"));
    }
    Ok(Region {
        id,
        description: bounded(obj, "description", 0, 255)?.unwrap_or_default().to_string(),
        parent_region_id: bounded(obj, "parent_region_id", 1, 255)?.map(str::to_string),
        extra: extra_of(obj, REGION_KNOWN),
    })
}

async fn insert_region(state: &Identity, caller: &Caller, region: Region) -> ApiResult<Response> {
    policy(state, caller, "identity:create_region")?;
    if store::catalog::get_region(state, &region.id).await?.is_some() {
        return Err(ApiError::conflict(format!("Conflict occurred attempting to store region - Duplicate ID, {}.", region.id)));
    }
    if let Some(parent) = &region.parent_region_id {
        must_get_region(state, parent).await?;
    }
    store::catalog::upsert_region(state, &region, true).await?;
    tracing::info!("created region {}", region.id);
    Ok(created(json!({"region": region_view(state, &region)})))
}

async fn create_region(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = object(&body, "region")?;
    let id = match opt_str(obj, "id")? {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => store::new_id(),
    };
    let region = region_from_body(obj, id)?;
    insert_region(&state, &caller, region).await
}

/// `PUT /v3/regions/{id}`: creates a region with the id of the path.
async fn put_region(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = object(&body, "region")?;
    if let Some(given) = opt_str(obj, "id")? {
        if given != id {
            return Err(ApiError::bad_request(format!("Conflicting region IDs specified: \"{id}\" != \"{given}\"")));
        }
    }
    let region = region_from_body(obj, id)?;
    insert_region(&state, &caller, region).await
}

async fn list_regions(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    policy(&state, &caller, "identity:list_regions")?;
    let q = from_uri(&uri);
    let regions: Vec<Value> = store::catalog::list_regions(&state)
        .await?
        .into_iter()
        .filter(|r| q.matches_text("parent_region_id", r.parent_region_id.as_deref()))
        .map(|r| region_view(&state, &r))
        .collect();
    Ok(ok(json!({"regions": regions, "links": collection_links(&state, "regions", uri.query())})))
}

async fn show_region(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:get_region")?;
    let region = must_get_region(&state, &id).await?;
    Ok(ok(json!({"region": region_view(&state, &region)})))
}

async fn update_region(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = patch_object(&body, "region", &id)?;
    let description = bounded(obj, "description", 0, 255)?;
    let parent = bounded(obj, "parent_region_id", 1, 255)?;
    policy(&state, &caller, "identity:update_region")?;
    let mut region = must_get_region(&state, &id).await?;
    if obj.contains_key("parent_region_id") {
        if let Some(p) = parent {
            must_get_region(&state, p).await?;
            let all = store::catalog::list_regions(&state).await?;
            if would_cycle(&all, &id, p) {
                return Err(ApiError::bad_request(format!(
                    "The specified parent region {p} would create a circular region hierarchy."
                )));
            }
        }
        region.parent_region_id = parent.map(str::to_string);
    }
    if obj.contains_key("description") {
        region.description = description.unwrap_or_default().to_string();
    }
    for (k, v) in extra_of(obj, REGION_KNOWN) {
        region.extra.insert(k, v);
    }
    store::catalog::upsert_region(&state, &region, false).await?;
    Ok(ok(json!({"region": region_view(&state, &region)})))
}

/// Whether making `parent` the parent of `id` closes a loop.
fn would_cycle(all: &[Region], id: &str, parent: &str) -> bool {
    let mut seen = HashSet::new();
    let mut at = Some(parent.to_string());
    while let Some(cur) = at {
        if cur == id {
            return true;
        }
        if !seen.insert(cur.clone()) {
            return false;
        }
        at = all.iter().find(|r| r.id == cur).and_then(|r| r.parent_region_id.clone());
    }
    false
}

/// `id` and every region below it.
fn region_tree(all: &[Region], id: &str) -> Vec<String> {
    let mut out = vec![id.to_string()];
    let mut i = 0;
    while i < out.len() {
        let cur = out[i].clone();
        for child in all.iter().filter(|r| r.parent_region_id.as_deref() == Some(cur.as_str())) {
            if !out.contains(&child.id) {
                out.push(child.id.clone());
            }
        }
        i += 1;
    }
    out
}

async fn delete_region(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:delete_region")?;
    must_get_region(&state, &id).await?;
    let all = store::catalog::list_regions(&state).await?;
    let tree = region_tree(&all, &id);
    let endpoints = store::catalog::list_endpoints(&state).await?;
    if endpoints.iter().any(|e| e.region_id.as_ref().is_some_and(|r| tree.contains(r))) {
        return Err(ApiError::forbidden(format!(
            "Unable to delete region {id} because it or its child regions have associated endpoints."
        )));
    }
    store::catalog::delete_regions(&state, &tree).await?;
    tracing::info!("deleted region {id} ({} with its children)", tree.len());
    Ok(no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(id: &str, parent: Option<&str>) -> Region {
        Region { id: id.into(), description: String::new(), parent_region_id: parent.map(str::to_string), extra: Map::new() }
    }

    #[test]
    fn cycles_and_trees() {
        let all = vec![region("a", None), region("b", Some("a")), region("c", Some("b"))];
        assert!(would_cycle(&all, "a", "c"));
        assert!(would_cycle(&all, "a", "a"));
        assert!(!would_cycle(&all, "c", "a"));
        assert_eq!(region_tree(&all, "a"), vec!["a", "b", "c"]);
        assert_eq!(region_tree(&all, "c"), vec!["c"]);
    }

    #[test]
    fn urls() {
        assert!(validate_url("http://x:8774/v2.1/$(project_id)s").is_ok());
        assert!(validate_url("http://x/$(nope)s").is_err());
        assert!(validate_url("no-scheme").is_err());
        assert!(validate_url(":x").is_err());
    }
}
