//! `/v2/images/{id}/tags/{tag}`: adding and removing one tag.

use super::{images::check_counts, ApiResult, State};
use crate::db::images as image_db;
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::routing::put;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_common::time::now_micros;
use monostack_common::ApiError;

pub fn routes() -> Router<State> {
    Router::new().route("/v2/images/{id}/tags/{tag}", put(add).delete(remove))
}

async fn add(S(state): S<State>, Authenticated(ctx): Authenticated, Path((id, tag)): Path<(String, String)>) -> ApiResult<StatusCode> {
    if tag.chars().count() > 255 {
        return Err(ApiError::bad_request("Tags must have at most 255 characters"));
    }
    change(&state, &ctx, &id, |img| {
        img.tags.insert(tag.clone());
        Ok(())
    })
    .await
}

async fn remove(S(state): S<State>, Authenticated(ctx): Authenticated, Path((id, tag)): Path<(String, String)>) -> ApiResult<StatusCode> {
    change(&state, &ctx, &id, |img| {
        if img.tags.remove(&tag) {
            Ok(())
        } else {
            Err(ApiError::not_found(format!("Tag {tag} not found")))
        }
    })
    .await
}

async fn change(
    state: &State,
    ctx: &monostack_auth::AuthContext,
    id: &str,
    edit: impl FnOnce(&mut crate::db::ImageRecord) -> ApiResult<()>,
) -> ApiResult<StatusCode> {
    let found = state.find(id, ctx).await?;
    state.authorize_on("modify_image", &found, ctx)?;
    let mut img = found.image;
    let status = img.status.clone();
    edit(&mut img)?;
    check_counts(state, &img)?;
    img.updated_at = now_micros();
    if !image_db::save(&state.db, &img, &status).await? {
        return Err(ApiError::conflict(format!("Image {id} changed status during the update; retry")));
    }
    Ok(StatusCode::NO_CONTENT)
}
