//! The request context every layer below the handlers receives: who asks, under which request
//! id, and whether Cinder would call them an admin. It travels in bus messages, so the
//! scheduler's and the managers' log lines carry the caller's request id.

use monostack_auth::AuthContext;
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub auth: Arc<AuthContext>,
    /// `req-<uuid>`, carried by bus messages.
    pub request_id: String,
    /// The caller's X-Auth-Token (for calls to other services on the caller's behalf).
    pub token: String,
    /// Cinder's `context.is_admin` (the `context_is_admin` rule), resolved once.
    pub is_admin: bool,
}

impl RequestContext {
    /// The project the caller is scoped to ("" for unscoped or system tokens).
    pub fn project_id(&self) -> &str {
        self.auth.project_id.as_deref().unwrap_or("")
    }

    pub fn user_id(&self) -> &str {
        &self.auth.user_id
    }

    /// The oslo.policy credentials, with Cinder's `is_admin` that its rules test.
    pub fn policy_creds(&self) -> serde_json::Value {
        let mut creds = self.auth.policy_creds().clone();
        creds["is_admin"] = json!(self.is_admin);
        creds
    }

    /// The context a bus message carries.
    pub fn bus_context(&self) -> monostack_bus::Context {
        let mut ctx = monostack_bus::Context::with_request_id(self.request_id.clone());
        ctx.user_id = Some(self.user_id().to_string());
        ctx.project_id = self.auth.project_id.clone();
        ctx.extra
            .insert("roles".into(), json!(self.auth.role_names()));
        ctx.extra.insert("is_admin".into(), json!(self.is_admin));
        ctx.extra.insert("auth_token".into(), json!(self.token));
        ctx
    }
}

/// A context for work nobody asked for (periodic tasks, start-up): a fresh request id.
pub fn internal_context() -> monostack_bus::Context {
    monostack_bus::Context::with_request_id(format!("req-{}", uuid::Uuid::new_v4()))
}

/// A tracing span carrying a bus message's request identity, so every log line of its
/// handling reads `[req-… user project]` as in the API that started it.
pub fn request_span(context: &monostack_bus::Context) -> tracing::Span {
    tracing::info_span!(
        "request",
        request_id = context.request_id.as_deref().unwrap_or("-"),
        user_id = context.user_id.as_deref().unwrap_or("-"),
        project_id = context.project_id.as_deref().unwrap_or("-"),
    )
}
