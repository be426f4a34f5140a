//! Reading the requested scope and choosing the default one.

use crate::store::{self, projects::Project, ROOT_DOMAIN};
use crate::token::payload::Scope;
use crate::Identity;
use monostack_common::ApiError;
use serde_json::Value;

/// A domain named by `{"id"}` or `{"name"}`.
pub async fn find_domain(state: &Identity, spec: &Value) -> Result<Option<Project>, ApiError> {
    let found = if let Some(id) = spec.get("id") {
        let id = id.as_str().ok_or_else(|| ApiError::bad_request("domain 'id' must be a string"))?;
        store::projects::get(state, id).await?
    } else if let Some(name) = spec.get("name") {
        let name = name.as_str().ok_or_else(|| ApiError::bad_request("domain 'name' must be a string"))?;
        store::projects::get_by_name(state, ROOT_DOMAIN, name).await?
    } else {
        return Err(ApiError::bad_request("a domain needs an 'id' or a 'name'"));
    };
    Ok(found.filter(|d| d.is_domain))
}

/// The scope asked for in `auth.scope`, if any. Unknown targets are 401, as Keystone answers.
pub async fn parse(state: &Identity, scope: Option<&Value>) -> Result<Option<Scope>, ApiError> {
    let Some(scope) = scope else { return Ok(None) };
    if scope.as_str() == Some("unscoped") {
        return Ok(Some(Scope::Unscoped));
    }
    if !scope.is_object() {
        return Err(ApiError::bad_request("'scope' must be an object or \"unscoped\""));
    }
    let given = ["project", "domain", "system", "OS-TRUST:trust"].iter().filter(|k| scope.get(**k).is_some()).count();
    if given != 1 {
        return Err(ApiError::bad_request("Specify exactly one of project, domain, system or OS-TRUST:trust in 'scope'"));
    }
    if let Some(project) = scope.get("project") {
        return Ok(Some(Scope::Project(find_project(state, project).await?.id)));
    }
    if let Some(domain) = scope.get("domain") {
        let d = find_domain(state, domain)
            .await?
            .ok_or_else(|| ApiError::unauthorized("Could not find the domain to scope to."))?;
        return Ok(Some(Scope::Domain(d.id)));
    }
    if let Some(system) = scope.get("system") {
        if system.get("all") == Some(&Value::Bool(true)) {
            return Ok(Some(Scope::System));
        }
        return Err(ApiError::bad_request("System scope must be {\"all\": true}"));
    }
    let trust = scope.get("OS-TRUST:trust").unwrap_or(&Value::Null);
    let id = trust
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("'id' is a required string property of OS-TRUST:trust"))?;
    Ok(Some(Scope::Trust { trust_id: usable_trust(state, id).await?.id }))
}

/// A trust tokens can still be issued from (exists, not expired, uses left), or a 401 as
/// Keystone answers for a trust it cannot find.
pub async fn usable_trust(state: &Identity, id: &str) -> Result<store::trusts::Trust, ApiError> {
    match store::trusts::get(state, id).await? {
        Some(t) if t.is_usable(monostack_common::time::now_micros()) => Ok(t),
        _ => Err(ApiError::unauthorized(format!("Could not find trust: {id}."))),
    }
}

async fn find_project(state: &Identity, spec: &Value) -> Result<Project, ApiError> {
    let not_found = || ApiError::unauthorized("Could not find the project to scope to.");
    let found = if let Some(id) = spec.get("id") {
        let id = id.as_str().ok_or_else(|| ApiError::bad_request("project 'id' must be a string"))?;
        store::projects::get(state, id).await?
    } else if let Some(name) = spec.get("name") {
        let name = name.as_str().ok_or_else(|| ApiError::bad_request("project 'name' must be a string"))?;
        let domain = spec
            .get("domain")
            .ok_or_else(|| ApiError::bad_request("'domain' is required when a project is named"))?;
        match find_domain(state, domain).await? {
            Some(d) => store::projects::get_by_name(state, &d.id, name).await?,
            None => None,
        }
    } else {
        return Err(ApiError::bad_request("a project needs an 'id' or a 'name'"));
    };
    found.filter(|p| !p.is_domain).ok_or_else(not_found)
}

/// With no scope asked for: the user's default project when they have a role on it, else unscoped.
pub async fn default_scope(state: &Identity, user_id: &str) -> Result<Scope, ApiError> {
    let Some(user) = store::users::get(state, user_id).await? else { return Ok(Scope::Unscoped) };
    let Some(project_id) = user.default_project_id else { return Ok(Scope::Unscoped) };
    let Some(project) = store::projects::get(state, &project_id).await? else { return Ok(Scope::Unscoped) };
    if !project.enabled || project.is_domain {
        return Ok(Scope::Unscoped);
    }
    let roles = state.project_role_ids(user_id, &project).await?;
    Ok(if roles.is_empty() { Scope::Unscoped } else { Scope::Project(project.id) })
}
