//! Data integrity on the file driver, end to end through the API: known bytes written into a
//! volume's file survive snapshots, clones (of the volume and of the snapshot), full and
//! incremental backups, restores into new and existing volumes, volumes created from a
//! backup (3.47) and a forced backup of an in-use volume (through a temporary snapshot),
//! each checked with sha256 over every byte; and deleted volumes and snapshots leave no data
//! readable (their inodes, kept through hard links, read back as zeros). Needs qemu-img.

use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;
const SERVER: &str = "8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a";

fn volume_file(cloud: &Cloud, id: &str) -> PathBuf {
    cloud.volume.config.state_dir().join("volumes").join("file-1").join(format!("volume-{id}"))
}

fn snapshot_file(cloud: &Cloud, id: &str) -> PathBuf {
    cloud.volume.config.state_dir().join("volumes").join("file-1").join(format!("snapshot-{id}"))
}

/// The sha256 of every byte of the file, read in 4 MiB pieces.
fn sha(path: &Path) -> String {
    let mut f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 4 * MIB as usize];
    loop {
        let n = f.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether every byte of the file is zero.
fn all_zero(path: &Path) -> bool {
    let mut f = std::fs::File::open(path).expect("open");
    let mut buf = vec![0u8; 4 * MIB as usize];
    loop {
        let n = f.read(&mut buf).expect("read");
        if n == 0 {
            return true;
        }
        if buf[..n].iter().any(|b| *b != 0) {
            return false;
        }
    }
}

/// Writes `len` bytes of a pattern seeded by `seed` at each offset.
fn write_pattern(path: &Path, seed: u32, offsets: &[u64], len: usize) {
    let mut f = std::fs::OpenOptions::new().write(true).open(path).expect("open volume");
    for (n, offset) in offsets.iter().enumerate() {
        let data: Vec<u8> = (0..len as u32)
            .map(|i| (i.wrapping_add(seed).wrapping_add(n as u32).wrapping_mul(2654435761) >> 11) as u8)
            .collect();
        f.seek(SeekFrom::Start(*offset)).expect("seek");
        f.write_all(&data).expect("write");
    }
    f.sync_all().expect("sync");
}

async fn post(cloud: &Cloud, version: &str, path: &str, token: &str, body: Value) -> crate::support::Resp {
    cloud.call_at(Some(version), Method::POST, path, token, Some(body)).await
}

async fn backup(cloud: &Cloud, token: &str, body: Value) -> String {
    let r = post(cloud, "3.0", "/v3/backups", token, body).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let id = r.body["backup"]["id"].as_str().expect("id").to_string();
    cloud.wait_backup(&id, "available").await;
    id
}

/// Restores `backup` (into `volume_id`, or a new volume); answers the volume once available.
async fn restore(cloud: &Cloud, token: &str, backup: &str, volume_id: Option<&str>) -> String {
    let body = match volume_id {
        Some(v) => json!({"restore": {"volume_id": v}}),
        None => json!({"restore": {}}),
    };
    let r = post(cloud, "3.0", &format!("/v3/backups/{backup}/restore"), token, body).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let id = r.body["restore"]["volume_id"].as_str().expect("volume").to_string();
    cloud.wait_for(&format!("/v3/volumes/{id}"), "volume", "available", 4800).await;
    cloud.wait_backup(backup, "available").await;
    id
}

#[tokio::test]
async fn every_byte_survives_and_deleted_data_is_gone() {
    let Some(cloud) = Cloud::with_file_backend_and_backups().await else { return };
    let (_, _, member) = cloud.member("integrity").await;
    let offsets = [0, 100 * MIB + 17, GIB - MIB];

    // Known data in volume A.
    let a = cloud.volume(&member, json!({"volume": {"size": 1, "name": "a"}})).await;
    let a_file = volume_file(&cloud, &a);
    write_pattern(&a_file, 1, &offsets, 256 * 1024);
    let sha_1 = sha(&a_file);

    // A snapshot keeps those bytes while A changes.
    let r = post(&cloud, "3.0", "/v3/snapshots", &member, json!({"snapshot": {"volume_id": a, "name": "s"}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let snap = r.body["snapshot"]["id"].as_str().expect("snapshot").to_string();
    cloud.wait_snapshot(&snap, "available").await;
    assert_eq!(sha(&snapshot_file(&cloud, &snap)), sha_1);
    write_pattern(&a_file, 2, &[MIB, 512 * MIB], 64 * 1024);
    let sha_2 = sha(&a_file);
    assert_ne!(sha_1, sha_2);

    // Clones: of the volume (its current bytes) and of the snapshot (the bytes it kept).
    let from_volume = cloud.volume(&member, json!({"volume": {"source_volid": a, "name": "clone"}})).await;
    assert_eq!(sha(&volume_file(&cloud, &from_volume)), sha_2);
    let from_snapshot = cloud.volume(&member, json!({"volume": {"snapshot_id": snap, "name": "from-snap"}})).await;
    assert_eq!(sha(&volume_file(&cloud, &from_snapshot)), sha_1);

    // A full backup, a change, an incremental backup.
    let full = backup(&cloud, &member, json!({"backup": {"volume_id": a, "name": "full"}})).await;
    write_pattern(&a_file, 3, &[3 * MIB, 700 * MIB + 5], 128 * 1024);
    let sha_3 = sha(&a_file);
    let incr = backup(&cloud, &member, json!({"backup": {"volume_id": a, "name": "incr", "incremental": true}})).await;

    // Restores into new volumes, and over an existing one that was changed.
    let r_full = restore(&cloud, &member, &full, None).await;
    assert_eq!(sha(&volume_file(&cloud, &r_full)), sha_2);
    let r_incr = restore(&cloud, &member, &incr, None).await;
    assert_eq!(sha(&volume_file(&cloud, &r_incr)), sha_3);
    write_pattern(&volume_file(&cloud, &from_volume), 9, &[0, 900 * MIB], 4096);
    restore(&cloud, &member, &full, Some(&from_volume)).await;
    assert_eq!(sha(&volume_file(&cloud, &from_volume)), sha_2);

    // A volume created from a backup (3.47) holds its bytes; Cinder's refusals.
    let r = post(&cloud, "3.47", "/v3/volumes", &member, json!({"volume": {"backup_id": incr, "name": "from-backup"}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let from_backup = r.body["volume"]["id"].as_str().expect("id").to_string();
    assert_eq!(r.body["volume"]["size"], 1);
    cloud.wait_for(&format!("/v3/volumes/{from_backup}"), "volume", "available", 4800).await;
    cloud.wait_backup(&incr, "available").await;
    assert_eq!(sha(&volume_file(&cloud, &from_backup)), sha_3);
    let missing = post(&cloud, "3.47", "/v3/volumes", &member, json!({"volume": {"backup_id": "0c4a3e2f-1111-4222-8333-444455556666"}})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    let bad = post(&cloud, "3.47", "/v3/volumes", &member, json!({"volume": {"backup_id": "not-a-uuid", "size": 1}})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);

    // A forced backup of an in-use volume reads a temporary snapshot, which goes away.
    let act = format!("/v3/volumes/{a}/action");
    assert_eq!(post(&cloud, "3.0", &act, &member, json!({"os-reserve": null})).await.status, StatusCode::ACCEPTED);
    let att = post(&cloud, "3.0", &act, &member, json!({"os-attach": {"instance_uuid": SERVER, "mountpoint": "/dev/vdb"}})).await;
    assert_eq!(att.status, StatusCode::ACCEPTED, "{}", att.body);
    let unforced = post(&cloud, "3.0", "/v3/backups", &member, json!({"backup": {"volume_id": a}})).await;
    assert_eq!(unforced.status, StatusCode::BAD_REQUEST, "{}", unforced.body);
    let forced = backup(&cloud, &member, json!({"backup": {"volume_id": a, "name": "forced", "force": true}})).await;
    let v = cloud.wait_volume(&a, "in-use").await;
    assert_eq!(v["attachments"][0]["server_id"], SERVER);
    let snaps = cloud.call(Method::GET, "/v3/snapshots", &member, None).await;
    let left: Vec<&Value> = snaps.body["snapshots"].as_array().expect("snapshots").iter().collect();
    assert_eq!(left.len(), 1, "the temporary snapshot is still there: {left:?}");
    assert_eq!(left[0]["id"], snap.as_str());
    let r_forced = restore(&cloud, &member, &forced, None).await;
    assert_eq!(sha(&volume_file(&cloud, &r_forced)), sha_3);
    let det = post(&cloud, "3.0", &act, &member, json!({"os-detach": {}})).await;
    assert_eq!(det.status, StatusCode::ACCEPTED, "{}", det.body);
    cloud.wait_volume(&a, "available").await;

    // Deletes: every file that held data is wiped before it goes. Hard links keep the inodes
    // reachable, so what a later reader of the blocks would see can be checked.
    let keep = cloud.volume.config.state_dir().join("kept");
    std::fs::create_dir_all(&keep).expect("mkdir");
    let mut kept = Vec::new();
    for (name, path) in [
        ("snapshot", snapshot_file(&cloud, &snap)),
        ("a", a_file.clone()),
        ("clone", volume_file(&cloud, &from_volume)),
        ("from-snapshot", volume_file(&cloud, &from_snapshot)),
        ("restored", volume_file(&cloud, &r_incr)),
        ("from-backup", volume_file(&cloud, &from_backup)),
    ] {
        let link = keep.join(name);
        std::fs::hard_link(&path, &link).expect("hard link");
        assert!(!all_zero(&link), "{name} holds data before the delete");
        kept.push((name, path, link));
    }
    let r = cloud.call(Method::DELETE, &format!("/v3/snapshots/{snap}"), &member, None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    cloud.wait_gone(&format!("/v3/snapshots/{snap}")).await;
    for id in [&a, &from_volume, &from_snapshot, &r_incr, &from_backup] {
        let r = cloud.call(Method::DELETE, &format!("/v3/volumes/{id}"), &member, None).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        cloud.wait_gone(&format!("/v3/volumes/{id}")).await;
    }
    for (name, path, link) in kept {
        assert!(!path.exists(), "{name}: {} is still there", path.display());
        assert!(all_zero(&link), "{name}: its data is still readable after the delete");
    }
}
