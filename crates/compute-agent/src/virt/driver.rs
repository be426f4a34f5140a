//! The hypervisor driver interface (Nova's `ComputeDriver`), one implementation per backend:
//! the in-memory fake, and later QEMU/KVM.
//!
//! The compute manager owns the flow (claims, task states, instance actions, database updates
//! through the conductor) and calls the driver for the hypervisor part only. Operations that
//! are sequences of driver calls stay in the manager:
//! - shelve: `power_off`, `snapshot`, then `destroy` (offload);
//! - unshelve and evacuate: `spawn` on the new host;
//! - rebuild: `rebuild`, or `destroy` + `spawn` when the driver answers `NotSupported`;
//! - cold migration and resize: `migrate_disk_and_power_off` (source), `finish_migration`
//!   (destination), then `confirm_migration` (source) or `destroy` (destination) +
//!   `finish_revert_migration` (source);
//! - live migration: `check_can_live_migrate_destination` (destination),
//!   `check_can_live_migrate_source` (source), `pre_live_migration` (destination),
//!   `live_migration` (source), then `post_live_migration` (source) and
//!   `post_live_migration_at_destination` (destination), or on failure
//!   `rollback_live_migration_at_destination`.
//!
//! Every method is `async` and may take long (a spawn downloads an image and boots a guest);
//! the manager runs them off its request path. Instances are located by `instance.uuid` on
//! `instance.node`, except in migration steps, which name their nodes explicitly.

use super::block_device::{BlockDeviceInfo, VolumeConnection, VolumeConnector};
use super::console::ConsoleEndpoint;
use super::diagnostics::{DriverDiagnostics, InstanceDiagnostics};
use super::error::{VirtError, VirtResult};
use super::events::LifecycleEvent;
use super::host::HostPowerAction;
use super::image::ImageMeta;
use super::instance::{InstanceInfo, InstanceRef};
use super::migration::{
    FinishMigrationRequest, LiveMigrateData, LiveMigrationCheck, MigrateDiskRequest,
    MigrationDiskInfo, MigrationInfo, RevertMigrationRequest,
};
use super::network::Vif;
use super::resources::{DriverCapabilities, NodeResources};
use super::snapshot::SnapshotImage;
use super::spawn::{AdminPassword, RescueRequest, SpawnProgress, SpawnRequest};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `SOFT` restarts the guest OS (ACPI), `HARD` power-cycles the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RebootType {
    Soft,
    Hard,
}

#[async_trait]
pub trait VirtDriver: Send + Sync {
    // ---- the host ----

    /// The driver's name as `compute_driver` selects it (`fake`, `qemu`).
    fn driver_name(&self) -> &'static str;

    fn capabilities(&self) -> DriverCapabilities;

    /// Prepares the host when the agent starts (e.g. connects to the hypervisor).
    async fn init_host(&self, host: &str) -> VirtResult<()>;

    /// Releases host resources when the agent stops.
    async fn cleanup_host(&self, _host: &str) -> VirtResult<()> {
        Ok(())
    }

    /// The hypervisor nodes this agent manages (one for KVM; many for the fake).
    async fn get_available_nodes(&self) -> VirtResult<Vec<String>>;

    /// A node's resources, for the resource tracker's periodic report.
    async fn get_available_resource(&self, nodename: &str) -> VirtResult<NodeResources>;

    /// What the block storage service needs to export volumes to this host.
    async fn get_volume_connector(&self, instance: &InstanceRef) -> VirtResult<VolumeConnector>;

    /// Lifecycle events, for a driver that can emit them.
    fn lifecycle_events(&self) -> Option<tokio::sync::broadcast::Receiver<LifecycleEvent>> {
        None
    }

    /// The host's `uptime` line (` 10:00:00 up 1 day,  2:03,  0 users,  load average: …`),
    /// reported with the node's stats for `os-hypervisors/{id}/uptime`.
    async fn get_host_uptime(&self) -> VirtResult<String> {
        Err(VirtError::NotSupported { driver: self.driver_name(), operation: "get_host_uptime" })
    }

    /// Powers the host up or down, or reboots it (`os-hosts`); answers what was done. Like
    /// libvirt, most drivers cannot.
    async fn host_power_action(&self, _action: HostPowerAction) -> VirtResult<String> {
        Err(VirtError::NotSupported { driver: self.driver_name(), operation: "host_power_action" })
    }

    /// Starts (`on`) or ends the host's maintenance window, evacuating its guests on start
    /// (`os-hosts`); answers `on_maintenance` or `off_maintenance`. Like libvirt, most drivers
    /// cannot.
    async fn host_maintenance_mode(&self, _host: &str, _on: bool) -> VirtResult<String> {
        Err(VirtError::NotSupported { driver: self.driver_name(), operation: "host_maintenance_mode" })
    }

    /// Periodic cleanup of the local image cache (for drivers with `has_imagecache`).
    async fn manage_image_cache(&self, _instances: &[InstanceRef]) -> VirtResult<()> {
        Ok(())
    }

    // ---- what runs here ----

    /// Hypervisor names of the guests on this host's nodes.
    async fn list_instances(&self) -> VirtResult<Vec<String>>;

    /// Uuids of the guests on this host's nodes.
    async fn list_instance_uuids(&self) -> VirtResult<Vec<String>>;

    async fn instance_exists(&self, instance: &InstanceRef) -> VirtResult<bool> {
        match self.get_info(instance).await {
            Ok(_) => Ok(true),
            Err(VirtError::InstanceNotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The guest's power state; `InstanceNotFound` when the hypervisor has no such guest.
    async fn get_info(&self, instance: &InstanceRef) -> VirtResult<InstanceInfo>;

    /// The driver-specific counters of a running guest (shown before microversion 2.48).
    async fn get_diagnostics(&self, _instance: &InstanceRef) -> VirtResult<DriverDiagnostics> {
        Err(VirtError::NotSupported { driver: self.driver_name(), operation: "get_diagnostics" })
    }

    /// The standard diagnostics of a running guest (shown from microversion 2.48).
    async fn get_instance_diagnostics(
        &self,
        _instance: &InstanceRef,
    ) -> VirtResult<InstanceDiagnostics> {
        Err(VirtError::NotSupported {
            driver: self.driver_name(),
            operation: "get_instance_diagnostics",
        })
    }

    /// Whether the instance's files are visible here (shared storage), deciding whether an
    /// evacuation may reuse them.
    async fn instance_on_disk(&self, _instance: &InstanceRef) -> VirtResult<bool> {
        Ok(false)
    }

    // ---- lifecycle ----

    /// Builds the guest: image, disk, definition, NICs, then starts it if asked.
    async fn spawn(
        &self,
        instance: &InstanceRef,
        request: &SpawnRequest,
        progress: &dyn SpawnProgress,
    ) -> VirtResult<()>;

    /// Removes the guest (and its disks when `destroy_disks`). Succeeds if it is already gone.
    async fn destroy(
        &self,
        instance: &InstanceRef,
        network_info: &[Vif],
        block_device_info: &BlockDeviceInfo,
        destroy_disks: bool,
    ) -> VirtResult<()>;

    /// Recreates the guest's disk from a new image in place. `NotSupported` makes the
    /// manager destroy and spawn instead.
    async fn rebuild(&self, _instance: &InstanceRef, _request: &SpawnRequest) -> VirtResult<()> {
        Err(VirtError::NotSupported { driver: self.driver_name(), operation: "rebuild" })
    }

    async fn reboot(
        &self,
        instance: &InstanceRef,
        network_info: &[Vif],
        reboot_type: RebootType,
        block_device_info: &BlockDeviceInfo,
    ) -> VirtResult<()>;

    /// Stops the guest: a clean shutdown retried every `retry_interval` for up to `timeout`,
    /// then a forced one (`timeout` zero forces at once).
    async fn power_off(
        &self,
        instance: &InstanceRef,
        timeout: Duration,
        retry_interval: Duration,
    ) -> VirtResult<()>;

    async fn power_on(
        &self,
        instance: &InstanceRef,
        network_info: &[Vif],
        block_device_info: &BlockDeviceInfo,
    ) -> VirtResult<()>;

    /// Freezes the guest in host memory.
    async fn pause(&self, instance: &InstanceRef) -> VirtResult<()>;

    async fn unpause(&self, instance: &InstanceRef) -> VirtResult<()>;

    /// Saves the guest's state to disk and stops it (its resources stay reserved).
    async fn suspend(&self, instance: &InstanceRef) -> VirtResult<()>;

    async fn resume(
        &self,
        instance: &InstanceRef,
        network_info: &[Vif],
        block_device_info: &BlockDeviceInfo,
    ) -> VirtResult<()>;

    /// Boots the guest from a rescue image with its own disk as the second disk.
    async fn rescue(&self, instance: &InstanceRef, request: &RescueRequest) -> VirtResult<()>;

    async fn unrescue(&self, instance: &InstanceRef) -> VirtResult<()>;

    /// Copies the root disk; the caller uploads the returned data as image `image_id`.
    async fn snapshot(&self, instance: &InstanceRef, image_id: &str) -> VirtResult<SnapshotImage>;

    async fn set_admin_password(
        &self,
        _instance: &InstanceRef,
        _password: &AdminPassword,
    ) -> VirtResult<()> {
        Err(VirtError::NotSupported { driver: self.driver_name(), operation: "set_admin_password" })
    }

    /// Tells the guest about changed network settings.
    async fn inject_network_info(
        &self,
        _instance: &InstanceRef,
        _network_info: &[Vif],
    ) -> VirtResult<()> {
        Ok(())
    }

    // ---- consoles ----

    /// The guest's console log (the API keeps the last `length` lines).
    async fn get_console_output(&self, instance: &InstanceRef) -> VirtResult<String>;

    async fn get_vnc_console(&self, instance: &InstanceRef) -> VirtResult<ConsoleEndpoint>;

    async fn get_serial_console(&self, instance: &InstanceRef) -> VirtResult<ConsoleEndpoint>;

    // ---- volumes ----

    async fn attach_volume(
        &self,
        instance: &InstanceRef,
        connection: &VolumeConnection,
        mountpoint: &str,
    ) -> VirtResult<()>;

    async fn detach_volume(
        &self,
        instance: &InstanceRef,
        connection: &VolumeConnection,
        mountpoint: &str,
    ) -> VirtResult<()>;

    /// Replaces the volume at `mountpoint` with another one (volume migration/retype).
    async fn swap_volume(
        &self,
        instance: &InstanceRef,
        old: &VolumeConnection,
        new: &VolumeConnection,
        mountpoint: &str,
    ) -> VirtResult<()>;

    /// Tells the guest an attached volume grew.
    async fn extend_volume(
        &self,
        _instance: &InstanceRef,
        _connection: &VolumeConnection,
        _new_size_gb: u64,
    ) -> VirtResult<()> {
        Err(VirtError::NotSupported { driver: self.driver_name(), operation: "extend_volume" })
    }

    // ---- interfaces ----

    async fn attach_interface(
        &self,
        instance: &InstanceRef,
        image_meta: &ImageMeta,
        vif: &Vif,
    ) -> VirtResult<()>;

    async fn detach_interface(&self, instance: &InstanceRef, vif: &Vif) -> VirtResult<()>;

    // ---- cold migration and resize ----

    /// On the source: powers the guest off and hands its disks over; keeps a copy for revert.
    async fn migrate_disk_and_power_off(
        &self,
        instance: &InstanceRef,
        request: &MigrateDiskRequest,
    ) -> VirtResult<MigrationDiskInfo>;

    /// On the destination: builds the guest from the handed-over disks with the new flavor.
    async fn finish_migration(
        &self,
        instance: &InstanceRef,
        request: &FinishMigrationRequest,
    ) -> VirtResult<()>;

    /// On the source: the user confirmed; drop the source copy.
    async fn confirm_migration(
        &self,
        instance: &InstanceRef,
        migration: &MigrationInfo,
        network_info: &[Vif],
    ) -> VirtResult<()>;

    /// On the source: the user reverted; restore the source copy (and start it if asked).
    async fn finish_revert_migration(
        &self,
        instance: &InstanceRef,
        request: &RevertMigrationRequest,
    ) -> VirtResult<()>;

    // ---- live migration ----

    /// On the destination: can it take the instance? Returns the agreed migration data.
    async fn check_can_live_migrate_destination(
        &self,
        instance: &InstanceRef,
        check: &LiveMigrationCheck,
    ) -> VirtResult<LiveMigrateData>;

    /// On the source: can the instance leave with that data?
    async fn check_can_live_migrate_source(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
    ) -> VirtResult<LiveMigrateData>;

    /// On the destination: prepares disks, volumes and NICs to receive the guest.
    async fn pre_live_migration(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
        network_info: &[Vif],
        block_device_info: &BlockDeviceInfo,
    ) -> VirtResult<LiveMigrateData>;

    /// On the source: moves the running guest. An error means the guest still runs on the
    /// source and the manager rolls the destination back.
    async fn live_migration(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
    ) -> VirtResult<()>;

    /// On the destination after a failure: removes what `pre_live_migration` prepared.
    async fn rollback_live_migration_at_destination(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
        network_info: &[Vif],
        block_device_info: &BlockDeviceInfo,
        destroy_disks: bool,
    ) -> VirtResult<()>;

    /// On the source after success: cleans up what the guest left behind.
    async fn post_live_migration(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
        block_device_info: &BlockDeviceInfo,
    ) -> VirtResult<()>;

    /// On the destination after success: makes the guest permanent here.
    async fn post_live_migration_at_destination(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
        network_info: &[Vif],
        block_device_info: &BlockDeviceInfo,
    ) -> VirtResult<()>;
}
