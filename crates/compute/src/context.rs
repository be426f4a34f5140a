//! The request context every layer below the handlers receives: who asks (the validated token),
//! under which request id, and the caller's token for calls to other services on their behalf
//! (the image service is asked with the user's own token, as Nova does).

use monostack_auth::AuthContext;
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub auth: Arc<AuthContext>,
    /// `req-<uuid>`, also recorded on instance actions and carried by bus messages.
    pub request_id: String,
    /// The caller's X-Auth-Token.
    pub token: String,
    /// Nova's `context.is_admin` (the `context_is_admin` rule), resolved once.
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

    /// The context a bus message carries: request id, user, project and roles, so consumers log
    /// under the caller's request id and can record actions and events for it.
    pub fn bus_context(&self) -> monostack_bus::Context {
        let mut ctx = monostack_bus::Context::with_request_id(self.request_id.clone());
        ctx.user_id = Some(self.user_id().to_string());
        ctx.project_id = self.auth.project_id.clone();
        ctx.extra.insert("roles".into(), json!(self.auth.role_names()));
        ctx.extra.insert("is_admin".into(), json!(self.is_admin));
        ctx.extra.insert("user_name".into(), json!(self.auth.user_name));
        ctx.extra.insert("project_name".into(), json!(self.auth.project_name));
        // Agents reach the image service on the caller's behalf with it (snapshots, shelving),
        // as Nova's RPC context carries the user's token.
        ctx.extra.insert("auth_token".into(), json!(self.token));
        ctx
    }
}
