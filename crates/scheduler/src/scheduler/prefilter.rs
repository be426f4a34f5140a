//! Narrowing the host list before the filters run: a requested destination, ignored hosts,
//! and admin-forced hosts or nodes (which also skip the filters, unless the request carries
//! the `_nova_check_type` hint).

use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

/// The candidate indices left, and whether they were forced (filters are then skipped).
pub(crate) fn prefilter(hosts: &[HostState], spec: &RequestSpec) -> (Vec<usize>, bool) {
    let mut candidates: Vec<usize> = (0..hosts.len()).collect();
    if let Some(dest) = &spec.requested_destination {
        candidates.retain(|&i| {
            hosts[i].host == dest.host && dest.node.as_ref().is_none_or(|n| *n == hosts[i].nodename)
        });
        tracing::info!(
            "Host filter only checking host {} and node {}",
            dest.host,
            dest.node.as_deref().unwrap_or("None")
        );
    }
    if !spec.ignore_hosts.is_empty() {
        let ignored: Vec<String> = spec.ignore_hosts.iter().map(|h| h.to_lowercase()).collect();
        candidates.retain(|&i| !ignored.contains(&hosts[i].host.to_lowercase()));
        tracing::info!(
            "Host filter ignoring hosts: {}",
            spec.ignore_hosts.join(", ")
        );
    }
    if !spec.force_hosts.is_empty() {
        let forced: Vec<String> = spec.force_hosts.iter().map(|h| h.to_lowercase()).collect();
        candidates.retain(|&i| forced.contains(&hosts[i].host.to_lowercase()));
        log_forced("hosts", &spec.force_hosts, candidates.is_empty());
    }
    if !spec.force_nodes.is_empty() {
        candidates.retain(|&i| spec.force_nodes.contains(&hosts[i].nodename));
        log_forced("nodes", &spec.force_nodes, candidates.is_empty());
    }
    let forcing = !spec.force_hosts.is_empty() || !spec.force_nodes.is_empty();
    let check_anyway = !spec.hint("_nova_check_type").is_empty();
    (candidates, forcing && !check_anyway)
}

fn log_forced(kind: &str, wanted: &[String], none_left: bool) {
    if none_left {
        tracing::info!(
            "No {kind} matched due to not matching 'force_{kind}' value of '{}'",
            wanted.join(", ")
        );
    } else {
        tracing::info!(
            "Host filter forcing available {kind} to {}",
            wanted.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request_spec::Destination;
    use crate::testing::{host, spec};

    fn hosts() -> Vec<HostState> {
        vec![host("a", 1, 1, 1), host("b", 1, 1, 1), host("c", 1, 1, 1)]
    }

    #[test]
    fn nothing_requested_keeps_everything_unforced() {
        assert_eq!(prefilter(&hosts(), &spec(1, 1, 1)), (vec![0, 1, 2], false));
    }

    #[test]
    fn ignored_hosts_go_case_insensitively() {
        let mut s = spec(1, 1, 1);
        s.ignore_hosts = vec!["A".into()];
        assert_eq!(prefilter(&hosts(), &s), (vec![1, 2], false));
    }

    #[test]
    fn forced_hosts_and_nodes_skip_filters_unless_checked() {
        let mut s = spec(1, 1, 1);
        s.force_hosts = vec!["b".into()];
        assert_eq!(prefilter(&hosts(), &s), (vec![1], true));
        s.force_hosts.clear();
        s.force_nodes = vec!["c-node".into()];
        assert_eq!(prefilter(&hosts(), &s), (vec![2], true));
        s.scheduler_hints
            .insert("_nova_check_type".into(), vec!["rebuild".into()]);
        assert_eq!(prefilter(&hosts(), &s), (vec![2], false));
    }

    #[test]
    fn requested_destination_narrows_to_its_host_and_node() {
        let mut s = spec(1, 1, 1);
        s.requested_destination = Some(Destination {
            host: "b".into(),
            node: None,
        });
        assert_eq!(prefilter(&hosts(), &s), (vec![1], false));
        s.requested_destination = Some(Destination {
            host: "b".into(),
            node: Some("x".into()),
        });
        assert_eq!(prefilter(&hosts(), &s), (vec![], false));
    }
}
