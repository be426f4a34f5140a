//! SameHostFilter: with the `same_host` scheduler hint, only hosts running one of the listed
//! instances pass.

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct SameHostFilter;

impl Filter for SameHostFilter {
    fn name(&self) -> &'static str {
        "SameHostFilter"
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        let wanted = spec.hint("same_host");
        wanted.is_empty() || wanted.iter().any(|uuid| host.instances.contains(uuid))
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
    fn only_hosts_of_the_hinted_instances_pass() {
        let mut h = host("a", 1024, 10, 1);
        h.instances.insert("i1".into());
        let mut s = spec(1, 1, 1);
        assert!(SameHostFilter.host_passes(&h, &s));
        s.scheduler_hints
            .insert("same_host".into(), vec!["i1".into(), "i9".into()]);
        assert!(SameHostFilter.host_passes(&h, &s));
        assert!(!SameHostFilter.host_passes(&host("b", 1024, 10, 1), &s));
    }
}
