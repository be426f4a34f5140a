use super::*;
use futures::StreamExt;
use std::sync::Arc;

fn driver(nodes: u32) -> FakeDriver {
    FakeDriver::new(FakeDriverConfig::with_nodes(nodes))
}

fn flavor(root_gb: u64) -> FlavorInfo {
    FlavorInfo { name: "m1.small".into(), vcpus: 2, memory_mb: 2048, root_gb, ..Default::default() }
}

fn instance(n: u64, node: &str) -> InstanceRef {
    InstanceRef {
        uuid: format!("uuid-{n}"),
        name: instance_name(n),
        display_name: format!("vm{n}"),
        host: "compute1".into(),
        node: node.into(),
        flavor: flavor(20),
        image_ref: Some("cirros".into()),
        ..Default::default()
    }
}

fn boot() -> SpawnRequest {
    SpawnRequest { power_on: true, ..Default::default() }
}

async fn state(d: &FakeDriver, i: &InstanceRef) -> PowerState {
    d.get_info(i).await.unwrap().state
}

fn migration(source: &str, dest: &str) -> MigrationInfo {
    MigrationInfo {
        uuid: "mig-1".into(),
        kind: MigrationKind::Resize,
        source_compute: "compute1".into(),
        source_node: source.into(),
        dest_compute: "compute1".into(),
        dest_node: dest.into(),
    }
}

#[derive(Default)]
struct Recorder(parking_lot::Mutex<Vec<(SpawnStep, u8)>>);

impl SpawnProgress for Recorder {
    fn step(&self, step: SpawnStep, percent: u8) {
        self.0.lock().push((step, percent));
    }
}

#[tokio::test]
async fn spawn_reports_progress_and_the_guest_runs() {
    let d = driver(1);
    let vm = instance(1, "fake-1");
    let progress = Recorder::default();
    d.spawn(&vm, &boot(), &progress).await.unwrap();
    assert_eq!(state(&d, &vm).await, PowerState::Running);
    let steps = progress.0.lock().clone();
    assert_eq!(steps.first(), Some(&(SpawnStep::PreparingImage, 20)));
    assert_eq!(steps.last(), Some(&(SpawnStep::Done, 100)));
    assert_eq!(d.list_instances().await.unwrap(), vec!["instance-00000001"]);
    assert_eq!(d.list_instance_uuids().await.unwrap(), vec!["uuid-1"]);
    assert!(d.get_console_output(&vm).await.unwrap().contains("vm1 login:"));
}

#[tokio::test]
async fn spawn_refuses_unknown_nodes_and_duplicates() {
    let d = driver(2);
    assert!(matches!(
        d.spawn(&instance(1, "fake-9"), &boot(), &NoProgress).await,
        Err(VirtError::NodeNotFound { .. })
    ));
    d.spawn(&instance(1, "fake-1"), &boot(), &NoProgress).await.unwrap();
    assert!(matches!(
        d.spawn(&instance(1, "fake-1"), &boot(), &NoProgress).await,
        Err(VirtError::InstanceExists { .. })
    ));
    d.spawn(&instance(2, "fake-2"), &SpawnRequest::default(), &NoProgress).await.unwrap();
    assert_eq!(state(&d, &instance(2, "fake-2")).await, PowerState::Shutdown);
}

#[tokio::test]
async fn resources_count_the_guests_of_each_node() {
    let d = driver(2);
    assert_eq!(d.get_available_nodes().await.unwrap(), vec!["fake-1", "fake-2"]);
    d.spawn(&instance(1, "fake-1"), &boot(), &NoProgress).await.unwrap();
    d.spawn(&instance(2, "fake-1"), &boot(), &NoProgress).await.unwrap();
    let r1 = d.get_available_resource("fake-1").await.unwrap();
    assert_eq!((r1.vcpus_used, r1.memory_mb_used, r1.local_gb_used), (4, 4096, 40));
    assert_eq!(r1.hypervisor_hostname, "fake-1");
    assert_eq!(r1.disk_available_least, 1000 - 40);
    let r2 = d.get_available_resource("fake-2").await.unwrap();
    assert_eq!(r2.vcpus_used, 0);
    assert_eq!(r2.supported_instances[0].hv_type, "fake");
    assert!(matches!(d.get_available_resource("nope").await, Err(VirtError::NodeNotFound { .. })));
}

#[tokio::test]
async fn power_operations_follow_the_state_machine() {
    let d = driver(1);
    let vm = instance(1, "fake-1");
    d.spawn(&vm, &boot(), &NoProgress).await.unwrap();
    let none = BlockDeviceInfo::default();
    d.power_off(&vm, Duration::from_secs(60), Duration::from_secs(10)).await.unwrap();
    assert_eq!(state(&d, &vm).await, PowerState::Shutdown);
    assert!(matches!(d.pause(&vm).await, Err(VirtError::InvalidPowerState { .. })));
    d.power_on(&vm, &[], &none).await.unwrap();
    d.pause(&vm).await.unwrap();
    assert_eq!(state(&d, &vm).await, PowerState::Paused);
    d.unpause(&vm).await.unwrap();
    d.suspend(&vm).await.unwrap();
    assert_eq!(state(&d, &vm).await, PowerState::Shutdown);
    d.resume(&vm, &[], &none).await.unwrap();
    assert_eq!(state(&d, &vm).await, PowerState::Running);
    d.reboot(&vm, &[], RebootType::Hard, &none).await.unwrap();
    d.rescue(&vm, &RescueRequest::default()).await.unwrap();
    assert!(d.instance("uuid-1", "fake-1").unwrap().rescued);
    d.unrescue(&vm).await.unwrap();
    assert!(matches!(d.unrescue(&vm).await, Err(VirtError::InstanceNotInRescueMode { .. })));
}

#[tokio::test]
async fn operations_on_missing_guests_are_instance_not_found_but_destroy_is_idempotent() {
    let d = driver(1);
    let vm = instance(1, "fake-1");
    assert!(matches!(d.get_info(&vm).await, Err(VirtError::InstanceNotFound { .. })));
    assert!(!d.instance_exists(&vm).await.unwrap());
    assert!(matches!(
        d.power_on(&vm, &[], &BlockDeviceInfo::default()).await,
        Err(VirtError::InstanceNotFound { .. })
    ));
    d.destroy(&vm, &[], &BlockDeviceInfo::default(), true).await.unwrap();
    d.spawn(&vm, &boot(), &NoProgress).await.unwrap();
    assert!(d.instance_exists(&vm).await.unwrap());
    d.destroy(&vm, &[], &BlockDeviceInfo::default(), true).await.unwrap();
    assert!(d.list_instances().await.unwrap().is_empty());
}

#[tokio::test]
async fn configured_spawn_failures_hit_the_node_or_name() {
    let section = FakeDriverSection {
        node_count: 2,
        fail_spawn_on_nodes: vec!["fake-1".into()],
        fail_spawn_name_regex: Some("^doomed".into()),
        ..FakeDriverSection::default()
    };
    let d = FakeDriver::from_section(&section).unwrap();
    let err = d.spawn(&instance(1, "fake-1"), &boot(), &NoProgress).await.unwrap_err();
    assert!(matches!(err, VirtError::InstanceDeployFailure { .. }), "{err}");
    assert!(d.instance("uuid-1", "fake-1").is_none(), "a failed spawn leaves nothing behind");
    // The reschedule to the other node succeeds.
    d.spawn(&instance(1, "fake-2"), &boot(), &NoProgress).await.unwrap();
    let mut doomed = instance(2, "fake-2");
    doomed.display_name = "doomed-vm".into();
    assert!(d.spawn(&doomed, &boot(), &NoProgress).await.is_err());
}

#[tokio::test]
async fn injected_faults_can_be_one_shot_and_cleared() {
    let d = driver(1);
    let vm = instance(1, "fake-1");
    d.spawn(&vm, &boot(), &NoProgress).await.unwrap();
    d.inject_fault(FaultRule::new(FakeOperation::PowerOff).for_instance("uuid-1").times(1));
    let err = d.power_off(&vm, Duration::ZERO, Duration::ZERO).await.unwrap_err();
    assert!(matches!(err, VirtError::InstancePowerOffFailure { .. }));
    assert_eq!(
        state(&d, &vm).await,
        PowerState::Running,
        "a failed power-off leaves the guest running"
    );
    d.power_off(&vm, Duration::ZERO, Duration::ZERO).await.unwrap();
    d.inject_fault(FaultRule::new(FakeOperation::PowerOn));
    assert!(d.power_on(&vm, &[], &BlockDeviceInfo::default()).await.is_err());
    d.clear_faults();
    d.power_on(&vm, &[], &BlockDeviceInfo::default()).await.unwrap();
}

#[tokio::test]
async fn simulated_delays_take_their_time() {
    let section = FakeDriverSection {
        spawn_delay_ms: 100,
        action_delay_ms: 40,
        ..FakeDriverSection::default()
    };
    let d = FakeDriver::from_section(&section).unwrap();
    let vm = instance(1, "fake-1");
    let start = std::time::Instant::now();
    d.spawn(&vm, &boot(), &NoProgress).await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(100));
    let start = std::time::Instant::now();
    d.pause(&vm).await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(40));
}

#[tokio::test]
async fn a_guest_deleted_during_its_build_fails_the_build() {
    let section = FakeDriverSection { spawn_delay_ms: 500, ..FakeDriverSection::default() };
    let d = Arc::new(FakeDriver::from_section(&section).unwrap());
    let vm = instance(1, "fake-1");
    let building = {
        let (d, vm) = (d.clone(), vm.clone());
        tokio::spawn(async move { d.spawn(&vm, &boot(), &NoProgress).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(state(&d, &vm).await, PowerState::NoState);
    d.destroy(&vm, &[], &BlockDeviceInfo::default(), true).await.unwrap();
    let result = building.await.unwrap();
    assert!(matches!(result, Err(VirtError::InstanceNotFound { .. })));
}

#[tokio::test]
async fn volumes_and_interfaces_are_recorded() {
    let d = driver(1);
    let vm = instance(1, "fake-1");
    let mut request = boot();
    request.network_info = vec![Vif { id: "port-1".into(), ..Default::default() }];
    d.spawn(&vm, &request, &NoProgress).await.unwrap();
    let vol = VolumeConnection {
        volume_id: "vol-1".into(),
        driver_volume_type: "local".into(),
        ..Default::default()
    };
    d.attach_volume(&vm, &vol, "/dev/vdb").await.unwrap();
    assert!(matches!(
        d.attach_volume(&vm, &vol, "/dev/vdb").await,
        Err(VirtError::VolumeAttachFailed { .. })
    ));
    d.extend_volume(&vm, &vol, 20).await.unwrap();
    let second = Vif { id: "port-2".into(), ..Default::default() };
    d.attach_interface(&vm, &ImageMeta::default(), &second).await.unwrap();
    let guest = d.instance("uuid-1", "fake-1").unwrap();
    assert_eq!(guest.volumes["/dev/vdb"].volume_id, "vol-1");
    assert_eq!(guest.interfaces.keys().cloned().collect::<Vec<_>>(), vec!["port-1", "port-2"]);
    d.detach_volume(&vm, &vol, "/dev/vdb").await.unwrap();
    assert!(matches!(
        d.detach_volume(&vm, &vol, "/dev/vdb").await,
        Err(VirtError::DiskNotFound { .. })
    ));
    d.detach_interface(&vm, &second).await.unwrap();
    assert!(d.instance("uuid-1", "fake-1").unwrap().volumes.is_empty());
}

#[tokio::test]
async fn snapshot_streams_deterministic_raw_data() {
    let d = driver(1);
    let vm = instance(1, "fake-1");
    d.spawn(&vm, &boot(), &NoProgress).await.unwrap();
    let image = d.snapshot(&vm, "snap-1").await.unwrap();
    assert_eq!((image.disk_format.as_str(), image.size), ("raw", Some(SNAPSHOT_SIZE as u64)));
    let chunks: Vec<bytes::Bytes> = image.data.map(|c| c.unwrap()).collect().await;
    let data: Vec<u8> = chunks.concat();
    assert_eq!(data, disk_bytes("uuid-1", Some("cirros")));
    assert!(matches!(
        d.snapshot(&instance(9, "fake-1"), "x").await,
        Err(VirtError::InstanceNotFound { .. })
    ));
}

#[tokio::test]
async fn consoles_need_a_running_guest() {
    let d = driver(1);
    let vm = instance(1, "fake-1");
    d.spawn(&vm, &boot(), &NoProgress).await.unwrap();
    let vnc = d.get_vnc_console(&vm).await.unwrap();
    let serial = d.get_serial_console(&vm).await.unwrap();
    assert_eq!((vnc.port, serial.port), (5900, 10000));
    d.power_off(&vm, Duration::ZERO, Duration::ZERO).await.unwrap();
    assert!(matches!(d.get_vnc_console(&vm).await, Err(VirtError::ConsoleTypeUnavailable { .. })));
    assert!(d.get_console_output(&vm).await.unwrap().contains("Power down"));
}

#[tokio::test]
async fn lifecycle_events_report_state_changes() {
    let d = driver(1);
    let mut events = d.lifecycle_events().unwrap();
    let vm = instance(1, "fake-1");
    d.spawn(&vm, &boot(), &NoProgress).await.unwrap();
    d.pause(&vm).await.unwrap();
    d.set_power_state("uuid-1", "fake-1", PowerState::Shutdown).unwrap();
    let seen: Vec<LifecycleTransition> =
        (0..3).map(|_| events.try_recv().map(|e| e.transition)).collect::<Result<_, _>>().unwrap();
    assert_eq!(
        seen,
        vec![
            LifecycleTransition::Started,
            LifecycleTransition::Paused,
            LifecycleTransition::Stopped
        ]
    );
    assert_eq!(state(&d, &vm).await, PowerState::Shutdown);
}

#[tokio::test]
async fn resize_to_another_node_then_confirm() {
    let d = driver(2);
    let vm = instance(1, "fake-1");
    d.spawn(&vm, &boot(), &NoProgress).await.unwrap();
    let mig = migration("fake-1", "fake-2");
    let shrink = MigrateDiskRequest {
        migration: mig.clone(),
        new_flavor: flavor(10),
        network_info: vec![],
        block_device_info: BlockDeviceInfo::default(),
        timeout: Duration::ZERO,
        retry_interval: Duration::ZERO,
    };
    assert!(matches!(
        d.migrate_disk_and_power_off(&vm, &shrink).await,
        Err(VirtError::ResizeError { .. })
    ));
    let grow = MigrateDiskRequest { new_flavor: flavor(40), ..shrink };
    d.migrate_disk_and_power_off(&vm, &grow).await.unwrap();
    assert_eq!(state(&d, &vm).await, PowerState::Shutdown);
    let mut resized = vm.clone();
    resized.flavor = flavor(40);
    let finish = FinishMigrationRequest {
        migration: mig.clone(),
        disk_info: MigrationDiskInfo::default(),
        network_info: vec![],
        image_meta: ImageMeta::default(),
        resize_instance: true,
        block_device_info: BlockDeviceInfo::default(),
        power_on: true,
    };
    d.finish_migration(&resized, &finish).await.unwrap();
    assert_eq!(d.instance("uuid-1", "fake-2").unwrap().flavor.root_gb, 40);
    assert_eq!(d.instance("uuid-1", "fake-2").unwrap().power_state, PowerState::Running);
    assert!(d.instance("uuid-1", "fake-1").is_some(), "the source stays until confirmed");
    d.confirm_migration(&vm, &mig, &[]).await.unwrap();
    assert!(d.instance("uuid-1", "fake-1").is_none());
    assert_eq!(d.get_available_resource("fake-1").await.unwrap().vcpus_used, 0);
}

#[tokio::test]
async fn same_node_resize_reverts_to_the_old_flavor() {
    let d = driver(1);
    let vm = instance(1, "fake-1");
    d.spawn(&vm, &boot(), &NoProgress).await.unwrap();
    let mig = migration("fake-1", "fake-1");
    let out = MigrateDiskRequest {
        migration: mig.clone(),
        new_flavor: flavor(40),
        network_info: vec![],
        block_device_info: BlockDeviceInfo::default(),
        timeout: Duration::ZERO,
        retry_interval: Duration::ZERO,
    };
    d.migrate_disk_and_power_off(&vm, &out).await.unwrap();
    let mut resized = vm.clone();
    resized.flavor = flavor(40);
    let finish = FinishMigrationRequest {
        migration: mig.clone(),
        disk_info: MigrationDiskInfo::default(),
        network_info: vec![],
        image_meta: ImageMeta::default(),
        resize_instance: true,
        block_device_info: BlockDeviceInfo::default(),
        power_on: true,
    };
    d.finish_migration(&resized, &finish).await.unwrap();
    assert_eq!(d.instance("uuid-1", "fake-1").unwrap().flavor.root_gb, 40);
    // Revert: the manager destroys the resized guest, then the source restores its copy.
    d.destroy(&resized, &[], &BlockDeviceInfo::default(), false).await.unwrap();
    let revert = RevertMigrationRequest {
        migration: mig,
        network_info: vec![],
        block_device_info: BlockDeviceInfo::default(),
        power_on: true,
    };
    d.finish_revert_migration(&vm, &revert).await.unwrap();
    let guest = d.instance("uuid-1", "fake-1").unwrap();
    assert_eq!((guest.flavor.root_gb, guest.power_state), (20, PowerState::Running));
}

fn live_check(source: &str, dest: &str) -> LiveMigrationCheck {
    LiveMigrationCheck {
        source_host: "compute1".into(),
        source_node: source.into(),
        dest_host: "compute2".into(),
        dest_node: dest.into(),
        block_migration: None,
        disk_over_commit: false,
    }
}

#[tokio::test]
async fn live_migration_moves_a_running_guest() {
    let d = driver(2);
    let vm = instance(1, "fake-1");
    let mut request = boot();
    request.network_info = vec![Vif { id: "port-1".into(), ..Default::default() }];
    d.spawn(&vm, &request, &NoProgress).await.unwrap();
    let data =
        d.check_can_live_migrate_destination(&vm, &live_check("fake-1", "fake-2")).await.unwrap();
    assert!(data.block_migration);
    let data = d.check_can_live_migrate_source(&vm, &data).await.unwrap();
    let none = BlockDeviceInfo::default();
    d.pre_live_migration(&vm, &data, &request.network_info, &none).await.unwrap();
    assert!(d.instance("uuid-1", "fake-2").unwrap().incoming_migration);
    d.live_migration(&vm, &data).await.unwrap();
    d.post_live_migration(&vm, &data, &none).await.unwrap();
    d.post_live_migration_at_destination(&vm, &data, &request.network_info, &none).await.unwrap();
    assert!(d.instance("uuid-1", "fake-1").is_none());
    let moved = d.instance("uuid-1", "fake-2").unwrap();
    assert_eq!(moved.power_state, PowerState::Running);
    assert!(!moved.incoming_migration);
    assert!(moved.interfaces.contains_key("port-1"));
}

#[tokio::test]
async fn live_migration_between_separate_drivers() {
    let source = driver(1);
    let dest = FakeDriver::new(FakeDriverConfig {
        node_names: vec!["other-1".into()],
        ..FakeDriverConfig::with_nodes(1)
    });
    let vm = instance(1, "fake-1");
    source.spawn(&vm, &boot(), &NoProgress).await.unwrap();
    let data = dest
        .check_can_live_migrate_destination(&vm, &live_check("fake-1", "other-1"))
        .await
        .unwrap();
    let data = source.check_can_live_migrate_source(&vm, &data).await.unwrap();
    let none = BlockDeviceInfo::default();
    dest.pre_live_migration(&vm, &data, &[], &none).await.unwrap();
    source.live_migration(&vm, &data).await.unwrap();
    source.post_live_migration(&vm, &data, &none).await.unwrap();
    dest.post_live_migration_at_destination(&vm, &data, &[], &none).await.unwrap();
    assert!(source.instances().is_empty());
    assert_eq!(dest.instance("uuid-1", "other-1").unwrap().power_state, PowerState::Running);
}

#[tokio::test]
async fn a_failed_live_migration_rolls_back_the_destination() {
    let d = driver(2);
    let vm = instance(1, "fake-1");
    d.spawn(&vm, &boot(), &NoProgress).await.unwrap();
    assert!(matches!(
        d.check_can_live_migrate_destination(&vm, &live_check("fake-1", "fake-1")).await,
        Err(VirtError::MigrationPreCheckError { .. })
    ));
    let data =
        d.check_can_live_migrate_destination(&vm, &live_check("fake-1", "fake-2")).await.unwrap();
    let none = BlockDeviceInfo::default();
    d.pre_live_migration(&vm, &data, &[], &none).await.unwrap();
    d.inject_fault(FaultRule::new(FakeOperation::LiveMigration).times(1));
    assert!(matches!(d.live_migration(&vm, &data).await, Err(VirtError::MigrationError { .. })));
    d.rollback_live_migration_at_destination(&vm, &data, &[], &none, true).await.unwrap();
    assert!(d.instance("uuid-1", "fake-2").is_none());
    assert_eq!(state(&d, &vm).await, PowerState::Running, "the guest keeps running on the source");
}

#[tokio::test]
async fn check_source_refuses_a_stopped_guest() {
    let d = driver(2);
    let vm = instance(1, "fake-1");
    d.spawn(&vm, &boot(), &NoProgress).await.unwrap();
    let data =
        d.check_can_live_migrate_destination(&vm, &live_check("fake-1", "fake-2")).await.unwrap();
    d.power_off(&vm, Duration::ZERO, Duration::ZERO).await.unwrap();
    assert!(matches!(
        d.check_can_live_migrate_source(&vm, &data).await,
        Err(VirtError::MigrationPreCheckError { .. })
    ));
}

#[tokio::test]
async fn defaults_of_the_trait_are_sensible() {
    let d = driver(1);
    let vm = instance(1, "fake-1");
    assert!(matches!(
        d.rebuild(&vm, &boot()).await,
        Err(VirtError::NotSupported { operation: "rebuild", .. })
    ));
    assert!(!d.instance_on_disk(&vm).await.unwrap());
    d.init_host("compute1").await.unwrap();
    let connector = d.get_volume_connector(&vm).await.unwrap();
    assert_eq!(connector.host, "compute1");
    assert!(d.capabilities().supports_migrate_to_same_host);
}

#[tokio::test]
async fn a_thousand_guests_across_many_nodes() {
    let d = driver(50);
    for n in 0..1000u64 {
        let node = format!("fake-{}", n % 50 + 1);
        d.spawn(&instance(n, &node), &boot(), &NoProgress).await.unwrap();
    }
    assert_eq!(d.list_instance_uuids().await.unwrap().len(), 1000);
    assert_eq!(d.get_available_resource("fake-7").await.unwrap().vcpus_used, 40);
}
