//! Image updates: JSON patch in Glance's media types. `application/openstack-images-v2.1-json-patch`
//! is RFC 6902 (`{"op": "replace", "path": "/name", "value": …}`); the older
//! `…-v2.0-json-patch` names the op as the key (`{"replace": "/name", "value": …}`).

use super::attributes;
use crate::db::ImageRecord;
use axum::http::{header, HeaderMap, StatusCode};
use monostack_common::json::parse_json;
use monostack_common::ApiError;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub kind: OpKind,
    /// The attribute the path names (one level: `/name` → `name`).
    pub name: String,
    pub value: Option<Value>,
}

const V21: &str = "application/openstack-images-v2.1-json-patch";
const V20: &str = "application/openstack-images-v2.0-json-patch";

/// Reads the patch document, checking its media type (415) and shape (400).
pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Op>, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    let v21 = match media {
        V21 => true,
        V20 => false,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Content type '{content_type}' is not supported; use {V21}"),
            ))
        }
    };
    let doc: Value = parse_json(body)?;
    let items = doc.as_array().ok_or_else(|| ApiError::bad_request("A JSON patch must be a list of operations"))?;
    items.iter().map(|item| parse_op(item, v21)).collect()
}

fn parse_op(item: &Value, v21: bool) -> Result<Op, ApiError> {
    let obj = item.as_object().ok_or_else(|| ApiError::bad_request("Each patch operation must be an object"))?;
    let (kind, path) = if v21 {
        let op = obj.get("op").and_then(Value::as_str).ok_or_else(|| ApiError::bad_request("Operation objects must contain 'op'"))?;
        let path = obj.get("path").and_then(Value::as_str).ok_or_else(|| ApiError::bad_request("Operation objects must contain 'path'"))?;
        (op_kind(op)?, path)
    } else {
        let (op, path) = ["add", "replace", "remove"]
            .iter()
            .find_map(|op| obj.get(*op).and_then(Value::as_str).map(|p| (*op, p)))
            .ok_or_else(|| ApiError::bad_request("Operation objects must contain exactly one of add, replace or remove"))?;
        (op_kind(op)?, path)
    };
    let name = pointer_name(path)?;
    let value = obj.get("value").cloned();
    if kind != OpKind::Remove && value.is_none() {
        return Err(ApiError::bad_request(format!("Operation on '{path}' must contain 'value'")));
    }
    Ok(Op { kind, name, value })
}

fn op_kind(op: &str) -> Result<OpKind, ApiError> {
    match op {
        "add" => Ok(OpKind::Add),
        "replace" => Ok(OpKind::Replace),
        "remove" => Ok(OpKind::Remove),
        _ => Err(ApiError::bad_request(format!("Invalid operation: '{op}'"))),
    }
}

/// `/name` → `name`, with JSON pointer escapes (`~1` is `/`, `~0` is `~`).
fn pointer_name(path: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::bad_request(format!("Invalid JSON pointer for this resource: '{path}'"));
    let rest = path.strip_prefix('/').ok_or_else(invalid)?;
    if rest.is_empty() || rest.contains('/') {
        if rest.starts_with("locations") {
            return Err(ApiError::forbidden("Image locations cannot be changed through this API"));
        }
        return Err(invalid());
    }
    Ok(rest.replace("~1", "/").replace("~0", "~"))
}

/// Applies the operations in order; on error nothing is saved (the caller owns the copy).
pub fn apply(img: &mut ImageRecord, ops: &[Op]) -> Result<(), ApiError> {
    for op in ops {
        let name = op.name.as_str();
        let exists = attributes::is_base(name) || img.properties.contains_key(name);
        match op.kind {
            OpKind::Add | OpKind::Replace => {
                if op.kind == OpKind::Replace && !exists {
                    attributes::check_settable(name)?;
                    return Err(ApiError::conflict(format!("Property {name} does not exist.")));
                }
                attributes::set(img, name, op.value.as_ref().unwrap_or(&Value::Null))?;
            }
            OpKind::Remove => {
                attributes::check_settable(name)?;
                if attributes::is_base(name) {
                    return Err(ApiError::forbidden(format!("Properties {name} can't be removed")));
                }
                if img.properties.remove(name).is_none() {
                    return Err(ApiError::conflict(format!("Property {name} does not exist.")));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
        h
    }

    #[test]
    fn applies_glance_patch_rules() {
        let mut img = ImageRecord { name: Some("a".into()), ..Default::default() };
        let body = json!([
            {"op": "replace", "path": "/name", "value": "b"},
            {"op": "add", "path": "/hw_disk_bus", "value": "scsi"},
            {"op": "add", "path": "/tags", "value": ["x", "y"]},
            {"op": "add", "path": "/a~1b", "value": "slash"},
        ]);
        let ops = parse(&headers(V21), body.to_string().as_bytes()).unwrap();
        apply(&mut img, &ops).unwrap();
        assert_eq!(img.name.as_deref(), Some("b"));
        assert_eq!(img.properties["hw_disk_bus"], "scsi");
        assert_eq!(img.properties["a/b"], "slash");
        assert_eq!(img.tags.len(), 2);

        let old = parse(&headers(V20), br#"[{"remove": "/hw_disk_bus"}]"#).unwrap();
        apply(&mut img, &old).unwrap();
        assert!(!img.properties.contains_key("hw_disk_bus"));

        let status = |body: &str| {
            let mut copy = img.clone();
            match parse(&headers(V21), body.as_bytes()) {
                Ok(ops) => apply(&mut copy, &ops).err().map(|e| e.status.as_u16()),
                Err(e) => Some(e.status.as_u16()),
            }
        };
        assert_eq!(status(r#"[{"op": "replace", "path": "/nothere", "value": "v"}]"#), Some(409));
        assert_eq!(status(r#"[{"op": "remove", "path": "/nothere"}]"#), Some(409));
        assert_eq!(status(r#"[{"op": "remove", "path": "/name"}]"#), Some(403));
        assert_eq!(status(r#"[{"op": "replace", "path": "/status", "value": "active"}]"#), Some(403));
        assert_eq!(status(r#"[{"op": "add", "path": "/os_glance_x", "value": "v"}]"#), Some(403));
        assert_eq!(status(r#"[{"op": "add", "path": "/min_ram", "value": "lots"}]"#), Some(400));
        assert_eq!(status(r#"[{"op": "move", "path": "/name"}]"#), Some(400));
        assert_eq!(status(r#"{"op": "add"}"#), Some(400));
        assert_eq!(parse(&headers("application/json"), b"[]").unwrap_err().status.as_u16(), 415);
    }
}
