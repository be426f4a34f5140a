//! The Identity v3 REST API: one file per resource, each exposing `routes()`.
//! Every handler has the same shape: parse → check policy → call the store → render.

pub mod auth_tokens;
pub mod body;
pub mod domains;
pub mod projects;
pub mod query;
pub mod versions;
pub mod catalog;
pub mod application_credentials;
pub mod limits;
pub mod users;
pub mod groups;
pub mod credentials;
pub mod roles;
pub mod grants;
pub mod role_assignments;
pub mod trusts;
pub mod endpoint_groups;
pub mod domain_configs;
pub mod ec2_credentials;
pub mod policies;
pub mod oauth1_consumers;

use crate::token::{TokenError, ValidatedToken};
use crate::Identity;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::sync::Arc;

pub type State = Arc<Identity>;
pub type ApiResult<T> = Result<T, ApiError>;

/// The whole identity API.
pub fn router(state: State) -> Router {
    Router::new()
        .merge(versions::routes())
        .merge(auth_tokens::routes())
        .merge(domains::routes())
        .merge(projects::routes())
        .merge(roles::routes())
        .merge(grants::routes())
        .merge(role_assignments::routes())
        .merge(trusts::routes())
        .merge(endpoint_groups::routes())
        .merge(domain_configs::routes())
        .merge(catalog::routes())
        .merge(application_credentials::routes())
        .merge(limits::routes())
        .merge(credentials::routes())
        .merge(groups::routes())
        .merge(users::routes())
        .merge(ec2_credentials::routes())
        .merge(policies::routes())
        .merge(oauth1_consumers::routes())
        .with_state(state)
}

/// The authenticated caller: the validated `X-Auth-Token`.
pub struct Caller(pub Arc<ValidatedToken>);

pub const UNAUTHENTICATED: &str = "The request you have made requires authentication.";

impl FromRequestParts<State> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized(UNAUTHENTICATED))?;
        let validated = state.validate_token(token, false).await.map_err(|e| match e {
            TokenError::Invalid => ApiError::unauthorized(UNAUTHENTICATED),
            TokenError::Internal(e) => e,
        })?;
        let span = tracing::Span::current();
        span.record("user_id", validated.context.user_id.as_str());
        if let Some(p) = &validated.context.project_id {
            span.record("project_id", p.as_str());
        }
        Ok(Caller(validated))
    }
}

impl Caller {
    pub fn ctx(&self) -> &monostack_auth::AuthContext {
        &self.0.context
    }
}

/// Checks `action` for the caller against `target` (policy rule and allowed scope types).
pub fn enforce(state: &Identity, caller: &Caller, action: &str, target: &Value) -> ApiResult<()> {
    let ctx = caller.ctx();
    let scope_ok = match crate::policy_defaults::DEFAULT_SCOPE_TYPES.iter().find(|(name, _)| *name == action) {
        Some((_, scopes)) => ctx.scope_type().is_some_and(|s| scopes.contains(&s)),
        None => true,
    };
    if scope_ok && state.policy.enforce(action, target, ctx.policy_creds()) {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "You are not authorized to perform the requested action: {action}."
    )))
}

/// `{"self": url}` links for an entity.
pub fn links(state: &Identity, path: &str) -> Value {
    json!({ "self": format!("{}/v3/{path}", state.public_url) })
}

/// Collection links: `self` (with the query), `previous`/`next` null as Keystone has them.
pub fn collection_links(state: &Identity, path: &str, query: Option<&str>) -> Value {
    let url = match query {
        Some(q) if !q.is_empty() => format!("{}/v3/{path}?{q}", state.public_url),
        _ => format!("{}/v3/{path}", state.public_url),
    };
    json!({ "self": url, "previous": null, "next": null })
}

/// A JSON response with a status.
pub fn json_status(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// 200 with a JSON body.
pub fn ok(body: Value) -> Response {
    json_status(StatusCode::OK, body)
}

/// 201 with a JSON body.
pub fn created(body: Value) -> Response {
    json_status(StatusCode::CREATED, body)
}

/// 204.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A 404 in Keystone's words: "Could not find project: <id>."
pub fn not_found(kind: &str, id: &str) -> ApiError {
    ApiError::not_found(format!("Could not find {kind}: {id}."))
}
