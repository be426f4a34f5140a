//! `GET /v2.0/availability_zones`: the zones networks (and, later, routers) may be placed in.

use super::query::ListQuery;
use super::{json, root::base_url, State};
use crate::error::NeutronResult;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new().route("/v2.0/availability_zones", get(list))
}

/// The zone names known: the agents' zone and the configured defaults.
pub fn zone_names(state: &State) -> Vec<String> {
    let mut names = vec![state.config.network.availability_zone.clone()];
    for z in &state.config.network.default_availability_zones {
        if !names.contains(z) {
            names.push(z.clone());
        }
    }
    names
}

async fn list(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(_ctx): Authenticated,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> NeutronResult<Response> {
    let q = ListQuery::parse(raw.as_deref())?;
    let mut zones = Vec::new();
    for name in zone_names(&state) {
        for resource in ["network", "router"] {
            if let Value::Object(m) =
                json!({"name": name, "resource": resource, "state": "available"})
            {
                zones.push(m);
            }
        }
    }
    let url = format!("{}/v2.0/availability_zones", base_url(&headers, &state));
    let (page, _) = q.apply(zones, &url)?;
    Ok(json(StatusCode::OK, json!({ "availability_zones": page })))
}
