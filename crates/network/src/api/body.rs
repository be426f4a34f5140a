//! Request bodies: `{"<resource>": {...}}` (or `{"<resources>": [...]}` for bulk creates),
//! checked attribute by attribute with Neutron's wording: unknown attributes, attributes not
//! allowed in POST or PUT, and values that do not convert are 400s.

use crate::error::{NeutronError, NeutronResult};
use serde_json::{Map, Value};

/// Parses a body holding one `key` object, or a list under `plural` when `plural` is given
/// (bulk create). Returns the objects and whether it was a bulk request.
pub fn resources(
    bytes: &[u8],
    key: &str,
    plural: Option<&str>,
) -> NeutronResult<(Vec<Map<String, Value>>, bool)> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(NeutronError::http_bad_request("Resource body required"));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        NeutronError::bad(
            "MalformedRequestBody",
            format!("Malformed request body: {e}."),
        )
    })?;
    let Value::Object(mut top) = value else {
        return Err(NeutronError::bad(
            "MalformedRequestBody",
            "Malformed request body: The request body is not a JSON object.",
        ));
    };
    if let Some(plural) = plural {
        if let Some(list) = top.remove(plural) {
            let Value::Array(items) = list else {
                return Err(NeutronError::http_bad_request(format!(
                    "Invalid format: {plural} must be a list"
                )));
            };
            if items.is_empty() {
                return Err(NeutronError::http_bad_request("Resources required"));
            }
            let objs = items
                .into_iter()
                .map(|v| match v {
                    Value::Object(m) => Ok(m),
                    _ => Err(NeutronError::http_bad_request(format!(
                        "Invalid format: each of {plural} must be an object"
                    ))),
                })
                .collect::<NeutronResult<Vec<_>>>()?;
            return Ok((objs, true));
        }
    }
    match top.remove(key) {
        Some(Value::Object(m)) => Ok((vec![m], false)),
        Some(_) => Err(NeutronError::http_bad_request(format!(
            "Invalid format: {key} must be an object"
        ))),
        None => Err(NeutronError::http_bad_request(format!(
            "Unable to find '{key}' in request body"
        ))),
    }
}

/// One resource's attributes as sent, read with Neutron's converters and validators.
pub struct Attrs {
    pub map: Map<String, Value>,
}

fn invalid(attr: &str, reason: impl AsRef<str>) -> NeutronError {
    NeutronError::http_bad_request(format!(
        "Invalid input for {attr}. Reason: {}.",
        reason.as_ref().trim_end_matches('.')
    ))
}

impl Attrs {
    pub fn new(map: Map<String, Value>) -> Self {
        Attrs { map }
    }

    /// 400 for attributes that are unknown or not writable: `allowed` may be set, `known`
    /// exist but are read-only (`post` chooses the wording of the refusal).
    pub fn check(&self, allowed: &[&str], known: &[&str], post: bool) -> NeutronResult<()> {
        let mut unknown = Vec::new();
        for key in self.map.keys() {
            if allowed.contains(&key.as_str()) {
                continue;
            }
            if known.contains(&key.as_str()) {
                return Err(NeutronError::http_bad_request(if post {
                    format!("Attribute '{key}' not allowed in POST")
                } else {
                    format!("Cannot update read-only attribute {key}")
                }));
            }
            unknown.push(key.clone());
        }
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(NeutronError::http_bad_request(format!(
                "Unrecognized attribute(s) '{}'",
                unknown.join(", ")
            )))
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// The attribute names present, for attribute policy rules.
    pub fn keys(&self) -> Vec<&str> {
        self.map.keys().map(String::as_str).collect()
    }

    /// Neutron's convert_to_boolean: booleans, "true"/"false" in any case, 0 and 1.
    pub fn bool(&self, key: &str) -> NeutronResult<Option<bool>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(v) => to_bool(v).map(Some).ok_or_else(|| {
                invalid(key, format!("'{}' cannot be converted to boolean", show(v)))
            }),
        }
    }

    /// A string of at most `max` characters; `null` refused.
    pub fn string(&self, key: &str, max: usize) -> NeutronResult<Option<String>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.chars().count() > max => Err(invalid(
                key,
                format!("'{s}' exceeds maximum length of {max}"),
            )),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(invalid(key, format!("'{}' is not a valid string", show(v)))),
        }
    }

    /// A string or `null`: Some(None) when explicitly null.
    pub fn nullable_string(&self, key: &str, max: usize) -> NeutronResult<Option<Option<String>>> {
        match self.map.get(key) {
            Some(Value::Null) => Ok(Some(None)),
            _ => Ok(self.string(key, max)?.map(Some)),
        }
    }

    /// An integer (numbers, or decimal strings as Neutron's convert_to_int accepts), `null`
    /// giving Some(None).
    pub fn nullable_int(&self, key: &str) -> NeutronResult<Option<Option<i64>>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(v) => to_int(v)
                .map(|i| Some(Some(i)))
                .ok_or_else(|| invalid(key, format!("'{}' is not an integer", show(v)))),
        }
    }

    /// A UUID (any case), returned lower-case.
    pub fn uuid(&self, key: &str) -> NeutronResult<Option<String>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if is_uuid(s) => Ok(Some(s.to_ascii_lowercase())),
            Some(v) => Err(invalid(key, format!("'{}' is not a valid UUID", show(v)))),
        }
    }

    /// A list of strings.
    pub fn string_list(&self, key: &str) -> NeutronResult<Option<Vec<String>>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| invalid(key, format!("'{}' is not a valid string", show(i))))
                })
                .collect::<NeutronResult<Vec<_>>>()
                .map(Some),
            Some(v) => Err(invalid(key, format!("'{}' is not a list", show(v)))),
        }
    }

    /// The raw value.
    pub fn raw(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }
}

/// Neutron's convert_to_boolean.
pub fn to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Neutron's convert_to_int.
pub fn to_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

/// A value as Python would print it in an error message.
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// Fails with 412 when the request's `If-Match` revision is not the resource's `current` one.
pub fn check_revision(if_match: Option<i64>, current: i64) -> NeutronResult<()> {
    match if_match {
        Some(want) if want != current => Err(NeutronError::revision_mismatch(want, current)),
        _ => Ok(()),
    }
}

/// The `If-Match: revision_number=N` constraint of a request, if any.
pub fn if_match_revision(headers: &axum::http::HeaderMap) -> NeutronResult<Option<i64>> {
    let Some(value) = headers.get("if-match") else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| NeutronError::http_bad_request("If-Match header is not valid text"))?;
    for part in text.split(',') {
        let part = part.trim();
        if let Some(n) = part.strip_prefix("revision_number=") {
            let n: i64 = n.trim().parse().map_err(|_| {
                NeutronError::http_bad_request(format!(
                    "Could not parse {part} as a revision number"
                ))
            })?;
            return Ok(Some(n));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_and_converters() {
        assert_eq!(
            resources(b"", "network", None).err().map(|e| e.message),
            Some("Resource body required".into())
        );
        assert_eq!(
            resources(b"{x", "network", None).err().map(|e| e.kind),
            Some("MalformedRequestBody")
        );
        assert!(resources(b"{\"port\": {}}", "network", None).is_err());
        let (bulk, is_bulk) =
            resources(br#"{"networks": [{}, {}]}"#, "network", Some("networks")).expect("bulk");
        assert!(is_bulk && bulk.len() == 2);
        let a = Attrs::new(
            json!({"a": "True", "b": 2, "c": "x", "d": null})
                .as_object()
                .cloned()
                .expect("object"),
        );
        assert_eq!(a.bool("a").ok().flatten(), Some(true));
        assert!(a.bool("b").is_err());
        assert!(a.string("c", 0).is_err());
        assert_eq!(a.nullable_string("d", 5).ok().flatten(), Some(None));
        assert!(a
            .check(&["a", "b"], &["c"], true)
            .err()
            .map(|e| e.message.contains("not allowed in POST"))
            .unwrap_or(false));
        assert!(a
            .check(&["a", "b", "c"], &[], true)
            .err()
            .map(|e| e.message.contains("Unrecognized attribute(s) 'd'"))
            .unwrap_or(false));
    }
}
