//! The scheduler's DEBUG log, captured with a scoped subscriber.
//!
//! This lives in its own test binary on purpose: tracing caches each callsite's interest
//! process-wide, and a unit test running on another thread can register a callsite as
//! "never" at the moment this test installs its subscriber, silently dropping lines.

use monostack_scheduler::{
    FilterScheduler, Flavor, HostState, RequestSpec, SchedulerConfig, SupportedInstance,
};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn host(name: &str, ram_mb: i64, free_ram_mb: i64) -> HostState {
    let mut h = HostState::new(name, &format!("{name}-node"), &format!("{name}-uuid"));
    h.total_usable_ram_mb = ram_mb;
    h.free_ram_mb = free_ram_mb;
    h.total_usable_disk_gb = 100;
    h.free_disk_mb = 100 * 1024;
    h.vcpus_total = 8;
    h.hypervisor_type = "qemu".into();
    h.hypervisor_version = 6_002_000;
    h.supported_instances = vec![SupportedInstance::new("x86_64", "qemu", "hvm")];
    h
}

fn spec(ram_mb: u64) -> RequestSpec {
    let flavor = Flavor {
        name: "test".into(),
        vcpus: 1,
        memory_mb: ram_mb,
        root_gb: 1,
        ..Flavor::default()
    };
    let mut s = RequestSpec::new(flavor, 1);
    s.project_id = "project-1".into();
    s.user_id = "user-1".into();
    s
}

#[test]
fn debug_log_tells_the_story_of_a_decision() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let hosts = vec![
        host("devstack-controller", 16_000, 7466),
        host("devstack-compute1", 16_000, 3434),
        host("small", 64, 64),
    ];
    let scheduler = FilterScheduler::new(&SchedulerConfig::default()).unwrap();
    tracing::subscriber::with_default(subscriber, || {
        scheduler.select_destinations(&spec(512), hosts).unwrap();
    });
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("Starting with 3 host(s)"), "{log}");
    assert!(
        log.contains("Filter RamFilter removed host(s): (small, small-node)"),
        "{log}"
    );
    assert!(log.contains("Filter RamFilter returned 2 host(s)"), "{log}");
    assert!(
        log.contains("Filter ServerGroupAffinityFilter returned 2 host(s)"),
        "{log}"
    );
    assert!(
        log.contains("Weighed [(devstack-controller, devstack-controller-node): "),
        "{log}"
    );
    assert!(
        log.contains("Selected host: (devstack-controller, devstack-controller-node)"),
        "{log}"
    );
}
