//! Disks beyond the image: volumes from the block storage service, ephemeral and swap disks.

use serde::{Deserialize, Serialize};

/// How to reach a volume (the block storage service's `connection_info`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VolumeConnection {
    pub volume_id: String,
    /// `iscsi`, `rbd`, `local`, `file`, ...
    pub driver_volume_type: String,
    pub serial: Option<String>,
    /// Driver-specific details (target portal, path, ...).
    pub data: serde_json::Value,
}

/// A volume attached at a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeMapping {
    /// `/dev/vdb`.
    pub mount_device: String,
    pub connection: VolumeConnection,
    /// 0 for the boot volume.
    pub boot_index: Option<i32>,
    pub delete_on_termination: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EphemeralDisk {
    pub device_name: String,
    pub size_gb: u64,
    pub guest_format: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwapDisk {
    pub device_name: String,
    pub size_mb: u64,
}

/// Every disk of an instance besides its image-backed root (Nova's `block_device_info`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlockDeviceInfo {
    pub root_device_name: Option<String>,
    pub ephemerals: Vec<EphemeralDisk>,
    pub swap: Option<SwapDisk>,
    pub volumes: Vec<VolumeMapping>,
}

/// What the block storage service needs to export a volume to this host (os-brick's
/// connector properties).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeConnector {
    pub host: String,
    pub ip: String,
    pub initiator: Option<String>,
    pub platform: String,
    pub os_type: String,
    pub multipath: bool,
}
