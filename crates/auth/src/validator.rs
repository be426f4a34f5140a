//! Token validation as services see it: a trait with an in-process implementation (identity
//! itself, for co-located services) and a remote one (over HTTP, cached), plus the axum
//! extractor handlers use.

use crate::context::AuthContext;
use async_trait::async_trait;
use std::sync::Arc;

#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// Missing, malformed, expired or revoked token.
    #[error("{0}")]
    Unauthorized(String),
    /// Identity could not be reached or answered unexpectedly.
    #[error("token validation unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait TokenValidator: Send + Sync + 'static {
    /// Validates `token`; expired or revoked tokens are `Unauthorized`.
    async fn validate(&self, token: &str) -> Result<Arc<AuthContext>, AuthError>;
}

pub type SharedValidator = Arc<dyn TokenValidator>;
