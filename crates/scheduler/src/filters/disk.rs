//! DiskFilter: the host must have room for the flavor's root, ephemeral and swap disk under
//! `disk_allocation_ratio`, and the request must fit the host's disk without overcommit.
//! AggregateDiskFilter lets aggregate metadata `disk_allocation_ratio` override the ratio.

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct DiskFilter {
    per_aggregate: bool,
}

impl DiskFilter {
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
            host.aggregate_min_f64("disk_allocation_ratio", host.disk_allocation_ratio)
        } else {
            host.disk_allocation_ratio
        }
    }
}

impl Filter for DiskFilter {
    fn name(&self) -> &'static str {
        if self.per_aggregate {
            "AggregateDiskFilter"
        } else {
            "DiskFilter"
        }
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        let requested = spec.requested_disk_mb() as f64;
        let total = (host.total_usable_disk_gb * 1024) as f64;
        if total < requested {
            tracing::debug!(
                "{} does not have {requested} MB usable disk space before overcommit, it only has {total} MB.",
                host.label()
            );
            return false;
        }
        let usable = total * self.ratio(host) - host.used_disk_mb() as f64;
        if usable < requested {
            tracing::debug!(
                "{} does not have {requested} MB usable disk, it only has {usable} MB usable disk.",
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
    fn counts_root_ephemeral_and_swap() {
        let mut h = host("a", 1024, 20, 1);
        h.free_disk_mb = 10 * 1024;
        let mut s = spec(1, 9, 1);
        assert!(DiskFilter::global().host_passes(&h, &s));
        s.flavor.swap = 1024;
        assert!(DiskFilter::global().host_passes(&h, &s));
        s.flavor.swap = 1025;
        assert!(!DiskFilter::global().host_passes(&h, &s));
    }

    #[test]
    fn ratio_allows_overcommit_but_not_beyond_the_disk_itself() {
        let mut h = host("a", 1024, 20, 1);
        h.free_disk_mb = 0;
        assert!(!DiskFilter::global().host_passes(&h, &spec(1, 1, 1)));
        h.disk_allocation_ratio = 2.0;
        assert!(DiskFilter::global().host_passes(&h, &spec(1, 20, 1)));
        assert!(!DiskFilter::global().host_passes(&h, &spec(1, 21, 1)));
    }

    #[test]
    fn boot_from_volume_needs_no_root_disk() {
        let mut h = host("a", 1024, 20, 1);
        h.free_disk_mb = 0;
        let mut s = spec(1, 10, 1);
        s.boot_from_volume = true;
        assert!(DiskFilter::global().host_passes(&h, &s));
    }
}
