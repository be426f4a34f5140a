//! `/v3/roles` (global and domain-specific roles), implied roles (`/v3/roles/{id}/implies`)
//! and `/v3/role_inferences`.

use super::body::{extra_of, merge_extra, object, opt_str};
use super::query::{from_uri, validate_name};
use super::{collection_links, created, enforce, links, no_content, not_found, ok, ApiResult, Caller, State};
use crate::store::{self, roles::Role};
use crate::Identity;
use axum::extract::{Path, State as S};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::{get, put};
use axum::Router;
use monostack_common::json::Json;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/roles", get(list).post(create))
        .route("/v3/roles/{role_id}", get(show).patch(update).delete(delete))
        .route("/v3/roles/{role_id}/implies", get(list_implied))
        .route(
            "/v3/roles/{role_id}/implies/{implied_role_id}",
            put(create_implied).get(show_implied).head(check_implied).delete(delete_implied),
        )
        .route("/v3/role_inferences", get(list_inferences))
}

/// Keystone's limit on role names.
pub const MAX_NAME: usize = 255;
/// Roles that may never be implied (Keystone's `[assignment] prohibited_implied_role`).
const PROHIBITED_IMPLIED: &[&str] = &["admin"];
/// The only role option Keystone knows.
const IMMUTABLE: &str = "immutable";

const KNOWN: &[&str] = &["id", "name", "domain_id", "description", "options", "links"];

/// The API view of a role (`domain_id` null for a global role).
pub fn view(state: &Identity, r: &Role) -> Value {
    let description = if r.description.is_empty() { Value::Null } else { json!(r.description) };
    let mut v = json!({
        "id": r.id, "name": r.name, "domain_id": r.domain_id, "description": description,
        "options": r.options, "links": links(state, &format!("roles/{}", r.id)),
    });
    merge_extra(&mut v, &r.extra);
    v
}

/// The policy view of a role (`target.role.*`).
pub fn target_view(r: &Role) -> Value {
    json!({"id": r.id, "name": r.name, "domain_id": r.domain_id})
}

fn target(r: &Role) -> Value {
    json!({"target": {"role": target_view(r)}})
}

/// Fetches a role or 404.
pub async fn must_get(state: &Identity, id: &str) -> ApiResult<Role> {
    store::roles::get(state, id).await?.ok_or_else(|| not_found("role", id))
}

fn is_immutable(r: &Role) -> bool {
    r.options.get(IMMUTABLE).and_then(Value::as_bool).unwrap_or(false)
}

/// Applies an `options` object onto `current`: known options only, null unsets.
fn apply_options(value: &Value, mut current: Map<String, Value>) -> ApiResult<Map<String, Value>> {
    let obj = value
        .as_object()
        .ok_or_else(|| ApiError::bad_request("Invalid input for field 'options': must be an object"))?;
    for (k, v) in obj {
        if k != IMMUTABLE {
            return Err(ApiError::bad_request(format!(
                "Invalid input for field 'options': additional properties are not allowed ('{k}' was unexpected)"
            )));
        }
        match v {
            Value::Null => {
                current.remove(k);
            }
            Value::Bool(_) => {
                current.insert(k.clone(), v.clone());
            }
            _ => return Err(ApiError::bad_request(format!("Invalid input for field 'options.{k}': must be a boolean or null"))),
        }
    }
    Ok(current)
}

fn duplicate(name: &str, domain_id: Option<&str>) -> ApiError {
    match domain_id {
        Some(d) => ApiError::conflict(format!(
            "Conflict occurred attempting to store role - Duplicate entry found with name {name} at domain ID {d}."
        )),
        None => ApiError::conflict(format!("Conflict occurred attempting to store role - Duplicate entry found with name {name}.")),
    }
}

async fn create(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = object(&body, "role")?;
    let name = validate_name("role", opt_str(obj, "name")?, MAX_NAME)?;
    let domain_id = opt_str(obj, "domain_id")?.filter(|d| !d.is_empty()).map(str::to_string);
    let mut role = Role::new(&name, domain_id.clone());
    role.description = opt_str(obj, "description")?.unwrap_or_default().to_string();
    if let Some(options) = obj.get("options") {
        role.options = apply_options(options, Map::new())?;
    }
    role.extra = extra_of(obj, KNOWN);
    let action = if domain_id.is_some() { "identity:create_domain_role" } else { "identity:create_role" };
    enforce(&state, &caller, action, &target(&role))?;
    if let Some(d) = &domain_id {
        super::domains::must_get(&state, d).await?;
    }
    if store::roles::get_by_name(&state, &name, domain_id.as_deref()).await?.is_some() {
        return Err(duplicate(&name, domain_id.as_deref()));
    }
    store::roles::insert(&state, &role).await?;
    tracing::info!("created role {} ({})", role.id, role.name);
    Ok(created(json!({"role": view(&state, &role)})))
}

async fn list(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    let q = from_uri(&uri);
    let domain_filter = q.get("domain_id").filter(|d| !d.is_empty());
    let mut filters = Map::new();
    for key in ["name", "domain_id"] {
        if let Some(v) = q.get(key) {
            filters.insert(key.to_string(), json!(v));
        }
    }
    let action = if domain_filter.is_some() { "identity:list_domain_roles" } else { "identity:list_roles" };
    enforce(&state, &caller, action, &Value::Object(filters))?;
    let roles: Vec<Value> = store::roles::list(&state)
        .await?
        .into_iter()
        .filter(|r| r.domain_id.as_deref() == domain_filter)
        .filter(|r| q.matches_text("name", Some(&r.name)))
        .map(|r| view(&state, &r))
        .collect();
    Ok(ok(json!({"roles": roles, "links": collection_links(&state, "roles", uri.query())})))
}

/// Looks a role up and checks `global_action` (global or missing role) or `domain_action`
/// (domain-specific role); a missing role is a 404 only once the policy passed.
async fn get_enforced(state: &Identity, caller: &Caller, id: &str, global_action: &str, domain_action: &str) -> ApiResult<Role> {
    match store::roles::get(state, id).await? {
        Some(r) if r.domain_id.is_some() => {
            enforce(state, caller, domain_action, &target(&r))?;
            Ok(r)
        }
        Some(r) => {
            enforce(state, caller, global_action, &target(&r))?;
            Ok(r)
        }
        None => {
            enforce(state, caller, global_action, &json!({}))?;
            Err(not_found("role", id))
        }
    }
}

async fn show(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let role = get_enforced(&state, &caller, &id, "identity:get_role", "identity:get_domain_role").await?;
    Ok(ok(json!({"role": view(&state, &role)})))
}

async fn update(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let mut role = get_enforced(&state, &caller, &id, "identity:update_role", "identity:update_domain_role").await?;
    let obj = object(&body, "role")?;
    if obj.is_empty() {
        return Err(ApiError::bad_request("Invalid input for field 'role': at least one property is required"));
    }
    if opt_str(obj, "id")?.is_some_and(|given| given != id) {
        return Err(ApiError::bad_request("Cannot change ID"));
    }
    if is_immutable(&role) {
        let only_unsetting = obj.len() == 1
            && obj
                .get("options")
                .and_then(Value::as_object)
                .and_then(|o| o.get(IMMUTABLE))
                .is_some_and(|v| v.is_null() || v == &Value::Bool(false));
        if !only_unsetting {
            return Err(ApiError::forbidden(format!(
                "Unable to update immutable role resource: `{id}. Set resource option \"immutable\" to false first."
            )));
        }
    }
    if obj.contains_key("domain_id") && opt_str(obj, "domain_id")? != role.domain_id.as_deref() {
        return Err(ApiError::bad_request("Update of `domain_id` is not allowed."));
    }
    if obj.contains_key("name") {
        let name = validate_name("role", opt_str(obj, "name")?, MAX_NAME)?;
        if name != role.name {
            if store::roles::get_by_name(&state, &name, role.domain_id.as_deref()).await?.is_some() {
                return Err(duplicate(&name, role.domain_id.as_deref()));
            }
            role.name = name;
        }
    }
    if obj.contains_key("description") {
        role.description = opt_str(obj, "description")?.unwrap_or_default().to_string();
    }
    if let Some(options) = obj.get("options") {
        role.options = apply_options(options, role.options.clone())?;
    }
    for (k, v) in extra_of(obj, KNOWN) {
        role.extra.insert(k, v);
    }
    store::roles::update(&state, &role).await?;
    Ok(ok(json!({"role": view(&state, &role)})))
}

async fn delete(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let role = get_enforced(&state, &caller, &id, "identity:delete_role", "identity:delete_domain_role").await?;
    if is_immutable(&role) {
        return Err(ApiError::forbidden(format!(
            "Unable to delete immutable role resource: `{id}. Set resource option \"immutable\" to false first."
        )));
    }
    store::roles::delete(&state, &id).await?;
    // Tokens are re-resolved after any write; tell other services' caches as well.
    state.announce_revocation();
    tracing::info!("deleted role {id}");
    Ok(no_content())
}

// ---- implied roles ----

/// `{id, name, links}` as implied-role responses show roles.
fn role_ref(state: &Identity, r: &Role) -> Value {
    json!({"id": r.id, "name": r.name, "links": links(state, &format!("roles/{}", r.id))})
}

/// Enforces an implied-role action, then resolves both roles (404 after the policy passed).
async fn implied_enforced(
    state: &Identity,
    caller: &Caller,
    action: &str,
    prior_id: &str,
    implied_id: Option<&str>,
) -> ApiResult<(Role, Option<Role>)> {
    let prior = store::roles::get(state, prior_id).await?;
    let implied = match implied_id {
        Some(i) => store::roles::get(state, i).await?,
        None => None,
    };
    let mut t = Map::new();
    if let Some(p) = &prior {
        t.insert("prior_role".into(), target_view(p));
    }
    if let Some(i) = &implied {
        t.insert("implied_role".into(), target_view(i));
    }
    enforce(state, caller, action, &json!({ "target": t }))?;
    let prior = prior.ok_or_else(|| not_found("role", prior_id))?;
    match implied_id {
        Some(i) => Ok((prior, Some(implied.ok_or_else(|| not_found("role", i))?))),
        None => Ok((prior, None)),
    }
}

async fn implies(state: &Identity, prior: &str, implied: &str) -> ApiResult<bool> {
    Ok(store::roles::implications(state).await?.iter().any(|(p, i)| p == prior && i == implied))
}

fn inference_body(state: &Identity, prior: &Role, implied: &Role) -> Value {
    json!({
        "role_inference": {"prior_role": role_ref(state, prior), "implies": role_ref(state, implied)},
        "links": {"self": format!("{}/v3/roles/{}/implies/{}", state.public_url, prior.id, implied.id)},
    })
}

fn implication_missing(prior: &str, implied: &str) -> ApiError {
    ApiError::not_found(format!("{prior} does not imply {implied}."))
}

async fn create_implied(S(state): S<State>, caller: Caller, Path((prior_id, implied_id)): Path<(String, String)>) -> ApiResult<Response> {
    let (prior, implied) = implied_enforced(&state, &caller, "identity:create_implied_role", &prior_id, Some(&implied_id)).await?;
    let Some(implied) = implied else { return Err(not_found("role", &implied_id)) };
    if PROHIBITED_IMPLIED.contains(&implied.name.as_str()) || (prior.domain_id.is_none() && implied.domain_id.is_some()) {
        return Err(ApiError::forbidden(format!("{implied_id} cannot be an implied roles.")));
    }
    if implies(&state, &prior.id, &implied.id).await? {
        return Err(ApiError::conflict("Conflict occurred attempting to store implied_role - Duplicate entry."));
    }
    store::roles::add_implication(&state, &prior.id, &implied.id).await?;
    tracing::info!("role {} now implies {}", prior.id, implied.id);
    Ok(created(inference_body(&state, &prior, &implied)))
}

async fn show_implied(S(state): S<State>, caller: Caller, Path((prior_id, implied_id)): Path<(String, String)>) -> ApiResult<Response> {
    let (prior, implied) = implied_enforced(&state, &caller, "identity:get_implied_role", &prior_id, Some(&implied_id)).await?;
    let Some(implied) = implied else { return Err(not_found("role", &implied_id)) };
    if !implies(&state, &prior.id, &implied.id).await? {
        return Err(implication_missing(&prior_id, &implied_id));
    }
    Ok(ok(inference_body(&state, &prior, &implied)))
}

async fn check_implied(S(state): S<State>, caller: Caller, Path((prior_id, implied_id)): Path<(String, String)>) -> ApiResult<Response> {
    // Keystone checks both rules for HEAD (it calls GET internally), then answers 204.
    implied_enforced(&state, &caller, "identity:check_implied_role", &prior_id, Some(&implied_id)).await?;
    implied_enforced(&state, &caller, "identity:get_implied_role", &prior_id, Some(&implied_id)).await?;
    if !implies(&state, &prior_id, &implied_id).await? {
        return Err(implication_missing(&prior_id, &implied_id));
    }
    Ok(no_content())
}

async fn delete_implied(S(state): S<State>, caller: Caller, Path((prior_id, implied_id)): Path<(String, String)>) -> ApiResult<Response> {
    implied_enforced(&state, &caller, "identity:delete_implied_role", &prior_id, Some(&implied_id)).await?;
    if !store::roles::remove_implication(&state, &prior_id, &implied_id).await? {
        return Err(implication_missing(&prior_id, &implied_id));
    }
    state.announce_revocation();
    tracing::info!("role {prior_id} no longer implies {implied_id}");
    Ok(no_content())
}

async fn list_implied(S(state): S<State>, caller: Caller, Path(prior_id): Path<String>) -> ApiResult<Response> {
    let (prior, _) = implied_enforced(&state, &caller, "identity:list_implied_roles", &prior_id, None).await?;
    let mut implied = Vec::new();
    for (_, i) in store::roles::implications(&state).await?.into_iter().filter(|(p, _)| *p == prior.id) {
        if let Some(r) = store::roles::get(&state, &i).await? {
            implied.push(role_ref(&state, &r));
        }
    }
    Ok(ok(json!({
        "role_inference": {"prior_role": role_ref(&state, &prior), "implies": implied},
        "links": {"self": format!("{}/v3/roles/{}/implies", state.public_url, prior.id)},
    })))
}

async fn list_inferences(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:list_role_inference_rules", &json!({}))?;
    let roles: std::collections::HashMap<String, Role> =
        store::roles::list(&state).await?.into_iter().map(|r| (r.id.clone(), r)).collect();
    let mut rules: Vec<(String, Vec<Value>)> = Vec::new();
    for (prior, implied) in store::roles::implications(&state).await? {
        let (Some(_), Some(i)) = (roles.get(&prior), roles.get(&implied)) else { continue };
        match rules.iter_mut().find(|(p, _)| *p == prior) {
            Some((_, list)) => list.push(role_ref(&state, i)),
            None => rules.push((prior, vec![role_ref(&state, i)])),
        }
    }
    let inferences: Vec<Value> = rules
        .into_iter()
        .filter_map(|(prior, implies)| roles.get(&prior).map(|p| json!({"prior_role": role_ref(&state, p), "implies": implies})))
        .collect();
    Ok(ok(json!({"role_inferences": inferences, "links": collection_links(&state, "role_inferences", uri.query())})))
}
