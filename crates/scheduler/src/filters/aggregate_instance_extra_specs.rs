//! AggregateInstanceExtraSpecsFilter: flavor extra specs that are unscoped or in the
//! `aggregate_instance_extra_specs:` scope must match the metadata of one of the host's
//! aggregates (with Nova's extra-spec operators). Specs in other scopes are ignored.

use super::Filter;
use crate::extra_specs_ops;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct AggregateInstanceExtraSpecsFilter;

const SCOPE: &str = "aggregate_instance_extra_specs";

impl Filter for AggregateInstanceExtraSpecsFilter {
    fn name(&self) -> &'static str {
        "AggregateInstanceExtraSpecsFilter"
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        if spec.flavor.extra_specs.is_empty() {
            return true;
        }
        let metadata = host.aggregate_metadata();
        for (key, requirement) in &spec.flavor.extra_specs {
            let key = match key.split_once(':') {
                Some((SCOPE, rest)) => rest,
                Some(_) => continue,
                None => key.as_str(),
            };
            let Some(values) = metadata.get(key).filter(|v| !v.is_empty()) else {
                tracing::debug!(
                    "{} fails flavor extra_specs requirements. Extra_spec {key} is not in aggregate.",
                    host.label()
                );
                return false;
            };
            if !values
                .iter()
                .any(|v| extra_specs_ops::matches(Some(v), requirement))
            {
                tracing::debug!(
                    "{} fails flavor extra_specs requirements. '{values:?}' do not match '{requirement}'",
                    host.label()
                );
                return false;
            }
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
    use crate::host_state::Aggregate;
    use crate::testing::{host, spec};
    use std::collections::BTreeMap;

    fn ssd_host() -> HostState {
        let mut h = host("a", 1024, 10, 1);
        h.aggregates.push(Aggregate {
            id: 1,
            name: "fast".into(),
            metadata: BTreeMap::from([
                ("ssd".into(), "true".into()),
                ("tier".into(), "gold, silver".into()),
            ]),
        });
        h
    }

    fn with_spec(key: &str, value: &str) -> RequestSpec {
        let mut s = spec(1, 1, 1);
        s.flavor.extra_specs.insert(key.into(), value.into());
        s
    }

    #[test]
    fn scoped_and_unscoped_keys_match_aggregate_metadata() {
        let f = AggregateInstanceExtraSpecsFilter;
        assert!(f.host_passes(
            &ssd_host(),
            &with_spec("aggregate_instance_extra_specs:ssd", "true")
        ));
        assert!(f.host_passes(&ssd_host(), &with_spec("ssd", "true")));
        assert!(!f.host_passes(&ssd_host(), &with_spec("ssd", "false")));
        assert!(f.host_passes(&ssd_host(), &with_spec("tier", "silver")));
        assert!(f.host_passes(&ssd_host(), &with_spec("tier", "<or> bronze <or> gold")));
    }

    #[test]
    fn other_scopes_are_ignored_and_missing_keys_fail() {
        let f = AggregateInstanceExtraSpecsFilter;
        assert!(f.host_passes(
            &host("b", 1024, 10, 1),
            &with_spec("hw:cpu_policy", "dedicated")
        ));
        assert!(!f.host_passes(
            &host("b", 1024, 10, 1),
            &with_spec("aggregate_instance_extra_specs:ssd", "true")
        ));
        assert!(f.host_passes(&host("b", 1024, 10, 1), &spec(1, 1, 1)));
    }
}
