//! `/v2/images`: create, list, show, update (PATCH), delete, deactivate and reactivate.

use super::{attributes, list_query, patch, view, ApiResult, State};
use crate::db::list::Viewer;
use crate::db::{images as image_db, list as list_db, ImageRecord};
use crate::quota;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as S};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_common::pagination::PageRequest;
use monostack_common::time::now_micros;
use monostack_common::json::parse_json;
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2/images", get(list).post(create))
        .route("/v2/images/{id}", get(show).patch(update).delete(delete))
        .route("/v2/images/{id}/actions/deactivate", post(deactivate))
        .route("/v2/images/{id}/actions/reactivate", post(reactivate))
}

/// The discovery headers Glance adds to image-create responses.
pub fn import_headers(state: &State, headers: &mut HeaderMap) {
    let methods = state.config.image.enabled_import_methods.join(",");
    if let Ok(v) = HeaderValue::from_str(&methods) {
        headers.insert("openstack-image-import-methods", v);
    }
    headers.insert("openstack-image-store-ids", HeaderValue::from_static("file"));
}

async fn create(S(state): S<State>, Authenticated(ctx): Authenticated, body: Bytes) -> ApiResult<Response> {
    let body: Value = parse_json(&body)?;
    let Value::Object(fields) = body else {
        return Err(ApiError::bad_request("Request body must be a JSON object"));
    };
    let mut img = ImageRecord::new(ctx.project_id.clone(), "queued");
    for (name, value) in &fields {
        if name == "id" {
            img.id = requested_id(value)?;
        } else {
            attributes::set(&mut img, name, value)?;
        }
    }
    check_counts(&state, &img)?;
    let target = json!({"project_id": img.owner, "owner": img.owner, "visibility": img.visibility});
    state.authorize("add_image", &target, &ctx)?;
    match img.visibility.as_str() {
        "public" => state.authorize("publicize_image", &target, &ctx)?,
        "community" => state.authorize("communitize_image", &target, &ctx)?,
        _ => {}
    }
    if let Some(owner) = &img.owner {
        quota::check_create(&state, owner).await?;
    }
    if image_db::id_taken(&state.db, &img.id).await? {
        return Err(ApiError::conflict(format!("Image with identifier {} already exists!", img.id)));
    }
    image_db::insert(&state.db, &img).await?;
    tracing::info!("image {} created ({:?})", img.id, img.name);
    let mut resp = (StatusCode::CREATED, Json(view::image(&img))).into_response();
    import_headers(&state, resp.headers_mut());
    if let Ok(v) = HeaderValue::from_str(&format!("{}/v2/images/{}", state.public_url, img.id)) {
        resp.headers_mut().insert("location", v);
    }
    Ok(resp)
}

fn requested_id(value: &Value) -> ApiResult<String> {
    let id = value.as_str().ok_or_else(|| ApiError::bad_request("Provided object does not match schema 'image': id is not a string"))?;
    uuid::Uuid::parse_str(id)
        .map(|u| u.to_string())
        .map_err(|_| ApiError::bad_request(format!("Provided object does not match schema 'image': id '{id}' is not a UUID")))
}

/// Glance's per-image quotas on properties and tags (413 when exceeded).
pub fn check_counts(state: &State, img: &ImageRecord) -> ApiResult<()> {
    let cfg = &state.config.image;
    if img.properties.len() > cfg.image_property_quota {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Attempted: {}, Maximum: {} image properties", img.properties.len(), cfg.image_property_quota),
        ));
    }
    if img.tags.len() > cfg.image_tag_quota {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Attempted: {}, Maximum: {} image tags", img.tags.len(), cfg.image_tag_quota),
        ));
    }
    Ok(())
}

async fn list(S(state): S<State>, Authenticated(ctx): Authenticated, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let raw = raw.unwrap_or_default();
    let cfg = &state.config.image;
    let req = list_query::parse(&raw, cfg.limit_param_default, cfg.api_limit_max)?;
    state.authorize("get_images", &json!({"project_id": ctx.project_id}), &ctx)?;
    let viewer = Viewer { project_id: ctx.project_id.clone(), is_admin: state.is_admin(&ctx) };
    let all = list_db::list(&state.db, &viewer, &req.query).await?;
    let page = PageRequest { limit: Some(req.limit), marker: req.marker.clone() };
    let (mut items, more) = page.apply(all, |i| i.id.as_str()).map_err(|_| {
        ApiError::bad_request(format!("Invalid marker. Image {} could not be found.", req.marker.clone().unwrap_or_default()))
    })?;
    image_db::load_details(&state.db, &mut items).await?;
    let mut body = json!({
        "images": items.iter().map(view::image).collect::<Vec<_>>(),
        "first": "/v2/images",
        "schema": "/v2/schemas/images",
    });
    if more {
        if let Some(last) = items.last() {
            body["next"] = json!(monostack_common::pagination::next_link("/v2/images", &raw, &last.id));
        }
    }
    Ok(Json(body))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let found = state.find(&id, &ctx).await?;
    state.authorize_on("get_image", &found, &ctx)?;
    Ok(Json(view::image(&found.image)))
}

async fn update(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> ApiResult<Json<Value>> {
    let ops = patch::parse(&headers, &body)?;
    let found = state.find(&id, &ctx).await?;
    state.authorize_on("modify_image", &found, &ctx)?;
    let before = found.image.status.clone();
    let mut img = found.image.clone();
    patch::apply(&mut img, &ops)?;
    check_counts(&state, &img)?;
    let target = super::policy_target(&img, None);
    if img.visibility != found.image.visibility {
        match img.visibility.as_str() {
            "public" => state.authorize("publicize_image", &target, &ctx)?,
            "community" => state.authorize("communitize_image", &target, &ctx)?,
            _ => {}
        }
    }
    if img.owner != found.image.owner && !state.is_admin(&ctx) {
        return Err(ApiError::forbidden("Only admins may change the owner of an image"));
    }
    let format_changed = img.disk_format != found.image.disk_format || img.container_format != found.image.container_format;
    if format_changed && before != "queued" {
        return Err(ApiError::forbidden("disk_format and container_format can only be changed while the image is queued"));
    }
    img.updated_at = now_micros();
    if !image_db::save(&state.db, &img, &before).await? {
        return Err(ApiError::conflict(format!("Image {id} changed status during the update; retry")));
    }
    Ok(Json(view::image(&img)))
}

async fn delete(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let found = state.find(&id, &ctx).await?;
    state.authorize_on("delete_image", &found, &ctx)?;
    if found.image.protected {
        return Err(ApiError::forbidden(format!("Image {id} is protected and cannot be deleted.")));
    }
    image_db::soft_delete(&state.db, &id).await?;
    // Data goes after the record: a crash in between leaves an orphan file, never a live
    // image without its data.
    if let Err(e) = state.store.delete(&id).await {
        tracing::error!("image {id}: deleting its data failed: {e}");
    }
    let _ = state.staging.delete(&id).await;
    tracing::info!("image {id} deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn deactivate(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>) -> ApiResult<StatusCode> {
    change_activation(&state, &ctx, &id, "deactivate", "deactivated").await
}

async fn reactivate(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>) -> ApiResult<StatusCode> {
    change_activation(&state, &ctx, &id, "reactivate", "active").await
}

/// Deactivate and reactivate move between `active` and `deactivated` (both idempotent).
async fn change_activation(state: &State, ctx: &monostack_auth::AuthContext, id: &str, action: &str, to: &str) -> ApiResult<StatusCode> {
    let found = state.find(id, ctx).await?;
    state.authorize_on(action, &found, ctx)?;
    if !image_db::transition(&state.db, id, &["active", "deactivated"], to).await? {
        return Err(ApiError::forbidden(format!("Not allowed to {action} image in status '{}'", found.image.status)));
    }
    Ok(StatusCode::NO_CONTENT)
}
