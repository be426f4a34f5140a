//! Cold migration/resize and live migration requests. Every call names the source and
//! destination explicitly: during a migration the instance exists on two nodes at once.

use super::block_device::BlockDeviceInfo;
use super::image::ImageMeta;
use super::instance::FlavorInfo;
use super::network::Vif;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationKind {
    Migration,
    Resize,
    LiveMigration,
    Evacuation,
}

/// A migration record's essentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationInfo {
    pub uuid: String,
    pub kind: MigrationKind,
    pub source_compute: String,
    pub source_node: String,
    pub dest_compute: String,
    pub dest_node: String,
}

impl MigrationInfo {
    /// Source and destination are the same node (a same-host resize).
    pub fn is_same_node(&self) -> bool {
        self.source_compute == self.dest_compute && self.source_node == self.dest_node
    }
}

/// Driver-specific description of the disks the source hands to the destination.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MigrationDiskInfo(pub serde_json::Value);

/// `migrate_disk_and_power_off`, run on the source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrateDiskRequest {
    pub migration: MigrationInfo,
    pub new_flavor: FlavorInfo,
    pub network_info: Vec<Vif>,
    pub block_device_info: BlockDeviceInfo,
    /// How long to wait for a clean guest shutdown before forcing it.
    pub timeout: Duration,
    pub retry_interval: Duration,
}

/// `finish_migration`, run on the destination with the instance's new flavor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinishMigrationRequest {
    pub migration: MigrationInfo,
    pub disk_info: MigrationDiskInfo,
    pub network_info: Vec<Vif>,
    pub image_meta: ImageMeta,
    /// The flavor changed (resize) rather than only the host (migrate).
    pub resize_instance: bool,
    pub block_device_info: BlockDeviceInfo,
    pub power_on: bool,
}

/// `finish_revert_migration`, run on the source after the destination dropped its copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevertMigrationRequest {
    pub migration: MigrationInfo,
    pub network_info: Vec<Vif>,
    pub block_device_info: BlockDeviceInfo,
    pub power_on: bool,
}

/// The question `check_can_live_migrate_destination` answers, asked on the destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveMigrationCheck {
    pub source_host: String,
    pub source_node: String,
    pub dest_host: String,
    pub dest_node: String,
    /// `None` lets the driver decide (microversion 2.25 `"auto"`).
    pub block_migration: Option<bool>,
    pub disk_over_commit: bool,
}

/// What the checks agreed on, carried through every live-migration step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveMigrateData {
    pub source_host: String,
    pub source_node: String,
    pub dest_host: String,
    pub dest_node: String,
    pub block_migration: bool,
    pub disk_over_commit: bool,
    /// The instance directory is on storage both hosts share.
    pub is_shared_instance_path: bool,
    /// Driver-specific details (listen addresses, disk sizes, ...).
    pub driver_data: serde_json::Value,
}
