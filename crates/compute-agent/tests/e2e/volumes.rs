//! Volumes end to end, against a real block storage service (fake backend) over HTTP:
//! attach and detach through os-volume_attachments (reserve at the API, connect and attach on
//! the agent, the fake driver's record, `in-use` then `available`), boot from volume (an
//! existing volume, a snapshot's copy, a blank volume), and what a server delete does to its
//! volumes (detached, or deleted when `delete_on_termination`).

use crate::support::{Cloud, VERSION};
use http::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

async fn server_of(cloud: &Cloud, token: &str, body: Value) -> String {
    let r = cloud.call_as(token, Method::POST, "/v2.1/servers", Some(json!({ "server": body }))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "boot: {}", r.body);
    r.body["server"]["id"].as_str().expect("id").to_string()
}

/// The volumes the fake driver has attached to the server: mountpoint → volume id.
fn driver_volumes(cloud: &Cloud, server: &Value) -> Vec<(String, String)> {
    let id = server["id"].as_str().unwrap_or_default();
    let node = server["OS-EXT-SRV-ATTR:hypervisor_hostname"].as_str().unwrap_or_default();
    let guest = cloud.driver.instance(id, node).expect("guest on its node");
    guest.volumes.iter().map(|(m, c)| (m.clone(), c.volume_id.clone())).collect()
}

async fn wait_driver_volumes(cloud: &Cloud, server: &Value, expected: &[(&str, &str)]) {
    let want: Vec<(String, String)> = expected.iter().map(|(m, v)| (m.to_string(), v.to_string())).collect();
    let mut last = Vec::new();
    for _ in 0..500 {
        last = driver_volumes(cloud, server);
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the driver has {last:?}, not {want:?}");
}

#[tokio::test]
async fn attach_and_detach_a_volume() {
    let cloud = Cloud::start(1).await;
    let (_, _, t) = cloud.identity.member(&cloud.admin, "vera").await;
    let id = server_of(&cloud, &t, json!({"name": "vm", "imageRef": cloud.image_id, "flavorRef": "1", "networks": "none"})).await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    let volume = cloud.volume(&t, 1).await;

    let r = cloud.call_as(&t, Method::POST, &format!("/v2.1/servers/{id}/os-volume_attachments"), Some(json!({"volumeAttachment": {"volumeId": volume}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["volumeAttachment"]["device"], "/dev/vdb");
    let v = cloud.wait_volume(&t, &volume, "in-use").await;
    assert_eq!(v["attachments"][0]["server_id"], id.as_str());
    assert_eq!(v["attachments"][0]["device"], "/dev/vdb");
    wait_driver_volumes(&cloud, &server, &[("/dev/vdb", &volume)]).await;
    let events = cloud.events(&id, "attach_volume").await;
    assert_eq!(events, vec![("compute_attach_volume".to_string(), "Success".to_string())]);
    let shown = cloud.server(&id).await;
    assert_eq!(shown["os-extended-volumes:volumes_attached"], json!([{"id": volume, "delete_on_termination": false}]));
    // The fake driver's diagnostics count the disk too (and name it before 2.48).
    let d = cloud.call_as(&cloud.admin, Method::GET, &format!("/v2.1/servers/{id}/diagnostics"), None).await;
    assert_eq!(d.body["num_disks"], 2, "diagnostics: {}", d.body);
    let d = cloud.call_at("2.47", &cloud.admin, Method::GET, &format!("/v2.1/servers/{id}/diagnostics"), None).await;
    assert!(d.body.get("vdb_read").is_some(), "diagnostics: {}", d.body);

    // A second volume takes the next device; the first cannot be attached twice.
    let second = cloud.volume(&t, 1).await;
    let r = cloud.call_as(&t, Method::POST, &format!("/v2.1/servers/{id}/os-volume_attachments"), Some(json!({"volumeAttachment": {"volumeId": second}}))).await;
    assert_eq!(r.body["volumeAttachment"]["device"], "/dev/vdc", "{}", r.body);
    cloud.wait_volume(&t, &second, "in-use").await;
    let r = cloud.call_as(&t, Method::POST, &format!("/v2.1/servers/{id}/os-volume_attachments"), Some(json!({"volumeAttachment": {"volumeId": volume}}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);

    let r = cloud.call_as(&t, Method::DELETE, &format!("/v2.1/servers/{id}/os-volume_attachments/{volume}"), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    cloud.wait_volume(&t, &volume, "available").await;
    wait_driver_volumes(&cloud, &server, &[("/dev/vdc", &second)]).await;
    let r = cloud.call_at(VERSION, &t, Method::GET, &format!("/v2.1/servers/{id}/os-volume_attachments"), None).await;
    let listed: Vec<&str> = r.body["volumeAttachments"].as_array().unwrap().iter().map(|a| a["volumeId"].as_str().unwrap()).collect();
    assert_eq!(listed, vec![second.as_str()]);

    // Deleting the server detaches what is left; the volume stays (no delete_on_termination).
    let r = cloud.call_as(&t, Method::DELETE, &format!("/v2.1/servers/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    cloud.wait_gone(&id).await;
    cloud.wait_volume(&t, &second, "available").await;
}

#[tokio::test]
async fn attach_to_a_stopped_server_and_refusals_in_use() {
    let cloud = Cloud::start(1).await;
    let (_, _, t) = cloud.identity.member(&cloud.admin, "vera").await;
    let a = server_of(&cloud, &t, json!({"name": "a", "imageRef": cloud.image_id, "flavorRef": "1", "networks": "none"})).await;
    let b = server_of(&cloud, &t, json!({"name": "b", "imageRef": cloud.image_id, "flavorRef": "1", "networks": "none"})).await;
    cloud.wait_status(&a, "ACTIVE").await;
    cloud.wait_status(&b, "ACTIVE").await;
    cloud.action(&a, json!({"os-stop": null})).await;
    cloud.wait_status(&a, "SHUTOFF").await;
    let volume = cloud.volume(&t, 1).await;
    let r = cloud.call_as(&t, Method::POST, &format!("/v2.1/servers/{a}/os-volume_attachments"), Some(json!({"volumeAttachment": {"volumeId": volume}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    cloud.wait_volume(&t, &volume, "in-use").await;
    // In use by a: b cannot have it.
    let r = cloud.call_as(&t, Method::POST, &format!("/v2.1/servers/{b}/os-volume_attachments"), Some(json!({"volumeAttachment": {"volumeId": volume}}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // A volume attached to a server cannot be deleted in the block storage service.
    let (s, _) = cloud.vol(&t, Method::DELETE, &format!("/volumes/{volume}"), None).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn boot_from_an_existing_volume_and_delete_keeps_it() {
    let cloud = Cloud::start(1).await;
    let (_, _, t) = cloud.identity.member(&cloud.admin, "vera").await;
    let volume = cloud.volume(&t, 1).await;
    let (s, b) = cloud.vol(&t, Method::POST, &format!("/volumes/{volume}/action"), Some(json!({"os-set_bootable": {"bootable": true}}))).await;
    assert_eq!(s, 200, "set bootable: {b}");
    let bdm = json!([{"boot_index": 0, "uuid": volume, "source_type": "volume", "destination_type": "volume"}]);
    let id = server_of(&cloud, &t, json!({"name": "bfv", "flavorRef": "1", "networks": "none", "block_device_mapping_v2": bdm})).await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    assert_eq!(server["image"], "");
    let v = cloud.wait_volume(&t, &volume, "in-use").await;
    assert_eq!(v["attachments"][0]["server_id"], id.as_str());
    wait_driver_volumes(&cloud, &server, &[("/dev/vda", &volume)]).await;
    // The root volume cannot be detached.
    let r = cloud.call_as(&t, Method::DELETE, &format!("/v2.1/servers/{id}/os-volume_attachments/{volume}"), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = cloud.call_as(&t, Method::DELETE, &format!("/v2.1/servers/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    cloud.wait_gone(&id).await;
    cloud.wait_volume(&t, &volume, "available").await;
}

#[tokio::test]
async fn boot_from_a_snapshot_and_a_blank_volume_deleted_on_termination() {
    let cloud = Cloud::start(1).await;
    let (_, _, t) = cloud.identity.member(&cloud.admin, "vera").await;
    let source = cloud.volume(&t, 1).await;
    let (s, snap) = cloud.vol(&t, Method::POST, "/snapshots", Some(json!({"snapshot": {"volume_id": source, "name": "snap"}}))).await;
    assert_eq!(s, 202, "snapshot: {snap}");
    let snapshot = snap["snapshot"]["id"].as_str().unwrap().to_string();
    for _ in 0..500 {
        let (_, s) = cloud.vol(&t, Method::GET, &format!("/snapshots/{snapshot}"), None).await;
        if s["snapshot"]["status"] == "available" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let bdm = json!([
        {"boot_index": 0, "uuid": snapshot, "source_type": "snapshot", "destination_type": "volume", "delete_on_termination": true},
        {"boot_index": -1, "source_type": "blank", "destination_type": "volume", "volume_size": 2, "delete_on_termination": true},
    ]);
    let id = server_of(&cloud, &t, json!({"name": "snap-boot", "flavorRef": "1", "networks": "none", "block_device_mapping_v2": bdm})).await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    let attached = server["os-extended-volumes:volumes_attached"].as_array().cloned().unwrap_or_default();
    assert_eq!(attached.len(), 2, "{server}");
    let ids: Vec<String> = attached.iter().map(|a| a["id"].as_str().unwrap().to_string()).collect();
    let root = cloud.wait_volume(&t, &ids[0], "in-use").await;
    assert_eq!(root["snapshot_id"], snapshot.as_str());
    assert_eq!(root["size"], 1);
    let blank = cloud.wait_volume(&t, &ids[1], "in-use").await;
    assert_eq!(blank["size"], 2);
    assert_eq!(blank["name"], format!("{id}-blank-vol"));
    wait_driver_volumes(&cloud, &server, &[("/dev/vda", &ids[0]), ("/dev/vdb", &ids[1])]).await;

    let r = cloud.call_as(&t, Method::DELETE, &format!("/v2.1/servers/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    cloud.wait_gone(&id).await;
    cloud.wait_volume_gone(&t, &ids[0]).await;
    cloud.wait_volume_gone(&t, &ids[1]).await;
    cloud.wait_volume(&t, &source, "available").await;
}

#[tokio::test]
async fn a_volume_that_cannot_be_created_fails_the_build() {
    let cloud = Cloud::start(1).await;
    let (_, _, t) = cloud.identity.member(&cloud.admin, "vera").await;
    // Bigger than the backend: the scheduler finds no pool, the volume goes to error.
    let bdm = json!([{"boot_index": 0, "source_type": "blank", "destination_type": "volume", "volume_size": 500, "delete_on_termination": true}]);
    let id = server_of(&cloud, &t, json!({"name": "too-big", "flavorRef": "1", "networks": "none", "block_device_mapping_v2": bdm})).await;
    let server = cloud.wait_status(&id, "ERROR").await;
    assert!(server["fault"]["message"].as_str().unwrap_or_default().contains("did not finish being created"), "{server}");
}

#[tokio::test]
async fn shelve_offload_keeps_volumes_reserved_and_unshelve_connects_them() {
    let cloud = Cloud::start(1).await;
    let (_, _, t) = cloud.identity.member(&cloud.admin, "vera").await;
    let id = server_of(&cloud, &t, json!({"name": "shelf", "imageRef": cloud.image_id, "flavorRef": "1", "networks": "none"})).await;
    cloud.wait_status(&id, "ACTIVE").await;
    let before = cloud.volume(&t, 1).await;
    let r = cloud.call_as(&t, Method::POST, &format!("/v2.1/servers/{id}/os-volume_attachments"), Some(json!({"volumeAttachment": {"volumeId": before}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    cloud.wait_volume(&t, &before, "in-use").await;

    cloud.action(&id, json!({"shelve": null})).await;
    cloud.wait_status(&id, "SHELVED_OFFLOADED").await;
    // No host holds it: the volume is only reserved for the server.
    cloud.wait_volume(&t, &before, "reserved").await;
    // A volume attached while offloaded has no device until the server lands on a host.
    let during = cloud.volume(&t, 1).await;
    let r = cloud.call_as(&t, Method::POST, &format!("/v2.1/servers/{id}/os-volume_attachments"), Some(json!({"volumeAttachment": {"volumeId": during}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["volumeAttachment"]["device"], Value::Null);

    cloud.action(&id, json!({"unshelve": null})).await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    cloud.wait_volume(&t, &before, "in-use").await;
    cloud.wait_volume(&t, &during, "in-use").await;
    wait_driver_volumes(&cloud, &server, &[("/dev/vdb", &before), ("/dev/vdc", &during)]).await;
    let r = cloud.call_as(&t, Method::GET, &format!("/v2.1/servers/{id}/os-volume_attachments/{during}"), None).await;
    assert_eq!(r.body["volumeAttachment"]["device"], "/dev/vdc", "{}", r.body);
}

#[tokio::test]
async fn volumes_follow_the_guest_through_a_migration_and_a_rebuild() {
    let cloud = Cloud::start(2).await;
    let (_, _, t) = cloud.identity.member(&cloud.admin, "vera").await;
    let id = server_of(&cloud, &t, json!({"name": "mover", "imageRef": cloud.image_id, "flavorRef": "1", "networks": "none"})).await;
    cloud.wait_status(&id, "ACTIVE").await;
    let volume = cloud.volume(&t, 1).await;
    let r = cloud.call_as(&t, Method::POST, &format!("/v2.1/servers/{id}/os-volume_attachments"), Some(json!({"volumeAttachment": {"volumeId": volume}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    cloud.wait_volume(&t, &volume, "in-use").await;

    cloud.action(&id, json!({"migrate": null})).await;
    cloud.wait_status(&id, "VERIFY_RESIZE").await;
    cloud.action(&id, json!({"confirmResize": null})).await;
    let moved = cloud.wait_status(&id, "ACTIVE").await;
    wait_driver_volumes(&cloud, &moved, &[("/dev/vdb", &volume)]).await;

    cloud.action(&id, json!({"rebuild": {"imageRef": cloud.image_id}})).await;
    let rebuilt = cloud.wait_status(&id, "ACTIVE").await;
    wait_driver_volumes(&cloud, &rebuilt, &[("/dev/vdb", &volume)]).await;
    assert_eq!(cloud.wait_volume(&t, &volume, "in-use").await["attachments"][0]["server_id"], id.as_str());
}
