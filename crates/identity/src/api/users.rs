//! `/v3/users`: users, their passwords (admin reset and self-service change), their groups
//! and the projects they hold roles on.

use super::body::{extra_of, merge_extra, object, opt_bool, opt_str, req_str};
use super::query::{from_uri, validate_name, Query};
use super::{collection_links, created, enforce, links, no_content, not_found, ok, ApiResult, Caller, State};
use crate::store::{self, revocations::RevocationEvent, users::User, DEFAULT_DOMAIN_ID};
use crate::Identity;
use axum::extract::{Path, State as S};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use monostack_common::json::Json;
use monostack_common::time::iso_micros;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/users", get(list).post(create))
        .route("/v3/users/{user_id}", get(show).patch(update).delete(delete))
        .route("/v3/users/{user_id}/password", post(change_password))
        .route("/v3/users/{user_id}/groups", get(list_groups))
        .route("/v3/users/{user_id}/projects", get(list_projects))
}

pub const MAX_NAME: usize = 255;

/// Attributes with a meaning of their own; anything else is kept in `extra` and echoed back.
/// `password` is here so it never lands in `extra` (and so never in a response).
const KNOWN: &[&str] = &[
    "id", "name", "domain_id", "enabled", "password", "password_expires_at", "default_project_id", "options",
    "links", "federated",
];

const BOOL_OPTIONS: &[&str] = &[
    "ignore_change_password_upon_first_use",
    "ignore_password_expiry",
    "ignore_lockout_failure_attempts",
    "lock_password",
    "ignore_user_inactivity",
    "multi_factor_auth_enabled",
];
const MFA_RULES: &str = "multi_factor_auth_rules";

const SELF_SERVICE_DISABLED: &str = "You cannot change your password at this time due to password policy disallowing password changes. Please contact your administrator to reset your password.";

/// The API view of a user: never the password or its hash.
pub fn view(state: &Identity, u: &User) -> Value {
    let mut v = json!({
        "id": u.id, "name": u.name, "domain_id": u.domain_id, "enabled": u.enabled,
        "password_expires_at": u.password_expires_at.map(iso_micros),
        "options": u.options, "links": links(state, &format!("users/{}", u.id)),
    });
    if let Some(p) = &u.default_project_id {
        v["default_project_id"] = json!(p);
    }
    merge_extra(&mut v, &u.extra);
    if let Value::Object(obj) = &mut v {
        obj.remove("password");
    }
    v
}

/// The policy target for a user: the path's `user_id` at the top level (for owner rules)
/// and `target.user` when the user exists.
pub fn target(user_id: &str, u: Option<&User>) -> Value {
    match u {
        Some(u) => json!({"user_id": user_id, "target": {"user": {"id": u.id, "domain_id": u.domain_id, "name": u.name}}}),
        None => json!({"user_id": user_id}),
    }
}

pub async fn must_get(state: &Identity, id: &str) -> ApiResult<User> {
    store::users::get(state, id).await?.ok_or_else(|| not_found("user", id))
}

/// Whether a user passes the list filters (`domain_id`, `enabled`, `name` and their
/// `__contains`-style variants). Federated filters match nobody: there are no federated users.
pub fn matches_filters(q: &Query, u: &User) -> bool {
    q.matches_text("name", Some(&u.name))
        && q.matches_text("domain_id", Some(&u.domain_id))
        && q.matches_flag("enabled", u.enabled)
        && !["idp_id", "protocol_id", "unique_id"].iter().any(|k| q.has(k))
}

fn conflict(name: &str, domain_id: &str) -> ApiError {
    ApiError::conflict(format!(
        "Conflict occurred attempting to store user - Duplicate entry found with name {name} at domain ID {domain_id}."
    ))
}

/// The domain a new entity goes to when the body names none: the caller's domain scope,
/// else the domain of the caller's project, else the default domain.
pub fn default_domain(caller: &Caller) -> String {
    caller
        .ctx()
        .domain_id
        .clone()
        .or_else(|| caller.ctx().project_domain_id.clone())
        .unwrap_or_else(|| DEFAULT_DOMAIN_ID.into())
}

/// Checks Keystone's user options; returns them as given (null means "unset").
fn parse_options(v: &Value) -> ApiResult<Map<String, Value>> {
    let obj = v.as_object().ok_or_else(|| ApiError::bad_request("Invalid input for field 'options': must be an object"))?;
    for (k, val) in obj {
        if BOOL_OPTIONS.contains(&k.as_str()) {
            if !(val.is_boolean() || val.is_null()) {
                return Err(ApiError::bad_request(format!("Invalid input for field 'options/{k}': must be a boolean")));
            }
        } else if k == MFA_RULES {
            if !val.is_null() {
                validate_mfa_rules(val)?;
            }
        } else {
            return Err(ApiError::bad_request(format!("Invalid input for field 'options': unknown option '{k}'")));
        }
    }
    Ok(obj.clone())
}

fn validate_mfa_rules(v: &Value) -> ApiResult<()> {
    let bad = || {
        ApiError::bad_request(format!(
            "Invalid input for field 'options/{MFA_RULES}': must be a list of non-empty lists of unique strings, without duplicate lists"
        ))
    };
    let rules = v.as_array().ok_or_else(bad)?;
    for (i, rule) in rules.iter().enumerate() {
        let methods = rule.as_array().filter(|m| !m.is_empty()).ok_or_else(bad)?;
        if rules[..i].contains(rule) {
            return Err(bad());
        }
        for (j, m) in methods.iter().enumerate() {
            if !m.is_string() || methods[..j].contains(m) {
                return Err(bad());
            }
        }
    }
    Ok(())
}

/// Applies an options patch: null removes an option.
fn apply_options(current: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            current.remove(&k);
        } else {
            current.insert(k, v);
        }
    }
}

/// `default_project_id`: a string or null, and never a domain (it need not exist).
async fn parse_default_project(state: &Identity, obj: &Map<String, Value>) -> ApiResult<Option<String>> {
    let Some(id) = opt_str(obj, "default_project_id")? else { return Ok(None) };
    if let Some(p) = store::projects::get(state, id).await? {
        if p.is_domain {
            return Err(ApiError::bad_request(format!(
                "Invalid input for field 'default_project_id': {id} is a domain, not a project"
            )));
        }
    }
    Ok(Some(id.to_string()))
}

fn parse_name(obj: &Map<String, Value>) -> ApiResult<String> {
    Ok(validate_name("user", opt_str(obj, "name")?, MAX_NAME)?.trim().to_string())
}

async fn create(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = object(&body, "user")?;
    let name = parse_name(obj)?;
    let domain_id = match opt_str(obj, "domain_id")? {
        Some(d) if !d.is_empty() => d.to_string(),
        _ => default_domain(&caller),
    };
    let mut user = User::new(&name, &domain_id);
    user.enabled = opt_bool(obj, "enabled")?.unwrap_or(true);
    let password = opt_str(obj, "password")?;
    if let Some(o) = obj.get("options") {
        apply_options(&mut user.options, parse_options(o)?);
    }
    user.extra = extra_of(obj, KNOWN);
    enforce(&state, &caller, "identity:create_user", &target(&user.id, Some(&user)))?;
    match store::projects::get(&state, &domain_id).await? {
        Some(d) if d.is_domain => {}
        _ => return Err(not_found("domain", &domain_id)),
    }
    user.default_project_id = parse_default_project(&state, obj).await?;
    if store::users::get_by_name(&state, &domain_id, &name).await?.is_some() {
        return Err(conflict(&name, &domain_id));
    }
    if let Some(p) = password {
        user.password_hash = Some(store::users::hash_password(&state, p).await?);
    }
    store::users::insert(&state, &user).await?;
    tracing::info!("created user {} ({})", user.id, user.name);
    Ok(created(json!({"user": view(&state, &user)})))
}

async fn list(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    let q = from_uri(&uri);
    let scope_domain = caller.ctx().domain_id.clone();
    let t = match &scope_domain {
        Some(d) => json!({"target": {"domain_id": d}}),
        None => json!({}),
    };
    enforce(&state, &caller, "identity:list_users", &t)?;
    let users: Vec<Value> = store::users::list(&state)
        .await?
        .into_iter()
        .filter(|u| scope_domain.as_ref().is_none_or(|d| *d == u.domain_id))
        .filter(|u| matches_filters(&q, u))
        .map(|u| view(&state, &u))
        .collect();
    Ok(ok(json!({"users": users, "links": collection_links(&state, "users", uri.query())})))
}

async fn show(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let user = store::users::get(&state, &id).await?;
    enforce(&state, &caller, "identity:get_user", &target(&id, user.as_ref()))?;
    let user = user.ok_or_else(|| not_found("user", &id))?;
    Ok(ok(json!({"user": view(&state, &user)})))
}

async fn update(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let user = store::users::get(&state, &id).await?;
    enforce(&state, &caller, "identity:update_user", &target(&id, user.as_ref()))?;
    let mut user = user.ok_or_else(|| not_found("user", &id))?;
    let obj = object(&body, "user")?;
    if obj.is_empty() {
        return Err(ApiError::bad_request("Invalid input for field 'user': at least one attribute is required"));
    }
    if opt_str(obj, "id")?.is_some_and(|given| given != id) {
        return Err(ApiError::bad_request("Cannot change ID"));
    }
    if opt_str(obj, "domain_id")?.is_some_and(|d| d != user.domain_id) {
        return Err(ApiError::bad_request("Cannot change Domain ID"));
    }
    if obj.contains_key("name") {
        let name = parse_name(obj)?;
        if name != user.name && store::users::get_by_name(&state, &user.domain_id, &name).await?.is_some() {
            return Err(conflict(&name, &user.domain_id));
        }
        user.name = name;
    }
    let was_enabled = user.enabled;
    if let Some(e) = opt_bool(obj, "enabled")? {
        user.enabled = e;
    }
    if let Some(o) = obj.get("options") {
        apply_options(&mut user.options, parse_options(o)?);
    }
    if obj.contains_key("default_project_id") {
        user.default_project_id = parse_default_project(&state, obj).await?;
    }
    let new_password = if obj.contains_key("password") { Some(opt_str(obj, "password")?) } else { None };
    for (k, v) in extra_of(obj, KNOWN) {
        user.extra.insert(k, v);
    }
    if let Some(p) = new_password {
        user.password_hash = match p {
            Some(p) => Some(store::users::hash_password(&state, p).await?),
            None => None,
        };
    }
    store::users::update(&state, &user).await?;
    if (was_enabled && !user.enabled) || matches!(new_password, Some(Some(_))) {
        store::revocations::record(&state, RevocationEvent { user_id: Some(id.clone()), ..Default::default() }).await?;
    }
    Ok(ok(json!({"user": view(&state, &user)})))
}

async fn delete(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let user = store::users::get(&state, &id).await?;
    enforce(&state, &caller, "identity:delete_user", &target(&id, user.as_ref()))?;
    if user.is_none() {
        return Err(not_found("user", &id));
    }
    store::users::delete(&state, &id).await?;
    store::trusts::delete_for_user(&state, &id).await?;
    store::revocations::record(&state, RevocationEvent { user_id: Some(id.clone()), ..Default::default() }).await?;
    tracing::info!("deleted user {id}");
    Ok(no_content())
}

/// Self-service password change. Like Keystone it needs no token (a user whose password has
/// expired has none): knowing the original password is the authorization.
async fn change_password(S(state): S<State>, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = object(&body, "user")?;
    if let Some(k) = obj.keys().find(|k| *k != "password" && *k != "original_password") {
        return Err(ApiError::bad_request(format!("Invalid input for field 'user': additional property '{k}' is not allowed")));
    }
    let original = req_str(obj, "original_password")?;
    let new_password = req_str(obj, "password")?;
    let fail = |why: &str| ApiError::unauthorized(format!("Error when changing user password: {why}"));
    let user = store::users::get(&state, &id).await?;
    let verified = match user.as_ref().and_then(|u| u.password_hash.as_deref()) {
        Some(hash) => store::users::verify_password(original, hash).await,
        None => {
            // Same work for unknown users, so timing does not tell which exist.
            let _ = store::users::hash_password(&state, original).await;
            false
        }
    };
    let Some(mut user) = user.filter(|_| verified) else {
        return Err(fail("Invalid user / password"));
    };
    if !user.enabled {
        return Err(fail(&format!("User {id} is disabled")));
    }
    match store::projects::get(&state, &user.domain_id).await? {
        Some(d) if d.enabled => {}
        _ => return Err(fail(&format!("Domain {} is disabled", user.domain_id))),
    }
    if user.options.get("lock_password") == Some(&Value::Bool(true)) {
        return Err(ApiError::forbidden(SELF_SERVICE_DISABLED));
    }
    user.password_hash = Some(store::users::hash_password(&state, new_password).await?);
    user.password_expires_at = None;
    store::users::update(&state, &user).await?;
    store::revocations::record(&state, RevocationEvent { user_id: Some(id.clone()), ..Default::default() }).await?;
    tracing::info!("user {id} changed their password");
    Ok(no_content())
}

async fn list_groups(S(state): S<State>, caller: Caller, Path(id): Path<String>, uri: Uri) -> ApiResult<Response> {
    let user = store::users::get(&state, &id).await?;
    enforce(&state, &caller, "identity:list_groups_for_user", &target(&id, user.as_ref()))?;
    if user.is_none() {
        return Err(not_found("user", &id));
    }
    let q = from_uri(&uri);
    let scope_domain = caller.ctx().domain_id.clone();
    let groups: Vec<Value> = store::groups::list_for_user(&state, &id)
        .await?
        .into_iter()
        .filter(|g| scope_domain.as_ref().is_none_or(|d| *d == g.domain_id))
        .filter(|g| q.matches_text("name", Some(&g.name)))
        .map(|g| {
            let mut v = super::groups::view(&state, &g);
            v["membership_expires_at"] = Value::Null;
            v
        })
        .collect();
    let path = format!("users/{id}/groups");
    Ok(ok(json!({"groups": groups, "links": collection_links(&state, &path, uri.query())})))
}

async fn list_projects(S(state): S<State>, caller: Caller, Path(id): Path<String>, uri: Uri) -> ApiResult<Response> {
    let user = store::users::get(&state, &id).await?;
    enforce(&state, &caller, "identity:list_user_projects", &target(&id, user.as_ref()))?;
    if user.is_none() {
        return Err(not_found("user", &id));
    }
    let q = from_uri(&uri);
    let mut projects = Vec::new();
    for p in store::projects::list(&state, false).await? {
        if !(q.matches_text("name", Some(&p.name))
            && q.matches_text("domain_id", Some(&p.domain_id))
            && q.matches_flag("enabled", p.enabled))
        {
            continue;
        }
        if !state.project_role_ids(&id, &p).await?.is_empty() {
            projects.push(super::projects::view(&state, &p));
        }
    }
    let path = format!("users/{id}/projects");
    Ok(ok(json!({"projects": projects, "links": collection_links(&state, &path, uri.query())})))
}
