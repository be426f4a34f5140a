//! `GET /`: the version discovery document, without a token.

use super::{json_response, State};
use crate::microversion::{Version, MAX, MIN};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;

pub fn routes() -> Router<State> {
    Router::new().route("/", get(home))
}

async fn home(version: Version) -> Response {
    let body = json!({"versions": [{
        "id": format!("v{MIN}"),
        "max_version": MAX.to_string(),
        "min_version": MIN.to_string(),
        "status": "CURRENT",
        "links": [{"rel": "self", "href": ""}],
    }]});
    json_response(StatusCode::OK, version, None, body)
}
