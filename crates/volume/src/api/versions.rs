//! Version discovery: `GET /` (300 Multiple Choices) and `GET /v3/` list Cinder's one API
//! version with its microversion range. Neither needs a token.

use super::microversion::{MAX, MIN};
use super::State;
use axum::extract::State as S;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// When Cinder's newest microversion was published (its `UPDATED`).
const UPDATED: &str = "2023-08-31T00:00:00Z";

pub fn routes() -> Router<State> {
    Router::new()
        .route("/", get(all))
        .route("/v3", get(current))
        .route("/v3/", get(current))
}

fn versions(base: &str) -> Value {
    json!({"versions": [{
        "id": "v3.0",
        "status": "CURRENT",
        "version": MAX.to_string(),
        "min_version": MIN.to_string(),
        "updated": UPDATED,
        "links": [
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
            {"rel": "self", "href": format!("{base}/v3/")},
        ],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}],
    }]})
}

async fn all(S(state): S<State>) -> Response {
    (
        StatusCode::MULTIPLE_CHOICES,
        Json(versions(&state.public_url)),
    )
        .into_response()
}

async fn current(S(state): S<State>) -> Json<Value> {
    Json(versions(&state.public_url))
}
