//! Where image bytes live. A [`Store`] keeps one object per image id; writes go through a
//! [`StoreWriter`] whose bytes become visible only on [`StoreWriter::commit`], so a failed or
//! interrupted upload never leaves a partial object behind. The shape fits object storage
//! too (begin = start a multipart upload, write = upload a part, commit = complete it).

pub mod filesystem;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

pub use filesystem::FilesystemStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no data for image {0} in the store")]
    NotFound(String),
    #[error("the store is full")]
    Full,
    #[error("store I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A byte range of an object, inclusive of both ends (as HTTP ranges are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub first: u64,
    pub last: u64,
}

impl ByteRange {
    /// Bytes in the range (never zero: both ends are included).
    pub fn byte_count(&self) -> u64 {
        self.last - self.first + 1
    }
}

pub type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The store's id as `/v2/info/stores` and the image's `stores` attribute show it.
    fn id(&self) -> &str;

    /// Starts a new object for `image_id`, invisible until committed.
    async fn begin(&self, image_id: &str) -> Result<Box<dyn StoreWriter>, StoreError>;

    /// Streams the object (or a range of it) back.
    async fn read(&self, image_id: &str, range: Option<ByteRange>) -> Result<ByteStream, StoreError>;

    /// Size of the stored object, if there is one.
    async fn size(&self, image_id: &str) -> Result<Option<u64>, StoreError>;

    /// Removes the object; removing a missing object is not an error.
    async fn delete(&self, image_id: &str) -> Result<(), StoreError>;

    /// Discards the leftovers of writes a crash interrupted; returns how many.
    async fn discard_partial_writes(&self) -> Result<usize, StoreError>;
}

#[async_trait]
pub trait StoreWriter: Send {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError>;
    /// Makes the object durable and visible under the image id; returns its location URL.
    async fn commit(self: Box<Self>) -> Result<String, StoreError>;
    /// Drops everything written.
    async fn abort(self: Box<Self>);
}
