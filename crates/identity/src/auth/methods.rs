//! The authentication methods. Every failure that could tell an attacker whether a user
//! exists answers with the same 401 message.

use super::request::{MethodOutcome, AUTH_FAILED};
use crate::store::{self, users::User};
use crate::token::payload::Scope;
use crate::token::TokenError;
use crate::Identity;
use monostack_common::ApiError;
use serde_json::Value;

fn fail() -> ApiError {
    ApiError::unauthorized(AUTH_FAILED)
}

fn text<'a>(v: &'a Value, key: &str, within: &str) -> Result<&'a str, ApiError> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request(format!("'{key}' is a required string property of {within}")))
}

/// Finds the user named by `{"id"}` or `{"name", "domain": {"id"|"name"}}`.
pub async fn find_user(state: &Identity, user: &Value) -> Result<Option<User>, ApiError> {
    if !user.is_object() {
        return Err(ApiError::bad_request("'user' must be an object"));
    }
    if let Some(id) = user.get("id") {
        let id = id.as_str().ok_or_else(|| ApiError::bad_request("user 'id' must be a string"))?;
        return store::users::get(state, id).await;
    }
    let name = text(user, "name", "user")?;
    let domain = user
        .get("domain")
        .ok_or_else(|| ApiError::bad_request("'domain' is required when a user is named"))?;
    let Some(domain) = crate::auth::scope::find_domain(state, domain).await? else {
        return Ok(None);
    };
    store::users::get_by_name(state, &domain.id, name).await
}

/// The user exists, is enabled, and so is their domain.
async fn usable(state: &Identity, user: Option<User>) -> Result<User, ApiError> {
    let user = user.ok_or_else(fail)?;
    if !user.enabled {
        return Err(fail());
    }
    match store::projects::get(state, &user.domain_id).await? {
        Some(d) if d.enabled => Ok(user),
        _ => Err(fail()),
    }
}

pub async fn password(state: &Identity, section: &Value) -> Result<MethodOutcome, ApiError> {
    let user_spec = section.get("user").ok_or_else(|| ApiError::bad_request("'user' is a required property of password"))?;
    let password = text(user_spec, "password", "user")?;
    let user = find_user(state, user_spec).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    // Verify even for unknown users so timing does not reveal which users exist.
    let verified = match &hash {
        Some(h) => store::users::verify_password(password, h).await,
        None => {
            let _ = store::users::hash_password(state, password).await;
            false
        }
    };
    if !verified {
        return Err(fail());
    }
    let user = usable(state, user).await?;
    if user.password_expires_at.is_some_and(|e| e <= monostack_common::time::now_micros())
        && user.options.get("ignore_password_expiry") != Some(&Value::Bool(true))
    {
        return Err(ApiError::unauthorized("The password is expired and needs to be changed."));
    }
    Ok(MethodOutcome { user_id: user.id, parent: None, fixed_scope: None })
}

pub async fn token(state: &Identity, section: &Value) -> Result<MethodOutcome, ApiError> {
    let id = text(section, "id", "token")?;
    let validated = state.validate_token(id, false).await.map_err(|e| match e {
        TokenError::Invalid => fail(),
        TokenError::Internal(e) => e,
    })?;
    Ok(MethodOutcome {
        user_id: validated.payload.user_id.clone(),
        parent: Some(validated.payload.clone()),
        fixed_scope: None,
    })
}

pub async fn application_credential(state: &Identity, section: &Value) -> Result<MethodOutcome, ApiError> {
    let secret = text(section, "secret", "application_credential")?;
    let cred = if let Some(id) = section.get("id") {
        let id = id.as_str().ok_or_else(|| ApiError::bad_request("application credential 'id' must be a string"))?;
        store::app_creds::get(state, id).await?
    } else {
        let name = text(section, "name", "application_credential")?;
        let user_spec = section
            .get("user")
            .ok_or_else(|| ApiError::bad_request("'user' is required when an application credential is named"))?;
        match find_user(state, user_spec).await? {
            Some(u) => store::app_creds::get_by_name(state, &u.id, name).await?,
            None => None,
        }
    };
    let cred = cred.ok_or_else(fail)?;
    if !store::users::verify_password(secret, &cred.secret_hash).await {
        return Err(fail());
    }
    if cred.expires_at.is_some_and(|e| e <= monostack_common::time::now_micros()) {
        return Err(fail());
    }
    let user = usable(state, store::users::get(state, &cred.user_id).await?).await?;
    let scope = match (&cred.project_id, &cred.system_scope) {
        (Some(project_id), _) => Scope::ApplicationCredential { project_id: project_id.clone(), app_cred_id: cred.id.clone() },
        (None, Some(_)) => Scope::System,
        (None, None) => return Err(fail()),
    };
    Ok(MethodOutcome { user_id: user.id, parent: None, fixed_scope: Some(scope) })
}
