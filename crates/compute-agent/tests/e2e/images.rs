//! Snapshots, shelving and rebuilds: the driver's disk reaches the image service, a shelved
//! server frees its host (or keeps it when offloading is disabled), unshelve brings it back,
//! rebuild gives it a new image.

use crate::support::{Cloud, TINY};
use monostack_compute_agent::drivers::fake::disk_bytes;
use serde_json::{json, Value};

async fn image(cloud: &Cloud, id: &str) -> (u16, Value) {
    let resp = reqwest::Client::new().get(format!("{}/v2/images/{id}", cloud.image_url)).header("x-auth-token", &cloud.admin).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn image_data(cloud: &Cloud, id: &str) -> Vec<u8> {
    let resp = reqwest::Client::new().get(format!("{}/v2/images/{id}/file", cloud.image_url)).header("x-auth-token", &cloud.admin).send().await.unwrap();
    assert!(resp.status().is_success(), "download {id}: {}", resp.status());
    resp.bytes().await.unwrap().to_vec()
}

/// The id of the image named `name`.
async fn image_named(cloud: &Cloud, name: &str) -> Option<String> {
    let resp = reqwest::Client::new().get(format!("{}/v2/images?name={name}", cloud.image_url)).header("x-auth-token", &cloud.admin).send().await.unwrap();
    let body: Value = resp.json().await.unwrap();
    body["images"].as_array()?.first().and_then(|i| i["id"].as_str()).map(str::to_string)
}

#[tokio::test]
async fn create_image_uploads_the_disk_into_the_image_service() {
    let cloud = Cloud::start(1).await;
    let id = cloud.boot("snapme", "1").await;
    cloud.wait_status(&id, "ACTIVE").await;
    let r = cloud.action(&id, json!({"createImage": {"name": "snap-1"}})).await;
    let image_id = r.body["image_id"].as_str().expect("image_id").to_string();
    cloud.wait_status(&id, "ACTIVE").await;
    let (status, meta) = image(&cloud, &image_id).await;
    assert_eq!(status, 200);
    assert_eq!(meta["status"], "active", "{meta}");
    assert_eq!(meta["disk_format"], "raw");
    assert_eq!(image_data(&cloud, &image_id).await, disk_bytes(&id, Some(&cloud.image_id)));
    let events = cloud.events(&id, "createImage").await;
    assert!(events.contains(&("compute_snapshot_instance".into(), "Success".into())), "{events:?}");
}

#[tokio::test]
async fn shelve_offloads_and_unshelve_spawns_again() {
    let cloud = Cloud::start(2).await;
    let id = cloud.boot("shelf", "1").await;
    cloud.wait_status(&id, "ACTIVE").await;
    cloud.action(&id, json!({"shelve": null})).await;
    let server = cloud.wait_status(&id, "SHELVED_OFFLOADED").await;
    assert_eq!(server["OS-EXT-STS:power_state"], 4, "shut down");
    assert!(server["OS-EXT-SRV-ATTR:host"].is_null(), "{server}");
    cloud.wait_no_allocations(&id).await; // offload frees the claim
    assert!(cloud.driver.instances().is_empty(), "offload removes the guest");
    let shelved = image_named(&cloud, "shelf-shelved").await.expect("the shelved image");
    assert_eq!(image(&cloud, &shelved).await.1["status"], "active");

    cloud.action(&id, json!({"unshelve": null})).await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    assert_eq!(server["OS-EXT-STS:power_state"], 1);
    cloud.assert_allocated_on_own_host(&server, TINY).await;
    assert_eq!(image(&cloud, &shelved).await.0, 404, "the shelved image is deleted after unshelve");
    let events = cloud.events(&id, "unshelve").await;
    assert!(events.contains(&("compute_unshelve_instance".into(), "Success".into())), "{events:?}");
}

#[tokio::test]
async fn shelve_without_offload_keeps_the_host_until_unshelve() {
    let cloud = Cloud::start_with(1, |c| c.compute.shelved_offload_time = -1).await;
    let id = cloud.boot("kept", "1").await;
    cloud.wait_status(&id, "ACTIVE").await;
    cloud.action(&id, json!({"shelve": null})).await;
    let server = cloud.wait_status(&id, "SHELVED").await;
    assert_eq!(server["OS-EXT-SRV-ATTR:host"], "cn-1");
    cloud.assert_allocated_on_own_host(&server, TINY).await;
    cloud.action(&id, json!({"unshelve": null})).await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    assert_eq!(server["OS-EXT-STS:power_state"], 1);
    cloud.assert_allocated_on_own_host(&server, TINY).await;
}

#[tokio::test]
async fn rebuild_replaces_the_image_and_keeps_the_state() {
    let cloud = Cloud::start(1).await;
    let id = cloud.boot("rebuilt", "1").await;
    cloud.wait_status(&id, "ACTIVE").await;
    let r = cloud.action(&id, json!({"createImage": {"name": "base-2"}})).await;
    let new_image = r.body["image_id"].as_str().unwrap().to_string();
    cloud.wait_status(&id, "ACTIVE").await;
    cloud.action(&id, json!({"rebuild": {"imageRef": new_image}})).await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    assert_eq!(server["image"]["id"], new_image.as_str());
    assert_eq!(server["OS-EXT-STS:power_state"], 1);
    let events = cloud.events(&id, "rebuild").await;
    assert!(events.contains(&("compute_rebuild_instance".into(), "Success".into())), "{events:?}");
    assert_eq!(cloud.driver.instances()[0].image_id.as_deref(), Some(new_image.as_str()));
    cloud.action(&id, json!({"os-stop": null})).await;
    cloud.wait_status(&id, "SHUTOFF").await;
    cloud.action(&id, json!({"rebuild": {"imageRef": cloud.image_id}})).await;
    let server = cloud.wait_status(&id, "SHUTOFF").await;
    assert_eq!(server["OS-EXT-STS:power_state"], 4, "a stopped server stays stopped");
    cloud.assert_allocated_on_own_host(&server, TINY).await;
}

/// The names of the server's backups of `kind`, oldest first.
async fn backups(cloud: &Cloud, server: &str, kind: &str) -> Vec<String> {
    let url = format!("{}/v2/images?image_type=backup&backup_type={kind}&instance_uuid={server}&sort_key=created_at&sort_dir=asc", cloud.image_url);
    let body: Value = reqwest::Client::new().get(url).header("x-auth-token", &cloud.admin).send().await.unwrap().json().await.unwrap();
    body["images"].as_array().into_iter().flatten().filter_map(|i| i["name"].as_str().map(str::to_string)).collect()
}

/// Polls until the server's backups of `kind` are `expected` (the rotation runs after the
/// server is ACTIVE again); panics after 10 s.
async fn wait_backups(cloud: &Cloud, server: &str, kind: &str, expected: &[&str]) {
    let mut last = Vec::new();
    for _ in 0..500 {
        last = backups(cloud, server, kind).await;
        if last == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("backups of type {kind} are {last:?}, not {expected:?}");
}

#[tokio::test]
async fn backups_beyond_the_rotation_are_deleted_oldest_first() {
    let cloud = Cloud::start(1).await;
    let id = cloud.boot("backed", "1").await;
    cloud.wait_status(&id, "ACTIVE").await;
    let mut ids = Vec::new();
    for n in 1..=3 {
        let r = cloud.action(&id, json!({"createBackup": {"name": format!("backup-{n}"), "backup_type": "daily", "rotation": 2}})).await;
        ids.push(r.body["image_id"].as_str().expect("image_id").to_string());
        cloud.wait_status(&id, "ACTIVE").await;
    }
    wait_backups(&cloud, &id, "daily", &["backup-2", "backup-3"]).await;
    assert_eq!(image(&cloud, &ids[0]).await.0, 404, "the oldest backup is rotated away");
    assert_eq!(image(&cloud, &ids[2]).await.1["status"], "active");

    // Another type rotates on its own; a rotation of 0 keeps none of its type.
    cloud.action(&id, json!({"createBackup": {"name": "weekly-1", "backup_type": "weekly", "rotation": 1}})).await;
    cloud.wait_status(&id, "ACTIVE").await;
    wait_backups(&cloud, &id, "weekly", &["weekly-1"]).await;
    assert_eq!(backups(&cloud, &id, "daily").await.len(), 2);
    cloud.action(&id, json!({"createBackup": {"name": "weekly-2", "backup_type": "weekly", "rotation": 0}})).await;
    cloud.wait_status(&id, "ACTIVE").await;
    wait_backups(&cloud, &id, "weekly", &[]).await;
    let events = cloud.events(&id, "createBackup").await;
    assert!(events.contains(&("compute_backup_instance".into(), "Success".into())), "{events:?}");
}
