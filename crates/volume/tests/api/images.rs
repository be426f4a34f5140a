//! Volumes and images: create from an image (`imageRef`, downloading, bootable, image
//! metadata, Cinder's refusals), upload to an image (`os-volume_upload_image`, forced for an
//! in-use volume), over a real image service; on the file backend the bytes themselves.

use crate::support::Cloud;
use http::{Method, StatusCode};
use monostack_common::config::{Config, VolumeBackendSection};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const SERVER: &str = "3f1e2d4c-5b6a-4978-8a9b-0c1d2e3f4a5b";

fn fake_backend(c: &mut Config) {
    c.volume.enabled_backends = vec!["fake-1".into()];
    c.volume_backends.insert(
        "fake-1".into(),
        VolumeBackendSection {
            volume_driver: "fake".into(),
            capacity_gb: Some(100),
            ..Default::default()
        },
    );
}

fn file_backend(c: &mut Config) {
    c.volume.enabled_backends = vec!["file-1".into()];
    c.volume_backends.insert(
        "file-1".into(),
        VolumeBackendSection {
            capacity_gb: Some(50),
            ..Default::default()
        },
    );
}

async fn act(cloud: &Cloud, version: &str, token: &str, id: &str, body: Value) -> crate::support::Resp {
    cloud
        .call_at(Some(version), Method::POST, &format!("/v3/volumes/{id}/action"), token, Some(body))
        .await
}

async fn create(cloud: &Cloud, token: &str, body: Value) -> crate::support::Resp {
    cloud.call_at(Some("3.47"), Method::POST, "/v3/volumes", token, Some(body)).await
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn volumes_from_images_and_images_from_volumes() {
    let (cloud, glance) = Cloud::with_images(fake_backend).await;
    let (_, _, member) = cloud.member("imager").await;
    let image = cloud
        .image(&glance, &cloud.admin, json!({"name": "cirros", "visibility": "public", "min_disk": 1, "min_ram": 64, "hw_disk_bus": "scsi"}), &[7u8; 4096])
        .await;

    // Cinder's refusals: an unknown image, an image bigger than the volume, min_disk.
    let unknown = create(&cloud, &member, json!({"volume": {"size": 1, "imageRef": "5c0e1a3f-0000-4000-8000-000000000000"}})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);
    assert_eq!(unknown.body["badRequest"]["message"], "Invalid image identifier or unable to access requested image.");
    let by_bad_name = create(&cloud, &member, json!({"volume": {"size": 1, "imageRef": "no-such-image"}})).await;
    assert_eq!(by_bad_name.status, StatusCode::BAD_REQUEST);
    let needs_two = cloud.image(&glance, &cloud.admin, json!({"name": "big", "visibility": "public", "min_disk": 2}), &[1u8; 512]).await;
    let small = create(&cloud, &member, json!({"volume": {"size": 1, "imageRef": needs_two}})).await;
    assert_eq!(small.status, StatusCode::BAD_REQUEST, "{}", small.body);
    assert_eq!(small.body["badRequest"]["message"], "Invalid input received: Volume size 1GB cannot be smaller than the image minDisk size 2GB.");
    let no_size = create(&cloud, &member, json!({"volume": {"imageRef": image}})).await;
    assert_eq!(no_size.status, StatusCode::BAD_REQUEST, "{}", no_size.body);
    let bad_ref = create(&cloud, &member, json!({"volume": {"size": 1, "imageRef": 5}})).await;
    assert_eq!(bad_ref.status, StatusCode::BAD_REQUEST, "{}", bad_ref.body);

    // From an image, by id (or an image URL) and by name: bootable, with the image's metadata.
    for image_ref in [image.clone(), format!("{glance}/v2/images/{image}"), "cirros".to_string()] {
        let r = create(&cloud, &member, json!({"volume": {"size": 1, "name": "boot", "imageRef": image_ref}})).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        let id = r.body["volume"]["id"].as_str().expect("id").to_string();
        let v = cloud.wait_volume(&id, "available").await;
        assert_eq!(v["bootable"], "true");
        let meta = &v["volume_image_metadata"];
        assert_eq!(meta["image_id"], image.as_str());
        assert_eq!(meta["image_name"], "cirros");
        assert_eq!(meta["disk_format"], "raw");
        assert_eq!(meta["container_format"], "bare");
        assert_eq!(meta["min_disk"], "1");
        assert_eq!(meta["min_ram"], "64");
        assert_eq!(meta["size"], "4096");
        assert_eq!(meta["hw_disk_bus"], "scsi");
        assert!(meta["checksum"].as_str().is_some_and(|c| !c.is_empty()), "{meta}");
    }

    // Upload to an image: Cinder's response, the volume back to available, the image active
    // with the volume's image properties.
    let vol = cloud.volume(&member, json!({"volume": {"size": 1, "imageRef": image}})).await;
    // A clone keeps the image metadata and the bootable flag (Cinder copies the glance
    // metadata).
    let clone = cloud.volume(&member, json!({"volume": {"source_volid": vol}})).await;
    let v = cloud.wait_volume(&clone, "available").await;
    assert_eq!(v["bootable"], "true");
    assert_eq!(v["volume_image_metadata"]["image_id"], image.as_str());
    let up = act(&cloud, "3.1", &member, &vol, json!({"os-volume_upload_image": {"image_name": "from-volume", "disk_format": "raw", "container_format": "bare", "visibility": "private"}})).await;
    assert_eq!(up.status, StatusCode::ACCEPTED, "{}", up.body);
    let body = &up.body["os-volume_upload_image"];
    assert_eq!(body["status"], "uploading");
    assert_eq!(body["id"], vol.as_str());
    assert_eq!(body["image_name"], "from-volume");
    assert_eq!(body["disk_format"], "raw");
    assert_eq!(body["container_format"], "bare");
    assert_eq!(body["visibility"], "private");
    assert_eq!(body["protected"], false);
    assert_eq!(body["size"], 1);
    assert_eq!(body["volume_type"]["name"], "__DEFAULT__");
    let new_image = body["image_id"].as_str().expect("image id").to_string();
    cloud.wait_volume(&vol, "available").await;
    let mut active = Value::Null;
    for _ in 0..400 {
        let (meta, _) = cloud.image_data(&glance, &member, &new_image).await;
        if meta["status"] == "active" {
            active = meta;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(active["status"], "active", "the uploaded image never became active");
    assert_eq!(active["hw_disk_bus"], "scsi");
    assert_eq!(active["min_disk"], 1);

    // Refusals: a bad disk format, no name, visibility before 3.1, an in-use volume without
    // force; with force an in-use volume uploads and stays in-use.
    for bad in [
        json!({"os-volume_upload_image": {"image_name": "x", "disk_format": "iso"}}),
        json!({"os-volume_upload_image": {"disk_format": "raw"}}),
        json!({"os-volume_upload_image": {"image_name": "x", "force": "maybe"}}),
    ] {
        let r = act(&cloud, "3.1", &member, &vol, bad.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
    let old = act(&cloud, "3.0", &member, &vol, json!({"os-volume_upload_image": {"image_name": "x", "visibility": "private"}})).await;
    assert_eq!(old.status, StatusCode::BAD_REQUEST, "{}", old.body);
    let public = act(&cloud, "3.1", &member, &vol, json!({"os-volume_upload_image": {"image_name": "x", "visibility": "public"}})).await;
    assert_eq!(public.status, StatusCode::FORBIDDEN, "{}", public.body);
    assert_eq!(act(&cloud, "3.0", &member, &vol, json!({"os-reserve": null})).await.status, StatusCode::ACCEPTED);
    let att = act(&cloud, "3.0", &member, &vol, json!({"os-attach": {"instance_uuid": SERVER, "mountpoint": "/dev/vdb"}})).await;
    assert_eq!(att.status, StatusCode::ACCEPTED, "{}", att.body);
    cloud.wait_volume(&vol, "in-use").await;
    let busy = act(&cloud, "3.1", &member, &vol, json!({"os-volume_upload_image": {"image_name": "busy"}})).await;
    assert_eq!(busy.status, StatusCode::BAD_REQUEST, "{}", busy.body);
    assert_eq!(busy.body["badRequest"]["message"], format!("Invalid volume: Volume {vol} status must be available"));
    let forced = act(&cloud, "3.1", &member, &vol, json!({"os-volume_upload_image": {"image_name": "forced", "force": true}})).await;
    assert_eq!(forced.status, StatusCode::ACCEPTED, "{}", forced.body);
    cloud.wait_volume(&vol, "in-use").await;
}

#[tokio::test]
async fn image_bytes_go_into_volumes_and_back() {
    if !monostack_volume::drivers::qemu_img::available().await {
        eprintln!("skipping: qemu-img is not installed (Debian: qemu-utils)");
        return;
    }
    let (cloud, glance) = Cloud::with_images(file_backend).await;
    let cloud = cloud.with_backup_service().await;
    let (_, _, member) = cloud.member("bytes").await;
    let dir = cloud.volume.config.state_dir().join("volumes").join("file-1");
    let data: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();

    // A raw image: the volume starts with its bytes, zeros after.
    let raw = cloud.image(&glance, &member, json!({"name": "raw-img"}), &data).await;
    let vol = cloud.volume(&member, json!({"volume": {"size": 1, "imageRef": raw}})).await;
    let file = std::fs::read(dir.join(format!("volume-{vol}"))).expect("volume file");
    assert_eq!(file.len(), 1 << 30);
    assert_eq!(sha(&file[..data.len()]), sha(&data));
    assert!(file[data.len()..].iter().all(|b| *b == 0));

    // A qcow2 image (made by qemu-img from the same bytes) gives the same volume.
    let work = tempfile::tempdir().expect("tempdir");
    let raw_path = work.path().join("data.raw");
    std::fs::write(&raw_path, &data).expect("write raw");
    let qcow = work.path().join("data.qcow2");
    let made = std::process::Command::new("qemu-img")
        .args(["convert", "-q", "-f", "raw", "-O", "qcow2"])
        .arg(&raw_path)
        .arg(&qcow)
        .status()
        .expect("qemu-img");
    assert!(made.success());
    let qcow_image = cloud
        .image(&glance, &member, json!({"name": "qcow-img", "disk_format": "qcow2"}), &std::fs::read(&qcow).expect("read qcow2"))
        .await;
    let vol2 = cloud.volume(&member, json!({"volume": {"size": 1, "imageRef": qcow_image}})).await;
    let file2 = std::fs::read(dir.join(format!("volume-{vol2}"))).expect("volume file");
    assert_eq!(sha(&file2), sha(&file));

    // An image whose virtual size does not fit the volume: the volume ends in error.
    let big = work.path().join("big.qcow2");
    let made = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&big)
        .arg("2G")
        .status()
        .expect("qemu-img");
    assert!(made.success());
    let big_image = cloud
        .image(&glance, &member, json!({"name": "big", "disk_format": "qcow2"}), &std::fs::read(&big).expect("read"))
        .await;
    let r = create(&cloud, &member, json!({"volume": {"size": 1, "imageRef": big_image}})).await;
    if r.status == StatusCode::ACCEPTED {
        let id = r.body["volume"]["id"].as_str().expect("id").to_string();
        cloud.wait_volume(&id, "error").await;
    } else {
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    }

    // Upload as qcow2: the image holds the volume's bytes.
    let up = act(&cloud, "3.1", &member, &vol, json!({"os-volume_upload_image": {"image_name": "back", "disk_format": "qcow2"}})).await;
    assert_eq!(up.status, StatusCode::ACCEPTED, "{}", up.body);
    let new_image = up.body["os-volume_upload_image"]["image_id"].as_str().expect("image").to_string();
    cloud.wait_volume(&vol, "available").await;
    let mut uploaded = Vec::new();
    for _ in 0..400 {
        let (meta, bytes) = cloud.image_data(&glance, &member, &new_image).await;
        if meta["status"] == "active" {
            assert_eq!(meta["disk_format"], "qcow2");
            uploaded = bytes;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(!uploaded.is_empty(), "the uploaded image never became active");
    let up_path = work.path().join("uploaded.qcow2");
    std::fs::write(&up_path, &uploaded).expect("write");
    let back = work.path().join("uploaded.raw");
    let made = std::process::Command::new("qemu-img")
        .args(["convert", "-q", "-f", "qcow2", "-O", "raw"])
        .arg(&up_path)
        .arg(&back)
        .status()
        .expect("qemu-img");
    assert!(made.success());
    assert_eq!(sha(&std::fs::read(&back).expect("read")), sha(&file));
    // A backup of a volume made from an image restores bootable, with the image metadata
    // (Cinder's volume-glance-metadata in the backup).
    let r = cloud.call(Method::POST, "/v3/backups", &member, Some(json!({"backup": {"volume_id": vol}}))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let backup = r.body["backup"]["id"].as_str().expect("backup").to_string();
    cloud.wait_backup(&backup, "available").await;
    let r = cloud.call(Method::POST, &format!("/v3/backups/{backup}/restore"), &member, Some(json!({"restore": {}}))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let restored = r.body["restore"]["volume_id"].as_str().expect("volume").to_string();
    let v = cloud.wait_for(&format!("/v3/volumes/{restored}"), "volume", "available", 4800).await;
    assert_eq!(v["bootable"], "true");
    assert_eq!(v["volume_image_metadata"]["image_id"], raw.as_str());
    assert_eq!(sha(&std::fs::read(dir.join(format!("volume-{restored}"))).expect("restored")), sha(&file));

    // Nothing is left in the conversion directory.
    let conversion = cloud.volume.config.state_dir().join("conversion");
    let left: Vec<_> = std::fs::read_dir(&conversion).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}
