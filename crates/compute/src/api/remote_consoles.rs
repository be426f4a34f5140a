//! `POST /servers/{id}/remote-consoles` (2.6): a URL of a VNC, SPICE, serial or MKS (2.8)
//! console, from the server's compute agent.

use super::caller::Caller;
use super::input;
use super::{validation, ApiResult, Microversion, State};
use crate::compute_api::{self, console};
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::routing::post;
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new().route("/v2.1/servers/{id}/remote-consoles", post(create))
}

async fn create(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    if !mv.at_least(6) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    let body = input::parse(&body)?;
    let console_req = input::root(&body, "remote_console")?;
    input::only(console_req, &["protocol", "type"], Some("remote_console"))?;
    input::required(console_req, &["protocol", "type"], "remote_console")?;
    let mut protocols = vec!["vnc", "spice", "serial", "rdp"];
    let mut types = vec!["novnc", "xvpvnc", "spice-html5", "serial", "rdp-html5"];
    if mv.at_least(8) {
        protocols.push("mks");
        types.push("webmks");
    }
    let protocol = validation::one_of("protocol", &console_req["protocol"], &protocols)?.to_string();
    let console_type = validation::one_of("type", &console_req["type"], &types)?.to_string();
    let instance = compute_api::get_instance(&state, &ctx, &id).await?;
    state.authorize("os_compute_api:os-remote-consoles", &json!({"project_id": instance.project_id}), &ctx.auth)?;
    if protocol == "rdp" {
        return Err(ApiError::bad_request("Unavailable console type rdp."));
    }
    let url = console::remote_console(&state, &ctx, &instance, &protocol, &console_type).await?;
    Ok(Json(json!({"remote_console": {"protocol": protocol, "type": console_type, "url": url}})))
}
