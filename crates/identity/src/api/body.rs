//! Reading request bodies with Keystone's validation errors (400 naming the field).

use monostack_common::ApiError;
use serde_json::{Map, Value};

/// `body[key]` as an object, or a 400.
pub fn object<'a>(body: &'a Value, key: &str) -> Result<&'a Map<String, Value>, ApiError> {
    body.get(key)
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::bad_request(format!("'{key}' is a required property and must be an object")))
}

pub fn opt_bool(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>, ApiError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::bad_request(format!("Invalid input for field '{key}': must be a boolean"))),
    }
}

/// A string field; absent or null is None; any other type is a 400.
pub fn opt_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(ApiError::bad_request(format!("Invalid input for field '{key}': must be a string"))),
    }
}

pub fn req_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a str, ApiError> {
    opt_str(obj, key)?.ok_or_else(|| ApiError::bad_request(format!("'{key}' is a required property")))
}

/// Attributes outside `known`, kept and echoed back as Keystone does with "extra".
pub fn extra_of(obj: &Map<String, Value>, known: &[&str]) -> Map<String, Value> {
    obj.iter().filter(|(k, _)| !known.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Adds extra attributes to an entity view without overriding its own fields.
pub fn merge_extra(v: &mut Value, extra: &Map<String, Value>) {
    if let Value::Object(obj) = v {
        for (k, val) in extra {
            obj.entry(k.clone()).or_insert_with(|| val.clone());
        }
    }
}
