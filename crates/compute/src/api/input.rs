//! Request-body checks with Nova's 400 messages. Nova validates bodies with JSON schemas before
//! a handler runs; these helpers check the same constraints field by field and word the
//! failures the way Nova's validator does: `Invalid input for field/attribute <field>. Value:
//! <value>. <reason>`.

use monostack_common::ApiError;
use serde_json::{Map, Value};

pub type Object = Map<String, Value>;

/// A schema violation on `field` holding `value`.
pub fn invalid(field: &str, value: &Value, reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("Invalid input for field/attribute {field}. Value: {}. {reason}", render(value)))
}

/// Values shown in messages: strings bare, everything else as JSON.
fn render(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses the request body as JSON (400 when empty or malformed).
pub fn parse(bytes: &[u8]) -> Result<Value, ApiError> {
    monostack_common::json::parse_json(bytes)
}

/// The body parsed as a JSON object holding exactly the key `root`, returning its object.
/// `root` itself must be an object.
pub fn root<'a>(body: &'a Value, key: &str) -> Result<&'a Object, ApiError> {
    let top = body.as_object().ok_or_else(|| ApiError::bad_request(format!("{} is not of type 'object'", render(body))))?;
    if !top.contains_key(key) {
        return Err(ApiError::bad_request(format!("'{key}' is a required property")));
    }
    only(top, &[key], None)?;
    object(&top[key], key)
}

/// `value` as an object (`field` names it in the message).
pub fn object<'a>(value: &'a Value, field: &str) -> Result<&'a Object, ApiError> {
    value.as_object().ok_or_else(|| invalid(field, value, format!("{} is not of type 'object'", render(value))))
}

/// Refuses keys outside `allowed` (JSON schema's `additionalProperties: false`). `field` is
/// the object's own name, None for the top level.
pub fn only(obj: &Object, allowed: &[&str], field: Option<&str>) -> Result<(), ApiError> {
    let mut extra: Vec<&str> = obj.keys().map(String::as_str).filter(|k| !allowed.contains(k)).collect();
    if extra.is_empty() {
        return Ok(());
    }
    extra.sort_unstable();
    let listed = extra.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ");
    let verb = if extra.len() == 1 { "was" } else { "were" };
    let reason = format!("Additional properties are not allowed ({listed} {verb} unexpected)");
    Err(match field {
        Some(f) => invalid(f, &Value::Object(obj.clone()), reason),
        None => ApiError::bad_request(reason),
    })
}

/// Requires every key of `keys` in `obj` (named `field`).
pub fn required(obj: &Object, keys: &[&str], field: &str) -> Result<(), ApiError> {
    match keys.iter().find(|k| !obj.contains_key(**k)) {
        Some(missing) => Err(invalid(field, &Value::Object(obj.clone()), format!("'{missing}' is a required property"))),
        None => Ok(()),
    }
}

/// A string of `min..=max` characters.
pub fn string<'a>(value: &'a Value, field: &str, min: usize, max: usize) -> Result<&'a str, ApiError> {
    let s = value.as_str().ok_or_else(|| invalid(field, value, format!("{} is not of type 'string'", render(value))))?;
    let len = s.chars().count();
    if len < min {
        return Err(invalid(field, value, format!("'{s}' is too short")));
    }
    if len > max {
        return Err(invalid(field, value, format!("'{s}' is too long")));
    }
    Ok(s)
}

/// Nova's `name` format: 1–255 printable characters, no leading or trailing whitespace.
pub fn name<'a>(value: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    let s = string(value, field, 1, 255)?;
    check_name(s, false)?;
    Ok(s)
}

/// Like [`name`], for availability zones: `:` is not allowed either.
pub fn az_name<'a>(value: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    let s = string(value, field, 1, 255)?;
    check_name(s, true)?;
    Ok(s)
}

/// Nova's v2.0-compatible names: leading and trailing spaces allowed, at least one other
/// printable character.
pub fn name_with_spaces<'a>(value: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    let s = string(value, field, 1, 255)?;
    if !s.chars().all(printable) || s.trim().is_empty() {
        return Err(ApiError::bad_request(
            "An invalid 'name' value was provided. The name must be: printable characters with at least one non space character",
        ));
    }
    Ok(s)
}

fn check_name(s: &str, forbid_colon: bool) -> Result<(), ApiError> {
    let bad_edge = |c: Option<char>| c.is_some_and(|c| c.is_whitespace() || !printable(c));
    let bad_char = s.chars().any(|c| !printable(c) || (forbid_colon && c == ':'));
    if bad_char || bad_edge(s.chars().next()) || bad_edge(s.chars().last()) {
        let reason = if forbid_colon {
            "printable characters except :.Can not start or end with whitespace."
        } else {
            "printable characters. Can not start or end with whitespace."
        };
        return Err(ApiError::bad_request(format!("An invalid 'name' value was provided. The name must be: {reason}")));
    }
    Ok(())
}

/// Printable as Nova counts it: no control or format characters, and of the whitespace only
/// the space separators (Unicode category Zs).
fn printable(c: char) -> bool {
    const SPACE_SEPARATORS: &[char] = &[' ', '\u{a0}', '\u{1680}', '\u{202f}', '\u{205f}', '\u{3000}'];
    if c.is_control() {
        return false;
    }
    if c.is_whitespace() {
        return SPACE_SEPARATORS.contains(&c) || ('\u{2000}'..='\u{200a}').contains(&c);
    }
    !matches!(c, '\u{ad}' | '\u{600}'..='\u{605}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

/// Nova's description format: printable characters (any whitespace position), or null.
pub fn description(value: &Value, field: &str, max: usize) -> Result<Option<String>, ApiError> {
    if value.is_null() {
        return Ok(None);
    }
    let s = string(value, field, 0, max)?;
    if !s.chars().all(printable) {
        return Err(invalid(field, value, format!("'{s}' does not match the description pattern")));
    }
    Ok(Some(s.to_string()))
}

/// An integer given as a JSON integer or a decimal string (Nova's `positive_integer` and
/// `non_negative_integer` types), within `min..=max`.
pub fn integer(value: &Value, field: &str, min: i64, max: i64) -> Result<i64, ApiError> {
    let n = match value {
        Value::Number(n) => n.as_i64().filter(|_| n.is_i64() || n.is_u64()),
        Value::String(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(field, value, format!("'{s}' does not match '^-?[0-9]+$'")));
            }
            s.parse::<i64>().ok()
        }
        _ => None,
    };
    let Some(n) = n else {
        return Err(invalid(field, value, format!("{} is not of type 'integer', 'string'", render(value))));
    };
    if n < min {
        return Err(invalid(field, value, format!("{} is less than the minimum of {min}", render(value))));
    }
    if n > max {
        return Err(invalid(field, value, format!("{} is greater than the maximum of {max}", render(value))));
    }
    Ok(n)
}

/// The boolean forms Nova accepts (`true`, `"True"`, `"yes"`, `"1"`, `"off"`, …).
pub fn boolean(value: &Value, field: &str) -> Result<bool, ApiError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => parse_bool(s).ok_or_else(|| invalid(field, value, format!("'{s}' is not one of the boolean forms"))),
        _ => Err(invalid(field, value, format!("{} is not of type 'boolean', 'string'", render(value)))),
    }
}

/// oslo's strict `bool_from_string`: the spellings of true and false, case-insensitively.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "on" | "y" | "yes" => Some(true),
        "0" | "f" | "false" | "off" | "n" | "no" => Some(false),
        _ => None,
    }
}

/// Nova's metadata maps: keys of 1–255 characters from `[a-zA-Z0-9-_:. ]`, string values of
/// at most 255 characters (null allowed when `nullable`, numbers when `numbers`).
pub fn metadata(value: &Value, field: &str, nullable: bool, numbers: bool) -> Result<Vec<(String, Option<String>)>, ApiError> {
    let map = object(value, field)?;
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in map {
        let key_ok = !k.is_empty() && k.chars().count() <= 255 && k.chars().all(|c| c.is_ascii_alphanumeric() || "-_:. ".contains(c));
        if !key_ok {
            return Err(invalid(field, value, format!("Additional properties are not allowed ('{k}' was unexpected)")));
        }
        let text = match v {
            Value::String(s) if s.chars().count() <= 255 => Some(s.clone()),
            Value::String(s) => return Err(invalid(k, v, format!("'{s}' is too long"))),
            Value::Null if nullable => None,
            Value::Number(n) if numbers => Some(n.to_string()),
            other => return Err(invalid(k, other, format!("{} is not of type 'string'", render(other)))),
        };
        out.push((k.clone(), text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_novas_format() {
        assert!(name(&json!("m1.tiny"), "name").is_ok());
        assert!(name(&json!(" lead"), "name").is_err());
        assert!(name(&json!("trail "), "name").is_err());
        assert!(name(&json!(""), "name").is_err());
        assert!(name(&json!("tab\tinside"), "name").is_err());
        assert!(name(&json!("x".repeat(256)), "name").is_err());
        assert!(az_name(&json!("zone:1"), "availability_zone").is_err());
        assert!(name_with_spaces(&json!("  padded  "), "name").is_ok());
        assert!(name_with_spaces(&json!("   "), "name").is_err());
    }

    #[test]
    fn integers_accept_digit_strings() {
        assert_eq!(integer(&json!("12"), "ram", 1, 100).ok(), Some(12));
        assert_eq!(integer(&json!(7), "ram", 1, 100).ok(), Some(7));
        assert!(integer(&json!(0), "ram", 1, 100).is_err());
        assert!(integer(&json!(1.5), "ram", 1, 100).is_err());
        assert!(integer(&json!("1e3"), "ram", 1, 100).is_err());
        assert!(integer(&json!(true), "ram", 1, 100).is_err());
    }

    #[test]
    fn unknown_keys_are_named() {
        let obj = json!({"a": 1, "zz": 2});
        let err = only(obj.as_object().expect("object"), &["a"], Some("thing")).err().map(|e| e.message);
        assert!(err.is_some_and(|m| m.contains("('zz' was unexpected)")));
    }

    #[test]
    fn metadata_keys_and_values_are_checked() {
        assert!(metadata(&json!({"k": "v"}), "metadata", false, false).is_ok());
        assert!(metadata(&json!({"bad/key": "v"}), "metadata", false, false).is_err());
        assert!(metadata(&json!({"k": null}), "metadata", false, false).is_err());
        assert_eq!(metadata(&json!({"k": null}), "metadata", true, false).ok(), Some(vec![("k".to_string(), None)]));
        assert_eq!(metadata(&json!({"k": 2}), "extra_specs", false, true).ok(), Some(vec![("k".to_string(), Some("2".into()))]));
    }
}
