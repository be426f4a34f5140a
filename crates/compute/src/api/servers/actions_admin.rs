//! Actions about who may touch a server and what it shows: lock and unlock, admin state
//! reset and network injection, snapshots and backups, consoles, security groups.

use super::super::input;
use super::super::{validation, ApiResult};
use super::actions::{accepted, Action};
use crate::compute_api::{actions, console, lock, snapshot};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub async fn run(a: Action<'_>, name: &str) -> ApiResult<Response> {
    match name {
        "lock" => lock_action(a).await,
        "unlock" => unlock_action(a).await,
        "os-resetState" => {
            let body = input::object(a.body, "os-resetState")?;
            input::only(body, &["state"], Some("os-resetState"))?;
            input::required(body, &["state"], "os-resetState")?;
            let state = validation::one_of("state", &body["state"], &["active", "error"])?;
            let vm_state = actions::RESET_STATES.iter().find(|(api, _)| *api == state).map(|(_, vm)| *vm).unwrap_or(state);
            let instance = a.authorized("os_compute_api:os-admin-actions:reset_state", false).await?;
            actions::reset_state(a.state, a.ctx, &instance, vm_state).await?;
            Ok(accepted())
        }
        "injectNetworkInfo" => {
            let instance = a.authorized("os_compute_api:os-admin-actions:inject_network_info", false).await?;
            actions::inject_network_info(a.state, a.ctx, &instance).await?;
            Ok(accepted())
        }
        "resetNetwork" => Err(ApiError::new(StatusCode::GONE, "Gone")),
        "createImage" => create_image(a).await,
        "createBackup" => create_backup(a).await,
        "os-getConsoleOutput" => console_output(a).await,
        "os-getVNCConsole" => legacy_console(a, "os-getVNCConsole", "vnc", &["novnc", "xvpvnc"]).await,
        "os-getSPICEConsole" => legacy_console(a, "os-getSPICEConsole", "spice", &["spice-html5"]).await,
        "os-getSerialConsole" => legacy_console(a, "os-getSerialConsole", "serial", &["serial"]).await,
        "os-getRDPConsole" if !a.mv.at_least(6) => Err(ApiError::bad_request("Unavailable console type rdp-html5.")),
        "addSecurityGroup" | "removeSecurityGroup" => security_group(a, name).await,
        _ => Err(ApiError::not_found("The resource could not be found.")),
    }
}

async fn lock_action(a: Action<'_>) -> ApiResult<Response> {
    let mut reason = None;
    if a.mv.at_least(73) && !a.body.is_null() {
        let body = input::object(a.body, "lock")?;
        input::only(body, &["locked_reason"], Some("lock"))?;
        reason = body.get("locked_reason").map(|v| input::string(v, "locked_reason", 1, 255).map(str::to_string)).transpose()?;
    }
    let instance = a.authorized("os_compute_api:os-lock-server:lock", true).await?;
    lock::lock(a.state, a.ctx, &instance, reason).await?;
    Ok(accepted())
}

async fn unlock_action(a: Action<'_>) -> ApiResult<Response> {
    let instance = a.authorized("os_compute_api:os-lock-server:unlock", false).await?;
    if !lock::is_expected_locked_by(a.ctx, &instance) {
        a.state.authorize("os_compute_api:os-lock-server:unlock:unlock_override", &json!({"project_id": instance.project_id}), &a.ctx.auth)?;
    }
    lock::unlock(a.state, a.ctx, &instance).await?;
    Ok(accepted())
}

fn image_metadata(body: &input::Object) -> ApiResult<BTreeMap<String, String>> {
    Ok(body
        .get("metadata")
        .map(|v| input::metadata(v, "metadata", false, false))
        .transpose()?
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect())
}

/// The answer of a snapshot or backup: the image id from 2.45, before a Location header.
fn image_answer(a: &Action<'_>, image_id: &str, with_location: bool) -> Response {
    if a.mv.at_least(45) {
        return (StatusCode::ACCEPTED, Json(json!({"image_id": image_id}))).into_response();
    }
    let mut resp = accepted();
    if with_location {
        let config = &a.state.config;
        let url = format!("http://{}:{}/v2/images/{image_id}", config.public_host(), config.image.port);
        if let Ok(v) = HeaderValue::from_str(&url) {
            resp.headers_mut().insert("location", v);
        }
    }
    resp
}

async fn create_image(a: Action<'_>) -> ApiResult<Response> {
    let body = input::object(a.body, "createImage")?;
    input::only(body, &["name", "metadata"], Some("createImage"))?;
    input::required(body, &["name"], "createImage")?;
    let name = input::name(&body["name"], "name")?.trim().to_string();
    let metadata = image_metadata(body)?;
    let instance = a.authorized("os_compute_api:servers:create_image", false).await?;
    if !a.mv.at_least(39) {
        snapshot::check_image_metadata_quota(a.state, a.ctx, &metadata).await?;
    }
    let image_id = snapshot::snapshot(a.state, a.ctx, &instance, &name, metadata).await?;
    Ok(image_answer(&a, &image_id, true))
}

async fn create_backup(a: Action<'_>) -> ApiResult<Response> {
    let body = input::object(a.body, "createBackup")?;
    input::only(body, &["name", "backup_type", "rotation", "metadata"], Some("createBackup"))?;
    input::required(body, &["name", "backup_type", "rotation"], "createBackup")?;
    let name = input::name(&body["name"], "name")?.trim().to_string();
    let backup_type = input::string(&body["backup_type"], "backup_type", 0, usize::MAX)?.to_string();
    let rotation = input::integer(&body["rotation"], "rotation", 0, i64::MAX)?;
    let metadata = image_metadata(body)?;
    let instance = a.authorized("os_compute_api:os-create-backup", false).await?;
    if !a.mv.at_least(39) {
        snapshot::check_image_metadata_quota(a.state, a.ctx, &metadata).await?;
    }
    let image_id = snapshot::backup(a.state, a.ctx, &instance, &name, &backup_type, rotation, metadata).await?;
    Ok(image_answer(&a, &image_id, rotation > 0))
}

async fn console_output(a: Action<'_>) -> ApiResult<Response> {
    let body = input::object(a.body, "os-getConsoleOutput")?;
    input::only(body, &["length"], Some("os-getConsoleOutput"))?;
    let length = match body.get("length") {
        None | Some(Value::Null) => None,
        Some(v) => Some(input::integer(v, "length", -1, i64::MAX)?),
    };
    let instance = a.authorized("os_compute_api:os-console-output", false).await?;
    let output = console::console_output(a.state, a.ctx, &instance, length).await?;
    Ok(Json(json!({"output": output})).into_response())
}

/// The console actions replaced by `POST /servers/{id}/remote-consoles` in 2.6.
async fn legacy_console(a: Action<'_>, action: &str, protocol: &str, types: &[&str]) -> ApiResult<Response> {
    if a.mv.at_least(6) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    let body = input::object(a.body, action)?;
    input::only(body, &["type"], Some(action))?;
    input::required(body, &["type"], action)?;
    let console_type = validation::one_of("type", &body["type"], types)?.to_string();
    a.state.authorize("os_compute_api:os-remote-consoles", &json!({"project_id": a.ctx.project_id()}), &a.ctx.auth)?;
    let instance = crate::compute_api::get_instance(a.state, a.ctx, a.id).await?;
    let url = console::remote_console(a.state, a.ctx, &instance, protocol, &console_type).await?;
    Ok(Json(json!({"console": {"type": console_type, "url": url}})).into_response())
}

/// `addSecurityGroup` / `removeSecurityGroup`: the group (name or id) on every port of the
/// server, in the networking service.
async fn security_group(a: Action<'_>, action: &str) -> ApiResult<Response> {
    let body = input::object(a.body, action)?;
    input::only(body, &["name"], Some(action))?;
    input::required(body, &["name"], action)?;
    let name = input::string(&body["name"], "name", 1, usize::MAX)?.to_string();
    let rule = if action == "addSecurityGroup" { "os_compute_api:os-security-groups:add" } else { "os_compute_api:os-security-groups:remove" };
    let instance = a.authorized(rule, false).await?;
    crate::compute_api::interfaces::change_security_group(a.state, a.ctx, &instance, &name, action == "addSecurityGroup").await?;
    Ok(accepted())
}
