//! The whole flow on the file driver: volumes become real files, and go away.

use crate::support::Cloud;
use http::{Method, StatusCode};
use monostack_common::config::VolumeBackendSection;
use serde_json::json;

#[tokio::test]
async fn volumes_on_the_file_backend_are_files() {
    if !monostack_volume::drivers::qemu_img::available().await {
        eprintln!("skipping: qemu-img is not installed (Debian: qemu-utils)");
        return;
    }
    let cloud = Cloud::start_with(
        |c| {
            c.volume.enabled_backends = vec!["file-1".into()];
            c.volume_backends.insert(
                "file-1".into(),
                VolumeBackendSection {
                    capacity_gb: Some(50),
                    ..Default::default()
                },
            );
        },
        true,
    )
    .await;
    assert_eq!(cloud.managers.len(), 1);
    let dir = cloud
        .volume
        .config
        .state_dir()
        .join("volumes")
        .join("file-1");
    let id = cloud
        .volume(
            &cloud.admin,
            json!({"volume": {"size": 1, "name": "on-disk"}}),
        )
        .await;
    let shown = cloud
        .call(
            Method::GET,
            &format!("/v3/volumes/{id}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(
        shown.body["volume"]["os-vol-host-attr:host"],
        "node1@file-1#file-1"
    );
    let file = dir.join(format!("volume-{id}"));
    assert_eq!(
        std::fs::metadata(&file).expect("volume file").len(),
        1 << 30
    );
    let action = format!("/v3/volumes/{id}/action");
    let ext = cloud
        .call(
            Method::POST,
            &action,
            &cloud.admin,
            Some(json!({"os-extend": {"new_size": 2}})),
        )
        .await;
    assert_eq!(ext.status, StatusCode::ACCEPTED);
    let v = cloud.wait_volume(&id, "available").await;
    assert_eq!(v["size"], 2);
    assert_eq!(
        std::fs::metadata(&file).expect("volume file").len(),
        2 << 30
    );
    let conn = cloud
        .call(
            Method::POST,
            &action,
            &cloud.admin,
            Some(json!({"os-initialize_connection": {"connector": {"host": "c1"}}})),
        )
        .await;
    assert_eq!(
        conn.body["connection_info"]["data"]["device_path"],
        file.display().to_string()
    );
    let snap = cloud
        .call(
            Method::POST,
            "/v3/snapshots",
            &cloud.admin,
            Some(json!({"snapshot": {"volume_id": id}})),
        )
        .await;
    let sid = snap.body["snapshot"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    cloud.wait_snapshot(&sid, "available").await;
    assert!(dir.join(format!("snapshot-{sid}")).exists());
    let copy = cloud
        .volume(&cloud.admin, json!({"volume": {"snapshot_id": sid}}))
        .await;
    assert!(dir.join(format!("volume-{copy}")).exists());
    let del = cloud
        .call(
            Method::DELETE,
            &format!("/v3/volumes/{id}?cascade=true"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::ACCEPTED);
    cloud.wait_gone(&format!("/v3/volumes/{id}")).await;
    assert!(!file.exists());
    assert!(!dir.join(format!("snapshot-{sid}")).exists());
}
