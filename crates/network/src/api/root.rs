//! `GET /` (the version list, without a token) and `GET /v2.0` (the resources of v2.0).

use super::{json, State};
use axum::extract::OriginalUri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;

pub fn routes() -> Router<State> {
    Router::new().route("/", get(versions))
}

pub fn v2_routes() -> Router<State> {
    Router::new()
        .route("/v2.0", get(v2))
        .route("/v2.0/", get(v2))
}

/// The base URL clients reached us at (the Host header), for links.
pub fn base_url(headers: &HeaderMap, state: &State) -> String {
    match headers.get("host").and_then(|h| h.to_str().ok()) {
        Some(host) => format!("http://{host}"),
        None => format!(
            "http://{}:{}",
            state.config.public_host(),
            state.config.network.port
        ),
    }
}

async fn versions(
    axum::extract::State(state): axum::extract::State<State>,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&headers, &state);
    json(
        StatusCode::OK,
        json!({"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": format!("{base}/v2.0/")}]}]}),
    )
}

/// The collections of v2.0 this server serves.
pub const RESOURCES: &[(&str, &str)] = &[
    ("network", "networks"),
    ("subnet", "subnets"),
    ("port", "ports"),
    ("security_group", "security-groups"),
    ("security_group_rule", "security-group-rules"),
    ("quota", "quotas"),
    ("subnetpool", "subnetpools"),
    ("address_scope", "address-scopes"),
    ("network_ip_availability", "network-ip-availabilities"),
];

async fn v2(
    axum::extract::State(state): axum::extract::State<State>,
    headers: HeaderMap,
    _uri: OriginalUri,
) -> Response {
    let base = base_url(&headers, &state);
    let resources: Vec<_> = RESOURCES
        .iter()
        .map(|(name, collection)| json!({"name": name, "collection": collection, "links": [{"rel": "self", "href": format!("{base}/v2.0/{collection}")}]}))
        .collect();
    json(StatusCode::OK, json!({ "resources": resources }))
}
