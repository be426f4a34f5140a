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

/// Unified limits read in-process from this identity service.
pub struct LocalLimits(pub Arc<Identity>);

#[async_trait]
impl monostack_auth::limits::LimitSource for LocalLimits {
    async fn project_limits(&self, service_type: &str, project_id: &str) -> Result<std::collections::HashMap<String, i64>, AuthError> {
        use crate::store::{catalog, limits};
        let unavailable = |e: monostack_common::ApiError| AuthError::Unavailable(e.message);
        let services = catalog::list_services(&self.0).await.map_err(unavailable)?;
        let service_ids: Vec<&str> = services.iter().filter(|s| s.service_type == service_type).map(|s| s.id.as_str()).collect();
        let region = self.0.config.default.region.as_str();
        let applies = |service_id: &str, region_id: Option<&str>| service_ids.contains(&service_id) && region_id.is_none_or(|r| r == region);
        let mut out = std::collections::HashMap::new();
        for reg in limits::list_registered(&self.0).await.map_err(unavailable)? {
            if applies(&reg.service_id, reg.region_id.as_deref()) {
                out.insert(reg.resource_name.clone(), reg.default_limit);
            }
        }
        for lim in limits::list_limits(&self.0).await.map_err(unavailable)? {
            if lim.project_id.as_deref() == Some(project_id) && applies(&lim.service_id, lim.region_id.as_deref()) {
                out.insert(lim.resource_name.clone(), lim.resource_limit);
            }
        }
        Ok(out)
    }
}
