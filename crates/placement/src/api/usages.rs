//! `GET /resource_providers/{uuid}/usages` and `GET /usages` (1.9+; by consumer type 1.38+).

use super::{json_response, query, ApiResult, State};
use crate::microversion::{self, Version};
use crate::service::usages::ConsumerTypeFilter;
use axum::extract::{Path, RawQuery, State as S};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_common::ApiError;
use serde_json::json;

pub fn routes() -> Router<State> {
    Router::new().route("/resource_providers/{uuid}/usages", get(of_provider)).route("/usages", get(totals))
}

async fn of_provider(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(uuid): Path<String>) -> ApiResult<Response> {
    state.authorize("placement:resource_providers:usages", &ctx, None)?;
    let u = state.provider_usages(&uuid).await?;
    Ok(json_response(StatusCode::OK, version, None, json!({"resource_provider_generation": u.resource_provider_generation, "usages": u.usages})))
}

async fn totals(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    microversion::require(version, 9)?;
    let pairs = query::pairs(raw.as_deref());
    let project_id = query::last(&pairs, "project_id");
    state.authorize("placement:usages", &ctx, Some(json!({ "project_id": project_id })))?;
    let typed = version.at_least(38);
    query::only(&pairs, |k| matches!(k, "project_id" | "user_id") || (typed && k == "consumer_type"))?;
    let project_id = project_id.ok_or_else(|| ApiError::bad_request("Invalid query string parameters: 'project_id' is a required property"))?;
    let user_id = query::last(&pairs, "user_id");
    if !typed {
        let usages = state.project_usages(project_id, user_id).await?;
        return Ok(json_response(StatusCode::OK, version, None, json!({ "usages": usages })));
    }
    let filter = match query::last(&pairs, "consumer_type") {
        None => ConsumerTypeFilter::Each,
        Some("all") => ConsumerTypeFilter::All,
        Some("unknown") => ConsumerTypeFilter::Unknown,
        Some(t) if crate::standard::is_valid_name(t) => ConsumerTypeFilter::Named(t.to_string()),
        Some(t) => return Err(ApiError::bad_request(format!("Invalid query string parameters: '{t}' does not match '^[A-Z0-9_]+$|^all|^unknown$'"))),
    };
    let usages = state.typed_usages(project_id, user_id, &filter).await?;
    Ok(json_response(StatusCode::OK, version, None, json!({ "usages": usages.usages })))
}
