//! The Block Storage v3 REST API: one file per resource, each exposing `routes()`. Every
//! request is served at a negotiated microversion ([`Microversion`]). Cinder's URLs carry the
//! project id (`/v3/{project_id}/volumes`); since 3.67 it may be left out, so both forms are
//! served: the project segment is dropped before routing.

pub mod attachments;
pub mod backups;
pub mod caller;
pub mod extensions;
pub mod hosts;
pub mod input;
pub mod microversion;
pub mod pools;
pub mod qos_specs;
pub mod query;
pub mod quota_sets;
pub mod services;
pub mod snapshots;
pub mod transfers;
pub mod type_access;
pub mod type_encryption;
pub mod type_extra_specs;
pub mod types;
pub mod versions;
pub mod view;
pub mod volume_actions;
pub mod volume_metadata;
pub mod volumes;

use crate::context::RequestContext;
use crate::VolumeService;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use monostack_auth::middleware::require_token;
use monostack_auth::SharedValidator;
use monostack_common::ApiError;
use serde_json::Value;
use std::sync::Arc;

pub use caller::Caller;
pub use microversion::Microversion;

pub type State = Arc<VolumeService>;
pub type ApiResult<T> = Result<T, ApiError>;

/// The whole block storage API: version discovery without a token, `/v3` behind token
/// validation and microversion negotiation.
pub fn router(state: State, validator: SharedValidator, identity_url: &str) -> Router {
    let www: Arc<str> = Arc::from(identity_url);
    let v3 = Router::new()
        .merge(types::routes())
        .merge(type_extra_specs::routes())
        .merge(type_access::routes())
        .merge(type_encryption::routes())
        .merge(transfers::routes())
        .merge(volumes::routes())
        .merge(volume_actions::routes())
        .merge(volume_metadata::routes())
        .merge(attachments::routes())
        .merge(backups::routes())
        .merge(snapshots::routes())
        .merge(services::routes())
        .merge(quota_sets::routes())
        .merge(pools::routes())
        .merge(qos_specs::routes())
        .merge(extensions::routes())
        .merge(hosts::routes())
        .layer(axum::middleware::from_fn(microversion::negotiate))
        .layer(axum::middleware::from_fn(move |req, next| {
            require_token(validator.clone(), www.clone(), req, next)
        }))
        .with_state(state.clone());
    let app = Router::new()
        .merge(versions::routes())
        .with_state(state)
        .merge(v3);
    // Around the whole router: a layer of the router itself runs after routing, too late to
    // change where a request goes.
    Router::new().fallback_service(tower::Layer::layer(
        &axum::middleware::from_fn(rewrite_path),
        app,
    ))
}

/// Rewrites `/v3/<project id>/rest` to `/v3/rest`, and serves the request knowing which form
/// it came in (for its links, [`view::URL_NAMES_PROJECT`]).
async fn rewrite_path(mut req: Request, next: Next) -> Response {
    let served = served_path(req.uri().path());
    let names_project = served.is_some();
    if let Some(rewritten) = served {
        let query = req
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        if let Ok(uri) = format!("{rewritten}{query}").parse() {
            *req.uri_mut() = uri;
        }
    }
    view::URL_NAMES_PROJECT.scope(names_project, next.run(req)).await
}

/// Keystone's project ids: 32 hex digits (Cinder's own resource names never look like that).
fn is_project_id(segment: &str) -> bool {
    segment.len() == 32 && segment.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The path a request is served at when it names a project; None when served as it is.
fn served_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v3/")?;
    let (first, tail) = rest.split_once('/').unwrap_or((rest, ""));
    if !is_project_id(first) {
        return None;
    }
    Some(if tail.is_empty() {
        "/v3/".to_string()
    } else {
        format!("/v3/{tail}")
    })
}

impl VolumeService {
    /// 403 unless policy allows `action` on `target`, with Cinder's message.
    pub fn authorize(&self, action: &str, target: &Value, ctx: &RequestContext) -> ApiResult<()> {
        if self.allowed(action, target, ctx) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "Policy doesn't allow {action} to be performed."
            )))
        }
    }

    /// Whether policy allows `action` on `target` (Cinder's `authorize(fatal=False)`).
    pub fn allowed(&self, action: &str, target: &Value, ctx: &RequestContext) -> bool {
        self.policy.enforce(action, target, &ctx.policy_creds())
    }
}

/// The policy target of a request without a resource: the caller's own project.
pub fn own_target(ctx: &RequestContext) -> Value {
    serde_json::json!({"project_id": ctx.project_id(), "user_id": ctx.user_id()})
}

#[cfg(test)]
mod tests {
    use super::served_path;

    #[test]
    fn project_id_segment_is_dropped() {
        let p = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            served_path(&format!("/v3/{p}/volumes/detail")),
            Some("/v3/volumes/detail".into())
        );
        assert_eq!(served_path(&format!("/v3/{p}")), Some("/v3/".into()));
        assert_eq!(
            served_path(&format!("/v3/{p}/os-quota-sets/{p}")),
            Some(format!("/v3/os-quota-sets/{p}"))
        );
        assert_eq!(served_path("/v3/volumes/detail"), None);
        assert_eq!(served_path("/v3/"), None);
    }
}
