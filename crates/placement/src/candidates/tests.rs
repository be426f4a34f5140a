//! The candidate search on hand-built snapshots: the provider-tree examples of placement's
//! documentation, granular groups, sharing providers and the request-wide parameters.

use super::*;
use crate::types::{Inventory, ResourceProvider};

#[derive(Default)]
struct World(Snapshot);

impl World {
    fn rp(&mut self, name: &str, parent: Option<&str>) -> &mut Self {
        let root = match parent {
            Some(p) => self.0.provider(p).expect("parent").root_provider_uuid.clone(),
            None => name.to_string(),
        };
        self.0.index.insert(name.into(), self.0.providers.len());
        self.0.providers.push(ResourceProvider {
            uuid: name.into(),
            name: name.into(),
            generation: 0,
            parent_provider_uuid: parent.map(Into::into),
            root_provider_uuid: root,
            updated_at: 0,
        });
        self
    }
    fn inv(&mut self, rp: &str, rc: &str, total: i64) -> &mut Self {
        self.0.resource_classes.insert(rc.into());
        self.0.inventories.entry(rp.into()).or_default().insert(rc.into(), Inventory::of(total));
        self
    }
    fn used(&mut self, rp: &str, rc: &str, n: i64) -> &mut Self {
        self.0.usages.entry(rp.into()).or_default().insert(rc.into(), n);
        self
    }
    fn traits(&mut self, rp: &str, traits: &[&str]) -> &mut Self {
        for t in traits {
            self.0.trait_names.insert(t.to_string());
            self.0.traits.entry(rp.into()).or_default().insert(t.to_string());
        }
        self
    }
    fn agg(&mut self, rp: &str, agg: &str) -> &mut Self {
        self.0.aggregates.entry(rp.into()).or_default().insert(agg.into());
        self
    }
}

fn group(resources: &[(&str, i64)]) -> RequestGroup {
    RequestGroup { resources: resources.iter().map(|(r, n)| (r.to_string(), *n)).collect(), ..Default::default() }
}

fn query(groups: Vec<(&str, RequestGroup)>) -> CandidateQuery {
    CandidateQuery { groups: groups.into_iter().map(|(s, g)| (s.to_string(), g)).collect(), ..Default::default() }
}

/// Each candidate as sorted "provider:CLASS=n" strings.
fn shapes(c: &AllocationCandidates) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = c
        .allocation_requests
        .iter()
        .map(|r| r.allocations.iter().flat_map(|(p, a)| a.resources.iter().map(move |(rc, n)| format!("{p}:{rc}={n}"))).collect())
        .collect();
    out.sort();
    out
}

/// The second example of placement's provider-tree guide: two hosts with NUMA children and
/// a sharing storage provider in aggregate A.
fn numa_world() -> World {
    let mut w = World::default();
    w.rp("CN1", None).rp("N11", Some("CN1")).rp("N12", Some("CN1")).rp("CN2", None).rp("N21", Some("CN2")).rp("N22", Some("CN2")).rp("SS1", None);
    for cn in ["CN1", "CN2"] {
        w.inv(cn, "MEMORY_MB", 1024).inv(cn, "DISK_GB", 1000);
    }
    for n in ["N11", "N12", "N21", "N22"] {
        w.inv(n, "VCPU", 8);
    }
    w.inv("SS1", "DISK_GB", 1000).traits("SS1", &[MISC_SHARES_VIA_AGGREGATE]);
    w.agg("SS1", "aggA").agg("CN1", "aggA").agg("CN1", "aggB").agg("CN2", "aggA").agg("N21", "aggB");
    w
}

#[test]
fn nested_trees_with_a_sharing_provider() {
    let w = numa_world();
    let q = query(vec![("", group(&[("VCPU", 1), ("MEMORY_MB", 512), ("DISK_GB", 500)]))]);
    let c = find(&w.0, &q, true).unwrap();
    assert_eq!(c.allocation_requests.len(), 8, "{:?}", shapes(&c));
    assert!(shapes(&c).contains(&vec!["CN1:MEMORY_MB=512".into(), "N11:VCPU=1".into(), "SS1:DISK_GB=500".into()]));
    assert_eq!(c.provider_summaries.len(), 7, "every provider of the trees in play");
    assert_eq!(c.provider_summaries["N11"].parent_provider_uuid.as_deref(), Some("CN1"));
    assert_eq!(c.provider_summaries["SS1"].traits, vec![MISC_SHARES_VIA_AGGREGATE.to_string()]);
    let old = find(&w.0, &q, false).unwrap();
    assert!(old.allocation_requests.is_empty(), "before 1.29 nested trees give no candidates");
}

#[test]
fn member_of_on_a_root_spans_its_tree() {
    let w = numa_world();
    let mut g = group(&[("VCPU", 1), ("MEMORY_MB", 512), ("DISK_GB", 500)]);
    g.member_of = vec![BTreeSet::from(["aggA".to_string()])];
    assert_eq!(find(&w.0, &query(vec![("", g.clone())]), true).unwrap().allocation_requests.len(), 8);
    g.member_of = vec![BTreeSet::from(["aggB".to_string()])];
    let c = find(&w.0, &query(vec![("", g.clone())]), true).unwrap();
    assert_eq!(shapes(&c), vec![
        vec!["CN1:DISK_GB=500".to_string(), "CN1:MEMORY_MB=512".into(), "N11:VCPU=1".into()],
        vec!["CN1:DISK_GB=500".to_string(), "CN1:MEMORY_MB=512".into(), "N12:VCPU=1".into()],
    ]);
    g.member_of = Vec::new();
    g.forbidden_aggregates = BTreeSet::from(["aggB".to_string()]);
    let c = find(&w.0, &query(vec![("", g)]), true).unwrap();
    assert!(shapes(&c).iter().all(|s| s.iter().all(|x| x.starts_with("N22") || x.starts_with("CN2") || x.starts_with("SS1"))), "{:?}", shapes(&c));
}

#[test]
fn in_tree_limit_and_capacity() {
    let mut w = numa_world();
    let mut g = group(&[("VCPU", 1), ("DISK_GB", 50)]);
    g.in_tree = Some("N11".into());
    let c = find(&w.0, &query(vec![("", g)]), true).unwrap();
    assert_eq!(shapes(&c), vec![vec!["CN1:DISK_GB=50".to_string(), "N11:VCPU=1".into()], vec!["CN1:DISK_GB=50".to_string(), "N12:VCPU=1".into()]]);
    let mut q = query(vec![("", group(&[("VCPU", 1)]))]);
    q.limit = Some(3);
    assert_eq!(find(&w.0, &q, true).unwrap().allocation_requests.len(), 3);
    w.used("N11", "VCPU", 8);
    let c = find(&w.0, &query(vec![("", group(&[("VCPU", 1)]))]), true).unwrap();
    assert!(!shapes(&c).iter().flatten().any(|s| s.starts_with("N11")), "a full provider is no candidate");
    assert_eq!(c.provider_summaries["N11"].resources["VCPU"], ResourceSummary { capacity: 8, used: 8 });
}

/// The traits example: a host with two NICs, one with SSL offload.
fn nic_world() -> World {
    let mut w = World::default();
    w.rp("CN1", None).rp("NIC1", Some("CN1")).rp("NIC2", Some("CN1"));
    w.inv("CN1", "VCPU", 8).inv("CN1", "MEMORY_MB", 1024).inv("CN1", "DISK_GB", 1000);
    w.inv("NIC1", "SRIOV_NET_VF", 8).inv("NIC2", "SRIOV_NET_VF", 8);
    w.traits("NIC1", &["HW_NIC_ACCEL_SSL"]);
    w.0.trait_names.insert("CUSTOM_NONE".into());
    w
}

#[test]
fn required_and_forbidden_traits() {
    let w = nic_world();
    let base = group(&[("VCPU", 1), ("SRIOV_NET_VF", 2)]);
    let mut g = base.clone();
    g.required = vec![BTreeSet::from(["HW_NIC_ACCEL_SSL".to_string()])];
    assert_eq!(shapes(&find(&w.0, &query(vec![("", g)]), true).unwrap()), vec![vec!["CN1:VCPU=1".to_string(), "NIC1:SRIOV_NET_VF=2".into()]]);
    let mut g = base.clone();
    g.forbidden = BTreeSet::from(["HW_NIC_ACCEL_SSL".to_string()]);
    assert_eq!(shapes(&find(&w.0, &query(vec![("", g)]), true).unwrap()), vec![vec!["CN1:VCPU=1".to_string(), "NIC2:SRIOV_NET_VF=2".into()]]);
    let mut g = base.clone();
    g.required = vec![BTreeSet::from(["HW_NIC_ACCEL_SSL".to_string(), "CUSTOM_NONE".to_string()])];
    assert_eq!(find(&w.0, &query(vec![("", g)]), true).unwrap().allocation_requests.len(), 1, "any-of traits");
    assert_eq!(find(&w.0, &query(vec![("", base)]), true).unwrap().allocation_requests.len(), 2);
    let mut g = group(&[("VCPU", 1)]);
    g.required = vec![BTreeSet::from(["CUSTOM_MISSING".to_string()])];
    assert!(find(&w.0, &query(vec![("", g)]), true).is_err(), "unknown traits are a 400");
}

#[test]
fn granular_groups_with_isolate_and_none() {
    let w = nic_world();
    let mut ssl = group(&[("SRIOV_NET_VF", 1)]);
    ssl.required = vec![BTreeSet::from(["HW_NIC_ACCEL_SSL".to_string()])];
    let mut q = query(vec![("", group(&[("VCPU", 1)])), ("1", ssl), ("2", group(&[("SRIOV_NET_VF", 1)]))]);
    q.group_policy = Some(GroupPolicy::Isolate);
    let c = find(&w.0, &q, true).unwrap();
    assert_eq!(shapes(&c), vec![vec!["CN1:VCPU=1".to_string(), "NIC1:SRIOV_NET_VF=1".into(), "NIC2:SRIOV_NET_VF=1".into()]]);
    let r = &c.allocation_requests[0];
    assert_eq!(r.mappings["1"], vec!["NIC1".to_string()]);
    assert_eq!(r.mappings["2"], vec!["NIC2".to_string()]);
    assert_eq!(r.mappings[""], vec!["CN1".to_string()]);
    q.group_policy = Some(GroupPolicy::None);
    let c = find(&w.0, &q, true).unwrap();
    assert_eq!(shapes(&c), vec![
        vec!["CN1:VCPU=1".to_string(), "NIC1:SRIOV_NET_VF=1".into(), "NIC2:SRIOV_NET_VF=1".into()],
        vec!["CN1:VCPU=1".to_string(), "NIC1:SRIOV_NET_VF=2".into()],
    ]);
}

#[test]
fn groups_landing_on_one_provider_must_fit_together() {
    let mut w = World::default();
    w.rp("CN", None).inv("CN", "VCPU", 4);
    let mut q = query(vec![("1", group(&[("VCPU", 3)])), ("2", group(&[("VCPU", 2)]))]);
    q.group_policy = Some(GroupPolicy::None);
    assert!(find(&w.0, &q, true).unwrap().allocation_requests.is_empty());
    q.groups.get_mut("2").unwrap().resources.insert("VCPU".into(), 1);
    assert_eq!(shapes(&find(&w.0, &q, true).unwrap()), vec![vec!["CN:VCPU=4".to_string()]]);
}

#[test]
fn root_required_and_same_subtree() {
    let mut w = nic_world();
    w.rp("CN2", None).inv("CN2", "VCPU", 8).traits("CN2", &["COMPUTE_STATUS_DISABLED"]);
    let mut q = query(vec![("", group(&[("VCPU", 1)]))]);
    q.root_forbidden = BTreeSet::from(["COMPUTE_STATUS_DISABLED".to_string()]);
    assert_eq!(shapes(&find(&w.0, &q, true).unwrap()), vec![vec!["CN1:VCPU=1".to_string()]]);

    let mut w = World::default();
    w.rp("H", None).rp("NUMA0", Some("H")).rp("NUMA1", Some("H")).rp("PF0", Some("NUMA0")).rp("PF1", Some("NUMA1"));
    w.inv("NUMA0", "VCPU", 4).inv("NUMA1", "VCPU", 4).inv("PF0", "SRIOV_NET_VF", 4).inv("PF1", "SRIOV_NET_VF", 4);
    let mut q = query(vec![("_CPU", group(&[("VCPU", 1)])), ("_NIC", group(&[("SRIOV_NET_VF", 1)]))]);
    q.group_policy = Some(GroupPolicy::None);
    assert_eq!(find(&w.0, &q, true).unwrap().allocation_requests.len(), 4);
    q.same_subtree = vec![BTreeSet::from(["_CPU".to_string(), "_NIC".to_string()])];
    let c = find(&w.0, &q, true).unwrap();
    assert_eq!(shapes(&c), vec![
        vec!["NUMA0:VCPU=1".to_string(), "PF0:SRIOV_NET_VF=1".into()],
        vec!["NUMA1:VCPU=1".to_string(), "PF1:SRIOV_NET_VF=1".into()],
    ]);
}

#[test]
fn advance_visits_every_combination() {
    let mut pick = vec![0, 0];
    let mut n = 1;
    while advance(&mut pick, &[2, 3]) {
        n += 1;
    }
    assert_eq!(n, 6);
}
