//! NumInstancesFilter: a host may run fewer than `max_instances_per_host` instances.
//! AggregateNumInstancesFilter lets aggregate metadata `max_instances_per_host` override it.

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct NumInstancesFilter {
    max_instances_per_host: u32,
    per_aggregate: bool,
}

impl NumInstancesFilter {
    pub fn global(max_instances_per_host: u32) -> Self {
        Self {
            max_instances_per_host,
            per_aggregate: false,
        }
    }

    pub fn per_aggregate(max_instances_per_host: u32) -> Self {
        Self {
            max_instances_per_host,
            per_aggregate: true,
        }
    }

    fn max_for(&self, host: &HostState) -> f64 {
        let configured = f64::from(self.max_instances_per_host);
        if self.per_aggregate {
            host.aggregate_min_f64("max_instances_per_host", configured)
        } else {
            configured
        }
    }
}

impl Filter for NumInstancesFilter {
    fn name(&self) -> &'static str {
        if self.per_aggregate {
            "AggregateNumInstancesFilter"
        } else {
            "NumInstancesFilter"
        }
    }

    fn host_passes(&self, host: &HostState, _spec: &RequestSpec) -> bool {
        let max = self.max_for(host);
        let passes = f64::from(host.num_instances) < max;
        if !passes {
            tracing::debug!(
                "{} fails num_instances check: Max instances per host is set to {max}",
                host.label()
            );
        }
        passes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_state::Aggregate;
    use crate::testing::{host, spec};
    use std::collections::BTreeMap;

    #[test]
    fn full_hosts_fail() {
        let mut h = host("a", 1, 1, 1);
        h.num_instances = 1;
        assert!(NumInstancesFilter::global(2).host_passes(&h, &spec(1, 1, 1)));
        h.num_instances = 2;
        assert!(!NumInstancesFilter::global(2).host_passes(&h, &spec(1, 1, 1)));
    }

    #[test]
    fn aggregate_limit_overrides() {
        let mut h = host("a", 1, 1, 1);
        h.num_instances = 1;
        h.aggregates.push(Aggregate {
            id: 1,
            name: "small".into(),
            metadata: BTreeMap::from([("max_instances_per_host".into(), "1".into())]),
        });
        assert!(NumInstancesFilter::global(50).host_passes(&h, &spec(1, 1, 1)));
        assert!(!NumInstancesFilter::per_aggregate(50).host_passes(&h, &spec(1, 1, 1)));
    }
}
