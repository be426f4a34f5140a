//! Reads a `GET /allocation_candidates` query into a [`CandidateQuery`], with the parameters
//! and rules of each microversion (1.10 … 1.39).

use super::query;
use crate::error::{codes, PlacementError, PlacementResult};
use crate::microversion::Version;
use crate::types::{CandidateQuery, GroupPolicy, RequestGroup};
use std::collections::{BTreeMap, BTreeSet};

const PREFIXES: [&str; 4] = ["resources", "required", "member_of", "in_tree"];

/// The microversion that introduced each group parameter.
fn since(prefix: &str) -> u32 {
    match prefix {
        "required" => 17,
        "member_of" => 21,
        "in_tree" => 31,
        _ => 10,
    }
}

/// Splits `key` into a group prefix and suffix when it is a group parameter of `version`.
fn group_key(key: &str, version: Version) -> Option<(&'static str, String)> {
    for prefix in PREFIXES {
        let Some(suffix) = key.strip_prefix(prefix) else { continue };
        if !version.at_least(since(prefix)) {
            return None;
        }
        if suffix.is_empty() {
            return Some((prefix, String::new()));
        }
        let valid = if version.at_least(33) {
            suffix.len() <= 64 && suffix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        } else {
            version.at_least(25) && !suffix.starts_with('0') && suffix.bytes().all(|b| b.is_ascii_digit())
        };
        return valid.then(|| (prefix, suffix.to_string()));
    }
    None
}

fn request_wide(key: &str, version: Version) -> bool {
    match key {
        "limit" => version.at_least(16),
        "group_policy" => version.at_least(25),
        "root_required" => version.at_least(35),
        "same_subtree" => version.at_least(36),
        _ => false,
    }
}

pub fn parse(pairs: &[(String, String)], version: Version) -> PlacementResult<CandidateQuery> {
    query::only(pairs, |k| group_key(k, version).is_some() || request_wide(k, version))?;
    let mut groups: BTreeMap<String, RequestGroup> = BTreeMap::new();
    for (key, value) in pairs {
        let Some((prefix, suffix)) = group_key(key, version) else { continue };
        let group = groups.entry(suffix.clone()).or_default();
        match prefix {
            "resources" => group.resources = query::resources(value)?,
            "required" => (group.required, group.forbidden) = query::required_all(pairs, key, version)?,
            "member_of" => (group.member_of, group.forbidden_aggregates) = query::member_of(pairs, key, version)?,
            _ => group.in_tree = Some(query::in_tree(value)?),
        }
    }
    let mut q = CandidateQuery { groups, ..Default::default() };
    if let Some(l) = query::last(pairs, "limit") {
        q.limit = Some(l.parse::<usize>().ok().filter(|n| *n > 0 && !l.starts_with('0')).ok_or_else(|| {
            PlacementError::bad_request(format!("Invalid query string parameters: '{l}' does not match '^[1-9][0-9]*$'"))
        })?);
    }
    q.group_policy = match query::last(pairs, "group_policy") {
        None => None,
        Some("none") => Some(GroupPolicy::None),
        Some("isolate") => Some(GroupPolicy::Isolate),
        Some(other) => return Err(PlacementError::bad_request(format!("Invalid query string parameters: '{other}' is not one of ['none', 'isolate']"))),
    };
    root_required(pairs, version, &mut q)?;
    for value in query::all(pairs, "same_subtree") {
        let set: BTreeSet<String> = value.split(',').map(|s| s.trim().to_string()).collect();
        if set.contains("") {
            return Err(PlacementError::bad_query("Empty string (unsuffixed group) can not be specified in `same_subtree` ", codes::QUERY_BAD_VALUE));
        }
        q.same_subtree.push(set);
    }
    check_groups(&q, version)?;
    if version.at_least(22) {
        check_forbidden(&q)?;
    }
    let numbered = q.groups.iter().filter(|(s, g)| !s.is_empty() && !g.resources.is_empty()).count();
    if q.group_policy.is_none() && numbered > 1 {
        return Err(PlacementError::bad_request("The \"group_policy\" parameter is required when specifying more than one \"resources{N}\" parameter."));
    }
    Ok(q)
}

fn root_required(pairs: &[(String, String)], version: Version, q: &mut CandidateQuery) -> PlacementResult<()> {
    let values = query::all(pairs, "root_required");
    if values.len() > 1 {
        return Err(PlacementError::bad_query("Query parameter 'root_required' may be specified only once.", codes::QUERY_DUPLICATE_KEY));
    }
    let Some(value) = values.first() else { return Ok(()) };
    if value.starts_with("in:") {
        return Err(PlacementError::bad_request(format!("Invalid query string parameters: 'root_required' does not support the 'in:' format. Got: {value}")));
    }
    let (required, forbidden) = query::required(value, version)?;
    q.root_required = required.into_iter().flatten().collect();
    q.root_forbidden = forbidden;
    let conflicts: Vec<&str> = q.root_required.intersection(&q.root_forbidden).map(String::as_str).collect();
    if !conflicts.is_empty() {
        return Err(PlacementError::bad_query(
            format!("Conflicting required and forbidden traits found in root_required: {}", conflicts.join(", ")),
            codes::QUERY_BAD_VALUE,
        ));
    }
    Ok(())
}

/// Every group needs resources, except (from 1.36) groups named in `same_subtree`.
fn check_groups(q: &CandidateQuery, version: Version) -> PlacementResult<()> {
    let resourceless: Vec<&String> = q.groups.iter().filter(|(_, g)| g.resources.is_empty()).map(|(s, _)| s).collect();
    if version.at_least(36) {
        if resourceless.len() == q.groups.len() {
            return Err(PlacementError::bad_query("There must be at least one resources or resources[$S] parameter.", codes::QUERY_MISSING_VALUE));
        }
        let subtree: BTreeSet<&String> = q.same_subtree.iter().flatten().collect();
        let bad: Vec<&str> = resourceless.iter().filter(|s| !subtree.contains(*s)).map(|s| s.as_str()).collect();
        if !bad.is_empty() {
            return Err(PlacementError::bad_query(
                format!("Resourceless suffixed group request should be specified in `same_subtree` query param: bad group(s) - {bad:?}."),
                codes::QUERY_BAD_VALUE,
            ));
        }
        let unknown: Vec<&str> = subtree.iter().filter(|s| !q.groups.contains_key(**s)).map(|s| s.as_str()).collect();
        if !unknown.is_empty() {
            let known: Vec<&str> = q.groups.keys().map(String::as_str).collect();
            return Err(PlacementError::bad_query(
                format!("Real suffixes should be specified in `same_subtree`: {unknown:?} not found in {known:?}."),
                codes::QUERY_BAD_VALUE,
            ));
        }
        return Ok(());
    }
    let orphans = |pick: fn(&RequestGroup) -> bool, prefix: &str| -> Vec<String> {
        q.groups.iter().filter(|(_, g)| g.resources.is_empty() && pick(g)).map(|(s, _)| format!("{prefix}{s}")).collect()
    };
    let traits = orphans(|g| !g.required.is_empty() || !g.forbidden.is_empty(), "required");
    if !traits.is_empty() {
        return Err(PlacementError::bad_request(format!(
            "All traits parameters must be associated with resources.  Found the following orphaned traits keys: {}",
            traits.join(", ")
        )));
    }
    let aggs = orphans(|g| !g.member_of.is_empty() || !g.forbidden_aggregates.is_empty(), "member_of");
    if !aggs.is_empty() {
        return Err(PlacementError::bad_request(format!(
            "All member_of parameters must be associated with resources. Found the following orphaned member_of keys: {}",
            aggs.join(", ")
        )));
    }
    if !resourceless.is_empty() {
        return Err(PlacementError::bad_request("All request groups must specify resources."));
    }
    if q.groups.is_empty() {
        return Err(PlacementError::bad_request("At least one request group (`resources` or `resources{$S}`) is required."));
    }
    Ok(())
}

fn check_forbidden(q: &CandidateQuery) -> PlacementResult<()> {
    let mut conflicts: Vec<String> = Vec::new();
    for (suffix, g) in &q.groups {
        for any in &g.required {
            if any.iter().all(|t| g.forbidden.contains(t)) {
                conflicts.push(format!("required{suffix}: ({})", any.iter().cloned().collect::<Vec<_>>().join(", ")));
            }
        }
    }
    if conflicts.is_empty() {
        return Ok(());
    }
    conflicts.sort();
    Err(PlacementError::bad_request(format!(
        "Conflicting required and forbidden traits found in the following traits keys: {}",
        conflicts.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::query::pairs;

    fn p(q: &str, v: u32) -> PlacementResult<CandidateQuery> {
        parse(&pairs(Some(q)), Version(1, v))
    }

    #[test]
    fn groups_and_suffixes_by_version() {
        let q = p("resources=VCPU:1&resources1=SRIOV_NET_VF:1&required1=CUSTOM_A&group_policy=isolate", 25).unwrap();
        assert_eq!(q.groups.len(), 2);
        assert!(p("resources=VCPU:1&resources_NET=VF:1&group_policy=none", 25).is_err(), "string suffixes need 1.33");
        assert!(p("resources=VCPU:1&resources_NET=VF:1&group_policy=none", 33).is_ok());
        assert!(p("resources=VCPU:1&resources1=A:1&resources2=B:1", 25).is_err(), "group_policy required");
        assert!(p("resources=VCPU:1&required=CUSTOM_A", 16).is_err(), "required needs 1.17");
        assert!(p("resources=VCPU:1&in_tree=9323b2b1-82c9-4e91-bdff-e95e808ef954", 30).is_err());
        assert!(p("resources=VCPU:1&limit=0", 16).is_err());
        assert_eq!(p("resources=VCPU:1&limit=2", 16).unwrap().limit, Some(2));
    }

    #[test]
    fn orphans_and_resourceless_groups() {
        assert!(p("required=CUSTOM_A", 30).is_err());
        assert!(p("resources=VCPU:1&required1=CUSTOM_A", 30).is_err());
        assert!(p("resources=VCPU:1&required_X=CUSTOM_A&group_policy=none", 36).is_err(), "not in same_subtree");
        let q = p("resources_A=VCPU:1&required_X=CUSTOM_A&same_subtree=_A,_X&group_policy=none", 36).unwrap();
        assert_eq!(q.same_subtree.len(), 1);
        assert!(p("resources=VCPU:1&same_subtree=_Z", 36).is_err(), "unknown suffix");
    }

    #[test]
    fn forbidden_and_root_required() {
        assert!(p("resources=VCPU:1&required=CUSTOM_A,!CUSTOM_A", 22).is_err());
        let q = p("resources=VCPU:1&root_required=CUSTOM_A,!CUSTOM_B", 35).unwrap();
        assert!(q.root_required.contains("CUSTOM_A") && q.root_forbidden.contains("CUSTOM_B"));
        assert!(p("resources=VCPU:1&root_required=A&root_required=B", 35).is_err());
    }

    #[test]
    fn round_trips_through_the_query_string() {
        let q = p("resources=VCPU:1,MEMORY_MB:64&required=in:CUSTOM_A,CUSTOM_B&required=!CUSTOM_C&resources1=DISK_GB:5&member_of1=9323b2b1-82c9-4e91-bdff-e95e808ef954&group_policy=none&limit=5", 39).unwrap();
        let again = p(&q.to_query_string(), 39).unwrap();
        assert_eq!(q, again);
    }
}
