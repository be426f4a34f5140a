//! The file driver on real files with the real qemu-img: sparse creation, copies from
//! volumes and snapshots, extension, capacity reports, connection info, and the wipe on
//! delete (checked through a hard link that outlives the removed name). Skips, with one line,
//! where qemu-img is not installed.

use monostack_common::config::VolumeBackendSection;
use monostack_volume::db::snapshots::Snapshot;
use monostack_volume::db::volumes::Volume;
use monostack_volume::drivers::file::FileDriver;
use monostack_volume::drivers::{qemu_img, VolumeDriver};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

async fn qemu_img_missing() -> bool {
    if qemu_img::available().await {
        return false;
    }
    eprintln!("skipping: qemu-img is not installed (Debian: qemu-utils)");
    true
}

fn volume(size: i64) -> Volume {
    Volume {
        id: uuid::Uuid::new_v4().to_string(),
        size,
        ..Default::default()
    }
}

fn write_at(path: &Path, offset: u64, data: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open");
    f.seek(SeekFrom::Start(offset)).expect("seek");
    f.write_all(data).expect("write");
    f.sync_all().expect("sync");
}

fn read_at(path: &Path, offset: u64, len: usize) -> Vec<u8> {
    let mut f = std::fs::File::open(path).expect("open");
    f.seek(SeekFrom::Start(offset)).expect("seek");
    let mut buf = vec![0u8; len];
    f.read_exact(&mut buf).expect("read");
    buf
}

fn allocated(path: &Path) -> u64 {
    std::fs::metadata(path).expect("metadata").blocks() * 512
}

fn driver(dir: &Path, format: &str) -> FileDriver {
    let settings = VolumeBackendSection {
        file_volume_format: format.into(),
        ..Default::default()
    };
    FileDriver::new("file-1".into(), dir.join("volumes"), &settings)
}

#[tokio::test]
async fn raw_volumes_are_sparse_copied_extended_and_wiped() {
    if qemu_img_missing().await {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = driver(tmp.path(), "raw");
    d.setup().await.expect("setup");
    let mut vol = volume(1);
    let model = d.create_volume(&vol).await.expect("create");
    let dir = tmp.path().join("volumes");
    assert_eq!(
        model.provider_location,
        Some(format!("raw:{}", dir.display()))
    );
    vol.provider_location = model.provider_location;
    let path = dir.join(format!("volume-{}", vol.id));
    assert_eq!(d.local_path(&vol), Some(path.clone()));
    let meta = std::fs::metadata(&path).expect("volume file");
    assert_eq!(meta.len(), GIB);
    assert!(allocated(&path) < MIB, "a new raw volume is sparse");
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);

    let pattern: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8 + 1).collect();
    write_at(&path, 512 * MIB, &pattern);

    // A clone, larger than its source, holds the data and stays sparse.
    let mut clone = volume(2);
    clone.provider_location = d
        .create_cloned_volume(&clone, &vol)
        .await
        .expect("clone")
        .provider_location;
    let clone_path = dir.join(format!("volume-{}", clone.id));
    assert_eq!(
        std::fs::metadata(&clone_path).expect("clone").len(),
        2 * GIB
    );
    assert_eq!(read_at(&clone_path, 512 * MIB, 4096), pattern);
    assert!(
        allocated(&clone_path) < 4 * MIB,
        "the copy is sparse: {}",
        allocated(&clone_path)
    );

    // A snapshot is a full copy; a volume made from it has the data.
    let snap = Snapshot {
        id: uuid::Uuid::new_v4().to_string(),
        volume_id: vol.id.clone(),
        volume_size: 1,
        ..Default::default()
    };
    let snap_model = d.create_snapshot(&snap, &vol).await.expect("snapshot");
    let snap = Snapshot {
        provider_location: snap_model.provider_location,
        ..snap
    };
    let snap_path = dir.join(format!("snapshot-{}", snap.id));
    assert_eq!(read_at(&snap_path, 512 * MIB, 4096), pattern);
    let restored = volume(1);
    d.create_volume_from_snapshot(&restored, &snap)
        .await
        .expect("from snapshot");
    assert_eq!(
        read_at(
            &dir.join(format!("volume-{}", restored.id)),
            512 * MIB,
            4096
        ),
        pattern
    );

    // Extend.
    d.extend_volume(&vol, 3).await.expect("extend");
    assert_eq!(std::fs::metadata(&path).expect("volume").len(), 3 * GIB);
    assert_eq!(read_at(&path, 512 * MIB, 4096), pattern, "data kept");

    // Connection info names the file and its format.
    let info = d
        .initialize_connection(&vol, &serde_json::json!({"host": "c1"}))
        .await
        .expect("connection");
    assert_eq!(info.driver_volume_type, "file");
    assert_eq!(info.data["device_path"], path.display().to_string());
    assert_eq!(info.data["format"], "raw");

    // Capacity: the file system's, one thin pool named after the backend.
    let stats = d.stats().await.expect("stats");
    assert_eq!(stats.volume_backend_name, "file-1");
    assert_eq!(stats.pools.len(), 1);
    assert_eq!(stats.pools[0].pool_name, "file-1");
    assert!(stats.pools[0].total_capacity_gb > 0.0);
    assert!(stats.pools[0].thin_provisioning_support);

    // Delete wipes the data before removing the name: a hard link still sees the inode.
    let link = tmp.path().join("link");
    std::fs::hard_link(&path, &link).expect("link");
    d.delete_volume(&vol).await.expect("delete");
    assert!(!path.exists());
    assert_eq!(
        read_at(&link, 512 * MIB, 4096),
        vec![0u8; 4096],
        "data overwritten with zeros"
    );
    assert_eq!(std::fs::metadata(&link).expect("link").len(), 3 * GIB);
    // Deleting again is fine, as is deleting the snapshot (wiped too).
    d.delete_volume(&vol).await.expect("delete again");
    let snap_link = tmp.path().join("snap-link");
    std::fs::hard_link(&snap_path, &snap_link).expect("link");
    d.delete_snapshot(&snap).await.expect("delete snapshot");
    assert!(!snap_path.exists());
    assert_eq!(read_at(&snap_link, 512 * MIB, 4096), vec![0u8; 4096]);
}

#[tokio::test]
async fn qcow2_volumes_keep_their_format() {
    if qemu_img_missing().await {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = driver(tmp.path(), "qcow2");
    d.setup().await.expect("setup");
    let mut vol = volume(1);
    vol.provider_location = d
        .create_volume(&vol)
        .await
        .expect("create")
        .provider_location;
    assert!(vol
        .provider_location
        .as_deref()
        .is_some_and(|l| l.starts_with("qcow2:")));
    let path = tmp
        .path()
        .join("volumes")
        .join(format!("volume-{}", vol.id));
    assert_eq!(
        qemu_img::virtual_size(&path, "qcow2")
            .await
            .expect("qcow2 info"),
        GIB
    );
    assert!(
        std::fs::metadata(&path).expect("file").len() < MIB,
        "a qcow2 volume starts small"
    );
    d.extend_volume(&vol, 2).await.expect("extend");
    assert_eq!(
        qemu_img::virtual_size(&path, "qcow2")
            .await
            .expect("qcow2 info"),
        2 * GIB
    );
    let info = d
        .initialize_connection(&vol, &serde_json::json!({}))
        .await
        .expect("connection");
    assert_eq!(info.data["format"], "qcow2");
    let link = tmp.path().join("link");
    std::fs::hard_link(&path, &link).expect("link");
    let len = std::fs::metadata(&link).expect("link").len();
    d.delete_volume(&vol).await.expect("delete");
    assert!(!path.exists());
    assert!(
        read_at(&link, 0, len as usize).iter().all(|b| *b == 0),
        "the whole qcow2 file is wiped"
    );
}

#[tokio::test]
async fn configured_capacity_counts_what_the_files_take() {
    if qemu_img_missing().await {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let settings = VolumeBackendSection {
        capacity_gb: Some(10),
        reserved_percentage: 5,
        ..Default::default()
    };
    let d = FileDriver::new("small".into(), tmp.path().join("v"), &settings);
    d.setup().await.expect("setup");
    let vol = volume(1);
    d.create_volume(&vol).await.expect("create");
    write_at(
        &tmp.path().join("v").join(format!("volume-{}", vol.id)),
        0,
        &vec![7u8; 8 * MIB as usize],
    );
    let stats = d.stats().await.expect("stats");
    let pool = &stats.pools[0];
    assert_eq!(pool.total_capacity_gb, 10.0);
    assert!(
        pool.free_capacity_gb < 10.0 && pool.free_capacity_gb > 9.9,
        "{}",
        pool.free_capacity_gb
    );
    assert_eq!(pool.reserved_percentage, 5);
}

#[tokio::test]
async fn a_missing_source_fails_cleanly() {
    if qemu_img_missing().await {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = driver(tmp.path(), "raw");
    d.setup().await.expect("setup");
    let ghost = volume(1);
    let err = d
        .create_cloned_volume(&volume(1), &ghost)
        .await
        .expect_err("no source");
    assert!(err.to_string().contains("does not exist"), "{err}");
    let err = d
        .initialize_connection(&ghost, &serde_json::json!({}))
        .await
        .expect_err("no file");
    assert!(err.to_string().contains("does not exist"), "{err}");
}
