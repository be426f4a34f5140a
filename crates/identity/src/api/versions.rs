//! Version discovery at `/` and `/v3`.

use super::{json_status, ok, State};
use axum::extract::State as S;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/", get(root))
        .route("/v3", get(v3))
        .route("/v3/", get(v3))
}

fn version(state: &State) -> Value {
    json!({
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{}/v3/", state.public_url)}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    })
}

async fn root(S(state): S<State>) -> Response {
    json_status(StatusCode::MULTIPLE_CHOICES, json!({"versions": {"values": [version(&state)]}}))
}

async fn v3(S(state): S<State>) -> Response {
    ok(json!({"version": version(&state)}))
}
