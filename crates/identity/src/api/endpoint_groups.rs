//! `/v3/OS-EP-FILTER`: endpoint groups, their project associations, and project ↔ endpoint
//! associations. The policies need no target, so (as Keystone does) the policy is checked
//! right after the body is validated and before anything is looked up.
//! The catalog in tokens is not filtered by these associations.

use super::body::opt_str;
use super::catalog::{endpoint_view, expecting};
use super::query::from_uri;
use super::{collection_links, created, enforce, links, no_content, not_found, ok, ApiResult, Caller, State};
use crate::store::{self, catalog::Endpoint, endpoint_groups::{EndpointGroup, Link}};
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
        .route("/v3/OS-EP-FILTER/endpoint_groups", get(list).post(create))
        .route("/v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}", get(show).patch(update).delete(delete))
        .route("/v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/endpoints", get(group_endpoints))
        .route("/v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects", get(group_projects))
        .route(
            "/v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects/{project_id}",
            get(show_group_project).put(add_group_project).delete(remove_group_project),
        )
        .route("/v3/OS-EP-FILTER/projects/{project_id}/endpoint_groups", get(project_groups))
        .route("/v3/OS-EP-FILTER/projects/{project_id}/endpoints", get(project_endpoints))
        .route(
            "/v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id}",
            get(check_project_endpoint).put(add_project_endpoint).delete(remove_project_endpoint),
        )
        .route("/v3/OS-EP-FILTER/endpoints/{endpoint_id}/projects", get(endpoint_projects))
}

const KNOWN: &[&str] = &["name", "description", "filters"];
const FILTER_KEYS: &[&str] = &["service_id", "region_id", "interface"];
const INTERFACES: &[&str] = &["admin", "internal", "public"];
const MAX_NAME: usize = 255;

pub fn view(state: &Identity, g: &EndpointGroup) -> Value {
    json!({
        "id": g.id, "name": g.name, "description": g.description, "filters": g.filters,
        "links": links(state, &format!("OS-EP-FILTER/endpoint_groups/{}", g.id)),
    })
}

fn policy(state: &Identity, caller: &Caller, action: &str) -> ApiResult<()> {
    enforce(state, caller, action, &json!({}))
}

fn group_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Could not find Endpoint Group: {id}."))
}

async fn must_get(state: &Identity, id: &str) -> ApiResult<EndpointGroup> {
    store::endpoint_groups::get(state, id).await?.ok_or_else(|| group_not_found(id))
}

async fn must_get_project(state: &Identity, id: &str) -> ApiResult<store::projects::Project> {
    store::projects::get(state, id).await?.ok_or_else(|| not_found("project", id))
}

async fn must_get_endpoint(state: &Identity, id: &str) -> ApiResult<Endpoint> {
    store::catalog::get_endpoint(state, id).await?.ok_or_else(|| not_found("endpoint", id))
}

/// The `endpoint_group` object of a body, rejecting attributes Keystone's schema does not allow.
fn group_object(body: &Value) -> ApiResult<&Map<String, Value>> {
    if let Some(other) = body.as_object().and_then(|b| b.keys().find(|k| *k != "endpoint_group")) {
        return Err(ApiError::bad_request(format!("Additional properties are not allowed ('{other}' was unexpected)")));
    }
    let obj = super::body::object(body, "endpoint_group")?;
    if let Some(other) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "Invalid input for field 'endpoint_group': additional properties are not allowed ('{other}' was unexpected)"
        )));
    }
    Ok(obj)
}

fn validate_name(obj: &Map<String, Value>) -> ApiResult<Option<String>> {
    if !obj.contains_key("name") {
        return Ok(None);
    }
    match obj.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() && n.chars().count() <= MAX_NAME => Ok(Some(n.clone())),
        Some(Value::String(_)) => Err(ApiError::bad_request(format!(
            "Invalid input for field 'name': must be a non-blank string of at most {MAX_NAME} characters"
        ))),
        _ => Err(ApiError::bad_request("Invalid input for field 'name': must be a string")),
    }
}

/// The filters of a body: only `service_id`, `region_id` and `interface` are allowed.
fn validate_filters(value: &Value) -> ApiResult<Map<String, Value>> {
    let filters = value.as_object().ok_or_else(|| ApiError::bad_request("Invalid input for field 'filters': must be an object"))?;
    for (key, v) in filters {
        match (key.as_str(), v) {
            ("interface", Value::String(i)) if INTERFACES.contains(&i.as_str()) => {}
            ("interface", _) => {
                return Err(ApiError::bad_request(format!("Invalid input for field 'filters/interface': {v} is not one of {INTERFACES:?}")))
            }
            ("service_id", Value::String(_)) | ("region_id", Value::String(_) | Value::Null) => {}
            (k, _) if FILTER_KEYS.contains(&k) => {
                return Err(ApiError::bad_request(format!("Invalid input for field 'filters/{k}': must be a string")))
            }
            _ => return Err(expecting(&FILTER_KEYS.join(" or "), "endpoint_group")),
        }
    }
    Ok(filters.clone())
}

async fn create(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = group_object(&body)?;
    let name = validate_name(obj)?.ok_or_else(|| ApiError::bad_request("'name' is a required property"))?;
    let description = opt_str(obj, "description")?.map(str::to_string);
    let filters = obj.get("filters").ok_or_else(|| ApiError::bad_request("'filters' is a required property"))?;
    let filters = validate_filters(filters)?;
    policy(&state, &caller, "identity:create_endpoint_group")?;
    if filters.is_empty() {
        return Err(ApiError::bad_request("filters field is required and cannot be empty"));
    }
    let group = EndpointGroup { id: store::new_id(), name, description, filters };
    store::endpoint_groups::upsert(&state, &group, true).await?;
    tracing::info!("created endpoint group {} ({})", group.id, group.name);
    Ok(created(json!({"endpoint_group": view(&state, &group)})))
}

async fn list(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    policy(&state, &caller, "identity:list_endpoint_groups")?;
    let q = from_uri(&uri);
    let groups: Vec<Value> = store::endpoint_groups::list(&state)
        .await?
        .iter()
        .filter(|g| q.matches_text("name", Some(&g.name)))
        .map(|g| view(&state, g))
        .collect();
    Ok(ok(json!({"endpoint_groups": groups, "links": collection_links(&state, "OS-EP-FILTER/endpoint_groups", uri.query())})))
}

async fn show(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:get_endpoint_group")?;
    let group = must_get(&state, &id).await?;
    Ok(ok(json!({"endpoint_group": view(&state, &group)})))
}

async fn update(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = group_object(&body)?;
    if obj.is_empty() {
        return Err(ApiError::bad_request("Invalid input for field 'endpoint_group': {} does not have enough properties"));
    }
    let name = validate_name(obj)?;
    let description = opt_str(obj, "description")?.map(str::to_string);
    let filters = obj.get("filters").map(validate_filters).transpose()?;
    policy(&state, &caller, "identity:update_endpoint_group")?;
    let mut group = must_get(&state, &id).await?;
    if let Some(name) = name {
        group.name = name;
    }
    if obj.contains_key("description") {
        group.description = description;
    }
    if let Some(filters) = filters {
        group.filters = filters;
    }
    store::endpoint_groups::upsert(&state, &group, false).await?;
    Ok(ok(json!({"endpoint_group": view(&state, &group)})))
}

async fn delete(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:delete_endpoint_group")?;
    if !store::endpoint_groups::delete(&state, &id).await? {
        return Err(group_not_found(&id));
    }
    tracing::info!("deleted endpoint group {id}");
    Ok(no_content())
}

/// The endpoints an endpoint group selects.
async fn filtered_endpoints(state: &Identity, group: &EndpointGroup) -> ApiResult<Vec<Endpoint>> {
    Ok(store::catalog::list_endpoints(state).await?.into_iter().filter(|e| group.matches(e)).collect())
}

/// Existing projects among `ids` (associations may name deleted projects).
async fn projects_view(state: &Identity, ids: &[String]) -> ApiResult<Vec<Value>> {
    let mut out = Vec::new();
    for id in ids {
        if let Some(p) = store::projects::get(state, id).await? {
            out.push(super::projects::view(state, &p));
        }
    }
    Ok(out)
}

async fn group_endpoints(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:list_endpoints_associated_with_endpoint_group")?;
    let group = must_get(&state, &id).await?;
    let endpoints: Vec<Value> = filtered_endpoints(&state, &group).await?.iter().map(|e| endpoint_view(&state, e)).collect();
    let path = format!("OS-EP-FILTER/endpoint_groups/{id}/endpoints");
    Ok(ok(json!({"endpoints": endpoints, "links": collection_links(&state, &path, None)})))
}

async fn group_projects(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:list_projects_associated_with_endpoint_group")?;
    must_get(&state, &id).await?;
    let ids = store::endpoint_groups::projects_of(&state, Link::GroupProject, &id).await?;
    let projects = projects_view(&state, &ids).await?;
    let path = format!("OS-EP-FILTER/endpoint_groups/{id}/projects");
    Ok(ok(json!({"projects": projects, "links": collection_links(&state, &path, None)})))
}

async fn show_group_project(S(state): S<State>, caller: Caller, Path((group_id, project_id)): Path<(String, String)>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:get_endpoint_group_in_project")?;
    must_get_project(&state, &project_id).await?;
    must_get(&state, &group_id).await?;
    if !store::endpoint_groups::linked(&state, Link::GroupProject, &group_id, &project_id).await? {
        return Err(ApiError::not_found("Endpoint Group Project Association not found"));
    }
    let path = format!("OS-EP-FILTER/endpoint_groups/{group_id}/projects/{project_id}");
    Ok(ok(json!({"project_endpoint_group": {
        "endpoint_group_id": group_id, "project_id": project_id, "links": links(&state, &path),
    }})))
}

async fn add_group_project(S(state): S<State>, caller: Caller, Path((group_id, project_id)): Path<(String, String)>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:add_endpoint_group_to_project")?;
    must_get_project(&state, &project_id).await?;
    must_get(&state, &group_id).await?;
    if !store::endpoint_groups::link(&state, Link::GroupProject, &group_id, &project_id).await? {
        return Err(ApiError::conflict("Conflict occurred attempting to store project_endpoint_group - Duplicate entry."));
    }
    tracing::info!("associated endpoint group {group_id} with project {project_id}");
    Ok(no_content())
}

async fn remove_group_project(S(state): S<State>, caller: Caller, Path((group_id, project_id)): Path<(String, String)>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:remove_endpoint_group_from_project")?;
    must_get_project(&state, &project_id).await?;
    must_get(&state, &group_id).await?;
    if !store::endpoint_groups::unlink(&state, Link::GroupProject, &group_id, &project_id).await? {
        return Err(ApiError::not_found("Endpoint Group Project Association not found"));
    }
    tracing::info!("removed endpoint group {group_id} from project {project_id}");
    Ok(no_content())
}

async fn project_groups(S(state): S<State>, caller: Caller, Path(project_id): Path<String>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:list_endpoint_groups_for_project")?;
    must_get_project(&state, &project_id).await?;
    let mut groups = Vec::new();
    for id in store::endpoint_groups::of_project(&state, Link::GroupProject, &project_id).await? {
        if let Some(g) = store::endpoint_groups::get(&state, &id).await? {
            groups.push(view(&state, &g));
        }
    }
    let path = format!("OS-EP-FILTER/projects/{project_id}/endpoint_groups");
    Ok(ok(json!({"endpoint_groups": groups, "links": collection_links(&state, &path, None)})))
}

/// Endpoints associated with a project directly, then through its endpoint groups.
async fn project_endpoints(S(state): S<State>, caller: Caller, Path(project_id): Path<String>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:list_endpoints_for_project")?;
    must_get_project(&state, &project_id).await?;
    let all = store::catalog::list_endpoints(&state).await?;
    let mut chosen: Vec<&Endpoint> = Vec::new();
    for id in store::endpoint_groups::of_project(&state, Link::EndpointProject, &project_id).await? {
        if let Some(e) = all.iter().find(|e| e.id == id) {
            chosen.push(e);
        }
    }
    for id in store::endpoint_groups::of_project(&state, Link::GroupProject, &project_id).await? {
        let Some(group) = store::endpoint_groups::get(&state, &id).await? else { continue };
        for e in all.iter().filter(|e| group.matches(e)) {
            if !chosen.iter().any(|c| c.id == e.id) {
                chosen.push(e);
            }
        }
    }
    let endpoints: Vec<Value> = chosen.iter().map(|e| endpoint_view(&state, e)).collect();
    let path = format!("OS-EP-FILTER/projects/{project_id}/endpoints");
    Ok(ok(json!({"endpoints": endpoints, "links": collection_links(&state, &path, None)})))
}

fn project_endpoint_not_found(endpoint_id: &str, project_id: &str) -> ApiError {
    ApiError::not_found(format!("Endpoint {endpoint_id} not found in project {project_id}"))
}

async fn check_project_endpoint(S(state): S<State>, caller: Caller, Path((project_id, endpoint_id)): Path<(String, String)>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:check_endpoint_in_project")?;
    must_get_endpoint(&state, &endpoint_id).await?;
    must_get_project(&state, &project_id).await?;
    if !store::endpoint_groups::linked(&state, Link::EndpointProject, &endpoint_id, &project_id).await? {
        return Err(project_endpoint_not_found(&endpoint_id, &project_id));
    }
    Ok(no_content())
}

async fn add_project_endpoint(S(state): S<State>, caller: Caller, Path((project_id, endpoint_id)): Path<(String, String)>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:add_endpoint_to_project")?;
    must_get_endpoint(&state, &endpoint_id).await?;
    must_get_project(&state, &project_id).await?;
    if !store::endpoint_groups::link(&state, Link::EndpointProject, &endpoint_id, &project_id).await? {
        return Err(ApiError::conflict("Conflict occurred attempting to store project_endpoint - Duplicate entry."));
    }
    tracing::info!("associated endpoint {endpoint_id} with project {project_id}");
    Ok(no_content())
}

async fn remove_project_endpoint(S(state): S<State>, caller: Caller, Path((project_id, endpoint_id)): Path<(String, String)>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:remove_endpoint_from_project")?;
    if !store::endpoint_groups::unlink(&state, Link::EndpointProject, &endpoint_id, &project_id).await? {
        return Err(project_endpoint_not_found(&endpoint_id, &project_id));
    }
    tracing::info!("removed endpoint {endpoint_id} from project {project_id}");
    Ok(no_content())
}

async fn endpoint_projects(S(state): S<State>, caller: Caller, Path(endpoint_id): Path<String>) -> ApiResult<Response> {
    policy(&state, &caller, "identity:list_projects_for_endpoint")?;
    must_get_endpoint(&state, &endpoint_id).await?;
    let ids = store::endpoint_groups::projects_of(&state, Link::EndpointProject, &endpoint_id).await?;
    let projects = projects_view(&state, &ids).await?;
    let path = format!("OS-EP-FILTER/endpoints/{endpoint_id}/projects");
    Ok(ok(json!({"projects": projects, "links": collection_links(&state, &path, None)})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        assert!(validate_filters(&json!({"service_id": "s", "interface": "public", "region_id": null})).is_ok());
        assert!(validate_filters(&json!({"interface": "private"})).is_err());
        assert!(validate_filters(&json!({"enabled": true})).is_err());
        assert!(validate_filters(&json!({"url": "x"})).is_err());
        assert!(validate_filters(&json!({"service_id": 3})).is_err());
        assert!(validate_filters(&json!([])).is_err());
        let g = EndpointGroup { id: "g".into(), name: "g".into(), description: None, filters: Map::new() };
        let e = Endpoint::new("svc", "public", Some("RegionOne"), "http://x");
        assert!(g.matches(&e), "no filter selects everything");
        let g = EndpointGroup { filters: validate_filters(&json!({"service_id": "svc", "region_id": "RegionOne"})).unwrap(), ..g };
        assert!(g.matches(&e));
        let g = EndpointGroup { filters: validate_filters(&json!({"interface": "admin"})).unwrap(), ..g };
        assert!(!g.matches(&e));
    }
}
