//! `/v2/images/{id}/members`: offering a `shared` image to other projects, and their answer.

use super::{view, ApiResult, Found, State};
use crate::db::members as member_db;
use crate::schemas::MEMBER_STATUSES;
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use monostack_common::json::parse_json;
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2/images/{id}/members", get(list).post(create))
        .route("/v2/images/{id}/members/{member}", get(show).put(update).delete(delete))
}

fn only_shared(found: &Found) -> ApiResult<()> {
    if found.image.visibility == "shared" {
        Ok(())
    } else {
        Err(ApiError::forbidden("Only shared images have members."))
    }
}

fn is_owner(found: &Found, ctx: &AuthContext) -> bool {
    found.image.owner.is_some() && found.image.owner == ctx.project_id
}

fn body_field(body: &[u8], field: &str) -> ApiResult<String> {
    let doc: Value = parse_json(body)?;
    doc.get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ApiError::bad_request(format!("Request body must contain '{field}' as a string")))
}

async fn list(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let found = state.find(&id, &ctx).await?;
    state.authorize_on("get_members", &found, &ctx)?;
    only_shared(&found)?;
    let sees_all = is_owner(&found, &ctx) || state.is_admin(&ctx);
    let members: Vec<Value> = member_db::list(&state.db, &id)
        .await?
        .iter()
        .filter(|m| sees_all || Some(&m.member) == ctx.project_id.as_ref())
        .map(view::member)
        .collect();
    Ok(Json(json!({"members": members, "schema": "/v2/schemas/members"})))
}

async fn create(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    let member = body_field(&body, "member")?;
    let found = state.find(&id, &ctx).await?;
    state.authorize_on("add_member", &found, &ctx)?;
    only_shared(&found)?;
    if member_db::get(&state.db, &id, &member).await?.is_some() {
        return Err(ApiError::conflict(format!("Member {member} already exists for image {id}")));
    }
    let quota = state.config.image.image_member_quota;
    if member_db::count(&state.db, &id).await? >= quota {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("Maximum number of members ({quota}) reached for image {id}")));
    }
    let m = member_db::insert(&state.db, &id, &member).await?;
    Ok(Json(view::member(&m)))
}

/// The member entry the caller may see: all for the owner and admins, only its own otherwise.
async fn visible_member(state: &State, found: &Found, ctx: &AuthContext, member: &str) -> ApiResult<member_db::Member> {
    let not_found = || ApiError::not_found(format!("Member {member} not found for image {}", found.image.id));
    let m = member_db::get(&state.db, &found.image.id, member).await?.ok_or_else(not_found)?;
    if is_owner(found, ctx) || state.is_admin(ctx) || ctx.project_id.as_deref() == Some(member) {
        Ok(m)
    } else {
        Err(not_found())
    }
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, Path((id, member)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let found = state.find(&id, &ctx).await?;
    state.authorize_on("get_member", &found, &ctx)?;
    only_shared(&found)?;
    Ok(Json(view::member(&visible_member(&state, &found, &ctx, &member).await?)))
}

async fn update(S(state): S<State>, Authenticated(ctx): Authenticated, Path((id, member)): Path<(String, String)>, body: Bytes) -> ApiResult<Json<Value>> {
    let status = body_field(&body, "status")?;
    if !MEMBER_STATUSES.contains(&status.as_str()) {
        return Err(ApiError::bad_request(format!("Invalid status: {status}; expected one of {MEMBER_STATUSES:?}")));
    }
    let found = state.find(&id, &ctx).await?;
    state.authorize_on("modify_member", &found, &ctx)?;
    only_shared(&found)?;
    visible_member(&state, &found, &ctx, &member).await?;
    if ctx.project_id.as_deref() != Some(member.as_str()) {
        return Err(ApiError::forbidden("Only the member itself may accept or reject an image."));
    }
    member_db::set_status(&state.db, &id, &member, &status).await?;
    let m = member_db::get(&state.db, &id, &member).await?.ok_or_else(|| ApiError::not_found(format!("Member {member} not found")))?;
    Ok(Json(view::member(&m)))
}

async fn delete(S(state): S<State>, Authenticated(ctx): Authenticated, Path((id, member)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let found = state.find(&id, &ctx).await?;
    state.authorize_on("delete_member", &found, &ctx)?;
    only_shared(&found)?;
    visible_member(&state, &found, &ctx, &member).await?;
    if !is_owner(&found, &ctx) && !state.is_admin(&ctx) {
        return Err(ApiError::forbidden("Only the image owner may remove members."));
    }
    member_db::delete(&state.db, &id, &member).await?;
    Ok(StatusCode::NO_CONTENT)
}
