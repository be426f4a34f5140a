//! Receiving image data: the request body is cut into 1 MiB blocks; each block goes to two
//! hashing threads (md5 for `checksum`, sha512 for `os_hash_value`), through the format
//! inspector, and into the store, so the bytes are read once and the hashes cost no extra
//! pass. Blocks in flight are bounded, so memory stays flat whatever the image size.

use crate::inspect::{self, Inspection, Inspector};
use crate::store::StoreWriter;
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use md5::Digest;
use tokio::sync::mpsc;

const BLOCK: usize = 1 << 20;
/// Blocks queued per hashing thread.
const QUEUE: usize = 4;

/// What a completed upload brought.
#[derive(Debug, Clone)]
pub struct Received {
    pub size: u64,
    pub md5: String,
    pub sha512: String,
    pub inspection: Inspection,
    /// The data's location in the store.
    pub location: String,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The data was refused (wrong or unsafe format): the image may be uploaded again.
    #[error("{0}")]
    Refused(String),
    /// More bytes than allowed (size cap or quota).
    #[error("{0}")]
    TooLarge(String),
    /// The transfer or the store failed.
    #[error("{0}")]
    Failed(String),
}

/// Streams `body` into `writer`, hashing and inspecting on the way; commits only data that
/// passed the inspection and matches `declared_format`. At most `max_bytes` are accepted.
pub async fn receive<S, E>(body: S, mut writer: Box<dyn StoreWriter>, declared_format: &str, max_bytes: u64) -> Result<Received, UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let (md5_tx, md5_done) = hasher::<md5::Md5>();
    let (sha_tx, sha_done) = hasher::<sha2::Sha512>();
    let fed = feed(body, &mut *writer, &md5_tx, &sha_tx, max_bytes).await;
    drop((md5_tx, sha_tx));
    let (md5, sha512) = (md5_done.await, sha_done.await);
    let (size, inspector) = match fed {
        Ok(done) => done,
        Err(e) => {
            writer.abort().await;
            return Err(e);
        }
    };
    let (Ok(md5), Ok(sha512)) = (md5, sha512) else {
        writer.abort().await;
        return Err(UploadError::Failed("hashing thread failed".into()));
    };
    let inspection = match inspector.finish(size).and_then(|found| inspect::check_declared(declared_format, &found).map(|()| found)) {
        Ok(found) => found,
        Err(e) => {
            writer.abort().await;
            return Err(UploadError::Refused(format!("Image data refused: {e}")));
        }
    };
    let location = writer.commit().await.map_err(|e| UploadError::Failed(e.to_string()))?;
    Ok(Received { size, md5, sha512, inspection, location })
}

/// Copies the body to the writer and the hashers block by block; returns the byte count.
async fn feed<S, E>(
    mut body: S,
    writer: &mut dyn StoreWriter,
    md5_tx: &mpsc::Sender<Bytes>,
    sha_tx: &mpsc::Sender<Bytes>,
    max_bytes: u64,
) -> Result<(u64, Inspector), UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut inspector = Inspector::new();
    let mut size: u64 = 0;
    let mut block = BytesMut::with_capacity(BLOCK);
    loop {
        let (chunk, last) = match body.next().await {
            Some(Ok(chunk)) => (chunk, false),
            Some(Err(e)) => return Err(UploadError::Failed(format!("image data transfer failed: {e}"))),
            None => (Bytes::new(), true),
        };
        size += chunk.len() as u64;
        if size > max_bytes {
            return Err(UploadError::TooLarge(format!("Image exceeds the storage limit of {max_bytes} bytes")));
        }
        block.extend_from_slice(&chunk);
        if block.len() >= BLOCK || (last && !block.is_empty()) {
            let full = std::mem::replace(&mut block, BytesMut::with_capacity(BLOCK)).freeze();
            inspector.feed(&full);
            let hashed = md5_tx.send(full.clone()).await.is_ok() && sha_tx.send(full.clone()).await.is_ok();
            if !hashed {
                return Err(UploadError::Failed("hashing thread stopped".into()));
            }
            writer.write(full).await.map_err(|e| UploadError::Failed(e.to_string()))?;
        }
        if last {
            return Ok((size, inspector));
        }
    }
}

/// A hashing thread fed through a bounded queue; resolves to the hex digest.
fn hasher<D: Digest + Send + 'static>() -> (mpsc::Sender<Bytes>, tokio::task::JoinHandle<String>) {
    let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
    let done = tokio::task::spawn_blocking(move || {
        let mut digest = D::new();
        while let Some(block) = rx.blocking_recv() {
            digest.update(&block);
        }
        hex(&digest.finalize())
    });
    (tx, done)
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FilesystemStore, Store};

    fn body(parts: Vec<Result<Bytes, String>>) -> impl Stream<Item = Result<Bytes, String>> + Unpin {
        futures::stream::iter(parts)
    }

    #[tokio::test]
    async fn hashes_sizes_and_stores_what_it_receives() {
        let dir = tempfile::tempdir().unwrap();
        let store = FilesystemStore::open("file", dir.path()).unwrap();
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let parts = data.chunks(65_536).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        let got = receive(body(parts), store.begin("img").await.unwrap(), "raw", u64::MAX).await.unwrap();
        assert_eq!(got.size, 3_000_000);
        assert_eq!(got.md5, hex(&md5::Md5::digest(&data)));
        assert_eq!(got.sha512, hex(&sha2::Sha512::digest(&data)));
        assert_eq!(got.inspection.virtual_size, 3_000_000);
        assert_eq!(std::fs::read(dir.path().join("img")).unwrap(), data);
    }

    #[tokio::test]
    async fn failures_leave_no_data() {
        let dir = tempfile::tempdir().unwrap();
        let store = FilesystemStore::open("file", dir.path()).unwrap();
        let broken = body(vec![Ok(Bytes::from_static(b"abc")), Err("connection reset".into())]);
        let e = receive(broken, store.begin("a").await.unwrap(), "raw", u64::MAX).await.unwrap_err();
        assert!(matches!(e, UploadError::Failed(_)), "{e}");
        let big = body(vec![Ok(Bytes::from(vec![0u8; 100]))]);
        let e = receive(big, store.begin("b").await.unwrap(), "raw", 99).await.unwrap_err();
        assert!(matches!(e, UploadError::TooLarge(_)), "{e}");
        let raw_as_qcow2 = body(vec![Ok(Bytes::from(vec![0u8; 4096]))]);
        let e = receive(raw_as_qcow2, store.begin("c").await.unwrap(), "qcow2", u64::MAX).await.unwrap_err();
        assert!(matches!(e, UploadError::Refused(_)), "{e}");
        for id in ["a", "b", "c"] {
            assert_eq!(store.size(id).await.unwrap(), None);
        }
        assert_eq!(std::fs::read_dir(dir.path().join(".partial")).unwrap().count(), 0);
    }
}
