//! The auth request as a whole: run every listed method, check they agree on the user,
//! resolve the scope, and build the payload.

use super::{methods, scope};
use crate::token::payload::{new_audit_id, Payload, Scope};
use crate::Identity;
use monostack_common::ApiError;
use serde_json::Value;

pub const AUTH_FAILED: &str = "The request you have made requires authentication.";

/// What one method established.
pub struct MethodOutcome {
    pub user_id: String,
    /// For the token method: the original token's payload (expiry and audit chain carry over).
    pub parent: Option<Payload>,
    /// For application credentials: the scope is fixed by the credential.
    pub fixed_scope: Option<Scope>,
}

/// Authenticates `body` (`{"auth": {...}}`) and returns the payload of the token to issue.
pub async fn authenticate(state: &Identity, body: &Value) -> Result<Payload, ApiError> {
    let auth = body
        .get("auth")
        .filter(|a| a.is_object())
        .ok_or_else(|| ApiError::bad_request("'auth' is a required property"))?;
    let identity = auth
        .get("identity")
        .filter(|a| a.is_object())
        .ok_or_else(|| ApiError::bad_request("'identity' is a required property"))?;
    let names = method_names(identity)?;
    let mut outcomes = Vec::with_capacity(names.len());
    for name in &names {
        let section = identity
            .get(name.as_str())
            .ok_or_else(|| ApiError::bad_request(format!("'{name}' is a required property of identity")))?;
        let outcome = match name.as_str() {
            "password" => methods::password(state, section).await?,
            "token" => methods::token(state, section).await?,
            "application_credential" => methods::application_credential(state, section).await?,
            _ => return Err(ApiError::unauthorized("Attempted to authenticate with an unsupported method.")),
        };
        outcomes.push(outcome);
    }
    let user_id = outcomes[0].user_id.clone();
    if outcomes.iter().any(|o| o.user_id != user_id) {
        return Err(ApiError::unauthorized(AUTH_FAILED));
    }
    let parent = outcomes.iter().find_map(|o| o.parent.clone());
    let fixed_scope = outcomes.iter().find_map(|o| o.fixed_scope.clone());
    let requested = scope::parse(state, auth.get("scope")).await?;
    let scope = match (fixed_scope, requested) {
        (Some(_), Some(_)) => {
            return Err(ApiError::unauthorized("Application credentials cannot request a scope."))
        }
        (Some(fixed), None) => fixed,
        (None, Some(requested)) => requested,
        (None, None) => scope::default_scope(state, &user_id).await?,
    };
    if let Some(p) = &parent {
        if matches!(p.scope, Scope::ApplicationCredential { .. }) {
            return Err(ApiError::forbidden("Application credential tokens cannot be used to obtain another token."));
        }
        if matches!(p.scope, Scope::Trust { .. }) {
            return Err(ApiError::forbidden(
                "You are not authorized to perform the requested action: Using trust-scoped token to create another token. Create a new trust-scoped token instead.",
            ));
        }
    }
    // A trust is consumed by its trustee only, and its tokens expire with it.
    let trust_expires_at = match &scope {
        Scope::Trust { trust_id } => {
            let trust = scope::usable_trust(state, trust_id).await?;
            if trust.trustee_user_id != user_id {
                return Err(ApiError::forbidden("User is not a trustee."));
            }
            trust.expires_at
        }
        _ => None,
    };
    let now = monostack_common::time::now_micros();
    let mut method_list = names.clone();
    let (expires_at, audit_ids) = match &parent {
        Some(p) => {
            for m in &p.methods {
                if !method_list.contains(m) {
                    method_list.push(m.clone());
                }
            }
            let chain = p.audit_ids.last().cloned().unwrap_or_default();
            (p.expires_at, vec![new_audit_id(), chain])
        }
        None => (now + state.config.identity.token_expiration * 1_000_000, vec![new_audit_id()]),
    };
    let expires_at = trust_expires_at.map_or(expires_at, |t| t.min(expires_at));
    Ok(Payload { user_id, methods: method_list, scope, expires_at, issued_at: now, audit_ids })
}

fn method_names(identity: &Value) -> Result<Vec<String>, ApiError> {
    let methods = identity
        .get("methods")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("'methods' is a required property of identity and must be a list"))?;
    if methods.is_empty() {
        return Err(ApiError::bad_request("'methods' must name at least one method"));
    }
    let mut names = Vec::with_capacity(methods.len());
    for m in methods {
        let name = m.as_str().ok_or_else(|| ApiError::bad_request("'methods' must be a list of strings"))?;
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    Ok(names)
}
