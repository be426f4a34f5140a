//! The Networking v2.0 REST API: one file per resource, each exposing `routes()`. Every
//! handler has the same shape: parse (body with [`body`], query with [`query`]) → policy
//! ([`NetworkService::authorize`], attribute rules included) → service layer → view (fields
//! the caller may not see are dropped) → JSON.

pub mod address_scopes;
pub mod agents;
pub mod auto_allocate;
pub mod availability_zones;
pub mod body;
pub mod extensions;
pub mod floatingips;
pub mod ip_availability;
pub mod networks;
pub mod ports;
pub mod query;
pub mod quotas;
pub mod root;
pub mod routers;
pub mod security_groups;
pub mod subnetpools;
pub mod subnets;
pub mod tags;

use crate::error::{NeutronError, NeutronResult};
use crate::NetworkService;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use monostack_auth::middleware::require_token;
use monostack_auth::{AuthContext, SharedValidator};
use serde_json::{Map, Value};
use std::sync::Arc;

pub type State = Arc<NetworkService>;

/// The whole networking API: the version list without a token, everything else behind token
/// validation; unknown URLs answer Neutron's 404.
pub fn router(state: State, validator: SharedValidator, identity_url: &str) -> Router {
    let www: Arc<str> = Arc::from(identity_url);
    let protected = Router::new()
        .merge(root::v2_routes())
        .merge(extensions::routes())
        .merge(networks::routes())
        .merge(subnets::routes())
        .merge(ports::routes())
        .merge(routers::routes())
        .merge(floatingips::routes())
        .merge(agents::routes())
        .merge(auto_allocate::routes())
        .merge(security_groups::routes())
        .merge(quotas::routes())
        .merge(ip_availability::routes())
        .merge(subnetpools::routes())
        .merge(address_scopes::routes())
        .merge(tags::routes())
        .merge(availability_zones::routes())
        .layer(axum::middleware::from_fn(move |req, next| {
            require_token(validator.clone(), www.clone(), req, next)
        }))
        .with_state(state.clone());
    Router::new()
        .merge(root::routes())
        .with_state(state)
        .merge(protected)
        .fallback(|| async { NeutronError::http_not_found() })
}

impl NetworkService {
    /// Whether policy allows `action` on `target` for the caller.
    pub fn allowed(&self, ctx: &AuthContext, action: &str, target: &Value) -> bool {
        self.policy.enforce(action, target, ctx.policy_creds())
    }

    /// 403 unless policy allows `action` and, for every attribute of `attributes` that has
    /// its own rule (`create_network:shared`…), that rule too; refused as Neutron words it.
    pub fn authorize(
        &self,
        ctx: &AuthContext,
        action: &str,
        target: &Value,
        attributes: &[&str],
    ) -> NeutronResult<()> {
        let mut refused = Vec::new();
        if !self.allowed(ctx, action, target) {
            refused.push(format!("rule:{action}"));
        }
        for attr in attributes {
            let rule = format!("{action}:{attr}");
            if self.rule_names.contains(&rule) && !self.allowed(ctx, &rule, target) {
                refused.push(format!("rule:{rule}"));
            }
        }
        if refused.is_empty() {
            Ok(())
        } else {
            let mut all = vec![format!("rule:{action}")];
            all.extend(
                attributes
                    .iter()
                    .map(|a| format!("{action}:{a}"))
                    .filter(|r| self.rule_names.contains(r))
                    .map(|r| format!("rule:{r}")),
            );
            Err(NeutronError::policy(&all.join(" and ")))
        }
    }

    /// Drops from a view the attributes `get_<resource>:<attr>` rules hide from the caller.
    pub fn hide_attributes(
        &self,
        ctx: &AuthContext,
        resource: &str,
        target: &Value,
        view: &mut Map<String, Value>,
    ) {
        let keys: Vec<String> = view.keys().cloned().collect();
        for key in keys {
            let rule = format!("get_{resource}:{key}");
            if key != "tags" && self.rule_names.contains(&rule) && !self.allowed(ctx, &rule, target)
            {
                view.remove(&key);
            }
        }
    }

    /// Whether the caller is an admin (Neutron's context.is_admin).
    pub fn is_admin(&self, ctx: &AuthContext) -> bool {
        self.allowed(ctx, "context_is_admin", &Value::Object(Map::new()))
    }
}

/// A JSON response with `status`.
pub fn json(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}
