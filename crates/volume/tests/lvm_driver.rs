//! The LVM driver on a real volume group. It runs only where one is offered for testing
//! (`MONOSTACK_TEST_VOLUME_GROUP`, a group whose LVs may be created and removed) and LVM works
//! (device-mapper loaded, root); otherwise it skips with one line.

use monostack_common::config::VolumeBackendSection;
use monostack_volume::db::snapshots::Snapshot;
use monostack_volume::db::volumes::Volume;
use monostack_volume::drivers::lvm::LvmDriver;
use monostack_volume::drivers::VolumeDriver;
use std::io::{Read, Seek, SeekFrom, Write};

async fn volume_group() -> Option<String> {
    let Ok(vg) = std::env::var("MONOSTACK_TEST_VOLUME_GROUP") else {
        eprintln!("skipping: MONOSTACK_TEST_VOLUME_GROUP is not set (no volume group to test the LVM driver on)");
        return None;
    };
    let ok = tokio::process::Command::new("vgs")
        .arg(&vg)
        .output()
        .await
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipping: volume group {vg} is not usable here (vgs failed)");
        return None;
    }
    Some(vg)
}

fn volume(size: i64) -> Volume {
    Volume {
        id: uuid::Uuid::new_v4().to_string(),
        size,
        ..Default::default()
    }
}

#[tokio::test]
async fn logical_volumes_are_created_copied_snapshotted_and_cleared() {
    let Some(vg) = volume_group().await else {
        return;
    };
    let settings = VolumeBackendSection {
        volume_driver: "lvm".into(),
        volume_group: vg.clone(),
        volume_clear_size: 4,
        ..Default::default()
    };
    let d = LvmDriver::new("lvm-1".into(), &settings);
    d.setup().await.expect("setup");
    let stats = d.stats().await.expect("stats");
    assert!(stats.pools[0].total_capacity_gb > 0.0);
    let vol = volume(1);
    d.create_volume(&vol).await.expect("create");
    let dev = d.local_path(&vol).expect("path");
    let pattern = vec![0x5au8; 4096];
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&dev)
            .expect("open LV");
        f.write_all(&pattern).expect("write");
        f.sync_all().expect("sync");
    }
    let read = |path: &std::path::Path| {
        let mut f = std::fs::File::open(path).expect("open");
        f.seek(SeekFrom::Start(0)).expect("seek");
        let mut b = vec![0u8; 4096];
        f.read_exact(&mut b).expect("read");
        b
    };
    let clone = volume(2);
    d.create_cloned_volume(&clone, &vol).await.expect("clone");
    assert_eq!(read(&d.local_path(&clone).expect("path")), pattern);
    let snap = Snapshot {
        id: uuid::Uuid::new_v4().to_string(),
        volume_id: vol.id.clone(),
        volume_size: 1,
        ..Default::default()
    };
    d.create_snapshot(&snap, &vol).await.expect("snapshot");
    let restored = volume(1);
    d.create_volume_from_snapshot(&restored, &snap)
        .await
        .expect("from snapshot");
    assert_eq!(read(&d.local_path(&restored).expect("path")), pattern);
    d.extend_volume(&clone, 3).await.expect("extend");
    for v in [&restored, &clone] {
        d.delete_volume(v).await.expect("delete");
        assert!(!d.local_path(v).expect("path").exists());
    }
    d.delete_snapshot(&snap).await.expect("delete snapshot");
    d.delete_volume(&vol).await.expect("delete");
    d.delete_volume(&vol).await.expect("deleting again is fine");
}
