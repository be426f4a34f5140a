//! The LVM driver (Cinder's LVMVolumeDriver with thick LVs): each volume is a logical volume
//! `volume-<id>` in `volume_group`, each snapshot a copy-on-write LV `snapshot-<id>` of it;
//! copies go through `qemu-img convert` onto the new LV (holes stay unwritten), deletes are
//! zeroed with `dd` first (`volume_clear`), capacity comes from `vgs`. Volumes are reached on
//! this node as `/dev/<vg>/volume-<id>` (`driver_volume_type` `local`); exporting them over
//! iSCSI to other nodes (Cinder's target helpers) is not done.

use super::{qemu_img, BackendStats, ConnectionInfo, DriverError, ModelUpdate, VolumeDriver};
use crate::db::snapshots::Snapshot;
use crate::db::volumes::Volume;
use async_trait::async_trait;
use monostack_common::config::VolumeBackendSection;
use serde_json::{json, Value};
use std::path::PathBuf;
use tokio::process::Command;

const GIB: f64 = (1u64 << 30) as f64;

pub struct LvmDriver {
    backend_name: String,
    vg: String,
    settings: VolumeBackendSection,
}

/// Runs an LVM (or other) command, its stderr in the error.
async fn run(program: &str, args: &[&str]) -> Result<String, DriverError> {
    tracing::debug!("Running cmd (subprocess): {program} {}", args.join(" "));
    let out = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .await
        .map_err(|e| DriverError::Setup(format!("cannot run {program}: {e}")))?;
    if !out.status.success() {
        return Err(DriverError::Operation(format!(
            "{program} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `vgs --noheadings --nosuffix --units b --separator : -o vg_size,vg_free` output:
/// (total, free) GiB.
pub fn parse_vgs(text: &str) -> Option<(f64, f64)> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let (size, free) = line.split_once(':')?;
    Some((
        size.trim().parse::<f64>().ok()? / GIB,
        free.trim().parse::<f64>().ok()? / GIB,
    ))
}

impl LvmDriver {
    pub fn new(backend_name: String, settings: &VolumeBackendSection) -> Self {
        LvmDriver {
            backend_name,
            vg: settings.volume_group.clone(),
            settings: settings.clone(),
        }
    }

    fn device(&self, lv: &str) -> PathBuf {
        PathBuf::from(format!("/dev/{}/{lv}", self.vg))
    }

    async fn exists(&self, lv: &str) -> bool {
        run(
            "lvs",
            &[
                "--noheadings",
                "-o",
                "lv_name",
                &format!("{}/{lv}", self.vg),
            ],
        )
        .await
        .is_ok()
    }

    async fn create_lv(&self, lv: &str, size_gb: i64) -> Result<(), DriverError> {
        run(
            "lvcreate",
            &["-y", "-n", lv, "-L", &format!("{size_gb}g"), &self.vg],
        )
        .await
        .map(|_| ())
    }

    /// Copies `src` onto the existing LV `dst` (raw to raw, without creating it).
    async fn copy(&self, src: &str, dst: &str) -> Result<(), DriverError> {
        let (src, dst) = (self.device(src), self.device(dst));
        let (src, dst) = (
            src.to_string_lossy().into_owned(),
            dst.to_string_lossy().into_owned(),
        );
        tracing::debug!("Copying {src} to {dst}");
        run(
            "qemu-img",
            &["convert", "-q", "-n", "-f", "raw", "-O", "raw", &src, &dst],
        )
        .await
        .map(|_| ())
    }

    /// Zeroes the LV as `volume_clear` says, then removes it; an LV already gone is fine.
    async fn clear_and_remove(&self, lv: &str, size_gb: i64) -> Result<(), DriverError> {
        if !self.exists(lv).await {
            tracing::info!("{}/{lv} is already gone", self.vg);
            return Ok(());
        }
        if self.settings.volume_clear == "zero" {
            let mib = if self.settings.volume_clear_size > 0 {
                self.settings.volume_clear_size as i64
            } else {
                size_gb * 1024
            };
            let dev = self.device(lv);
            run(
                "dd",
                &[
                    "if=/dev/zero",
                    &format!("of={}", dev.display()),
                    "bs=1M",
                    &format!("count={mib}"),
                    "oflag=direct",
                    "conv=fdatasync",
                ],
            )
            .await?;
        }
        run("lvremove", &["-f", &format!("{}/{lv}", self.vg)])
            .await
            .map(|_| ())
    }

    fn location(&self) -> ModelUpdate {
        ModelUpdate {
            provider_location: Some(format!("lvm:{}", self.vg)),
        }
    }
}

#[async_trait]
impl VolumeDriver for LvmDriver {
    fn driver_name(&self) -> &'static str {
        "lvm"
    }

    async fn setup(&self) -> Result<(), DriverError> {
        run("vgs", &["--noheadings", "-o", "vg_name", &self.vg])
            .await
            .map_err(|e| {
                DriverError::Setup(format!("volume group {} is not usable: {e}", self.vg))
            })?;
        if !qemu_img::available().await {
            return Err(DriverError::Setup(
                "qemu-img is not installed (Debian: qemu-utils)".into(),
            ));
        }
        Ok(())
    }

    async fn stats(&self) -> Result<BackendStats, DriverError> {
        let out = run(
            "vgs",
            &[
                "--noheadings",
                "--nosuffix",
                "--units",
                "b",
                "--separator",
                ":",
                "-o",
                "vg_size,vg_free",
                &self.vg,
            ],
        )
        .await?;
        let (total, free) = parse_vgs(&out)
            .ok_or_else(|| DriverError::Operation(format!("unexpected vgs output: {out}")))?;
        Ok(BackendStats {
            volume_backend_name: self.backend_name.clone(),
            vendor_name: "Open Source".into(),
            driver_version: "3.0.0".into(),
            storage_protocol: "local".into(),
            pools: vec![super::pool_stats(
                &self.backend_name,
                &self.settings,
                total.floor(),
                free,
                false,
            )],
        })
    }

    async fn create_volume(&self, volume: &Volume) -> Result<ModelUpdate, DriverError> {
        self.create_lv(&volume.name(), volume.size).await?;
        Ok(self.location())
    }

    async fn create_volume_from_snapshot(
        &self,
        volume: &Volume,
        snapshot: &Snapshot,
    ) -> Result<ModelUpdate, DriverError> {
        self.create_lv(&volume.name(), volume.size).await?;
        if let Err(e) = self.copy(&snapshot.name(), &volume.name()).await {
            let _ = run(
                "lvremove",
                &["-f", &format!("{}/{}", self.vg, volume.name())],
            )
            .await;
            return Err(e);
        }
        Ok(self.location())
    }

    async fn create_cloned_volume(
        &self,
        volume: &Volume,
        source: &Volume,
    ) -> Result<ModelUpdate, DriverError> {
        self.create_lv(&volume.name(), volume.size).await?;
        if let Err(e) = self.copy(&source.name(), &volume.name()).await {
            let _ = run(
                "lvremove",
                &["-f", &format!("{}/{}", self.vg, volume.name())],
            )
            .await;
            return Err(e);
        }
        Ok(self.location())
    }

    async fn delete_volume(&self, volume: &Volume) -> Result<(), DriverError> {
        self.clear_and_remove(&volume.name(), volume.size).await
    }

    async fn extend_volume(&self, volume: &Volume, new_size: i64) -> Result<(), DriverError> {
        run(
            "lvextend",
            &[
                "-L",
                &format!("{new_size}g"),
                &format!("{}/{}", self.vg, volume.name()),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn create_snapshot(
        &self,
        snapshot: &Snapshot,
        volume: &Volume,
    ) -> Result<ModelUpdate, DriverError> {
        let origin = format!("{}/{}", self.vg, volume.name());
        run(
            "lvcreate",
            &[
                "-y",
                "-s",
                "-n",
                &snapshot.name(),
                "-L",
                &format!("{}g", volume.size),
                &origin,
            ],
        )
        .await?;
        Ok(self.location())
    }

    async fn delete_snapshot(&self, snapshot: &Snapshot) -> Result<(), DriverError> {
        self.clear_and_remove(&snapshot.name(), snapshot.volume_size)
            .await
    }

    async fn initialize_connection_snapshot(
        &self,
        snapshot: &Snapshot,
        _connector: &Value,
    ) -> Result<ConnectionInfo, DriverError> {
        Ok(ConnectionInfo {
            driver_volume_type: "local".into(),
            data: json!({"device_path": self.device(&snapshot.name()), "name": snapshot.name(), "access_mode": "ro"}),
        })
    }

    async fn initialize_connection(
        &self,
        volume: &Volume,
        _connector: &Value,
    ) -> Result<ConnectionInfo, DriverError> {
        if !self.exists(&volume.name()).await {
            return Err(DriverError::Operation(format!(
                "{}/{} does not exist",
                self.vg,
                volume.name()
            )));
        }
        Ok(ConnectionInfo {
            driver_volume_type: "local".into(),
            data: json!({"device_path": self.device(&volume.name()), "name": volume.name(), "volume_id": volume.id, "access_mode": "rw"}),
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
        Some(self.device(&volume.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_vgs;

    #[test]
    fn vgs_output_is_read_in_gib() {
        assert_eq!(parse_vgs("  10737418240:5368709120\n"), Some((10.0, 5.0)));
        assert_eq!(parse_vgs("\n  21474836480:0\n"), Some((20.0, 0.0)));
        assert_eq!(parse_vgs("garbage"), None);
        assert_eq!(parse_vgs(""), None);
    }
}
