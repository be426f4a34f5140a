//! The filesystem store: `<dir>/<image id>`, one file per image, as Glance's file store keeps
//! them. A write goes to `<dir>/.partial/<image id>.<random>`, is fsynced, then renamed into
//! place (and the directory fsynced), so an image file is either complete or absent.

use super::{ByteRange, ByteStream, Store, StoreError, StoreWriter};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Read size of downloads: large reads keep the disk and the socket busy with few wake-ups.
const READ_CHUNK: usize = 4 << 20;
/// Chunks read ahead of the socket.
const READ_AHEAD: usize = 4;

pub struct FilesystemStore {
    id: String,
    dir: PathBuf,
}

impl FilesystemStore {
    /// Opens (creating if needed) the store rooted at `dir`.
    pub fn open(id: &str, dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir.join(".partial"))?;
        Ok(FilesystemStore { id: id.to_string(), dir: dir.to_path_buf() })
    }

    /// The file of an image; ids are checked to be plain names so no path escapes the store.
    fn path_of(&self, image_id: &str) -> Result<PathBuf, StoreError> {
        if image_id.is_empty() || !image_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(StoreError::NotFound(image_id.to_string()));
        }
        Ok(self.dir.join(image_id))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl Store for FilesystemStore {
    fn id(&self) -> &str {
        &self.id
    }

    async fn begin(&self, image_id: &str) -> Result<Box<dyn StoreWriter>, StoreError> {
        let target = self.path_of(image_id)?;
        let partial = self.dir.join(".partial").join(format!("{image_id}.{}", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&partial).await?;
        Ok(Box::new(FileWriter { file: Some(file), partial, target, dir: self.dir.clone() }))
    }

    async fn read(&self, image_id: &str, range: Option<ByteRange>) -> Result<ByteStream, StoreError> {
        let path = self.path_of(image_id)?;
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f.into_std().await,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::NotFound(image_id.into())),
            Err(e) => return Err(e.into()),
        };
        let (start, count) = match range {
            Some(r) => (r.first, r.byte_count()),
            None => (0, tokio::task::spawn_blocking({
                let file = file.try_clone()?;
                move || file.metadata().map(|m| m.len())
            })
            .await
            .map_err(std::io::Error::other)??),
        };
        Ok(read_stream(file, start, count))
    }

    async fn size(&self, image_id: &str) -> Result<Option<u64>, StoreError> {
        match tokio::fs::metadata(self.path_of(image_id)?).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, image_id: &str) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.path_of(image_id)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn discard_partial_writes(&self) -> Result<usize, StoreError> {
        let mut entries = tokio::fs::read_dir(self.dir.join(".partial")).await?;
        let mut n = 0;
        while let Some(entry) = entries.next_entry().await? {
            tokio::fs::remove_file(entry.path()).await?;
            n += 1;
        }
        Ok(n)
    }
}

/// Streams `count` bytes of `file` from `start`. A blocking thread maps the file a chunk at a
/// time, ahead of the socket, and stops when the receiver goes away (the client hung up).
///
/// Mapping instead of reading saves a copy of every byte: the socket copies straight from the
/// page cache. (The download benchmark in benches/image.sh measures the difference.)
fn read_stream(file: std::fs::File, start: u64, count: u64) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        let end = start + count;
        let mut offset = start;
        while offset < end {
            let len = (end - offset).min(READ_CHUNK as u64) as usize;
            let chunk = map_chunk(&file, offset, len);
            let stop = chunk.is_err();
            offset += len as u64;
            if tx.blocking_send(chunk).is_err() || stop {
                return;
            }
        }
    });
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }).boxed()
}

/// Maps `len` bytes of `file` at `offset`, read in from disk before it returns.
fn map_chunk(file: &std::fs::File, offset: u64, len: usize) -> std::io::Result<Bytes> {
    if file.metadata()?.len() < offset + len as u64 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "image file is shorter than recorded"));
    }
    let mut options = memmap2::MmapOptions::new();
    options.offset(offset).len(len).populate();
    // SAFETY: a mapping is undefined behaviour only if the file changes under it. Store files
    // never do: they are written under `.partial/`, fsynced, renamed into place, and only ever
    // unlinked afterwards (an unlinked file stays mapped intact). The length was checked just
    // above, so the mapping covers existing bytes only.
    #[allow(unsafe_code)]
    let map = unsafe { options.map(file)? };
    Ok(Bytes::from_owner(map))
}

struct FileWriter {
    file: Option<tokio::fs::File>,
    partial: PathBuf,
    target: PathBuf,
    dir: PathBuf,
}

#[async_trait]
impl StoreWriter for FileWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        let file = self.file.as_mut().ok_or_else(|| std::io::Error::other("writer already finished"))?;
        file.write_all(&chunk).await.map_err(full_or_io)
    }

    async fn commit(mut self: Box<Self>) -> Result<String, StoreError> {
        let mut file = self.file.take().ok_or_else(|| std::io::Error::other("writer already finished"))?;
        let result = async {
            file.flush().await?;
            file.sync_all().await?;
            drop(file);
            tokio::fs::rename(&self.partial, &self.target).await?;
            let dir = self.dir.clone();
            tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all()).await.map_err(std::io::Error::other)?
        }
        .await;
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&self.partial).await;
            return Err(full_or_io(e));
        }
        Ok(format!("file://{}", self.target.display()))
    }

    async fn abort(mut self: Box<Self>) {
        self.file.take();
        let _ = tokio::fs::remove_file(&self.partial).await;
    }
}

impl Drop for FileWriter {
    /// A writer dropped without commit or abort (a cancelled upload) removes its partial file.
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

fn full_or_io(e: std::io::Error) -> StoreError {
    if e.raw_os_error() == Some(28) {
        StoreError::Full
    } else {
        StoreError::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(store: &FilesystemStore, id: &str, range: Option<ByteRange>) -> Vec<u8> {
        let mut s = store.read(id, range).await.unwrap();
        let mut out = Vec::new();
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn commit_makes_the_object_visible_and_abort_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FilesystemStore::open("file", dir.path()).unwrap();
        let mut w = store.begin("a1").await.unwrap();
        w.write(Bytes::from_static(b"hello ")).await.unwrap();
        w.write(Bytes::from_static(b"world")).await.unwrap();
        assert_eq!(store.size("a1").await.unwrap(), None, "invisible before commit");
        let location = w.commit().await.unwrap();
        assert!(location.ends_with("/a1"));
        assert_eq!(read_all(&store, "a1", None).await, b"hello world");
        assert_eq!(read_all(&store, "a1", Some(ByteRange { first: 6, last: 9 })).await, b"worl");

        let mut w = store.begin("b2").await.unwrap();
        w.write(Bytes::from_static(b"partial")).await.unwrap();
        w.abort().await;
        assert_eq!(store.size("b2").await.unwrap(), None);
        assert_eq!(std::fs::read_dir(dir.path().join(".partial")).unwrap().count(), 0);

        let mut w = store.begin("c3").await.unwrap();
        w.write(Bytes::from_static(b"dropped")).await.unwrap();
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path().join(".partial")).unwrap().count(), 0, "a dropped writer cleans up");

        store.delete("a1").await.unwrap();
        store.delete("a1").await.unwrap();
        assert!(matches!(store.read("a1", None).await, Err(StoreError::NotFound(_))));
    }

    #[tokio::test]
    async fn leftovers_of_a_crash_are_discarded_and_ids_cannot_escape() {
        let dir = tempfile::tempdir().unwrap();
        let store = FilesystemStore::open("file", dir.path()).unwrap();
        std::fs::write(dir.path().join(".partial/x.123"), b"half").unwrap();
        assert_eq!(store.discard_partial_writes().await.unwrap(), 1);
        assert!(store.begin("../etc").await.is_err());
        assert!(matches!(store.read("../../etc/passwd", None).await, Err(StoreError::NotFound(_))));
    }
}
