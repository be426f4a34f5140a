//! Query strings of list calls: filters, `sort` (or the deprecated `sort_key`/`sort_dir`),
//! `limit`, `marker` and `offset`, with Cinder's messages; and the `next` link of a page.

use super::ApiResult;
use monostack_common::ApiError;
use std::cmp::Ordering;

/// The decoded `key=value` pairs of a query string.
pub fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The last value of `key`.
pub fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Cinder's boolean query values (`true`/`1`/`yes`/`on` and their opposites); anything else
/// is a 400 naming the parameter.
pub fn parse_bool(name: &str, value: &str) -> ApiResult<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "on" | "t" => Ok(true),
        "false" | "0" | "no" | "n" | "off" | "f" => Ok(false),
        _ => Err(ApiError::bad_request(format!(
            "Invalid value '{value}' for {name}: must be a boolean."
        ))),
    }
}

/// Whether an admin asked for every project's resources (`all_tenants`, any value but a
/// false one, as Cinder's `bool_from_string` with a non-strict default).
pub fn all_tenants(ctx: &crate::context::RequestContext, pairs: &[(String, String)]) -> bool {
    ctx.is_admin && get(pairs, "all_tenants").is_some_and(|v| parse_bool("all_tenants", v).unwrap_or(true))
}

/// One sort key and whether it sorts descending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub key: String,
    pub desc: bool,
}

/// A page request: sorted by `sort`, `offset` items skipped, then those after `marker`, at
/// most `limit`.
#[derive(Debug, Clone)]
pub struct Paging {
    pub limit: usize,
    pub marker: Option<String>,
    pub offset: usize,
    pub sort: Vec<SortKey>,
}

/// Parameters that page and sort, which are never filters.
pub const PAGING_KEYS: &[&str] = &[
    "limit",
    "marker",
    "offset",
    "sort",
    "sort_key",
    "sort_dir",
    "with_count",
];

impl Paging {
    /// Reads paging and sorting; keys outside `sort_keys` are a 400. The default order is
    /// `default_key` descending, as Cinder's lists.
    pub fn from_pairs(
        pairs: &[(String, String)],
        max_limit: usize,
        sort_keys: &[&str],
        default_key: &str,
    ) -> ApiResult<Paging> {
        let limit = match get(pairs, "limit") {
            None => max_limit,
            Some(v) => {
                let n: i64 = v
                    .trim()
                    .parse()
                    .map_err(|_| ApiError::bad_request("limit param must be an integer"))?;
                if n < 0 {
                    return Err(ApiError::bad_request("limit param must be positive"));
                }
                (n as usize).min(max_limit)
            }
        };
        let offset = match get(pairs, "offset") {
            None => 0,
            Some(v) => {
                let n: i64 = v.trim().parse().map_err(|_| {
                    ApiError::bad_request(format!("offset param must be an integer: {v}"))
                })?;
                if n < 0 {
                    return Err(ApiError::bad_request(format!(
                        "offset param must be positive: {v}"
                    )));
                }
                n as usize
            }
        };
        let marker = get(pairs, "marker").map(str::to_string);
        let has_sort = get(pairs, "sort").is_some();
        if has_sort && (get(pairs, "sort_key").is_some() || get(pairs, "sort_dir").is_some()) {
            return Err(ApiError::bad_request(
                "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.",
            ));
        }
        let mut sort = Vec::new();
        let mut add = |key: &str, dir: &str| -> ApiResult<()> {
            let key = key.trim();
            let desc = match dir.trim().to_ascii_lowercase().as_str() {
                "" | "desc" => true,
                "asc" => false,
                _ => {
                    return Err(ApiError::bad_request(
                        "Unknown sort direction, must be 'desc' or 'asc'",
                    ))
                }
            };
            let key = match key {
                "name" => "display_name",
                "description" => "display_description",
                k => k,
            };
            if !sort_keys.contains(&key) {
                return Err(ApiError::bad_request(format!(
                    "Invalid input received: Invalid sort key {key}"
                )));
            }
            sort.push(SortKey {
                key: key.to_string(),
                desc,
            });
            Ok(())
        };
        if let Some(s) = get(pairs, "sort") {
            for entry in s.split(',').filter(|e| !e.trim().is_empty()) {
                let (key, dir) = entry.split_once(':').unwrap_or((entry, ""));
                add(key, dir)?;
            }
        } else if let Some(key) = get(pairs, "sort_key") {
            add(key, get(pairs, "sort_dir").unwrap_or("desc"))?;
        }
        if sort.is_empty() {
            sort.push(SortKey {
                key: default_key.to_string(),
                desc: true,
            });
        }
        Ok(Paging {
            limit,
            marker,
            offset,
            sort,
        })
    }

    /// Sorts `items` (ties broken by id, in the last key's direction), then cuts the page.
    /// Returns the page and whether it has a `next` link: as in Cinder, whenever the page is
    /// full, even when nothing follows (the next page is then empty, without a link). An
    /// unknown marker is a 404.
    pub fn apply<T>(
        &self,
        mut items: Vec<T>,
        id_of: impl Fn(&T) -> &str,
        compare: impl Fn(&T, &T, &str) -> Ordering,
    ) -> ApiResult<(Vec<T>, bool)> {
        let last_desc = self.sort.last().is_some_and(|s| s.desc);
        items.sort_by(|a, b| {
            for s in &self.sort {
                let o = compare(a, b, &s.key);
                let o = if s.desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            let o = id_of(a).cmp(id_of(b));
            if last_desc {
                o.reverse()
            } else {
                o
            }
        });
        let mut start = self.offset.min(items.len());
        if let Some(m) = &self.marker {
            let pos = items
                .iter()
                .position(|i| id_of(i) == m)
                .ok_or_else(|| ApiError::not_found(format!("Marker {m} could not be found.")))?;
            start = start.max(pos + 1);
        }
        let mut rest: Vec<T> = items.into_iter().skip(start).collect();
        rest.truncate(self.limit);
        let full = self.limit > 0 && rest.len() == self.limit;
        Ok((rest, full))
    }
}

/// A page of a list, with how many items matched before paging (`with_count`).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Whether a `next` link is due (the page is full, see [`Paging::apply`]).
    pub more: bool,
    /// Items that matched the filters, across every page.
    pub count: usize,
}

impl Paging {
    /// [`Self::apply`], keeping the number of matching items.
    pub fn page<T>(
        &self,
        items: Vec<T>,
        id_of: impl Fn(&T) -> &str,
        compare: impl Fn(&T, &T, &str) -> Ordering,
    ) -> ApiResult<Page<T>> {
        let count = items.len();
        let (items, more) = self.apply(items, id_of, compare)?;
        Ok(Page { items, more, count })
    }
}

/// Whether a list call asks for `count` (`with_count=true`, from 3.45: `allowed`).
pub fn with_count(pairs: &[(String, String)], allowed: bool) -> ApiResult<bool> {
    if !allowed {
        return Ok(false);
    }
    Ok(get(pairs, "with_count")
        .map(|v| parse_bool("with_count", v))
        .transpose()?
        .unwrap_or(false))
}

/// The body of a list call as Cinder answers it: `{collection: items}`, then
/// `<collection>_links` with the `next` link (to `base`, the same query and the last item as
/// marker) when more items follow, and `count` when asked for.
pub fn list_body(
    collection: &str,
    base: &str,
    pairs: &[(String, String)],
    items: Vec<serde_json::Value>,
    last_id: Option<&str>,
    more: bool,
    count: Option<usize>,
) -> serde_json::Value {
    let mut body = serde_json::json!({ collection: items });
    if let (true, Some(last)) = (more, last_id) {
        body[format!("{collection}_links")] = next_link(base, pairs, last);
    }
    if let Some(n) = count {
        body["count"] = serde_json::json!(n);
    }
    body
}

/// Compares two optional values, None first (as SQL sorts NULLs on most backends).
pub fn cmp_opt<T: Ord>(a: &Option<T>, b: &Option<T>) -> Ordering {
    a.cmp(b)
}

/// The `next` link of a page: the same URL with `marker` set to the last item.
pub fn next_link(base: &str, pairs: &[(String, String)], last_id: &str) -> serde_json::Value {
    let mut kept: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "marker")
        .cloned()
        .collect();
    kept.push(("marker".into(), last_id.into()));
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    serde_json::json!([{"rel": "next", "href": format!("{base}?{q}")}])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Vec<(String, String)> {
        pairs(Some(q))
    }

    #[test]
    fn sort_and_page() {
        let paging = Paging::from_pairs(&p("sort=size:asc&limit=2"), 1000, &["size", "id"], "size")
            .expect("paging");
        let items = vec![("a", 3), ("b", 1), ("c", 2), ("d", 1)];
        let (page, more) = paging
            .apply(items.clone(), |i| i.0, |a, b, _| a.1.cmp(&b.1))
            .expect("page");
        assert_eq!(page, vec![("b", 1), ("d", 1)]);
        assert!(more);
        let next = Paging::from_pairs(
            &p("sort=size:asc&limit=2&marker=d"),
            1000,
            &["size"],
            "size",
        )
        .expect("paging");
        let (page, more) = next
            .apply(items.clone(), |i| i.0, |a, b, _| a.1.cmp(&b.1))
            .expect("page");
        assert_eq!(page, vec![("c", 2), ("a", 3)]);
        assert!(more, "a full page has a next link, as in Cinder");
        let last = Paging::from_pairs(&p("sort=size:asc&limit=2&marker=a"), 1000, &["size"], "size")
            .expect("paging");
        let (page, more) = last.apply(items, |i| i.0, |a, b, _| a.1.cmp(&b.1)).expect("page");
        assert!(page.is_empty());
        assert!(!more);
    }

    #[test]
    fn bad_paging_is_a_400_and_unknown_marker_a_404() {
        for q in [
            "limit=x",
            "limit=-1",
            "sort=bogus",
            "sort=size:up",
            "sort=size&sort_key=size",
            "offset=-2",
        ] {
            let e = Paging::from_pairs(&p(q), 1000, &["size"], "size").expect_err(q);
            assert_eq!(e.status, http::StatusCode::BAD_REQUEST, "{q}");
        }
        let paging = Paging::from_pairs(&p("marker=zz"), 1000, &["size"], "size").expect("paging");
        let e = paging
            .apply(vec![("a", 1)], |i| i.0, |a, b, _| a.1.cmp(&b.1))
            .expect_err("marker");
        assert_eq!(e.status, http::StatusCode::NOT_FOUND);
    }
}
