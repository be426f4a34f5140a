use super::*;
use crate::allocation::{AllocationRequest, ProviderAllocation};
use crate::host_state::Aggregate;
use crate::request_spec::{GroupPolicy, RetryInfo, ServerGroup, TriedHost};
use crate::testing::{host, spec};
use async_trait::async_trait;
use monostack_common::config::FilterSchedulerSection;
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};

fn scheduler_with(edit: impl FnOnce(&mut SchedulerConfig)) -> FilterScheduler {
    let mut config = SchedulerConfig::default();
    edit(&mut config);
    FilterScheduler::new(&config).unwrap()
}

fn default_scheduler() -> FilterScheduler {
    scheduler_with(|_| {})
}

fn uuids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("inst-{i}")).collect()
}

fn chosen_hosts(selections: &[Selection]) -> Vec<String> {
    selections.iter().map(|s| s.chosen.host.clone()).collect()
}

fn count(hosts: &[String], name: &str) -> usize {
    hosts.iter().filter(|h| *h == name).count()
}

#[test]
fn default_configuration_is_the_mission_notes_filter_list() {
    let s = default_scheduler();
    assert_eq!(
        s.filter_names(),
        vec![
            "RetryFilter",
            "AvailabilityZoneFilter",
            "RamFilter",
            "DiskFilter",
            "ComputeFilter",
            "ComputeCapabilitiesFilter",
            "ImagePropertiesFilter",
            "ServerGroupAntiAffinityFilter",
            "ServerGroupAffinityFilter",
        ]
    );
    assert_eq!(s.weigher_names().len(), 5);
    assert_eq!(s.max_attempts(), 3);
}

#[test]
fn unknown_filter_or_weigher_names_are_startup_errors() {
    let mut config = SchedulerConfig::default();
    config
        .filter_scheduler
        .enabled_filters
        .push("RamFiltr".into());
    let err = FilterScheduler::new(&config).unwrap_err();
    assert!(
        err.to_string().contains("unknown filter \"RamFiltr\""),
        "{err}"
    );
    assert!(err.to_string().contains("CoreFilter"));

    let mut config = SchedulerConfig::default();
    config.filter_scheduler.weight_classes = vec!["IoOpsWeigher".into()];
    assert!(matches!(
        FilterScheduler::new(&config),
        Err(ConfigError::UnknownWeigher { .. })
    ));

    let mut config = SchedulerConfig::default();
    config.filter_scheduler.host_subset_size = 0;
    assert!(matches!(
        FilterScheduler::new(&config),
        Err(ConfigError::Invalid { .. })
    ));
}

#[test]
fn most_free_ram_wins() {
    let mut controller = host("devstack-controller", 16_000, 100, 8);
    controller.free_ram_mb = 7466;
    let mut compute1 = host("devstack-compute1", 16_000, 100, 8);
    compute1.free_ram_mb = 3434;
    let result = default_scheduler()
        .select_destinations(&spec(64, 1, 1), vec![compute1, controller])
        .unwrap();
    assert_eq!(result.len(), 1);
    assert_eq!(result[0].chosen.host, "devstack-controller");
    assert_eq!(result[0].alternates.len(), 1);
    assert_eq!(result[0].alternates[0].host, "devstack-compute1");
    assert_eq!(
        result[0].chosen.compute_node_uuid,
        "devstack-controller-uuid"
    );
}

#[test]
fn twenty_instances_spread_evenly_by_default() {
    let hosts = vec![
        host("a", 8192, 100, 8),
        host("b", 8192, 100, 8),
        host("c", 8192, 100, 8),
        host("d", 8192, 100, 8),
    ];
    let mut s = spec(512, 1, 1);
    s.instance_uuids = uuids(20);
    let result = default_scheduler().select_destinations(&s, hosts).unwrap();
    let chosen = chosen_hosts(&result);
    for name in ["a", "b", "c", "d"] {
        assert_eq!(count(&chosen, name), 5, "{chosen:?}");
    }
    assert_eq!(result[3].instance_uuid.as_deref(), Some("inst-3"));
}

#[test]
fn negative_multipliers_stack_instances() {
    let scheduler = scheduler_with(|c| {
        c.filter_scheduler.ram_weight_multiplier = -1.0;
        c.filter_scheduler.cpu_weight_multiplier = -1.0;
        c.filter_scheduler.disk_weight_multiplier = -1.0;
    });
    let mut hosts = vec![host("a", 8192, 100, 8), host("b", 8192, 100, 8)];
    hosts[1].free_ram_mb = 8000;
    hosts[1].free_disk_mb = 100 * 1024 - 1024;
    hosts[1].vcpus_used = 1;
    let mut s = spec(512, 1, 1);
    s.instance_uuids = uuids(20);
    let chosen = chosen_hosts(&scheduler.select_destinations(&s, hosts).unwrap());
    // b is the fuller host and has room for all 20 (8192 × 1.5 MB), so it takes them all.
    assert_eq!(count(&chosen, "b"), 20, "{chosen:?}");
}

#[test]
fn stacking_spills_over_when_the_first_host_is_full() {
    let scheduler = scheduler_with(|c| c.filter_scheduler.ram_weight_multiplier = -1.0);
    let mut hosts = vec![host("a", 2048, 100, 8), host("b", 2048, 100, 8)];
    for h in &mut hosts {
        h.ram_allocation_ratio = 1.0;
    }
    hosts[0].free_ram_mb = 1024;
    let mut s = spec(512, 1, 1);
    s.instance_uuids = uuids(6);
    let chosen = chosen_hosts(&scheduler.select_destinations(&s, hosts).unwrap());
    assert_eq!(chosen, vec!["a", "a", "b", "b", "b", "b"]);
}

#[test]
fn consumed_resources_limit_a_multi_create() {
    let mut hosts = vec![host("a", 2048, 100, 8), host("b", 1024, 100, 8)];
    for h in &mut hosts {
        h.ram_allocation_ratio = 1.0;
    }
    let mut s = spec(1024, 1, 1);
    s.instance_uuids = uuids(3);
    let chosen = chosen_hosts(
        &default_scheduler()
            .select_destinations(&s, hosts.clone())
            .unwrap(),
    );
    assert_eq!(count(&chosen, "a"), 2);
    assert_eq!(count(&chosen, "b"), 1);

    s.instance_uuids = uuids(4);
    let err = default_scheduler()
        .select_destinations(&s, hosts)
        .unwrap_err();
    assert_eq!(err.placed, 3);
    assert_eq!(err.requested, 4);
    assert_eq!(err.eliminated_by(), Some("RamFilter"));
    assert_eq!(
        err.to_string(),
        "No valid host was found. There are not enough hosts available."
    );
}

#[test]
fn anonymous_instances_use_num_instances() {
    let mut s = spec(512, 1, 1);
    s.num_instances = 3;
    let result = default_scheduler()
        .select_destinations(&s, vec![host("a", 8192, 100, 8)])
        .unwrap();
    assert_eq!(result.len(), 3);
    assert!(result.iter().all(|r| r.instance_uuid.is_none()));
}

fn group(policy: GroupPolicy, max: Option<u32>) -> ServerGroup {
    ServerGroup {
        uuid: "g".into(),
        policy,
        max_server_per_host: max,
        hosts: vec![],
        members: vec![],
    }
}

#[test]
fn anti_affinity_spreads_one_per_host_within_a_request() {
    let hosts = vec![
        host("a", 8192, 100, 8),
        host("b", 8192, 100, 8),
        host("c", 8192, 100, 8),
    ];
    let mut s = spec(512, 1, 1);
    s.instance_uuids = uuids(3);
    s.instance_group = Some(group(GroupPolicy::AntiAffinity, None));
    let chosen: BTreeSet<String> = chosen_hosts(
        &default_scheduler()
            .select_destinations(&s, hosts.clone())
            .unwrap(),
    )
    .into_iter()
    .collect();
    assert_eq!(chosen.len(), 3);

    s.instance_uuids = uuids(4);
    let err = default_scheduler()
        .select_destinations(&s, hosts)
        .unwrap_err();
    assert_eq!(err.placed, 3);
    assert_eq!(err.eliminated_by(), Some("ServerGroupAntiAffinityFilter"));
}

#[test]
fn anti_affinity_respects_max_server_per_host() {
    let hosts = vec![host("a", 8192, 100, 8), host("b", 8192, 100, 8)];
    let mut s = spec(512, 1, 1);
    s.instance_uuids = uuids(4);
    s.instance_group = Some(group(GroupPolicy::AntiAffinity, Some(2)));
    let chosen = chosen_hosts(
        &default_scheduler()
            .select_destinations(&s, hosts.clone())
            .unwrap(),
    );
    assert_eq!((count(&chosen, "a"), count(&chosen, "b")), (2, 2));
    s.instance_uuids = uuids(5);
    assert!(default_scheduler().select_destinations(&s, hosts).is_err());
}

#[test]
fn anti_affinity_counts_existing_members() {
    let mut hosts = vec![host("a", 8192, 100, 8), host("b", 8192, 100, 8)];
    hosts[0].instances.insert("old".into());
    hosts[0].free_ram_mb = 8192;
    hosts[1].free_ram_mb = 100;
    let mut s = spec(64, 1, 1);
    s.instance_uuids = uuids(1);
    let mut g = group(GroupPolicy::AntiAffinity, None);
    g.members = vec!["old".into(), "inst-0".into()];
    g.hosts = vec!["a".into()];
    s.instance_group = Some(g);
    let result = default_scheduler().select_destinations(&s, hosts).unwrap();
    assert_eq!(result[0].chosen.host, "b");
}

#[test]
fn affinity_keeps_every_instance_on_the_first_host() {
    let hosts = vec![
        host("a", 8192, 100, 8),
        host("b", 8192, 100, 8),
        host("c", 8192, 100, 8),
    ];
    let mut s = spec(512, 1, 1);
    s.instance_uuids = uuids(5);
    s.instance_group = Some(group(GroupPolicy::Affinity, None));
    let result = default_scheduler().select_destinations(&s, hosts).unwrap();
    let chosen: BTreeSet<String> = chosen_hosts(&result).into_iter().collect();
    assert_eq!(chosen.len(), 1);
    assert!(result.iter().all(|r| r.alternates.is_empty()));
}

#[test]
fn affinity_with_an_existing_member_follows_it() {
    let hosts = vec![host("a", 8192, 100, 8), host("b", 1024, 100, 8)];
    let mut s = spec(512, 1, 1);
    s.instance_uuids = uuids(2);
    let mut g = group(GroupPolicy::Affinity, None);
    g.hosts = vec!["b".into()];
    s.instance_group = Some(g);
    assert_eq!(
        chosen_hosts(&default_scheduler().select_destinations(&s, hosts).unwrap()),
        vec!["b", "b"]
    );
}

#[test]
fn soft_affinity_prefers_but_does_not_require_the_same_host() {
    let scheduler = scheduler_with(|c| c.filter_scheduler.soft_affinity_weight_multiplier = 10.0);
    let mut hosts = vec![host("a", 8192, 100, 8), host("b", 8192, 100, 8)];
    hosts[0].ram_allocation_ratio = 1.0;
    let mut s = spec(2048, 1, 1);
    s.instance_uuids = uuids(6);
    s.instance_group = Some(group(GroupPolicy::SoftAffinity, None));
    let chosen = chosen_hosts(&scheduler.select_destinations(&s, hosts).unwrap());
    // The first lands on a (tie, first listed); a then fills up (4 × 2048), the rest go to b.
    assert_eq!(chosen, vec!["a", "a", "a", "a", "b", "b"]);
}

#[test]
fn soft_anti_affinity_spreads_group_members() {
    let scheduler = scheduler_with(|c| {
        c.filter_scheduler.ram_weight_multiplier = -1.0;
        c.filter_scheduler.soft_anti_affinity_weight_multiplier = 100.0;
    });
    let hosts = vec![
        host("a", 8192, 100, 8),
        host("b", 8192, 100, 8),
        host("c", 8192, 100, 8),
    ];
    let mut s = spec(256, 1, 1);
    s.instance_uuids = uuids(6);
    s.instance_group = Some(group(GroupPolicy::SoftAntiAffinity, None));
    let chosen = chosen_hosts(&scheduler.select_destinations(&s, hosts).unwrap());
    for name in ["a", "b", "c"] {
        assert_eq!(count(&chosen, name), 2, "{chosen:?}");
    }
}

#[test]
fn retry_skips_hosts_already_tried() {
    let hosts = vec![host("a", 8192, 100, 8), host("b", 4096, 100, 8)];
    let mut s = spec(512, 1, 1);
    s.retry = Some(RetryInfo {
        num_attempts: 1,
        hosts: vec![TriedHost {
            host: "a".into(),
            nodename: "a-node".into(),
        }],
    });
    let result = default_scheduler()
        .select_destinations(&s, hosts.clone())
        .unwrap();
    assert_eq!(result[0].chosen.host, "b");
    s.retry.as_mut().unwrap().hosts.push(TriedHost {
        host: "b".into(),
        nodename: "b-node".into(),
    });
    let err = default_scheduler()
        .select_destinations(&s, hosts)
        .unwrap_err();
    assert_eq!(err.eliminated_by(), Some("RetryFilter"));
}

#[test]
fn alternates_are_capped_by_max_attempts_and_exclude_chosen_hosts() {
    let hosts: Vec<HostState> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|n| host(n, 8192, 100, 8))
        .collect();
    let mut s = spec(512, 1, 1);
    s.instance_uuids = uuids(2);
    let result = default_scheduler()
        .select_destinations(&s, hosts.clone())
        .unwrap();
    let chosen: Vec<String> = chosen_hosts(&result);
    for selection in &result {
        assert_eq!(selection.alternates.len(), 2);
        assert!(selection
            .alternates
            .iter()
            .all(|a| !chosen.contains(&a.host)));
    }
    let single = scheduler_with(|c| c.max_attempts = 1)
        .select_destinations(&s, hosts)
        .unwrap();
    assert!(single.iter().all(|r| r.alternates.is_empty()));
}

#[test]
fn no_hosts_at_all_is_no_valid_host() {
    let err = default_scheduler()
        .select_destinations(&spec(1, 1, 1), vec![])
        .unwrap_err();
    assert_eq!(err.placed, 0);
    assert_eq!(err.requested, 1);
}

#[test]
fn disabled_and_down_hosts_are_never_chosen() {
    let mut hosts = vec![host("a", 8192, 100, 8), host("b", 1024, 100, 8)];
    hosts[0].service.disabled = true;
    let result = default_scheduler()
        .select_destinations(&spec(64, 1, 1), hosts.clone())
        .unwrap();
    assert_eq!(result[0].chosen.host, "b");
    hosts[1].service.up = false;
    let err = default_scheduler()
        .select_destinations(&spec(64, 1, 1), hosts)
        .unwrap_err();
    assert_eq!(err.eliminated_by(), Some("ComputeFilter"));
}

#[test]
fn availability_zone_and_capabilities_narrow_the_choice() {
    let mut hosts = vec![host("a", 8192, 100, 8), host("b", 1024, 100, 8)];
    hosts[1].aggregates.push(Aggregate {
        id: 1,
        name: "az1".into(),
        metadata: BTreeMap::from([("availability_zone".into(), "az1".into())]),
    });
    let mut s = spec(64, 1, 1);
    s.availability_zone = Some("az1".into());
    assert_eq!(
        default_scheduler()
            .select_destinations(&s, hosts.clone())
            .unwrap()[0]
            .chosen
            .host,
        "b"
    );
    s.availability_zone = Some("nova".into());
    assert_eq!(
        default_scheduler()
            .select_destinations(&s, hosts.clone())
            .unwrap()[0]
            .chosen
            .host,
        "a"
    );
    s.flavor
        .extra_specs
        .insert("capabilities:hypervisor_type".into(), "kvm".into());
    let err = default_scheduler()
        .select_destinations(&s, hosts)
        .unwrap_err();
    assert_eq!(err.eliminated_by(), Some("ComputeCapabilitiesFilter"));
}

#[test]
fn forced_hosts_skip_the_filters() {
    let mut hosts = vec![host("a", 8192, 100, 8), host("b", 1024, 100, 8)];
    hosts[1].service.disabled = true;
    let mut s = spec(64, 1, 1);
    s.force_hosts = vec!["b".into()];
    let result = default_scheduler().select_destinations(&s, hosts).unwrap();
    assert_eq!(result[0].chosen.host, "b");
    assert!(result[0].alternates.is_empty());
}

#[test]
fn host_subset_size_picks_among_the_best() {
    use rand::rngs::StdRng;
    let scheduler = scheduler_with(|c| c.filter_scheduler.host_subset_size = 2);
    let mut hosts = vec![
        host("a", 8192, 100, 8),
        host("b", 8000, 100, 8),
        host("c", 1024, 100, 8),
    ];
    hosts[2].free_ram_mb = 10;
    let mut seen = BTreeSet::new();
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..50 {
        let result = scheduler
            .select_destinations_with_rng(&spec(64, 1, 1), hosts.clone(), &mut rng)
            .unwrap();
        seen.insert(result[0].chosen.host.clone());
    }
    assert_eq!(seen, BTreeSet::from(["a".to_string(), "b".to_string()]));
}

#[test]
fn shuffle_spreads_choices_among_equal_best_hosts() {
    use rand::rngs::StdRng;
    let scheduler = scheduler_with(|c| c.filter_scheduler.shuffle_best_same_weighed_hosts = true);
    let hosts = vec![
        host("a", 8192, 100, 8),
        host("b", 8192, 100, 8),
        host("c", 1024, 100, 8),
    ];
    let mut seen = BTreeSet::new();
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..50 {
        let result = scheduler
            .select_destinations_with_rng(&spec(64, 1, 1), hosts.clone(), &mut rng)
            .unwrap();
        seen.insert(result[0].chosen.host.clone());
    }
    assert_eq!(seen, BTreeSet::from(["a".to_string(), "b".to_string()]));
}

#[test]
fn filter_config_options_reach_the_filters() {
    let section = FilterSchedulerSection {
        enabled_filters: vec!["NumInstancesFilter".into()],
        max_instances_per_host: 2,
        ..Default::default()
    };
    let scheduler = FilterScheduler::new(&SchedulerConfig {
        max_attempts: 3,
        filter_scheduler: section,
    })
    .unwrap();
    let mut s = spec(64, 1, 1);
    s.instance_uuids = uuids(3);
    let err = scheduler
        .select_destinations(&s, vec![host("a", 8192, 100, 8)])
        .unwrap_err();
    assert_eq!(err.placed, 2);
}

// ---- placement claims ----

fn request_for(provider: &str) -> AllocationRequest {
    AllocationRequest {
        allocations: BTreeMap::from([(
            provider.to_string(),
            ProviderAllocation {
                resources: BTreeMap::from([("MEMORY_MB".to_string(), 512)]),
            },
        )]),
        mappings: BTreeMap::new(),
    }
}

fn with_candidates(mut h: HostState) -> HostState {
    h.allocation_candidates = Some(vec![request_for(&h.uuid)]);
    h
}

/// Records claims; refuses those on the listed providers.
#[derive(Default)]
struct RecordingClaimer {
    refuse: Vec<String>,
    claims: Mutex<Vec<(String, String)>>,
    released: Mutex<Vec<String>>,
}

#[async_trait]
impl AllocationClaimer for RecordingClaimer {
    async fn claim(&self, instance_uuid: &str, request: &AllocationRequest) -> bool {
        let provider = request
            .allocations
            .keys()
            .next()
            .cloned()
            .unwrap_or_default();
        if self.refuse.contains(&provider) {
            return false;
        }
        self.claims
            .lock()
            .push((instance_uuid.to_string(), provider));
        true
    }

    async fn release(&self, instance_uuid: &str) {
        self.released.lock().push(instance_uuid.to_string());
    }
}

#[tokio::test]
async fn claims_go_to_the_chosen_hosts_and_alternates_carry_candidates() {
    let hosts = vec![
        with_candidates(host("a", 8192, 100, 8)),
        with_candidates(host("b", 4096, 100, 8)),
    ];
    let mut s = spec(512, 1, 1);
    s.instance_uuids = uuids(1);
    let claimer = RecordingClaimer::default();
    let result = default_scheduler()
        .select_and_claim(&s, hosts, &claimer)
        .await
        .unwrap();
    assert_eq!(
        *claimer.claims.lock(),
        vec![("inst-0".to_string(), "a-uuid".to_string())]
    );
    assert_eq!(
        result[0].chosen.allocation_request,
        Some(request_for("a-uuid"))
    );
    assert_eq!(
        result[0].alternates[0].allocation_request,
        Some(request_for("b-uuid"))
    );
}

#[tokio::test]
async fn a_refused_claim_moves_to_the_next_host() {
    let hosts = vec![
        with_candidates(host("a", 8192, 100, 8)),
        with_candidates(host("b", 4096, 100, 8)),
    ];
    let mut s = spec(512, 1, 1);
    s.instance_uuids = uuids(1);
    let claimer = RecordingClaimer {
        refuse: vec!["a-uuid".into()],
        ..Default::default()
    };
    let result = default_scheduler()
        .select_and_claim(&s, hosts, &claimer)
        .await
        .unwrap();
    assert_eq!(result[0].chosen.host, "b");
}

#[tokio::test]
async fn hosts_without_candidates_are_skipped() {
    let mut bare = host("a", 8192, 100, 8);
    bare.allocation_candidates = Some(vec![]);
    let hosts = vec![bare, with_candidates(host("b", 4096, 100, 8))];
    let mut s = spec(512, 1, 1);
    s.instance_uuids = uuids(1);
    let result = default_scheduler()
        .select_and_claim(&s, hosts, &RecordingClaimer::default())
        .await
        .unwrap();
    assert_eq!(result[0].chosen.host, "b");
    assert!(result[0].alternates.is_empty());
}

#[tokio::test]
async fn a_partial_multi_create_releases_its_claims() {
    let mut hosts = vec![with_candidates(host("a", 1024, 100, 8))];
    hosts[0].ram_allocation_ratio = 1.0;
    let mut s = spec(512, 1, 1);
    s.instance_uuids = uuids(3);
    let claimer = RecordingClaimer::default();
    let err = default_scheduler()
        .select_and_claim(&s, hosts, &claimer)
        .await
        .unwrap_err();
    assert_eq!(err.placed, 2);
    assert_eq!(
        *claimer.released.lock(),
        vec!["inst-0".to_string(), "inst-1".to_string()]
    );
}

#[tokio::test]
async fn every_claim_refused_is_no_valid_host_without_filter_blame() {
    let hosts = vec![with_candidates(host("a", 8192, 100, 8))];
    let mut s = spec(512, 1, 1);
    s.instance_uuids = uuids(1);
    let claimer = RecordingClaimer {
        refuse: vec!["a-uuid".into()],
        ..Default::default()
    };
    let err = default_scheduler()
        .select_and_claim(&s, hosts, &claimer)
        .await
        .unwrap_err();
    assert_eq!(err.eliminated_by(), None);
    assert!(claimer.released.lock().is_empty());
}

#[tokio::test]
async fn without_candidates_or_uuids_nothing_is_claimed() {
    let claimer = RecordingClaimer::default();
    let mut s = spec(512, 1, 1);
    s.instance_uuids = uuids(1);
    let result = default_scheduler()
        .select_and_claim(&s, vec![host("a", 8192, 100, 8)], &claimer)
        .await
        .unwrap();
    assert_eq!(result[0].chosen.allocation_request, None);
    assert!(claimer.claims.lock().is_empty());
}

#[test]
fn select_and_claim_is_send() {
    fn assert_send<T: Send>(_: T) {}
    let scheduler = default_scheduler();
    let claimer = RecordingClaimer::default();
    let s = spec(1, 1, 1);
    assert_send(scheduler.select_and_claim(&s, vec![], &claimer));
}
