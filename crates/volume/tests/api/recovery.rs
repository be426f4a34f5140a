//! A volume manager that starts again settles what a crash interrupted on its backend:
//! creates and extends fail (their outcome is unknown), deletes are done again.

use crate::support::Cloud;
use http::{Method, StatusCode};
use monostack_volume::db::{snapshots, volumes};
use serde_json::json;

#[tokio::test]
async fn a_restarted_manager_settles_interrupted_operations() {
    let mut cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("olga").await;
    let t = cloud.call(Method::POST, "/v3/types", &cloud.admin, Some(json!({"volume_type": {"name": "one", "extra_specs": {"volume_backend_name": "fake-1"}}}))).await;
    assert_eq!(t.status, StatusCode::OK);
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(
            cloud
                .volume(
                    &member,
                    json!({"volume": {"size": 1, "volume_type": "one"}}),
                )
                .await,
        );
    }
    let snap = cloud
        .call(
            Method::POST,
            "/v3/snapshots",
            &member,
            Some(json!({"snapshot": {"volume_id": ids[3]}})),
        )
        .await;
    let sid = snap.body["snapshot"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    cloud.wait_snapshot(&sid, "available").await;
    // The manager of fake-1 stops; the database is left as a crash would leave it.
    let managers = std::mem::take(&mut cloud.managers);
    let (fake1, others): (Vec<_>, Vec<_>) = managers
        .into_iter()
        .partition(|m| m.manager.backend == "node1@fake-1");
    drop(fake1);
    cloud.managers = others;
    let db = &cloud.volume.db;
    let set = |status: &str| volumes::Changes::status(status);
    assert!(volumes::update_if(db, &ids[0], &[], &set("creating"))
        .await
        .expect("db"));
    assert!(volumes::update_if(db, &ids[1], &[], &set("extending"))
        .await
        .expect("db"));
    assert!(volumes::update_if(db, &ids[2], &[], &set("deleting"))
        .await
        .expect("db"));
    assert!(snapshots::update_if(db, &sid, &[], "deleting", None, None)
        .await
        .expect("db"));
    // It starts again.
    let driver =
        monostack_volume::drivers::from_config(&cloud.volume.config, "fake-1").expect("driver");
    let restarted = monostack_volume::manager::start(cloud.volume.clone(), "fake-1", driver)
        .await
        .expect("restart");
    cloud.managers.push(restarted);
    let shown = |id: String| {
        let cloud = &cloud;
        async move {
            cloud
                .call(
                    Method::GET,
                    &format!("/v3/volumes/{id}"),
                    &cloud.admin,
                    None,
                )
                .await
        }
    };
    assert_eq!(
        shown(ids[0].clone()).await.body["volume"]["status"],
        "error"
    );
    assert_eq!(
        shown(ids[1].clone()).await.body["volume"]["status"],
        "error_extending"
    );
    assert_eq!(shown(ids[2].clone()).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        shown(ids[3].clone()).await.body["volume"]["status"],
        "available"
    );
    let s = cloud
        .call(
            Method::GET,
            &format!("/v3/snapshots/{sid}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(s.status, StatusCode::NOT_FOUND);
    // The service record is the same one, still up, and the restarted manager works.
    let services = cloud
        .call(
            Method::GET,
            "/v3/os-services?binary=cinder-volume",
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(services.body["services"].as_array().map(Vec::len), Some(2));
    let again = cloud
        .volume(
            &member,
            json!({"volume": {"size": 1, "volume_type": "one"}}),
        )
        .await;
    assert!(!again.is_empty());
}
