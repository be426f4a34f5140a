//! Soft server-group policies as weighers: `soft-affinity` prefers hosts that already run more
//! of the group's members, `soft-anti-affinity` prefers hosts that run fewer. Unlike the
//! filters they never refuse a host.

use super::Weigher;
use crate::host_state::HostState;
use crate::request_spec::{GroupPolicy, RequestSpec};

/// Members of the request's group on `host`, if the group has `policy`.
fn members_on_host(host: &HostState, spec: &RequestSpec, policy: GroupPolicy) -> f64 {
    match &spec.instance_group {
        Some(group) if group.policy == policy => group
            .members
            .iter()
            .filter(|m| host.instances.contains(*m))
            .count() as f64,
        _ => 0.0,
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ServerGroupSoftAffinityWeigher {
    pub multiplier: f64,
}

impl Weigher for ServerGroupSoftAffinityWeigher {
    fn name(&self) -> &'static str {
        "ServerGroupSoftAffinityWeigher"
    }

    fn raw_weight(&self, host: &HostState, spec: &RequestSpec) -> f64 {
        members_on_host(host, spec, GroupPolicy::SoftAffinity)
    }

    fn multiplier(&self, host: &HostState) -> f64 {
        host.aggregate_min_f64("soft_affinity_weight_multiplier", self.multiplier)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ServerGroupSoftAntiAffinityWeigher {
    pub multiplier: f64,
}

impl Weigher for ServerGroupSoftAntiAffinityWeigher {
    fn name(&self) -> &'static str {
        "ServerGroupSoftAntiAffinityWeigher"
    }

    fn raw_weight(&self, host: &HostState, spec: &RequestSpec) -> f64 {
        -members_on_host(host, spec, GroupPolicy::SoftAntiAffinity)
    }

    fn multiplier(&self, host: &HostState) -> f64 {
        host.aggregate_min_f64("soft_anti_affinity_weight_multiplier", self.multiplier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request_spec::ServerGroup;
    use crate::testing::{host, spec};
    use crate::weighers::weigh;

    fn grouped(policy: GroupPolicy) -> RequestSpec {
        let mut s = spec(1, 1, 1);
        s.instance_group = Some(ServerGroup {
            uuid: "g".into(),
            policy,
            max_server_per_host: None,
            hosts: vec![],
            members: vec!["m1".into(), "m2".into()],
        });
        s
    }

    fn hosts() -> Vec<HostState> {
        let mut busy = host("busy", 1024, 10, 1);
        busy.instances.extend(["m1".to_string(), "m2".to_string()]);
        let mut one = host("one", 1024, 10, 1);
        one.instances.insert("m1".into());
        vec![host("empty", 1024, 10, 1), one, busy]
    }

    #[test]
    fn soft_affinity_prefers_the_busiest_host() {
        let weighers: Vec<Box<dyn Weigher>> =
            vec![Box::new(ServerGroupSoftAffinityWeigher { multiplier: 1.0 })];
        let weighed = weigh(
            &weighers,
            &hosts(),
            &[0, 1, 2],
            &grouped(GroupPolicy::SoftAffinity),
        );
        assert_eq!(weighed, vec![(2, 1.0), (1, 0.5), (0, 0.0)]);
    }

    #[test]
    fn soft_anti_affinity_prefers_the_emptiest_host() {
        let weighers: Vec<Box<dyn Weigher>> = vec![Box::new(ServerGroupSoftAntiAffinityWeigher {
            multiplier: 1.0,
        })];
        let weighed = weigh(
            &weighers,
            &hosts(),
            &[0, 1, 2],
            &grouped(GroupPolicy::SoftAntiAffinity),
        );
        assert_eq!(weighed, vec![(0, 1.0), (1, 0.5), (2, 0.0)]);
    }

    #[test]
    fn other_policies_weigh_nothing() {
        let s = grouped(GroupPolicy::Affinity);
        let h = &hosts()[2];
        assert_eq!(
            ServerGroupSoftAffinityWeigher { multiplier: 1.0 }.raw_weight(h, &s),
            0.0
        );
        assert_eq!(
            ServerGroupSoftAntiAffinityWeigher { multiplier: 1.0 }.raw_weight(h, &s),
            0.0
        );
    }
}
