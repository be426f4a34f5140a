//! Runs the enabled filters in order over the candidate hosts, logging what each one kept and
//! removed (the DEBUG lines operators read in the scheduler log).

use super::Filter;
use crate::error::FilterOutcome;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

/// The hosts that passed every filter, and how many each filter left.
#[derive(Debug, Default)]
pub struct FilterRun {
    /// Indices into the host list, in their original order.
    pub survivors: Vec<usize>,
    pub outcomes: Vec<FilterOutcome>,
}

/// Filters `candidates` (indices into `hosts`) for the `index`-th instance of the request.
pub fn apply(
    filters: &[Box<dyn Filter>],
    hosts: &[HostState],
    candidates: &[usize],
    spec: &RequestSpec,
    index: usize,
) -> FilterRun {
    let mut survivors = candidates.to_vec();
    let mut outcomes = Vec::new();
    tracing::debug!("Starting with {} host(s)", survivors.len());
    for filter in filters {
        if (index > 0 && filter.run_once_per_request())
            || (spec.is_rebuild && !filter.run_on_rebuild())
        {
            continue;
        }
        let (kept, removed): (Vec<usize>, Vec<usize>) = survivors
            .iter()
            .partition(|&&i| filter.host_passes(&hosts[i], spec));
        survivors = kept;
        outcomes.push(FilterOutcome {
            filter: filter.name().into(),
            hosts_left: survivors.len(),
        });
        if !removed.is_empty() {
            let labels: Vec<String> = removed.iter().map(|&i| hosts[i].label()).collect();
            tracing::debug!(
                "Filter {} removed host(s): {}",
                filter.name(),
                labels.join(", ")
            );
        }
        if survivors.is_empty() {
            tracing::info!("Filter {} returned 0 hosts", filter.name());
            break;
        }
        tracing::debug!(
            "Filter {} returned {} host(s)",
            filter.name(),
            survivors.len()
        );
    }
    if survivors.is_empty() {
        let results: Vec<String> = outcomes
            .iter()
            .map(|o| format!("{}: (end: {})", o.filter, o.hosts_left))
            .collect();
        tracing::info!(
            "Filtering removed all hosts for the request with instance ID '{}'. Filter results: [{}]",
            spec.instance_uuid.as_deref().unwrap_or("None"),
            results.join(", ")
        );
    }
    FilterRun {
        survivors,
        outcomes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::{ComputeFilter, ImagePropertiesFilter, RamFilter};
    use crate::testing::{host, spec};

    fn chain() -> Vec<Box<dyn Filter>> {
        vec![
            Box::new(ComputeFilter),
            Box::new(RamFilter::global()),
            Box::new(ImagePropertiesFilter::new(None)),
        ]
    }

    #[test]
    fn each_filter_sees_the_previous_survivors() {
        let mut hosts = vec![
            host("a", 1024, 10, 1),
            host("b", 4096, 10, 1),
            host("c", 4096, 10, 1),
        ];
        hosts[2].service.up = false;
        let run = apply(&chain(), &hosts, &[0, 1, 2], &spec(2048, 1, 1), 0);
        assert_eq!(run.survivors, vec![1]);
        let counts: Vec<(String, usize)> = run
            .outcomes
            .iter()
            .map(|o| (o.filter.clone(), o.hosts_left))
            .collect();
        assert_eq!(
            counts,
            vec![
                ("ComputeFilter".into(), 2),
                ("RamFilter".into(), 1),
                ("ImagePropertiesFilter".into(), 1)
            ]
        );
    }

    #[test]
    fn filtering_stops_at_the_first_empty_result() {
        let hosts = vec![host("a", 1024, 10, 1)];
        let run = apply(&chain(), &hosts, &[0], &spec(4096, 1, 1), 0);
        assert!(run.survivors.is_empty());
        assert_eq!(
            run.outcomes.last().map(|o| o.filter.as_str()),
            Some("RamFilter")
        );
        assert_eq!(run.outcomes.len(), 2);
    }

    #[test]
    fn once_per_request_filters_skip_later_instances() {
        let mut hosts = vec![host("a", 4096, 10, 1)];
        hosts[0].service.up = false;
        let run = apply(&chain(), &hosts, &[0], &spec(1, 1, 1), 1);
        assert_eq!(run.survivors, vec![0]);
        assert!(run.outcomes.iter().all(|o| o.filter != "ComputeFilter"));
    }

    #[test]
    fn a_rebuild_runs_only_rebuild_filters() {
        let hosts = vec![host("a", 1024, 10, 1)];
        let mut s = spec(4096, 1, 1);
        s.is_rebuild = true;
        let run = apply(&chain(), &hosts, &[0], &s, 0);
        assert_eq!(run.survivors, vec![0]);
        let names: Vec<&str> = run.outcomes.iter().map(|o| o.filter.as_str()).collect();
        assert_eq!(names, vec!["ImagePropertiesFilter"]);
    }
}
