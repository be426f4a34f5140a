//! `POST /reshaper` (1.30+): inventories and allocations changed together.

use super::{empty, json_body, ApiResult, State};
use crate::microversion::{self, Version};
use crate::service::allocations::{ConsumerWrite, GenerationCheck};
use crate::service::reshaper::ReshapeInventories;
use crate::service::{canonical_uuid, require_uuid};
use crate::types::{Inventory, PutAllocations};
use axum::body::Bytes;
use axum::extract::State as S;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_common::ApiError;
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn routes() -> Router<State> {
    Router::new().route("/reshaper", post(reshape))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderInventories {
    resource_provider_generation: i64,
    inventories: BTreeMap<String, Inventory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    inventories: BTreeMap<String, ProviderInventories>,
    allocations: BTreeMap<String, PutAllocations>,
}

async fn reshape(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    microversion::require(version, 30)?;
    state.authorize("placement:reshaper:reshape", &ctx, None)?;
    let body: Body = json_body(&headers, &body)?;
    let mut inventories = BTreeMap::new();
    for (rp, inv) in body.inventories {
        inventories.insert(require_uuid(&rp, "resource provider uuid")?, ReshapeInventories { generation: inv.resource_provider_generation, inventories: inv.inventories });
    }
    let mut writes = Vec::new();
    for (consumer, a) in body.allocations {
        let consumer = canonical_uuid(&consumer).ok_or_else(|| ApiError::bad_request(format!("JSON does not validate: '{consumer}' is not a 'uuid'")))?;
        if version.at_least(38) != a.consumer_type.is_some() {
            return Err(ApiError::bad_request("JSON does not validate: 'consumer_type' is required from 1.38 and unknown before"));
        }
        writes.push(ConsumerWrite {
            consumer_uuid: consumer,
            project_id: a.project_id,
            user_id: a.user_id,
            generation: GenerationCheck::Expect(a.consumer_generation),
            consumer_type: a.consumer_type,
            allocations: a.allocations.into_iter().map(|(rp, r)| (rp, r.resources)).collect(),
        });
    }
    state.reshape(inventories, writes).await?;
    Ok(empty(StatusCode::NO_CONTENT, None))
}
