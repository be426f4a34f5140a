//! `/v3/OS-TRUST/trusts`: trusts (delegation of a trustor's roles on a project to a trustee)
//! and the roles they delegate. Tokens are obtained through a trust with the
//! `OS-TRUST:trust` scope of `POST /v3/auth/tokens`.

use super::body::{extra_of, merge_extra, object, opt_str, req_str};
use super::query::from_uri;
use super::{collection_links, created, enforce, links, no_content, not_found, ok, ApiResult, Caller, State};
use crate::store::{self, revocations::RevocationEvent, trusts::Trust};
use crate::token::payload::Scope;
use crate::Identity;
use axum::extract::{Path, State as S};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_common::json::Json;
use monostack_common::time::{now_micros, parse_iso};
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/OS-TRUST/trusts", get(list).post(create))
        // tempest's trusts client lists with a trailing slash
        .route("/v3/OS-TRUST/trusts/", get(list).post(create))
        .route("/v3/OS-TRUST/trusts/{trust_id}", get(show).delete(delete))
        .route("/v3/OS-TRUST/trusts/{trust_id}/roles", get(list_roles))
        // HEAD is answered by the GET handler without its body
        .route("/v3/OS-TRUST/trusts/{trust_id}/roles/{role_id}", get(show_role))
}

/// Keystone's `[trust] max_redelegation_count` default.
const MAX_REDELEGATION_COUNT: i64 = 3;

const KNOWN: &[&str] = &[
    "id", "trustor_user_id", "trustee_user_id", "project_id", "impersonation", "expires_at", "remaining_uses",
    "roles", "roles_links", "allow_redelegation", "redelegation_count", "redelegated_trust_id", "links", "deleted_at",
];

fn forbidden_action(action: &str) -> ApiError {
    ApiError::forbidden(format!("You are not authorized to perform the requested action: {action}"))
}

fn roles_path(id: &str) -> String {
    format!("OS-TRUST/trusts/{id}/roles")
}

/// A trust as listed (no roles).
fn summary(state: &Identity, t: &Trust) -> Value {
    let mut v = json!({
        "id": t.id, "trustor_user_id": t.trustor_user_id, "trustee_user_id": t.trustee_user_id,
        "project_id": t.project_id, "impersonation": t.impersonation,
        "expires_at": t.expires_at.map(monostack_common::time::iso_micros),
        "remaining_uses": t.remaining_uses, "redelegated_trust_id": t.redelegated_trust_id,
        "redelegation_count": t.redelegation_count, "allow_redelegation": t.redelegation_count > 0,
        "deleted_at": null, "links": links(state, &format!("OS-TRUST/trusts/{}", t.id)),
    });
    merge_extra(&mut v, &t.extra);
    v
}

/// The delegated roles that still exist, as role views.
async fn role_views(state: &Identity, t: &Trust) -> ApiResult<Vec<Value>> {
    let mut out = Vec::with_capacity(t.role_ids.len());
    for id in &t.role_ids {
        if let Some(r) = store::roles::get(state, id).await? {
            out.push(super::roles::view(state, &r));
        }
    }
    Ok(out)
}

fn roles_links(state: &Identity, id: &str) -> Value {
    collection_links(state, &roles_path(id), None)
}

/// A trust with its roles.
async fn view(state: &Identity, t: &Trust) -> ApiResult<Value> {
    let mut v = summary(state, t);
    v["roles"] = json!(role_views(state, t).await?);
    v["roles_links"] = roles_links(state, &t.id);
    Ok(v)
}

fn target(t: &Trust) -> Value {
    json!({"target": {"trust": {"id": t.id, "trustor_user_id": t.trustor_user_id, "trustee_user_id": t.trustee_user_id, "project_id": t.project_id}}})
}

/// A trust Keystone still shows: not expired, uses left; else 404.
async fn must_get(state: &Identity, id: &str) -> ApiResult<Trust> {
    match store::trusts::get(state, id).await? {
        Some(t) if t.is_usable(now_micros()) => Ok(t),
        _ => Err(not_found("trust", id)),
    }
}

/// Application credential tokens may not read or manage trusts.
fn check_not_app_cred(caller: &Caller) -> ApiResult<()> {
    if caller.ctx().methods.iter().any(|m| m == "application_credential") {
        return Err(forbidden_action("Using method 'application_credential' is not allowed for managing trusts."));
    }
    Ok(())
}

/// An optional integer of at least `min` (null allowed), or a 400 naming the field.
fn opt_int(obj: &Map<String, Value>, key: &str, min: i64) -> ApiResult<Option<i64>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if n >= min => Ok(Some(n)),
            _ => Err(ApiError::bad_request(format!("Invalid input for field '{key}': must be an integer of at least {min} or null"))),
        },
    }
}

/// A role named in a create request: `{"id": ...}` or `{"name": ...}`.
enum RoleSpec {
    Id(String),
    Name(String),
}

fn parse_roles(obj: &Map<String, Value>) -> ApiResult<Vec<RoleSpec>> {
    let bad = || ApiError::bad_request("Invalid input for field 'roles': must be a list of objects each with exactly one of 'id' or 'name'");
    let list = match obj.get("roles") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(bad()),
    };
    list.iter()
        .map(|r| {
            let r = r.as_object().filter(|r| r.len() == 1).ok_or_else(bad)?;
            match (r.get("id"), r.get("name")) {
                (Some(Value::String(id)), None) if !id.is_empty() => Ok(RoleSpec::Id(id.clone())),
                (None, Some(Value::String(name))) if !name.is_empty() => Ok(RoleSpec::Name(name.clone())),
                _ => Err(bad()),
            }
        })
        .collect()
}

async fn create(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = object(&body, "trust")?;
    let trustor_user_id = req_str(obj, "trustor_user_id")?.to_string();
    let trustee_user_id = req_str(obj, "trustee_user_id")?.to_string();
    let impersonation = match obj.get("impersonation") {
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::bad_request("Invalid input for field 'impersonation': must be a boolean")),
        None => return Err(ApiError::bad_request("'impersonation' is a required property")),
    };
    let project_id = opt_str(obj, "project_id")?.filter(|p| !p.is_empty()).map(str::to_string);
    let expires_text = opt_str(obj, "expires_at")?.map(str::to_string);
    let remaining_uses = opt_int(obj, "remaining_uses", 1)?;
    let redelegation_count = opt_int(obj, "redelegation_count", 0)?;
    let allow_redelegation = match obj.get("allow_redelegation") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::bad_request("Invalid input for field 'allow_redelegation': must be a boolean or null")),
    };
    let role_specs = parse_roles(obj)?;

    let draft = Trust {
        id: store::new_id(),
        trustor_user_id,
        trustee_user_id,
        project_id,
        impersonation,
        expires_at: None,
        remaining_uses,
        redelegated_trust_id: None,
        redelegation_count: 0,
        extra: extra_of(obj, KNOWN),
        created_at: now_micros(),
        role_ids: Vec::new(),
    };
    enforce(&state, &caller, "identity:create_trust", &target(&draft))?;
    check_not_app_cred(&caller)?;
    if matches!(caller.0.payload.scope, Scope::Trust { .. }) {
        return Err(forbidden_action("Redelegation of a trust is not allowed."));
    }
    let mut trust = draft;
    if trust.project_id.is_some() && role_specs.is_empty() {
        return Err(forbidden_action("At least one role should be specified."));
    }
    if caller.ctx().user_id != trust.trustor_user_id {
        return Err(forbidden_action("The authenticated user should match the trustor."));
    }
    if store::users::get(&state, &trust.trustee_user_id).await?.is_none() {
        return Err(not_found("user", &trust.trustee_user_id));
    }
    let mut role_ids: Vec<String> = Vec::with_capacity(role_specs.len());
    for spec in &role_specs {
        let id = match spec {
            RoleSpec::Id(id) => id.clone(),
            RoleSpec::Name(name) => store::roles::get_by_name(&state, name, None).await?.ok_or_else(|| not_found("role", name))?.id,
        };
        if !role_ids.contains(&id) {
            role_ids.push(id);
        }
    }
    // Every delegated role must be held by the trustor on the project.
    let held = match &trust.project_id {
        Some(pid) => {
            let project = match store::projects::get(&state, pid).await? {
                Some(p) if !p.is_domain => p,
                _ => return Err(not_found("project", pid)),
            };
            state.project_role_ids(&trust.trustor_user_id, &project).await?
        }
        None => Vec::new(),
    };
    if let Some(missing) = role_ids.iter().find(|r| !held.contains(r)) {
        return Err(not_found("role", missing));
    }
    trust.role_ids = role_ids;
    if let Some(text) = &expires_text {
        let at = parse_iso(text).ok_or_else(|| {
            ApiError::bad_request("Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
        })?;
        if at <= now_micros() {
            return Err(ApiError::bad_request("The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."));
        }
        trust.expires_at = Some(at);
    }
    if allow_redelegation && redelegation_count != Some(0) {
        let count = redelegation_count.unwrap_or(MAX_REDELEGATION_COUNT);
        if count > MAX_REDELEGATION_COUNT {
            return Err(ApiError::forbidden(format!(
                "Requested redelegation depth of {count} is greater than allowed {MAX_REDELEGATION_COUNT}"
            )));
        }
        if trust.remaining_uses.is_some() {
            return Err(ApiError::bad_request("remaining_uses must not be set if redelegation is allowed"));
        }
        trust.redelegation_count = count;
    }
    // Keystone's unique (trustor, trustee, project, impersonation, expires_at).
    let duplicate = store::trusts::list(&state).await?.into_iter().any(|t| {
        t.trustor_user_id == trust.trustor_user_id
            && t.trustee_user_id == trust.trustee_user_id
            && t.project_id.is_some()
            && t.project_id == trust.project_id
            && t.impersonation == trust.impersonation
            && t.expires_at.is_some()
            && t.expires_at == trust.expires_at
    });
    if duplicate {
        return Err(ApiError::conflict("Conflict occurred attempting to store trust - Duplicate entry."));
    }
    store::trusts::insert(&state, &trust).await?;
    tracing::info!("created trust {} from {} to {}", trust.id, trust.trustor_user_id, trust.trustee_user_id);
    Ok(created(json!({"trust": view(&state, &trust).await?})))
}

async fn list(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    let q = from_uri(&uri);
    let trustor = q.get("trustor_user_id").filter(|v| !v.is_empty());
    let trustee = q.get("trustee_user_id").filter(|v| !v.is_empty());
    if let Some(id) = trustor {
        enforce(&state, &caller, "identity:list_trusts_for_trustor", &json!({"target": {"trust": {"trustor_user_id": id}}}))?;
    } else if let Some(id) = trustee {
        enforce(&state, &caller, "identity:list_trusts_for_trustee", &json!({"target": {"trust": {"trustee_user_id": id}}}))?;
    } else {
        enforce(&state, &caller, "identity:list_trusts", &json!({}))?;
    }
    check_not_app_cred(&caller)?;
    let trusts: Vec<Value> = store::trusts::list(&state)
        .await?
        .iter()
        .filter(|t| trustor.is_none_or(|id| id == t.trustor_user_id))
        .filter(|t| trustee.is_none_or(|id| id == t.trustee_user_id))
        .map(|t| summary(&state, t))
        .collect();
    Ok(ok(json!({"trusts": trusts, "links": collection_links(&state, "OS-TRUST/trusts", uri.query())})))
}

async fn show(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let trust = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:get_trust", &target(&trust))?;
    check_not_app_cred(&caller)?;
    Ok(ok(json!({"trust": view(&state, &trust).await?})))
}

async fn delete(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    // Expired or used-up trusts can still be deleted (Keystone would 404 and keep them).
    let trust = store::trusts::get(&state, &id).await?.ok_or_else(|| not_found("trust", &id))?;
    enforce(&state, &caller, "identity:delete_trust", &target(&trust))?;
    check_not_app_cred(&caller)?;
    delete_with_redelegations(&state, &trust.id).await?;
    tracing::info!("deleted trust {id}");
    Ok(no_content())
}

/// Deletes a trust, the trusts redelegated from it, and revokes their tokens.
async fn delete_with_redelegations(state: &Identity, id: &str) -> ApiResult<()> {
    let mut queue = vec![id.to_string()];
    let mut done = 0;
    while let Some(next) = queue.pop() {
        for t in store::trusts::list(state).await? {
            if t.redelegated_trust_id.as_deref() == Some(next.as_str()) {
                queue.push(t.id);
            }
        }
        store::trusts::delete(state, &next).await?;
        store::revocations::record(state, RevocationEvent { trust_id: Some(next), ..Default::default() }).await?;
        done += 1;
        if done > 1_000 {
            break;
        }
    }
    Ok(())
}

async fn list_roles(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let trust = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:list_roles_for_trust", &target(&trust))?;
    check_not_app_cred(&caller)?;
    Ok(ok(json!({"roles": role_views(&state, &trust).await?, "links": roles_links(&state, &trust.id)})))
}

async fn show_role(S(state): S<State>, caller: Caller, Path((id, role_id)): Path<(String, String)>) -> ApiResult<Response> {
    let trust = must_get(&state, &id).await?;
    enforce(&state, &caller, "identity:get_role_for_trust", &target(&trust))?;
    check_not_app_cred(&caller)?;
    if !trust.role_ids.contains(&role_id) {
        return Err(not_found("role", &role_id));
    }
    let role = super::roles::must_get(&state, &role_id).await?;
    Ok(ok(json!({"role": super::roles::view(&state, &role)})))
}
