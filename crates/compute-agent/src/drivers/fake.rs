//! The fake virt driver: N simulated hypervisor nodes in one process, for tests and scale
//! simulations. Guests live in memory only (durable state is the database's, via the
//! conductor), operations take a configurable simulated time, and failures can be injected
//! per operation, node or instance name to exercise rescheduling and rollbacks.
//!
//! Guests are keyed by (uuid, node): during a migration one instance exists on two nodes.
//! Several compute services may share one `FakeDriver` (each owning some of its nodes) or each
//! have their own; migrations work either way.

mod config;
mod consoles;
mod diagnostics;
mod faults;
mod instance;
mod lifecycle;
mod migration;
mod resources;
mod snapshot;
#[cfg(test)]
mod tests;

pub use config::FakeDriverConfig;
pub use faults::{FakeOperation, FaultRule};
pub use instance::FakeInstance;
pub use snapshot::{disk_bytes, SNAPSHOT_SIZE};

use crate::virt::*;
use async_trait::async_trait;
use faults::FaultSet;
use monostack_common::config::FakeDriverSection;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// Guests by (uuid, node), and the copies kept for reverting resizes (the `<uuid>_resize`
/// directory of a real host).
#[derive(Debug, Default)]
struct Guests {
    by_key: BTreeMap<(String, String), FakeInstance>,
    resize_backups: BTreeMap<String, FakeInstance>,
}

pub struct FakeDriver {
    config: FakeDriverConfig,
    host: Mutex<String>,
    guests: Mutex<Guests>,
    faults: Mutex<FaultSet>,
    events: broadcast::Sender<LifecycleEvent>,
    ports_handed_out: AtomicU32,
    /// When the simulated hosts "booted" (their uptime counts from here).
    started: Instant,
    /// Where the simulated L2 agent reports the devices it wires ([`FakeDriver::report_ports_on`]).
    l2_agent: Mutex<Option<std::sync::Arc<dyn monostack_bus::Bus>>>,
}

/// The L2 agents' calls to the network server (`crates/network/src/rpc.rs`: `q-plugin`,
/// `update_device_up` / `update_device_down` with an `UpdateDeviceUp`).
const TOPIC_PLUGIN: &str = "q-plugin";

impl FakeDriver {
    pub fn new(config: FakeDriverConfig) -> Self {
        let (events, _) = broadcast::channel(1024);
        Self {
            faults: Mutex::new(FaultSet::new(config.faults.clone())),
            config,
            host: Mutex::new("fake-host".into()),
            guests: Mutex::new(Guests::default()),
            events,
            ports_handed_out: AtomicU32::new(0),
            started: Instant::now(),
            l2_agent: Mutex::new(None),
        }
    }

    /// Makes the driver stand in for the hosts' L2 agent: once it plugs a VIF it reports the
    /// port up to the network server on `bus` (down once unplugged), so ports become ACTIVE
    /// (and compute hears `network-vif-plugged`) as with a real agent. Without it, nothing
    /// is reported.
    pub fn report_ports_on(&self, bus: std::sync::Arc<dyn monostack_bus::Bus>) {
        *self.l2_agent.lock() = Some(bus);
    }

    /// Reports `vifs` of a guest on `host` up or down, in the background (a real agent notices
    /// the tap devices on its own time; nothing waits for it).
    fn report_devices(&self, host: &str, vifs: &[Vif], up: bool) {
        let Some(bus) = self.l2_agent.lock().clone() else { return };
        if vifs.is_empty() {
            return;
        }
        let method = if up { "update_device_up" } else { "update_device_down" };
        let host = host.to_string();
        let devices: Vec<String> = vifs.iter().map(|v| v.id.clone()).collect();
        tokio::spawn(async move {
            for device in devices {
                let args = serde_json::json!({"device": device, "agent_id": format!("fake-linuxbridge-{host}"), "host": host});
                let msg = monostack_bus::Message::new(method, args);
                let target = monostack_bus::Target::topic(TOPIC_PLUGIN);
                if let Err(e) = bus.call(&target, msg, Duration::from_secs(30)).await {
                    tracing::warn!("{method} of device {device} on {host} not reported: {e}");
                }
            }
        });
    }

    /// The driver the `[fake_driver]` section describes.
    pub fn from_section(section: &FakeDriverSection) -> VirtResult<Self> {
        Ok(Self::new(FakeDriverConfig::from_section(section)?))
    }

    pub fn config(&self) -> &FakeDriverConfig {
        &self.config
    }

    /// Makes matching operations fail from now on.
    pub fn inject_fault(&self, rule: FaultRule) {
        self.faults.lock().add(rule);
    }

    pub fn clear_faults(&self) {
        self.faults.lock().clear();
    }

    /// A copy of the guest `uuid` on `node`, if the hypervisor has it.
    pub fn instance(&self, uuid: &str, node: &str) -> Option<FakeInstance> {
        self.guests.lock().by_key.get(&(uuid.to_string(), node.to_string())).cloned()
    }

    /// Copies of every guest, ordered by uuid then node.
    pub fn instances(&self) -> Vec<FakeInstance> {
        self.guests.lock().by_key.values().cloned().collect()
    }

    /// Simulates the guest changing state on its own (shut down from inside, crashed), and
    /// emits the matching lifecycle event.
    pub fn set_power_state(&self, uuid: &str, node: &str, state: PowerState) -> VirtResult<()> {
        self.with_guest(uuid, node, |guest| {
            guest.power_state = state;
            guest.log(format!("power state changed to {state} by the guest"));
            Ok(())
        })?;
        let transition = match state {
            PowerState::Running => LifecycleTransition::Started,
            PowerState::Paused => LifecycleTransition::Paused,
            PowerState::Suspended => LifecycleTransition::Suspended,
            _ => LifecycleTransition::Stopped,
        };
        self.emit(uuid, node, Some(transition));
        Ok(())
    }

    fn require_node(&self, node: &str) -> VirtResult<()> {
        if self.config.node_names.iter().any(|n| n == node) {
            Ok(())
        } else {
            Err(VirtError::NodeNotFound { node: node.into() })
        }
    }

    async fn simulate(&self, duration: Duration) {
        if !duration.is_zero() {
            tokio::time::sleep(duration).await;
        }
    }

    fn check_fault(
        &self,
        operation: FakeOperation,
        instance: &InstanceRef,
        node: &str,
    ) -> VirtResult<()> {
        self.faults.lock().check(operation, instance, node)
    }

    /// Runs `change` on the guest `uuid` on `node`.
    fn with_guest<T>(
        &self,
        uuid: &str,
        node: &str,
        change: impl FnOnce(&mut FakeInstance) -> VirtResult<T>,
    ) -> VirtResult<T> {
        let mut guests = self.guests.lock();
        let guest = guests
            .by_key
            .get_mut(&(uuid.to_string(), node.to_string()))
            .ok_or_else(|| VirtError::not_found(uuid))?;
        change(guest)
    }

    fn emit(&self, uuid: &str, node: &str, transition: Option<LifecycleTransition>) {
        if let Some(transition) = transition {
            // No receiver is fine: nobody is listening yet.
            let _ = self.events.send(LifecycleEvent {
                instance_uuid: uuid.into(),
                node: node.into(),
                transition,
            });
        }
    }

    /// An operation on an existing guest: simulated time, injected fault, then `change`.
    async fn operate(
        &self,
        operation: FakeOperation,
        instance: &InstanceRef,
        change: impl FnOnce(&mut FakeInstance) -> VirtResult<Option<LifecycleTransition>>,
    ) -> VirtResult<()> {
        self.simulate(self.config.action_delay).await;
        self.check_fault(operation, instance, &instance.node)?;
        let transition = self.with_guest(&instance.uuid, &instance.node, change)?;
        self.emit(&instance.uuid, &instance.node, transition);
        Ok(())
    }

    fn next_console_port(&self) -> u16 {
        let n = self.ports_handed_out.fetch_add(1, Ordering::Relaxed) % 4000;
        5900 + n as u16
    }
}

#[async_trait]
impl VirtDriver for FakeDriver {
    fn driver_name(&self) -> &'static str {
        "fake"
    }

    fn capabilities(&self) -> DriverCapabilities {
        DriverCapabilities {
            has_imagecache: false,
            supports_evacuate: true,
            supports_migrate_to_same_host: true,
            supports_attach_interface: true,
            supports_multiattach: true,
            supports_extend_volume: true,
        }
    }

    async fn init_host(&self, host: &str) -> VirtResult<()> {
        *self.host.lock() = host.into();
        tracing::info!("Fake driver managing nodes {:?} for host {host}", self.config.node_names);
        Ok(())
    }

    async fn get_available_nodes(&self) -> VirtResult<Vec<String>> {
        Ok(self.config.node_names.clone())
    }

    async fn get_available_resource(&self, nodename: &str) -> VirtResult<NodeResources> {
        self.require_node(nodename)?;
        let guests = self.guests.lock();
        Ok(resources::node_resources(&self.config, nodename, guests.by_key.values()))
    }

    async fn get_host_uptime(&self) -> VirtResult<String> {
        let running = self
            .guests
            .lock()
            .by_key
            .values()
            .filter(|g| g.power_state == PowerState::Running)
            .count();
        let seconds_of_day =
            u64::try_from(monostack_common::time::now_micros() / 1_000_000).unwrap_or(0) % 86_400;
        Ok(diagnostics::uptime_line(seconds_of_day, self.started.elapsed(), running as f64 * 0.05))
    }

    async fn get_volume_connector(&self, _instance: &InstanceRef) -> VirtResult<VolumeConnector> {
        Ok(resources::volume_connector(&self.host.lock(), &self.config.cpu_arch))
    }

    fn lifecycle_events(&self) -> Option<broadcast::Receiver<LifecycleEvent>> {
        Some(self.events.subscribe())
    }

    async fn list_instances(&self) -> VirtResult<Vec<String>> {
        let guests = self.guests.lock();
        let mut names: Vec<String> = guests.by_key.values().map(|g| g.name.clone()).collect();
        names.dedup();
        Ok(names)
    }

    async fn list_instance_uuids(&self) -> VirtResult<Vec<String>> {
        let guests = self.guests.lock();
        let mut uuids: Vec<String> = guests.by_key.keys().map(|(uuid, _)| uuid.clone()).collect();
        uuids.dedup();
        Ok(uuids)
    }

    async fn get_info(&self, instance: &InstanceRef) -> VirtResult<InstanceInfo> {
        self.with_guest(&instance.uuid, &instance.node, |g| {
            Ok(InstanceInfo { state: g.power_state, internal_id: Some(g.name.clone()) })
        })
    }

    async fn get_diagnostics(&self, instance: &InstanceRef) -> VirtResult<DriverDiagnostics> {
        self.with_guest(&instance.uuid, &instance.node, |g| Ok(diagnostics::driver_diagnostics(g)))
    }

    async fn get_instance_diagnostics(
        &self,
        instance: &InstanceRef,
    ) -> VirtResult<InstanceDiagnostics> {
        self.with_guest(&instance.uuid, &instance.node, |g| {
            Ok(diagnostics::instance_diagnostics(g, &self.config))
        })
    }

    async fn spawn(
        &self,
        instance: &InstanceRef,
        request: &SpawnRequest,
        progress: &dyn SpawnProgress,
    ) -> VirtResult<()> {
        self.build_guest(instance, request, progress).await?;
        self.report_devices(&instance.host, &request.network_info, true);
        Ok(())
    }

    async fn destroy(
        &self,
        instance: &InstanceRef,
        network_info: &[Vif],
        _block_device_info: &BlockDeviceInfo,
        _destroy_disks: bool,
    ) -> VirtResult<()> {
        self.destroy_guest(instance).await?;
        self.report_devices(&instance.host, network_info, false);
        Ok(())
    }

    async fn reboot(
        &self,
        instance: &InstanceRef,
        _network_info: &[Vif],
        reboot_type: RebootType,
        _block_device_info: &BlockDeviceInfo,
    ) -> VirtResult<()> {
        self.operate(FakeOperation::Reboot, instance, |g| Ok(g.reboot(reboot_type))).await
    }

    async fn power_off(
        &self,
        instance: &InstanceRef,
        _timeout: Duration,
        _retry: Duration,
    ) -> VirtResult<()> {
        self.operate(FakeOperation::PowerOff, instance, |g| Ok(g.power_off())).await
    }

    async fn power_on(
        &self,
        instance: &InstanceRef,
        _network_info: &[Vif],
        _bdi: &BlockDeviceInfo,
    ) -> VirtResult<()> {
        self.operate(FakeOperation::PowerOn, instance, |g| Ok(g.power_on())).await
    }

    async fn pause(&self, instance: &InstanceRef) -> VirtResult<()> {
        self.operate(FakeOperation::Pause, instance, |g| g.pause().map(Some)).await
    }

    async fn unpause(&self, instance: &InstanceRef) -> VirtResult<()> {
        self.operate(FakeOperation::Unpause, instance, |g| g.unpause().map(Some)).await
    }

    async fn suspend(&self, instance: &InstanceRef) -> VirtResult<()> {
        self.operate(FakeOperation::Suspend, instance, |g| g.suspend().map(Some)).await
    }

    async fn resume(
        &self,
        instance: &InstanceRef,
        _network_info: &[Vif],
        _bdi: &BlockDeviceInfo,
    ) -> VirtResult<()> {
        self.operate(FakeOperation::Resume, instance, |g| g.resume().map(Some)).await
    }

    async fn rescue(&self, instance: &InstanceRef, request: &RescueRequest) -> VirtResult<()> {
        let image = request.image_meta.id.clone().unwrap_or_else(|| "the instance's image".into());
        self.operate(FakeOperation::Rescue, instance, |g| {
            g.log(format!("Rescue: booting from image {image}, original disk attached as vdb"));
            g.rescue().map(Some)
        })
        .await
    }

    async fn unrescue(&self, instance: &InstanceRef) -> VirtResult<()> {
        self.operate(FakeOperation::Unrescue, instance, |g| g.unrescue().map(Some)).await
    }

    async fn snapshot(&self, instance: &InstanceRef, image_id: &str) -> VirtResult<SnapshotImage> {
        self.snapshot_guest(instance, image_id).await
    }

    async fn set_admin_password(
        &self,
        instance: &InstanceRef,
        _password: &AdminPassword,
    ) -> VirtResult<()> {
        self.with_guest(&instance.uuid, &instance.node, |g| {
            if g.power_state != PowerState::Running {
                return Err(VirtError::InstanceNotRunning { instance: g.uuid.clone() });
            }
            g.log("guest agent: password changed");
            Ok(())
        })
    }

    async fn get_console_output(&self, instance: &InstanceRef) -> VirtResult<String> {
        self.console_log(instance)
    }

    async fn get_vnc_console(&self, instance: &InstanceRef) -> VirtResult<ConsoleEndpoint> {
        self.console_endpoint(instance, ConsoleKind::Vnc)
    }

    async fn get_serial_console(&self, instance: &InstanceRef) -> VirtResult<ConsoleEndpoint> {
        self.console_endpoint(instance, ConsoleKind::Serial)
    }

    async fn attach_volume(
        &self,
        instance: &InstanceRef,
        connection: &VolumeConnection,
        mountpoint: &str,
    ) -> VirtResult<()> {
        self.operate(FakeOperation::AttachVolume, instance, |g| {
            g.attach_volume(connection, mountpoint).map(|_| None)
        })
        .await
    }

    async fn detach_volume(
        &self,
        instance: &InstanceRef,
        connection: &VolumeConnection,
        mountpoint: &str,
    ) -> VirtResult<()> {
        self.operate(FakeOperation::DetachVolume, instance, |g| {
            g.detach_volume(connection, mountpoint).map(|_| None)
        })
        .await
    }

    async fn swap_volume(
        &self,
        instance: &InstanceRef,
        old: &VolumeConnection,
        new: &VolumeConnection,
        mountpoint: &str,
    ) -> VirtResult<()> {
        self.operate(FakeOperation::AttachVolume, instance, |g| {
            g.swap_volume(old, new, mountpoint).map(|_| None)
        })
        .await
    }

    async fn extend_volume(
        &self,
        instance: &InstanceRef,
        connection: &VolumeConnection,
        new_size_gb: u64,
    ) -> VirtResult<()> {
        self.with_guest(&instance.uuid, &instance.node, |g| {
            let attached = g.volumes.values().any(|v| v.volume_id == connection.volume_id);
            if !attached {
                return Err(VirtError::DiskNotFound { location: connection.volume_id.clone() });
            }
            g.log(format!(
                "virtio_blk: volume {} resized to {new_size_gb} GiB",
                connection.volume_id
            ));
            Ok(())
        })
    }

    async fn attach_interface(
        &self,
        instance: &InstanceRef,
        _image_meta: &ImageMeta,
        vif: &Vif,
    ) -> VirtResult<()> {
        self.operate(FakeOperation::AttachInterface, instance, |g| {
            g.attach_interface(vif).map(|_| None)
        })
        .await?;
        self.report_devices(&instance.host, std::slice::from_ref(vif), true);
        Ok(())
    }

    async fn detach_interface(&self, instance: &InstanceRef, vif: &Vif) -> VirtResult<()> {
        self.operate(FakeOperation::DetachInterface, instance, |g| {
            g.detach_interface(vif).map(|_| None)
        })
        .await?;
        self.report_devices(&instance.host, std::slice::from_ref(vif), false);
        Ok(())
    }

    async fn migrate_disk_and_power_off(
        &self,
        instance: &InstanceRef,
        request: &MigrateDiskRequest,
    ) -> VirtResult<MigrationDiskInfo> {
        self.migrate_out(instance, request).await
    }

    async fn finish_migration(
        &self,
        instance: &InstanceRef,
        request: &FinishMigrationRequest,
    ) -> VirtResult<()> {
        self.migrate_in(instance, request).await?;
        self.report_devices(&instance.host, &request.network_info, true);
        Ok(())
    }

    async fn confirm_migration(
        &self,
        instance: &InstanceRef,
        migration: &MigrationInfo,
        _ni: &[Vif],
    ) -> VirtResult<()> {
        self.confirm(instance, migration).await
    }

    async fn finish_revert_migration(
        &self,
        instance: &InstanceRef,
        request: &RevertMigrationRequest,
    ) -> VirtResult<()> {
        self.revert(instance, request).await
    }

    async fn check_can_live_migrate_destination(
        &self,
        instance: &InstanceRef,
        check: &LiveMigrationCheck,
    ) -> VirtResult<LiveMigrateData> {
        self.check_destination(instance, check)
    }

    async fn check_can_live_migrate_source(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
    ) -> VirtResult<LiveMigrateData> {
        self.check_source(instance, data)
    }

    async fn pre_live_migration(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
        network_info: &[Vif],
        block_device_info: &BlockDeviceInfo,
    ) -> VirtResult<LiveMigrateData> {
        self.prepare_incoming(instance, data, network_info, block_device_info).await
    }

    async fn live_migration(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
    ) -> VirtResult<()> {
        self.move_live(instance, data).await
    }

    async fn rollback_live_migration_at_destination(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
        _network_info: &[Vif],
        _block_device_info: &BlockDeviceInfo,
        _destroy_disks: bool,
    ) -> VirtResult<()> {
        self.drop_incoming(instance, data);
        Ok(())
    }

    async fn post_live_migration(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
        _bdi: &BlockDeviceInfo,
    ) -> VirtResult<()> {
        self.guests.lock().by_key.remove(&(instance.uuid.clone(), data.source_node.clone()));
        Ok(())
    }

    async fn post_live_migration_at_destination(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
        network_info: &[Vif],
        _block_device_info: &BlockDeviceInfo,
    ) -> VirtResult<()> {
        self.settle_incoming(instance, data)?;
        self.report_devices(&instance.host, network_info, true);
        Ok(())
    }
}
