//! Looking up and rendering JSON values the way oslo.policy sees them.
//!
//! oslo.policy compares Python values as text, so JSON values are rendered
//! with Python spelling (`True`, `False`, `None`) before comparison.

use std::borrow::Cow;

use serde_json::Value;

/// A key into target or creds: used as a flat key first, then as a dotted
/// path (`target.project.id` -> `["target"]["project"]["id"]`).
#[derive(Debug, Clone)]
pub(crate) struct Key {
    flat: String,
    segments: Vec<String>,
}

impl Key {
    pub(crate) fn new(key: &str) -> Self {
        Key {
            flat: key.to_owned(),
            segments: key.split('.').map(str::to_owned).collect(),
        }
    }

    fn is_dotted(&self) -> bool {
        self.segments.len() > 1
    }

    /// Finds the value for this key in a target object (no array traversal).
    pub(crate) fn lookup<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        if let Some(found) = root.get(self.flat.as_str()) {
            return Some(found);
        }
        if !self.is_dotted() {
            return None;
        }
        self.segments
            .iter()
            .try_fold(root, |node, segment| node.get(segment.as_str()))
    }

    /// True when the creds value at this key renders as `expected`; arrays
    /// met along the path match when any element matches.
    pub(crate) fn any_equals(&self, root: &Value, expected: &str) -> bool {
        let flat_hit = root
            .get(self.flat.as_str())
            .is_some_and(|found| path_equals(found, &[], expected));
        flat_hit || (self.is_dotted() && path_equals(root, &self.segments, expected))
    }
}

fn path_equals(node: &Value, segments: &[String], expected: &str) -> bool {
    if let Value::Array(items) = node {
        return items
            .iter()
            .any(|item| path_equals(item, segments, expected));
    }
    match segments.split_first() {
        None => render(node).is_some_and(|text| text == expected),
        Some((head, tail)) => node
            .get(head.as_str())
            .is_some_and(|next| path_equals(next, tail, expected)),
    }
}

/// Renders a scalar as Python's `str()` would; arrays and objects have no
/// rendering and therefore never match.
pub(crate) fn render(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Bool(true) => Some(Cow::Borrowed("True")),
        Value::Bool(false) => Some(Cow::Borrowed("False")),
        Value::Null => Some(Cow::Borrowed("None")),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// Case-insensitive equality without allocating (ASCII fast path).
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_prefers_flat_key_then_path() {
        let target = json!({"a.b": "flat", "a": {"b": "nested"}, "c": {"d": 1}});
        assert_eq!(Key::new("a.b").lookup(&target), Some(&json!("flat")));
        assert_eq!(Key::new("c.d").lookup(&target), Some(&json!(1)));
        assert_eq!(Key::new("c.e").lookup(&target), None);
    }

    #[test]
    fn any_equals_walks_arrays() {
        let creds = json!({"groups": ["g1", "g2"], "items": [{"id": "x"}, {"id": "y"}]});
        assert!(Key::new("groups").any_equals(&creds, "g2"));
        assert!(Key::new("items.id").any_equals(&creds, "y"));
        assert!(!Key::new("items.id").any_equals(&creds, "z"));
    }

    #[test]
    fn renders_like_python() {
        assert_eq!(render(&json!(true)).as_deref(), Some("True"));
        assert_eq!(render(&json!(null)).as_deref(), Some("None"));
        assert_eq!(render(&json!(42)).as_deref(), Some("42"));
        assert_eq!(render(&json!([1])), None);
    }

    #[test]
    fn ignores_case_for_unicode() {
        assert!(eq_ignore_case("Admin", "aDMIN"));
        assert!(eq_ignore_case("ÄDMIN", "ädmin"));
        assert!(!eq_ignore_case("admin", "admins"));
    }
}
