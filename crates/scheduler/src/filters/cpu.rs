//! CoreFilter: the host must have the flavor's vCPUs free under `cpu_allocation_ratio`
//! (`total × ratio − used ≥ requested`), and the flavor must not ask for more vCPUs than the
//! host has physically. AggregateCoreFilter lets aggregate metadata `cpu_allocation_ratio`
//! override the ratio.

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct CoreFilter {
    per_aggregate: bool,
}

impl CoreFilter {
    pub fn global() -> Self {
        Self {
            per_aggregate: false,
        }
    }

    pub fn per_aggregate() -> Self {
        Self {
            per_aggregate: true,
        }
    }

    fn ratio(&self, host: &HostState) -> f64 {
        if self.per_aggregate {
            host.aggregate_min_f64("cpu_allocation_ratio", host.cpu_allocation_ratio)
        } else {
            host.cpu_allocation_ratio
        }
    }
}

impl Filter for CoreFilter {
    fn name(&self) -> &'static str {
        if self.per_aggregate {
            "AggregateCoreFilter"
        } else {
            "CoreFilter"
        }
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        if host.vcpus_total == 0 {
            tracing::warn!("VCPUs not set; assuming CPU collection broken");
            return true;
        }
        let requested = i64::from(spec.flavor.vcpus);
        if requested > host.vcpus_total {
            tracing::debug!(
                "{} does not have {requested} total cpus before overcommit, it only has {}",
                host.label(),
                host.vcpus_total
            );
            return false;
        }
        let free = host.vcpus_total as f64 * self.ratio(host) - host.vcpus_used as f64;
        if free < requested as f64 {
            tracing::debug!(
                "{} does not have {requested} usable vcpus, it only has {free} usable vcpus",
                host.label()
            );
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{host, spec};

    #[test]
    fn ratio_of_16_turns_8_cores_into_128() {
        let mut h = host("a", 1024, 10, 8);
        h.vcpus_used = 120;
        assert!(CoreFilter::global().host_passes(&h, &spec(1, 1, 8)));
        h.vcpus_used = 121;
        assert!(!CoreFilter::global().host_passes(&h, &spec(1, 1, 8)));
    }

    #[test]
    fn a_flavor_wider_than_the_host_never_fits() {
        let h = host("a", 1024, 10, 8);
        assert!(!CoreFilter::global().host_passes(&h, &spec(1, 1, 9)));
    }

    #[test]
    fn unknown_vcpu_count_passes() {
        let h = host("a", 1024, 10, 0);
        assert!(CoreFilter::global().host_passes(&h, &spec(1, 1, 64)));
    }
}
