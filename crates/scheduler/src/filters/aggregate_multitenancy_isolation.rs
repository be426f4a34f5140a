//! AggregateMultiTenancyIsolation: a host in an aggregate with `filter_tenant_id*` metadata
//! takes only those projects' instances; hosts without such metadata take anyone's.

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct AggregateMultiTenancyIsolation;

impl Filter for AggregateMultiTenancyIsolation {
    fn name(&self) -> &'static str {
        "AggregateMultiTenancyIsolation"
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        let allowed: Vec<String> = host
            .aggregate_metadata()
            .into_iter()
            .filter(|(key, _)| key.starts_with("filter_tenant_id"))
            .flat_map(|(_, values)| values)
            .collect();
        if allowed.is_empty() || allowed.contains(&spec.project_id) {
            return true;
        }
        tracing::debug!("{} fails tenant id on aggregate", host.label());
        false
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

    #[test]
    fn restricted_hosts_take_only_listed_projects() {
        let mut h = host("a", 1024, 10, 1);
        let mut s = spec(1, 1, 1);
        assert!(AggregateMultiTenancyIsolation.host_passes(&h, &s));
        h.aggregates.push(Aggregate {
            id: 1,
            name: "private".into(),
            metadata: BTreeMap::from([
                ("filter_tenant_id".into(), "p1,p2".into()),
                ("filter_tenant_id_2".into(), "p3".into()),
            ]),
        });
        s.project_id = "p2".into();
        assert!(AggregateMultiTenancyIsolation.host_passes(&h, &s));
        s.project_id = "p3".into();
        assert!(AggregateMultiTenancyIsolation.host_passes(&h, &s));
        s.project_id = "p4".into();
        assert!(!AggregateMultiTenancyIsolation.host_passes(&h, &s));
    }
}
