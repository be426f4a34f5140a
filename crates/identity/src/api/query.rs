//! Query-string helpers: Keystone's list filters (`name`, `enabled`, `domain_id`, …,
//! with `__contains`/`__startswith`/`__endswith` etc. on string attributes).

use monostack_common::ApiError;
use std::collections::HashMap;

/// Parsed query parameters (last value wins; repeated keys keep all in `all`).
#[derive(Debug, Default, Clone)]
pub struct Query {
    pub map: HashMap<String, String>,
    pub all: Vec<(String, String)>,
    pub raw: String,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        let raw = raw.unwrap_or("").to_string();
        let all: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let map = all.iter().cloned().collect();
        Query { map, all, raw }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// A boolean filter as Keystone reads it: "0", "false", "no", "off" are false (case-insensitive),
    /// anything else (including empty) is true.
    pub fn flag(&self, key: &str) -> Option<bool> {
        self.get(key).map(|v| !matches!(v.to_ascii_lowercase().as_str(), "0" | "false" | "no" | "off" | "f" | "n"))
    }

    /// Whether a string attribute passes the filters given for it (`name=x`, `name__contains=x`, …).
    pub fn matches_text(&self, attr: &str, value: Option<&str>) -> bool {
        for (k, want) in &self.all {
            let Some(rest) = k.strip_prefix(attr) else { continue };
            let v = value.unwrap_or("");
            let ok = match rest {
                "" => v == want,
                "__contains" => v.contains(want.as_str()),
                "__icontains" => v.to_lowercase().contains(&want.to_lowercase()),
                "__startswith" => v.starts_with(want.as_str()),
                "__istartswith" => v.to_lowercase().starts_with(&want.to_lowercase()),
                "__endswith" => v.ends_with(want.as_str()),
                "__iendswith" => v.to_lowercase().ends_with(&want.to_lowercase()),
                "__equals" => v == want,
                "__iequals" => v.eq_ignore_ascii_case(want),
                _ => true,
            };
            if !ok {
                return false;
            }
        }
        true
    }

    /// Whether a boolean attribute passes `attr=...`.
    pub fn matches_flag(&self, attr: &str, value: bool) -> bool {
        self.flag(attr).is_none_or(|want| want == value)
    }
}

/// Extracts the raw query from a request URI, for handlers.
pub fn from_uri(uri: &http::Uri) -> Query {
    Query::parse(uri.query())
}

/// Validates a name Keystone-style: present, not blank, at most `max` characters.
pub fn validate_name(kind: &str, name: Option<&str>, max: usize) -> Result<String, ApiError> {
    let name = name.ok_or_else(|| ApiError::bad_request(format!("'name' is a required property of {kind}")))?;
    if name.trim().is_empty() {
        return Err(ApiError::bad_request(format!("Invalid input for field 'name' of {kind}: the name must not be empty")));
    }
    if name.chars().count() > max {
        return Err(ApiError::bad_request(format!("Invalid input for field 'name' of {kind}: longer than {max} characters")));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn filters() {
        let q = Query::parse(Some("name__startswith=ad&enabled=false"));
        assert!(q.matches_text("name", Some("admin")));
        assert!(!q.matches_text("name", Some("demo")));
        assert!(q.matches_flag("enabled", false));
        assert!(!q.matches_flag("enabled", true));
    }
}
