//! ComputeFilter: keeps only hosts whose compute service is enabled and up.

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct ComputeFilter;

impl Filter for ComputeFilter {
    fn name(&self) -> &'static str {
        "ComputeFilter"
    }

    fn host_passes(&self, host: &HostState, _spec: &RequestSpec) -> bool {
        if host.service.disabled {
            tracing::debug!(
                "{} is disabled, reason: {}",
                host.label(),
                host.service.disabled_reason.as_deref().unwrap_or("None")
            );
            return false;
        }
        if !host.service.up {
            tracing::warn!("{} has not been heard from in a while", host.label());
            return false;
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

    #[test]
    fn only_enabled_and_up_services_pass() {
        let s = spec(1, 1, 1);
        let mut h = host("a", 1024, 10, 1);
        assert!(ComputeFilter.host_passes(&h, &s));
        h.service.up = false;
        assert!(!ComputeFilter.host_passes(&h, &s));
        h.service.up = true;
        h.service.disabled = true;
        assert!(!ComputeFilter.host_passes(&h, &s));
    }
}
