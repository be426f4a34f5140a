//! A snapshot of an instance's root disk, streamed so the caller can upload it to the image
//! service without holding it in memory.

use super::error::VirtError;
use futures::stream::BoxStream;

/// Image data as a stream of chunks.
pub type ByteStream = BoxStream<'static, Result<bytes::Bytes, VirtError>>;

/// What `snapshot` hands back; the caller uploads `data` as the image's content.
pub struct SnapshotImage {
    /// `raw` or `qcow2`.
    pub disk_format: String,
    pub container_format: String,
    /// Total bytes, when known in advance.
    pub size: Option<u64>,
    pub data: ByteStream,
}

impl std::fmt::Debug for SnapshotImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotImage")
            .field("disk_format", &self.disk_format)
            .field("container_format", &self.container_format)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}
