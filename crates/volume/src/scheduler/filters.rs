//! Cinder's default scheduler filters: AvailabilityZoneFilter, CapacityFilter and
//! CapabilitiesFilter (`[volume] scheduler_default_filters`).

use super::host_state::{capacity_factors, PoolState};
use crate::rpc::CreateVolumeSpec;
use serde_json::Value;

/// One filter, by Cinder's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    AvailabilityZone,
    Capacity,
    Capabilities,
}

impl Filter {
    pub fn from_name(name: &str) -> Option<Filter> {
        match name {
            "AvailabilityZoneFilter" => Some(Filter::AvailabilityZone),
            "CapacityFilter" => Some(Filter::Capacity),
            "CapabilitiesFilter" => Some(Filter::Capabilities),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Filter::AvailabilityZone => "AvailabilityZoneFilter",
            Filter::Capacity => "CapacityFilter",
            Filter::Capabilities => "CapabilitiesFilter",
        }
    }

    pub fn passes(self, pool: &PoolState, spec: &CreateVolumeSpec) -> bool {
        match self {
            Filter::AvailabilityZone => spec
                .availability_zone
                .as_deref()
                .is_none_or(|az| az == pool.availability_zone),
            Filter::Capacity => capacity_passes(pool, spec),
            Filter::Capabilities => capabilities_pass(pool, spec),
        }
    }
}

/// Whether a type asks for a thin volume (anything but `provisioning:type = thick`).
pub fn wants_thin(spec: &CreateVolumeSpec) -> bool {
    spec.volume_type
        .extra_specs
        .get("provisioning:type")
        .map(String::as_str)
        != Some("thick")
}

fn capacity_passes(pool: &PoolState, spec: &CreateVolumeSpec) -> bool {
    let requested = spec.size as f64;
    if requested == 0.0 {
        return true;
    }
    if pool.total_capacity_gb <= 0.0 {
        tracing::warn!(
            "Insufficient free space for volume creation. Total capacity is {:.2} on host {}.",
            pool.total_capacity_gb,
            pool.name
        );
        return false;
    }
    let thin = wants_thin(spec);
    let (total_available, virtual_free) = capacity_factors(pool, thin);
    if thin && pool.thin_provisioning_support {
        if pool.max_over_subscription_ratio < 1.0 {
            tracing::warn!(
                "Filtering out host {} with an invalid maximum over subscription ratio of {:.2}.",
                pool.name,
                pool.max_over_subscription_ratio
            );
            return false;
        }
        let ratio = (pool.provisioned_capacity_gb + requested) / total_available;
        if ratio > pool.max_over_subscription_ratio {
            tracing::warn!(
                "Insufficient free space for thin provisioning. The ratio of provisioned capacity over total capacity {ratio:.2} has exceeded the maximum over subscription ratio {:.2} on host {}.",
                pool.max_over_subscription_ratio,
                pool.name
            );
            return false;
        }
    }
    if virtual_free < requested {
        tracing::warn!("Insufficient free space for volume creation on host {} (requested / avail): {requested}/{virtual_free}", pool.name);
        return false;
    }
    true
}

/// A capability as text, Python-style (`True`, `False`, numbers, strings).
fn capability_text(v: &Value) -> Option<String> {
    match v {
        Value::Bool(true) => Some("True".into()),
        Value::Bool(false) => Some("False".into()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn capabilities_pass(pool: &PoolState, spec: &CreateVolumeSpec) -> bool {
    for (key, wanted) in &spec.volume_type.extra_specs {
        // Scoped keys belong to someone else (qos:, RESKEY:, provisioning:, …), except the
        // capabilities: scope.
        let key = match key.split_once(':') {
            Some(("capabilities", rest)) => rest,
            Some(_) => continue,
            None => key.as_str(),
        };
        if matches!(key, "multiattach" | "replication_enabled")
            && wanted.trim().eq_ignore_ascii_case("<is> False")
        {
            continue;
        }
        let Some(have) = pool.capabilities.get(key).and_then(capability_text) else {
            tracing::debug!("Pool {} has no capability {key}", pool.name);
            return false;
        };
        if !spec_matches(&have, wanted) {
            tracing::debug!(
                "Pool {} capability {key}={have} does not match {wanted}",
                pool.name
            );
            return false;
        }
    }
    true
}

/// Cinder's extra_specs_ops: `<is>`, `<in>`, `<or>`, `<all-in>`, `==`, `!=`, `>=`, `<=`,
/// `s==`, `s!=`, `s<`, `s<=`, `s>`, `s>=`, or plain equality.
pub fn spec_matches(have: &str, wanted: &str) -> bool {
    let words: Vec<&str> = wanted.split_whitespace().collect();
    let Some((&op, rest)) = words.split_first() else {
        return have.is_empty();
    };
    let num = |s: &str| s.parse::<f64>().ok();
    let arg = rest.first().copied().unwrap_or_default();
    match op {
        "<is>" => have.eq_ignore_ascii_case(arg),
        "<in>" => have.contains(arg),
        "<all-in>" => rest.iter().all(|w| have.contains(w)),
        "<or>" => rest.iter().filter(|w| **w != "<or>").any(|w| *w == have),
        "==" => num(have).zip(num(arg)).is_some_and(|(h, w)| h == w),
        "!=" => num(have).zip(num(arg)).is_some_and(|(h, w)| h != w),
        ">=" => num(have).zip(num(arg)).is_some_and(|(h, w)| h >= w),
        "<=" => num(have).zip(num(arg)).is_some_and(|(h, w)| h <= w),
        "s==" => have == arg,
        "s!=" => have != arg,
        "s<" => have < arg,
        "s<=" => have <= arg,
        "s>" => have > arg,
        "s>=" => have >= arg,
        _ => have == wanted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::TypeSpec;
    use serde_json::json;

    fn pool(total: f64, free: f64, provisioned: f64, thin: bool) -> PoolState {
        PoolState {
            name: "h@b#b".into(),
            backend: "h@b".into(),
            availability_zone: "nova".into(),
            volume_backend_name: "b".into(),
            total_capacity_gb: total,
            free_capacity_gb: free,
            provisioned_capacity_gb: provisioned,
            reserved_percentage: 0.0,
            max_over_subscription_ratio: 20.0,
            thin_provisioning_support: thin,
            capabilities: json!({"volume_backend_name": "b", "multiattach": true, "storage_protocol": "file"}),
        }
    }

    fn spec(size: i64, specs: &[(&str, &str)]) -> CreateVolumeSpec {
        CreateVolumeSpec {
            volume_id: "v".into(),
            size,
            volume_type: TypeSpec {
                id: "t".into(),
                name: "t".into(),
                extra_specs: specs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            },
            availability_zone: None,
            snapshot_id: None,
            source_volid: None,
            backend: None,
            ..Default::default()
        }
    }

    #[test]
    fn thick_pools_need_real_free_space() {
        let p = pool(100.0, 10.0, 90.0, false);
        assert!(Filter::Capacity.passes(&p, &spec(10, &[])));
        assert!(!Filter::Capacity.passes(&p, &spec(11, &[])));
    }

    #[test]
    fn thin_pools_may_oversubscribe_up_to_the_ratio() {
        let p = pool(10.0, 10.0, 150.0, true);
        assert!(Filter::Capacity.passes(&p, &spec(50, &[])));
        assert!(!Filter::Capacity.passes(&p, &spec(51, &[])));
        // A thick volume on a thin pool counts real space.
        assert!(!Filter::Capacity.passes(&p, &spec(5, &[("provisioning:type", "thick")])));
    }

    #[test]
    fn capabilities_match_extra_specs() {
        let p = pool(100.0, 100.0, 0.0, true);
        assert!(Filter::Capabilities.passes(&p, &spec(1, &[("volume_backend_name", "b")])));
        assert!(!Filter::Capabilities.passes(&p, &spec(1, &[("volume_backend_name", "other")])));
        assert!(Filter::Capabilities.passes(
            &p,
            &spec(1, &[("multiattach", "<is> True"), ("qos:read_iops", "100")])
        ));
        assert!(Filter::Capabilities.passes(
            &p,
            &spec(1, &[("capabilities:storage_protocol", "<in> fil")])
        ));
        assert!(!Filter::Capabilities.passes(&p, &spec(1, &[("no_such_capability", "x")])));
    }

    #[test]
    fn zones_must_match_when_asked() {
        let p = pool(100.0, 100.0, 0.0, true);
        let mut s = spec(1, &[]);
        assert!(Filter::AvailabilityZone.passes(&p, &s));
        s.availability_zone = Some("nova".into());
        assert!(Filter::AvailabilityZone.passes(&p, &s));
        s.availability_zone = Some("az2".into());
        assert!(!Filter::AvailabilityZone.passes(&p, &s));
    }

    #[test]
    fn extra_spec_operators() {
        assert!(spec_matches("True", "<is> True"));
        assert!(spec_matches("10", ">= 5"));
        assert!(!spec_matches("10", "<= 5"));
        assert!(spec_matches("ssd", "<or> hdd <or> ssd"));
        assert!(spec_matches("abc", "abc"));
    }
}
