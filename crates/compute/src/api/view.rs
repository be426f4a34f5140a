//! Pieces every compute view shares: Nova's timestamp format and resource links.

use super::query::{Query, MAX_LIMIT};
use super::State;
use serde_json::{json, Value};

/// Nova's timestamps: ISO 8601 with microseconds and no zone (`2026-01-01T12:00:00.000000`).
pub fn timestamp(micros: i64) -> String {
    monostack_common::time::to_datetime(micros).format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// [`timestamp`] of an optional time; None is JSON null.
pub fn opt_timestamp(micros: Option<i64>) -> Value {
    micros.map_or(Value::Null, |m| Value::String(timestamp(m)))
}

/// The `self` (versioned) and `bookmark` (unversioned) links of `collection/id`.
pub fn links(state: &State, collection: &str, id: &str) -> Value {
    json!([
        {"rel": "self", "href": format!("{}/v2.1/{collection}/{id}", state.public_url)},
        {"rel": "bookmark", "href": format!("{}/{collection}/{id}", state.public_url)},
    ])
}

/// Nova's `*_links` for a page: a `next` link when the page is full (as many items as the
/// requested limit, or as [`MAX_LIMIT`]), pointing after `last_id`.
pub fn next_links(state: &State, collection: &str, query: &Query, count: usize, last_id: Option<&str>) -> Option<Value> {
    let requested = query.get("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(MAX_LIMIT);
    let max_items = requested.min(MAX_LIMIT);
    let last = last_id?;
    if max_items == 0 || max_items != count {
        return None;
    }
    let href = format!("{}/v2.1/{collection}?{}", state.public_url, query.with_marker(last));
    Some(json!([{"rel": "next", "href": href}]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_microseconds_and_no_zone() {
        assert_eq!(timestamp(1_700_000_000_123_456), "2023-11-14T22:13:20.123456");
        assert_eq!(opt_timestamp(None), Value::Null);
    }
}
