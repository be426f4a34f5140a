//! `qemu-img`, the tool the file driver is built on. Every call names the image format
//! explicitly (`-f`): probing the format of a raw volume would let a guest that wrote a qcow2
//! header into its disk redirect our reads to a backing file of its choosing.

use super::DriverError;
use std::path::Path;
use tokio::process::Command;

/// Whether `qemu-img` can be run here.
pub async fn available() -> bool {
    Command::new("qemu-img")
        .arg("--version")
        .output()
        .await
        .map(|o| o.status.success())
        .unwrap_or(false)
}

async fn run(args: &[&str]) -> Result<Vec<u8>, DriverError> {
    tracing::debug!("Running cmd (subprocess): qemu-img {}", args.join(" "));
    let out = Command::new("qemu-img")
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .await
        .map_err(|e| DriverError::Setup(format!("cannot run qemu-img: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(DriverError::Operation(format!(
            "qemu-img {} failed: {}",
            args.first().copied().unwrap_or_default(),
            stderr.trim()
        )));
    }
    Ok(out.stdout)
}

fn path_str(path: &Path) -> Result<&str, DriverError> {
    path.to_str()
        .ok_or_else(|| DriverError::Operation(format!("path {} is not UTF-8", path.display())))
}

/// A new image of `size_gb` GiB; `preallocate` writes every block (raw only).
pub async fn create(
    path: &Path,
    format: &str,
    size_gb: i64,
    preallocate: bool,
) -> Result<(), DriverError> {
    let size = format!("{size_gb}G");
    let mut args = vec!["create", "-q", "-f", format];
    if preallocate {
        args.extend(["-o", "preallocation=full"]);
    }
    args.extend([path_str(path)?, size.as_str()]);
    run(&args).await.map(|_| ())
}

/// Copies `src` (in `src_format`) into a new image `dst` (in `dst_format`); zero blocks stay
/// holes, so sparse stays sparse.
pub async fn convert(
    src: &Path,
    src_format: &str,
    dst: &Path,
    dst_format: &str,
) -> Result<(), DriverError> {
    run(&[
        "convert",
        "-q",
        "-f",
        src_format,
        "-O",
        dst_format,
        path_str(src)?,
        path_str(dst)?,
    ])
    .await
    .map(|_| ())
}

/// Writes `src` (in `src_format`) over the existing image `dst` (in `dst_format`) without
/// creating it (`-n`): for block devices and images made beforehand.
pub async fn convert_into(
    src: &Path,
    src_format: &str,
    dst: &Path,
    dst_format: &str,
) -> Result<(), DriverError> {
    run(&[
        "convert",
        "-q",
        "-n",
        "-f",
        src_format,
        "-O",
        dst_format,
        path_str(src)?,
        path_str(dst)?,
    ])
    .await
    .map(|_| ())
}

/// `qemu-img info` of the image read as `format`.
pub async fn info(path: &Path, format: &str) -> Result<serde_json::Value, DriverError> {
    let out = run(&["info", "-f", format, "--output=json", path_str(path)?]).await?;
    serde_json::from_slice(&out).map_err(|e| DriverError::Operation(format!("qemu-img info: {e}")))
}

/// Grows the image to `size_gb` GiB.
pub async fn resize(path: &Path, format: &str, size_gb: i64) -> Result<(), DriverError> {
    let size = format!("{size_gb}G");
    run(&["resize", "-q", "-f", format, path_str(path)?, size.as_str()])
        .await
        .map(|_| ())
}

/// The virtual size of the image, in bytes.
pub async fn virtual_size(path: &Path, format: &str) -> Result<u64, DriverError> {
    let out = run(&["info", "-f", format, "--output=json", path_str(path)?]).await?;
    let info: serde_json::Value = serde_json::from_slice(&out)
        .map_err(|e| DriverError::Operation(format!("qemu-img info: {e}")))?;
    info["virtual-size"]
        .as_u64()
        .ok_or_else(|| DriverError::Operation("qemu-img info gave no virtual-size".into()))
}

/// The byte ranges of a raw image that hold data (the rest are holes), as (offset, length).
pub async fn raw_data_extents(path: &Path) -> Result<Vec<(u64, u64)>, DriverError> {
    let out = run(&["map", "-f", "raw", "--output=json", path_str(path)?]).await?;
    let map: Vec<serde_json::Value> = serde_json::from_slice(&out)
        .map_err(|e| DriverError::Operation(format!("qemu-img map: {e}")))?;
    Ok(map
        .iter()
        .filter(|e| e["data"].as_bool() == Some(true))
        .filter_map(|e| {
            Some((
                e["offset"].as_u64().or_else(|| e["start"].as_u64())?,
                e["length"].as_u64()?,
            ))
        })
        .collect())
}
