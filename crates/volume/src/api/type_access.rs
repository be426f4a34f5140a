//! Who may use a private volume type: `GET /types/{id}/os-volume-type-access` and the
//! `addProjectAccess` / `removeProjectAccess` actions of `POST /types/{id}/action`.

use super::input;
use super::{own_target, ApiResult, Caller, State};
use crate::db::types as db;
use crate::volume_api::types as types_api;
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use monostack_common::json::Json as Body;
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/types/{id}/os-volume-type-access", get(index))
        .route("/v3/types/{id}/action", post(action))
}

async fn index(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:volume_type_access:get_all_for_type",
        &own_target(&ctx),
        &ctx,
    )?;
    let t = db::get(&state.db, &id)
        .await?
        .ok_or_else(|| types_api::not_found(&id))?;
    if t.is_public {
        return Err(ApiError::not_found(
            "Access list not available for public volume types.",
        ));
    }
    let access: Vec<Value> = db::projects(&state.db, &id)
        .await?
        .into_iter()
        .map(|p| json!({"volume_type_id": id, "project_id": p}))
        .collect();
    Ok(Json(json!({"volume_type_access": access})))
}

fn project_of(body: &Value, action: &str) -> ApiResult<String> {
    let obj = input::object(body, action)?;
    match obj.get("project") {
        Some(Value::String(p)) if !p.is_empty() && p.len() <= 255 => Ok(p.clone()),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid input for field/attribute project. Value: {other}. is not a valid project id"
        ))),
        None => Err(ApiError::bad_request(
            "Invalid input for field/attribute project. 'project' is a required property",
        )),
    }
}

async fn action(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<StatusCode> {
    if body.get("addProjectAccess").is_some() {
        state.authorize(
            "volume_extension:volume_type_access:addProjectAccess",
            &own_target(&ctx),
            &ctx,
        )?;
        let project = project_of(&body, "addProjectAccess")?;
        let t = db::get(&state.db, &id)
            .await?
            .ok_or_else(|| types_api::not_found(&id))?;
        if t.is_public {
            return Err(ApiError::bad_request("Invalid volume type: Type access modification is not applicable to public volume type."));
        }
        db::add_project(&state.db, &id, &project)
            .await
            .map_err(|e| {
                if e.status == StatusCode::CONFLICT {
                    ApiError::conflict(format!(
                        "Volume type access for {id} / {project} combination already exists."
                    ))
                } else {
                    e
                }
            })?;
        return Ok(StatusCode::ACCEPTED);
    }
    if body.get("removeProjectAccess").is_some() {
        state.authorize(
            "volume_extension:volume_type_access:removeProjectAccess",
            &own_target(&ctx),
            &ctx,
        )?;
        let project = project_of(&body, "removeProjectAccess")?;
        let t = db::get(&state.db, &id)
            .await?
            .ok_or_else(|| types_api::not_found(&id))?;
        if t.is_public {
            return Err(ApiError::bad_request("Invalid volume type: Type access modification is not applicable to public volume type."));
        }
        if !db::remove_project(&state.db, &id, &project).await? {
            return Err(ApiError::not_found(format!(
                "Volume type access not found for {id} / {project} combination."
            )));
        }
        return Ok(StatusCode::ACCEPTED);
    }
    Err(ApiError::bad_request(
        "There is no such action: the body names no known volume type action.",
    ))
}
