//! `/os-networks` (Nova's networks proxy, gone from 2.36): the networks the caller can use,
//! read from the networking service with the caller's token, in nova-network's format (the
//! fields Neutron has no equivalent for are null). Creating, deleting and associating were
//! nova-network's and answer 410 Gone, as in Nova.

use super::caller::Caller;
use super::{ApiResult, Microversion, State};
use crate::compute_api::interfaces;
use crate::context::RequestContext;
use crate::network_api::validate::available_networks;
use crate::network_client as net;
use axum::extract::{Path, State as S};
use axum::routing::{get, post};
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/os-networks", get(index).post(gone))
        .route("/v2.1/os-networks/add", post(gone))
        .route("/v2.1/os-networks/{id}", get(show).delete(gone_id))
        .route("/v2.1/os-networks/{id}/action", post(gone_id))
}

const FIELDS: &[&str] = &[
    "id",
    "cidr",
    "netmask",
    "gateway",
    "broadcast",
    "dns1",
    "dns2",
    "cidr_v6",
    "gateway_v6",
    "label",
    "netmask_v6",
];
const ADMIN_FIELDS: &[&str] = &[
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted",
    "injected",
    "bridge",
    "vlan",
    "vpn_public_address",
    "vpn_public_port",
    "vpn_private_address",
    "dhcp_start",
    "project_id",
    "host",
    "bridge_interface",
    "multi_host",
    "priority",
    "rxtx_base",
    "mtu",
    "dhcp_server",
    "enable_dhcp",
    "share_address",
];

/// Nova's `network_dict` of a Neutron network.
fn view(network: &Value, admin: bool) -> Value {
    let mut out = Map::new();
    let known = |k: &str| match k {
        "label" => network.get("name").cloned(),
        "deleted" => Some(json!(false)),
        "created_at" | "updated_at" | "project_id" | "mtu" | "id" => network.get(k).cloned(),
        _ => None,
    };
    let fields: Vec<&str> = if admin {
        FIELDS.iter().chain(ADMIN_FIELDS).copied().collect()
    } else {
        FIELDS.to_vec()
    };
    for f in fields {
        out.insert(f.to_string(), known(f).unwrap_or(Value::Null));
    }
    Value::Object(out)
}

fn allowed(state: &State, ctx: &RequestContext, mv: Microversion, action: &str) -> ApiResult<()> {
    if mv.at_least(36) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    state.authorize(
        &format!("os_compute_api:os-networks:{action}"),
        &json!({"project_id": ctx.project_id()}),
        &ctx.auth,
    )
}

async fn index(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
) -> ApiResult<Json<Value>> {
    allowed(&state, &ctx, mv, "list")?;
    let nets = available_networks(
        state.network.as_ref(),
        &interfaces::caller_auth(&ctx),
        ctx.project_id(),
        &[],
        false,
    )
    .await
    .map_err(interfaces::network_failure)?;
    Ok(Json(
        json!({"networks": nets.iter().map(|n| view(n, ctx.is_admin)).collect::<Vec<_>>()}),
    ))
}

async fn show(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    allowed(&state, &ctx, mv, "show")?;
    match net::show(
        state.network.as_ref(),
        &interfaces::caller_auth(&ctx),
        "networks",
        &id,
    )
    .await
    {
        Ok(n) => Ok(Json(json!({"network": view(&n, ctx.is_admin)}))),
        Err(e) if e.is_not_found() => Err(ApiError::not_found(format!(
            "Network {id} could not be found."
        ))),
        Err(e) => Err(interfaces::network_failure(e)),
    }
}

async fn gone(mv: Microversion) -> ApiResult<Json<Value>> {
    if mv.at_least(36) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    Err(ApiError::new(
        http::StatusCode::GONE,
        "Network creation, deletion and association were removed with nova-network.",
    ))
}

async fn gone_id(mv: Microversion, Path(_id): Path<String>) -> ApiResult<Json<Value>> {
    gone(mv).await
}
