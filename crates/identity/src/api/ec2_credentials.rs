//! `/v3/users/{user_id}/credentials/OS-EC2`: ec2 access/secret pairs for a user on a project.
//! They are ordinary credentials of type `ec2` (blob `{"access","secret","trust_id"}`, id the
//! SHA-256 of the access key, encrypted at rest), addressed here by their access key.

use super::body::opt_str;
use super::credentials::ec2_id;
use super::{collection_links, created, enforce, no_content, not_found, ok, ApiResult, Caller, State};
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

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/users/{user_id}/credentials/OS-EC2", get(list).post(create))
        .route("/v3/users/{user_id}/credentials/OS-EC2/{credential_id}", get(show).delete(delete))
}

const EC2: &str = "ec2";

/// The OS-EC2 view of a credential: `tenant_id` for the project, the blob's keys inline.
pub fn view(state: &Identity, c: &Credential) -> Value {
    let blob: Map<String, Value> = serde_json::from_str(&c.blob).unwrap_or_default();
    let access = blob.get("access").cloned().unwrap_or(Value::Null);
    let self_link = format!(
        "{}/v3/users/{}/credentials/OS-EC2/{}",
        state.public_url,
        c.user_id,
        access.as_str().unwrap_or_default()
    );
    json!({
        "user_id": c.user_id, "tenant_id": c.project_id,
        "access": access,
        "secret": blob.get("secret").cloned().unwrap_or(Value::Null),
        "trust_id": blob.get("trust_id").cloned().unwrap_or(Value::Null),
        "links": {"self": self_link},
    })
}

/// The policy target: the path's user at the top (for `rule:owner`) and the credential's owner.
fn target(path_user_id: &str, credential_user_id: &str) -> Value {
    json!({"user_id": path_user_id, "target": {"credential": {"user_id": credential_user_id}}})
}

/// Delegated tokens (from an application credential) act only within their project.
fn check_delegation(caller: &Caller, project_id: Option<&str>) -> ApiResult<()> {
    let ctx = caller.ctx();
    if ctx.app_cred_id.is_some() && project_id != ctx.project_id.as_deref() {
        return Err(ApiError::forbidden(
            "You are not authorized to perform the requested action: EC2 credential project does not match the project scope of the delegated token.",
        ));
    }
    Ok(())
}

async fn must_get_user(state: &Identity, user_id: &str) -> ApiResult<()> {
    match store::users::get(state, user_id).await? {
        Some(_) => Ok(()),
        None => Err(not_found("user", user_id)),
    }
}

/// Whether the user holds any role on the project (directly, via groups, inherited or implied).
async fn has_role_on(state: &Identity, user_id: &str, project: &store::projects::Project) -> ApiResult<bool> {
    let mut inheriting: Vec<String> = store::projects::ancestors(state, project).await?.into_iter().map(|p| p.id).collect();
    inheriting.push(project.domain_id.clone());
    Ok(!state.effective_role_ids(user_id, std::slice::from_ref(&project.id), &inheriting).await?.is_empty())
}

async fn create(S(state): S<State>, caller: Caller, Path(user_id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:ec2_create_credential", &target(&user_id, &user_id))?;
    if caller.0.restricted {
        return Err(ApiError::forbidden(
            "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional credentials.",
        ));
    }
    let obj = body.as_object().ok_or_else(|| ApiError::bad_request("The request body must be an object"))?;
    let tenant_id = opt_str(obj, "tenant_id")?
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request("'tenant_id' is a required property"))?
        .to_string();
    must_get_user(&state, &user_id).await?;
    let project = match store::projects::get(&state, &tenant_id).await? {
        Some(p) if !p.is_domain => p,
        _ => return Err(not_found("project", &tenant_id)),
    };
    check_delegation(&caller, Some(&tenant_id))?;
    if !has_role_on(&state, &user_id, &project).await? {
        return Err(ApiError::forbidden(format!(
            "You are not authorized to perform the requested action: user {user_id} has no role on project {tenant_id}."
        )));
    }
    let access = store::new_id();
    let blob = json!({"access": access, "secret": store::new_id(), "trust_id": null});
    let cred = Credential {
        id: ec2_id(&access),
        user_id: user_id.clone(),
        project_id: Some(tenant_id),
        cred_type: EC2.into(),
        blob: blob.to_string(),
        extra: Map::new(),
    };
    store::credentials::insert(&state, &cred).await?;
    tracing::info!("created ec2 credential {} for user {user_id}", cred.id);
    Ok(created(json!({"credential": view(&state, &cred)})))
}

async fn list(S(state): S<State>, caller: Caller, Path(user_id): Path<String>, uri: Uri) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:ec2_list_credentials", &target(&user_id, &user_id))?;
    must_get_user(&state, &user_id).await?;
    let credentials: Vec<Value> = store::credentials::list_ec2_for_user(&state, &user_id)
        .await?
        .iter()
        .filter(|c| check_delegation(&caller, c.project_id.as_deref()).is_ok())
        .map(|c| view(&state, c))
        .collect();
    let path = format!("users/{user_id}/credentials/OS-EC2");
    Ok(ok(json!({"credentials": credentials, "links": collection_links(&state, &path, uri.query())})))
}

/// Loads the user's ec2 credential by access key and checks `action` on it. The policy sees the
/// credential's real owner (or the path's user when there is none), so nobody learns whether
/// another user's access key exists.
async fn load(state: &Identity, caller: &Caller, action: &str, user_id: &str, access: &str) -> ApiResult<Credential> {
    let cred = store::credentials::get(state, &ec2_id(access)).await?;
    let owner = cred.as_ref().map_or(user_id, |c| c.user_id.as_str());
    enforce(state, caller, action, &target(user_id, owner))?;
    must_get_user(state, user_id).await?;
    let cred = match cred {
        Some(c) if c.user_id == user_id => c,
        _ => return Err(not_found("credential", access)),
    };
    if !cred.cred_type.eq_ignore_ascii_case(EC2) {
        return Err(ApiError::unauthorized("EC2 access key not found."));
    }
    check_delegation(caller, cred.project_id.as_deref())?;
    Ok(cred)
}

async fn show(S(state): S<State>, caller: Caller, Path((user_id, access)): Path<(String, String)>) -> ApiResult<Response> {
    let cred = load(&state, &caller, "identity:ec2_get_credential", &user_id, &access).await?;
    Ok(ok(json!({"credential": view(&state, &cred)})))
}

async fn delete(S(state): S<State>, caller: Caller, Path((user_id, access)): Path<(String, String)>) -> ApiResult<Response> {
    let cred = load(&state, &caller, "identity:ec2_delete_credential", &user_id, &access).await?;
    store::credentials::delete(&state, &cred.id).await?;
    tracing::info!("deleted ec2 credential {} of user {user_id}", cred.id);
    Ok(no_content())
}
