//! DifferentHostFilter: with the `different_host` scheduler hint, hosts running any of the
//! listed instances are refused.

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct DifferentHostFilter;

impl Filter for DifferentHostFilter {
    fn name(&self) -> &'static str {
        "DifferentHostFilter"
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        !spec
            .hint("different_host")
            .iter()
            .any(|uuid| host.instances.contains(uuid))
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
    fn hosts_of_the_hinted_instances_are_refused() {
        let mut h = host("a", 1024, 10, 1);
        h.instances.insert("i1".into());
        let mut s = spec(1, 1, 1);
        assert!(DifferentHostFilter.host_passes(&h, &s));
        s.scheduler_hints
            .insert("different_host".into(), vec!["i1".into()]);
        assert!(!DifferentHostFilter.host_passes(&h, &s));
        assert!(DifferentHostFilter.host_passes(&host("b", 1024, 10, 1), &s));
    }
}
