//! Backups on the file driver with the backup service: full and incremental backups whose
//! restores give back every byte, a corrupted chunk that fails its restore, export/import of
//! records, quotas, and Cinder's refusals.

use crate::support::{Cloud, Resp};
use http::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;

fn volume_file(cloud: &Cloud, id: &str) -> PathBuf {
    cloud.volume.config.state_dir().join("volumes").join("file-1").join(format!("volume-{id}"))
}

fn backup_root(cloud: &Cloud) -> PathBuf {
    cloud.volume.config.state_dir().join("backups")
}

/// Writes `pattern` bytes at each offset of the volume file.
fn write_at(path: &PathBuf, writes: &[(u64, Vec<u8>)]) {
    let mut f = std::fs::OpenOptions::new().write(true).open(path).expect("open volume");
    for (offset, data) in writes {
        f.seek(SeekFrom::Start(*offset)).expect("seek");
        f.write_all(data).expect("write");
    }
    f.sync_all().expect("sync");
}

fn sha(path: &PathBuf) -> String {
    let bytes = std::fs::read(path).expect("read volume");
    Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

async fn backup(cloud: &Cloud, token: &str, body: Value) -> Resp {
    cloud.call(Method::POST, "/v3/backups", token, Some(body)).await
}

async fn backup_ok(cloud: &Cloud, token: &str, body: Value) -> String {
    let r = backup(cloud, token, body).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let id = r.body["backup"]["id"].as_str().expect("id").to_string();
    cloud.wait_backup(&id, "available").await;
    id
}

async fn restore(cloud: &Cloud, token: &str, backup: &str, body: Value) -> Resp {
    cloud.call(Method::POST, &format!("/v3/backups/{backup}/restore"), token, Some(body)).await
}

#[tokio::test]
async fn backup_and_restore_give_back_every_byte() {
    let Some(cloud) = Cloud::with_file_backend_and_backups().await else { return };
    let (_, project, member) = cloud.member("backer").await;
    let vol = cloud
        .volume(&member, json!({"volume": {"size": 1, "name": "src", "metadata": {"purpose": "db"}}}))
        .await;
    let file = volume_file(&cloud, &vol);
    write_at(
        &file,
        &[(0, pattern(1, 1 << 20)), (300 << 20, pattern(2, 70_000)), ((1 << 30) - 4096, pattern(3, 4096))],
    );
    let original = sha(&file);

    // Full backup.
    let full = backup_ok(&cloud, &member, json!({"backup": {"volume_id": vol, "name": "full-1", "description": "first"}})).await;
    let shown = cloud.call_at(Some("3.56"), Method::GET, &format!("/v3/backups/{full}"), &member, None).await;
    let b = &shown.body["backup"];
    assert_eq!(b["status"], "available");
    assert_eq!(b["size"], 1);
    assert_eq!(b["object_count"], 1);
    assert_eq!(b["is_incremental"], false);
    assert_eq!(b["has_dependent_backups"], false);
    assert_eq!(b["volume_id"], vol.as_str());
    assert_eq!(b["name"], "full-1");
    assert_eq!(b["description"], "first");
    assert_eq!(b["fail_reason"], Value::Null);
    assert!(b["user_id"].is_string());
    let container = b["container"].as_str().expect("container").to_string();
    assert_eq!(container, format!("{}/{}/{full}", &full[0..2], &full[2..4]));
    let dir = backup_root(&cloud).join(&container);
    for f in ["backup-00001", "backup_metadata", "backup_sha256file"] {
        assert!(dir.join(f).is_file(), "{f} in {}", dir.display());
    }
    assert_eq!(cloud.wait_volume(&vol, "available").await["status"], "available");

    // Incremental after a change: only the changed blocks are stored.
    write_at(&file, &[(600 << 20, pattern(4, 10_000))]);
    let changed = sha(&file);
    let inc = backup_ok(&cloud, &member, json!({"backup": {"volume_id": vol, "name": "inc-1", "incremental": true}})).await;
    let shown = cloud.call(Method::GET, &format!("/v3/backups/{inc}"), &member, None).await;
    assert_eq!(shown.body["backup"]["is_incremental"], true);
    let inc_dir = backup_root(&cloud).join(shown.body["backup"]["container"].as_str().expect("container"));
    let chunk = std::fs::metadata(inc_dir.join("backup-00001")).expect("incremental chunk").len();
    assert!(chunk < 64 * 1024, "an incremental holds only the changed blocks ({chunk} bytes)");
    let parent = cloud.call(Method::GET, &format!("/v3/backups/{full}"), &member, None).await;
    assert_eq!(parent.body["backup"]["has_dependent_backups"], true);
    let refused = cloud.call(Method::DELETE, &format!("/v3/backups/{full}"), &member, None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.body["badRequest"]["message"],
        "Invalid backup: Incremental backups exist for this backup."
    );

    // Restore the incremental to a new volume: the bytes after the change, and the metadata.
    let r = restore(&cloud, &member, &inc, json!({"restore": {}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.body["restore"]["backup_id"], inc.as_str());
    assert_eq!(r.body["restore"]["volume_name"], format!("restore_backup_{inc}"));
    let new_vol = r.body["restore"]["volume_id"].as_str().expect("volume").to_string();
    let v = cloud.wait_for(&format!("/v3/volumes/{new_vol}"), "volume", "available", 4800).await;
    assert_eq!(v["metadata"]["purpose"], "db");
    assert_eq!(sha(&volume_file(&cloud, &new_vol)), changed);
    cloud.wait_backup(&inc, "available").await;

    // Restore the full backup over the new volume: the original bytes.
    let r = restore(&cloud, &member, &full, json!({"restore": {"volume_id": new_vol}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let busy = restore(&cloud, &member, &inc, json!({"restore": {"volume_id": new_vol}})).await;
    assert_eq!(busy.status, StatusCode::BAD_REQUEST, "the volume is restoring-backup");
    cloud.wait_for(&format!("/v3/volumes/{new_vol}"), "volume", "available", 4800).await;
    assert_eq!(sha(&volume_file(&cloud, &new_vol)), original);

    // A larger backup does not fit a smaller volume; a volume being restored is not free.
    let big = cloud.volume(&member, json!({"volume": {"size": 2}})).await;
    let big_backup = backup_ok(&cloud, &member, json!({"backup": {"volume_id": big}})).await;
    let small = restore(&cloud, &member, &big_backup, json!({"restore": {"volume_id": new_vol}})).await;
    assert_eq!(small.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        small.body["badRequest"]["message"],
        "Invalid volume: volume size 1 is too small to restore backup of size 2."
    );

    // In-use volumes need force, and go back to in-use.
    cloud
        .call(
            Method::POST,
            &format!("/v3/volumes/{vol}/action"),
            &cloud.admin,
            Some(json!({"os-reset_status": {"status": "in-use", "attach_status": "attached"}})),
        )
        .await;
    let no_force = backup(&cloud, &member, json!({"backup": {"volume_id": vol}})).await;
    assert_eq!(no_force.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        no_force.body["badRequest"]["message"],
        "Invalid volume: Backing up an in-use volume must use the force flag."
    );
    let forced = backup_ok(
        &cloud,
        &member,
        json!({"backup": {"volume_id": vol, "force": true, "container": "nightly/vol"}}),
    )
    .await;
    assert_eq!(cloud.wait_volume(&vol, "in-use").await["status"], "in-use");
    let forced_dir = backup_root(&cloud).join("nightly/vol");
    assert!(forced_dir.join(format!("backup_{forced}-00001")).is_file());

    // Lists and filters.
    let list = cloud.call(Method::GET, &format!("/v3/backups?volume_id={vol}"), &member, None).await;
    assert_eq!(list.body["backups"].as_array().map(Vec::len), Some(3), "{}", list.body);
    assert!(list.body["backups"][0].get("status").is_none(), "summary view");
    let detail = cloud
        .call_at(
            Some("3.45"),
            Method::GET,
            "/v3/backups/detail?status=available&with_count=true&limit=2",
            &member,
            None,
        )
        .await;
    assert_eq!(detail.body["count"], 4);
    assert_eq!(detail.body["backups"].as_array().map(Vec::len), Some(2));
    assert!(detail.body["backups_links"][0]["href"].as_str().is_some_and(|h| h.contains("marker=")));
    let named = cloud.call(Method::GET, "/v3/backups?name=inc-1", &member, None).await;
    assert_eq!(named.body["backups"][0]["id"], inc.as_str());
    let bad = cloud.call_at(Some("3.31"), Method::GET, "/v3/backups?colour=red", &member, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let (_, _, stranger) = cloud.member("stranger").await;
    let hidden = cloud.call(Method::GET, &format!("/v3/backups/{full}"), &stranger, None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(hidden.body["itemNotFound"]["message"], format!("Backup {full} could not be found."));

    // Update (3.9).
    let up = cloud
        .call_at(
            Some("3.9"),
            Method::PUT,
            &format!("/v3/backups/{forced}"),
            &member,
            Some(json!({"backup": {"name": "renamed"}})),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    assert_eq!(up.body["backup"]["name"], "renamed");

    // Quotas: backups and backup_gigabytes.
    let q = cloud
        .call(
            Method::PUT,
            &format!("/v3/os-quota-sets/{project}"),
            &cloud.admin,
            Some(json!({"quota_set": {"backups": 5, "backup_gigabytes": 5}})),
        )
        .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    let over = backup(&cloud, &member, json!({"backup": {"volume_id": big}})).await;
    assert_eq!(over.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", over.body);
    assert_eq!(
        over.body["overLimit"]["message"],
        "Requested backup exceeds allowed Backup gigabytes quota. Requested 2G, quota is 5G and 5G has been consumed."
    );
    cloud
        .call(
            Method::PUT,
            &format!("/v3/os-quota-sets/{project}"),
            &cloud.admin,
            Some(json!({"quota_set": {"backups": 4, "backup_gigabytes": 100}})),
        )
        .await;
    let over = backup(&cloud, &member, json!({"backup": {"volume_id": big}})).await;
    assert_eq!(over.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(over.body["overLimit"]["message"], "Maximum number of backups allowed (4) exceeded");
    let usage = cloud
        .call(Method::GET, &format!("/v3/os-quota-sets/{project}?usage=true"), &cloud.admin, None)
        .await;
    assert_eq!(usage.body["quota_set"]["backups"]["in_use"], 4, "{}", usage.body);
    assert_eq!(usage.body["quota_set"]["backup_gigabytes"]["in_use"], 5);

    // Delete: the files go, then the record.
    let del = cloud.call(Method::DELETE, &format!("/v3/backups/{forced}"), &member, None).await;
    assert_eq!(del.status, StatusCode::ACCEPTED);
    cloud.wait_gone(&format!("/v3/backups/{forced}")).await;
    assert!(!forced_dir.exists(), "the container directory is removed with its last backup");
}

#[tokio::test]
async fn corrupt_chunks_fail_the_restore_and_records_travel() {
    let Some(cloud) = Cloud::with_file_backend_and_backups().await else { return };
    let (_, _, member) = cloud.member("careful").await;
    let vol = cloud.volume(&member, json!({"volume": {"size": 1}})).await;
    let file = volume_file(&cloud, &vol);
    write_at(&file, &[(4096, pattern(9, 200_000))]);
    let original = sha(&file);
    let id = backup_ok(&cloud, &member, json!({"backup": {"volume_id": vol}})).await;
    let dir = backup_root(&cloud).join(format!("{}/{}/{id}", &id[0..2], &id[2..4]));

    // Export (admins only), then import after the record is gone.
    let path = format!("/v3/backups/{id}/export_record");
    assert_eq!(cloud.call(Method::GET, &path, &member, None).await.status, StatusCode::FORBIDDEN);
    let exported = cloud.call(Method::GET, &path, &cloud.admin, None).await;
    assert_eq!(exported.status, StatusCode::OK, "{}", exported.body);
    let record = exported.body["backup-record"].clone();
    assert_eq!(record["backup_service"], "cinder.backup.drivers.posix.PosixBackupDriver");
    let exists = cloud
        .call(Method::POST, "/v3/backups/import_record", &cloud.admin, Some(json!({"backup-record": record})))
        .await;
    assert_eq!(exists.status, StatusCode::BAD_REQUEST);
    assert_eq!(exists.body["badRequest"]["message"], "Invalid backup: Backup already exists in database.");
    let garbage = cloud
        .call(
            Method::POST,
            "/v3/backups/import_record",
            &cloud.admin,
            Some(json!({"backup-record": {"backup_service": "x", "backup_url": "!!!"}})),
        )
        .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    // Keep the data aside, delete the backup, put the data back, import the record.
    let aside = cloud.volume.config.state_dir().join("aside");
    std::fs::create_dir_all(&aside).expect("aside");
    for f in ["backup-00001", "backup_metadata", "backup_sha256file"] {
        std::fs::copy(dir.join(f), aside.join(f)).expect("copy");
    }
    cloud.call(Method::DELETE, &format!("/v3/backups/{id}"), &member, None).await;
    cloud.wait_gone(&format!("/v3/backups/{id}")).await;
    assert!(!dir.exists());
    std::fs::create_dir_all(&dir).expect("dir");
    for f in ["backup-00001", "backup_metadata", "backup_sha256file"] {
        std::fs::copy(aside.join(f), dir.join(f)).expect("copy back");
    }
    let imported = cloud
        .call(Method::POST, "/v3/backups/import_record", &cloud.admin, Some(json!({"backup-record": record})))
        .await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.body);
    assert_eq!(imported.body["backup"]["id"], id.as_str());
    cloud.wait_backup(&id, "available").await;

    // The imported backup restores; then a flipped byte in its chunk fails the restore.
    let target = cloud.volume(&cloud.admin, json!({"volume": {"size": 1}})).await;
    let r = restore(&cloud, &cloud.admin, &id, json!({"restore": {"volume_id": target}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    cloud.wait_volume(&target, "available").await;
    assert_eq!(sha(&volume_file(&cloud, &target)), original);
    let chunk = dir.join("backup-00001");
    let mut bytes = std::fs::read(&chunk).expect("chunk");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&chunk, bytes).expect("corrupt");
    let r = restore(&cloud, &cloud.admin, &id, json!({"restore": {"volume_id": target}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    cloud.wait_volume(&target, "error_restoring").await;
    cloud.wait_backup(&id, "available").await;

    // A record exported and imported under a new id (as Tempest does) finds the original's
    // files through its recorded prefix, and restores.
    let orig = backup_ok(&cloud, &member, json!({"backup": {"volume_id": vol}})).await;
    let rec = cloud
        .call(Method::GET, &format!("/v3/backups/{orig}/export_record"), &cloud.admin, None)
        .await
        .body["backup-record"]
        .clone();
    let engine = base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let mut record: Value = serde_json::from_slice(&engine.decode(rec["backup_url"].as_str().expect("url")).expect("base64")).expect("json");
    let copy_id = "4b1f0c9e-7d2a-4e55-9a61-2c3d4e5f6a7b";
    record["id"] = json!(copy_id);
    let url = engine.encode(serde_json::to_vec(&record).expect("record"));
    let r = cloud
        .call(
            Method::POST,
            "/v3/backups/import_record",
            &cloud.admin,
            Some(json!({"backup-record": {"backup_service": rec["backup_service"], "backup_url": url}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    cloud.wait_backup(copy_id, "available").await;
    let r = restore(&cloud, &cloud.admin, copy_id, json!({"restore": {}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let copy_vol = r.body["restore"]["volume_id"].as_str().expect("volume").to_string();
    cloud.wait_for(&format!("/v3/volumes/{copy_vol}"), "volume", "available", 4800).await;
    assert_eq!(sha(&volume_file(&cloud, &copy_vol)), sha(&volume_file(&cloud, &vol)));

    // A record whose data is missing imports as error.
    let lost = backup_ok(&cloud, &member, json!({"backup": {"volume_id": vol}})).await;
    let rec = cloud
        .call(Method::GET, &format!("/v3/backups/{lost}/export_record"), &cloud.admin, None)
        .await
        .body["backup-record"]
        .clone();
    cloud.call(Method::DELETE, &format!("/v3/backups/{lost}"), &member, None).await;
    cloud.wait_gone(&format!("/v3/backups/{lost}")).await;
    let r = cloud
        .call(Method::POST, "/v3/backups/import_record", &cloud.admin, Some(json!({"backup-record": rec})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    cloud.wait_backup(&lost, "error").await;

    // Admin actions.
    let action = format!("/v3/backups/{lost}/action");
    // An imported record belongs to the importer's project: the member no longer sees it.
    let hidden = cloud
        .call(Method::POST, &action, &member, Some(json!({"os-reset_status": {"status": "available"}})))
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let bad = cloud
        .call(Method::POST, &action, &cloud.admin, Some(json!({"os-reset_status": {"status": "creating"}})))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let reset = cloud
        .call(Method::POST, &action, &cloud.admin, Some(json!({"os-reset_status": {"status": "available"}})))
        .await;
    assert_eq!(reset.status, StatusCode::ACCEPTED);
    let forced = cloud.call(Method::POST, &action, &cloud.admin, Some(json!({"os-force_delete": {}}))).await;
    assert_eq!(forced.status, StatusCode::ACCEPTED, "{}", forced.body);
    cloud.wait_gone(&format!("/v3/backups/{lost}")).await;

    // A backup of a snapshot holds the snapshot's data, not the volume's since.
    let snap = cloud
        .call(Method::POST, "/v3/snapshots", &member, Some(json!({"snapshot": {"volume_id": vol}})))
        .await;
    assert_eq!(snap.status, StatusCode::ACCEPTED, "{}", snap.body);
    let snap = snap.body["snapshot"]["id"].as_str().expect("snapshot").to_string();
    cloud.wait_snapshot(&snap, "available").await;
    write_at(&file, &[(8192, pattern(77, 50_000))]);
    assert_ne!(sha(&file), original);
    let of_snap = backup_ok(&cloud, &member, json!({"backup": {"volume_id": vol, "snapshot_id": snap}})).await;
    let shown = cloud.call(Method::GET, &format!("/v3/backups/{of_snap}"), &member, None).await;
    assert_eq!(shown.body["backup"]["snapshot_id"], snap.as_str());
    cloud.wait_snapshot(&snap, "available").await;
    let r = restore(&cloud, &member, &of_snap, json!({"restore": {"name": "from-snapshot-backup"}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.body["restore"]["volume_name"], "from-snapshot-backup");
    let restored = r.body["restore"]["volume_id"].as_str().expect("volume").to_string();
    cloud.wait_for(&format!("/v3/volumes/{restored}"), "volume", "available", 4800).await;
    assert_eq!(sha(&volume_file(&cloud, &restored)), original);

    // Refusals: incremental without a full backup, bad bodies, unknown volumes.
    let fresh = cloud.volume(&member, json!({"volume": {"size": 1}})).await;
    let r = backup(&cloud, &member, json!({"backup": {"volume_id": fresh, "incremental": true}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body["badRequest"]["message"],
        "Invalid backup: No backups available to do an incremental backup."
    );
    for body in [
        json!({"backup": {}}),
        json!({"backup": {"volume_id": fresh, "force": "maybe"}}),
        json!({"backup": {"volume_id": fresh, "container": "../../etc"}}),
        json!({"backup": {"volume_id": fresh, "colour": 1}}),
    ] {
        let r = backup(&cloud, &member, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
    }
    let r = backup(&cloud, &member, json!({"backup": {"volume_id": "11111111-2222-3333-4444-555555555555"}})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Members do not reset or force-delete their own backups either.
    let own = backup_ok(&cloud, &member, json!({"backup": {"volume_id": fresh}})).await;
    let action = format!("/v3/backups/{own}/action");
    for body in [json!({"os-reset_status": {"status": "error"}}), json!({"os-force_delete": {}})] {
        let denied = cloud.call(Method::POST, &action, &member, Some(body)).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.body);
    }
}
