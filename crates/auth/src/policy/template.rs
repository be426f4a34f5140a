//! The right-hand side of a check: a literal or a `%(name)s` template that
//! is filled in from the target at enforcement time.

use std::borrow::Cow;

use serde_json::Value;

use super::value::{render, Key};

/// A compiled match. The common shapes (a plain literal, or exactly one
/// interpolation) render without allocating.
#[derive(Debug, Clone)]
pub(crate) enum Template {
    Literal(String),
    Var(Key),
    Mixed(Vec<Part>),
}

#[derive(Debug, Clone)]
pub(crate) enum Part {
    Text(String),
    Var(Key),
}

impl Template {
    /// Compiles `src`; a fully quoted string is taken literally.
    pub(crate) fn parse(src: &str) -> Result<Self, String> {
        if let Some(inner) = unquote(src) {
            return Ok(Template::Literal(inner.to_owned()));
        }
        let mut parts = parse_parts(src)?;
        Ok(match parts.len() {
            0 => Template::Literal(String::new()),
            1 => match parts.remove(0) {
                Part::Text(text) => Template::Literal(text),
                Part::Var(key) => Template::Var(key),
            },
            _ => Template::Mixed(parts),
        })
    }

    /// Fills in the target; `None` when a referenced key is missing or not a
    /// scalar, which makes the check fail.
    pub(crate) fn render<'a>(&'a self, target: &'a Value) -> Option<Cow<'a, str>> {
        match self {
            Template::Literal(text) => Some(Cow::Borrowed(text)),
            Template::Var(key) => key.lookup(target).and_then(render),
            Template::Mixed(parts) => render_parts(parts, target).map(Cow::Owned),
        }
    }
}

fn render_parts(parts: &[Part], target: &Value) -> Option<String> {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Var(key) => out.push_str(&render(key.lookup(target)?)?),
        }
    }
    Some(out)
}

/// Returns the inside of a string wrapped in matching single or double quotes.
pub(crate) fn unquote(src: &str) -> Option<&str> {
    ['\'', '"'].into_iter().find_map(|quote| {
        src.strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
    })
}

/// Splits Python %-format text into literal text and `%(name)s` keys;
/// `%%` is an escaped percent sign.
fn parse_parts(mut src: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut text = String::new();
    while let Some(at) = src.find('%') {
        text.push_str(&src[..at]);
        let after = &src[at + 1..];
        if let Some(rest) = after.strip_prefix('%') {
            text.push('%');
            src = rest;
        } else if let Some(spec) = after.strip_prefix('(') {
            let (key, rest) = parse_spec(spec)?;
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Var(Key::new(key)));
            src = rest;
        } else {
            text.push('%');
            src = after;
        }
    }
    text.push_str(src);
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Ok(parts)
}

/// Parses `name)s...` (after `%(`) into the key and the remaining text.
fn parse_spec(spec: &str) -> Result<(&str, &str), String> {
    let close = spec
        .find(')')
        .ok_or_else(|| "unterminated %( interpolation".to_owned())?;
    let key = &spec[..close];
    if key.is_empty() {
        return Err("empty %() interpolation".to_owned());
    }
    let rest = spec[close + 1..]
        .strip_prefix('s')
        .ok_or_else(|| format!("interpolation %({key}) must be followed by 's'"))?;
    Ok((key, rest))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rendered(src: &str, target: &Value) -> Option<String> {
        Template::parse(src)
            .unwrap()
            .render(target)
            .map(Cow::into_owned)
    }

    #[test]
    fn literal_forms() {
        let t = json!({});
        assert_eq!(rendered("admin", &t).as_deref(), Some("admin"));
        assert_eq!(rendered("'a b'", &t).as_deref(), Some("a b"));
        assert_eq!(rendered("\"x\"", &t).as_deref(), Some("x"));
        assert_eq!(rendered("100%%", &t).as_deref(), Some("100%"));
    }

    #[test]
    fn interpolates_single_and_mixed() {
        let t = json!({"id": "p1", "n": 3});
        assert!(matches!(
            Template::parse("%(id)s").unwrap(),
            Template::Var(_)
        ));
        assert_eq!(rendered("%(id)s", &t).as_deref(), Some("p1"));
        assert_eq!(rendered("x-%(id)s-%(n)s", &t).as_deref(), Some("x-p1-3"));
        assert_eq!(rendered("x-%(missing)s", &t), None);
    }

    #[test]
    fn rejects_bad_interpolations() {
        assert!(Template::parse("%(id)d").is_err());
        assert!(Template::parse("%()s").is_err());
        assert!(Template::parse("%(id").is_err());
    }
}
