//! ComputeCapabilitiesFilter: flavor extra specs in the `capabilities:` scope (and unscoped
//! keys that name a host attribute) must match the host, with Nova's extra-spec operators.
//! `capabilities:cpu_info:arch = x86_64` keeps x86_64 hosts; a flavor without such specs
//! passes every host.

use super::Filter;
use crate::extra_specs_ops;
use crate::host_state::{python_str, HostState};
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct ComputeCapabilitiesFilter;

const SCOPE: &str = "capabilities";

impl ComputeCapabilitiesFilter {
    /// The capability path a spec key refers to, or `None` when the key is not ours.
    fn path<'k>(key: &'k str, host: &HostState) -> Option<Vec<&'k str>> {
        let scope: Vec<&str> = key.split(':').collect();
        match scope.as_slice() {
            [single] => host.has_attribute(single).then(|| vec![*single]),
            [first, rest @ ..] if *first == SCOPE => Some(rest.to_vec()),
            _ => None,
        }
    }
}

impl Filter for ComputeCapabilitiesFilter {
    fn name(&self) -> &'static str {
        "ComputeCapabilitiesFilter"
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        let mut specs = spec.flavor.extra_specs.clone();
        if let Some(bits) = specs.remove("hw:maxphysaddr_bits") {
            specs.insert(
                "capabilities:cpu_info:maxphysaddr:bits".into(),
                format!(">= {bits}"),
            );
        }
        for (key, requirement) in &specs {
            let Some(path) = Self::path(key, host) else {
                continue;
            };
            let Some(capability) = host.capability(&path) else {
                tracing::debug!(
                    "{} fails. There are no capabilities to retrieve.",
                    host.label()
                );
                return false;
            };
            let value = python_str(&capability);
            if !extra_specs_ops::matches(Some(&value), requirement) {
                tracing::debug!(
                    "{} fails extra_spec requirements. '{requirement}' does not match '{value}'",
                    host.label()
                );
                return false;
            }
        }
        true
    }

    fn run_once_per_request(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{host, spec};
    use serde_json::json;

    fn with_specs(pairs: &[(&str, &str)]) -> RequestSpec {
        let mut s = spec(1, 1, 1);
        for (k, v) in pairs {
            s.flavor.extra_specs.insert(k.to_string(), v.to_string());
        }
        s
    }

    fn x86_host() -> HostState {
        let mut h = host("a", 1024, 10, 4);
        h.cpu_info = std::sync::Arc::new(
            json!({"arch": "x86_64", "features": ["avx", "sse4"], "maxphysaddr": {"bits": 46}}),
        );
        h
    }

    #[test]
    fn no_capability_specs_pass_everything() {
        let s = with_specs(&[("hw:cpu_policy", "dedicated"), ("quota:cpu_shares", "10")]);
        assert!(ComputeCapabilitiesFilter.host_passes(&x86_host(), &s));
    }

    #[test]
    fn architecture_must_match() {
        let s = with_specs(&[("capabilities:cpu_info:arch", "x86_64")]);
        assert!(ComputeCapabilitiesFilter.host_passes(&x86_host(), &s));
        let s = with_specs(&[("capabilities:cpu_info:arch", "aarch64")]);
        assert!(!ComputeCapabilitiesFilter.host_passes(&x86_host(), &s));
    }

    #[test]
    fn operators_apply_to_capabilities() {
        let h = x86_host();
        let pass =
            |k: &str, v: &str| ComputeCapabilitiesFilter.host_passes(&h, &with_specs(&[(k, v)]));
        assert!(pass("capabilities:cpu_info:features", "<in> avx"));
        assert!(!pass("capabilities:cpu_info:features", "<in> avx512"));
        assert!(pass("capabilities:vcpus_total", ">= 4"));
        assert!(!pass("capabilities:vcpus_total", ">= 5"));
        assert!(pass("capabilities:hypervisor_type", "<or> kvm <or> qemu"));
        assert!(pass("capabilities:hypervisor_type", "s== qemu"));
    }

    #[test]
    fn missing_capability_fails() {
        let s = with_specs(&[("capabilities:cpu_info:vendor", "Intel")]);
        assert!(!ComputeCapabilitiesFilter.host_passes(&x86_host(), &s));
    }

    #[test]
    fn unscoped_keys_apply_only_when_the_host_has_that_attribute() {
        assert!(ComputeCapabilitiesFilter
            .host_passes(&x86_host(), &with_specs(&[("hypervisor_type", "qemu")])));
        assert!(!ComputeCapabilitiesFilter
            .host_passes(&x86_host(), &with_specs(&[("hypervisor_type", "xen")])));
        assert!(ComputeCapabilitiesFilter
            .host_passes(&x86_host(), &with_specs(&[("unknown_thing", "x")])));
    }

    #[test]
    fn maxphysaddr_bits_is_a_minimum() {
        assert!(ComputeCapabilitiesFilter
            .host_passes(&x86_host(), &with_specs(&[("hw:maxphysaddr_bits", "42")])));
        assert!(!ComputeCapabilitiesFilter
            .host_passes(&x86_host(), &with_specs(&[("hw:maxphysaddr_bits", "48")])));
    }
}
