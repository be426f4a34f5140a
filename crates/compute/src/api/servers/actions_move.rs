//! Actions that rebuild or move a server: rebuild, resize and its confirmation, cold and live
//! migration, evacuation, and shelving.

use super::super::input::{self, Object};
use super::super::{validation, ApiResult};
use super::actions::{accepted, Action};
use super::view::{self, Options, Related};
use crate::compute_api::migrate::{self, Evacuation};
use crate::compute_api::rebuild::{self, RebuildRequest};
use crate::compute_api::shelve::{self, UnshelveTarget};
use crate::compute_api;
use crate::db::services as service_db;
use crate::states::vm;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use monostack_common::ApiError;
use serde_json::{json, Value};

pub async fn run(a: Action<'_>, name: &str) -> ApiResult<Response> {
    match name {
        "rebuild" => rebuild_action(a).await,
        "resize" => resize(a).await,
        "confirmResize" => {
            let instance = a.authorized("os_compute_api:servers:confirm_resize", false).await?;
            migrate::confirm_resize(a.state, a.ctx, &instance).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        "revertResize" => {
            let instance = a.authorized("os_compute_api:servers:revert_resize", false).await?;
            migrate::revert_resize(a.state, a.ctx, &instance).await?;
            Ok(accepted())
        }
        "migrate" => migrate_action(a).await,
        "os-migrateLive" => live_migrate(a).await,
        "evacuate" => evacuate(a).await,
        "shelve" => {
            let instance = a.authorized("os_compute_api:os-shelve:shelve", true).await?;
            shelve::shelve(a.state, a.ctx, &instance).await?;
            Ok(accepted())
        }
        "shelveOffload" => {
            let instance = a.authorized("os_compute_api:os-shelve:shelve_offload", true).await?;
            shelve::shelve_offload(a.state, a.ctx, &instance).await?;
            Ok(accepted())
        }
        "unshelve" => unshelve(a).await,
        _ => Err(ApiError::bad_request(format!("There is no such action: {name}"))),
    }
}

fn rebuild_keys(a: &Action<'_>) -> Vec<&'static str> {
    let mv = a.mv;
    let mut keys = vec!["name", "imageRef", "adminPass", "metadata", "preserve_ephemeral", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6"];
    let versioned: &[(u16, &str)] = &[(19, "description"), (54, "key_name"), (57, "user_data"), (63, "trusted_image_certificates"), (90, "hostname")];
    keys.extend(versioned.iter().filter(|(v, _)| mv.at_least(*v)).map(|(_, k)| *k));
    if !mv.at_least(57) {
        keys.push("personality");
    }
    keys
}

fn nullable<T>(body: &Object, key: &str, check: impl Fn(&Value) -> ApiResult<T>) -> ApiResult<Option<Option<T>>> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(v) => check(v).map(|t| Some(Some(t))),
    }
}

fn rebuild_request(a: &Action<'_>, body: &Object) -> ApiResult<RebuildRequest> {
    let opt = |key: &str| body.get(key);
    Ok(RebuildRequest {
        image_ref: validation::uuid("imageRef", &body["imageRef"])?,
        admin_password: opt("adminPass").map(|v| input::string(v, "adminPass", 0, usize::MAX).map(str::to_string)).transpose()?,
        name: opt("name").map(|v| input::name(v, "name").map(str::to_string)).transpose()?,
        description: opt("description").map(|v| input::description(v, "description", 255)).transpose()?,
        metadata: opt("metadata")
            .map(|v| input::metadata(v, "metadata", false, false).map(|m| m.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect()))
            .transpose()?,
        preserve_ephemeral: opt("preserve_ephemeral").map(|v| input::boolean(v, "preserve_ephemeral")).transpose()?.unwrap_or(false),
        auto_disk_config: opt("OS-DCF:diskConfig").map(|v| validation::one_of("OS-DCF:diskConfig", v, &["AUTO", "MANUAL"]).map(|d| d == "AUTO")).transpose()?,
        access_ip_v4: opt("accessIPv4").map(|v| validation::ipv4("accessIPv4", v)).transpose()?,
        access_ip_v6: opt("accessIPv6").map(|v| validation::ipv6("accessIPv6", v)).transpose()?,
        personality: super::create_parts::personality(opt("personality"))?,
        key_name: nullable(body, "key_name", |v| input::string(v, "key_name", 1, 255).map(str::to_string))?,
        user_data: nullable(body, "user_data", |v| validation::base64("user_data", v, 65535))?,
        trusted_certs: nullable(body, "trusted_image_certificates", |v| {
            let items = validation::array("trusted_image_certificates", v, Some(50))?;
            items.iter().map(|i| input::string(i, "trusted_image_certificates", 1, usize::MAX).map(str::to_string)).collect()
        })?,
        hostname: opt("hostname").map(|v| if a.mv.at_least(94) { validation::fqdn("hostname", v) } else { validation::hostname("hostname", v) }).transpose()?,
    })
}

async fn rebuild_action(a: Action<'_>) -> ApiResult<Response> {
    let body = input::object(a.body, "rebuild")?;
    input::only(body, &rebuild_keys(&a), Some("rebuild"))?;
    input::required(body, &["imageRef"], "rebuild")?;
    let mut req = rebuild_request(&a, body)?;
    let password = req.admin_password.clone().unwrap_or_else(super::password::generate);
    req.admin_password = Some(password.clone());
    let instance = a.authorized("os_compute_api:servers:rebuild", true).await?;
    if req.trusted_certs.is_some() && a.mv.at_least(63) {
        a.state.authorize("os_compute_api:servers:rebuild:trusted_certs", &json!({"project_id": instance.project_id, "user_id": instance.user_id}), &a.ctx.auth)?;
    }
    rebuild::rebuild(a.state, a.ctx, &instance, req).await?;
    let instance = compute_api::get_instance(a.state, a.ctx, a.id).await?;
    let mut opts = Options::after_change(a.state, a.ctx, a.mv, &instance.project_id);
    opts.user_data = false;
    opts.keypair = opts.keypair || a.mv.at_least(54);
    let related = Related::load(a.state, std::slice::from_ref(&instance), &opts).await?;
    let mut server = view::show(a.state, &instance, &related, &opts);
    server["adminPass"] = json!(password);
    if a.mv.at_least(57) {
        server["user_data"] = json!(instance.user_data);
    }
    let mut resp = (StatusCode::ACCEPTED, Json(json!({"server": server}))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}/v2.1/servers/{}", a.state.public_url, instance.uuid)) {
        resp.headers_mut().insert("location", v);
    }
    Ok(resp)
}

async fn resize(a: Action<'_>) -> ApiResult<Response> {
    let body = input::object(a.body, "resize")?;
    input::only(body, &["flavorRef", "OS-DCF:diskConfig"], Some("resize"))?;
    input::required(body, &["flavorRef"], "resize")?;
    let flavor = match &body["flavorRef"] {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        other => return Err(input::invalid("flavorRef", other, format!("{} is not valid for a flavorRef", validation::py_repr(other)))),
    };
    let disk = body.get("OS-DCF:diskConfig").map(|v| validation::one_of("OS-DCF:diskConfig", v, &["AUTO", "MANUAL"]).map(|d| d == "AUTO")).transpose()?;
    let instance = a.authorized("os_compute_api:servers:resize", true).await?;
    migrate::resize(a.state, a.ctx, &instance, Some(&flavor), None, disk).await?;
    Ok(accepted())
}

/// A host name that may be null (`migrate`, `os-migrateLive`).
fn host_param(body: &Object) -> ApiResult<Option<String>> {
    match body.get("host") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => validation::fqdn("host", v).map(Some),
    }
}

async fn migrate_action(a: Action<'_>) -> ApiResult<Response> {
    let host = if a.mv.at_least(56) && !a.body.is_null() {
        let body = input::object(a.body, "migrate")?;
        input::only(body, &["host"], Some("migrate"))?;
        host_param(body)?
    } else {
        None
    };
    let rule = if host.is_some() { "os_compute_api:os-migrate-server:migrate:host" } else { "os_compute_api:os-migrate-server:migrate" };
    let instance = a.authorized(rule, false).await?;
    migrate::resize(a.state, a.ctx, &instance, None, host.as_deref(), None).await?;
    Ok(accepted())
}

fn block_migration(value: &Value, auto_allowed: bool) -> ApiResult<Option<bool>> {
    if auto_allowed && value.as_str() == Some("auto") {
        return Ok(None);
    }
    input::boolean(value, "block_migration").map(Some)
}

async fn live_migrate(a: Action<'_>) -> ApiResult<Response> {
    let mv = a.mv;
    let body = input::object(a.body, "os-migrateLive")?;
    let mut allowed = vec!["block_migration", "host"];
    let mut required = vec!["block_migration", "host"];
    if !mv.at_least(25) {
        allowed.push("disk_over_commit");
        required.push("disk_over_commit");
    }
    let force_allowed = mv.at_least(30) && !mv.at_least(68);
    if force_allowed {
        allowed.push("force");
    }
    input::only(body, &allowed, Some("os-migrateLive"))?;
    input::required(body, &required, "os-migrateLive")?;
    let block = block_migration(&body["block_migration"], mv.at_least(25))?;
    let disk_over_commit = body.get("disk_over_commit").map(|v| input::boolean(v, "disk_over_commit")).transpose()?;
    let host = host_param(body)?;
    let force = if force_allowed { Some(body.get("force").map(|v| input::boolean(v, "force")).transpose()?.unwrap_or(false)) } else { None };
    if force == Some(true) && host.is_none() {
        return Err(ApiError::bad_request("Can't force to a non-provided destination"));
    }
    let rule = if host.is_some() { "os_compute_api:os-migrate-server:migrate_live:host" } else { "os_compute_api:os-migrate-server:migrate_live" };
    let instance = a.authorized(rule, false).await?;
    migrate::live_migrate(a.state, a.ctx, &instance, host.as_deref(), block, disk_over_commit, force).await?;
    Ok(accepted())
}

async fn evacuate(a: Action<'_>) -> ApiResult<Response> {
    let mv = a.mv;
    let body = input::object(a.body, "evacuate")?;
    let mut allowed = vec!["host", "adminPass"];
    if !mv.at_least(14) {
        allowed.push("onSharedStorage");
    }
    if mv.at_least(29) && !mv.at_least(68) {
        allowed.push("force");
    }
    input::only(body, &allowed, Some("evacuate"))?;
    if !mv.at_least(14) {
        input::required(body, &["onSharedStorage"], "evacuate")?;
    }
    let host = body.get("host").map(|v| validation::fqdn("host", v)).transpose()?;
    let shared = body.get("onSharedStorage").map(|v| input::boolean(v, "onSharedStorage")).transpose()?;
    let password = body.get("adminPass").map(|v| input::string(v, "adminPass", 0, usize::MAX).map(str::to_string)).transpose()?;
    let force = body.get("force").map(|v| input::boolean(v, "force")).transpose()?;
    let instance = a.authorized("os_compute_api:os-evacuate", true).await?;
    let force = if mv.at_least(29) { Some(force.unwrap_or(false)) } else { None };
    if force == Some(true) && host.is_none() {
        return Err(ApiError::bad_request("Can't force to a non-provided destination"));
    }
    let password = match (mv.at_least(14), shared, password) {
        (false, Some(true), Some(_)) => return Err(ApiError::bad_request("admin password can't be changed on existing disk")),
        (false, Some(true), None) => None,
        (_, _, Some(p)) => Some(p),
        (_, _, None) => Some(super::password::generate()),
    };
    if let Some(h) = &host {
        if service_db::by_host_and_binary(&a.state.db, h, service_db::COMPUTE_BINARY).await?.is_none() {
            return Err(ApiError::not_found(format!("Compute host {h} not found.")));
        }
        if instance.host.as_deref() == Some(h.as_str()) {
            return Err(ApiError::bad_request("The target host can't be the same one."));
        }
    }
    let target_state = mv.at_least(95).then(|| vm::STOPPED.to_string());
    let evacuation = Evacuation { host, on_shared_storage: shared, admin_password: password.clone(), force, target_state };
    migrate::evacuate(a.state, a.ctx, &instance, evacuation).await?;
    if mv.at_least(14) {
        return Ok(StatusCode::OK.into_response());
    }
    Ok(Json(json!({"adminPass": password})).into_response())
}

fn unshelve_target(a: &Action<'_>) -> ApiResult<UnshelveTarget> {
    let mv = a.mv;
    if !mv.at_least(77) || a.body.is_null() {
        return Ok(UnshelveTarget::default());
    }
    let body = input::object(a.body, "unshelve")?;
    if !mv.at_least(91) {
        input::only(body, &["availability_zone"], Some("unshelve"))?;
        input::required(body, &["availability_zone"], "unshelve")?;
        let zone = input::name(&body["availability_zone"], "availability_zone")?.to_string();
        return Ok(UnshelveTarget { zone: Some(Some(zone)), host: None });
    }
    input::only(body, &["availability_zone", "host"], Some("unshelve"))?;
    let zone = match body.get("availability_zone") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => Some(Some(input::string(v, "availability_zone", 0, usize::MAX)?.to_string())),
    };
    let host = body.get("host").map(|v| input::string(v, "host", 0, usize::MAX).map(str::to_string)).transpose()?;
    Ok(UnshelveTarget { zone, host })
}

async fn unshelve(a: Action<'_>) -> ApiResult<Response> {
    let target = unshelve_target(&a)?;
    let instance = a.authorized("os_compute_api:os-shelve:unshelve", false).await?;
    if target.host.is_some() {
        let t = json!({"project_id": instance.project_id, "user_id": instance.user_id});
        a.state.authorize("os_compute_api:os-shelve:unshelve_to_host", &t, &a.ctx.auth)?;
    }
    shelve::unshelve(a.state, a.ctx, &instance, target).await?;
    Ok(accepted())
}
