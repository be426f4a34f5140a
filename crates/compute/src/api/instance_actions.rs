//! `/servers/{id}/os-instance-actions`: what was done to a server, with the events of each
//! action (admins see tracebacks and hosts; 2.51 shows events to owners, 2.58 pages and
//! filters by time, 2.62 adds host and hostId, 2.84 event details).

use super::caller::Caller;
use super::query::Query;
use super::servers::view::host_id;
use super::view::{next_links, opt_timestamp, timestamp};
use super::{ApiResult, Microversion, State};
use crate::compute_api;
use crate::context::RequestContext;
use crate::db::instance_actions::{self, ActionFilters, InstanceAction};
use crate::db::instances::Instance;
use axum::extract::{Path, RawQuery, State as S};
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/servers/{id}/os-instance-actions", get(index))
        .route("/v2.1/servers/{id}/os-instance-actions/{request_id}", get(show))
}

/// The server, deleted ones included from 2.21.
async fn server(state: &State, ctx: &RequestContext, mv: Microversion, id: &str, action: &str) -> ApiResult<Instance> {
    let instance = if mv.at_least(21) { compute_api::get_instance_any(state, ctx, id).await? } else { compute_api::get_instance(state, ctx, id).await? };
    state.authorize(&format!("os_compute_api:os-instance-actions:{action}"), &json!({"project_id": instance.project_id}), &ctx.auth)?;
    Ok(instance)
}

fn action_view(a: &InstanceAction, mv: Microversion) -> Value {
    let mut v = json!({
        "action": a.action, "instance_uuid": a.instance_uuid, "request_id": a.request_id, "user_id": a.user_id,
        "project_id": a.project_id, "start_time": timestamp(a.start_time), "message": a.message,
    });
    if mv.at_least(58) {
        v["updated_at"] = opt_timestamp(a.updated_at);
    }
    v
}

fn time_param(q: &Query, key: &str) -> ApiResult<Option<i64>> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => monostack_common::time::parse_iso(v)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("Invalid input for query parameters {key}. Value: {v}. '{v}' is not a 'date-time'"))),
    }
}

async fn index(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let q = Query::parse(raw.as_deref());
    let mut filters = ActionFilters::default();
    let mut page = None;
    if mv.at_least(58) {
        let mut allowed = vec!["limit", "marker", "changes-since"];
        if mv.at_least(66) {
            allowed.push("changes-before");
        }
        q.only(&allowed)?;
        filters.changes_since = time_param(&q, "changes-since")?;
        filters.changes_before = time_param(&q, "changes-before")?;
        if let (Some(since), Some(before)) = (filters.changes_since, filters.changes_before) {
            if before < since {
                return Err(ApiError::bad_request("The value of changes-since must be less than or equal to changes-before."));
            }
        }
        page = Some(q.page()?);
    }
    let instance = server(&state, &ctx, mv, &id, "list").await?;
    let mut actions = instance_actions::list(&state.db, &instance.uuid, &filters).await?;
    if let Some(page) = &page {
        if let Some(marker) = &page.marker {
            let position = instance_actions::get_by_request_id(&state.db, &instance.uuid, marker)
                .await?
                .and_then(|m| actions.iter().position(|a| a.id == m.id))
                .ok_or_else(|| ApiError::bad_request(format!("Marker {marker} could not be found.")))?;
            actions.drain(..=position);
        }
        actions.truncate(page.limit);
    }
    let mut body = json!({"instanceActions": actions.iter().map(|a| action_view(a, mv)).collect::<Vec<_>>()});
    if page.is_some() {
        let collection = format!("servers/{id}/os-instance-actions");
        if let Some(links) = next_links(&state, &collection, &q, actions.len(), actions.last().map(|a| a.request_id.as_str())) {
            body["links"] = links;
        }
    }
    Ok(Json(body))
}

async fn show(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path((id, request_id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let instance = server(&state, &ctx, mv, &id, "show").await?;
    let action = instance_actions::get_by_request_id(&state.db, &instance.uuid, &request_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Action {request_id} not found")))?;
    let target = json!({"project_id": instance.project_id});
    let can = |rule: &str| state.policy.enforce(rule, &target, ctx.auth.policy_creds());
    let admin_events = can("os_compute_api:os-instance-actions:events");
    let mut view = action_view(&action, mv);
    if admin_events || mv.at_least(51) {
        let details = mv.at_least(84) && can("os_compute_api:os-instance-actions:events:details");
        let project = action.project_id.clone().unwrap_or_else(|| instance.project_id.clone());
        let events = instance_actions::events(&state.db, action.id).await?;
        let list: Vec<Value> = events
            .iter()
            .map(|e| {
                let mut v = json!({"event": e.event, "start_time": timestamp(e.start_time), "finish_time": opt_timestamp(e.finish_time), "result": e.result});
                if admin_events {
                    v["traceback"] = json!(e.traceback);
                    if mv.at_least(62) {
                        v["host"] = json!(e.host);
                    }
                }
                if mv.at_least(62) {
                    v["hostId"] = json!(host_id(&project, e.host.as_deref()));
                }
                if details {
                    v["details"] = json!(e.details);
                }
                v
            })
            .collect();
        view["events"] = json!(list);
    }
    Ok(Json(json!({"instanceAction": view})))
}
