//! `POST /os-server-external-events` (services and admins): events about servers from other
//! services, forwarded to the servers' compute agents.

use super::caller::Caller;
use super::input;
use super::{validation, ApiResult, Microversion, State};
use crate::compute_api::events;
use crate::rpc::compute::ExternalEvent;
use axum::body::Bytes;
use axum::extract::State as S;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new().route("/v2.1/os-server-external-events", post(create))
}

fn event_names(mv: Microversion) -> Vec<&'static str> {
    let mut names = vec!["network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted"];
    let versioned: &[(u16, &str)] = &[(51, "volume-extended"), (76, "power-update"), (82, "accelerator-request-bound"), (93, "volume-reimaged")];
    names.extend(versioned.iter().filter(|(v, _)| mv.at_least(*v)).map(|(_, n)| *n));
    names
}

fn parse(body: &Value, mv: Microversion) -> ApiResult<Vec<(ExternalEvent, Value)>> {
    let list = validation::single_key(body, "events")?;
    let items = validation::array("events", list, None)?;
    if items.is_empty() {
        return Err(input::invalid("events", list, "[] should be non-empty"));
    }
    let names = event_names(mv);
    let mut out = Vec::new();
    for item in items {
        let obj = input::object(item, "events")?;
        input::only(obj, &["name", "server_uuid", "status", "tag"], Some("events"))?;
        input::required(obj, &["name", "server_uuid"], "events")?;
        let name = validation::one_of("name", &obj["name"], &names)?.to_string();
        let server_uuid = validation::uuid("server_uuid", &obj["server_uuid"])?;
        let status = match obj.get("status") {
            Some(v) => validation::one_of("status", v, &["failed", "completed", "in-progress"])?.to_string(),
            None => "completed".to_string(),
        };
        let tag = obj.get("tag").map(|v| input::string(v, "tag", 0, 255).map(str::to_string)).transpose()?;
        out.push((ExternalEvent { server_uuid, name, status, tag }, item.clone()));
    }
    Ok(out)
}

async fn create(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = input::parse(&body)?;
    let parsed = parse(&body, mv)?;
    state.authorize("os_compute_api:os-server-external-events:create", &json!({}), &ctx.auth)?;
    let events: Vec<ExternalEvent> = parsed.iter().map(|(e, _)| e.clone()).collect();
    let outcomes = events::submit(&state, &ctx, &events).await?;
    let mut all_ok = true;
    let mut answered = Vec::new();
    for ((_, raw), outcome) in parsed.into_iter().zip(outcomes) {
        let mut e = raw;
        e["status"] = json!(outcome.status);
        e["code"] = json!(outcome.code);
        all_ok &= outcome.code == 200;
        answered.push(e);
    }
    let status = if all_ok { StatusCode::OK } else { StatusCode::MULTI_STATUS };
    if answered.is_empty() {
        return Err(ApiError::bad_request("No events"));
    }
    Ok((status, Json(json!({"events": answered}))))
}
