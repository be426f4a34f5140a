//! Query strings as placement reads them: repeated keys kept in order, and the parsers of the
//! `resources`, `required` and `member_of` values shared by `GET /resource_providers` and
//! `GET /allocation_candidates`, with their version rules and messages.

use crate::error::{PlacementError, PlacementResult};
use crate::microversion::Version;
use crate::service::canonical_uuid;
use std::collections::{BTreeMap, BTreeSet};

/// The decoded `key=value` pairs of a query string, in order.
pub fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    let Some(raw) = raw else { return Vec::new() };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s).decode_utf8_lossy().into_owned()
}

/// All values of `key`, in order.
pub fn all<'a>(pairs: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
}

/// The last value of `key` (what a dict of the query would hold).
pub fn last<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// 400 for any key not in `allowed`, as placement's query schemas do.
pub fn only(pairs: &[(String, String)], allowed: impl Fn(&str) -> bool) -> PlacementResult<()> {
    match pairs.iter().find(|(k, _)| !allowed(k)) {
        Some((k, _)) => Err(PlacementError::bad_request(format!(
            "Invalid query string parameters: Additional properties are not allowed ('{k}' was unexpected)"
        ))),
        None => Ok(()),
    }
}

/// `VCPU:2,MEMORY_MB:1024` → amounts by class.
pub fn resources(value: &str) -> PlacementResult<BTreeMap<String, i64>> {
    let form = "Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024.";
    if value.trim().is_empty() {
        return Err(PlacementError::bad_request(format!("{form} Got: empty string.")));
    }
    let mut out = BTreeMap::new();
    for item in value.split(',') {
        let parts: Vec<&str> = item.split(':').collect();
        let [rc, amount] = parts[..] else {
            return Err(PlacementError::bad_request(format!("{form} Got: {item}.")));
        };
        let amount: i64 = amount.trim().parse().map_err(|_| {
            PlacementError::bad_request(format!("Requested resource {rc} expected positive integer amount. Got: {amount}."))
        })?;
        if amount < 1 {
            return Err(PlacementError::bad_request(format!("Requested resource {rc} requires amount >= 1. Got: {amount}.")));
        }
        out.insert(rc.trim().to_string(), amount);
    }
    Ok(out)
}

/// Required and forbidden traits of one `required` value: `T1,!T2` (forbidden from 1.22) or
/// `in:T1,T2` (1.39).
pub fn required(value: &str, version: Version) -> PlacementResult<(Vec<BTreeSet<String>>, BTreeSet<String>)> {
    if let Some(list) = value.strip_prefix("in:") {
        if !version.at_least(39) {
            return Err(PlacementError::bad_request(format!(
                "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: {value}"
            )));
        }
        let any: BTreeSet<String> = list.split(',').map(|t| t.trim().to_string()).collect();
        if any.iter().any(String::is_empty) {
            return Err(PlacementError::bad_request(format!(
                "Invalid query string parameters: Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: {value}"
            )));
        }
        if any.iter().any(|t| t.starts_with('!')) {
            return Err(PlacementError::bad_request(format!(
                "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: {value}"
            )));
        }
        return Ok((vec![any], BTreeSet::new()));
    }
    let allow_forbidden = version.at_least(22);
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    let forbidden: BTreeSet<String> = items.iter().filter(|t| t.starts_with('!')).map(|t| t.trim_start_matches('!').to_string()).collect();
    if items.iter().any(|t| t.is_empty()) || forbidden.iter().any(String::is_empty) {
        let form = if allow_forbidden { "HW_CPU_X86_VMX,!CUSTOM_MAGIC" } else { "HW_CPU_X86_VMX,CUSTOM_MAGIC" };
        return Err(PlacementError::bad_request(format!(
            "Invalid query string parameters: Expected 'required' parameter value of the form: {form}. Got an empty trait in: {value}"
        )));
    }
    if !forbidden.is_empty() && !allow_forbidden {
        return Err(PlacementError::bad_request(format!(
            "Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: {value}"
        )));
    }
    let required = items.iter().filter(|t| !t.starts_with('!')).map(|t| BTreeSet::from([t.to_string()])).collect();
    Ok((required, forbidden))
}

/// Every `required{suffix}` of the query: before 1.39 only the last one counts.
pub fn required_all(pairs: &[(String, String)], key: &str, version: Version) -> PlacementResult<(Vec<BTreeSet<String>>, BTreeSet<String>)> {
    let mut values = all(pairs, key);
    if !version.at_least(39) {
        values = values.split_off(values.len().saturating_sub(1));
    }
    let (mut req, mut forb) = (Vec::new(), BTreeSet::new());
    for v in values {
        let (r, f) = required(v, version)?;
        req.extend(r);
        forb.extend(f);
    }
    Ok((req, forb))
}

/// Every `member_of{suffix}`: required aggregate sets (AND of ORs) and forbidden aggregates.
/// Several values need 1.24, `!` needs 1.32.
pub fn member_of(pairs: &[(String, String)], key: &str, version: Version) -> PlacementResult<(Vec<BTreeSet<String>>, BTreeSet<String>)> {
    let values = all(pairs, key);
    if values.len() > 1 && !version.at_least(24) {
        return Err(PlacementError::bad_request(format!("Multiple {key} parameters are not supported")));
    }
    let (mut required, mut forbidden) = (Vec::new(), BTreeSet::new());
    for value in values {
        if value.contains(',') && !(value.starts_with("in:") || value.starts_with("!in:")) {
            return Err(PlacementError::bad_request(format!(
                "Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: {value}"
            )));
        }
        let (negated, list) = if let Some(l) = value.strip_prefix("!in:") {
            (true, l)
        } else if let Some(l) = value.strip_prefix('!') {
            (true, l)
        } else {
            (false, value.strip_prefix("in:").unwrap_or(value))
        };
        let mut set = BTreeSet::new();
        for agg in list.split(',') {
            let uuid = canonical_uuid(agg).ok_or_else(|| {
                PlacementError::bad_request(format!(
                    "Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: {agg}"
                ))
            })?;
            set.insert(uuid);
        }
        if negated {
            if !version.at_least(32) {
                return Err(PlacementError::bad_request(format!("Forbidden {key} parameters are not supported in the specified microversion")));
            }
            forbidden.extend(set);
        } else {
            required.push(set);
        }
    }
    Ok((required, forbidden))
}

/// An `in_tree` value: a provider UUID.
pub fn in_tree(value: &str) -> PlacementResult<String> {
    canonical_uuid(value.trim()).ok_or_else(|| {
        PlacementError::bad_request(format!(
            "Invalid query string parameters: Expected 'in_tree' parameter to be a format of uuid. Got: {value}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: Version = Version(1, 39);

    #[test]
    fn pairs_keep_repeats_and_decode() {
        let p = pairs(Some("required=A%2CB&required=in:C,D&name=a+b"));
        assert_eq!(all(&p, "required"), vec!["A,B", "in:C,D"]);
        assert_eq!(last(&p, "name"), Some("a b"));
    }

    #[test]
    fn resources_values() {
        assert_eq!(resources("VCPU:2,MEMORY_MB:512").unwrap().get("VCPU"), Some(&2));
        assert!(resources("VCPU").is_err());
        assert!(resources("VCPU:0").is_err());
        assert!(resources("VCPU:x").is_err());
        assert!(resources("").is_err());
    }

    #[test]
    fn required_values_by_version() {
        let (r, f) = required("A,!B", V).unwrap();
        assert_eq!(r, vec![BTreeSet::from(["A".to_string()])]);
        assert_eq!(f, BTreeSet::from(["B".to_string()]));
        assert!(required("A,!B", Version(1, 21)).is_err());
        assert!(required("in:A,B", Version(1, 38)).is_err());
        assert_eq!(required("in:A,B", V).unwrap().0[0].len(), 2);
        assert!(required("in:A,!B", V).is_err());
        assert!(required("A,,B", V).is_err());
        let p = pairs(Some("required=A&required=B"));
        assert_eq!(required_all(&p, "required", V).unwrap().0.len(), 2);
        assert_eq!(required_all(&p, "required", Version(1, 38)).unwrap().0.len(), 1, "only the last before 1.39");
    }

    #[test]
    fn member_of_values_by_version() {
        let a = "9323b2b1-82c9-4e91-bdff-e95e808ef954";
        let b = "8592a199-7d73-4465-8df6-ab00a6243c82";
        let p = pairs(Some(&format!("member_of=in:{a},{b}&member_of=!{a}")));
        let (req, forb) = member_of(&p, "member_of", V).unwrap();
        assert_eq!(req[0].len(), 2);
        assert!(forb.contains(a));
        assert!(member_of(&p, "member_of", Version(1, 23)).is_err(), "repeats need 1.24");
        assert!(member_of(&pairs(Some(&format!("member_of=!{a}"))), "member_of", Version(1, 31)).is_err());
        assert!(member_of(&pairs(Some(&format!("member_of={a},{b}"))), "member_of", V).is_err());
        assert!(member_of(&pairs(Some("member_of=nope")), "member_of", V).is_err());
    }
}
