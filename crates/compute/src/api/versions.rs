//! Version discovery: `GET /` lists v2.0 and v2.1, `GET /v2.1` describes v2.1 with its
//! microversion range. Neither needs a token.

use super::microversion::{MAX, MIN};
use super::State;
use axum::extract::State as S;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/", get(list))
        .route("/v2.1", get(current))
        .route("/v2.1/", get(current))
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
    let v20 = json!({
        "id": "v2.0",
        "status": "SUPPORTED",
        "version": "",
        "min_version": "",
        "updated": "2011-01-21T11:33:21Z",
        "links": [{"rel": "self", "href": format!("{}/v2/", state.public_url)}],
    });
    Json(json!({"versions": [v20, v21(&state.public_url)]}))
}

async fn current(S(state): S<State>) -> Json<Value> {
    let mut version = v21(&state.public_url);
    version["media-types"] = json!([{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}]);
    if let Some(links) = version["links"].as_array_mut() {
        links.push(json!({"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}));
    }
    Json(json!({"version": version}))
}
