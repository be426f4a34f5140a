//! Image metadata as drivers see it, and where a real driver downloads image data from.

use super::error::VirtResult;
use super::snapshot::ByteStream;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An image's metadata (from the image service).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageMeta {
    pub id: Option<String>,
    pub name: Option<String>,
    pub disk_format: Option<String>,
    pub container_format: Option<String>,
    pub size: Option<u64>,
    pub min_disk: u64,
    pub min_ram: u64,
    /// Image properties (`hw_disk_bus`, `hw_vif_model`, `os_distro`, ...).
    pub properties: BTreeMap<String, String>,
}

/// Downloads image data. Real drivers are given one at construction to fill their image
/// cache; the fake driver needs none.
#[async_trait]
pub trait ImageSource: Send + Sync {
    async fn download(&self, image_id: &str) -> VirtResult<ByteStream>;
}
