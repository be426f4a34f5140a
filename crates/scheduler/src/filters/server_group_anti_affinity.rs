//! ServerGroupAntiAffinityFilter: for an `anti-affinity` group, a host may hold fewer than
//! `max_server_per_host` (default 1) of the group's members. Other requests pass.

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::{GroupPolicy, RequestSpec};

#[derive(Debug, Clone, Copy)]
pub struct ServerGroupAntiAffinityFilter;

impl Filter for ServerGroupAntiAffinityFilter {
    fn name(&self) -> &'static str {
        "ServerGroupAntiAffinityFilter"
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        let Some(group) = spec
            .instance_group
            .as_ref()
            .filter(|g| g.policy == GroupPolicy::AntiAffinity)
        else {
            return true;
        };
        // A move may re-check the instance's own host; it must not count against itself.
        if spec
            .instance_uuid
            .as_ref()
            .is_some_and(|uuid| host.instances.contains(uuid))
        {
            return true;
        }
        let on_host = group
            .members
            .iter()
            .filter(|m| host.instances.contains(*m))
            .count();
        let max = group.max_server_per_host.unwrap_or(1).max(1) as usize;
        tracing::debug!(
            "Group anti-affinity: check if the number of servers from group {} on host {} is less than {max}.",
            group.uuid,
            host.host
        );
        on_host < max
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request_spec::ServerGroup;
    use crate::testing::{host, spec};

    fn group(policy: GroupPolicy, max: Option<u32>) -> ServerGroup {
        ServerGroup {
            uuid: "g1".into(),
            policy,
            max_server_per_host: max,
            hosts: vec![],
            members: vec!["m1".into(), "m2".into(), "new".into()],
        }
    }

    #[test]
    fn no_group_or_another_policy_passes() {
        let mut h = host("a", 1024, 10, 1);
        h.instances.insert("m1".into());
        let mut s = spec(1, 1, 1);
        assert!(ServerGroupAntiAffinityFilter.host_passes(&h, &s));
        s.instance_group = Some(group(GroupPolicy::Affinity, None));
        assert!(ServerGroupAntiAffinityFilter.host_passes(&h, &s));
    }

    #[test]
    fn host_with_a_member_fails() {
        let mut s = spec(1, 1, 1);
        s.instance_group = Some(group(GroupPolicy::AntiAffinity, None));
        s.instance_uuid = Some("new".into());
        let mut h = host("a", 1024, 10, 1);
        h.instances.insert("unrelated".into());
        assert!(ServerGroupAntiAffinityFilter.host_passes(&h, &s));
        h.instances.insert("m1".into());
        assert!(!ServerGroupAntiAffinityFilter.host_passes(&h, &s));
    }

    #[test]
    fn max_server_per_host_allows_that_many() {
        let mut s = spec(1, 1, 1);
        s.instance_group = Some(group(GroupPolicy::AntiAffinity, Some(2)));
        let mut h = host("a", 1024, 10, 1);
        h.instances.insert("m1".into());
        assert!(ServerGroupAntiAffinityFilter.host_passes(&h, &s));
        h.instances.insert("m2".into());
        assert!(!ServerGroupAntiAffinityFilter.host_passes(&h, &s));
    }

    #[test]
    fn the_instances_own_host_passes_on_a_move() {
        let mut s = spec(1, 1, 1);
        s.instance_group = Some(group(GroupPolicy::AntiAffinity, None));
        s.instance_uuid = Some("m1".into());
        let mut h = host("a", 1024, 10, 1);
        h.instances.insert("m1".into());
        assert!(ServerGroupAntiAffinityFilter.host_passes(&h, &s));
    }
}
