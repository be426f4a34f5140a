//! Checks of request bodies with Cinder's (JSON schema) messages: 400s naming the field.

use super::ApiResult;
use monostack_common::ApiError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub fn invalid(field: &str, value: &Value, reason: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid input for field/attribute {field}. Value: {value}. {reason}"
    ))
}

/// The object under `key` of a body (`{"volume": {...}}`).
pub fn object<'a>(body: &'a Value, key: &str) -> ApiResult<&'a Map<String, Value>> {
    let top = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("The request body must be a JSON object."))?;
    match top.get(key) {
        Some(Value::Object(o)) => Ok(o),
        Some(other) => Err(invalid(key, other, "is not of type 'object'")),
        None => Err(ApiError::bad_request(format!(
            "Invalid input for field/attribute {key}. '{key}' is a required property"
        ))),
    }
}

/// An optional string of at most `max` characters (null allowed when `nullable`), with
/// surrounding white space removed as Cinder does for names and descriptions.
pub fn opt_string(
    obj: &Map<String, Value>,
    field: &str,
    max: usize,
    nullable: bool,
) -> ApiResult<Option<Option<String>>> {
    match obj.get(field) {
        None => Ok(None),
        Some(Value::Null) if nullable => Ok(Some(None)),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.chars().count() > max {
                return Err(invalid(
                    field,
                    &Value::String(s.into()),
                    &format!("is too long (at most {max} characters)"),
                ));
            }
            Ok(Some(Some(s.to_string())))
        }
        Some(other) => Err(invalid(field, other, "is not of type 'string'")),
    }
}

/// A required name: 1 to 255 characters, without leading or trailing white space.
pub fn name(obj: &Map<String, Value>, field: &str) -> ApiResult<String> {
    match obj.get(field) {
        Some(Value::String(s)) => {
            if s.trim().is_empty() {
                return Err(invalid(
                    field,
                    &Value::String(s.clone()),
                    "is too short or blank",
                ));
            }
            if s.trim() != s {
                return Err(invalid(
                    field,
                    &Value::String(s.clone()),
                    "has leading or trailing white space",
                ));
            }
            if s.chars().count() > 255 {
                return Err(invalid(field, &Value::String(s.clone()), "is too long"));
            }
            Ok(s.clone())
        }
        Some(other) => Err(invalid(field, other, "is not of type 'string'")),
        None => Err(ApiError::bad_request(format!(
            "Invalid input for field/attribute {field}. '{field}' is a required property"
        ))),
    }
}

/// A boolean as Cinder's `bool_from_string(strict=True)` reads it (JSON booleans or their
/// usual spellings as strings).
pub fn boolean(field: &str, value: &Value) -> ApiResult<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "y" | "on" | "t" => Ok(true),
            "false" | "0" | "no" | "n" | "off" | "f" => Ok(false),
            _ => Err(invalid(field, value, "is not a boolean")),
        },
        _ => Err(invalid(field, value, "is not a boolean")),
    }
}

/// Key/value pairs of metadata or extra specs: string keys of 1–255 characters and string
/// values of at most 255 (Cinder's `metadata` and `extra_specs` parameter types).
pub fn string_map(field: &str, value: &Value) -> ApiResult<BTreeMap<String, String>> {
    let obj = value
        .as_object()
        .ok_or_else(|| invalid(field, value, "is not of type 'object'"))?;
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        if k.is_empty() || k.chars().count() > 255 {
            return Err(invalid(
                field,
                value,
                &format!("Key '{k}' must be 1 to 255 characters long"),
            ));
        }
        let v = match v {
            Value::String(s) => s.clone(),
            other => {
                return Err(invalid(
                    field,
                    value,
                    &format!("Value of '{k}' is not of type 'string': {other}"),
                ))
            }
        };
        if v.chars().count() > 255 {
            return Err(invalid(
                field,
                value,
                &format!("Value of '{k}' is too long (at most 255 characters)"),
            ));
        }
        out.insert(k.clone(), v);
    }
    Ok(out)
}

/// An integer (JSON number or numeric string), as Cinder's `volume_size` type accepts.
pub fn integer(field: &str, value: &Value) -> ApiResult<i64> {
    let n = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.ok_or_else(|| invalid(field, value, "is not of type 'integer'"))
}
