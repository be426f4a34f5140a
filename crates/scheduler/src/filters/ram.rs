//! RamFilter: the host must have room for the flavor's RAM under `ram_allocation_ratio`
//! (`total × ratio − used ≥ requested`), and the flavor must fit the host's RAM even without
//! overcommit. AggregateRamFilter lets aggregate metadata `ram_allocation_ratio` override the
//! host's ratio (the smallest value wins).

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct RamFilter {
    per_aggregate: bool,
}

impl RamFilter {
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
            host.aggregate_min_f64("ram_allocation_ratio", host.ram_allocation_ratio)
        } else {
            host.ram_allocation_ratio
        }
    }
}

impl Filter for RamFilter {
    fn name(&self) -> &'static str {
        if self.per_aggregate {
            "AggregateRamFilter"
        } else {
            "RamFilter"
        }
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        let requested = spec.flavor.memory_mb as f64;
        let total = host.total_usable_ram_mb as f64;
        if total < requested {
            tracing::debug!(
                "{} does not have {requested} MB usable ram before overcommit, it only has {total} MB.",
                host.label()
            );
            return false;
        }
        let usable = total * self.ratio(host) - host.used_ram_mb() as f64;
        if usable < requested {
            tracing::debug!(
                "{} does not have {requested} MB usable ram, it only has {usable} MB usable ram.",
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
    use crate::host_state::Aggregate;
    use crate::testing::{host, spec};
    use std::collections::BTreeMap;

    #[test]
    fn overcommit_ratio_stretches_free_ram() {
        // 1024 MB at ratio 1.5 gives 1536 MB; 1000 MB already used leaves 536.
        let mut h = host("a", 1024, 10, 1);
        h.free_ram_mb = 24;
        assert!(RamFilter::global().host_passes(&h, &spec(536, 1, 1)));
        assert!(!RamFilter::global().host_passes(&h, &spec(537, 1, 1)));
        h.ram_allocation_ratio = 1.0;
        assert!(!RamFilter::global().host_passes(&h, &spec(25, 1, 1)));
        assert!(RamFilter::global().host_passes(&h, &spec(24, 1, 1)));
    }

    #[test]
    fn an_instance_cannot_overcommit_against_itself() {
        let h = host("a", 1024, 10, 1);
        assert!(!RamFilter::global().host_passes(&h, &spec(1025, 1, 1)));
    }

    #[test]
    fn aggregate_ratio_overrides_the_hosts() {
        let mut h = host("a", 1024, 10, 1);
        h.aggregates.push(Aggregate {
            id: 1,
            name: "tight".into(),
            metadata: BTreeMap::from([("ram_allocation_ratio".into(), "1.0".into())]),
        });
        h.free_ram_mb = 24;
        assert!(RamFilter::global().host_passes(&h, &spec(500, 1, 1)));
        assert!(!RamFilter::per_aggregate().host_passes(&h, &spec(500, 1, 1)));
    }
}
