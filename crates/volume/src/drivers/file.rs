//! The file driver: each volume is a file `volume-<id>` in a directory, raw or qcow2, made
//! with `qemu-img` — Cinder's NFS driver without the mount (point the directory at a mounted
//! share to get exactly that). Raw files are sparse unless `file_sparsed_volumes = false`;
//! snapshots are full copies (`snapshot-<id>`, sparse too); deleted volumes and snapshots
//! are overwritten with zeros where they hold data (`volume_clear`) before they are removed.
//!
//! `provider_location` is `<format>:<directory>`, so a volume keeps its format if the
//! backend's default changes.

use super::{qemu_img, BackendStats, ConnectionInfo, DriverError, ModelUpdate, VolumeDriver};
use crate::db::snapshots::Snapshot;
use crate::db::volumes::Volume;
use async_trait::async_trait;
use monostack_common::config::VolumeBackendSection;
use serde_json::{json, Value};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

pub struct FileDriver {
    backend_name: String,
    dir: PathBuf,
    settings: VolumeBackendSection,
}

impl FileDriver {
    pub fn new(backend_name: String, dir: PathBuf, settings: &VolumeBackendSection) -> Self {
        FileDriver {
            backend_name,
            dir,
            settings: settings.clone(),
        }
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn volume_path(&self, volume: &Volume) -> PathBuf {
        self.dir.join(volume.name())
    }

    fn snapshot_path(&self, snapshot: &Snapshot) -> PathBuf {
        self.dir.join(snapshot.name())
    }

    /// The format recorded in a provider location, else the backend's default.
    fn format_of(&self, provider_location: Option<&str>) -> String {
        match provider_location.and_then(|l| l.split_once(':')) {
            Some((f @ ("raw" | "qcow2"), _)) => f.to_string(),
            _ => self.settings.file_volume_format.clone(),
        }
    }

    fn location(&self, format: &str) -> ModelUpdate {
        ModelUpdate {
            provider_location: Some(format!("{format}:{}", self.dir.display())),
        }
    }

    fn preallocate(&self, format: &str) -> bool {
        format == "raw" && !self.settings.file_sparsed_volumes
    }

    /// Makes a new file readable and writable by its owner and group (the compute side
    /// opens it).
    async fn set_mode(path: &Path) -> Result<(), DriverError> {
        tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).await?;
        Ok(())
    }

    /// A copy of `src` as a new file `dst` of at least `size_gb` GiB, in `format`.
    async fn copy_to(
        &self,
        src: &Path,
        src_format: &str,
        dst: &Path,
        format: &str,
        size_gb: i64,
    ) -> Result<(), DriverError> {
        if !tokio::fs::try_exists(src).await? {
            return Err(DriverError::Operation(format!(
                "{} does not exist",
                src.display()
            )));
        }
        qemu_img::convert(src, src_format, dst, format).await?;
        let current = qemu_img::virtual_size(dst, format).await?;
        if (size_gb as u64) * GIB > current {
            qemu_img::resize(dst, format, size_gb).await?;
        }
        Self::set_mode(dst).await
    }

    /// Overwrites the data of `path` with zeros (`volume_clear`), then removes it. A file
    /// already gone is fine.
    async fn wipe_and_remove(&self, path: &Path, format: &str) -> Result<(), DriverError> {
        if !tokio::fs::try_exists(path).await? {
            tracing::info!("{} is already gone", path.display());
            return Ok(());
        }
        if self.settings.volume_clear == "zero" {
            let limit = (self.settings.volume_clear_size > 0)
                .then(|| self.settings.volume_clear_size * MIB);
            // A raw file's data extents are its guest's data; a qcow2 file holds only
            // allocated clusters and metadata, so all of it is wiped.
            let extents = if format == "raw" {
                qemu_img::raw_data_extents(path).await?
            } else {
                vec![(0, tokio::fs::metadata(path).await?.len())]
            };
            let wiped = zero_extents(path.to_path_buf(), extents, limit).await?;
            tracing::debug!("Wiped {wiped} bytes of {}", path.display());
        }
        tokio::fs::remove_file(path).await.or_else(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Ok(())
            } else {
                Err(e)
            }
        })?;
        Ok(())
    }

    /// (total, free) GiB of the file system holding the directory (`stat -f`, as the NFS
    /// driver checks its share), or of `capacity_gb` less what the files take.
    async fn capacity(&self) -> Result<(f64, f64), DriverError> {
        if let Some(cap) = self.settings.capacity_gb {
            let used = allocated_bytes(&self.dir).await? as f64 / GIB as f64;
            return Ok((cap as f64, (cap as f64 - used).max(0.0)));
        }
        let out = tokio::process::Command::new("stat")
            .args(["-f", "-c", "%S %b %a"])
            .arg(&self.dir)
            .output()
            .await?;
        if !out.status.success() {
            return Err(DriverError::Operation(format!(
                "stat -f {}: {}",
                self.dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let nums: Vec<f64> = text
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        let [block, total, avail] = nums[..] else {
            return Err(DriverError::Operation(format!(
                "unexpected stat -f output: {text}"
            )));
        };
        Ok((
            (block * total / GIB as f64).floor(),
            block * avail / GIB as f64,
        ))
    }
}

/// Bytes the files of `dir` really take on disk.
async fn allocated_bytes(dir: &Path) -> Result<u64, DriverError> {
    let mut total = 0;
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let meta = entry.metadata().await?;
        if meta.is_file() {
            total += meta.blocks() * 512;
        }
    }
    Ok(total)
}

/// Writes zeros over `extents` of the file (at most `limit` bytes from its start), then
/// flushes them to disk. Returns how many bytes were written.
async fn zero_extents(
    path: PathBuf,
    extents: Vec<(u64, u64)>,
    limit: Option<u64>,
) -> Result<u64, DriverError> {
    tokio::task::spawn_blocking(move || -> Result<u64, DriverError> {
        use std::io::{Seek, SeekFrom, Write};
        let mut file = std::fs::OpenOptions::new().write(true).open(&path)?;
        let zeros = vec![0u8; MIB as usize];
        let mut written = 0;
        for (offset, length) in extents {
            let end = match limit {
                Some(l) => (offset + length).min(l),
                None => offset + length,
            };
            if end <= offset {
                continue;
            }
            file.seek(SeekFrom::Start(offset))?;
            let mut pos = offset;
            while pos < end {
                let n = (end - pos).min(MIB) as usize;
                file.write_all(&zeros[..n])?;
                pos += n as u64;
                written += n as u64;
            }
        }
        file.sync_all()?;
        Ok(written)
    })
    .await
    .map_err(|e| DriverError::Operation(format!("wipe task failed: {e}")))?
}

#[async_trait]
impl VolumeDriver for FileDriver {
    fn driver_name(&self) -> &'static str {
        "file"
    }

    async fn setup(&self) -> Result<(), DriverError> {
        if !qemu_img::available().await {
            return Err(DriverError::Setup(
                "qemu-img is not installed (Debian: qemu-utils)".into(),
            ));
        }
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| DriverError::Setup(format!("{}: {e}", self.dir.display())))?;
        tokio::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o750)).await?;
        Ok(())
    }

    async fn stats(&self) -> Result<BackendStats, DriverError> {
        let (total, free) = self.capacity().await?;
        let thin = !self.preallocate(&self.settings.file_volume_format);
        Ok(BackendStats {
            volume_backend_name: self.backend_name.clone(),
            vendor_name: "monostack".into(),
            driver_version: "1.0".into(),
            storage_protocol: "file".into(),
            pools: vec![super::pool_stats(
                &self.backend_name,
                &self.settings,
                total,
                free,
                thin,
            )],
        })
    }

    async fn create_volume(&self, volume: &Volume) -> Result<ModelUpdate, DriverError> {
        let format = self.settings.file_volume_format.clone();
        let path = self.volume_path(volume);
        qemu_img::create(&path, &format, volume.size, self.preallocate(&format)).await?;
        Self::set_mode(&path).await?;
        Ok(self.location(&format))
    }

    async fn create_volume_from_snapshot(
        &self,
        volume: &Volume,
        snapshot: &Snapshot,
    ) -> Result<ModelUpdate, DriverError> {
        let src_format = self.format_of(snapshot.provider_location.as_deref());
        let format = self.settings.file_volume_format.clone();
        self.copy_to(
            &self.snapshot_path(snapshot),
            &src_format,
            &self.volume_path(volume),
            &format,
            volume.size,
        )
        .await?;
        Ok(self.location(&format))
    }

    async fn create_cloned_volume(
        &self,
        volume: &Volume,
        source: &Volume,
    ) -> Result<ModelUpdate, DriverError> {
        let src_format = self.format_of(source.provider_location.as_deref());
        let format = self.settings.file_volume_format.clone();
        self.copy_to(
            &self.volume_path(source),
            &src_format,
            &self.volume_path(volume),
            &format,
            volume.size,
        )
        .await?;
        Ok(self.location(&format))
    }

    async fn copy_image_to_volume(
        &self,
        volume: &Volume,
        image: &Path,
        image_format: &str,
    ) -> Result<ModelUpdate, DriverError> {
        let format = self.settings.file_volume_format.clone();
        self.copy_to(image, image_format, &self.volume_path(volume), &format, volume.size)
            .await?;
        Ok(self.location(&format))
    }

    async fn delete_volume(&self, volume: &Volume) -> Result<(), DriverError> {
        let format = self.format_of(volume.provider_location.as_deref());
        self.wipe_and_remove(&self.volume_path(volume), &format)
            .await
    }

    async fn extend_volume(&self, volume: &Volume, new_size: i64) -> Result<(), DriverError> {
        let format = self.format_of(volume.provider_location.as_deref());
        qemu_img::resize(&self.volume_path(volume), &format, new_size).await
    }

    async fn create_snapshot(
        &self,
        snapshot: &Snapshot,
        volume: &Volume,
    ) -> Result<ModelUpdate, DriverError> {
        let format = self.format_of(volume.provider_location.as_deref());
        self.copy_to(
            &self.volume_path(volume),
            &format,
            &self.snapshot_path(snapshot),
            &format,
            volume.size,
        )
        .await?;
        Ok(self.location(&format))
    }

    async fn delete_snapshot(&self, snapshot: &Snapshot) -> Result<(), DriverError> {
        let format = self.format_of(snapshot.provider_location.as_deref());
        self.wipe_and_remove(&self.snapshot_path(snapshot), &format)
            .await
    }

    async fn initialize_connection(
        &self,
        volume: &Volume,
        _connector: &Value,
    ) -> Result<ConnectionInfo, DriverError> {
        let path = self.volume_path(volume);
        if !tokio::fs::try_exists(&path).await? {
            return Err(DriverError::Operation(format!(
                "{} does not exist",
                path.display()
            )));
        }
        Ok(ConnectionInfo {
            driver_volume_type: "file".into(),
            data: json!({
                "device_path": path,
                "format": self.format_of(volume.provider_location.as_deref()),
                "name": volume.name(),
                "export": self.dir,
                "volume_id": volume.id,
                "access_mode": "rw",
            }),
        })
    }

    async fn initialize_connection_snapshot(
        &self,
        snapshot: &Snapshot,
        _connector: &Value,
    ) -> Result<ConnectionInfo, DriverError> {
        let path = self.snapshot_path(snapshot);
        if !tokio::fs::try_exists(&path).await? {
            return Err(DriverError::Operation(format!(
                "{} does not exist",
                path.display()
            )));
        }
        Ok(ConnectionInfo {
            driver_volume_type: "file".into(),
            data: json!({
                "device_path": path,
                "format": self.format_of(snapshot.provider_location.as_deref()),
                "name": snapshot.name(),
                "export": self.dir,
                "access_mode": "ro",
            }),
        })
    }

    async fn terminate_connection(
        &self,
        _volume: &Volume,
        _connector: &Value,
    ) -> Result<(), DriverError> {
        Ok(())
    }

    fn local_path(&self, volume: &Volume) -> Option<PathBuf> {
        Some(self.volume_path(volume))
    }
}
