//! Schema checks of the nested parts of a create body: networks, block device mappings,
//! security groups, personality files and scheduler hints.

use super::super::input::{self, invalid, Object};
use super::super::validation;
use super::super::{ApiResult, Microversion};
use crate::compute_api::create::{Networks, RequestedBdm};
use crate::request_spec::NetworkRequest;
use monostack_common::ApiError;
use serde_json::{Map, Value};

/// `networks`: a list, or (2.37) "none"/"auto". Absent (allowed before 2.37 only) is an empty
/// list: the network available to the project if there is exactly one, none if there is none
/// (more than one is Nova's NetworkAmbiguous).
pub fn networks(value: Option<&Value>, mv: Microversion) -> ApiResult<Networks> {
    let Some(value) = value else { return Ok(Networks::List(Vec::new())) };
    if mv.at_least(37) {
        if let Some(s) = value.as_str() {
            return match s {
                "none" => Ok(Networks::None),
                "auto" => Ok(Networks::Auto),
                _ => Err(invalid("networks", value, format!("{} is not valid under any of the given schemas", validation::py_repr(value)))),
            };
        }
    }
    let items = validation::array("networks", value, None)?;
    let mut out = Vec::new();
    let mut ports: Vec<String> = Vec::new();
    for item in items {
        let obj = input::object(item, "networks")?;
        let mut allowed = vec!["fixed_ip", "port", "uuid"];
        if mv.at_least(32) && !(37..42).any(|m| mv.0.minor == m) {
            allowed.push("tag");
        }
        input::only(obj, &allowed, Some("networks"))?;
        out.push(network_item(obj, mv, &mut ports)?);
    }
    Ok(Networks::List(out))
}

fn network_item(obj: &Object, mv: Microversion, ports: &mut Vec<String>) -> ApiResult<NetworkRequest> {
    let fixed_ip = obj.get("fixed_ip").map(|v| validation::ip_address("fixed_ip", v)).transpose()?;
    let tag = obj.get("tag").map(|v| validation::tag("tag", v)).transpose()?;
    let port = match obj.get("port") {
        None | Some(Value::Null) => None,
        Some(v) => Some(validation::uuid("port", v)?),
    };
    if let Some(port) = port {
        if ports.contains(&port) {
            return Err(ApiError::bad_request(format!("Port ID '{port}' was specified twice: you cannot attach a port multiple times.")));
        }
        if let Some(ip) = fixed_ip {
            return Err(ApiError::bad_request(format!("Specified Fixed IP '{ip}' cannot be used with port '{port}': the two cannot be specified together.")));
        }
        ports.push(port.clone());
        return Ok(NetworkRequest::Port { port_id: port, tag });
    }
    let Some(uuid_value) = obj.get("uuid") else {
        return Err(ApiError::bad_request("Bad network format: missing 'uuid'"));
    };
    let uuid = if mv.at_least(37) {
        validation::uuid("uuid", uuid_value)?
    } else {
        let s = uuid_value.as_str().ok_or_else(|| invalid("uuid", uuid_value, format!("{} is not of type 'string'", validation::py_repr(uuid_value))))?;
        if !validation::is_uuid_like(s) {
            return Err(ApiError::bad_request(format!("Bad networks format: network uuid is not in proper format ({s})")));
        }
        s.to_string()
    };
    Ok(NetworkRequest::Network { uuid, fixed_ip, tag })
}

const LEGACY_BDM_KEYS: &[&str] = &["virtual_name", "volume_id", "snapshot_id", "volume_size", "device_name", "delete_on_termination", "no_device", "connection_info"];
const BDM_V2_KEYS: &[&str] = &["source_type", "uuid", "image_id", "destination_type", "guest_format", "device_type", "disk_bus", "boot_index"];

/// `block_device_mapping` (legacy) or `block_device_mapping_v2`.
pub fn block_devices(server: &Object, mv: Microversion) -> ApiResult<Vec<RequestedBdm>> {
    let legacy = server.get("block_device_mapping").map(|v| validation::array("block_device_mapping", v, None)).transpose()?;
    let v2 = server.get("block_device_mapping_v2").map(|v| validation::array("block_device_mapping_v2", v, None)).transpose()?;
    let (legacy, v2) = (legacy.cloned().unwrap_or_default(), v2.cloned().unwrap_or_default());
    if !legacy.is_empty() && !v2.is_empty() {
        return Err(ApiError::bad_request("Using different block_device_mapping syntaxes is not allowed in the same request."));
    }
    let mut v2_keys: Vec<&str> = LEGACY_BDM_KEYS.iter().chain(BDM_V2_KEYS).copied().collect();
    if mv.0.minor == 32 || mv.at_least(42) {
        v2_keys.push("tag");
    }
    if mv.at_least(67) {
        v2_keys.push("volume_type");
    }
    let mut out = Vec::new();
    for item in &legacy {
        let obj = input::object(item, "block_device_mapping")?;
        input::only(obj, LEGACY_BDM_KEYS, Some("block_device_mapping"))?;
        out.push(RequestedBdm { legacy: true, ..bdm_item(obj)? });
    }
    for item in &v2 {
        let obj = input::object(item, "block_device_mapping_v2")?;
        input::only(obj, &v2_keys, Some("block_device_mapping_v2"))?;
        out.push(bdm_item(obj)?);
    }
    Ok(out)
}

fn opt_string(obj: &Object, key: &str, max: usize) -> ApiResult<Option<String>> {
    obj.get(key).map(|v| input::string(v, key, 0, max).map(str::to_string)).transpose()
}

fn bdm_item(obj: &Object) -> ApiResult<RequestedBdm> {
    let mut b = RequestedBdm {
        source_type: obj.get("source_type").map(|v| validation::one_of("source_type", v, &["volume", "image", "snapshot", "blank"]).map(str::to_string)).transpose()?,
        destination_type: obj.get("destination_type").map(|v| validation::one_of("destination_type", v, &["local", "volume"]).map(str::to_string)).transpose()?,
        image_id: obj.get("image_id").map(|v| validation::uuid("image_id", v)).transpose()?,
        volume_id: obj.get("volume_id").map(|v| validation::uuid("volume_id", v)).transpose()?,
        snapshot_id: obj.get("snapshot_id").map(|v| validation::uuid("snapshot_id", v)).transpose()?,
        virtual_name: opt_string(obj, "virtual_name", 255)?,
        guest_format: opt_string(obj, "guest_format", 255)?,
        device_type: opt_string(obj, "device_type", 255)?,
        disk_bus: opt_string(obj, "disk_bus", 255)?,
        tag: obj.get("tag").map(|v| validation::tag("tag", v)).transpose()?,
        ..RequestedBdm::default()
    };
    if let Some(v) = obj.get("uuid") {
        let s = input::string(v, "uuid", 1, 255)?;
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
            return Err(invalid("uuid", v, format!("'{s}' does not match '^[a-zA-Z0-9._-]*$'")));
        }
        b.uuid = Some(s.to_string());
    }
    if let Some(v) = obj.get("device_name") {
        let s = input::string(v, "device_name", 1, 255)?;
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c)) {
            return Err(invalid("device_name", v, format!("'{s}' does not match '^[a-zA-Z0-9._/-]*$'")));
        }
        b.device_name = Some(s.to_string());
    }
    if let Some(v) = obj.get("volume_size") {
        b.volume_size = Some(input::integer(v, "volume_size", 1, 0x7FFF_FFFF)?);
    }
    b.boot_index = match obj.get("boot_index") {
        None | Some(Value::Null) => None,
        Some(v) => Some(boot_index(v)?),
    };
    if let Some(v) = obj.get("delete_on_termination") {
        b.delete_on_termination = input::boolean(v, "delete_on_termination")?;
    }
    if let Some(v) = obj.get("volume_type") {
        b.volume_type = match v {
            Value::Null => None,
            other => Some(input::string(other, "volume_type", 0, 255)?.to_string()),
        };
    }
    b.no_device = obj.get("no_device").is_some_and(|v| !v.is_null() && v != &Value::Bool(false));
    Ok(b)
}

fn boot_index(v: &Value) -> ApiResult<i64> {
    match v {
        Value::Number(n) if n.is_i64() => Ok(n.as_i64().unwrap_or_default()),
        Value::String(s) => s.parse::<i64>().map_err(|_| invalid("boot_index", v, format!("'{s}' does not match '^-?[0-9]+$'"))),
        other => Err(invalid("boot_index", other, format!("{} is not of type 'integer', 'string', 'null'", validation::py_repr(other)))),
    }
}

/// `security_groups`: names (or ids), first occurrence kept.
pub fn security_groups(value: Option<&Value>) -> ApiResult<Vec<String>> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let mut names: Vec<String> = Vec::new();
    for item in validation::array("security_groups", value, None)? {
        let obj = input::object(item, "security_groups")?;
        input::only(obj, &["name"], Some("security_groups"))?;
        if let Some(name) = obj.get("name") {
            let name = input::name(name, "name")?.to_string();
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    Ok(names)
}

/// `personality` (before 2.57): (path, base64 contents).
pub fn personality(value: Option<&Value>) -> ApiResult<Vec<(String, String)>> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let mut files = Vec::new();
    for item in validation::array("personality", value, None)? {
        let obj = input::object(item, "personality")?;
        input::only(obj, &["path", "contents"], Some("personality"))?;
        let path = obj.get("path").map(|v| input::string(v, "path", 0, usize::MAX).map(str::to_string)).transpose()?.unwrap_or_default();
        let contents = obj.get("contents").map(|v| validation::base64("contents", v, usize::MAX)).transpose()?.unwrap_or_default();
        files.push((path, contents));
    }
    Ok(files)
}

/// `os:scheduler_hints` (or the legacy `OS-SCH-HNT:scheduler_hints`).
pub fn scheduler_hints(value: Option<&Value>) -> ApiResult<Map<String, Value>> {
    let Some(value) = value else { return Ok(Map::new()) };
    let hints = input::object(value, "os:scheduler_hints")?;
    for key in ["group", "different_host", "same_host"] {
        match hints.get(key) {
            None => {}
            Some(Value::String(_)) if key != "same_host" => uuid_hint(key, &hints[key])?,
            Some(Value::String(_)) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    uuid_hint(key, item)?;
                }
            }
            Some(other) => return Err(invalid(key, other, format!("{} is not valid under any of the given schemas", validation::py_repr(other)))),
        }
    }
    if let Some(q) = hints.get("query") {
        if !q.is_string() && !q.is_object() {
            return Err(invalid("query", q, format!("{} is not of type 'string', 'object'", validation::py_repr(q))));
        }
    }
    if let Some(cell) = hints.get("target_cell") {
        input::name(cell, "target_cell")?;
    }
    if let Some(ip) = hints.get("build_near_host_ip") {
        validation::ip_address("build_near_host_ip", ip)?;
    }
    if let Some(cidr) = hints.get("cidr") {
        let s = input::string(cidr, "cidr", 0, usize::MAX)?;
        let ok = s.starts_with('/') && s.len() > 1 && s[1..].chars().all(|c| c.is_ascii_digit() || "abcdef.:".contains(c));
        if !ok {
            return Err(invalid("cidr", cidr, format!("'{s}' does not match '^/[0-9a-f.:]+$'")));
        }
    }
    Ok(hints.clone())
}

fn uuid_hint(key: &str, value: &Value) -> ApiResult<()> {
    validation::uuid(key, value).map(|_| ())
}
