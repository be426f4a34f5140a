//! Compiles a single check word (`kind:match`, `@`, `!`).

use super::check::Check;
use super::template::{unquote, Template};
use super::value::Key;

/// Compiles one check; the error message explains what is malformed.
pub(crate) fn parse_leaf(word: &str) -> Result<Check, String> {
    match word {
        "@" => return Ok(Check::Allow),
        "!" => return Ok(Check::Deny),
        _ => {}
    }
    let (kind, matcher) =
        split_kind(word).ok_or_else(|| format!("check {word:?} is not of the form kind:match"))?;
    if kind.is_empty() || matcher.is_empty() {
        return Err(format!("check {word:?} has an empty kind or match"));
    }
    if let Some(value) = literal_kind(kind) {
        let matcher = Template::parse(matcher)?;
        return Ok(Check::Literal { value, matcher });
    }
    match kind {
        "rule" => Ok(Check::Rule(matcher.to_owned())),
        "role" => Ok(Check::Role(Template::parse(matcher)?)),
        "http" | "https" => Ok(Check::Remote),
        _ => Ok(Check::Generic {
            creds: Key::new(kind),
            matcher: Template::parse(matcher)?,
        }),
    }
}

/// Splits at the first `:` that is not inside a quoted kind.
fn split_kind(word: &str) -> Option<(&str, &str)> {
    let quote = word.chars().next().filter(|c| *c == '\'' || *c == '"');
    let Some(quote) = quote else {
        return word.split_once(':');
    };
    let close = word[1..].find(quote)? + 1;
    let (kind, rest) = word.split_at(close + 1);
    Some((kind, rest.strip_prefix(':')?))
}

/// A kind that is a Python literal rather than a creds key, rendered the way
/// Python would: quoted strings, `True`, `False` and integers.
fn literal_kind(kind: &str) -> Option<String> {
    if let Some(inner) = unquote(kind) {
        return Some(inner.to_owned());
    }
    if kind == "True" || kind == "False" {
        return Some(kind.to_owned());
    }
    kind.parse::<i64>().ok().map(|n| n.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn classifies_checks() {
        assert!(matches!(parse_leaf("@"), Ok(Check::Allow)));
        assert!(matches!(parse_leaf("!"), Ok(Check::Deny)));
        assert!(matches!(parse_leaf("role:admin"), Ok(Check::Role(_))));
        assert!(matches!(parse_leaf("rule:x"), Ok(Check::Rule(n)) if n == "x"));
        assert!(matches!(parse_leaf("http://x/y"), Ok(Check::Remote)));
        assert!(matches!(parse_leaf("https://x/y"), Ok(Check::Remote)));
        assert!(matches!(parse_leaf("a.b:%(c)s"), Ok(Check::Generic { .. })));
        assert!(
            matches!(parse_leaf("'a:b':%(c)s"), Ok(Check::Literal { value, .. }) if value == "a:b")
        );
        assert!(
            matches!(parse_leaf("True:%(c)s"), Ok(Check::Literal { value, .. }) if value == "True")
        );
    }

    #[test]
    fn role_match_may_contain_colons() {
        assert!(matches!(
            parse_leaf("role:compute:admin"),
            Ok(Check::Role(_))
        ));
    }

    #[test]
    fn rejects_malformed_checks() {
        assert!(parse_leaf("admin").is_err());
        assert!(parse_leaf("role:").is_err());
        assert!(parse_leaf(":admin").is_err());
        assert!(parse_leaf("'x'y").is_err());
    }
}
