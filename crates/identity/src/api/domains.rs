//! `/v3/domains`.

use super::body::{extra_of, merge_extra, object, opt_bool, opt_str};
use super::query::{from_uri, validate_name};
use super::{collection_links, created, enforce, links, no_content, not_found, ok, ApiResult, Caller, State};
use crate::store::{self, projects::Project, revocations::RevocationEvent, ROOT_DOMAIN};
use crate::Identity;
use axum::extract::{Path, State as S};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_common::json::Json;
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/domains", get(list).post(create))
        .route("/v3/domains/{domain_id}", get(show).patch(update).delete(delete))
}

const KNOWN: &[&str] = &["id", "name", "enabled", "description", "tags", "options", "links", "explicit_domain_id"];

pub fn view(state: &Identity, d: &Project) -> Value {
    let mut v = json!({
        "id": d.id, "name": d.name, "description": d.description, "enabled": d.enabled,
        "tags": d.tags, "options": {}, "links": links(state, &format!("domains/{}", d.id)),
    });
    merge_extra(&mut v, &d.extra);
    v
}

fn target(d: &Project) -> Value {
    json!({"target": {"domain": {"id": d.id, "name": d.name}}})
}

pub async fn must_get(state: &Identity, id: &str) -> ApiResult<Project> {
    match store::projects::get(state, id).await? {
        Some(d) if d.is_domain => Ok(d),
        _ => Err(not_found("domain", id)),
    }
}

async fn create(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = object(&body, "domain")?;
    let name = validate_name("domain", opt_str(obj, "name")?, super::projects::MAX_NAME)?;
    let mut domain = Project::new(&name, ROOT_DOMAIN, None);
    if let Some(id) = opt_str(obj, "explicit_domain_id")? {
        domain.id = id.to_string();
    }
    domain.enabled = opt_bool(obj, "enabled")?.unwrap_or(true);
    domain.description = opt_str(obj, "description")?.unwrap_or_default().to_string();
    if let Some(tags) = obj.get("tags") {
        domain.tags = super::projects::validate_tags(tags)?;
    }
    domain.extra = extra_of(obj, KNOWN);
    enforce(&state, &caller, "identity:create_domain", &target(&domain))?;
    if store::projects::get_by_name(&state, ROOT_DOMAIN, &name).await?.is_some() {
        return Err(ApiError::conflict(format!("Conflict occurred attempting to store domain - Duplicate entry found with name {name}.")));
    }
    store::projects::insert(&state, &domain).await?;
    tracing::info!("created domain {} ({})", domain.id, domain.name);
    Ok(created(json!({"domain": view(&state, &domain)})))
}

async fn list(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:list_domains", &json!({}))?;
    let q = from_uri(&uri);
    let all = state.project_list(true).await?;
    let domains: Vec<Value> = all
        .iter()
        .filter(|d| q.matches_text("name", Some(&d.name)))
        .filter(|d| q.matches_flag("enabled", d.enabled))
        .map(|d| view(&state, d))
        .collect();
    Ok(ok(json!({"domains": domains, "links": collection_links(&state, "domains", uri.query())})))
}

async fn show(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let domain = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:get_domain", &target(&domain))?;
    Ok(ok(json!({"domain": view(&state, &domain)})))
}

async fn update(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let mut domain = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:update_domain", &target(&domain))?;
    let obj = object(&body, "domain")?;
    if obj.contains_key("name") {
        let name = validate_name("domain", opt_str(obj, "name")?, super::projects::MAX_NAME)?;
        if name != domain.name && store::projects::get_by_name(&state, ROOT_DOMAIN, &name).await?.is_some() {
            return Err(ApiError::conflict(format!("Conflict occurred attempting to store domain - Duplicate entry found with name {name}.")));
        }
        domain.name = name;
    }
    if let Some(d) = opt_str(obj, "description")? {
        domain.description = d.to_string();
    }
    if let Some(tags) = obj.get("tags") {
        domain.tags = super::projects::validate_tags(tags)?;
    }
    let was_enabled = domain.enabled;
    if let Some(e) = opt_bool(obj, "enabled")? {
        domain.enabled = e;
    }
    for (k, v) in extra_of(obj, KNOWN) {
        domain.extra.insert(k, v);
    }
    store::projects::update(&state, &domain).await?;
    if was_enabled && !domain.enabled {
        store::revocations::record(&state, RevocationEvent { domain_id: Some(id), ..Default::default() }).await?;
    }
    Ok(ok(json!({"domain": view(&state, &domain)})))
}

async fn delete(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let domain = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:delete_domain", &target(&domain))?;
    delete_domain(&state, domain).await
}

/// Deletes a disabled domain with everything it owns: projects, users, groups, domain roles.
pub async fn delete_domain(state: &Identity, domain: Project) -> ApiResult<Response> {
    if domain.enabled {
        return Err(ApiError::forbidden("Cannot delete a domain that is enabled, please disable it first."));
    }
    for project in store::projects::list(state, false).await?.into_iter().filter(|p| p.domain_id == domain.id) {
        store::projects::delete(state, &project.id).await?;
        store::limits::delete_for_project(state, &project.id).await?;
        store::endpoint_groups::delete_for_project(state, &project.id).await?;
        store::trusts::delete_for_project(state, &project.id).await?;
    }
    for user in store::users::list(state).await?.into_iter().filter(|u| u.domain_id == domain.id) {
        store::users::delete(state, &user.id).await?;
        store::trusts::delete_for_user(state, &user.id).await?;
    }
    store::groups::delete_in_domain(state, &domain.id).await?;
    for role in store::roles::list(state).await?.into_iter().filter(|r| r.domain_id.as_deref() == Some(domain.id.as_str())) {
        store::roles::delete(state, &role.id).await?;
    }
    store::limits::delete_for_project(state, &domain.id).await?;
    store::domain_configs::delete(state, &domain.id, None, None).await?;
    store::projects::delete(state, &domain.id).await?;
    store::revocations::record(state, RevocationEvent { domain_id: Some(domain.id.clone()), ..Default::default() }).await?;
    tracing::info!("deleted domain {}", domain.id);
    Ok(no_content())
}
