//! `/v3/auth/tokens` (issue, validate, check, revoke) and the `/v3/auth/*` discovery calls.

use super::query::from_uri;
use super::{collection_links, enforce, links, no_content, ApiResult, Caller, State};
use crate::store::{self, revocations::RevocationEvent};
use crate::token::{TokenError, ValidatedToken};
use axum::body::Bytes;
use axum::extract::State as S;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/auth/tokens", get(validate).head(check).post(issue).delete(revoke))
        .route("/v3/auth/catalog", get(catalog))
        .route("/v3/auth/projects", get(projects))
        .route("/v3/auth/domains", get(domains))
        .route("/v3/auth/system", get(system))
}

/// The token response: body (with the catalog unless `nocatalog`) and `X-Subject-Token`.
async fn render(state: &State, token: &str, validated: &ValidatedToken, uri: &Uri, status: StatusCode) -> ApiResult<Response> {
    let q = from_uri(uri);
    let with_catalog = validated.context.scope_type().is_some() && !q.has("nocatalog");
    let base = &validated.rendered;
    let bytes = if with_catalog {
        // `{"token":{...}}` ends in `}}`: splice the (shared, pre-serialized) catalog in.
        let catalog = state.catalog_json().await?;
        let mut out = Vec::with_capacity(base.len() + catalog.len() + 16);
        out.extend_from_slice(&base[..base.len() - 2]);
        out.extend_from_slice(b",\"catalog\":");
        out.extend_from_slice(&catalog);
        out.extend_from_slice(b"}}");
        bytes::Bytes::from(out)
    } else {
        base.clone()
    };
    let mut resp = (status, bytes).into_response();
    resp.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let header = HeaderValue::from_str(token).map_err(ApiError::internal)?;
    resp.headers_mut().insert("x-subject-token", header);
    Ok(resp)
}

async fn issue(S(state): S<State>, uri: Uri, body: Bytes) -> ApiResult<Response> {
    let body: Value = monostack_common::json::parse_json(&body)?;
    let payload = crate::auth::authenticate(&state, &body).await?;
    let scoped = payload.scope != crate::token::payload::Scope::Unscoped;
    let (token, validated) = state.issue_token(payload).await.map_err(|e| match e {
        TokenError::Invalid if scoped => ApiError::unauthorized("The user has no access to the requested scope."),
        TokenError::Invalid => ApiError::unauthorized(super::UNAUTHENTICATED),
        TokenError::Internal(e) => e,
    })?;
    tracing::info!("issued token for user {}", validated.context.user_id);
    render(&state, &token, &validated, &uri, StatusCode::CREATED).await
}

/// Validates `X-Subject-Token` for the caller; an invalid subject is a 404 as in Keystone.
async fn subject(state: &State, caller: &Caller, headers: &HeaderMap, uri: &Uri, action: &str) -> ApiResult<(String, Arc<ValidatedToken>)> {
    let token = headers
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request("X-Subject-Token header is required"))?
        .to_string();
    let allow_expired = from_uri(uri).flag("allow_expired").unwrap_or(false);
    let validated = state.validate_token(&token, allow_expired).await.map_err(|e| match e {
        TokenError::Invalid => ApiError::not_found("Failed to validate token"),
        TokenError::Internal(e) => e,
    });
    // Policy first when the subject resolved, so a reader learns nothing about others' tokens.
    let target_user = validated.as_ref().map(|v| v.context.user_id.clone()).unwrap_or_default();
    enforce(state, caller, action, &json!({"target": {"token": {"user_id": target_user}}}))
        .or_else(|e| if validated.is_err() { Ok(()) } else { Err(e) })?;
    Ok((token, validated?))
}

async fn validate(S(state): S<State>, caller: Caller, headers: HeaderMap, uri: Uri) -> ApiResult<Response> {
    let (token, validated) = subject(&state, &caller, &headers, &uri, "identity:validate_token").await?;
    render(&state, &token, &validated, &uri, StatusCode::OK).await
}

async fn check(S(state): S<State>, caller: Caller, headers: HeaderMap, uri: Uri) -> ApiResult<Response> {
    subject(&state, &caller, &headers, &uri, "identity:check_token").await?;
    Ok(StatusCode::OK.into_response())
}

async fn revoke(S(state): S<State>, caller: Caller, headers: HeaderMap, uri: Uri) -> ApiResult<Response> {
    let (_, validated) = subject(&state, &caller, &headers, &uri, "identity:revoke_token").await?;
    let audit_id = validated.payload.audit_ids.first().cloned();
    store::revocations::record(&state, RevocationEvent { audit_id, ..Default::default() }).await?;
    tracing::info!("revoked token of user {}", validated.context.user_id);
    Ok(no_content())
}

async fn catalog(S(state): S<State>, caller: Caller) -> ApiResult<Response> {
    if caller.ctx().scope_type().is_none() {
        return Err(ApiError::forbidden("A scoped token is required to list the catalog."));
    }
    let catalog = (*state.catalog().await?).clone();
    Ok(super::ok(json!({"catalog": catalog, "links": collection_links(&state, "auth/catalog", None)})))
}

/// Projects (`domains = false`) or domains the caller's user holds a role on, enabled only.
async fn scopes_for_caller(state: &State, caller: &Caller, domains: bool) -> ApiResult<Vec<Value>> {
    let user_id = &caller.ctx().user_id;
    let mut out = Vec::new();
    for p in state.project_list(domains).await?.iter() {
        if !p.enabled {
            continue;
        }
        let roles = if domains {
            state.effective_role_ids(user_id, std::slice::from_ref(&p.id), &[]).await?
        } else {
            state.project_role_ids(user_id, p).await?
        };
        if !roles.is_empty() {
            out.push(if domains { super::domains::view(state, p) } else { super::projects::view(state, p) });
        }
    }
    Ok(out)
}

async fn projects(S(state): S<State>, caller: Caller) -> ApiResult<Response> {
    let list = scopes_for_caller(&state, &caller, false).await?;
    Ok(super::ok(json!({"projects": list, "links": collection_links(&state, "auth/projects", None)})))
}

async fn domains(S(state): S<State>, caller: Caller) -> ApiResult<Response> {
    let list = scopes_for_caller(&state, &caller, true).await?;
    Ok(super::ok(json!({"domains": list, "links": collection_links(&state, "auth/domains", None)})))
}

async fn system(S(state): S<State>, caller: Caller) -> ApiResult<Response> {
    let target = [store::assignments::SYSTEM_TARGET.to_string()];
    let roles = state.effective_role_ids(&caller.ctx().user_id, &target, &[]).await?;
    let system: Vec<Value> = if roles.is_empty() { vec![] } else { vec![json!({"all": true})] };
    Ok(super::ok(json!({"system": system, "links": links(&state, "auth/system")})))
}
