//! The [`Caller`] extractor of volume handlers: the validated token's caller as a
//! [`RequestContext`].

use super::State;
use crate::context::RequestContext;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use monostack_auth::AuthContext;
use monostack_common::request_id::RequestId;
use monostack_common::ApiError;
use std::sync::Arc;

/// The caller of a volume request.
pub struct Caller(pub RequestContext);

impl FromRequestParts<State> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Self, Self::Rejection> {
        let auth = parts
            .extensions
            .get::<Arc<AuthContext>>()
            .cloned()
            .ok_or_else(|| {
                ApiError::unauthorized("The request you have made requires authentication.")
            })?;
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_else(monostack_common::request_id::generate);
        let token = parts
            .headers
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let is_admin = state.policy.enforce(
            "context_is_admin",
            &serde_json::json!({}),
            auth.policy_creds(),
        );
        Ok(Caller(RequestContext {
            auth,
            request_id,
            token,
            is_admin,
        }))
    }
}
