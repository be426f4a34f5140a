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
pub mod hosts;
pub mod hypervisors;
pub mod image_metadata;
pub mod images;
pub mod input;
pub mod interfaces;
pub mod volume_attachments;
pub mod volumes_proxy;
pub mod instance_actions;
pub mod instance_usage_audit_log;
pub mod ips;
pub mod keypairs;
pub mod limits;
pub mod microversion;
pub mod migrations;
pub mod networks;
pub mod query;
pub mod quota_classes;
pub mod quota_sets;
pub mod security_groups;
pub mod remote_consoles;
pub mod server_diagnostics;
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

pub use microversion::{LegacyV2, Microversion};

pub type State = Arc<ComputeService>;
pub type ApiResult<T> = Result<T, ApiError>;

/// The whole compute API: version discovery without a token, `/v2.1` behind token validation
/// and microversion negotiation. `/v2.1/{project_id}/…` (the pre-2.18 URL form) is served too,
/// and so is Nova's legacy `/v2/[{project_id}/]…` API, as v2.1 at 2.1.
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
        .merge(hosts::routes())
        .merge(hypervisors::routes())
        .merge(server_groups::routes())
        .merge(tenant_usage::routes())
        .merge(instance_usage_audit_log::routes())
        .merge(migrations::routes())
        .merge(extensions::routes())
        .merge(servers::routes())
        .merge(server_metadata::routes())
        .merge(server_tags::routes())
        .merge(server_diagnostics::routes())
        .merge(ips::routes())
        .merge(interfaces::routes())
        .merge(volume_attachments::routes())
        .merge(volumes_proxy::routes())
        .merge(security_groups::routes())
        .merge(networks::routes())
        .merge(instance_actions::routes())
        .merge(server_external_events::routes())
        .merge(remote_consoles::routes())
        .merge(images::routes())
        .merge(image_metadata::routes())
        .layer(axum::middleware::from_fn(microversion::negotiate))
        .layer(axum::middleware::from_fn(move |req, next| require_token(validator.clone(), www.clone(), req, next)))
        .with_state(state.clone());
    let app = Router::new().merge(versions::routes()).with_state(state).merge(v21);
    // Around the whole router: a layer of the router itself runs after routing, too late to
    // change where a request goes.
    Router::new().fallback_service(tower::Layer::layer(&axum::middleware::from_fn(rewrite_path), app))
}

/// Rewrites `/v2.1/<project id>/rest` to `/v2.1/rest` (clients configured with Nova's older
/// endpoint form put the project id in every URL), and the legacy `/v2/[<project id>/]rest`
/// to `/v2.1/rest`, marked [`LegacyV2`] so it is served at 2.1. Every response also carries
/// the request id as `x-compute-request-id`, the header Nova sends beside
/// `x-openstack-request-id` (Tempest's instance action tests read it).
async fn rewrite_path(mut req: Request, next: Next) -> Response {
    let request_id = req.extensions().get::<monostack_common::request_id::RequestId>().map(|id| id.0.clone());
    if let Some((rewritten, legacy)) = served_path(req.uri().path()) {
        let query = req.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
        if let Ok(uri) = format!("{rewritten}{query}").parse() {
            *req.uri_mut() = uri;
            if legacy {
                req.extensions_mut().insert(LegacyV2);
            }
        }
    }
    let mut resp = next.run(req).await;
    if let Some(value) = request_id.and_then(|id| http::HeaderValue::from_str(&id).ok()) {
        resp.headers_mut().insert("x-compute-request-id", value);
    }
    resp
}

fn is_project_id(segment: &str) -> bool {
    segment.len() == 32 && segment.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The `/v2.1` path a request path is served at, and whether it came in by the legacy v2 API;
/// None when it is served as it is (`/v2` and `/v2/` are the v2.0 version document).
fn served_path(path: &str) -> Option<(String, bool)> {
    let (rest, legacy) = match (path.strip_prefix("/v2.1/"), path.strip_prefix("/v2/")) {
        (Some(rest), _) => (rest, false),
        (None, Some(rest)) if !rest.is_empty() => (rest, true),
        _ => return None,
    };
    let (first, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let rest = if is_project_id(first) { tail } else if legacy { rest } else { return None };
    Some((if rest.is_empty() { "/v2.1".to_string() } else { format!("/v2.1/{rest}") }, legacy))
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
    use super::served_path;

    #[test]
    fn project_id_segment_is_stripped() {
        let p = "0123456789abcdef0123456789abcdef";
        assert_eq!(served_path(&format!("/v2.1/{p}/servers/detail")), Some(("/v2.1/servers/detail".into(), false)));
        assert_eq!(served_path(&format!("/v2.1/{p}")), Some(("/v2.1".into(), false)));
        assert_eq!(served_path("/v2.1/servers/detail"), None);
        assert_eq!(served_path("/v2.1/flavors"), None);
    }

    #[test]
    fn legacy_v2_paths_are_served_by_v21() {
        let p = "0123456789abcdef0123456789abcdef";
        assert_eq!(served_path(&format!("/v2/{p}/servers")), Some(("/v2.1/servers".into(), true)));
        assert_eq!(served_path("/v2/flavors/1"), Some(("/v2.1/flavors/1".into(), true)));
        assert_eq!(served_path("/v2/"), None, "the v2.0 version document");
        assert_eq!(served_path("/v2"), None);
        assert_eq!(served_path("/v2.10/servers"), None);
    }
}
