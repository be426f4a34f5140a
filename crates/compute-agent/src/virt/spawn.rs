//! What building an instance takes (`spawn`, `rescue`) and how a driver reports progress.

use super::block_device::BlockDeviceInfo;
use super::image::ImageMeta;
use super::network::Vif;
use serde::{Deserialize, Serialize};

/// An administrator password; never printed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AdminPassword(pub String);

impl std::fmt::Debug for AdminPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminPassword(***)")
    }
}

/// A file to put into the guest (`personality`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InjectedFile {
    pub path: String,
    pub contents: Vec<u8>,
}

/// Everything `spawn` needs besides the instance itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpawnRequest {
    pub image_meta: ImageMeta,
    pub injected_files: Vec<InjectedFile>,
    pub admin_password: Option<AdminPassword>,
    /// Ports allocated for the instance (allocated before spawn).
    pub network_info: Vec<Vif>,
    pub block_device_info: BlockDeviceInfo,
    /// Start the guest once it is built (false for a shelved or stopped rebuild).
    pub power_on: bool,
}

/// What `rescue` needs: the image to boot from (the instance's own when unset by the user).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RescueRequest {
    pub image_meta: ImageMeta,
    pub rescue_password: Option<AdminPassword>,
    pub network_info: Vec<Vif>,
}

/// The steps of a spawn, as the mission's launch flow describes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpawnStep {
    /// Fetching the image into the local cache.
    PreparingImage,
    /// Creating the instance's disk over its cached image.
    CreatingDisk,
    /// Writing the guest definition.
    DefiningGuest,
    /// Plugging the virtual NICs.
    PluggingVifs,
    /// Starting the guest.
    Starting,
    /// The guest is built (and running, if asked).
    Done,
}

/// Receives spawn progress (the manager turns it into `instance.progress` and events).
pub trait SpawnProgress: Send + Sync {
    fn step(&self, step: SpawnStep, percent: u8);
}

/// Ignores progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl SpawnProgress for NoProgress {
    fn step(&self, _step: SpawnStep, _percent: u8) {}
}

#[cfg(test)]
mod tests {
    use super::AdminPassword;

    #[test]
    fn passwords_never_print() {
        let shown = format!("{:?}", Some(AdminPassword("hunter2".into())));
        assert!(!shown.contains("hunter2"));
    }
}
