//! `/v3/projects`: projects (and domains created as `is_domain` projects), hierarchy and tags.

use super::body::{extra_of, merge_extra, object, opt_bool, opt_str};
use super::query::{from_uri, validate_name};
use super::{collection_links, created, enforce, links, no_content, not_found, ok, ApiResult, Caller, State};
use crate::store::{self, projects::Project, revocations::RevocationEvent, DEFAULT_DOMAIN_ID, ROOT_DOMAIN};
use crate::Identity;
use axum::extract::{Path, State as S};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use monostack_common::json::Json;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/projects", get(list).post(create))
        .route("/v3/projects/{project_id}", get(show).patch(update).delete(delete))
        .route("/v3/projects/{project_id}/tags", get(list_tags).put(replace_tags).delete(clear_tags))
        .route("/v3/projects/{project_id}/tags/{tag}", put(add_tag).get(check_tag).delete(remove_tag))
}

pub const MAX_NAME: usize = 64;
const MAX_TAGS: usize = 80;

/// The API view of a project.
pub fn view(state: &Identity, p: &Project) -> Value {
    if p.is_domain {
        let mut v = super::domains::view(state, p);
        v["is_domain"] = json!(true);
        v["domain_id"] = Value::Null;
        v["parent_id"] = Value::Null;
        return v;
    }
    let mut v = json!({
        "id": p.id, "name": p.name, "domain_id": p.domain_id, "parent_id": p.parent_id,
        "is_domain": false, "enabled": p.enabled, "description": p.description,
        "tags": p.tags, "options": {}, "links": links(state, &format!("projects/{}", p.id)),
    });
    merge_extra(&mut v, &p.extra);
    v
}

fn target(p: &Project) -> Value {
    json!({"target": {"project": {"id": p.id, "domain_id": p.domain_id, "name": p.name}}})
}

/// Fetches a project (not a domain) or 404.
pub async fn must_get(state: &Identity, id: &str) -> ApiResult<Project> {
    store::projects::get(state, id).await?.ok_or_else(|| not_found("project", id))
}

pub fn validate_tags(tags: &Value) -> ApiResult<Vec<String>> {
    let list = tags.as_array().ok_or_else(|| ApiError::bad_request("'tags' must be a list of strings"))?;
    if list.len() > MAX_TAGS {
        return Err(ApiError::bad_request(format!("A project may have at most {MAX_TAGS} tags")));
    }
    let mut out: Vec<String> = Vec::new();
    for t in list {
        let t = t.as_str().ok_or_else(|| ApiError::bad_request("'tags' must be a list of strings"))?;
        validate_tag(t)?;
        if !out.iter().any(|x| x == t) {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

fn validate_tag(t: &str) -> ApiResult<()> {
    if t.is_empty() || t.chars().count() > 255 || t.contains('/') || t.contains(',') {
        return Err(ApiError::bad_request(format!("Invalid tag '{t}': 1-255 characters without '/' or ','")));
    }
    Ok(())
}

const KNOWN: &[&str] = &["id", "name", "domain_id", "parent_id", "is_domain", "enabled", "description", "tags", "options", "links"];

async fn create(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = object(&body, "project")?;
    let name = validate_name("project", opt_str(obj, "name")?, MAX_NAME)?;
    let is_domain = opt_bool(obj, "is_domain")?.unwrap_or(false);
    let parent_id = opt_str(obj, "parent_id")?.map(str::to_string);
    let parent = match &parent_id {
        Some(pid) => Some(store::projects::get(&state, pid).await?.ok_or_else(|| not_found("project", pid))?),
        None => None,
    };
    let mut domain_id = match opt_str(obj, "domain_id")? {
        Some(d) => d.to_string(),
        None => match &parent {
            Some(p) => p.owning_domain().to_string(),
            None => caller.ctx().domain_id.clone().or_else(|| caller.ctx().project_domain_id.clone()).unwrap_or_else(|| DEFAULT_DOMAIN_ID.into()),
        },
    };
    if let Some(p) = &parent {
        if p.owning_domain() != domain_id {
            return Err(ApiError::bad_request("The project's domain must be the domain of its parent."));
        }
    }
    if is_domain {
        domain_id = ROOT_DOMAIN.into();
    } else {
        match store::projects::get(&state, &domain_id).await? {
            Some(d) if d.is_domain => {}
            _ => return Err(not_found("domain", &domain_id)),
        }
    }
    let mut project = Project::new(&name, &domain_id, if is_domain { None } else { parent_id.or(Some(domain_id.clone())) });
    project.enabled = opt_bool(obj, "enabled")?.unwrap_or(true);
    project.description = opt_str(obj, "description")?.unwrap_or_default().to_string();
    if let Some(tags) = obj.get("tags") {
        project.tags = validate_tags(tags)?;
    }
    project.extra = extra_of(obj, KNOWN);
    enforce(&state, &caller, "identity:create_project", &target(&project))?;
    if store::projects::get_by_name(&state, &domain_id, &name).await?.is_some() {
        return Err(ApiError::conflict(format!("Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : {name}.")));
    }
    store::projects::insert(&state, &project).await?;
    tracing::info!("created project {} ({})", project.id, project.name);
    Ok(created(json!({"project": view(&state, &project)})))
}

async fn list(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    let q = from_uri(&uri);
    // Keystone targets the caller's domain when domain-scoped, else the filter when given;
    // an absent key makes domain checks fail (a null would compare equal to a null scope).
    let scope_domain = caller.ctx().domain_id.clone();
    let target = match scope_domain.as_deref().or(q.get("domain_id")) {
        Some(d) => json!({"target": {"domain_id": d}}),
        None => json!({}),
    };
    enforce(&state, &caller, "identity:list_projects", &target)?;
    let is_domain = q.flag("is_domain").unwrap_or(false);
    let tags_all: Vec<&str> = q.get("tags").map(|t| t.split(',').collect()).unwrap_or_default();
    let tags_any: Vec<&str> = q.get("tags-any").map(|t| t.split(',').collect()).unwrap_or_default();
    let not_all: Vec<&str> = q.get("not-tags").map(|t| t.split(',').collect()).unwrap_or_default();
    let not_any: Vec<&str> = q.get("not-tags-any").map(|t| t.split(',').collect()).unwrap_or_default();
    let has = |p: &Project, t: &str| p.tags.iter().any(|x| x == t);
    let all = state.project_list(is_domain).await?;
    let projects: Vec<Value> = all
        .iter()
        .filter(|p| q.matches_text("name", Some(&p.name)))
        .filter(|p| q.matches_flag("enabled", p.enabled))
        .filter(|p| q.get("domain_id").is_none_or(|d| d == p.domain_id))
        .filter(|p| scope_domain.as_deref().is_none_or(|d| d == p.domain_id))
        .filter(|p| q.get("parent_id").is_none_or(|d| Some(d) == p.parent_id.as_deref()))
        .filter(|p| tags_all.iter().all(|t| has(p, t)))
        .filter(|p| tags_any.is_empty() || tags_any.iter().any(|t| has(p, t)))
        .filter(|p| not_all.is_empty() || !not_all.iter().all(|t| has(p, t)))
        .filter(|p| !not_any.iter().any(|t| has(p, t)))
        .map(|p| view(&state, p))
        .collect();
    Ok(ok(json!({"projects": projects, "links": collection_links(&state, "projects", uri.query())})))
}

async fn show(S(state): S<State>, caller: Caller, Path(id): Path<String>, uri: Uri) -> ApiResult<Response> {
    let project = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:get_project", &target(&project))?;
    let q = from_uri(&uri);
    let mut v = view(&state, &project);
    if q.has("parents_as_list") || q.has("parents_as_ids") {
        let parents = store::projects::ancestors(&state, &project).await?;
        v["parents"] = if q.has("parents_as_list") {
            json!(parents.iter().map(|p| json!({"project": view(&state, p)})).collect::<Vec<_>>())
        } else {
            nested_ids(&parents)
        };
    }
    if q.has("subtree_as_list") || q.has("subtree_as_ids") {
        let subtree = subtree(&state, &project.id).await?;
        v["subtree"] = if q.has("subtree_as_list") {
            json!(subtree.iter().map(|p| json!({"project": view(&state, p)})).collect::<Vec<_>>())
        } else {
            json!(subtree.iter().map(|p| (p.id.clone(), Value::Null)).collect::<Map<_, _>>())
        };
    }
    Ok(ok(json!({"project": v})))
}

/// Parents as nested ids: `{"parent": {"grandparent": null}}`.
fn nested_ids(parents: &[Project]) -> Value {
    let mut acc = Value::Null;
    for p in parents.iter().rev() {
        acc = json!({ p.id.clone(): acc });
    }
    acc
}

/// Every project below `id`, breadth first.
pub async fn subtree(state: &Identity, id: &str) -> ApiResult<Vec<Project>> {
    let mut out = Vec::new();
    let mut queue = vec![id.to_string()];
    while let Some(next) = queue.pop() {
        for child in store::projects::children(state, &next).await? {
            queue.push(child.id.clone());
            out.push(child);
        }
        if out.len() > 10_000 {
            break;
        }
    }
    Ok(out)
}

async fn update(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let mut project = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:update_project", &target(&project))?;
    let obj = object(&body, "project")?;
    if let Some(d) = opt_str(obj, "domain_id")? {
        if d != project.domain_id {
            return Err(ApiError::bad_request("Update of `domain_id` is not allowed."));
        }
    }
    if obj.contains_key("parent_id") && opt_str(obj, "parent_id")? != project.parent_id.as_deref() {
        return Err(ApiError::forbidden("Update of `parent_id` is not allowed."));
    }
    if opt_bool(obj, "is_domain")?.is_some_and(|b| b != project.is_domain) {
        return Err(ApiError::bad_request("Update of `is_domain` is not allowed."));
    }
    if obj.contains_key("name") {
        let name = validate_name("project", opt_str(obj, "name")?, MAX_NAME)?;
        if name != project.name && store::projects::get_by_name(&state, &project.domain_id, &name).await?.is_some() {
            return Err(ApiError::conflict(format!("Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : {name}.")));
        }
        project.name = name;
    }
    if let Some(d) = opt_str(obj, "description")? {
        project.description = d.to_string();
    }
    if let Some(tags) = obj.get("tags") {
        project.tags = validate_tags(tags)?;
    }
    let was_enabled = project.enabled;
    if let Some(e) = opt_bool(obj, "enabled")? {
        project.enabled = e;
    }
    for (k, v) in extra_of(obj, KNOWN) {
        project.extra.insert(k, v);
    }
    store::projects::update(&state, &project).await?;
    if was_enabled && !project.enabled {
        let event = if project.is_domain {
            RevocationEvent { domain_id: Some(project.id.clone()), ..Default::default() }
        } else {
            RevocationEvent { project_id: Some(project.id.clone()), ..Default::default() }
        };
        store::revocations::record(&state, event).await?;
    }
    Ok(ok(json!({"project": view(&state, &project)})))
}

async fn delete(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let project = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:delete_project", &target(&project))?;
    if project.is_domain {
        return super::domains::delete_domain(&state, project).await;
    }
    if !store::projects::children(&state, &id).await?.is_empty() {
        return Err(ApiError::forbidden(format!("Cannot delete the project {id} since it is not a leaf in the hierarchy.")));
    }
    store::projects::delete(&state, &id).await?;
    store::limits::delete_for_project(&state, &id).await?;
    store::endpoint_groups::delete_for_project(&state, &id).await?;
    store::trusts::delete_for_project(&state, &id).await?;
    store::revocations::record(&state, RevocationEvent { project_id: Some(id.clone()), ..Default::default() }).await?;
    tracing::info!("deleted project {id}");
    Ok(no_content())
}

async fn list_tags(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let project = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:list_project_tags", &target(&project))?;
    Ok(ok(json!({"tags": project.tags})))
}

async fn replace_tags(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let mut project = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:update_project_tags", &target(&project))?;
    project.tags = validate_tags(body.get("tags").unwrap_or(&Value::Null))?;
    store::projects::update(&state, &project).await?;
    Ok(ok(json!({"tags": project.tags, "links": links(&state, &format!("projects/{id}/tags"))})))
}

async fn clear_tags(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let mut project = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:delete_project_tags", &target(&project))?;
    project.tags.clear();
    store::projects::update(&state, &project).await?;
    Ok(no_content())
}

async fn add_tag(S(state): S<State>, caller: Caller, Path((id, tag)): Path<(String, String)>) -> ApiResult<Response> {
    let mut project = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:create_project_tag", &target(&project))?;
    validate_tag(&tag)?;
    if !project.tags.contains(&tag) {
        if project.tags.len() >= MAX_TAGS {
            return Err(ApiError::bad_request(format!("A project may have at most {MAX_TAGS} tags")));
        }
        project.tags.push(tag);
        store::projects::update(&state, &project).await?;
    }
    // The tags guideline: 201 with an empty body.
    Ok((axum::http::StatusCode::CREATED, "").into_response())
}

async fn check_tag(S(state): S<State>, caller: Caller, Path((id, tag)): Path<(String, String)>) -> ApiResult<Response> {
    let project = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:get_project_tag", &target(&project))?;
    if project.tags.contains(&tag) {
        Ok(no_content())
    } else {
        Err(not_found("tag", &tag))
    }
}

async fn remove_tag(S(state): S<State>, caller: Caller, Path((id, tag)): Path<(String, String)>) -> ApiResult<Response> {
    let mut project = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:delete_project_tag", &target(&project))?;
    let before = project.tags.len();
    project.tags.retain(|t| t != &tag);
    if project.tags.len() == before {
        return Err(not_found("tag", &tag));
    }
    store::projects::update(&state, &project).await?;
    Ok(no_content())
}
