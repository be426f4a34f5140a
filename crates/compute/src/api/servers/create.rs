//! `POST /servers`: the body checked against Nova's create schema of the request's
//! microversion, the policies of each option, then the create itself.

use super::super::caller::Caller;
use super::super::input::{self, invalid, Object};
use super::super::{validation, ApiResult, Microversion, State};
use super::create_parts;
use super::password;
use crate::compute_api::create::{self, CreateRequest, Networks};
use crate::compute_api::zones;
use crate::context::RequestContext;
use crate::db::flavor_snapshot;
use axum::body::Bytes;
use axum::extract::State as S;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use monostack_common::ApiError;
use serde_json::{json, Value};

/// The keys of `server` a microversion accepts.
fn allowed_keys(mv: Microversion) -> Vec<&'static str> {
    let mut keys = vec![
        "name", "imageRef", "flavorRef", "adminPass", "metadata", "networks", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6",
        "availability_zone", "block_device_mapping", "block_device_mapping_v2", "config_drive", "key_name", "min_count", "max_count",
        "return_reservation_id", "security_groups", "user_data",
    ];
    let versioned: &[(u16, &str)] = &[(19, "description"), (52, "tags"), (63, "trusted_image_certificates"), (74, "host"), (74, "hypervisor_hostname"), (90, "hostname")];
    keys.extend(versioned.iter().filter(|(v, _)| mv.at_least(*v)).map(|(_, k)| *k));
    if !mv.at_least(57) {
        keys.push("personality");
    }
    keys
}

fn policy_target(ctx: &RequestContext, zone: Option<&str>) -> Value {
    json!({"project_id": ctx.project_id(), "user_id": ctx.user_id(), "availability_zone": zone})
}

/// Nova's `parse_availability_zone`: `az`, `az:host`, `az:host:node` or `az::node`.
fn parse_zone(zone: Option<&str>) -> ApiResult<(Option<String>, Option<String>, Option<String>)> {
    let Some(zone) = zone else { return Ok((None, None, None)) };
    let parts: Vec<&str> = zone.split(':').collect();
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    match parts.as_slice() {
        [az] => Ok((some(az), None, None)),
        [az, host] => Ok((some(az), some(host), None)),
        [az, host, node] => Ok((some(az), some(host), some(node))),
        _ => Err(ApiError::bad_request("Unable to parse availability_zone")),
    }
}

/// The flavor id of a `flavorRef` (an id or a URL ending in one).
fn flavor_id(value: &Value) -> ApiResult<String> {
    let text = match value {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::String(_) => return Err(invalid("flavorRef", value, "'' is too short")),
        other => return Err(invalid("flavorRef", other, format!("{} is not of type 'string', 'integer'", validation::py_repr(other)))),
    };
    let path = url::Url::parse(&text).map(|u| u.path().to_string()).unwrap_or(text);
    Ok(path.rsplit('/').next().unwrap_or_default().to_string())
}

fn image_ref(value: Option<&Value>) -> ApiResult<Option<String>> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(Some(String::new())),
        Some(v @ Value::String(s)) if validation::is_uuid_like(s) => Ok(Some(v.as_str().unwrap_or_default().to_string())),
        Some(other) => Err(invalid("imageRef", other, format!("{} is not valid under any of the given schemas", validation::py_repr(other)))),
    }
}

fn trusted_certs(value: Option<&Value>) -> ApiResult<Option<Vec<String>>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let items = validation::array("trusted_image_certificates", v, Some(50))?;
            if items.is_empty() {
                return Err(invalid("trusted_image_certificates", v, "[] should be non-empty"));
            }
            let mut out: Vec<String> = Vec::new();
            for item in items {
                let s = input::string(item, "trusted_image_certificates", 1, usize::MAX)?.to_string();
                if out.contains(&s) {
                    return Err(invalid("trusted_image_certificates", v, format!("{} has non-unique elements", validation::py_repr(v))));
                }
                out.push(s);
            }
            Ok(Some(out))
        }
    }
}

/// The `server` object of a create body, checked against the microversion's schema.
fn checked_server(body: &Value, mv: Microversion) -> ApiResult<&Object> {
    let top = body.as_object().ok_or_else(|| ApiError::bad_request(format!("{} is not of type 'object'", validation::py_repr(body))))?;
    input::only(top, &["server", "os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"], None)?;
    let server = top.get("server").ok_or_else(|| ApiError::bad_request("'server' is a required property"))?;
    let server = input::object(server, "server")?;
    input::only(server, &allowed_keys(mv), Some("server"))?;
    let mut required = vec!["name", "flavorRef"];
    if mv.at_least(37) {
        required.push("networks");
    }
    input::required(server, &required, "server")?;
    Ok(server)
}

fn opt<T>(server: &Object, key: &str, check: impl Fn(&Value) -> ApiResult<T>) -> ApiResult<Option<T>> {
    server.get(key).map(check).transpose()
}

/// Every field of `server`, typed.
fn parse_fields(body: &Value, server: &Object, mv: Microversion) -> ApiResult<CreateRequest> {
    let name = input::name(&server["name"], "name")?.to_string();
    let min_count = opt(server, "min_count", |v| input::integer(v, "min_count", 1, i64::from(u32::MAX)))?.unwrap_or(1);
    let max_count = opt(server, "max_count", |v| input::integer(v, "max_count", 1, i64::from(u32::MAX)))?.unwrap_or(min_count);
    if min_count > max_count {
        return Err(ApiError::bad_request("min_count must be <= max_count"));
    }
    let hints_value = body.get("os:scheduler_hints").or_else(|| body.get("OS-SCH-HNT:scheduler_hints"));
    let hostname = match server.get("hostname") {
        Some(v) if mv.at_least(94) => Some(validation::fqdn("hostname", v)?),
        Some(v) => Some(validation::hostname("hostname", v)?),
        None => None,
    };
    Ok(CreateRequest {
        description: if mv.at_least(19) { opt(server, "description", |v| input::description(v, "description", 255))?.flatten() } else { Some(name.clone()) },
        name,
        hostname,
        image_ref: image_ref(server.get("imageRef"))?,
        min_count: u32::try_from(min_count).unwrap_or(1),
        max_count: u32::try_from(max_count).unwrap_or(1),
        availability_zone: opt(server, "availability_zone", |v| input::name(v, "availability_zone").map(str::to_string))?,
        key_name: opt(server, "key_name", |v| input::name(v, "key_name").map(str::to_string))?,
        user_data: opt(server, "user_data", |v| validation::base64("user_data", v, 65535))?,
        metadata: opt(server, "metadata", |v| input::metadata(v, "metadata", false, false))?
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect(),
        personality: create_parts::personality(server.get("personality"))?,
        config_drive: opt(server, "config_drive", |v| input::boolean(v, "config_drive"))?.unwrap_or(false),
        access_ip_v4: opt(server, "accessIPv4", |v| validation::ipv4("accessIPv4", v))?,
        access_ip_v6: opt(server, "accessIPv6", |v| validation::ipv6("accessIPv6", v))?,
        admin_password: Some(opt(server, "adminPass", |v| input::string(v, "adminPass", 0, usize::MAX).map(str::to_string))?.unwrap_or_else(password::generate)),
        auto_disk_config: opt(server, "OS-DCF:diskConfig", |v| validation::one_of("OS-DCF:diskConfig", v, &["AUTO", "MANUAL"]).map(|d| d == "AUTO"))?,
        security_groups: create_parts::security_groups(server.get("security_groups"))?,
        block_devices: create_parts::block_devices(server, mv)?,
        supports_multiattach: mv.at_least(60),
        networks: create_parts::networks(server.get("networks"), mv)?,
        scheduler_hints: create_parts::scheduler_hints(hints_value)?,
        tags: match server.get("tags") {
            Some(v) => validation::array("tags", v, Some(crate::db::instance_tags::MAX_TAGS))?.iter().map(|t| validation::tag("tags", t)).collect::<ApiResult<_>>()?,
            None => Vec::new(),
        },
        trusted_certs: trusted_certs(server.get("trusted_image_certificates"))?,
        requested_host: opt(server, "host", |v| validation::fqdn("host", v))?,
        requested_node: opt(server, "hypervisor_hostname", |v| validation::fqdn("hypervisor_hostname", v))?,
        ..CreateRequest::default()
    })
}

/// The zone, forced host/node and requested destination, with their policies.
async fn resolve_placement(state: &State, ctx: &RequestContext, req: &mut CreateRequest) -> ApiResult<()> {
    let (zone, host, node) = parse_zone(req.availability_zone.as_deref())?;
    let target = policy_target(ctx, zone.as_deref());
    let mut zone = zone;
    if host.is_some() || node.is_some() {
        state.authorize("os_compute_api:servers:create:forced_host", &target, &ctx.auth)?;
        if let (Some(h), Some(z)) = (&host, &zone) {
            zone = matching_zone(state, h, z).await?;
        }
    }
    if req.requested_host.is_some() || req.requested_node.is_some() {
        state.authorize("compute:servers:create:requested_destination", &target, &ctx.auth)?;
        if host.is_some() || node.is_some() {
            return Err(ApiError::bad_request(
                "One mechanism with host and/or hypervisor_hostname and another mechanism with zone:host:node are mutually exclusive.",
            ));
        }
    }
    req.availability_zone = zone;
    req.forced_host = host;
    req.forced_node = node;
    Ok(())
}

/// Nova's `_validate_host_availability_zone`: the zone asked with a forced host is kept only
/// when the host is in it.
async fn matching_zone(state: &State, host: &str, zone: &str) -> ApiResult<Option<String>> {
    let default = &state.config.compute.default_availability_zone;
    let host_zone = zones::aggregate_zone(&state.db, host).await?;
    let keep = match host_zone {
        Some(hz) => hz == zone,
        None => zone == default.as_str(),
    };
    Ok(keep.then(|| zone.to_string()))
}

async fn authorize_options(state: &State, ctx: &RequestContext, req: &CreateRequest) -> ApiResult<()> {
    let target = policy_target(ctx, req.availability_zone.as_deref());
    if req.trusted_certs.is_some() {
        state.authorize("os_compute_api:servers:create:trusted_certs", &target, &ctx.auth)?;
    }
    if !req.block_devices.is_empty() {
        state.authorize("os_compute_api:servers:create:attach_volume", &target, &ctx.auth)?;
    }
    let wants_network = match &req.networks {
        Networks::None => false,
        Networks::Auto => true,
        Networks::List(l) => !l.is_empty(),
    };
    if wants_network {
        state.authorize("os_compute_api:servers:create:attach_network", &target, &ctx.auth)?;
    }
    Ok(())
}

pub async fn create(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, body: Bytes) -> ApiResult<Response> {
    let body = input::parse(&body)?;
    let server = checked_server(&body, mv)?;
    let mut req = parse_fields(&body, server, mv)?;
    let return_reservation_id = opt(server, "return_reservation_id", |v| input::boolean(v, "return_reservation_id"))?.unwrap_or(false);
    let target = policy_target(&ctx, req.availability_zone.as_deref());
    state.authorize("os_compute_api:servers:create", &target, &ctx.auth)?;
    resolve_placement(&state, &ctx, &mut req).await?;
    authorize_options(&state, &ctx, &req).await?;
    if req.image_ref.as_deref().is_none_or(str::is_empty) && req.block_devices.is_empty() {
        return Err(ApiError::bad_request("Missing imageRef attribute"));
    }
    let flavorid = flavor_id(&server["flavorRef"])?;
    if flavorid.is_empty() {
        return Err(ApiError::bad_request("Invalid flavorRef provided."));
    }
    req.flavor = Some(
        flavor_snapshot::load_accessible(&state.db, &flavorid, ctx.project_id(), ctx.is_admin)
            .await?
            .ok_or_else(|| ApiError::bad_request(format!("Flavor {flavorid} could not be found.")))?,
    );
    let password = req.admin_password.clone().unwrap_or_default();
    let created = create::create(&state, &ctx, req).await?;
    if return_reservation_id {
        return Ok((StatusCode::ACCEPTED, Json(json!({"reservation_id": created.reservation_id}))).into_response());
    }
    let first = created.instances.first().ok_or_else(|| ApiError::internal("create made no instance"))?;
    let groups = server.get("security_groups").cloned().unwrap_or_else(|| json!([{"name": "default"}]));
    let view = json!({"server": {
        "id": first.uuid,
        "links": super::super::view::links(&state, "servers", &first.uuid),
        "OS-DCF:diskConfig": if first.auto_disk_config { "AUTO" } else { "MANUAL" },
        "security_groups": groups,
        "adminPass": password,
    }});
    let mut resp = (StatusCode::ACCEPTED, Json(view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}/v2.1/servers/{}", state.public_url, first.uuid)) {
        resp.headers_mut().insert("location", v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_parse_as_nova() {
        assert_eq!(parse_zone(Some("az")).ok(), Some((Some("az".into()), None, None)));
        assert_eq!(parse_zone(Some("az:h")).ok(), Some((Some("az".into()), Some("h".into()), None)));
        assert_eq!(parse_zone(Some("az::n")).ok(), Some((Some("az".into()), None, Some("n".into()))));
        assert_eq!(parse_zone(Some(":h")).ok(), Some((None, Some("h".into()), None)));
        assert!(parse_zone(Some("a:b:c:d")).is_err());
    }

    #[test]
    fn flavor_refs_may_be_urls() {
        assert_eq!(flavor_id(&json!("http://x/v2.1/flavors/42")).ok(), Some("42".into()));
        assert_eq!(flavor_id(&json!(7)).ok(), Some("7".into()));
        assert!(flavor_id(&json!("")).is_err());
    }
}
