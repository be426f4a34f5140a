//! Volumes of servers at the API, against a real block storage service (fake backend):
//! os-volume_attachments (the attachment reserved here, the cast to the host's agent, Nova's
//! errors), boot from volume (`block_device_mapping_v2` lookups, reservations, validation),
//! `os-extended-volumes:volumes_attached`, and the volumes let go when a server without a host
//! is deleted.

use crate::servers::{boot, create_server, fault_message, listen, next_message, set_state, MV};
use crate::support::Cloud;
use http::{Method, StatusCode};
use monostack_compute::rpc::compute::ComputeRequest;
use serde_json::{json, Value};

fn attachments(server: &str) -> String {
    format!("/v2.1/servers/{server}/os-volume_attachments")
}

async fn set_bootable(cloud: &Cloud, token: &str, volume: &str) {
    let (s, b) = cloud.vol(token, Method::POST, &format!("/volumes/{volume}/action"), Some(json!({"os-set_bootable": {"bootable": true}}))).await;
    assert_eq!(s, 200, "set bootable: {b}");
}

async fn attach(cloud: &Cloud, token: &str, mv: &str, server: &str, body: Value) -> crate::support::Resp {
    cloud.call_at(Some(mv), Method::POST, &attachments(server), token, Some(json!({ "volumeAttachment": body }))).await
}

#[tokio::test]
async fn attach_reserves_the_volume_and_casts_to_the_host() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("vera").await;
    let server = create_server(&cloud, &member, "vm").await;
    set_state(&cloud, &server, "active", None, Some("cn1")).await;
    let volume = cloud.volume(&member, 1).await;
    let mut agent = listen(&cloud, "compute", "cn1").await;

    // Nova's checks of the request and the volume.
    let missing = uuid::Uuid::new_v4().to_string();
    let r = attach(&cloud, &member, MV, &server, json!({"volumeId": missing})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(fault_message(&r), format!("Volume {missing} could not be found."));
    let r = attach(&cloud, &member, MV, &server, json!({"volumeId": volume, "device": "vdb"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = attach(&cloud, &member, "2.48", &server, json!({"volumeId": volume, "tag": "data"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "tag before 2.49: {}", r.body);
    let r = cloud.call_at(Some(MV), Method::POST, &attachments(&server), &member, Some(json!({"volumeAttachment": {}}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);

    let r = attach(&cloud, &member, MV, &server, json!({"volumeId": volume, "tag": "data", "delete_on_termination": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let va = &r.body["volumeAttachment"];
    assert_eq!(va["device"], "/dev/vdb");
    assert_eq!(va["volumeId"], volume.as_str());
    assert_eq!(va["serverId"], server.as_str());
    assert_eq!(va["tag"], "data");
    assert_eq!(va["delete_on_termination"], true);
    // Reserved in the block storage service, cast to the agent with the mapping.
    let v = cloud.wait_volume(&member, &volume, "reserved").await;
    assert_eq!(v["status"], "reserved");
    let msg = next_message(&mut agent).await;
    let request: ComputeRequest = monostack_compute::rpc::decode(&msg).expect("compute request");
    let ComputeRequest::AttachVolume(a) = request else { panic!("not an attach: {request:?}") };
    assert_eq!(a.instance_uuid, server);
    let bdm = monostack_compute::db::block_device_mappings::get(&cloud.compute.db, &a.bdm_uuid).await.expect("db").expect("mapping");
    assert_eq!(bdm.volume_id.as_deref(), Some(volume.as_str()));
    assert!(bdm.attachment_id.is_some(), "the attachment is recorded");

    // The same volume again: Nova's InvalidVolume.
    let r = attach(&cloud, &member, MV, &server, json!({"volumeId": volume})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(fault_message(&r), format!("Invalid volume: volume {volume} is already attached to instances: {server}"));

    // Listed and shown, with the fields of each microversion.
    let r = cloud.call_at(Some("2.1"), Method::GET, &attachments(&server), &member, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["volumeAttachments"], json!([{"id": volume, "volumeId": volume, "serverId": server, "device": "/dev/vdb"}]));
    let r = cloud.call_at(Some("2.89"), Method::GET, &format!("{}/{volume}", attachments(&server)), &member, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let shown = &r.body["volumeAttachment"];
    assert!(shown.get("id").is_none());
    assert_eq!(shown["attachment_id"], json!(bdm.attachment_id));
    assert_eq!(shown["bdm_uuid"], bdm.uuid.as_str());
    assert_eq!(shown["delete_on_termination"], true);
    // The server body lists it (delete_on_termination from 2.3).
    let r = cloud.call_at(Some("2.3"), Method::GET, &format!("/v2.1/servers/{server}"), &member, None).await;
    assert_eq!(r.body["server"]["os-extended-volumes:volumes_attached"], json!([{"id": volume, "delete_on_termination": true}]));

    // A volume only reserved cannot be detached (Cinder's begin_detaching wants it in-use).
    let r = cloud.call_at(Some(MV), Method::DELETE, &format!("{}/{volume}", attachments(&server)), &member, None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(fault_message(&r).starts_with("Invalid volume: "), "{}", r.body);

    // Another user's view: the server does not exist.
    let (_, _, other) = cloud.member("walt").await;
    let r = cloud.call_at(Some(MV), Method::GET, &attachments(&server), &other, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn attach_and_detach_refused_in_the_wrong_state() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("vera").await;
    let server = create_server(&cloud, &member, "vm").await;
    let volume = cloud.volume(&member, 1).await;
    set_state(&cloud, &server, "error", None, Some("cn1")).await;
    let r = attach(&cloud, &member, MV, &server, json!({"volumeId": volume})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(fault_message(&r), format!("Cannot 'attach_volume' instance {server} while it is in vm_state error"));
    set_state(&cloud, &server, "active", Some("rebooting"), Some("cn1")).await;
    let r = attach(&cloud, &member, MV, &server, json!({"volumeId": volume})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // Not attached: Nova's 404.
    set_state(&cloud, &server, "active", None, Some("cn1")).await;
    let r = cloud.call_at(Some(MV), Method::DELETE, &format!("{}/{volume}", attachments(&server)), &member, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(fault_message(&r), format!("Instance {server} is not attached to volume {volume}"));
    // Shelved servers need 2.20.
    set_state(&cloud, &server, "shelved", None, Some("cn1")).await;
    let r = attach(&cloud, &member, "2.19", &server, json!({"volumeId": volume})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // The volume stayed available through all of it.
    assert_eq!(cloud.wait_volume(&member, &volume, "available").await["status"], "available");
}

#[tokio::test]
async fn shelved_offloaded_servers_attach_and_detach_in_the_records() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("vera").await;
    let server = create_server(&cloud, &member, "vm").await;
    set_state(&cloud, &server, "shelved_offloaded", None, None).await;
    let volume = cloud.volume(&member, 1).await;
    let r = attach(&cloud, &member, MV, &server, json!({"volumeId": volume})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["volumeAttachment"]["device"], Value::Null);
    cloud.wait_volume(&member, &volume, "in-use").await;
    let r = cloud.call_at(Some(MV), Method::DELETE, &format!("{}/{volume}", attachments(&server)), &member, None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    cloud.wait_volume(&member, &volume, "available").await;
    let r = cloud.call_at(Some(MV), Method::GET, &attachments(&server), &member, None).await;
    assert_eq!(r.body["volumeAttachments"], json!([]));
}

#[tokio::test]
async fn delete_on_termination_is_updated_from_2_85_and_swap_needs_a_migrating_volume() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("vera").await;
    let server = create_server(&cloud, &member, "vm").await;
    set_state(&cloud, &server, "active", None, Some("cn1")).await;
    let volume = cloud.volume(&member, 1).await;
    let other = cloud.volume(&member, 1).await;
    let r = attach(&cloud, &member, MV, &server, json!({"volumeId": volume})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let path = format!("{}/{volume}", attachments(&server));
    let r = cloud.call_at(Some("2.85"), Method::PUT, &path, &member, Some(json!({"volumeAttachment": {"volumeId": volume, "delete_on_termination": true}}))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let r = cloud.call_at(Some("2.85"), Method::PUT, &path, &member, Some(json!({"volumeAttachment": {"volumeId": volume, "device": "/dev/vdc"}}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(fault_message(&r), "The device property is not mutable");
    let r = cloud.call_at(Some("2.89"), Method::GET, &path, &member, None).await;
    assert_eq!(r.body["volumeAttachment"]["delete_on_termination"], true);
    // Swap: admins only, and only while Cinder migrates the volume.
    let r = cloud.call_at(Some(MV), Method::PUT, &path, &member, Some(json!({"volumeAttachment": {"volumeId": other}}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = cloud.call_at(Some(MV), Method::PUT, &path, &cloud.admin, Some(json!({"volumeAttachment": {"volumeId": other}}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(fault_message(&r), format!("volume {volume} is not migrating; this API should only be called by Cinder"));
}

#[tokio::test]
async fn boot_from_volume_checks_and_reserves_the_volumes() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("vera").await;
    let volume = cloud.volume(&member, 2).await;
    let bdm = |source: &str, uuid: &str| json!([{"boot_index": 0, "uuid": uuid, "source_type": source, "destination_type": "volume"}]);
    // A blank volume is not bootable: Nova's InvalidBDMVolumeNotBootable.
    let r = boot(&cloud, &member, MV, json!({"imageRef": null, "block_device_mapping_v2": bdm("volume", &volume)})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(fault_message(&r), format!("Block Device {volume} is not bootable."));
    set_bootable(&cloud, &member, &volume).await;

    // Unknown volume and snapshot: Nova's InvalidBDM messages.
    let missing = uuid::Uuid::new_v4().to_string();
    let r = boot(&cloud, &member, MV, json!({"imageRef": null, "block_device_mapping_v2": bdm("volume", &missing)})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(fault_message(&r), format!("Block Device Mapping is Invalid: failed to get volume {missing}."));
    let r = boot(&cloud, &member, MV, json!({"imageRef": null, "block_device_mapping_v2": bdm("snapshot", &missing)})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(fault_message(&r), format!("Block Device Mapping is Invalid: failed to get snapshot {missing}."));
    // An image to a volume needs a size; a bad boot sequence is refused.
    let image_bdm = json!([{"boot_index": 0, "uuid": cloud.image_id, "source_type": "image", "destination_type": "volume"}]);
    let r = boot(&cloud, &member, MV, json!({"imageRef": null, "block_device_mapping_v2": image_bdm})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(fault_message(&r), "Images with destination_type 'volume' need to have a non-zero size specified");
    let r = boot(&cloud, &member, MV, json!({"imageRef": null, "block_device_mapping_v2": [{"boot_index": 1, "uuid": volume, "source_type": "volume", "destination_type": "volume"}]})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // Another project's volume is not found.
    let (_, _, other) = cloud.member("walt").await;
    let r = boot(&cloud, &other, MV, json!({"imageRef": null, "block_device_mapping_v2": bdm("volume", &volume)})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);

    // The boot: the volume is reserved for the server and shown in its body.
    let r = boot(&cloud, &member, MV, json!({"imageRef": null, "block_device_mapping_v2": bdm("volume", &volume)})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let server = r.body["server"]["id"].as_str().expect("id").to_string();
    cloud.wait_volume(&member, &volume, "reserved").await;
    let bdms = monostack_compute::db::block_device_mappings::list(&cloud.compute.db, &server).await.expect("bdms");
    let root = bdms.iter().find(|b| b.boot_index == Some(0)).expect("root mapping");
    assert_eq!(root.volume_id.as_deref(), Some(volume.as_str()));
    assert_eq!(root.volume_size, Some(2));
    assert!(root.attachment_id.is_some());
    let r = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/{server}"), &member, None).await;
    assert_eq!(r.body["server"]["os-extended-volumes:volumes_attached"], json!([{"id": volume, "delete_on_termination": false}]));
    assert_eq!(r.body["server"]["image"], "");

    // A second server cannot take the reserved volume.
    let r = boot(&cloud, &member, MV, json!({"imageRef": null, "block_device_mapping_v2": bdm("volume", &volume)})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(fault_message(&r).starts_with("Invalid volume: "), "{}", r.body);

    // Deleted before it reached a host: the reservation goes with it.
    let r = cloud.call_at(Some(MV), Method::DELETE, &format!("/v2.1/servers/{server}"), &member, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    cloud.wait_volume(&member, &volume, "available").await;
}

#[tokio::test]
async fn volumes_and_snapshots_proxy_until_2_35() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("vera").await;
    let r = cloud.call_at(Some("2.1"), Method::POST, "/v2.1/os-volumes", &member, Some(json!({"volume": {"size": "1", "display_name": "old-api", "metadata": {"k": "v"}}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = &r.body["volume"];
    assert_eq!(v["displayName"], "old-api");
    assert_eq!(v["size"], 1);
    assert_eq!(v["attachments"], json!([{}]));
    assert_eq!(v["metadata"], json!({"k": "v"}));
    let id = v["id"].as_str().expect("id").to_string();
    cloud.wait_volume(&member, &id, "available").await;
    let r = cloud.call_at(Some("2.1"), Method::GET, &format!("/v2.1/os-volumes/{id}"), &member, None).await;
    assert_eq!(r.body["volume"]["status"], "available", "{}", r.body);
    let r = cloud.call_at(Some("2.1"), Method::GET, "/v2.1/os-volumes/detail", &member, None).await;
    assert_eq!(r.body["volumes"].as_array().map(Vec::len), Some(1), "{}", r.body);
    // Nova's schema: a size of at least 1.
    let r = cloud.call_at(Some("2.1"), Method::POST, "/v2.1/os-volumes", &member, Some(json!({"volume": {"size": 0}}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = cloud.call_at(Some("2.1"), Method::POST, "/v2.1/os-volumes", &member, Some(json!({"volume": {"display_name": "no-size"}}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);

    let r = cloud.call_at(Some("2.1"), Method::POST, "/v2.1/os-snapshots", &member, Some(json!({"snapshot": {"volume_id": id, "display_name": "snap"}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let snap = r.body["snapshot"]["id"].as_str().expect("snapshot id").to_string();
    assert_eq!(r.body["snapshot"]["volumeId"], id.as_str());
    let r = cloud.call_at(Some("2.1"), Method::GET, &format!("/v2.1/os-snapshots/{snap}"), &member, None).await;
    assert_eq!(r.body["snapshot"]["displayName"], "snap", "{}", r.body);
    for _ in 0..250 {
        let r = cloud.call_at(Some("2.1"), Method::GET, &format!("/v2.1/os-snapshots/{snap}"), &member, None).await;
        if r.body["snapshot"]["status"] == "available" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let r = cloud.call_at(Some("2.1"), Method::DELETE, &format!("/v2.1/os-snapshots/{snap}"), &member, None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);

    // Gone from 2.36; unknown volumes are Nova's 404.
    let r = cloud.call_at(Some("2.36"), Method::GET, "/v2.1/os-volumes", &member, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let missing = uuid::Uuid::new_v4().to_string();
    let r = cloud.call_at(Some("2.1"), Method::GET, &format!("/v2.1/os-volumes/{missing}"), &member, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(fault_message(&r), format!("Volume {missing} could not be found."));
}

#[tokio::test]
async fn volume_backed_servers_are_rescued_only_with_a_stable_rescue_image_from_2_87() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("vera").await;
    let volume = cloud.volume(&member, 1).await;
    set_bootable(&cloud, &member, &volume).await;
    let bdm = json!([{"boot_index": 0, "uuid": volume, "source_type": "volume", "destination_type": "volume"}]);
    let r = boot(&cloud, &member, MV, json!({"imageRef": null, "block_device_mapping_v2": bdm})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let server = r.body["server"]["id"].as_str().expect("id").to_string();
    set_state(&cloud, &server, "active", None, Some("cn1")).await;
    let fields = json!({"name": "rescue", "visibility": "public", "disk_format": "raw", "container_format": "bare", "hw_rescue_device": "disk", "hw_rescue_bus": "virtio"});
    let stable = crate::images::upload(&cloud.image_url, &cloud.admin, fields, &[0u8; 512]).await;
    let action = format!("/v2.1/servers/{server}/action");
    let r = cloud.call_at(Some("2.86"), Method::POST, &action, &member, Some(json!({"rescue": {"rescue_image_ref": stable}}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(fault_message(&r), format!("Instance {server} cannot be rescued: Cannot rescue a volume-backed instance"));
    let r = cloud.call_at(Some("2.87"), Method::POST, &action, &member, Some(json!({"rescue": {"rescue_image_ref": cloud.image_id}}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a rescue image without hw_rescue_*: {}", r.body);
    let r = cloud.call_at(Some("2.87"), Method::POST, &action, &member, Some(json!({"rescue": {"rescue_image_ref": stable}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}
