//! The query of `GET /servers(/detail)` as Nova reads it: schema checks per microversion,
//! the filters a non-admin may use (others are dropped silently), status to state mapping,
//! tenancy, deletion, change times, tags, sorting and paging.

use super::super::query::Query;
use super::super::{ApiResult, Microversion};
use crate::compute_api::list::{full_sort, ListRequest};
use crate::context::RequestContext;
use crate::db::instance_list::{Deleted, ExactFilters};
use crate::states;
use monostack_common::ApiError;
use regex::Regex;
use std::collections::BTreeMap;

/// Query parameters of the listing schema (`index_query`), before version additions.
const BASE_PARAMS: &[&str] = &[
    "user_id", "project_id", "tenant_id", "launch_index", "image_ref", "image", "kernel_id", "ramdisk_id", "hostname", "key_name",
    "power_state", "vm_state", "task_state", "host", "node", "flavor", "reservation_id", "launched_at", "terminated_at",
    "availability_zone", "name", "display_name", "description", "display_description", "locked_by", "uuid", "root_device_name",
    "config_drive", "access_ip_v4", "access_ip_v6", "auto_disk_config", "progress", "sort_key", "sort_dir", "all_tenants",
    "soft_deleted", "deleted", "status", "changes-since", "ip", "ip6", "created_at", "limit", "marker",
    "block_device_mapping", "services", "metadata", "system_metadata", "info_cache", "security_groups", "pci_devices",
];

/// Filters in the schema that name joined tables: refused with "Invalid filter field".
const JOINED: &[&str] = &["block_device_mapping", "services", "metadata", "system_metadata", "info_cache", "security_groups", "pci_devices"];

/// Parameters validated as regular expressions.
const REGEX_PARAMS: &[&str] = &[
    "kernel_id", "ramdisk_id", "hostname", "key_name", "power_state", "node", "flavor", "reservation_id", "launched_at", "terminated_at",
    "availability_zone", "name", "display_name", "description", "display_description", "locked_by", "root_device_name", "config_drive",
    "access_ip_v4", "access_ip_v6", "auto_disk_config", "progress", "ip", "ip6", "created_at", "tags", "tags-any", "not-tags", "not-tags-any",
];

/// Sort keys Nova accepts but ignores (SERVER_LIST_IGNORE_SORT_KEY).
const IGNORED_SORT_KEYS: &[&str] = &[
    "architecture", "cell_name", "cleaned", "default_ephemeral_device", "default_swap_device", "deleted", "deleted_at", "disable_terminate",
    "ephemeral_gb", "ephemeral_key_uuid", "id", "key_data", "launched_on", "locked", "memory_mb", "os_type", "reservation_id", "root_gb",
    "shutdown_terminate", "user_data", "vcpus", "vm_mode",
];

const VALID_SORT_KEYS: &[&str] = &[
    "access_ip_v4", "access_ip_v6", "auto_disk_config", "availability_zone", "config_drive", "created_at", "display_description",
    "display_name", "host", "hostname", "image_ref", "instance_type_id", "kernel_id", "key_name", "launch_index", "launched_at", "locked_by",
    "node", "power_state", "progress", "project_id", "ramdisk_id", "root_device_name", "task_state", "terminated_at", "updated_at", "user_id",
    "uuid", "vm_state",
];

fn schema_params(mv: Microversion) -> Vec<&'static str> {
    let mut p = BASE_PARAMS.to_vec();
    if mv.at_least(26) {
        p.extend(["tags", "tags-any", "not-tags", "not-tags-any"]);
    }
    if mv.at_least(66) {
        p.push("changes-before");
    }
    if mv.at_least(73) {
        p.push("locked");
    }
    p
}

/// What a non-admin may filter on (Nova's `_get_server_search_options`).
fn user_filters(mv: Microversion) -> Vec<&'static str> {
    let mut p = vec!["reservation_id", "name", "status", "image", "flavor", "ip", "changes-since", "all_tenants"];
    if mv.at_least(5) {
        p.push("ip6");
    }
    if mv.at_least(26) {
        p.extend(["tags", "tags-any", "not-tags", "not-tags-any"]);
    }
    if mv.at_least(66) {
        p.push("changes-before");
    }
    if mv.at_least(73) {
        p.push("locked");
    }
    if mv.at_least(83) {
        p.extend(["availability_zone", "config_drive", "key_name", "created_at", "launched_at", "terminated_at", "power_state", "task_state", "vm_state", "progress", "user_id"]);
    }
    if mv.at_least(90) {
        p.push("hostname");
    }
    p
}

fn query_error(key: &str, value: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("Invalid input for query parameters {key}. Value: {value}. {reason}"))
}

/// Checks the query against the listing schema of `mv`.
fn check_schema(q: &Query, mv: Microversion) -> ApiResult<()> {
    let params = schema_params(mv);
    let valid_sort: Vec<&str> = if mv.at_least(75) {
        VALID_SORT_KEYS.iter().copied().chain(["locked"]).collect()
    } else {
        VALID_SORT_KEYS.iter().chain(IGNORED_SORT_KEYS).copied().collect()
    };
    for (k, v) in q.pairs() {
        if mv.at_least(75) && !params.contains(&k.as_str()) {
            return Err(ApiError::bad_request(format!("Additional properties are not allowed ('{k}' was unexpected)")));
        }
        if REGEX_PARAMS.contains(&k.as_str()) && (v.is_empty() || Regex::new(v).is_err()) {
            return Err(query_error(k, v, format!("'{v}' is not a 'regex'")));
        }
        if (k == "changes-since" || k == "changes-before") && monostack_common::time::parse_iso(v).is_none() {
            return Err(query_error(k, v, format!("'{v}' is not a 'date-time'")));
        }
        if k == "sort_key" && !valid_sort.contains(&v.as_str()) {
            return Err(query_error(k, v, format!("'{v}' is not one of the valid sort keys")));
        }
    }
    q.page().map(|_| ())
}

/// The search options: the last value of each key (as webob's dict update keeps it).
fn search_options(q: &Query) -> BTreeMap<String, String> {
    q.pairs().iter().filter(|(k, _)| !["sort_key", "sort_dir", "limit", "marker"].contains(&k.as_str())).cloned().collect()
}

fn regex_of(key: &str, value: &str) -> ApiResult<Regex> {
    Regex::new(value).map_err(|_| query_error(key, value, format!("'{value}' is not a 'regex'")))
}

/// Nova's `is_all_tenants`.
fn all_tenants(opts: &BTreeMap<String, String>) -> ApiResult<bool> {
    match opts.get("all_tenants") {
        None => Ok(false),
        Some(v) if v.is_empty() => Ok(true),
        Some(v) => crate::api::input::parse_bool(v).ok_or_else(|| {
            ApiError::bad_request(format!("Unrecognized value '{v}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"))
        }),
    }
}

/// What the listing asks, or None when it can only be empty (an unknown status before 2.38).
pub struct Parsed {
    pub request: ListRequest,
    pub all_tenants: bool,
}

/// Parses and checks a listing query for `ctx` (who may filter on what is decided by
/// `allow_all_filters`, Nova's admin rule).
pub fn parse(q: &Query, mv: Microversion, ctx: &RequestContext, allow_all_filters: bool) -> ApiResult<Option<Parsed>> {
    check_schema(q, mv)?;
    let mut opts = search_options(q);
    if !allow_all_filters {
        let allowed = user_filters(mv);
        opts.retain(|k, _| allowed.contains(&k.as_str()));
    }
    if let Some(bad) = opts.keys().find(|k| JOINED.contains(&k.as_str()) || k.starts_with('_')) {
        return Err(ApiError::bad_request(format!("Invalid filter field: {bad}.")));
    }
    let mut exact = ExactFilters::default();
    if q.has("status") && opts.contains_key("status") {
        let statuses: Vec<String> = q.pairs().iter().filter(|(k, _)| k == "status").map(|(_, v)| v.clone()).collect();
        let (vms, tasks) = states::states_for_statuses(&statuses);
        if vms.is_empty() && tasks.is_empty() {
            if mv.at_least(38) {
                return Err(ApiError::bad_request("Invalid status value"));
            }
            return Ok(None);
        }
        exact.vm_states = Some(vms.iter().map(|s| s.to_string()).collect());
        if !tasks.contains(&"default") {
            exact.task_states = Some(tasks.iter().map(|t| Some(t.to_string())).collect());
        }
        opts.remove("status");
    }
    apply_changes_times(&mut opts, &mut exact)?;
    apply_deleted(&mut opts, &mut exact, ctx)?;
    let all_tenants = all_tenants(&opts)?;
    opts.remove("all_tenants");
    if !all_tenants {
        opts.remove("tenant_id");
        match ctx.auth.project_id.clone() {
            Some(p) => {
                opts.insert("project_id".into(), p);
            }
            None => {
                opts.insert("user_id".into(), ctx.user_id().to_string());
            }
        }
    }
    let mut request = ListRequest { exact, ..ListRequest::default() };
    apply_filters(&mut opts, &mut request, mv)?;
    apply_sort_and_page(q, mv, ctx, &mut request)?;
    Ok(Some(Parsed { request, all_tenants }))
}

fn apply_changes_times(opts: &mut BTreeMap<String, String>, exact: &mut ExactFilters) -> ApiResult<()> {
    let time = |k: &str, opts: &BTreeMap<String, String>| opts.get(k).and_then(|v| monostack_common::time::parse_iso(v));
    exact.changes_since = time("changes-since", opts);
    exact.changes_before = time("changes-before", opts);
    if let (Some(since), Some(before)) = (exact.changes_since, exact.changes_before) {
        if before < since {
            return Err(ApiError::bad_request("The value of changes-since must be less than or equal to changes-before."));
        }
    }
    opts.remove("changes-since");
    opts.remove("changes-before");
    Ok(())
}

fn apply_deleted(opts: &mut BTreeMap<String, String>, exact: &mut ExactFilters, ctx: &RequestContext) -> ApiResult<()> {
    let soft = opts.remove("soft_deleted").map(|v| crate::api::validation::bool_from_str(&v));
    let changes = exact.changes_since.is_some() || exact.changes_before.is_some();
    let mut deleted = match opts.remove("deleted") {
        Some(v) => Some(crate::api::validation::bool_from_str(&v)),
        None if changes => None,
        None => Some(false),
    };
    if exact.vm_states.as_deref() == Some(&[states::vm::DELETED.to_string()]) {
        if !ctx.is_admin {
            return Err(ApiError::forbidden("Only administrators may list deleted instances"));
        }
        deleted = Some(true);
    }
    exact.deleted = match deleted {
        None => Deleted::Any,
        Some(true) => Deleted::Deleted { soft_deleted: soft.unwrap_or(true) },
        Some(false) if soft == Some(true) => Deleted::LiveAndSoftDeleted,
        Some(false) => Deleted::Live,
    };
    Ok(())
}

/// Exact, regular-expression, flavor, address and tag filters (Nova's filter mapping).
fn apply_filters(opts: &mut BTreeMap<String, String>, request: &mut ListRequest, mv: Microversion) -> ApiResult<()> {
    let exact = &mut request.exact;
    exact.project_id = opts.remove("project_id").or_else(|| opts.remove("tenant_id"));
    opts.remove("tenant_id");
    exact.user_id = opts.remove("user_id");
    exact.host = opts.remove("host");
    exact.image_ref = opts.remove("image").or_else(|| opts.remove("image_ref"));
    opts.remove("image_ref");
    exact.uuids = opts.remove("uuid").map(|u| vec![u]);
    if let Some(vm) = opts.remove("vm_state") {
        exact.vm_states = Some(vec![vm]);
    }
    if let Some(task) = opts.remove("task_state") {
        exact.task_states = Some(vec![Some(task)]);
    }
    if let Some(locked) = opts.remove("locked") {
        exact.locked = Some(crate::api::input::parse_bool(&locked).ok_or_else(|| {
            ApiError::bad_request(format!("Unrecognized value '{locked}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"))
        })?);
    }
    if mv.at_least(26) {
        let split = |v: Option<String>| v.map(|v| v.split(',').map(str::to_string).collect::<Vec<_>>()).unwrap_or_default();
        exact.tags = split(opts.remove("tags"));
        exact.tags_any = split(opts.remove("tags-any"));
        exact.not_tags = split(opts.remove("not-tags"));
        exact.not_tags_any = split(opts.remove("not-tags-any"));
    }
    request.flavor = opts.remove("flavor");
    request.ip = opts.remove("ip").map(|v| regex_of("ip", &v)).transpose()?;
    request.ip6 = opts.remove("ip6").map(|v| regex_of("ip6", &v)).transpose()?;
    if let Some(name) = opts.remove("name") {
        opts.insert("display_name".into(), name);
    }
    for (key, value) in opts.iter() {
        if is_regex_column(key) {
            request.regex.push((key.clone(), regex_of(key, value)?));
        }
    }
    Ok(())
}

/// Instance columns Nova filters by regular expression (others are ignored).
fn is_regex_column(key: &str) -> bool {
    [
        "display_name", "display_description", "hostname", "key_name", "power_state", "node", "reservation_id", "launched_at",
        "terminated_at", "availability_zone", "kernel_id", "ramdisk_id", "locked_by", "root_device_name", "config_drive", "access_ip_v4",
        "access_ip_v6", "auto_disk_config", "progress", "launch_index", "created_at",
    ]
    .contains(&key)
}

fn apply_sort_and_page(q: &Query, mv: Microversion, ctx: &RequestContext, request: &mut ListRequest) -> ApiResult<()> {
    let mut keys: Vec<String> = q.pairs().iter().filter(|(k, _)| k == "sort_key").map(|(_, v)| v.trim().to_string()).collect();
    let mut dirs: Vec<String> = q.pairs().iter().filter(|(k, _)| k == "sort_dir").map(|(_, v)| v.trim().to_lowercase()).collect();
    if keys.is_empty() {
        keys.push("created_at".into());
    }
    if dirs.is_empty() {
        dirs.push("desc".into());
    }
    if let Some(bad) = dirs.iter().find(|d| *d != "asc" && *d != "desc") {
        return Err(ApiError::bad_request(format!("Unknown sort direction '{bad}', must be 'desc' or 'asc'")));
    }
    let ignored: Vec<&str> = IGNORED_SORT_KEYS.iter().copied().filter(|k| !(mv.at_least(73) && *k == "locked")).collect();
    let mut kept_keys = Vec::new();
    let mut kept_dirs = Vec::new();
    for (n, key) in keys.iter().enumerate() {
        if ignored.contains(&key.as_str()) {
            continue;
        }
        if (key == "host" || key == "node") && !ctx.is_admin {
            return Err(ApiError::forbidden(format!("Only administrators can sort servers by {key}")));
        }
        kept_keys.push(key.clone());
        if let Some(d) = dirs.get(n) {
            kept_dirs.push(d == "desc");
        }
    }
    request.sort = full_sort(&kept_keys, &kept_dirs);
    let page = q.page()?;
    request.limit = page.limit;
    request.marker = page.marker;
    Ok(())
}
