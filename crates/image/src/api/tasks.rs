//! Tasks: `GET /v2/images/{id}/tasks` (the imports of an image) and the legacy tasks API
//! (`/v2/tasks`, admin only by default), whose `import` task fetches an image from a URL.

use super::{attributes, import::download_url, view, ApiResult, State};
use crate::db::tasks::{self, Task};
use crate::db::{images as image_db, ImageRecord};
use crate::import::{self, Method};
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use monostack_common::json::parse_json;
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2/images/{id}/tasks", get(of_image))
        .route("/v2/tasks", get(list).post(create))
        .route("/v2/tasks/{id}", get(show))
}

async fn of_image(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let found = state.find(&id, &ctx).await?;
    state.authorize_on("get_image", &found, &ctx)?;
    let list = tasks::list(&state.db, Some(&id)).await?;
    Ok(Json(json!({"tasks": list.iter().map(view::task).collect::<Vec<_>>()})))
}

fn legacy_access(state: &State, action: &str, ctx: &AuthContext) -> ApiResult<()> {
    state.authorize("tasks_api_access", &json!({}), ctx)?;
    state.authorize(action, &json!({}), ctx)
}

async fn list(S(state): S<State>, Authenticated(ctx): Authenticated) -> ApiResult<Json<Value>> {
    legacy_access(&state, "get_tasks", &ctx)?;
    let admin = state.is_admin(&ctx);
    let list: Vec<Value> = tasks::list(&state.db, None)
        .await?
        .iter()
        .filter(|t| admin || t.owner == ctx.project_id)
        .map(view::task)
        .collect();
    Ok(Json(json!({"tasks": list, "first": "/v2/tasks", "schema": "/v2/schemas/tasks"})))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    legacy_access(&state, "get_task", &ctx)?;
    let task = tasks::get(&state.db, &id).await?.filter(|t| state.is_admin(&ctx) || t.owner == ctx.project_id);
    let task = task.ok_or_else(|| ApiError::not_found(format!("Task with identifier {id} not found")))?;
    Ok(Json(view::task(&task)))
}

/// `POST /v2/tasks` with `type: import`: creates the image from `image_properties` and fetches
/// its data from `import_from`.
async fn create(S(state): S<State>, Authenticated(ctx): Authenticated, body: Bytes) -> ApiResult<Response> {
    legacy_access(&state, "add_task", &ctx)?;
    let body: Value = parse_json(&body)?;
    if body.get("type").and_then(Value::as_str) != Some("import") {
        return Err(ApiError::bad_request("Task type must be 'import'"));
    }
    let input = body.get("input").and_then(Value::as_object).ok_or_else(|| ApiError::bad_request("Task needs an 'input' object"))?;
    let uri = input.get("import_from").and_then(Value::as_str).ok_or_else(|| ApiError::bad_request("Task input needs 'import_from'"))?;
    let uri = download_url(uri)?;
    let mut img = ImageRecord::new(ctx.project_id.clone(), "importing");
    if let Some(props) = input.get("image_properties").and_then(Value::as_object) {
        for (name, value) in props {
            attributes::set(&mut img, name, value)?;
        }
    }
    if let Some(owner) = &img.owner {
        crate::quota::check_create(&state, owner).await?;
    }
    image_db::insert(&state.db, &img).await?;
    let task = Task::new("import", ctx.project_id.clone(), &ctx.user_id, input.clone());
    let shown = view::task(&Task { image_id: Some(img.id.clone()), ..task.clone() });
    import::spawn(state.clone(), img.id.clone(), Method::WebDownload(uri), vec![state.store.id().to_string()], task).await?;
    Ok((StatusCode::CREATED, Json(shown)).into_response())
}
