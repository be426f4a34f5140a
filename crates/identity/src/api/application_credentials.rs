//! `/v3/users/{user_id}/application_credentials` and `/v3/users/{user_id}/access_rules`:
//! a user's delegated logins, limited to the project and roles of the token that made them.

use super::body::{object, opt_bool, opt_str};
use super::query::from_uri;
use super::{collection_links, created, enforce, links, no_content, ok, ApiResult, Caller, State};
use crate::store::{self, app_creds::{AccessRule, AppCred}, revocations::RevocationEvent, roles::Role};
use crate::Identity;
use axum::extract::{Path, State as S};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use monostack_common::json::Json;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/users/{user_id}/application_credentials", get(list).post(create))
        .route("/v3/users/{user_id}/application_credentials/{application_credential_id}", get(show).delete(delete))
        .route("/v3/users/{user_id}/access_rules", get(list_rules))
        .route("/v3/users/{user_id}/access_rules/{access_rule_id}", get(show_rule).delete(delete_rule))
}

const CREATE_KNOWN: &[&str] = &[
    "id", "secret", "name", "description", "expires_at", "project_id", "access_rules", "unrestricted", "system", "roles",
];
const METHODS: &[&str] = &["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"];

fn forbidden_action(action: &str) -> ApiError {
    ApiError::forbidden(format!("You are not authorized to perform the requested action: {action}"))
}

fn cred_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Could not find Application Credential: {id}."))
}

fn rule_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Could not find Access Rule: {id}."))
}

fn invalid(detail: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid application credential: {detail}"))
}

/// Expiry as Keystone renders it: a naive UTC ISO 8601 time (Python's `isoformat()`).
fn render_expiry(micros: i64) -> String {
    let dt = monostack_common::time::to_datetime(micros);
    if micros % 1_000_000 == 0 {
        dt.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        dt.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    }
}

fn rule_json(r: &AccessRule) -> Value {
    json!({"id": r.id, "service": r.service, "path": r.path, "method": r.method})
}

/// The API view of a credential (never with its secret).
async fn view(state: &Identity, c: &AppCred) -> ApiResult<Value> {
    let mut roles = Vec::with_capacity(c.role_ids.len());
    for id in &c.role_ids {
        if let Some(r) = store::roles::get(state, id).await? {
            roles.push(json!({"id": r.id, "name": r.name, "domain_id": r.domain_id}));
        }
    }
    let mut rules = Vec::with_capacity(c.access_rule_ids.len());
    for id in &c.access_rule_ids {
        if let Some(r) = store::app_creds::get_access_rule(state, id).await? {
            rules.push(rule_json(&r));
        }
    }
    Ok(json!({
        "id": c.id, "name": c.name, "description": c.description, "user_id": c.user_id,
        "project_id": c.project_id, "system": c.system_scope,
        "expires_at": c.expires_at.map(render_expiry), "unrestricted": c.unrestricted,
        "roles": roles, "access_rules": rules,
        "links": links(state, &format!("users/{}/application_credentials/{}", c.user_id, c.id)),
    }))
}

/// Policy target: `owner` reads the top-level `user_id`.
fn target(user_id: &str) -> Value {
    json!({"user_id": user_id, "target": {"application_credential": {"user_id": user_id}}})
}

/// A credential-authenticated token may manage credentials only if its own is unrestricted.
async fn check_unrestricted(state: &Identity, caller: &Caller) -> ApiResult<()> {
    let ctx = caller.ctx();
    if !ctx.methods.iter().any(|m| m == "application_credential") {
        return Ok(());
    }
    let unrestricted = match &ctx.app_cred_id {
        Some(id) => store::app_creds::get(state, id).await?.is_some_and(|c| c.unrestricted),
        None => false,
    };
    if unrestricted {
        Ok(())
    } else {
        Err(forbidden_action(
            "Using method 'application_credential' is not allowed for managing additional application credentials.",
        ))
    }
}

/// What a create body asks for, validated.
struct Request {
    name: String,
    description: Option<String>,
    secret: Option<String>,
    expires_at: Option<String>,
    unrestricted: bool,
    roles: Vec<Map<String, Value>>,
    rules: Vec<Map<String, Value>>,
}

fn parse_request(body: &Value) -> ApiResult<Request> {
    let obj = object(body, "application_credential")?;
    if let Some(k) = obj.keys().find(|k| !CREATE_KNOWN.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!("Additional properties are not allowed ('{k}' was unexpected)")));
    }
    let name = opt_str(obj, "name")?.ok_or_else(|| ApiError::bad_request("'name' is a required property"))?;
    if name.trim().is_empty() || name.chars().count() > 255 {
        return Err(ApiError::bad_request("Invalid input for field 'name': 1 to 255 characters, not all blank"));
    }
    let list = |key: &str| -> ApiResult<Vec<Map<String, Value>>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| i.as_object().cloned().ok_or_else(|| ApiError::bad_request(format!("Invalid input for field '{key}': items must be objects"))))
                .collect(),
            Some(_) => Err(ApiError::bad_request(format!("Invalid input for field '{key}': must be a list"))),
        }
    };
    let roles = list("roles")?;
    for r in &roles {
        let ok = r.len() == 1 && ["id", "name"].iter().any(|k| r.get(*k).and_then(Value::as_str).is_some_and(|s| !s.is_empty()));
        if !ok {
            return Err(ApiError::bad_request("Invalid input for field 'roles': each role is {\"id\": ...} or {\"name\": ...}"));
        }
    }
    let rules = list("access_rules")?;
    for r in &rules {
        validate_rule(r)?;
    }
    Ok(Request {
        name: name.to_string(),
        description: opt_str(obj, "description")?.map(str::to_string),
        secret: opt_str(obj, "secret")?.filter(|s| !s.is_empty()).map(str::to_string),
        expires_at: opt_str(obj, "expires_at")?.map(str::to_string),
        unrestricted: match obj.get("unrestricted") {
            None | Some(Value::Null) => false,
            Some(_) => opt_bool(obj, "unrestricted")?.unwrap_or(false),
        },
        roles,
        rules,
    })
}

fn validate_rule(r: &Map<String, Value>) -> ApiResult<()> {
    for k in r.keys() {
        if !["id", "service", "path", "method"].contains(&k.as_str()) {
            return Err(ApiError::bad_request(format!("Invalid input for field 'access_rules': '{k}' was unexpected")));
        }
    }
    let text = |k: &str| -> ApiResult<Option<&str>> {
        match r.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(ApiError::bad_request(format!("Invalid input for field 'access_rules': '{k}' must be a string"))),
        }
    };
    let id_like = |s: &str| !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if let Some(id) = text("id")? {
        if !id_like(id) {
            return Err(ApiError::bad_request("Invalid input for field 'access_rules': invalid 'id'"));
        }
    }
    if let Some(s) = text("service")? {
        if !id_like(s) {
            return Err(ApiError::bad_request(format!("Invalid input for field 'access_rules': invalid service '{s}'")));
        }
    }
    if let Some(p) = text("path")? {
        if !p.starts_with('/') || p.chars().count() > 225 {
            return Err(ApiError::bad_request(format!("Invalid input for field 'access_rules': invalid path '{p}'")));
        }
    }
    if let Some(m) = text("method")? {
        if !METHODS.contains(&m) {
            return Err(ApiError::bad_request(format!("Invalid input for field 'access_rules': '{m}' is not one of {METHODS:?}")));
        }
    }
    let fields = ["service", "path", "method"].iter().filter(|k| r.contains_key(**k)).count();
    if !r.contains_key("id") && fields < 3 {
        return Err(ApiError::bad_request("Invalid input for field 'access_rules': 'service', 'path' and 'method' are required"));
    }
    Ok(())
}

fn generate_secret() -> String {
    use rand::RngCore;
    let mut b = [0u8; 64];
    rand::thread_rng().fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// The credential's roles: those asked for (by id or global-role name, plus what they imply),
/// each held by the caller's token; by default every role of the token.
async fn resolve_roles(state: &Identity, caller: &Caller, asked: &[Map<String, Value>]) -> ApiResult<Vec<String>> {
    let token_roles: Vec<String> = caller.ctx().roles.iter().map(|r| r.id.clone()).collect();
    if asked.is_empty() {
        return Ok(token_roles);
    }
    let mut ids = Vec::new();
    for r in asked {
        let id = match (r.get("id").and_then(Value::as_str), r.get("name").and_then(Value::as_str)) {
            (Some(id), _) => id.to_string(),
            (None, Some(name)) => {
                let role: Role = store::roles::get_by_name(state, name, None)
                    .await?
                    .ok_or_else(|| ApiError::not_found(format!("Could not find role: {name}.")))?;
                role.id
            }
            _ => return Err(ApiError::bad_request("Invalid input for field 'roles'")),
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let implications = store::roles::implications(state).await?;
    let ids = store::roles::expand_implied(&ids, &implications);
    if ids.iter().any(|id| !token_roles.contains(id)) {
        return Err(invalid("Cannot create an application credential with unassigned role"));
    }
    Ok(ids)
}

/// Access rules by id (the user's own) or by content (reusing an identical existing rule).
/// Returns (ids to link, rules to create).
async fn resolve_rules(state: &Identity, user_id: &str, asked: &[Map<String, Value>]) -> ApiResult<(Vec<String>, Vec<AccessRule>)> {
    let existing = store::app_creds::list_access_rules(state, user_id).await?;
    let mut ids: Vec<String> = Vec::new();
    let mut new_rules: Vec<AccessRule> = Vec::new();
    for r in asked {
        let text = |k: &str| r.get(k).and_then(Value::as_str);
        let given_id = text("id");
        let found = match given_id {
            Some(id) => existing.iter().chain(new_rules.iter()).find(|e| e.id == id).map(|e| e.id.clone()),
            None => None,
        };
        let id = match (found, text("service"), text("path"), text("method")) {
            (Some(id), _, _, _) => id,
            (None, Some(service), Some(path), Some(method)) => {
                match existing.iter().chain(new_rules.iter()).find(|e| e.service == service && e.path == path && e.method == method) {
                    Some(e) => e.id.clone(),
                    None => {
                        let mut rule = store::app_creds::new_access_rule(user_id, service, path, method);
                        if let Some(id) = given_id {
                            if store::app_creds::get_access_rule(state, id).await?.is_some() {
                                return Err(rule_not_found(id));
                            }
                            rule.id = id.to_string();
                        }
                        let id = rule.id.clone();
                        new_rules.push(rule);
                        id
                    }
                }
            }
            (None, ..) => return Err(rule_not_found(given_id.unwrap_or_default())),
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok((ids, new_rules))
}

async fn create(S(state): S<State>, caller: Caller, Path(user_id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let req = parse_request(&body)?;
    enforce(&state, &caller, "identity:create_application_credential", &target(&user_id))?;
    check_unrestricted(&state, &caller).await?;
    let ctx = caller.ctx();
    if ctx.user_id != user_id {
        return Err(forbidden_action("Cannot create an application credential for another user."));
    }
    let project_id = ctx
        .project_id
        .clone()
        .ok_or_else(|| forbidden_action("identity:create_application_credential."))?;
    let role_ids = resolve_roles(&state, &caller, &req.roles).await?;
    let expires_at = match &req.expires_at {
        Some(text) => {
            let at = monostack_common::time::parse_iso(text).ok_or_else(|| {
                ApiError::bad_request("Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
            })?;
            if at <= monostack_common::time::now_micros() {
                return Err(ApiError::bad_request("The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."));
            }
            Some(at)
        }
        None => None,
    };
    // every role must still be held on the project (directly, by group, inherited or implied)
    let project = store::projects::get(&state, &project_id).await?.ok_or_else(|| super::not_found("project", &project_id))?;
    let held = state.project_role_ids(&user_id, &project).await?;
    if let Some(missing) = role_ids.iter().find(|r| !held.contains(r)) {
        return Err(invalid(&format!(
            "Could not find role assignment with role: {missing}, user or group: {user_id}, project, domain, or system: {project_id}."
        )));
    }
    if store::app_creds::get_by_name(&state, &user_id, &req.name).await?.is_some() {
        return Err(ApiError::conflict(format!(
            "Conflict occurred attempting to store application_credential - Duplicate entry found with name {}.",
            req.name
        )));
    }
    let (rule_ids, new_rules) = resolve_rules(&state, &user_id, &req.rules).await?;
    let secret = req.secret.unwrap_or_else(generate_secret);
    let cred = AppCred {
        id: store::new_id(),
        name: req.name,
        secret_hash: store::users::hash_password(&state, &secret).await?,
        description: req.description,
        user_id: user_id.clone(),
        project_id: Some(project_id),
        expires_at,
        system_scope: None,
        unrestricted: req.unrestricted,
        role_ids,
        access_rule_ids: rule_ids,
    };
    store::app_creds::insert(&state, &cred, &new_rules).await?;
    tracing::info!("created application credential {} for user {user_id}", cred.id);
    let mut v = view(&state, &cred).await?;
    v["secret"] = json!(secret);
    Ok(created(json!({"application_credential": v})))
}

async fn list(S(state): S<State>, caller: Caller, Path(user_id): Path<String>, uri: Uri) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:list_application_credentials", &target(&user_id))?;
    let q = from_uri(&uri);
    let mut creds = Vec::new();
    for c in store::app_creds::list_for_user(&state, &user_id).await? {
        if q.matches_text("name", Some(&c.name)) {
            creds.push(view(&state, &c).await?);
        }
    }
    let path = format!("users/{user_id}/application_credentials");
    Ok(ok(json!({"application_credentials": creds, "links": collection_links(&state, &path, uri.query())})))
}

/// Loads a credential of `user_id`, checking `action` against its real owner.
async fn owned(state: &Identity, caller: &Caller, action: &str, user_id: &str, id: &str) -> ApiResult<AppCred> {
    let cred = store::app_creds::get(state, id).await?;
    let owner = cred.as_ref().map_or(user_id, |c| c.user_id.as_str());
    enforce(state, caller, action, &target(owner))?;
    cred.filter(|c| c.user_id == user_id).ok_or_else(|| cred_not_found(id))
}

async fn show(S(state): S<State>, caller: Caller, Path((user_id, id)): Path<(String, String)>) -> ApiResult<Response> {
    let cred = owned(&state, &caller, "identity:get_application_credential", &user_id, &id).await?;
    Ok(ok(json!({"application_credential": view(&state, &cred).await?})))
}

async fn delete(S(state): S<State>, caller: Caller, Path((user_id, id)): Path<(String, String)>) -> ApiResult<Response> {
    let cred = store::app_creds::get(&state, &id).await?;
    let owner = cred.as_ref().map_or(user_id.as_str(), |c| c.user_id.as_str());
    enforce(&state, &caller, "identity:delete_application_credential", &target(owner))?;
    check_unrestricted(&state, &caller).await?;
    let cred = cred.filter(|c| c.user_id == user_id).ok_or_else(|| cred_not_found(&id))?;
    store::app_creds::delete(&state, &cred.id).await?;
    store::revocations::record(&state, RevocationEvent { app_cred_id: Some(cred.id.clone()), ..Default::default() }).await?;
    tracing::info!("deleted application credential {} of user {user_id}", cred.id);
    Ok(no_content())
}

// ---- access rules ----

/// Policy target of the access-rule calls: the user of the path, when it exists.
async fn user_target(state: &Identity, user_id: &str) -> ApiResult<Value> {
    Ok(match store::users::get(state, user_id).await? {
        Some(u) => json!({"user_id": user_id, "target": {"user": {"id": u.id, "domain_id": u.domain_id}}}),
        None => json!({"user_id": user_id, "target": {}}),
    })
}

fn rule_view(state: &Identity, user_id: &str, r: &AccessRule) -> Value {
    let mut v = rule_json(r);
    v["links"] = links(state, &format!("users/{user_id}/access_rules/{}", r.id));
    v
}

async fn list_rules(S(state): S<State>, caller: Caller, Path(user_id): Path<String>, uri: Uri) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:list_access_rules", &user_target(&state, &user_id).await?)?;
    let q = from_uri(&uri);
    let rules: Vec<Value> = store::app_creds::list_access_rules(&state, &user_id)
        .await?
        .iter()
        .filter(|r| q.matches_text("service", Some(&r.service)))
        .filter(|r| q.matches_text("path", Some(&r.path)))
        .filter(|r| q.matches_text("method", Some(&r.method)))
        .map(|r| rule_view(&state, &user_id, r))
        .collect();
    let path = format!("users/{user_id}/access_rules");
    Ok(ok(json!({"access_rules": rules, "links": collection_links(&state, &path, uri.query())})))
}

async fn must_get_rule(state: &Identity, user_id: &str, id: &str) -> ApiResult<AccessRule> {
    store::app_creds::get_access_rule(state, id)
        .await?
        .filter(|r| r.user_id == user_id)
        .ok_or_else(|| rule_not_found(id))
}

async fn show_rule(S(state): S<State>, caller: Caller, Path((user_id, id)): Path<(String, String)>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:get_access_rule", &user_target(&state, &user_id).await?)?;
    let rule = must_get_rule(&state, &user_id, &id).await?;
    Ok(ok(json!({"access_rule": rule_view(&state, &user_id, &rule)})))
}

async fn delete_rule(S(state): S<State>, caller: Caller, Path((user_id, id)): Path<(String, String)>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:delete_access_rule", &user_target(&state, &user_id).await?)?;
    let rule = must_get_rule(&state, &user_id, &id).await?;
    store::app_creds::delete_access_rule(&state, &rule.id).await?;
    tracing::info!("deleted access rule {} of user {user_id}", rule.id);
    Ok(no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_renders_like_python_isoformat() {
        let t = monostack_common::time::parse_iso("2030-01-02T03:04:05.123456Z").unwrap_or_default();
        assert_eq!(render_expiry(t), "2030-01-02T03:04:05.123456");
        let t = monostack_common::time::parse_iso("2030-01-02T03:04:05").unwrap_or_default();
        assert_eq!(render_expiry(t), "2030-01-02T03:04:05");
    }

    #[test]
    fn secrets_are_86_urlsafe_characters() {
        let s = generate_secret();
        assert_eq!(s.len(), 86);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
