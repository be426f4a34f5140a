//! Setting one image attribute from a request value, with the schema's rules: the checks that
//! create and PATCH share.

use crate::db::ImageRecord;
use crate::schemas::{BASE_PROPERTIES, CONTAINER_FORMATS, DISK_FORMATS, READ_ONLY, RESERVED, RESERVED_PREFIX, VISIBILITIES};
use monostack_common::ApiError;
use serde_json::Value;

const MAX_LEN: usize = 255;

/// 403 for names no request may set: read-only and reserved attributes.
pub fn check_settable(name: &str) -> Result<(), ApiError> {
    if READ_ONLY.contains(&name) {
        return Err(ApiError::forbidden(format!("Attribute '{name}' is read-only.")));
    }
    if RESERVED.contains(&name) || name.starts_with(RESERVED_PREFIX) || name == "locations" {
        return Err(ApiError::forbidden(format!("Attribute '{name}' is reserved.")));
    }
    Ok(())
}

pub fn is_base(name: &str) -> bool {
    BASE_PROPERTIES.contains(&name)
}

fn invalid(name: &str, why: &str) -> ApiError {
    ApiError::bad_request(format!("Provided object does not match schema 'image': {name}: {why}"))
}

fn text_or_null(name: &str, value: &Value) -> Result<Option<String>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.chars().count() <= MAX_LEN => Ok(Some(s.clone())),
        Value::String(_) => Err(invalid(name, "is too long (at most 255 characters)")),
        _ => Err(invalid(name, "is not a string")),
    }
}

fn one_of(name: &str, value: &Value, allowed: &[&str]) -> Result<Option<String>, ApiError> {
    match text_or_null(name, value)? {
        Some(v) if !allowed.contains(&v.as_str()) => Err(invalid(name, &format!("'{v}' is not one of {allowed:?}"))),
        v => Ok(v),
    }
}

fn boolean(name: &str, value: &Value) -> Result<bool, ApiError> {
    value.as_bool().ok_or_else(|| invalid(name, "is not a boolean"))
}

fn non_negative(name: &str, value: &Value) -> Result<i64, ApiError> {
    value.as_i64().filter(|n| *n >= 0).ok_or_else(|| invalid(name, "is not a non-negative integer"))
}

/// Checks a list of tags; each at most 255 characters.
pub fn tags(value: &Value) -> Result<Vec<String>, ApiError> {
    let items = value.as_array().ok_or_else(|| invalid("tags", "is not an array"))?;
    items
        .iter()
        .map(|t| match t {
            Value::String(s) if s.chars().count() <= MAX_LEN => Ok(s.clone()),
            _ => Err(invalid("tags", "items must be strings of at most 255 characters")),
        })
        .collect()
}

/// Sets `name` to `value` on `img` (core attribute or custom property). Visibility, owner and
/// quota rules that need the caller are the caller's job.
pub fn set(img: &mut ImageRecord, name: &str, value: &Value) -> Result<(), ApiError> {
    check_settable(name)?;
    match name {
        "name" => img.name = text_or_null(name, value)?,
        "visibility" => {
            img.visibility = one_of(name, value, VISIBILITIES)?.ok_or_else(|| invalid(name, "may not be null"))?;
        }
        "disk_format" => img.disk_format = one_of(name, value, DISK_FORMATS)?,
        "container_format" => img.container_format = one_of(name, value, CONTAINER_FORMATS)?,
        "protected" => img.protected = boolean(name, value)?,
        "os_hidden" => img.os_hidden = boolean(name, value)?,
        "min_disk" => img.min_disk = non_negative(name, value)?,
        "min_ram" => img.min_ram = non_negative(name, value)?,
        "owner" => img.owner = text_or_null(name, value)?,
        "tags" => img.tags = tags(value)?.into_iter().collect(),
        _ => {
            if name.is_empty() || name.chars().count() > MAX_LEN {
                return Err(invalid(name, "property names must have 1 to 255 characters"));
            }
            let Value::String(text) = value else {
                return Err(invalid(name, "custom properties must be strings"));
            };
            img.properties.insert(name.to_string(), text.clone());
        }
    }
    Ok(())
}
