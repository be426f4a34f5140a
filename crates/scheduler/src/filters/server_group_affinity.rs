//! ServerGroupAffinityFilter: for an `affinity` group, once a member has a host, every other
//! member must land on that host. Other requests pass.

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::{GroupPolicy, RequestSpec};

#[derive(Debug, Clone, Copy)]
pub struct ServerGroupAffinityFilter;

impl Filter for ServerGroupAffinityFilter {
    fn name(&self) -> &'static str {
        "ServerGroupAffinityFilter"
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        let Some(group) = spec
            .instance_group
            .as_ref()
            .filter(|g| g.policy == GroupPolicy::Affinity)
        else {
            return true;
        };
        tracing::debug!(
            "Group affinity: check if {} in {:?}",
            host.host,
            group.hosts
        );
        group.hosts.is_empty() || group.hosts.contains(&host.host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request_spec::ServerGroup;
    use crate::testing::{host, spec};

    #[test]
    fn first_member_goes_anywhere_then_the_rest_follow() {
        let mut s = spec(1, 1, 1);
        assert!(ServerGroupAffinityFilter.host_passes(&host("a", 1024, 10, 1), &s));
        s.instance_group = Some(ServerGroup {
            uuid: "g".into(),
            policy: GroupPolicy::Affinity,
            max_server_per_host: None,
            hosts: vec![],
            members: vec![],
        });
        assert!(ServerGroupAffinityFilter.host_passes(&host("a", 1024, 10, 1), &s));
        if let Some(g) = s.instance_group.as_mut() {
            g.hosts.push("b".into());
        }
        assert!(!ServerGroupAffinityFilter.host_passes(&host("a", 1024, 10, 1), &s));
        assert!(ServerGroupAffinityFilter.host_passes(&host("b", 1024, 10, 1), &s));
    }

    #[test]
    fn soft_affinity_is_not_enforced_here() {
        let mut s = spec(1, 1, 1);
        s.instance_group = Some(ServerGroup {
            uuid: "g".into(),
            policy: GroupPolicy::SoftAffinity,
            max_server_per_host: None,
            hosts: vec!["b".into()],
            members: vec![],
        });
        assert!(ServerGroupAffinityFilter.host_passes(&host("a", 1024, 10, 1), &s));
    }
}
