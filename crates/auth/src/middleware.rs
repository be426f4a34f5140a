//! The token check every API but identity's own runs before its handlers (keystonemiddleware's
//! auth_token): validates `X-Auth-Token` with the service's [`TokenValidator`] and puts the
//! caller's [`AuthContext`] in the request extensions.

use crate::validator::{AuthError, SharedValidator};
use crate::AuthContext;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use monostack_common::ApiError;
use std::sync::Arc;

/// Middleware: rejects requests without a valid token (401), otherwise records the caller.
/// `www_authenticate` is the identity endpoint advertised in the 401's `WWW-Authenticate`.
pub async fn require_token(validator: SharedValidator, www_authenticate: Arc<str>, mut req: Request, next: Next) -> Response {
    let token = req.headers().get("x-auth-token").and_then(|v| v.to_str().ok()).map(str::to_string);
    let outcome = match token.as_deref() {
        Some(t) if !t.is_empty() => validator.validate(t).await,
        _ => Err(AuthError::Unauthorized("The request you have made requires authentication.".into())),
    };
    match outcome {
        Ok(ctx) => {
            let span = tracing::Span::current();
            span.record("user_id", ctx.user_id.as_str());
            if let Some(p) = &ctx.project_id {
                span.record("project_id", p.as_str());
            }
            req.extensions_mut().insert(ctx);
            next.run(req).await
        }
        Err(AuthError::Unauthorized(msg)) => {
            let mut resp = ApiError::unauthorized(msg).into_response();
            if let Ok(v) = format!("Keystone uri=\"{www_authenticate}\"").parse() {
                resp.headers_mut().insert("www-authenticate", v);
            }
            resp
        }
        Err(e @ AuthError::Unavailable(_)) => {
            tracing::error!("{e}");
            ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "Identity is unavailable; try again later.").into_response()
        }
    }
}

/// Handler extractor for the caller recorded by [`require_token`].
pub struct Authenticated(pub Arc<AuthContext>);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Arc<AuthContext>>()
            .cloned()
            .map(Authenticated)
            .ok_or_else(|| ApiError::unauthorized("The request you have made requires authentication."))
    }
}
