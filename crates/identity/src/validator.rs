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

/// Unified limits read in-process from this identity service. Services check quotas on
/// every create and upload, so the limit tables are kept in memory until identity changes.
pub struct LocalLimits {
    identity: Arc<Identity>,
    tables: crate::gen_cache::GenCache<LimitTables>,
}

/// The catalog's services with the registered limits and limits, as loaded at one generation.
struct LimitTables {
    services: Vec<crate::store::catalog::Service>,
    registered: Vec<crate::store::limits::RegisteredLimit>,
    limits: Vec<crate::store::limits::Limit>,
}

impl LocalLimits {
    pub fn new(identity: Arc<Identity>) -> Self {
        LocalLimits { identity, tables: Default::default() }
    }

    async fn tables(&self) -> Result<Arc<LimitTables>, monostack_common::ApiError> {
        use crate::store::{catalog, limits};
        let state = &self.identity;
        self.tables
            .get_or_load(state.generation(), async {
                Ok(LimitTables {
                    services: catalog::list_services(state).await?,
                    registered: limits::list_registered(state).await?,
                    limits: limits::list_limits(state).await?,
                })
            })
            .await
    }
}

#[async_trait]
impl monostack_auth::limits::LimitSource for LocalLimits {
    async fn project_limits(&self, service_type: &str, project_id: &str) -> Result<std::collections::HashMap<String, i64>, AuthError> {
        let tables = self.tables().await.map_err(|e| AuthError::Unavailable(e.message))?;
        let service_ids: Vec<&str> = tables.services.iter().filter(|s| s.service_type == service_type).map(|s| s.id.as_str()).collect();
        let region = self.identity.config.default.region.as_str();
        let applies = |service_id: &str, region_id: Option<&str>| service_ids.contains(&service_id) && region_id.is_none_or(|r| r == region);
        let mut out = std::collections::HashMap::new();
        for reg in tables.registered.iter().filter(|r| applies(&r.service_id, r.region_id.as_deref())) {
            out.insert(reg.resource_name.clone(), reg.default_limit);
        }
        for lim in tables.limits.iter().filter(|l| l.project_id.as_deref() == Some(project_id) && applies(&l.service_id, l.region_id.as_deref())) {
            out.insert(lim.resource_name.clone(), lim.resource_limit);
        }
        Ok(out)
    }
}
