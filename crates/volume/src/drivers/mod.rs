//! Volume drivers: what a volume manager asks of its storage. One trait, Cinder's driver
//! interface cut to what the flows use, with:
//! - [`file::FileDriver`]: raw or qcow2 files in a directory, made and copied with
//!   `qemu-img` (Cinder's NFS driver without the mount), sparse, wiped on delete;
//! - [`lvm::LvmDriver`]: logical volumes of a volume group (thick, COW snapshots);
//! - [`fake::FakeDriver`]: volumes simulated in memory, for tests and scale simulations.
//!
//! Attaching goes through [`VolumeDriver::initialize_connection`], whose answer the compute
//! side turns into a disk (`driver_volume_type` `file`: `data.device_path` is the file, in
//! `data.format`); backups and image transfers reach the data through
//! [`VolumeDriver::local_path`].

pub mod fake;
pub mod file;
pub mod lvm;
pub mod qemu_img;

use crate::db::snapshots::Snapshot;
use crate::db::volumes::Volume;
use async_trait::async_trait;
use monostack_common::config::{Config, VolumeBackendSection};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// A driver failure: the operation's volume or snapshot ends in an error status.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The backend cannot work at all (missing tool, directory, volume group).
    #[error("backend not usable: {0}")]
    Setup(String),
    /// A command or I/O operation failed.
    #[error("{0}")]
    Operation(String),
    /// The driver does not do this.
    #[error("not supported by the {0} driver")]
    NotSupported(&'static str),
}

impl From<std::io::Error> for DriverError {
    fn from(e: std::io::Error) -> Self {
        DriverError::Operation(e.to_string())
    }
}

/// What a driver records about a new volume or snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelUpdate {
    /// Where the data lives, stored as `provider_location`.
    pub provider_location: Option<String>,
}

/// One pool's capacity report (Cinder's pool stats), sizes in GiB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolStats {
    pub pool_name: String,
    pub total_capacity_gb: f64,
    pub free_capacity_gb: f64,
    pub reserved_percentage: u32,
    pub max_over_subscription_ratio: f64,
    pub thin_provisioning_support: bool,
    pub thick_provisioning_support: bool,
    pub multiattach: bool,
    #[serde(rename = "QoS_support")]
    pub qos_support: bool,
}

/// A backend's report (Cinder's `get_volume_stats`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendStats {
    pub volume_backend_name: String,
    pub vendor_name: String,
    pub driver_version: String,
    pub storage_protocol: String,
    pub pools: Vec<PoolStats>,
}

/// How a host reaches a volume: Cinder's connection info.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    pub driver_volume_type: String,
    pub data: Value,
}

#[async_trait]
pub trait VolumeDriver: Send + Sync + 'static {
    /// The driver's name (`file`, `fake`).
    fn driver_name(&self) -> &'static str;
    /// Prepares and checks the backend (Cinder's do_setup + check_for_setup_error).
    async fn setup(&self) -> Result<(), DriverError>;
    /// Capacity and capabilities of the backend's pools.
    async fn stats(&self) -> Result<BackendStats, DriverError>;
    /// A blank volume of `volume.size` GiB.
    async fn create_volume(&self, volume: &Volume) -> Result<ModelUpdate, DriverError>;
    /// A volume holding the data of `snapshot` (and grown to `volume.size`).
    async fn create_volume_from_snapshot(
        &self,
        volume: &Volume,
        snapshot: &Snapshot,
    ) -> Result<ModelUpdate, DriverError>;
    /// A volume holding the data of `source` (and grown to `volume.size`).
    async fn create_cloned_volume(
        &self,
        volume: &Volume,
        source: &Volume,
    ) -> Result<ModelUpdate, DriverError>;
    /// A volume holding the disk image in file `image` (read as qemu-img format
    /// `image_format`, already checked to fit), grown to `volume.size`. The default makes a
    /// blank volume and writes the image over it where the volume has a local path.
    async fn copy_image_to_volume(
        &self,
        volume: &Volume,
        image: &std::path::Path,
        image_format: &str,
    ) -> Result<ModelUpdate, DriverError> {
        let model = self.create_volume(volume).await?;
        if let Some(path) = self.local_path(volume) {
            qemu_img::convert_into(image, image_format, &path, "raw").await?;
        }
        Ok(model)
    }
    /// Removes the volume, wiping its data first as configured; a volume already gone is
    /// not an error.
    async fn delete_volume(&self, volume: &Volume) -> Result<(), DriverError>;
    /// Grows the volume to `new_size` GiB.
    async fn extend_volume(&self, volume: &Volume, new_size: i64) -> Result<(), DriverError>;
    /// Whether the volume can take the new type in place (extra specs the backend acts on
    /// would change here); the default accepts, as the file and fake drivers do.
    async fn retype(
        &self,
        _volume: &Volume,
        _new_type: &crate::rpc::TypeSpec,
    ) -> Result<(), DriverError> {
        Ok(())
    }
    /// A point-in-time copy of `volume`.
    async fn create_snapshot(
        &self,
        snapshot: &Snapshot,
        volume: &Volume,
    ) -> Result<ModelUpdate, DriverError>;
    /// Removes the snapshot; one already gone is not an error.
    async fn delete_snapshot(&self, snapshot: &Snapshot) -> Result<(), DriverError>;
    /// Exports the volume to the host described by `connector`.
    async fn initialize_connection(
        &self,
        volume: &Volume,
        connector: &Value,
    ) -> Result<ConnectionInfo, DriverError>;
    /// Exports a snapshot's data to the host described by `connector` (Cinder's
    /// `initialize_connection_snapshot`, which backups of a snapshot read through).
    async fn initialize_connection_snapshot(
        &self,
        _snapshot: &Snapshot,
        _connector: &Value,
    ) -> Result<ConnectionInfo, DriverError> {
        Err(DriverError::NotSupported(self.driver_name()))
    }
    /// Ends the export to that host.
    async fn terminate_connection(
        &self,
        volume: &Volume,
        connector: &Value,
    ) -> Result<(), DriverError>;
    /// Where the volume's data can be read and written on this node, when it is a local
    /// file or device (backups, image upload and download).
    fn local_path(&self, volume: &Volume) -> Option<PathBuf>;
}

/// The driver of backend `name`, as its [volume_backends.<name>] section says.
pub fn from_config(config: &Config, name: &str) -> Result<Arc<dyn VolumeDriver>, DriverError> {
    let settings = config.volume_backend(name);
    let backend_name = settings
        .volume_backend_name
        .clone()
        .unwrap_or_else(|| name.to_string());
    match settings.volume_driver.as_str() {
        "file" => {
            let dir = settings
                .file_volume_dir
                .clone()
                .unwrap_or_else(|| config.state_dir().join("volumes").join(name));
            Ok(Arc::new(file::FileDriver::new(
                backend_name,
                dir,
                &settings,
            )))
        }
        "fake" => Ok(Arc::new(fake::FakeDriver::new(backend_name, &settings))),
        "lvm" => Ok(Arc::new(lvm::LvmDriver::new(backend_name, &settings))),
        other => Err(DriverError::Setup(format!("unknown volume_driver {other}"))),
    }
}

/// Pool settings shared by the drivers.
pub(crate) fn pool_stats(
    name: &str,
    settings: &VolumeBackendSection,
    total: f64,
    free: f64,
    thin: bool,
) -> PoolStats {
    PoolStats {
        pool_name: name.to_string(),
        total_capacity_gb: total,
        free_capacity_gb: free,
        reserved_percentage: settings.reserved_percentage,
        max_over_subscription_ratio: settings.max_over_subscription_ratio,
        thin_provisioning_support: thin,
        thick_provisioning_support: !thin,
        multiattach: true,
        qos_support: false,
    }
}
