//! Request body checks the server APIs need beyond [`super::input`]: UUIDs, addresses,
//! base64, host names, tags and enums, with Nova's JSON-schema messages ("Invalid input for
//! field/attribute <field>. Value: <value>. <reason>", the reason quoting values as Python
//! does).

use super::input::invalid;
use monostack_common::ApiError;
use serde_json::Value;
use std::net::{Ipv4Addr, Ipv6Addr};

pub type Result<T> = std::result::Result<T, ApiError>;

/// A value as Python's `repr` shows the decoded JSON.
pub fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(items) => format!("[{}]", items.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => {
            let items: Vec<String> = map.iter().map(|(k, v)| format!("'{k}': {}", py_repr(v))).collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

fn type_error(field: &str, value: &Value, types: &str) -> ApiError {
    invalid(field, value, format!("{} is not of type {types}", py_repr(value)))
}

/// A UUID (Nova's `is_uuid_like`: hex with or without dashes, braces or a urn prefix).
pub fn uuid(field: &str, value: &Value) -> Result<String> {
    let s = value.as_str().ok_or_else(|| type_error(field, value, "'string'"))?;
    uuid::Uuid::parse_str(s).map(|_| s.to_string()).map_err(|_| invalid(field, value, format!("{} is not a 'uuid'", py_repr(value))))
}

/// Whether `s` is UUID-like as Nova sees it.
pub fn is_uuid_like(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

/// oslo's `bool_from_string` for query parameters (unknown words are false).
pub fn bool_from_str(s: &str) -> bool {
    matches!(s.trim().to_lowercase().as_str(), "1" | "t" | "true" | "on" | "y" | "yes")
}

pub fn ipv4(field: &str, value: &Value) -> Result<String> {
    let s = value.as_str().ok_or_else(|| type_error(field, value, "'string'"))?;
    s.parse::<Ipv4Addr>().map(|_| s.to_string()).map_err(|_| invalid(field, value, format!("{} is not a 'ipv4'", py_repr(value))))
}

pub fn ipv6(field: &str, value: &Value) -> Result<String> {
    let s = value.as_str().ok_or_else(|| type_error(field, value, "'string'"))?;
    // Stored in canonical (compressed) form, as Nova's netaddr writes it back.
    s.parse::<Ipv6Addr>().map(|ip| ip.to_string()).map_err(|_| invalid(field, value, format!("{} is not a 'ipv6'", py_repr(value))))
}

/// Nova's `ip_address`: IPv4 or IPv6.
pub fn ip_address(field: &str, value: &Value) -> Result<String> {
    let s = value.as_str().ok_or_else(|| type_error(field, value, "'string'"))?;
    if s.parse::<std::net::IpAddr>().is_ok() {
        Ok(s.to_string())
    } else {
        Err(invalid(field, value, format!("{} is not valid under any of the given schemas", py_repr(value))))
    }
}

/// A base64 string (Nova's `format: base64`), of at most `max` characters.
pub fn base64(field: &str, value: &Value, max: usize) -> Result<String> {
    use base64::Engine;
    let s = value.as_str().ok_or_else(|| type_error(field, value, "'string'"))?;
    if s.chars().count() > max {
        return Err(invalid(field, value, format!("{} is too long", py_repr(value))));
    }
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()).is_err() {
        return Err(invalid(field, value, format!("{} is not a 'base64'", py_repr(value))));
    }
    Ok(s.to_string())
}

/// One of `choices`.
pub fn one_of<'a>(field: &str, value: &'a Value, choices: &[&str]) -> Result<&'a str> {
    let s = value.as_str().ok_or_else(|| type_error(field, value, "'string'"))?;
    if choices.contains(&s) {
        return Ok(s);
    }
    let list: Vec<String> = choices.iter().map(|c| format!("'{c}'")).collect();
    Err(invalid(field, value, format!("{} is not one of [{}]", py_repr(value), list.join(", "))))
}

/// Nova's `hostname` (2.90): RFC 1123 label of 2–63 characters.
pub fn hostname(field: &str, value: &Value) -> Result<String> {
    let s = super::input::string(value, field, 2, 63)?;
    let bytes = s.as_bytes();
    let ok = bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric);
    if !ok {
        return Err(invalid(field, value, format!("{} does not match '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$'", py_repr(value))));
    }
    Ok(s.to_string())
}

/// Nova's `fqdn` (host names, 2.94 hostnames): 1–255 of `[a-zA-Z0-9-._]`.
pub fn fqdn(field: &str, value: &Value) -> Result<String> {
    let s = super::input::string(value, field, 1, 255)?;
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)) {
        return Err(invalid(field, value, format!("{} does not match '^[a-zA-Z0-9-._]*$'", py_repr(value))));
    }
    Ok(s.to_string())
}

/// Nova's `tag`: 1–60 characters without '/' or ','.
pub fn tag(field: &str, value: &Value) -> Result<String> {
    let s = super::input::string(value, field, 1, crate::db::instance_tags::MAX_TAG_LENGTH)?;
    if s.contains('/') || s.contains(',') {
        return Err(invalid(field, value, format!("{} does not match '^[^,/]*$'", py_repr(value))));
    }
    Ok(s.to_string())
}

/// An array of at most `max` items.
pub fn array<'a>(field: &str, value: &'a Value, max: Option<usize>) -> Result<&'a Vec<Value>> {
    let items = value.as_array().ok_or_else(|| type_error(field, value, "'array'"))?;
    if let Some(max) = max {
        if items.len() > max {
            return Err(invalid(field, value, format!("{} is too long", py_repr(value))));
        }
    }
    Ok(items)
}

/// The value of a body that must be exactly `{"<key>": <value>}` (any value type).
pub fn single_key<'a>(body: &'a Value, key: &str) -> Result<&'a Value> {
    let top = body.as_object().ok_or_else(|| ApiError::bad_request(format!("{} is not of type 'object'", py_repr(body))))?;
    super::input::only(top, &[key], None)?;
    top.get(key).ok_or_else(|| ApiError::bad_request(format!("'{key}' is a required property")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ipv6_addresses_are_stored_compressed() {
        let long = json!("0000:0000:0000:0000:0000:babe:220.12.22.2");
        assert_eq!(ipv6("accessIPv6", &long).ok().as_deref(), Some("::babe:dc0c:1602"));
    }

    #[test]
    fn formats_follow_nova() {
        assert!(uuid("imageRef", &json!("not-a-uuid")).unwrap_err().message.ends_with("'not-a-uuid' is not a 'uuid'"));
        assert!(base64("user_data", &json!("not base64!"), 65535).is_err());
        assert!(base64("user_data", &json!("aGVsbG8="), 65535).is_ok());
        assert!(hostname("hostname", &json!("-bad")).is_err());
        assert!(hostname("hostname", &json!("good-name")).is_ok());
        assert!(ipv4("accessIPv4", &json!("1.2.3")).is_err());
        assert!(tag("tags", &json!("a/b")).is_err());
        assert_eq!(py_repr(&json!({"a": [true, null]})), "{'a': [True, None]}");
    }
}
