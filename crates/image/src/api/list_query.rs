//! Reading `GET /v2/images` query strings: filters, sort and paging, as Glance accepts them.

use crate::db::list::{Condition, ListQuery, Param};
use monostack_common::time::parse_iso;
use monostack_common::ApiError;

/// Columns a list may be sorted by.
const SORT_KEYS: &[&str] = &[
    "name", "status", "container_format", "disk_format", "size", "virtual_size", "id", "created_at", "updated_at", "visibility",
    "owner", "min_disk", "min_ram", "protected", "os_hidden",
];

/// Filters on text columns: exact value or `in:a,b,…`.
const TEXT_FILTERS: &[&str] = &["name", "status", "container_format", "disk_format", "owner", "id", "checksum", "os_hash_value"];

/// A parsed list request: the query and the page.
#[derive(Debug, Default)]
pub struct ListRequest {
    pub query: ListQuery,
    pub limit: usize,
    pub marker: Option<String>,
}

pub fn parse(raw: &str, default_limit: usize, max_limit: usize) -> Result<ListRequest, ApiError> {
    let mut req = ListRequest { limit: default_limit.min(max_limit), ..Default::default() };
    req.query.member_status = "accepted".into();
    let mut sort_keys: Vec<String> = Vec::new();
    let mut sort_dirs: Vec<String> = Vec::new();
    let mut sort: Option<String> = None;
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        let value = value.into_owned();
        match key.as_ref() {
            "limit" => {
                let n: usize = value.parse().map_err(|_| ApiError::bad_request("limit param must be an integer"))?;
                req.limit = n.min(max_limit);
            }
            "marker" => req.marker = Some(value),
            "sort_key" => sort_keys.push(value),
            "sort_dir" => sort_dirs.push(value),
            "sort" => sort = Some(value),
            "visibility" => {
                if !["public", "private", "shared", "community", "all"].contains(&value.as_str()) {
                    return Err(ApiError::bad_request(format!("Invalid visibility value: {value}")));
                }
                req.query.visibility = Some(value);
            }
            "member_status" => {
                if !["pending", "accepted", "rejected", "all"].contains(&value.as_str()) {
                    return Err(ApiError::bad_request(format!("Invalid status value: {value}")));
                }
                req.query.member_status = value;
            }
            "tag" => req.query.tags.push(value),
            "size" | "min_disk" | "min_ram" | "virtual_size" => {
                let n: i64 = value.parse().map_err(|_| ApiError::bad_request(format!("Invalid value for {key}: {value}")))?;
                let column = SORT_KEYS.iter().find(|c| **c == key.as_ref()).copied().unwrap_or("size");
                req.query.conditions.push(Condition { column, op: "=", values: vec![Param::Int(n)] });
            }
            "size_min" | "size_max" => {
                let n: i64 = value.parse().map_err(|_| ApiError::bad_request(format!("Invalid value for {key}: {value}")))?;
                let op = if key.as_ref() == "size_min" { ">=" } else { "<=" };
                req.query.conditions.push(Condition { column: "size", op, values: vec![Param::Int(n)] });
            }
            "created_at" => req.query.conditions.push(time_condition("created_at", &value)?),
            "updated_at" => req.query.conditions.push(time_condition("updated_at", &value)?),
            "protected" | "os_hidden" => {
                let b = match value.as_str() {
                    "true" | "True" => true,
                    "false" | "False" => false,
                    _ => return Err(ApiError::bad_request(format!("Invalid value '{value}' for {key}: expected true or false"))),
                };
                if key.as_ref() == "os_hidden" {
                    req.query.os_hidden = b;
                } else {
                    req.query.conditions.push(Condition { column: "protected", op: "=", values: vec![Param::Int(i64::from(b))] });
                }
            }
            _ => {
                if let Some(&column) = TEXT_FILTERS.iter().find(|c| **c == key.as_ref()) {
                    req.query.conditions.push(text_condition(column, value));
                } else {
                    req.query.properties.push((key.to_string(), value));
                }
            }
        }
    }
    req.query.sort = sort_order(sort, sort_keys, sort_dirs)?;
    Ok(req)
}

fn text_condition(column: &'static str, value: String) -> Condition {
    match value.strip_prefix("in:") {
        Some(list) => Condition { column, op: "IN", values: split_in_list(list).into_iter().map(Param::Text).collect() },
        None => Condition { column, op: "=", values: vec![Param::Text(value)] },
    }
}

/// Splits an `in:` list on commas; a value containing commas may be quoted.
fn split_in_list(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in list.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    out.push(current);
    out
}

/// `created_at=gte:2026-01-01T00:00:00Z` and friends.
fn time_condition(column: &'static str, value: &str) -> Result<Condition, ApiError> {
    let (op, when) = match value.split_once(':') {
        Some((op @ ("gt" | "gte" | "lt" | "lte" | "eq" | "neq"), rest)) => (op, rest),
        _ => ("eq", value),
    };
    let micros = parse_iso(when).ok_or_else(|| ApiError::bad_request(format!("Unable to parse datetime '{when}' for {column}")))?;
    let op = match op {
        "gt" => ">",
        "gte" => ">=",
        "lt" => "<",
        "lte" => "<=",
        "neq" => "<>",
        _ => "=",
    };
    // Stored times have microseconds, shown ones only seconds: compare at second precision.
    let second = micros - micros.rem_euclid(1_000_000);
    Ok(match op {
        "=" => Condition { column, op: "BETWEEN", values: vec![Param::Int(second), Param::Int(second + 999_999)] },
        "<>" => Condition { column, op: "<>", values: vec![Param::Int(second)] },
        ">" => Condition { column, op: ">=", values: vec![Param::Int(second + 1_000_000)] },
        "<=" => Condition { column, op: "<", values: vec![Param::Int(second + 1_000_000)] },
        _ => Condition { column, op, values: vec![Param::Int(second)] },
    })
}

fn sort_order(sort: Option<String>, keys: Vec<String>, dirs: Vec<String>) -> Result<Vec<(&'static str, bool)>, ApiError> {
    let pairs: Vec<(String, String)> = match sort {
        Some(_) if !keys.is_empty() || !dirs.is_empty() => {
            return Err(ApiError::bad_request("The 'sort' parameter cannot be combined with 'sort_key' or 'sort_dir'"))
        }
        Some(s) => s
            .split(',')
            .map(|part| match part.trim().split_once(':') {
                Some((k, d)) => (k.to_string(), d.to_string()),
                None => (part.trim().to_string(), "desc".to_string()),
            })
            .collect(),
        None => {
            if dirs.len() > keys.len().max(1) {
                return Err(ApiError::bad_request("Number of sort dirs does not match the number of sort keys"));
            }
            let keys = if keys.is_empty() { vec!["created_at".to_string()] } else { keys };
            let default_dir = if dirs.len() == 1 { dirs[0].clone() } else { "desc".to_string() };
            keys.iter().enumerate().map(|(i, k)| (k.clone(), dirs.get(i).cloned().unwrap_or_else(|| default_dir.clone()))).collect()
        }
    };
    pairs
        .into_iter()
        .map(|(key, dir)| {
            let column = SORT_KEYS.iter().find(|k| **k == key).ok_or_else(|| ApiError::bad_request(format!("Invalid sort key: {key}")))?;
            let desc = match dir.as_str() {
                "asc" => false,
                "desc" => true,
                _ => return Err(ApiError::bad_request(format!("Invalid sort direction: {dir}"))),
            };
            Ok((*column, desc))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_sorts_and_pages() {
        let r = parse("limit=2&marker=m&name=in:a,%22b,c%22&size_min=10&tag=t&hw_x=1&sort=name:asc,size", 25, 1000).unwrap();
        assert_eq!((r.limit, r.marker.as_deref()), (2, Some("m")));
        assert_eq!(r.query.sort, vec![("name", false), ("size", true)]);
        assert_eq!(r.query.conditions[0].values, vec![Param::Text("a".into()), Param::Text("b,c".into())]);
        assert_eq!(r.query.tags, vec!["t"]);
        assert_eq!(r.query.properties, vec![("hw_x".to_string(), "1".to_string())]);
        assert_eq!(parse("", 25, 1000).unwrap().query.sort, vec![("created_at", true)]);
        assert_eq!(parse("limit=5000", 25, 1000).unwrap().limit, 1000);
        for bad in ["limit=x", "sort_key=bogus", "sort_dir=up", "visibility=x", "sort=name&sort_key=id", "created_at=gt:yesterday", "protected=maybe"] {
            assert_eq!(parse(bad, 25, 1000).unwrap_err().status.as_u16(), 400, "{bad}");
        }
    }
}
