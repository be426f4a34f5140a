//! `PUT /servers/{id}`: name, description (2.19), access addresses, disk config and hostname
//! (2.90). Nova does not refuse updates of locked servers.

use super::super::caller::Caller;
use super::super::input;
use super::super::{validation, ApiResult, Microversion, State};
use super::view::{self, Options, Related};
use crate::compute_api;
use crate::db::instances::{self, Changes};
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::Json;
use serde_json::{json, Value};

fn allowed(mv: Microversion) -> Vec<&'static str> {
    let mut keys = vec!["name", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6"];
    if mv.at_least(19) {
        keys.push("description");
    }
    if mv.at_least(90) {
        keys.push("hostname");
    }
    keys
}

fn changes(server: &input::Object, mv: Microversion) -> ApiResult<Changes> {
    let mut c = Changes::new();
    if let Some(v) = server.get("name") {
        c = c.set("display_name", input::name(v, "name")?.trim());
    }
    if let Some(v) = server.get("description") {
        c = c.set("display_description", input::description(v, "description", 255)?);
    }
    if let Some(v) = server.get("accessIPv4") {
        c = c.set("access_ip_v4", validation::ipv4("accessIPv4", v)?);
    }
    if let Some(v) = server.get("accessIPv6") {
        c = c.set("access_ip_v6", validation::ipv6("accessIPv6", v)?);
    }
    if let Some(v) = server.get("OS-DCF:diskConfig") {
        c = c.set("auto_disk_config", validation::one_of("OS-DCF:diskConfig", v, &["AUTO", "MANUAL"])? == "AUTO");
    }
    if let Some(v) = server.get("hostname") {
        let hostname = if mv.at_least(94) { validation::fqdn("hostname", v)? } else { validation::hostname("hostname", v)? };
        c = c.set("hostname", hostname);
    }
    Ok(c)
}

pub async fn update(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    let body = input::parse(&body)?;
    let server = input::root(&body, "server")?;
    input::only(server, &allowed(mv), Some("server"))?;
    let c = changes(server, mv)?;
    let instance = compute_api::get_instance(&state, &ctx, &id).await?;
    state.authorize("os_compute_api:servers:update", &json!({"project_id": instance.project_id, "user_id": instance.user_id}), &ctx.auth)?;
    if !c.0.is_empty() {
        instances::update(&state.db, &id, &c, None).await?;
    }
    let instance = compute_api::get_instance(&state, &ctx, &id).await?;
    let opts = Options::after_change(&state, &ctx, mv, &instance.project_id);
    let related = Related::load(&state, std::slice::from_ref(&instance), &opts).await?;
    Ok(Json(json!({"server": view::show(&state, &instance, &related, &opts)})))
}
