//! Unified limits: `/v3/registered_limits` (defaults per service, region and resource),
//! `/v3/limits` (project or domain overrides) and `/v3/limits/model` (the flat model).

use super::body::object;
use super::catalog::expecting;
use super::query::from_uri;
use super::{collection_links, created, enforce, links, no_content, ok, ApiResult, Caller, State};
use crate::store::{self, limits::{Limit, RegisteredLimit}};
use crate::Identity;
use axum::extract::{Path, State as S};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_common::json::Json;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/registered_limits", get(list_registered).post(create_registered))
        .route("/v3/registered_limits/{registered_limit_id}", get(show_registered).patch(update_registered).delete(delete_registered))
        .route("/v3/limits", get(list_limits).post(create_limits))
        .route("/v3/limits/model", get(model))
        .route("/v3/limits/{limit_id}", get(show_limit).patch(update_limit).delete(delete_limit))
}

pub const MODEL_NAME: &str = "flat";
pub const MODEL_DESCRIPTION: &str = "Limit enforcement and validation does not take project hierarchy into consideration.";

const REGISTERED_FIELDS: &[&str] = &["service_id", "region_id", "resource_name", "default_limit", "description"];
const LIMIT_FIELDS: &[&str] = &["project_id", "domain_id", "service_id", "region_id", "resource_name", "resource_limit", "description"];
const LIMIT_UPDATE_FIELDS: &[&str] = &["resource_limit", "description"];

fn registered_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Could not find registered limit for {id}."))
}

fn limit_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Could not find limit for {id}."))
}

fn duplicate(kind: &str) -> ApiError {
    ApiError::conflict(format!("Conflict occurred attempting to store {kind} - Duplicate entry."))
}

// ---- body validation (Keystone's JSON schemas) ----

fn only(obj: &Map<String, Value>, allowed: &[&str]) -> ApiResult<()> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiError::bad_request(format!("Additional properties are not allowed ('{k}' was unexpected)"))),
        None => Ok(()),
    }
}

/// A string of `min..=max` characters; `nullable` allows null (None). Absent is None.
fn text(obj: &Map<String, Value>, key: &str, min: usize, max: usize, nullable: bool) -> ApiResult<Option<String>> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::Null) if nullable => Ok(None),
        Some(Value::String(s)) => {
            let n = s.chars().count();
            if n < min || n > max {
                return Err(ApiError::bad_request(format!("Invalid input for field '{key}': length must be between {min} and {max}")));
            }
            Ok(Some(s.clone()))
        }
        Some(_) => Err(ApiError::bad_request(format!("Invalid input for field '{key}': must be a string"))),
    }
}

fn required(v: Option<String>, key: &str) -> ApiResult<String> {
    v.ok_or_else(|| ApiError::bad_request(format!("'{key}' is a required property")))
}

fn resource_name(obj: &Map<String, Value>) -> ApiResult<Option<String>> {
    let name = text(obj, "resource_name", 1, 255, false)?;
    if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(ApiError::bad_request("Invalid input for field 'resource_name': must not be blank"));
    }
    Ok(name)
}

/// A limit value: an integer from -1 (unlimited) to 2^31-1.
fn limit_value(obj: &Map<String, Value>, key: &str) -> ApiResult<Option<i64>> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if (-1..=0x7FFF_FFFF).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::bad_request(format!("Invalid input for field '{key}': must be an integer from -1 to 2147483647"))),
        },
    }
}

fn items<'a>(body: &'a Value, key: &str) -> ApiResult<Vec<&'a Map<String, Value>>> {
    let list = body
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request(format!("'{key}' is a required property and must be a list")))?;
    if list.is_empty() {
        return Err(ApiError::bad_request(format!("Invalid input for field '{key}': at least one item is required")));
    }
    list.iter()
        .map(|i| i.as_object().ok_or_else(|| ApiError::bad_request(format!("Invalid input for field '{key}': items must be objects"))))
        .collect()
}

/// The service and region a (registered) limit names exist, else 400 naming the field.
async fn assert_catalog(state: &Identity, service_id: Option<&str>, region_id: Option<&str>, kind: &str) -> ApiResult<()> {
    if let Some(s) = service_id {
        if store::catalog::get_service(state, s).await?.is_none() {
            return Err(expecting("service_id", kind));
        }
    }
    if let Some(r) = region_id {
        if store::catalog::get_region(state, r).await?.is_none() {
            return Err(expecting("region_id", kind));
        }
    }
    Ok(())
}

// ---- registered limits ----

pub fn registered_view(state: &Identity, l: &RegisteredLimit) -> Value {
    json!({
        "id": l.id, "service_id": l.service_id, "region_id": l.region_id, "resource_name": l.resource_name,
        "default_limit": l.default_limit, "description": l.description,
        "links": links(state, &format!("registered_limits/{}", l.id)),
    })
}

async fn must_get_registered(state: &Identity, id: &str) -> ApiResult<RegisteredLimit> {
    store::limits::get_registered(state, id).await?.ok_or_else(|| registered_not_found(id))
}

async fn create_registered(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    let mut batch = Vec::new();
    for obj in items(&body, "registered_limits")? {
        only(obj, REGISTERED_FIELDS)?;
        batch.push(RegisteredLimit {
            id: store::new_id(),
            service_id: required(text(obj, "service_id", 1, 64, false)?, "service_id")?,
            region_id: text(obj, "region_id", 1, 255, true)?,
            resource_name: required(resource_name(obj)?, "resource_name")?,
            default_limit: limit_value(obj, "default_limit")?.ok_or_else(|| ApiError::bad_request("'default_limit' is a required property"))?,
            description: text(obj, "description", 0, 255, true)?,
        });
    }
    enforce(&state, &caller, "identity:create_registered_limits", &json!({}))?;
    let existing = store::limits::list_registered(&state).await?;
    for (i, l) in batch.iter().enumerate() {
        assert_catalog(&state, Some(&l.service_id), l.region_id.as_deref(), "registered_limit").await?;
        let taken = existing.iter().chain(&batch[..i]).any(|o| o.covers(&l.service_id, l.region_id.as_deref(), &l.resource_name));
        if taken {
            return Err(duplicate("registered_limit"));
        }
    }
    store::limits::insert_registered(&state, &batch).await?;
    tracing::info!("created {} registered limit(s)", batch.len());
    let views: Vec<Value> = batch.iter().map(|l| registered_view(&state, l)).collect();
    Ok(created(json!({"registered_limits": views})))
}

async fn list_registered(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:list_registered_limits", &json!({}))?;
    let q = from_uri(&uri);
    let limits: Vec<Value> = store::limits::list_registered(&state)
        .await?
        .into_iter()
        .filter(|l| q.matches_text("service_id", Some(&l.service_id)))
        .filter(|l| q.matches_text("region_id", l.region_id.as_deref()))
        .filter(|l| q.matches_text("resource_name", Some(&l.resource_name)))
        .map(|l| registered_view(&state, &l))
        .collect();
    Ok(ok(json!({"registered_limits": limits, "links": collection_links(&state, "registered_limits", uri.query())})))
}

async fn show_registered(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:get_registered_limit", &json!({}))?;
    let limit = must_get_registered(&state, &id).await?;
    Ok(ok(json!({"registered_limit": registered_view(&state, &limit)})))
}

async fn update_registered(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = object(&body, "registered_limit")?;
    only(obj, REGISTERED_FIELDS)?;
    let service_id = text(obj, "service_id", 1, 64, false)?;
    let region_id = text(obj, "region_id", 1, 255, true)?;
    let name = resource_name(obj)?;
    let default_limit = limit_value(obj, "default_limit")?;
    let description = text(obj, "description", 0, 255, true)?;
    enforce(&state, &caller, "identity:update_registered_limit", &json!({}))?;
    assert_catalog(&state, service_id.as_deref(), region_id.as_deref(), "registered_limit").await?;
    let mut limit = must_get_registered(&state, &id).await?;
    if !store::limits::limits_of(&state, &limit).await?.is_empty() {
        return Err(ApiError::forbidden(format!(
            "Unable to update or delete registered limit {id} because there are project limits associated with it."
        )));
    }
    if let Some(s) = service_id {
        limit.service_id = s;
    }
    if obj.contains_key("region_id") {
        limit.region_id = region_id;
    }
    if let Some(n) = name {
        limit.resource_name = n;
    }
    if let Some(d) = default_limit {
        limit.default_limit = d;
    }
    if obj.contains_key("description") {
        limit.description = description;
    }
    let others = store::limits::list_registered(&state).await?;
    if others.iter().any(|o| o.id != limit.id && o.covers(&limit.service_id, limit.region_id.as_deref(), &limit.resource_name)) {
        return Err(duplicate("registered_limit"));
    }
    store::limits::update_registered(&state, &limit).await?;
    Ok(ok(json!({"registered_limit": registered_view(&state, &limit)})))
}

async fn delete_registered(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:delete_registered_limit", &json!({}))?;
    let limit = must_get_registered(&state, &id).await?;
    if !store::limits::limits_of(&state, &limit).await?.is_empty() {
        return Err(ApiError::forbidden(format!(
            "Unable to update or delete registered limit {id} because there are project limits associated with it."
        )));
    }
    store::limits::delete_registered(&state, &id).await?;
    tracing::info!("deleted registered limit {id}");
    Ok(no_content())
}

// ---- limits ----

pub fn limit_view(state: &Identity, l: &Limit) -> Value {
    json!({
        "id": l.id, "project_id": l.project_id, "domain_id": l.domain_id, "service_id": l.service_id,
        "region_id": l.region_id, "resource_name": l.resource_name, "resource_limit": l.resource_limit,
        "description": l.description, "links": links(state, &format!("limits/{}", l.id)),
    })
}

/// `target.limit` as `identity:get_limit` reads it, with the limit's project or domain.
async fn limit_target(state: &Identity, limit: Option<&Limit>) -> ApiResult<Value> {
    let Some(l) = limit else { return Ok(json!({"target": {}})) };
    let mut t = json!({"id": l.id, "project_id": l.project_id, "domain_id": l.domain_id});
    if let Some(pid) = &l.project_id {
        if let Some(p) = store::projects::get(state, pid).await? {
            t["project"] = json!({"id": p.id, "domain_id": p.domain_id});
        }
    } else if let Some(did) = &l.domain_id {
        t["domain"] = json!({"id": did});
    }
    Ok(json!({"target": {"limit": t}}))
}

async fn create_limits(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    let mut batch = Vec::new();
    for obj in items(&body, "limits")? {
        only(obj, LIMIT_FIELDS)?;
        let project_id = text(obj, "project_id", 1, 64, true)?;
        let domain_id = text(obj, "domain_id", 1, 64, true)?;
        if project_id.is_some() == domain_id.is_some() {
            return Err(ApiError::bad_request("Invalid input for field 'limits': exactly one of 'project_id' and 'domain_id' is required"));
        }
        batch.push(Limit {
            id: store::new_id(),
            project_id,
            domain_id,
            service_id: required(text(obj, "service_id", 1, 64, false)?, "service_id")?,
            region_id: text(obj, "region_id", 1, 255, true)?,
            resource_name: required(resource_name(obj)?, "resource_name")?,
            resource_limit: limit_value(obj, "resource_limit")?.ok_or_else(|| ApiError::bad_request("'resource_limit' is a required property"))?,
            description: text(obj, "description", 0, 255, true)?,
        });
    }
    enforce(&state, &caller, "identity:create_limits", &json!({}))?;
    let registered = store::limits::list_registered(&state).await?;
    let existing = store::limits::list_limits(&state).await?;
    for i in 0..batch.len() {
        let l = &mut batch[i];
        assert_catalog(&state, Some(&l.service_id), l.region_id.as_deref(), "limit").await?;
        if let Some(pid) = l.project_id.clone() {
            match store::projects::get(&state, &pid).await? {
                // a domain given as project_id is a domain limit
                Some(p) if p.is_domain => {
                    l.domain_id = Some(pid);
                    l.project_id = None;
                }
                Some(_) => {}
                None => return Err(expecting("project_id", "limit")),
            }
        }
        if let Some(did) = &l.domain_id {
            match store::projects::get(&state, did).await? {
                Some(d) if d.is_domain => {}
                _ => return Err(expecting("domain_id", "limit")),
            }
        }
        if !registered.iter().any(|r| r.covers(&l.service_id, l.region_id.as_deref(), &l.resource_name)) {
            return Err(ApiError::forbidden("Unable to create a limit that has no corresponding registered limit."));
        }
        let l = &batch[i];
        let same = |o: &Limit| {
            o.service_id == l.service_id
                && o.region_id == l.region_id
                && o.resource_name == l.resource_name
                && o.project_id == l.project_id
                && o.domain_id == l.domain_id
        };
        if existing.iter().chain(&batch[..i]).any(same) {
            return Err(duplicate("limit"));
        }
    }
    store::limits::insert_limits(&state, &batch).await?;
    tracing::info!("created {} limit(s)", batch.len());
    let views: Vec<Value> = batch.iter().map(|l| limit_view(&state, l)).collect();
    Ok(created(json!({"limits": views})))
}

async fn list_limits(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:list_limits", &json!({}))?;
    let ctx = caller.ctx();
    let q = from_uri(&uri);
    let superuser = ctx.system_scope || ctx.has_role("admin") || ctx.has_role("service");
    let mut limits = store::limits::list_limits(&state).await?;
    if !superuser {
        if let Some(domain_id) = &ctx.domain_id {
            let in_domain: Vec<String> = store::projects::list(&state, false)
                .await?
                .into_iter()
                .filter(|p| &p.domain_id == domain_id)
                .map(|p| p.id)
                .collect();
            limits.retain(|l| match (&l.project_id, &l.domain_id) {
                (Some(p), _) => in_domain.contains(p),
                (None, Some(d)) => d == domain_id,
                _ => false,
            });
        } else if let Some(project_id) = &ctx.project_id {
            limits.retain(|l| l.project_id.as_ref() == Some(project_id));
        } else {
            limits.clear();
        }
    }
    let views: Vec<Value> = limits
        .iter()
        .filter(|l| q.matches_text("service_id", Some(&l.service_id)))
        .filter(|l| q.matches_text("region_id", l.region_id.as_deref()))
        .filter(|l| q.matches_text("resource_name", Some(&l.resource_name)))
        .filter(|l| q.matches_text("project_id", l.project_id.as_deref()))
        .filter(|l| q.matches_text("domain_id", l.domain_id.as_deref()))
        .map(|l| limit_view(&state, l))
        .collect();
    Ok(ok(json!({"limits": views, "links": collection_links(&state, "limits", uri.query())})))
}

async fn show_limit(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let limit = store::limits::get_limit(&state, &id).await?;
    enforce(&state, &caller, "identity:get_limit", &limit_target(&state, limit.as_ref()).await?)?;
    let limit = limit.ok_or_else(|| limit_not_found(&id))?;
    Ok(ok(json!({"limit": limit_view(&state, &limit)})))
}

async fn update_limit(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = object(&body, "limit")?;
    only(obj, LIMIT_UPDATE_FIELDS)?;
    let resource_limit = limit_value(obj, "resource_limit")?;
    let description = text(obj, "description", 0, 255, true)?;
    enforce(&state, &caller, "identity:update_limit", &json!({}))?;
    let mut limit = store::limits::get_limit(&state, &id).await?.ok_or_else(|| limit_not_found(&id))?;
    if let Some(v) = resource_limit {
        limit.resource_limit = v;
    }
    if obj.contains_key("description") {
        limit.description = description;
    }
    store::limits::update_limit(&state, &limit).await?;
    Ok(ok(json!({"limit": limit_view(&state, &limit)})))
}

async fn delete_limit(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:delete_limit", &json!({}))?;
    if !store::limits::delete_limit(&state, &id).await? {
        return Err(limit_not_found(&id));
    }
    tracing::info!("deleted limit {id}");
    Ok(no_content())
}

async fn model(S(state): S<State>, caller: Caller) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:get_limit_model", &json!({}))?;
    Ok(ok(json!({"model": {"name": MODEL_NAME, "description": MODEL_DESCRIPTION}})))
}
