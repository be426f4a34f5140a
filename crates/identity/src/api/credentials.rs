//! `/v3/credentials`: secrets users keep with identity (ec2 access/secret pairs, certificates,
//! TOTP seeds…). Blobs are encrypted at rest (see `store::credentials`).

use super::body::{extra_of, merge_extra, object, opt_str, req_str};
use super::query::from_uri;
use super::{collection_links, created, enforce, links, no_content, not_found, ok, ApiResult, Caller, State};
use crate::store::{self, credentials::Credential};
use crate::Identity;
use axum::extract::{Path, State as S};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_common::json::Json;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/credentials", get(list).post(create))
        .route("/v3/credentials/{credential_id}", get(show).patch(update).delete(delete))
}

const KNOWN: &[&str] = &["id", "blob", "project_id", "type", "user_id", "links"];
/// Blob keys that bind an ec2 credential to a delegation; they may never change.
const FIXED_EC2_KEYS: &[&str] = &["trust_id", "app_cred_id", "access_token_id", "access_id"];

pub fn view(state: &Identity, c: &Credential) -> Value {
    let mut v = json!({
        "id": c.id, "user_id": c.user_id, "project_id": c.project_id, "type": c.cred_type,
        "blob": c.blob, "links": links(state, &format!("credentials/{}", c.id)),
    });
    merge_extra(&mut v, &c.extra);
    v
}

fn target(c: &Credential) -> Value {
    json!({"target": {"credential": {"id": c.id, "user_id": c.user_id, "project_id": c.project_id, "type": c.cred_type}}})
}

fn is_ec2(cred_type: &str) -> bool {
    cred_type.eq_ignore_ascii_case("ec2")
}

/// Keystone's id for an ec2 credential: the SHA-256 of its access key, in hex.
pub fn ec2_id(access: &str) -> String {
    Sha256::digest(access.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses an ec2 blob: a JSON object with a string `access`.
fn ec2_blob(blob: &str) -> ApiResult<Map<String, Value>> {
    let parsed: Value = serde_json::from_str(blob).map_err(|_| ApiError::bad_request("Invalid blob in credential"))?;
    let obj = match parsed {
        Value::Object(o) if !o.is_empty() => o,
        _ => return Err(ApiError::bad_request("Invalid input for field 'blob' of credential: must be a JSON object")),
    };
    match obj.get("access") {
        Some(Value::String(_)) => Ok(obj),
        _ => Err(ApiError::bad_request("Invalid input for field 'access' of credential blob: a string is required")),
    }
}

/// Tokens from an application credential act only within their project: a credential bound
/// to another project (or to none) is out of their reach.
fn check_delegation(caller: &Caller, c: &Credential) -> ApiResult<()> {
    let ctx = caller.ctx();
    if ctx.app_cred_id.is_some() && c.project_id != ctx.project_id {
        return Err(ApiError::forbidden(
            "You are not authorized to perform the requested action: Credential project does not match the project scope of the delegated token.",
        ));
    }
    Ok(())
}

fn restricted_app_cred(caller: &Caller) -> bool {
    caller.0.restricted
}

async fn create(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = object(&body, "credential")?;
    let blob = req_str(obj, "blob")?;
    let cred_type = req_str(obj, "type")?;
    let user_id = req_str(obj, "user_id")?;
    let project_id = opt_str(obj, "project_id")?.map(str::to_string);
    let mut cred = Credential {
        id: store::new_id(),
        user_id: user_id.to_string(),
        project_id,
        cred_type: cred_type.to_string(),
        blob: blob.to_string(),
        extra: extra_of(obj, KNOWN),
    };
    enforce(&state, &caller, "identity:create_credential", &target(&cred))?;
    if is_ec2(cred_type) {
        if restricted_app_cred(&caller) {
            return Err(ApiError::forbidden(
                "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional credentials.",
            ));
        }
        if cred.project_id.as_deref().is_none_or(str::is_empty) {
            return Err(ApiError::bad_request("Invalid input for field 'project_id' of credential: required for ec2 credentials"));
        }
    }
    check_delegation(&caller, &cred)?;
    if is_ec2(cred_type) {
        let mut parsed = ec2_blob(blob)?;
        cred.id = ec2_id(parsed.get("access").and_then(Value::as_str).unwrap_or_default());
        if let Some(app_cred_id) = &caller.ctx().app_cred_id {
            parsed.insert("app_cred_id".into(), json!(app_cred_id));
            cred.blob = Value::Object(parsed).to_string();
        }
    }
    if store::credentials::get(&state, &cred.id).await?.is_some() {
        return Err(ApiError::conflict("Conflict occurred attempting to store credential - Duplicate entry."));
    }
    store::credentials::insert(&state, &cred).await?;
    tracing::info!("created credential {} for user {}", cred.id, cred.user_id);
    Ok(created(json!({"credential": view(&state, &cred)})))
}

async fn list(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    let q = from_uri(&uri);
    let t = if caller.ctx().system_scope {
        json!({})
    } else {
        json!({"target": {"credential": {"user_id": caller.ctx().user_id}}})
    };
    enforce(&state, &caller, "identity:list_credentials", &t)?;
    let mut out = Vec::new();
    for c in store::credentials::list(&state).await? {
        if !(q.matches_text("user_id", Some(&c.user_id)) && q.matches_text("type", Some(&c.cred_type))) {
            continue;
        }
        // Only what the caller may read one by one: their own, unless they are an admin/reader.
        if enforce(&state, &caller, "identity:get_credential", &target(&c)).is_ok() && check_delegation(&caller, &c).is_ok() {
            out.push(view(&state, &c));
        }
    }
    Ok(ok(json!({"credentials": out, "links": collection_links(&state, "credentials", uri.query())})))
}

/// Loads a credential and checks `action` on it (an empty target when it does not exist, so
/// only those allowed to see any credential learn that it is missing).
async fn load(state: &Identity, caller: &Caller, action: &str, id: &str) -> ApiResult<Credential> {
    let cred = store::credentials::get(state, id).await?;
    let t = cred.as_ref().map(target).unwrap_or_else(|| json!({}));
    enforce(state, caller, action, &t)?;
    let cred = cred.ok_or_else(|| not_found("credential", id))?;
    check_delegation(caller, &cred)?;
    Ok(cred)
}

async fn show(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let cred = load(&state, &caller, "identity:get_credential", &id).await?;
    Ok(ok(json!({"credential": view(&state, &cred)})))
}

async fn update(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let current = load(&state, &caller, "identity:update_credential", &id).await?;
    let obj = object(&body, "credential")?;
    if obj.is_empty() {
        return Err(ApiError::bad_request("Invalid input for field 'credential': at least one attribute is required"));
    }
    if opt_str(obj, "id")?.is_some_and(|given| given != id) {
        return Err(ApiError::bad_request("Cannot change ID"));
    }
    let mut cred = current.clone();
    if obj.contains_key("blob") {
        cred.blob = req_str(obj, "blob")?.to_string();
    }
    if obj.contains_key("type") {
        cred.cred_type = req_str(obj, "type")?.to_string();
    }
    if obj.contains_key("user_id") {
        cred.user_id = req_str(obj, "user_id")?.to_string();
    }
    if obj.contains_key("project_id") {
        cred.project_id = opt_str(obj, "project_id")?.map(str::to_string);
    }
    for (k, v) in extra_of(obj, KNOWN) {
        cred.extra.insert(k, v);
    }
    if is_ec2(&current.cred_type) && obj.contains_key("blob") {
        let new_blob = ec2_blob(&cred.blob)?;
        let old_blob: Map<String, Value> = serde_json::from_str(&current.blob).unwrap_or_default();
        for key in FIXED_EC2_KEYS {
            if old_blob.get(*key) != new_blob.get(*key) {
                return Err(ApiError::bad_request(format!("{key} can not be updated for credential")));
            }
        }
    }
    if is_ec2(&cred.cred_type) {
        if cred.project_id.as_deref().is_none_or(str::is_empty) {
            return Err(ApiError::bad_request("Invalid input for field 'project_id' of credential: required for ec2 credentials"));
        }
        if !is_ec2(&current.cred_type) {
            ec2_blob(&cred.blob)?;
        }
    }
    // The owner or scope may not be moved somewhere the caller could not create it.
    enforce(&state, &caller, "identity:update_credential", &target(&cred))?;
    check_delegation(&caller, &cred)?;
    store::credentials::update(&state, &cred).await?;
    Ok(ok(json!({"credential": view(&state, &cred)})))
}

async fn delete(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    load(&state, &caller, "identity:delete_credential", &id).await?;
    store::credentials::delete(&state, &id).await?;
    tracing::info!("deleted credential {id}");
    Ok(no_content())
}
