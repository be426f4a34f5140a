//! Listing servers (Nova's `get_all`): exact filters in the database, regular-expression and
//! address filters here, then Nova's ordering (the requested keys, then `created_at` and `id`)
//! and `limit`/`marker` paging.

use super::ApiResult;
use crate::db::info_caches;
use crate::db::instance_list::{self, ExactFilters};
use crate::db::instances::{self, Instance};
use crate::ComputeService;
use monostack_common::ApiError;
use regex::Regex;
use serde_json::Value;
use std::cmp::Ordering;

/// A listing request after the API applied Nova's rules on who may filter on what.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub exact: ExactFilters,
    /// (instance column, pattern): `re.search` semantics.
    pub regex: Vec<(String, Regex)>,
    pub ip: Option<Regex>,
    pub ip6: Option<Regex>,
    /// A flavor id; an unknown flavor lists nothing.
    pub flavor: Option<String>,
    /// (sort key, descending).
    pub sort: Vec<(String, bool)>,
    pub limit: usize,
    pub marker: Option<String>,
}

/// A column value for ordering; NULLs first in ascending order, as SQLite and MySQL do.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortValue {
    Null,
    Int(i64),
    Text(String),
}

fn text(v: &Option<String>) -> SortValue {
    v.clone().map_or(SortValue::Null, SortValue::Text)
}

fn int(v: Option<i64>) -> SortValue {
    v.map_or(SortValue::Null, SortValue::Int)
}

/// The value of a sortable or filterable column (Nova's column names).
fn column(i: &Instance, name: &str) -> SortValue {
    match name {
        "uuid" => SortValue::Text(i.uuid.clone()),
        "id" => SortValue::Int(i.id),
        "display_name" => text(&i.display_name),
        "display_description" => text(&i.display_description),
        "hostname" => text(&i.hostname),
        "project_id" => SortValue::Text(i.project_id.clone()),
        "user_id" => SortValue::Text(i.user_id.clone()),
        "image_ref" => text(&i.image_ref),
        "instance_type_id" => SortValue::Int(i.flavor.id),
        "vm_state" => SortValue::Text(i.vm_state.clone()),
        "task_state" => text(&i.task_state),
        "power_state" => SortValue::Int(i.power_state),
        "host" => text(&i.host),
        "node" => text(&i.node),
        "availability_zone" => text(&i.availability_zone),
        "key_name" => text(&i.key_name),
        "config_drive" => text(&i.config_drive),
        "locked" => SortValue::Int(i64::from(i.locked)),
        "locked_by" => text(&i.locked_by),
        "access_ip_v4" => text(&i.access_ip_v4),
        "access_ip_v6" => text(&i.access_ip_v6),
        "progress" => int(i.progress),
        "launch_index" => int(i.launch_index),
        "reservation_id" => text(&i.reservation_id),
        "root_device_name" => text(&i.root_device_name),
        "auto_disk_config" => SortValue::Int(i64::from(i.auto_disk_config)),
        "created_at" => SortValue::Int(i.created_at),
        "updated_at" => int(i.updated_at),
        "launched_at" => int(i.launched_at),
        "terminated_at" => int(i.terminated_at),
        "kernel_id" | "ramdisk_id" => SortValue::Text(String::new()),
        _ => SortValue::Null,
    }
}

/// The text a regular-expression filter sees for a column (None never matches, as SQL NULL).
fn column_text(i: &Instance, name: &str) -> Option<String> {
    match name {
        "launched_at" | "terminated_at" | "created_at" => match column(i, name) {
            SortValue::Int(m) => Some(crate::api::view::timestamp(m).replace('T', " ")),
            _ => None,
        },
        _ => match column(i, name) {
            SortValue::Null => None,
            SortValue::Int(n) => Some(n.to_string()),
            SortValue::Text(t) => Some(t),
        },
    }
}

fn compare(a: &Instance, b: &Instance, sort: &[(String, bool)]) -> Ordering {
    for (key, desc) in sort {
        let ord = column(a, key).cmp(&column(b, key));
        let ord = if *desc { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Nova's `process_sort_params`: missing directions take the first one given (or desc), and
/// `created_at` and `id` end every ordering.
pub fn full_sort(keys: &[String], dirs: &[bool]) -> Vec<(String, bool)> {
    let default_desc = dirs.first().copied().unwrap_or(true);
    let mut sort: Vec<(String, bool)> = keys.iter().enumerate().map(|(n, k)| (k.clone(), dirs.get(n).copied().unwrap_or(default_desc))).collect();
    for key in ["created_at", "id"] {
        if !sort.iter().any(|(k, _)| k == key) {
            sort.push((key.to_string(), default_desc));
        }
    }
    sort
}

/// The fixed addresses of an instance's cached network info, (address, version).
pub fn fixed_addresses(network_info: &Value) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for vif in network_info.as_array().into_iter().flatten() {
        for subnet in vif.pointer("/network/subnets").and_then(Value::as_array).into_iter().flatten() {
            for ip in subnet.get("ips").and_then(Value::as_array).into_iter().flatten() {
                if let Some(addr) = ip.get("address").and_then(Value::as_str) {
                    let version = ip.get("version").and_then(Value::as_i64).unwrap_or(if addr.contains(':') { 6 } else { 4 });
                    out.push((addr.to_string(), version));
                }
            }
        }
    }
    out
}

async fn filter_ips(svc: &ComputeService, req: &ListRequest, instances: Vec<Instance>) -> ApiResult<Vec<Instance>> {
    if req.ip.is_none() && req.ip6.is_none() {
        return Ok(instances);
    }
    let uuids: Vec<String> = instances.iter().map(|i| i.uuid.clone()).collect();
    let caches = info_caches::get_many(&svc.db, &uuids).await?;
    Ok(instances
        .into_iter()
        .filter(|i| {
            let addresses = caches.get(&i.uuid).map(fixed_addresses).unwrap_or_default();
            let hit = |re: &Regex, version: i64| addresses.iter().any(|(a, v)| *v == version && re.is_match(a));
            req.ip.as_ref().is_none_or(|re| hit(re, 4)) && req.ip6.as_ref().is_none_or(|re| hit(re, 6))
        })
        .collect())
}

/// The servers of a listing, ordered and paged.
pub async fn get_all(svc: &ComputeService, req: &ListRequest) -> ApiResult<Vec<Instance>> {
    let mut exact = req.exact.clone();
    if let Some(flavorid) = &req.flavor {
        let visibility = crate::db::flavors::Visibility::All;
        match crate::db::flavors::get(&svc.db, flavorid, &visibility).await? {
            Some(f) => exact.instance_type_id = Some(f.id),
            None => return Ok(Vec::new()),
        }
    }
    let marker = match &req.marker {
        Some(m) => Some(instances::get_any(&svc.db, m).await?.ok_or_else(|| ApiError::bad_request(format!("marker [{m}] not found")))?),
        None => None,
    };
    let found = instance_list::list(&svc.db, &exact).await?;
    let matching: Vec<Instance> = found
        .into_iter()
        .filter(|i| req.regex.iter().all(|(col, re)| column_text(i, col).is_some_and(|t| re.is_match(&t))))
        .collect();
    let mut matching = filter_ips(svc, req, matching).await?;
    matching.sort_by(|a, b| compare(a, b, &req.sort));
    let start = match &marker {
        Some(m) => matching.iter().position(|i| compare(i, m, &req.sort) == Ordering::Greater).unwrap_or(matching.len()),
        None => 0,
    };
    Ok(matching.into_iter().skip(start).take(req.limit).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_params_follow_nova() {
        assert_eq!(full_sort(&[], &[]), vec![("created_at".to_string(), true), ("id".to_string(), true)]);
        let sort = full_sort(&["display_name".into(), "vm_state".into()], &[false]);
        assert_eq!(sort, vec![("display_name".into(), false), ("vm_state".into(), false), ("created_at".into(), false), ("id".into(), false)]);
    }

    #[test]
    fn fixed_addresses_come_from_the_network_model() {
        let info = serde_json::json!([{"address": "fa:16:3e:00:00:01", "network": {"label": "private", "subnets": [
            {"ips": [{"address": "10.0.0.5", "type": "fixed", "version": 4}]},
            {"ips": [{"address": "fd00::5", "type": "fixed", "version": 6}]}]}}]);
        assert_eq!(fixed_addresses(&info), vec![("10.0.0.5".to_string(), 4), ("fd00::5".to_string(), 6)]);
    }
}
