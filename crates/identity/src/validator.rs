//! Token validation for services co-located with identity (no HTTP hop), and the bridge that
//! announces revocations on the bus to services that validate remotely.

use crate::token::TokenError;
use crate::Identity;
use async_trait::async_trait;
use monostack_auth::remote::REVOCATION_TOPIC;
use monostack_auth::{AuthContext, AuthError, TokenValidator};
use std::sync::Arc;

/// Validates tokens in-process against this identity service.
pub struct LocalValidator(pub Arc<Identity>);

#[async_trait]
impl TokenValidator for LocalValidator {
    async fn validate(&self, token: &str) -> Result<Arc<AuthContext>, AuthError> {
        match self.0.validate_token(token, false).await {
            Ok(v) => Ok(v.context.clone()),
            Err(TokenError::Invalid) => Err(AuthError::Unauthorized("The request you have made requires authentication.".into())),
            Err(TokenError::Internal(e)) => Err(AuthError::Unavailable(e.to_string())),
        }
    }
}

/// Forwards every revocation to the bus fanout topic, until the identity service is dropped.
pub fn publish_revocations(identity: &Arc<Identity>, bus: Arc<dyn monostack_bus::Bus>) {
    let mut revoked = identity.subscribe_revocations();
    tokio::spawn(async move {
        // A lagged receiver still means "something was revoked": announce once for the lot.
        while !matches!(revoked.recv().await, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
            let msg = monostack_bus::Message::new("tokens_revoked", serde_json::json!({}));
            if let Err(e) = bus.fanout(REVOCATION_TOPIC, msg).await {
                tracing::warn!("could not announce a token revocation: {e}");
            }
        }
    });
}
