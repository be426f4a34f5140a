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
    tokio::task::spawn_blocking(move || send_chunks(&file, start, start + count, tx));
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }).boxed()
}

/// The reader of [`read_stream`]. Chunks that were not in the page cache when the download
/// came to them are read in for this download only: once the socket is done with one, its
/// pages are dropped from the cache again (drop-behind), so that streaming an image does not
/// push a gigabyte of other data out of memory, and so that the next chunks are read into
/// the memory just freed. Chunks that were cached already (an image downloaded again while
/// still in memory) are left cached.
fn send_chunks(file: &std::fs::File, start: u64, end: u64, tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>) {
    let (sent_tx, sent_rx) = std::sync::mpsc::channel::<(u64, usize)>();
    let mut survey = Survey::new(start, end);
    let mut offset = start;
    while offset < end {
        for (at, len) in sent_rx.try_iter() {
            drop_from_cache(file, at, len);
        }
        let len = (end - offset).min(READ_CHUNK as u64) as usize;
        let cached = survey.next_was_cached(file);
        let chunk = map_chunk(file, offset, len).map(|map| {
            if cached {
                Bytes::from_owner(map)
            } else {
                Bytes::from_owner(SentChunk { map: Some(map), offset, len, sent: sent_tx.clone() })
            }
        });
        let stop = chunk.is_err();
        offset += len as u64;
        if tx.blocking_send(chunk).is_err() || stop {
            break;
        }
    }
    // The stream ends here; the last chunks may still be on their way to the client (or held
    // by a consumer that collects the whole body), so their pages are dropped as they come
    // back, for as long as they keep coming.
    drop(tx);
    drop(sent_tx);
    while let Ok((at, len)) = sent_rx.recv_timeout(SENT_WAIT) {
        drop_from_cache(file, at, len);
    }
}

/// How long the reader waits for the next chunk in flight to be sent, after the last one was
/// read; a client stalled for longer leaves those pages cached.
const SENT_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Whether the chunks of a download were in the page cache before it began. Each chunk is
/// looked up [`SURVEY_AHEAD`] chunks before it is mapped: further than the kernel reads ahead
/// of a mapping, so the download's own readahead does not count as cached.
struct Survey {
    cached: std::collections::VecDeque<bool>,
    next: u64,
    end: u64,
    pages: Vec<u8>,
}

/// Chunks looked up ahead of the one being mapped (64 MiB).
const SURVEY_AHEAD: usize = 16;

impl Survey {
    fn new(start: u64, end: u64) -> Self {
        Survey { cached: std::collections::VecDeque::with_capacity(SURVEY_AHEAD + 1), next: start, end, pages: Vec::new() }
    }

    /// Whether the next chunk was cached when it was looked up.
    fn next_was_cached(&mut self, file: &std::fs::File) -> bool {
        while self.cached.len() <= SURVEY_AHEAD && self.next < self.end {
            let len = (self.end - self.next).min(READ_CHUNK as u64) as usize;
            let cached = in_page_cache(file, self.next, len, &mut self.pages);
            self.cached.push_back(cached);
            self.next += len as u64;
        }
        self.cached.pop_front().unwrap_or(true)
    }
}

/// Whether every page of `len` bytes of `file` at `offset` is in the page cache (`mincore`
/// on a mapping that is never read). True when that cannot be told: nothing is dropped then.
fn in_page_cache(file: &std::fs::File, offset: u64, len: usize, pages: &mut Vec<u8>) -> bool {
    // SAFETY: sysconf has no preconditions.
    #[allow(unsafe_code)]
    let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        p if p > 0 => p as u64,
        _ => return true,
    };
    let aligned = offset - offset % page;
    let span = (offset - aligned) as usize + len;
    // SAFETY: the mapping is only passed to mincore, never read, so a file changing under it
    // cannot be observed through it.
    #[allow(unsafe_code)]
    let Ok(map) = (unsafe { memmap2::MmapOptions::new().offset(aligned).len(span).map(file) }) else {
        return true;
    };
    pages.clear();
    pages.resize(span.div_ceil(page as usize), 0);
    // SAFETY: the address is the page-aligned start of a live mapping of `span` bytes, and
    // `pages` has one byte per page of it, as mincore(2) requires.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::mincore(map.as_ptr() as *mut libc::c_void, span, pages.as_mut_ptr()) };
    rc != 0 || pages.iter().all(|p| p & 1 == 1)
}

/// Drops the page cache of a range this download read in (pages still mapped elsewhere, say
/// by a concurrent download of the same image, stay).
fn drop_from_cache(file: &std::fs::File, offset: u64, len: usize) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: posix_fadvise only takes a descriptor, which `file` keeps open, and numbers.
    #[allow(unsafe_code)]
    unsafe {
        libc::posix_fadvise(file.as_raw_fd(), offset, len, libc::POSIX_FADV_DONTNEED);
    }
}

/// A mapped chunk read in for this download: once the socket has sent it and dropped it, it
/// is unmapped and its range goes back to the reader to be dropped from the cache.
struct SentChunk {
    map: Option<memmap2::Mmap>,
    offset: u64,
    len: usize,
    sent: std::sync::mpsc::Sender<(u64, usize)>,
}

impl AsRef<[u8]> for SentChunk {
    fn as_ref(&self) -> &[u8] {
        self.map.as_deref().unwrap_or_default()
    }
}

impl Drop for SentChunk {
    fn drop(&mut self) {
        self.map.take();
        let _ = self.sent.send((self.offset, self.len));
    }
}

/// Maps `len` bytes of `file` at `offset`, read in from disk before it returns.
fn map_chunk(file: &std::fs::File, offset: u64, len: usize) -> std::io::Result<memmap2::Mmap> {
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
    Ok(map)
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

    /// A committed image of `len` bytes that are not all alike, so misplaced chunks show.
    async fn stored(store: &FilesystemStore, id: &str, len: usize) -> Vec<u8> {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8 ^ (i / 65_536) as u8).collect();
        let mut w = store.begin(id).await.unwrap();
        w.write(Bytes::copy_from_slice(&data)).await.unwrap();
        w.commit().await.unwrap();
        data
    }

    #[tokio::test]
    async fn downloads_across_chunks_concurrently_and_of_a_deleted_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = FilesystemStore::open("file", dir.path()).unwrap();
        let data = stored(&store, "big", 2 * READ_CHUNK + 12_345).await;
        let (a, b) = tokio::join!(read_all(&store, "big", None), read_all(&store, "big", None));
        assert!(a == data && b == data, "two downloads at once both get every byte");
        let (first, last) = (READ_CHUNK as u64 - 100, 2 * READ_CHUNK as u64 + 50);
        let range = read_all(&store, "big", Some(ByteRange { first, last })).await;
        assert!(range == data[first as usize..=last as usize], "a range across chunk boundaries");

        // Deleted while being downloaded: the open file is read to the end.
        let mut s = store.read("big", None).await.unwrap();
        let mut out = s.next().await.unwrap().unwrap().to_vec();
        store.delete("big").await.unwrap();
        assert_eq!(store.size("big").await.unwrap(), None);
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        assert!(out == data, "a download outlives the deletion of its file");
    }

    /// Whether `file` is wholly in the page cache, polled for a while: the reader drops the
    /// last chunks' pages just after the stream ends.
    async fn cached_after_a_while(path: &Path, len: usize, want: bool) -> bool {
        let file = std::fs::File::open(path).unwrap();
        let mut pages = Vec::new();
        for _ in 0..100 {
            let cached = in_page_cache(&file, 0, len, &mut pages);
            if cached == want {
                return cached;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        in_page_cache(&file, 0, len, &mut pages)
    }

    #[tokio::test]
    async fn a_download_drops_from_the_cache_only_what_it_read_in() {
        let dir = tempfile::tempdir().unwrap();
        let store = FilesystemStore::open("file", dir.path()).unwrap();
        let len = 2 * READ_CHUNK + 4096;
        let data = stored(&store, "img", len).await;
        let path = dir.path().join("img");

        // Cached before (just written): still cached after, and every byte is right.
        assert!(read_all(&store, "img", None).await == data);
        assert!(cached_after_a_while(&path, len, true).await, "a cached image stays cached");

        // Not cached before: read in for the download, and dropped behind it. (File systems
        // that keep everything in memory, tmpfs, cannot drop it: nothing to check there.)
        let file = std::fs::File::open(&path).unwrap();
        drop_from_cache(&file, 0, len);
        if in_page_cache(&file, 0, len, &mut Vec::new()) {
            return;
        }
        assert!(read_all(&store, "img", None).await == data);
        assert!(!cached_after_a_while(&path, len, false).await, "what the download read in is dropped after it");
        // A range download starting mid-page reads and drops the same way.
        let range = read_all(&store, "img", Some(ByteRange { first: 10, last: READ_CHUNK as u64 + 9 })).await;
        assert!(range == data[10..READ_CHUNK + 10]);
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
