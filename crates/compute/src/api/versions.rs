//! Version discovery: `GET /` lists v2.0 and v2.1, `GET /v2.1` describes v2.1 with its
//! microversion range, `GET /v2` describes v2.0 (Nova's legacy API, served by the v2.1 code at
//! 2.1: see [`super::microversion::LegacyV2`]). None of them needs a token.

use super::microversion::{MAX, MIN};
use super::State;
use axum::extract::State as S;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/", get(list))
        .route("/v2", get(legacy))
        .route("/v2/", get(legacy))
        .route("/v2.1", get(current))
        .route("/v2.1/", get(current))
}

fn v20(base: &str) -> Value {
    json!({
        "id": "v2.0",
        "status": "SUPPORTED",
        "version": "",
        "min_version": "",
        "updated": "2011-01-21T11:33:21Z",
        "links": [{"rel": "self", "href": format!("{base}/v2/")}],
    })
}

fn v21(base: &str) -> Value {
    json!({
        "id": "v2.1",
        "status": "CURRENT",
        "version": MAX.to_string(),
        "min_version": MIN.to_string(),
        "updated": "2013-07-23T11:33:21Z",
        "links": [{"rel": "self", "href": format!("{base}/v2.1/")}],
    })
}

async fn list(S(state): S<State>) -> Json<Value> {
    Json(json!({"versions": [v20(&state.public_url), v21(&state.public_url)]}))
}

/// One version's document: its summary with its media type and documentation link.
fn document(mut version: Value, media_version: &str) -> Json<Value> {
    version["media-types"] = json!([{"base": "application/json", "type": format!("application/vnd.openstack.compute+json;version={media_version}")}]);
    if let Some(links) = version["links"].as_array_mut() {
        links.push(json!({"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}));
    }
    Json(json!({"version": version}))
}

async fn legacy(S(state): S<State>) -> Json<Value> {
    document(v20(&state.public_url), "2")
}

async fn current(S(state): S<State>) -> Json<Value> {
    document(v21(&state.public_url), "2.1")
}
