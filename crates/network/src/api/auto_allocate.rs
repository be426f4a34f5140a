//! `/v2.0/auto-allocated-topology/{project_id}`: GET answers (building it on first request) the
//! project's auto-allocated network, or with `fields=dry-run` whether one could be built;
//! DELETE removes it. `None` names the caller's project.

use super::query::ListQuery;
use super::{json, State};
use crate::error::{NeutronError, NeutronResult};
use crate::service::auto_allocate as svc;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use serde_json::json;

pub fn routes() -> Router<State> {
    Router::new().route(
        "/v2.0/auto-allocated-topology/{project_id}",
        get(show).delete(remove),
    )
}

/// The project meant (`None` is the caller's); others' only for admins (403 NotAuthorized).
fn project(state: &State, ctx: &AuthContext, asked: &str, action: &str) -> NeutronResult<String> {
    let own = ctx.project_id.clone().unwrap_or_default();
    let project = if asked == "None" {
        own.clone()
    } else {
        asked.to_string()
    };
    state.authorize(
        ctx,
        action,
        &json!({"project_id": project, "tenant_id": project}),
        &[],
    )?;
    if project != own && !state.is_admin(ctx) {
        return Err(NeutronError::new(
            StatusCode::FORBIDDEN,
            "NotAuthorized",
            "Not authorized.",
        ));
    }
    Ok(project)
}

async fn show(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(asked): Path<String>,
    RawQuery(raw): RawQuery,
) -> NeutronResult<Response> {
    let q = ListQuery::parse(raw.as_deref())?;
    let project = project(&state, &ctx, &asked, "get_auto_allocated_topology")?;
    if q.fields.iter().any(|f| f == "dry-run") {
        svc::check_requirements(&state).await?;
        return Ok(json(
            StatusCode::OK,
            json!({"auto_allocated_topology": {"id": "dry-run=pass", "tenant_id": project, "project_id": project}}),
        ));
    }
    if !q.fields.is_empty() {
        return Err(NeutronError::bad_request(
            "auto_allocate",
            "Unrecognized field",
        ));
    }
    let network = svc::get_or_create(&state, &project).await?;
    Ok(json(
        StatusCode::OK,
        json!({"auto_allocated_topology": {"id": network, "tenant_id": project, "project_id": project}}),
    ))
}

async fn remove(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(asked): Path<String>,
) -> NeutronResult<Response> {
    let project = project(&state, &ctx, &asked, "delete_auto_allocated_topology")?;
    svc::delete(&state, &project).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
