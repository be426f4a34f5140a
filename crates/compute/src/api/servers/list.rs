//! `GET /servers` and `GET /servers/detail`.

use super::super::caller::Caller;
use super::super::query::Query;
use super::super::view::next_links;
use super::super::{ApiResult, Microversion, State};
use super::list_query;
use super::view::{self, Options, Related};
use crate::compute_api::list;
use axum::extract::{RawQuery, State as S};
use axum::Json;
use serde_json::{json, Value};

pub async fn index(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    listing(&state, &ctx, mv, raw.as_deref(), false).await
}

pub async fn detail(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    listing(&state, &ctx, mv, raw.as_deref(), true).await
}

async fn listing(state: &State, ctx: &crate::context::RequestContext, mv: Microversion, raw: Option<&str>, detailed: bool) -> ApiResult<Json<Value>> {
    let action = if detailed { "detail" } else { "index" };
    let target = json!({"project_id": ctx.project_id(), "user_id": ctx.user_id()});
    state.authorize(&format!("os_compute_api:servers:{action}"), &target, &ctx.auth)?;
    let q = Query::parse(raw);
    let allow_all = state.policy.enforce("os_compute_api:servers:allow_all_filters", &target, ctx.auth.policy_creds());
    let Some(parsed) = list_query::parse(&q, mv, ctx, allow_all)? else {
        return Ok(Json(json!({"servers": []})));
    };
    if parsed.all_tenants {
        state.authorize(&format!("os_compute_api:servers:{action}:get_all_tenants"), &target, &ctx.auth)?;
    }
    let instances = list::get_all(state, &parsed.request).await?;
    let collection = if detailed { "servers/detail" } else { "servers" };
    let servers: Vec<Value> = if detailed {
        let opts = Options::detailed(state, ctx, mv, None);
        let related = Related::load(state, &instances, &opts).await?;
        instances.iter().map(|i| view::show(state, i, &related, &opts)).collect()
    } else {
        instances.iter().map(|i| view::basic(state, i)).collect()
    };
    let mut body = json!({"servers": servers});
    if let Some(links) = next_links(state, collection, &q, instances.len(), instances.last().map(|i| i.uuid.as_str())) {
        body["servers_links"] = links;
    }
    Ok(Json(body))
}
