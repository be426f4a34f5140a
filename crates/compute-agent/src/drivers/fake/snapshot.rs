//! Snapshot data: a small raw disk image whose bytes depend only on the instance and the image
//! it was built from, so tests can check what reached the image service.

use crate::virt::{ByteStream, SnapshotImage};
use bytes::Bytes;

/// Size of every fake snapshot.
pub const SNAPSHOT_SIZE: usize = 64 * 1024;
const CHUNK: usize = 16 * 1024;

/// The deterministic disk content of `instance_uuid` built from `image_id`.
pub fn disk_bytes(instance_uuid: &str, image_id: Option<&str>) -> Vec<u8> {
    let header = format!(
        "MONOSTACK-FAKE-DISK\ninstance={instance_uuid}\nimage={}\n",
        image_id.unwrap_or("none")
    );
    let mut data = Vec::with_capacity(SNAPSHOT_SIZE);
    data.extend_from_slice(header.as_bytes());
    data.resize(512, 0);
    let mut state = seed(instance_uuid);
    while data.len() < SNAPSHOT_SIZE {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    data.truncate(SNAPSHOT_SIZE);
    data
}

/// FNV-1a of the uuid, never zero (xorshift would stay at zero).
fn seed(text: &str) -> u64 {
    let hash = text
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    hash.max(1)
}

/// The snapshot as a raw image streamed in chunks.
pub fn snapshot_image(instance_uuid: &str, image_id: Option<&str>) -> SnapshotImage {
    let data = disk_bytes(instance_uuid, image_id);
    let chunks: Vec<Result<Bytes, _>> =
        data.chunks(CHUNK).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let stream: ByteStream = Box::pin(futures::stream::iter(chunks));
    SnapshotImage {
        disk_format: "raw".into(),
        container_format: "bare".into(),
        size: Some(SNAPSHOT_SIZE as u64),
        data: stream,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_deterministic_and_instance_specific() {
        let a = disk_bytes("u1", Some("img"));
        assert_eq!(a.len(), SNAPSHOT_SIZE);
        assert_eq!(a, disk_bytes("u1", Some("img")));
        assert_ne!(a, disk_bytes("u2", Some("img")));
        assert!(a.starts_with(b"MONOSTACK-FAKE-DISK\ninstance=u1\nimage=img\n"));
    }
}
