//! AvailabilityZoneFilter: keeps hosts in the requested availability zone. A host's zone is its
//! aggregates' `availability_zone` metadata, else the default zone (`nova`).

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct AvailabilityZoneFilter;

impl Filter for AvailabilityZoneFilter {
    fn name(&self) -> &'static str {
        "AvailabilityZoneFilter"
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        let Some(wanted) = spec
            .availability_zone
            .as_deref()
            .filter(|az| !az.is_empty())
        else {
            return true;
        };
        let zones = host.availability_zones();
        let passes = zones.contains(wanted);
        if !passes {
            tracing::debug!(
                "Availability Zone '{wanted}' requested. {} has AZs: {zones:?}",
                host.label()
            );
        }
        passes
    }

    fn run_once_per_request(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_state::Aggregate;
    use crate::testing::{host, spec};
    use std::collections::BTreeMap;

    fn in_zone(zone: &str) -> HostState {
        let mut h = host("a", 1024, 10, 1);
        h.aggregates.push(Aggregate {
            id: 1,
            name: "agg".into(),
            metadata: BTreeMap::from([("availability_zone".into(), zone.into())]),
        });
        h
    }

    #[test]
    fn no_requested_zone_passes_everything() {
        assert!(AvailabilityZoneFilter.host_passes(&in_zone("az1"), &spec(1, 1, 1)));
    }

    #[test]
    fn requested_zone_must_match_the_aggregate_zone() {
        let mut s = spec(1, 1, 1);
        s.availability_zone = Some("az1".into());
        assert!(AvailabilityZoneFilter.host_passes(&in_zone("az1"), &s));
        assert!(!AvailabilityZoneFilter.host_passes(&in_zone("az2"), &s));
        assert!(!AvailabilityZoneFilter.host_passes(&host("b", 1024, 10, 1), &s));
    }

    #[test]
    fn hosts_outside_aggregates_are_in_the_default_zone() {
        let mut s = spec(1, 1, 1);
        s.availability_zone = Some("nova".into());
        assert!(AvailabilityZoneFilter.host_passes(&host("b", 1024, 10, 1), &s));
        assert!(!AvailabilityZoneFilter.host_passes(&in_zone("az1"), &s));
    }
}
