//! List queries of every collection: filters on any attribute (repeat a key for OR), tag
//! filters (`tags`, `tags-any`, `not-tags`, `not-tags-any`), `fields=`, `sort_key`/`sort_dir`,
//! and `limit`/`marker`/`page_reverse` paging with `<collection>_links`.
//!
//! Lists are filtered, sorted and paged over the views the caller may see, so that every
//! attribute of the view can be filtered and sorted on, extension attributes included, with
//! one implementation for every resource.

use crate::error::{NeutronError, NeutronResult};
use serde_json::{json, Map, Value};
use std::cmp::Ordering;

/// Query keys that are not attribute filters.
const CONTROL: &[&str] = &[
    "fields",
    "sort_key",
    "sort_dir",
    "limit",
    "marker",
    "page_reverse",
    "tags",
    "tags-any",
    "not-tags",
    "not-tags-any",
];

/// A page of views and its links.
pub type Page = (Vec<Map<String, Value>>, Vec<Value>);

#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    /// (attribute, accepted values).
    pub filters: Vec<(String, Vec<String>)>,
    pub fields: Vec<String>,
    /// (attribute, ascending).
    pub sort: Vec<(String, bool)>,
    pub limit: Option<usize>,
    pub marker: Option<String>,
    pub page_reverse: bool,
    tags_all: Vec<String>,
    tags_any: Vec<String>,
    not_tags_all: Vec<String>,
    not_tags_any: Vec<String>,
    raw: Vec<(String, String)>,
}

fn comma_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl ListQuery {
    pub fn parse(raw: Option<&str>) -> NeutronResult<Self> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        let mut q = ListQuery {
            raw: pairs.clone(),
            ..Default::default()
        };
        let mut sort_keys = Vec::new();
        let mut sort_dirs = Vec::new();
        for (k, v) in pairs {
            match k.as_str() {
                "fields" => q.fields.extend(comma_list(&v)),
                "sort_key" => sort_keys.push(v),
                "sort_dir" => match v.as_str() {
                    "asc" => sort_dirs.push(true),
                    "desc" => sort_dirs.push(false),
                    _ => {
                        return Err(NeutronError::http_bad_request(format!(
                            "{v} is invalid value for sort_dirs, valid values are 'asc' and 'desc'"
                        )))
                    }
                },
                "limit" => {
                    let n: i64 = v.parse().map_err(|_| {
                        NeutronError::http_bad_request(format!(
                            "Limit must be an integer 0 or greater and not '{v}'"
                        ))
                    })?;
                    if n < 0 {
                        return Err(NeutronError::http_bad_request(format!(
                            "Limit must be an integer 0 or greater and not '{v}'"
                        )));
                    }
                    q.limit = if n == 0 {
                        None
                    } else {
                        usize::try_from(n).ok()
                    };
                }
                "marker" => q.marker = Some(v),
                "page_reverse" => {
                    q.page_reverse = matches!(v.to_ascii_lowercase().as_str(), "true" | "1")
                }
                "tags" => q.tags_all.extend(comma_list(&v)),
                "tags-any" => q.tags_any.extend(comma_list(&v)),
                "not-tags" => q.not_tags_all.extend(comma_list(&v)),
                "not-tags-any" => q.not_tags_any.extend(comma_list(&v)),
                _ => match q.filters.iter_mut().find(|(name, _)| *name == k) {
                    Some((_, values)) => values.push(v),
                    None => q.filters.push((k, vec![v])),
                },
            }
        }
        if !sort_dirs.is_empty() && sort_dirs.len() != sort_keys.len() {
            return Err(NeutronError::http_bad_request(
                "The number of sort_keys and sort_dirs must be same",
            ));
        }
        q.sort = sort_keys
            .into_iter()
            .enumerate()
            .map(|(i, k)| (k, sort_dirs.get(i).copied().unwrap_or(true)))
            .collect();
        Ok(q)
    }

    /// The value of a filter given once (`network_id=…`), for narrowing database reads.
    pub fn single(&self, key: &str) -> Option<&str> {
        self.filters
            .iter()
            .find(|(k, v)| k == key && v.len() == 1)
            .map(|(_, v)| v[0].as_str())
    }

    fn matches(&self, item: &Map<String, Value>) -> bool {
        for (key, wanted) in &self.filters {
            if CONTROL.contains(&key.as_str()) {
                continue;
            }
            let Some(actual) = item.get(key) else {
                // An attribute this resource does not have (or the caller may not see) does
                // not filter, as Neutron ignores unknown filters.
                continue;
            };
            if !wanted.iter().any(|w| value_matches(actual, w)) {
                return false;
            }
        }
        let tags: Vec<&str> = item
            .get("tags")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let has = |t: &String| tags.contains(&t.as_str());
        if !self.tags_all.iter().all(has) {
            return false;
        }
        if !self.tags_any.is_empty() && !self.tags_any.iter().any(has) {
            return false;
        }
        if !self.not_tags_all.is_empty() && self.not_tags_all.iter().all(has) {
            return false;
        }
        if self.not_tags_any.iter().any(has) {
            return false;
        }
        true
    }

    fn compare(&self, a: &Map<String, Value>, b: &Map<String, Value>) -> Ordering {
        for (key, asc) in &self.sort {
            let o = compare_values(
                a.get(key).unwrap_or(&Value::Null),
                b.get(key).unwrap_or(&Value::Null),
            );
            let o = if *asc { o } else { o.reverse() };
            if o != Ordering::Equal {
                return o;
            }
        }
        // id last, so pages are stable.
        compare_values(
            a.get("id").unwrap_or(&Value::Null),
            b.get("id").unwrap_or(&Value::Null),
        )
    }

    /// Filters, sorts and pages `items` (views the caller may see), then keeps only the asked
    /// `fields`. Returns the page and its links (`next`, and `previous` after a marker);
    /// `url` is the collection's URL.
    pub fn apply(&self, items: Vec<Map<String, Value>>, url: &str) -> NeutronResult<Page> {
        if let Some(first) = items.first() {
            for (key, _) in &self.sort {
                if !first.contains_key(key) {
                    return Err(NeutronError::http_bad_request(format!(
                        "{key} is invalid attribute for sort_keys"
                    )));
                }
            }
        }
        let marker_item = match &self.marker {
            Some(m) => Some(
                items
                    .iter()
                    .find(|i| i.get("id").and_then(Value::as_str) == Some(m.as_str()))
                    .cloned()
                    .ok_or_else(|| {
                        NeutronError::not_found(
                            "NotFound",
                            format!("Marker {m} could not be found."),
                        )
                    })?,
            ),
            None => None,
        };
        let mut selected: Vec<Map<String, Value>> =
            items.into_iter().filter(|i| self.matches(i)).collect();
        let paging = self.limit.is_some() || self.marker.is_some();
        if !self.sort.is_empty() || paging {
            selected.sort_by(|a, b| self.compare(a, b));
        }
        if self.page_reverse {
            selected.reverse();
        }
        if let Some(marker) = &marker_item {
            selected.retain(|i| {
                let o = self.compare(i, marker);
                if self.page_reverse {
                    o == Ordering::Less
                } else {
                    o == Ordering::Greater
                }
            });
        }
        let mut more = false;
        if let Some(limit) = self.limit {
            if selected.len() > limit {
                selected.truncate(limit);
                more = true;
            }
        }
        if self.page_reverse {
            selected.reverse();
        }
        let mut links = Vec::new();
        if self.limit.is_some() {
            let last = selected
                .last()
                .and_then(|i| i.get("id"))
                .and_then(Value::as_str);
            let first = selected
                .first()
                .and_then(|i| i.get("id"))
                .and_then(Value::as_str);
            let (next_id, prev_id) = if self.page_reverse {
                (first, last)
            } else {
                (last, first)
            };
            if more || self.page_reverse && self.marker.is_some() {
                if let Some(id) = next_id.filter(|_| more || self.page_reverse) {
                    let rel = if self.page_reverse {
                        "previous"
                    } else {
                        "next"
                    };
                    links.push(json!({"rel": rel, "href": self.link(url, id, self.page_reverse)}));
                }
            }
            if self.marker.is_some() {
                if let Some(id) = prev_id {
                    let rel = if self.page_reverse {
                        "next"
                    } else {
                        "previous"
                    };
                    links.push(json!({"rel": rel, "href": self.link(url, id, !self.page_reverse)}));
                }
            }
        }
        if !self.fields.is_empty() {
            for item in &mut selected {
                item.retain(|k, _| self.fields.iter().any(|f| f == k));
            }
        }
        Ok((selected, links))
    }

    fn link(&self, url: &str, marker: &str, reverse: bool) -> String {
        let mut pairs: Vec<(String, String)> = self
            .raw
            .iter()
            .filter(|(k, _)| k != "marker" && k != "page_reverse")
            .cloned()
            .collect();
        pairs.push(("marker".into(), marker.into()));
        if reverse {
            pairs.push(("page_reverse".into(), "True".into()));
        }
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{url}?{q}")
    }

    /// Keeps only the asked `fields` of a single resource's view.
    pub fn select_fields(&self, view: &mut Map<String, Value>) {
        if !self.fields.is_empty() {
            view.retain(|k, _| self.fields.iter().any(|f| f == k));
        }
    }
}

/// Whether an attribute's value matches a filter's text: strings exactly, booleans and
/// numbers by value, `null` by an empty filter or "None", lists by membership, and
/// `fixed_ips` by `ip_address=…` / `subnet_id=…`.
fn value_matches(actual: &Value, wanted: &str) -> bool {
    match actual {
        Value::String(s) => s == wanted,
        Value::Bool(b) => crate::api::body::to_bool(&Value::String(wanted.to_string())) == Some(*b),
        Value::Number(n) => wanted.parse::<f64>().ok() == n.as_f64(),
        Value::Null => wanted.is_empty() || wanted == "None",
        Value::Array(items) => items.iter().any(|i| match i {
            Value::Object(o) => match wanted.split_once('=') {
                Some((k, v)) => o.get(k).and_then(Value::as_str) == Some(v),
                None => false,
            },
            other => value_matches(other, wanted),
        }),
        Value::Object(_) => false,
    }
}

fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (x, y) => x.to_string().cmp(&y.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<Map<String, Value>> {
        (0..5)
            .map(|i| {
                json!({"id": format!("id{i}"), "name": format!("n{}", 4 - i), "shared": i % 2 == 0, "mtu": 1400 + i, "tags": if i < 2 { json!(["a"]) } else { json!(["b"]) }})
                    .as_object()
                    .cloned()
                    .expect("object")
            })
            .collect()
    }

    #[test]
    fn filters_sorting_fields_and_pages() {
        let q = ListQuery::parse(Some(
            "shared=true&sort_key=name&sort_dir=asc&fields=id&fields=name",
        ))
        .expect("parse");
        let (page, links) = q.apply(items(), "http://x/v2.0/networks").expect("apply");
        let ids: Vec<_> = page
            .iter()
            .map(|i| i["id"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(ids, vec!["id4", "id2", "id0"]);
        assert!(links.is_empty());
        assert_eq!(page[0].len(), 2);
        let q = ListQuery::parse(Some("limit=2")).expect("parse");
        let (page, links) = q.apply(items(), "u").expect("apply");
        assert_eq!(page.len(), 2);
        assert_eq!(links[0]["rel"], "next");
        assert_eq!(links[0]["href"], "u?limit=2&marker=id1");
        let q = ListQuery::parse(Some("limit=2&marker=id1")).expect("parse");
        let (page, links) = q.apply(items(), "u").expect("apply");
        assert_eq!(
            page.iter().map(|i| i["id"].clone()).collect::<Vec<_>>(),
            vec![json!("id2"), json!("id3")]
        );
        assert_eq!(links.len(), 2);
        let q = ListQuery::parse(Some("tags-any=a&mtu=1401&mtu=1403")).expect("parse");
        assert_eq!(q.apply(items(), "u").expect("apply").0.len(), 1);
        assert!(ListQuery::parse(Some("limit=-1")).is_err());
        assert!(ListQuery::parse(Some("sort_key=name&sort_dir=up")).is_err());
        assert!(ListQuery::parse(Some("sort_key=bogus"))
            .expect("parse")
            .apply(items(), "u")
            .is_err());
        assert!(ListQuery::parse(Some("marker=nope"))
            .expect("parse")
            .apply(items(), "u")
            .is_err());
    }
}
