//! The Compute v2.1 REST API: one file per resource, each exposing `routes()`. Every request
//! is served at a negotiated microversion ([`Microversion`]); handlers branch on it where Nova's
//! behaviour changed.

pub mod aggregates;
pub mod availability_zones;
pub mod caller;
pub mod extensions;
pub mod flavor_access;
pub mod flavor_extra_specs;
pub mod flavors;
pub mod hypervisors;
pub mod input;
pub mod instance_actions;
pub mod ips;
pub mod keypairs;
pub mod limits;
pub mod microversion;
pub mod migrations;
pub mod query;
pub mod quota_classes;
pub mod quota_sets;
pub mod remote_consoles;
pub mod server_external_events;
pub mod server_groups;
pub mod server_metadata;
pub mod server_tags;
pub mod servers;
pub mod services;
pub mod tenant_usage;
pub mod validation;
pub mod versions;
pub mod view;

use crate::ComputeService;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use monostack_auth::middleware::require_token;
use monostack_auth::{AuthContext, SharedValidator};
use monostack_common::ApiError;
use serde_json::Value;
use std::sync::Arc;

pub use microversion::Microversion;

pub type State = Arc<ComputeService>;
pub type ApiResult<T> = Result<T, ApiError>;

/// The whole compute API: version discovery without a token, `/v2.1` behind token validation
/// and microversion negotiation. `/v2.1/{project_id}/…` (the pre-2.18 URL form) is served too.
pub fn router(state: State, validator: SharedValidator, identity_url: &str) -> Router {
    let www: Arc<str> = Arc::from(identity_url);
    let v21 = Router::new()
        .merge(flavors::routes())
        .merge(flavor_access::routes())
        .merge(flavor_extra_specs::routes())
        .merge(keypairs::routes())
        .merge(quota_sets::routes())
        .merge(quota_classes::routes())
        .merge(limits::routes())
        .merge(availability_zones::routes())
        .merge(aggregates::routes())
        .merge(services::routes())
        .merge(hypervisors::routes())
        .merge(server_groups::routes())
        .merge(tenant_usage::routes())
        .merge(migrations::routes())
        .merge(extensions::routes())
        .merge(servers::routes())
        .merge(server_metadata::routes())
        .merge(server_tags::routes())
        .merge(ips::routes())
        .merge(instance_actions::routes())
        .merge(server_external_events::routes())
        .merge(remote_consoles::routes())
        .layer(axum::middleware::from_fn(microversion::negotiate))
        .layer(axum::middleware::from_fn(move |req, next| require_token(validator.clone(), www.clone(), req, next)))
        .with_state(state.clone());
    let app = Router::new().merge(versions::routes()).with_state(state).merge(v21);
    Router::new().fallback_service(app.layer(axum::middleware::from_fn(strip_project_id)))
}

/// Rewrites `/v2.1/<project id>/rest` to `/v2.1/rest`: clients configured with Nova's older
/// endpoint form put the project id in every URL.
async fn strip_project_id(mut req: Request, next: Next) -> Response {
    if let Some(rewritten) = without_project_id(req.uri().path()) {
        let query = req.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
        if let Ok(uri) = format!("{rewritten}{query}").parse() {
            *req.uri_mut() = uri;
        }
    }
    next.run(req).await
}

fn without_project_id(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v2.1/")?;
    let (first, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let is_project_id = first.len() == 32 && first.bytes().all(|b| b.is_ascii_hexdigit());
    is_project_id.then(|| if tail.is_empty() { "/v2.1".to_string() } else { format!("/v2.1/{tail}") })
}

impl ComputeService {
    /// Whether the caller is an admin (Nova's `context_is_admin`).
    pub fn is_admin(&self, ctx: &AuthContext) -> bool {
        self.policy.enforce("context_is_admin", &serde_json::json!({}), ctx.policy_creds())
    }

    /// 403 unless policy allows `action` on `target`, with Nova's message.
    pub fn authorize(&self, action: &str, target: &Value, ctx: &AuthContext) -> ApiResult<()> {
        if self.policy.enforce(action, target, ctx.policy_creds()) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("Policy doesn't allow {action} to be performed.")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_project_id;

    #[test]
    fn project_id_segment_is_stripped() {
        let p = "0123456789abcdef0123456789abcdef";
        assert_eq!(without_project_id(&format!("/v2.1/{p}/servers/detail")).as_deref(), Some("/v2.1/servers/detail"));
        assert_eq!(without_project_id(&format!("/v2.1/{p}")).as_deref(), Some("/v2.1"));
        assert_eq!(without_project_id("/v2.1/servers/detail"), None);
        assert_eq!(without_project_id("/v2.1/flavors"), None);
    }
}
