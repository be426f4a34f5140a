//! The POSIX backup driver (Cinder's chunked driver over a directory, as its posix/NFS backup
//! drivers): a backup is a container directory under `[volume] backup_posix_path` holding
//!
//! - `backup-00001`, `backup-00002`, …: zlib-compressed chunks of at most `backup_file_size`
//!   bytes of volume data each (an incremental backup stores only the runs of 32 KiB blocks
//!   that changed since its parent);
//! - `backup_metadata`: JSON naming each chunk with its offset, length, compression and the
//!   sha256 of its compressed bytes, and the volume's metadata;
//! - `backup_sha256file`: the sha256 of every 32 KiB block of the volume (Cinder's
//!   `backup_sha_block_size_bytes`), which incremental backups compare against.
//!
//! A restore applies the chain from the full backup to the one asked for, and refuses a chunk
//! whose compressed sha256 or whose restored blocks' sha256s differ from what was recorded.
//! The default container is `<id[0:2]>/<id[2:4]>/<id>` (Cinder's posix layout), holding one
//! backup; in a container named by the user, the objects are prefixed `backup_<id>`.

use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Cinder's `backup_sha_block_size_bytes`.
pub const SHA_BLOCK: usize = 32 * 1024;
/// Cinder's driver name for this backend, as backups record it in `service`.
pub const SERVICE_NAME: &str = "cinder.backup.drivers.posix.PosixBackupDriver";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Invalid(String),
}

/// One stored chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectInfo {
    pub name: String,
    /// Where its data goes in the volume, in bytes.
    pub offset: u64,
    /// Bytes of volume data it holds (uncompressed).
    pub length: u64,
    pub compression: String,
    /// sha256 of the compressed file.
    pub sha256: String,
}

/// `backup_metadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub version: String,
    pub backup_id: String,
    pub volume_id: String,
    pub parent_id: Option<String>,
    pub backup_name: Option<String>,
    pub backup_description: Option<String>,
    pub created_at: String,
    /// Bytes of the volume when it was backed up.
    pub volume_size_bytes: u64,
    pub objects: Vec<ObjectInfo>,
    pub volume_meta: BTreeMap<String, String>,
    /// The volume's image metadata (Cinder's `volume-glance-metadata`): a restore gives it
    /// back and makes the volume bootable.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volume_glance_meta: BTreeMap<String, String>,
}

/// `backup_sha256file`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShaFile {
    pub volume_id: String,
    pub backup_name: Option<String>,
    pub backup_description: Option<String>,
    pub created_at: String,
    pub chunk_size: usize,
    pub sha256s: Vec<String>,
}

/// Where one backup's files are: its container directory and its object prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub dir: PathBuf,
    pub prefix: String,
}

impl Location {
    fn object(&self, index: usize) -> String {
        format!("{}-{index:05}", self.prefix)
    }
    fn metadata_path(&self) -> PathBuf {
        self.dir.join(format!("{}_metadata", self.prefix))
    }
    fn sha_path(&self) -> PathBuf {
        self.dir.join(format!("{}_sha256file", self.prefix))
    }
}

/// What a backup needs to know about what it backs up.
#[derive(Debug, Clone, Default)]
pub struct BackupInfo {
    pub backup_id: String,
    pub volume_id: String,
    pub parent_id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub created_at: String,
    pub volume_meta: BTreeMap<String, String>,
    pub volume_glance_meta: BTreeMap<String, String>,
}

pub struct PosixDriver {
    root: PathBuf,
    file_size: u64,
    /// Whether new chunks are zlib-compressed (else stored as they are, `none`).
    compress: bool,
}

/// The default container of a backup (Cinder's posix `update_container_name`).
pub fn default_container(backup_id: &str) -> String {
    let a = backup_id.get(0..2).unwrap_or("xx");
    let b = backup_id.get(2..4).unwrap_or("xx");
    format!("{a}/{b}/{backup_id}")
}

/// Whether a container name is a safe relative path: components of letters, digits, `-`,
/// `_` and `.`, none of them `.` or `..`.
pub fn valid_container(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && c.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.')))
}

/// A writer that hashes what passes through it.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a chunk's data goes: through zlib, or as it is.
enum ChunkWriter {
    Zlib(ZlibEncoder<Hashing<File>>),
    Plain(Hashing<File>),
}

impl ChunkWriter {
    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self {
            ChunkWriter::Zlib(e) => e.write_all(data),
            ChunkWriter::Plain(h) => h.write_all(data),
        }
    }
}

/// An open chunk being written.
struct OpenObject {
    info: ObjectInfo,
    encoder: ChunkWriter,
}

impl OpenObject {
    fn finish(self) -> Result<ObjectInfo, BackupError> {
        let hashing = match self.encoder {
            ChunkWriter::Zlib(e) => e.finish()?,
            ChunkWriter::Plain(h) => h,
        };
        hashing.inner.sync_all()?;
        let mut info = self.info;
        info.sha256 = hex(&hashing.hasher.finalize());
        Ok(info)
    }
}

impl PosixDriver {
    /// A driver storing under `root`, with chunks of at most `file_size` bytes (rounded down
    /// to whole sha blocks).
    pub fn new(root: PathBuf, file_size: u64) -> Self {
        let block = SHA_BLOCK as u64;
        PosixDriver {
            root,
            file_size: (file_size / block).max(1) * block,
            compress: true,
        }
    }

    /// The same, storing new chunks as `algorithm` says (Cinder's
    /// backup_compression_algorithm: `zlib`/`gzip`, or `none`/`off`/`no`).
    pub fn with_compression(mut self, algorithm: &str) -> Self {
        self.compress = !matches!(algorithm, "none" | "off" | "no");
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where an existing backup is kept: in `container`, its files named with the prefix its
    /// record keeps (`service_metadata`, as Cinder's posix driver does), so a record imported
    /// under another id still finds them; a prefix that is not a plain file name is ignored.
    pub fn existing_location(&self, backup_id: &str, container: &str, prefix: Option<&str>) -> Location {
        let mut loc = self.location(backup_id, container);
        if let Some(p) = prefix.filter(|p| {
            !p.is_empty() && p.len() <= 255 && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }) {
            loc.prefix = p.to_string();
        }
        loc
    }

    /// Where a backup in `container` is kept.
    pub fn location(&self, backup_id: &str, container: &str) -> Location {
        let prefix = if container == default_container(backup_id) {
            "backup".to_string()
        } else {
            format!("backup_{backup_id}")
        };
        Location {
            dir: self.root.join(container),
            prefix,
        }
    }

    /// Reads the sha256 file of a backup.
    pub fn read_shas(&self, loc: &Location) -> Result<ShaFile, BackupError> {
        let text = std::fs::read(loc.sha_path())?;
        serde_json::from_slice(&text).map_err(|e| BackupError::Invalid(format!("{}: {e}", loc.sha_path().display())))
    }

    /// Reads the metadata file of a backup.
    pub fn read_metadata(&self, loc: &Location) -> Result<Metadata, BackupError> {
        let text = std::fs::read(loc.metadata_path())?;
        serde_json::from_slice(&text).map_err(|e| BackupError::Invalid(format!("{}: {e}", loc.metadata_path().display())))
    }

    /// Backs up the raw data at `source` into `loc`: every block when `parent_shas` is None,
    /// else only the blocks whose sha256 differs from the parent's. Returns the metadata
    /// written (its objects are the chunks).
    pub fn backup(&self, source: &Path, loc: &Location, info: &BackupInfo, parent_shas: Option<&[String]>) -> Result<Metadata, BackupError> {
        std::fs::create_dir_all(&loc.dir)?;
        let mut input = BufReader::with_capacity(1 << 20, File::open(source)?);
        let total = std::fs::metadata(source)?.len();
        let mut shas = Vec::with_capacity((total as usize).div_ceil(SHA_BLOCK));
        let mut objects = Vec::new();
        let mut current: Option<OpenObject> = None;
        let mut block = vec![0u8; SHA_BLOCK];
        let mut offset = 0u64;
        while offset < total {
            let want = (total - offset).min(SHA_BLOCK as u64) as usize;
            input.read_exact(&mut block[..want])?;
            let data = &block[..want];
            let sha = hex(&Sha256::digest(data));
            let index = shas.len();
            let changed = parent_shas.is_none_or(|p| p.get(index) != Some(&sha));
            shas.push(sha);
            if changed {
                if current.as_ref().is_some_and(|o| o.info.length + want as u64 > self.file_size) {
                    if let Some(o) = current.take() {
                        objects.push(o.finish()?);
                    }
                }
                if current.is_none() {
                    let name = loc.object(objects.len() + 1);
                    let file = File::create(loc.dir.join(&name))?;
                    let hashing = Hashing {
                        inner: file,
                        hasher: Sha256::new(),
                    };
                    let (compression, encoder) = if self.compress {
                        ("zlib", ChunkWriter::Zlib(ZlibEncoder::new(hashing, Compression::fast())))
                    } else {
                        ("none", ChunkWriter::Plain(hashing))
                    };
                    current = Some(OpenObject {
                        info: ObjectInfo {
                            name,
                            offset,
                            length: 0,
                            compression: compression.into(),
                            sha256: String::new(),
                        },
                        encoder,
                    });
                }
                if let Some(o) = current.as_mut() {
                    o.encoder.write_all(data)?;
                    o.info.length += want as u64;
                }
            } else if let Some(o) = current.take() {
                objects.push(o.finish()?);
            }
            offset += want as u64;
        }
        if let Some(o) = current.take() {
            objects.push(o.finish()?);
        }
        let sha_file = ShaFile {
            volume_id: info.volume_id.clone(),
            backup_name: info.name.clone(),
            backup_description: info.description.clone(),
            created_at: info.created_at.clone(),
            chunk_size: SHA_BLOCK,
            sha256s: shas,
        };
        let metadata = Metadata {
            version: "1.0.0".into(),
            backup_id: info.backup_id.clone(),
            volume_id: info.volume_id.clone(),
            parent_id: info.parent_id.clone(),
            backup_name: info.name.clone(),
            backup_description: info.description.clone(),
            created_at: info.created_at.clone(),
            volume_size_bytes: total,
            objects,
            volume_meta: info.volume_meta.clone(),
            volume_glance_meta: info.volume_glance_meta.clone(),
        };
        write_json(
            &loc.sha_path(),
            &serde_json::to_vec(&sha_file).map_err(|e| BackupError::Invalid(e.to_string()))?,
        )?;
        write_json(
            &loc.metadata_path(),
            &serde_json::to_vec_pretty(&metadata).map_err(|e| BackupError::Invalid(e.to_string()))?,
        )?;
        Ok(metadata)
    }

    /// Writes the chunks of one backup of a chain into `target` (raw), checking each chunk's
    /// compressed sha256 and the sha256 of every restored block. Returns the metadata.
    pub fn restore_one(&self, loc: &Location, target: &Path) -> Result<Metadata, BackupError> {
        let metadata = self.read_metadata(loc)?;
        let shas = self.read_shas(loc)?;
        if shas.chunk_size != SHA_BLOCK {
            return Err(BackupError::Invalid(format!("unsupported sha block size {}", shas.chunk_size)));
        }
        let mut out = OpenOptions::new().read(true).write(true).open(target)?;
        let mut existing = vec![0u8; SHA_BLOCK];
        for obj in &metadata.objects {
            let path = loc.dir.join(&obj.name);
            let got = hex(&sha256_of_file(&path)?);
            if got != obj.sha256 {
                return Err(BackupError::Invalid(format!(
                    "sha256 of backup object {} does not match its metadata ({got} != {})",
                    obj.name, obj.sha256
                )));
            }
            let file = BufReader::with_capacity(1 << 20, File::open(&path)?);
            let mut decoder: Box<dyn Read> = match obj.compression.as_str() {
                "zlib" => Box::new(ZlibDecoder::new(file)),
                "none" => Box::new(file),
                other => return Err(BackupError::Invalid(format!("unsupported compression {other} of {}", obj.name))),
            };
            let mut block = vec![0u8; SHA_BLOCK];
            let mut done = 0u64;
            while done < obj.length {
                let want = (obj.length - done).min(SHA_BLOCK as u64) as usize;
                decoder
                    .read_exact(&mut block[..want])
                    .map_err(|e| BackupError::Invalid(format!("backup object {} is corrupt: {e}", obj.name)))?;
                let index = ((obj.offset + done) / SHA_BLOCK as u64) as usize;
                let sha = hex(&Sha256::digest(&block[..want]));
                if shas.sha256s.get(index) != Some(&sha) {
                    return Err(BackupError::Invalid(format!(
                        "sha256 of block {index} restored from {} does not match the backup's sha256 file",
                        obj.name
                    )));
                }
                // Blocks the target already holds are not rewritten: a sparse new volume stays
                // sparse where the backup holds zeros.
                let pos = obj.offset + done;
                out.seek(SeekFrom::Start(pos))?;
                let have = read_up_to(&mut out, &mut existing[..want])?;
                if have != want || existing[..want] != block[..want] {
                    out.seek(SeekFrom::Start(pos))?;
                    out.write_all(&block[..want])?;
                }
                done += want as u64;
            }
        }
        out.sync_all()?;
        Ok(metadata)
    }

    /// Removes a backup's files, and the container directories it leaves empty.
    pub fn delete(&self, loc: &Location) -> Result<(), BackupError> {
        if let Ok(metadata) = self.read_metadata(loc) {
            for obj in &metadata.objects {
                remove_if_exists(&loc.dir.join(&obj.name))?;
            }
        }
        // Chunks a failed backup left behind, not named in any metadata.
        if let Ok(entries) = std::fs::read_dir(&loc.dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if name
                    .strip_prefix(&format!("{}-", loc.prefix))
                    .is_some_and(|n| n.len() == 5 && n.bytes().all(|b| b.is_ascii_digit()))
                {
                    remove_if_exists(&entry.path())?;
                }
            }
        }
        remove_if_exists(&loc.metadata_path())?;
        remove_if_exists(&loc.sha_path())?;
        let mut dir = loc.dir.clone();
        while dir.starts_with(&self.root) && dir != self.root {
            if std::fs::remove_dir(&dir).is_err() {
                break;
            }
            if !dir.pop() {
                break;
            }
        }
        Ok(())
    }
}

/// Reads as much of `buf` as the file holds from its position.
fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn remove_if_exists(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

fn write_json(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

fn sha256_of_file(path: &Path) -> Result<Vec<u8>, BackupError> {
    let mut f = BufReader::new(File::open(path)?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, parent: Option<&str>) -> BackupInfo {
        BackupInfo {
            backup_id: id.into(),
            volume_id: "vol".into(),
            parent_id: parent.map(str::to_string),
            created_at: "now".into(),
            ..Default::default()
        }
    }

    #[test]
    fn full_and_incremental_round_trip_and_corruption_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let driver = PosixDriver::new(dir.path().join("backups"), 4 * SHA_BLOCK as u64);
        let src = dir.path().join("vol");
        let mut data: Vec<u8> = (0..(10 * SHA_BLOCK + 100)).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&src, &data).expect("write");
        let full = driver.location("aabbccdd-full", &default_container("aabbccdd-full"));
        let m = driver.backup(&src, &full, &info("aabbccdd-full", None), None).expect("full");
        assert_eq!(m.objects.len(), 3, "11 blocks in chunks of 4");
        assert!(full.dir.join("backup-00001").exists() && full.dir.join("backup_metadata").exists() && full.dir.join("backup_sha256file").exists());
        // Change two separate blocks: the incremental holds two chunks.
        data[SHA_BLOCK + 5] ^= 0xff;
        data[7 * SHA_BLOCK] ^= 0xff;
        std::fs::write(&src, &data).expect("write");
        let parent = driver.read_shas(&full).expect("shas").sha256s;
        let inc = driver.location("incr", "shared");
        let m = driver
            .backup(&src, &inc, &info("incr", Some("aabbccdd-full")), Some(&parent))
            .expect("incremental");
        assert_eq!(
            m.objects.iter().map(|o| (o.offset, o.length)).collect::<Vec<_>>(),
            vec![(SHA_BLOCK as u64, SHA_BLOCK as u64), (7 * SHA_BLOCK as u64, SHA_BLOCK as u64)]
        );
        assert!(inc.dir.join("backup_incr-00001").exists());
        let target = dir.path().join("restored");
        std::fs::write(&target, vec![0u8; data.len()]).expect("target");
        driver.restore_one(&full, &target).expect("restore full");
        driver.restore_one(&inc, &target).expect("restore incremental");
        assert_eq!(std::fs::read(&target).expect("read"), data);
        // A flipped byte in a chunk fails the restore.
        let chunk = full.dir.join("backup-00002");
        let mut bytes = std::fs::read(&chunk).expect("chunk");
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x01;
        std::fs::write(&chunk, bytes).expect("corrupt");
        assert!(driver.restore_one(&full, &target).is_err());
        driver.delete(&full).expect("delete");
        driver.delete(&inc).expect("delete");
        assert!(!dir.path().join("backups/aa").exists());
    }

    #[test]
    fn uncompressed_chunks_restore_and_mix_with_compressed_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let zlib = PosixDriver::new(dir.path().join("backups"), 4 * SHA_BLOCK as u64);
        let plain = PosixDriver::new(dir.path().join("backups"), 4 * SHA_BLOCK as u64).with_compression("none");
        let src = dir.path().join("vol");
        let mut data: Vec<u8> = (0..(6 * SHA_BLOCK)).map(|i| (i * 13 % 249) as u8).collect();
        std::fs::write(&src, &data).expect("write");
        let full = plain.location("ccddeeff-full", &default_container("ccddeeff-full"));
        let m = plain.backup(&src, &full, &info("ccddeeff-full", None), None).expect("full");
        assert!(m.objects.iter().all(|o| o.compression == "none"));
        assert_eq!(std::fs::metadata(full.dir.join("backup-00001")).expect("chunk").len(), 4 * SHA_BLOCK as u64);
        data[2 * SHA_BLOCK] ^= 0xff;
        std::fs::write(&src, &data).expect("write");
        let parent = plain.read_shas(&full).expect("shas").sha256s;
        let inc = zlib.location("ccddeeff-incr", &default_container("ccddeeff-incr"));
        let m = zlib.backup(&src, &inc, &info("ccddeeff-incr", Some("ccddeeff-full")), Some(&parent)).expect("incr");
        assert!(m.objects.iter().all(|o| o.compression == "zlib"));
        let target = dir.path().join("restored");
        std::fs::write(&target, vec![0u8; data.len()]).expect("target");
        zlib.restore_one(&full, &target).expect("restore full");
        zlib.restore_one(&inc, &target).expect("restore incremental");
        assert_eq!(std::fs::read(&target).expect("read"), data);
        // A flipped byte of a stored chunk fails its restore too.
        let chunk = full.dir.join("backup-00002");
        let mut bytes = std::fs::read(&chunk).expect("chunk");
        bytes[10] ^= 0x01;
        std::fs::write(&chunk, bytes).expect("corrupt");
        assert!(zlib.restore_one(&full, &target).is_err());
    }

    #[test]
    fn containers_are_relative_paths() {
        assert!(valid_container("my-backups/2026"));
        assert!(!valid_container("../etc"));
        assert!(!valid_container("/abs"));
        assert!(!valid_container("a//b"));
        assert!(!valid_container(""));
    }
}
