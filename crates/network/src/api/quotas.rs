//! `/v2.0/quotas`: list (admins), show, defaults, details (limit/used/reserved), update and
//! reset per project.

use super::body::{self, Attrs};
use super::{json, State};
use crate::db;
use crate::error::{NeutronError, NeutronResult};
use crate::service::quotas::{self, RESOURCES};
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.0/quotas", get(list))
        .route(
            "/v2.0/quotas/{project_id}",
            get(show).put(update).delete(reset),
        )
        .route("/v2.0/quotas/{project_id}/default", get(defaults))
        .route("/v2.0/quotas/{project_id}/details", get(details))
}

fn quota_map(limits: &BTreeMap<String, i64>) -> Map<String, Value> {
    limits.iter().map(|(k, v)| (k.clone(), json!(v))).collect()
}

fn may(state: &State, ctx: &AuthContext, action: &str, project_id: &str) -> NeutronResult<()> {
    state.authorize(
        ctx,
        action,
        &json!({"project_id": project_id, "tenant_id": project_id}),
        &[],
    )
}

async fn list(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
) -> NeutronResult<Response> {
    if !state.is_admin(&ctx) {
        return Err(NeutronError::policy("rule:get_quota"));
    }
    let mut tx = db::read(&state.db).await?;
    let mut out = Vec::new();
    for p in quotas::projects_with_limits(&mut tx).await? {
        let mut m = quota_map(&quotas::limits(&state, &mut tx, &p).await?);
        m.insert("project_id".into(), json!(p));
        m.insert("tenant_id".into(), json!(p));
        out.push(Value::Object(m));
    }
    Ok(json(StatusCode::OK, json!({ "quotas": out })))
}

async fn show(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(project_id): Path<String>,
) -> NeutronResult<Response> {
    may(&state, &ctx, "get_quota", &project_id)?;
    let mut tx = db::read(&state.db).await?;
    Ok(json(
        StatusCode::OK,
        json!({ "quota": quota_map(&quotas::limits(&state, &mut tx, &project_id).await?) }),
    ))
}

async fn defaults(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(project_id): Path<String>,
) -> NeutronResult<Response> {
    may(&state, &ctx, "get_quota", &project_id)?;
    Ok(json(
        StatusCode::OK,
        json!({ "quota": quota_map(&quotas::defaults(&state)) }),
    ))
}

async fn details(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(project_id): Path<String>,
) -> NeutronResult<Response> {
    may(&state, &ctx, "get_quota", &project_id)?;
    let mut tx = db::read(&state.db).await?;
    let limits = quotas::limits(&state, &mut tx, &project_id).await?;
    let mut out = Map::new();
    for (resource, limit) in limits {
        let used = quotas::usage(&mut tx, &project_id, &resource).await?;
        out.insert(
            resource,
            json!({"limit": limit, "used": used, "reserved": 0}),
        );
    }
    Ok(json(StatusCode::OK, json!({ "quota": out })))
}

async fn update(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(project_id): Path<String>,
    bytes: Bytes,
) -> NeutronResult<Response> {
    may(&state, &ctx, "update_quota", &project_id)?;
    let (mut items, _) = body::resources(&bytes, "quota", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    let allowed: Vec<&str> = RESOURCES.iter().copied().chain(["check_limit"]).collect();
    attrs.check(&allowed, &[], false)?;
    // quota-check-limit: the openstack CLI always sends it; true refuses a limit below usage.
    let check_limit = attrs.bool("check_limit")?.unwrap_or(false);
    let mut changes = Vec::new();
    for r in RESOURCES {
        if let Some(v) = attrs.raw(r) {
            let limit = body::to_int(v).ok_or_else(|| {
                NeutronError::http_bad_request(format!(
                    "Invalid input for {r}. Reason: '{}' is not an integer.",
                    body::show(v)
                ))
            })?;
            if limit < -1 {
                return Err(NeutronError::http_bad_request(format!("Invalid input for {r}. Reason: '{limit}' is too small - must be at least '-1'.")));
            }
            changes.push((r.to_string(), limit));
        }
    }
    let limits = db::write(&state.db, |tx, _| {
        let (changes, project_id) = (changes.clone(), project_id.clone());
        let state = &state;
        Box::pin(async move {
            for (r, l) in &changes {
                if check_limit && *l >= 0 {
                    let used = quotas::usage(tx, &project_id, r).await?;
                    if *l < used {
                        return Err(NeutronError::http_bad_request(format!(
                            "Quota limit {l} for {r} must be greater than or equal to already used and reserved {used}."
                        )));
                    }
                }
                quotas::set(tx, &project_id, r, *l).await?;
            }
            quotas::limits(state, tx, &project_id).await
        })
    })
    .await?;
    Ok(json(StatusCode::OK, json!({ "quota": quota_map(&limits) })))
}

async fn reset(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(project_id): Path<String>,
) -> NeutronResult<Response> {
    may(&state, &ctx, "delete_quota", &project_id)?;
    db::write(&state.db, |tx, _| {
        let project_id = project_id.clone();
        Box::pin(async move { quotas::reset(tx, &project_id).await })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
