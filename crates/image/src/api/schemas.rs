//! `GET /v2/schemas/{image,images,member,members}`: the JSON schemas clients validate with.

use super::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2/schemas/image", get(|| async { Json::<Value>(crate::schemas::image()) }))
        .route("/v2/schemas/images", get(|| async { Json::<Value>(crate::schemas::images()) }))
        .route("/v2/schemas/member", get(|| async { Json::<Value>(crate::schemas::member()) }))
        .route("/v2/schemas/members", get(|| async { Json::<Value>(crate::schemas::members()) }))
}
