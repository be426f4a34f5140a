//! `GET /allocation_candidates` (1.10+), rendered in the shape of each microversion.

use super::{candidate_query, json_response, query, ApiResult, State};
use crate::microversion::{self, Version};
use crate::types::{AllocationCandidates, CandidateQuery};
use axum::extract::{RawQuery, State as S};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

pub fn routes() -> Router<State> {
    Router::new().route("/allocation_candidates", get(list))
}

async fn list(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    microversion::require(version, 10)?;
    state.authorize("placement:allocation_candidates:list", &ctx, None)?;
    let q = candidate_query::parse(&query::pairs(raw.as_deref()), version)?;
    let found = state.allocation_candidates(&q, version.at_least(29)).await?;
    Ok(json_response(StatusCode::OK, version, None, render(&found, &q, version)))
}

/// The response body at `version`.
pub fn render(c: &AllocationCandidates, q: &CandidateQuery, version: Version) -> Value {
    let requests: Vec<Value> = c
        .allocation_requests
        .iter()
        .map(|r| {
            if !version.at_least(12) {
                let list: Vec<Value> = r.allocations.iter().map(|(rp, a)| json!({"resource_provider": {"uuid": rp}, "resources": a.resources})).collect();
                return json!({ "allocations": list });
            }
            let allocs: Map<String, Value> = r.allocations.iter().map(|(rp, a)| (rp.clone(), json!({"resources": a.resources}))).collect();
            let mut v = json!({ "allocations": allocs });
            if version.at_least(34) {
                v["mappings"] = json!(r.mappings);
            }
            v
        })
        .collect();
    let requested: BTreeSet<&String> = q.groups.values().flat_map(|g| g.resources.keys()).collect();
    let summaries: Map<String, Value> = c
        .provider_summaries
        .iter()
        .map(|(rp, s)| {
            let resources: Map<String, Value> = s
                .resources
                .iter()
                .filter(|(rc, _)| version.at_least(27) || requested.contains(rc))
                .map(|(rc, r)| (rc.clone(), json!({"capacity": r.capacity, "used": r.used})))
                .collect();
            let mut v = json!({ "resources": resources });
            if version.at_least(17) {
                v["traits"] = json!(s.traits);
            }
            if version.at_least(29) {
                v["parent_provider_uuid"] = json!(s.parent_provider_uuid);
                v["root_provider_uuid"] = json!(s.root_provider_uuid);
            }
            (rp.clone(), v)
        })
        .collect();
    json!({"allocation_requests": requests, "provider_summaries": summaries})
}
