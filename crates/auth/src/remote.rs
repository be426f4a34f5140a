//! Remote token validation, as keystonemiddleware does it for services that do not run beside
//! identity: the service authenticates with its own user, validates callers' tokens with
//! `GET /v3/auth/tokens`, and caches the answers for `token_cache_time`. Revocations are pushed
//! on the bus (fanout topic [`REVOCATION_TOPIC`]) and flush the cache at once.

use crate::context::AuthContext;
use crate::validator::{AuthError, TokenValidator};
use async_trait::async_trait;
use dashmap::DashMap;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Fanout topic on which identity announces that tokens were revoked.
pub const REVOCATION_TOPIC: &str = "identity_revocations";

/// The service user a remote validator authenticates as.
#[derive(Debug, Clone)]
pub struct ServiceCredentials {
    pub username: String,
    pub password: String,
    pub project_name: String,
    pub domain_id: String,
}

pub struct RemoteValidator {
    client: reqwest::Client,
    /// Identity endpoint ending in `/v3`.
    auth_url: String,
    credentials: ServiceCredentials,
    ttl: Duration,
    service_token: tokio::sync::Mutex<Option<String>>,
    cache: DashMap<String, (Instant, Arc<AuthContext>)>,
}

const CACHE_LIMIT: usize = 100_000;

impl RemoteValidator {
    pub fn new(auth_url: &str, credentials: ServiceCredentials, ttl: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        RemoteValidator {
            client,
            auth_url: auth_url.trim_end_matches('/').to_string(),
            credentials,
            ttl,
            service_token: tokio::sync::Mutex::new(None),
            cache: DashMap::new(),
        }
    }

    /// Forgets every cached validation (called when identity announces a revocation).
    pub fn invalidate_all(&self) {
        self.cache.clear();
    }

    /// Flushes the cache whenever a revocation is announced on `bus`.
    pub async fn follow_revocations(self: &Arc<Self>, bus: &dyn monostack_bus::Bus, server: &str) -> Result<(), monostack_bus::BusError> {
        let mut listener = bus.listen(REVOCATION_TOPIC, server).await?;
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            while listener.recv().await.is_some() {
                match me.upgrade() {
                    Some(v) => v.invalidate_all(),
                    None => break,
                }
            }
        });
        Ok(())
    }

    async fn service_token(&self, refresh: bool) -> Result<String, AuthError> {
        let mut guard = self.service_token.lock().await;
        if let (Some(t), false) = (guard.as_ref(), refresh) {
            return Ok(t.clone());
        }
        let c = &self.credentials;
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": c.username, "domain": {"id": c.domain_id}, "password": c.password}}},
            "scope": {"project": {"name": c.project_name, "domain": {"id": c.domain_id}}}}});
        let resp = self
            .client
            .post(format!("{}/auth/tokens?nocatalog", self.auth_url))
            .json(&body)
            .send()
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(AuthError::Unavailable(format!("service authentication failed: {}", resp.status())));
        }
        let token = resp
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| AuthError::Unavailable("identity returned no token".into()))?
            .to_string();
        *guard = Some(token.clone());
        Ok(token)
    }

    async fn fetch(&self, token: &str, service_token: &str) -> Result<reqwest::Response, AuthError> {
        self.client
            .get(format!("{}/auth/tokens?nocatalog", self.auth_url))
            .header("x-auth-token", service_token)
            .header("x-subject-token", token)
            .send()
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))
    }
}

#[async_trait]
impl TokenValidator for RemoteValidator {
    async fn validate(&self, token: &str) -> Result<Arc<AuthContext>, AuthError> {
        let now_micros = chrono::Utc::now().timestamp_micros();
        if let Some(hit) = self.cache.get(token) {
            let (at, ctx) = hit.value();
            if at.elapsed() < self.ttl && ctx.expires_at > now_micros {
                return Ok(ctx.clone());
            }
        }
        let mut resp = self.fetch(token, &self.service_token(false).await?).await?;
        if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
            // Our own token expired or was revoked: authenticate again once.
            resp = self.fetch(token, &self.service_token(true).await?).await?;
        }
        match resp.status().as_u16() {
            200 => {}
            404 | 401 => return Err(AuthError::Unauthorized("The request you have made requires authentication.".into())),
            s => return Err(AuthError::Unavailable(format!("identity answered {s}"))),
        }
        let body: serde_json::Value = resp.json().await.map_err(|e| AuthError::Unavailable(e.to_string()))?;
        let ctx = Arc::new(
            AuthContext::from_token_body(&body).ok_or_else(|| AuthError::Unavailable("malformed token body".into()))?,
        );
        if self.cache.len() >= CACHE_LIMIT {
            self.cache.clear();
        }
        self.cache.insert(token.to_string(), (Instant::now(), ctx.clone()));
        Ok(ctx)
    }
}
