//! Version discovery: `GET /` and `GET /versions` list the API versions (300 Multiple Choices
//! at the root, as Glance answers).

use super::State;
use axum::extract::State as S;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// Minor versions of Image API v2 this service speaks; the last is CURRENT.
const MINORS: u32 = 17;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/", get(root))
        .route("/versions", get(list))
        .route("/v2", get(list))
        .route("/v2/", get(list))
}

fn document(base: &str) -> Value {
    let versions: Vec<Value> = (0..=MINORS)
        .rev()
        .map(|minor| {
            json!({
                "id": format!("v2.{minor}"),
                "status": if minor == MINORS { "CURRENT" } else { "SUPPORTED" },
                "links": [{"rel": "self", "href": format!("{base}/v2/")}],
            })
        })
        .collect();
    json!({ "versions": versions })
}

async fn root(S(state): S<State>) -> Response {
    (StatusCode::MULTIPLE_CHOICES, Json(document(&state.public_url))).into_response()
}

async fn list(S(state): S<State>) -> Json<Value> {
    Json(document(&state.public_url))
}
