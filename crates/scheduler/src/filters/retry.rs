//! RetryFilter: drops the (host, node) pairs this request already failed on, so a reschedule
//! goes somewhere new.

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct RetryFilter;

impl Filter for RetryFilter {
    fn name(&self) -> &'static str {
        "RetryFilter"
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        let Some(retry) = &spec.retry else {
            return true;
        };
        let tried = retry
            .hosts
            .iter()
            .any(|t| t.host == host.host && t.nodename == host.nodename);
        if tried {
            tracing::info!(
                "Host {} fails. Previously tried hosts: {:?}",
                host.label(),
                retry
                    .hosts
                    .iter()
                    .map(|t| (&t.host, &t.nodename))
                    .collect::<Vec<_>>()
            );
        }
        !tried
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request_spec::{RetryInfo, TriedHost};
    use crate::testing::{host, spec};

    #[test]
    fn passes_without_retry_info() {
        assert!(RetryFilter.host_passes(&host("a", 1024, 10, 1), &spec(1, 1, 1)));
    }

    #[test]
    fn removes_only_the_tried_host_and_node() {
        let mut s = spec(1, 1, 1);
        s.retry = Some(RetryInfo {
            num_attempts: 1,
            hosts: vec![TriedHost {
                host: "a".into(),
                nodename: "a-node".into(),
            }],
        });
        assert!(!RetryFilter.host_passes(&host("a", 1024, 10, 1), &s));
        assert!(RetryFilter.host_passes(&host("b", 1024, 10, 1), &s));
        let mut other_node = host("a", 1024, 10, 1);
        other_node.nodename = "a-node2".into();
        assert!(RetryFilter.host_passes(&other_node, &s));
    }
}
