//! Snapshots: create (force for in-use volumes, always from 3.66), list, show, update,
//! metadata, delete and the admin actions.

use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn snapshot_lifecycle() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("ivy").await;
    let vol = cloud.volume(&member, json!({"volume": {"size": 2}})).await;
    let r = cloud.call(Method::POST, "/v3/snapshots", &member, Some(json!({"snapshot": {"volume_id": vol, "name": "s1", "description": "d", "metadata": {"k": "v"}}}))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let s = &r.body["snapshot"];
    assert_eq!(s["status"], "creating");
    assert_eq!(s["size"], 2);
    assert_eq!(s["volume_id"], vol.as_str());
    assert_eq!(s["metadata"], json!({"k": "v"}));
    let id = s["id"].as_str().expect("id").to_string();
    let done = cloud.wait_snapshot(&id, "available").await;
    assert_eq!(done["os-extended-snapshot-attributes:progress"], "100%");
    let list = cloud
        .call(Method::GET, "/v3/snapshots", &member, None)
        .await;
    assert_eq!(list.body["snapshots"].as_array().expect("list").len(), 1);
    let detail = cloud
        .call(
            Method::GET,
            &format!("/v3/snapshots/detail?volume_id={vol}"),
            &member,
            None,
        )
        .await;
    assert_eq!(
        detail.body["snapshots"][0]["os-extended-snapshot-attributes:project_id"]
            .as_str()
            .map(str::len),
        Some(32)
    );
    let at41 = cloud
        .call_at(
            Some("3.41"),
            Method::GET,
            &format!("/v3/snapshots/{id}"),
            &member,
            None,
        )
        .await;
    assert!(at41.body["snapshot"]["user_id"].is_string());
    let upd = cloud
        .call(
            Method::PUT,
            &format!("/v3/snapshots/{id}"),
            &member,
            Some(json!({"snapshot": {"name": "s2"}})),
        )
        .await;
    assert_eq!(upd.body["snapshot"]["name"], "s2");
    assert_eq!(upd.body["snapshot"]["description"], "d");
    let meta = cloud
        .call(
            Method::POST,
            &format!("/v3/snapshots/{id}/metadata"),
            &member,
            Some(json!({"metadata": {"k2": "v2"}})),
        )
        .await;
    assert_eq!(meta.body["metadata"], json!({"k": "v", "k2": "v2"}));
    let one = cloud
        .call(
            Method::DELETE,
            &format!("/v3/snapshots/{id}/metadata/k"),
            &member,
            None,
        )
        .await;
    assert_eq!(one.status, StatusCode::OK);
    let (_, _, other) = cloud.member("jack").await;
    let hidden = cloud
        .call(Method::GET, &format!("/v3/snapshots/{id}"), &other, None)
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(
        hidden.body["itemNotFound"]["message"],
        format!("Snapshot {id} could not be found.")
    );
    let reset = cloud
        .call(
            Method::POST,
            &format!("/v3/snapshots/{id}/action"),
            &member,
            Some(json!({"os-reset_status": {"status": "error"}})),
        )
        .await;
    assert_eq!(reset.status, StatusCode::FORBIDDEN);
    let del = cloud
        .call(
            Method::DELETE,
            &format!("/v3/snapshots/{id}"),
            &member,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::ACCEPTED);
    cloud.wait_gone(&format!("/v3/snapshots/{id}")).await;
    // The volume can go now.
    let del = cloud
        .call(Method::DELETE, &format!("/v3/volumes/{vol}"), &member, None)
        .await;
    assert_eq!(del.status, StatusCode::ACCEPTED);
    cloud.wait_gone(&format!("/v3/volumes/{vol}")).await;
}

#[tokio::test]
async fn in_use_volumes_need_force_before_3_66() {
    let cloud = Cloud::with_backends().await;
    let vol = cloud
        .volume(&cloud.admin, json!({"volume": {"size": 1}}))
        .await;
    cloud
        .call(
            Method::POST,
            &format!("/v3/volumes/{vol}/action"),
            &cloud.admin,
            Some(json!({"os-reset_status": {"status": "in-use"}})),
        )
        .await;
    let refused = cloud
        .call(
            Method::POST,
            "/v3/snapshots",
            &cloud.admin,
            Some(json!({"snapshot": {"volume_id": vol}})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.body["badRequest"]["message"],
        format!(
            "Invalid volume: Volume {vol} status must be available, but current status is: in-use."
        )
    );
    let forced = cloud
        .call(
            Method::POST,
            "/v3/snapshots",
            &cloud.admin,
            Some(json!({"snapshot": {"volume_id": vol, "force": true}})),
        )
        .await;
    assert_eq!(forced.status, StatusCode::ACCEPTED);
    let at66 = cloud
        .call_at(
            Some("3.66"),
            Method::POST,
            "/v3/snapshots",
            &cloud.admin,
            Some(json!({"snapshot": {"volume_id": vol}})),
        )
        .await;
    assert_eq!(at66.status, StatusCode::ACCEPTED);
    let no_force = cloud
        .call_at(
            Some("3.66"),
            Method::POST,
            "/v3/snapshots",
            &cloud.admin,
            Some(json!({"snapshot": {"volume_id": vol, "force": false}})),
        )
        .await;
    assert_eq!(no_force.status, StatusCode::BAD_REQUEST);
    // Snapshots of a volume in error are refused; a missing volume is a 404, a bad id a 400.
    cloud
        .call(
            Method::POST,
            &format!("/v3/volumes/{vol}/action"),
            &cloud.admin,
            Some(json!({"os-reset_status": {"status": "error"}})),
        )
        .await;
    let err = cloud
        .call(
            Method::POST,
            "/v3/snapshots",
            &cloud.admin,
            Some(json!({"snapshot": {"volume_id": vol, "force": true}})),
        )
        .await;
    assert_eq!(err.status, StatusCode::BAD_REQUEST);
    let missing = cloud
        .call(
            Method::POST,
            "/v3/snapshots",
            &cloud.admin,
            Some(json!({"snapshot": {"volume_id": "0b6f8e0e-0000-4000-8000-000000000000"}})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let bad = cloud
        .call(
            Method::POST,
            "/v3/snapshots",
            &cloud.admin,
            Some(json!({"snapshot": {"volume_id": "x"}})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // Admins reset and force-delete snapshots.
    let sid = forced.body["snapshot"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    cloud.wait_snapshot(&sid, "available").await;
    let reset = cloud
        .call(
            Method::POST,
            &format!("/v3/snapshots/{sid}/action"),
            &cloud.admin,
            Some(json!({"os-reset_status": {"status": "creating"}})),
        )
        .await;
    assert_eq!(reset.status, StatusCode::ACCEPTED);
    let refused = cloud
        .call(
            Method::DELETE,
            &format!("/v3/snapshots/{sid}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let forced_delete = cloud
        .call(
            Method::POST,
            &format!("/v3/snapshots/{sid}/action"),
            &cloud.admin,
            Some(json!({"os-force_delete": {}})),
        )
        .await;
    assert_eq!(forced_delete.status, StatusCode::ACCEPTED);
    cloud.wait_gone(&format!("/v3/snapshots/{sid}")).await;
}

/// `os-update_snapshot_status`: Cinder's allowed transitions (creating → available/error,
/// deleting → error_deleting) and its integer-percentage `progress`.
#[tokio::test]
async fn update_snapshot_status() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("una").await;
    let vol = cloud.volume(&member, json!({"volume": {"size": 1}})).await;
    let snap = cloud
        .call(
            Method::POST,
            "/v3/snapshots",
            &member,
            Some(json!({"snapshot": {"volume_id": vol}})),
        )
        .await;
    let id = snap.body["snapshot"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    cloud.wait_snapshot(&id, "available").await;
    let action = format!("/v3/snapshots/{id}/action");
    let upd = |status: &str, progress: &str| json!({"os-update_snapshot_status": {"status": status, "progress": progress}});
    let not_now = cloud
        .call(Method::POST, &action, &member, Some(upd("error", "80%")))
        .await;
    assert_eq!(not_now.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        not_now.body["badRequest"]["message"],
        "Snapshot status available not allowed for update_snapshot_status"
    );
    let reset = cloud
        .call(
            Method::POST,
            &action,
            &cloud.admin,
            Some(json!({"os-reset_status": {"status": "creating"}})),
        )
        .await;
    assert_eq!(reset.status, StatusCode::ACCEPTED);
    let wrong = cloud
        .call(Method::POST, &action, &member, Some(upd("deleting", "80%")))
        .await;
    assert_eq!(
        wrong.body["badRequest"]["message"],
        "Provided snapshot status deleting not allowed for snapshot with status creating."
    );
    let bad_progress = cloud
        .call(Method::POST, &action, &member, Some(upd("error", "180%")))
        .await;
    assert_eq!(
        bad_progress.body["badRequest"]["message"],
        "progress must be an integer percentage"
    );
    let missing = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-update_snapshot_status": {}})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let done = cloud
        .call(Method::POST, &action, &member, Some(upd("error", "80%")))
        .await;
    assert_eq!(done.status, StatusCode::ACCEPTED, "{}", done.body);
    let shown = cloud
        .call(
            Method::GET,
            &format!("/v3/snapshots/{id}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(shown.body["snapshot"]["status"], "error");
    assert_eq!(
        shown.body["snapshot"]["os-extended-snapshot-attributes:progress"],
        "80%"
    );
}
