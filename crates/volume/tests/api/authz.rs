//! Authorization walked mechanically: every endpoint as an anonymous caller (401), as a member
//! of another project (404 where a 403 would reveal that the resource exists, 403 for admin
//! APIs) and as a reader of the owning project (reads allowed, writes 403).

use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::{json, Value};

const OK: u16 = 200;
const NOT_FOUND: u16 = 404;
const FORBIDDEN: u16 = 403;
/// Any 2xx (202 for casts).
const DONE: u16 = 2;

fn matches(expected: u16, got: StatusCode) -> bool {
    if expected == DONE {
        got.is_success()
    } else {
        got.as_u16() == expected
    }
}

#[tokio::test]
async fn every_endpoint_as_anonymous_other_project_and_reader() {
    let cloud = Cloud::with_backends().await;
    let (_, project, owner) = cloud.member("owner").await;
    let (_, _, other) = cloud.member("other").await;
    let reader = cloud.reader(&project, "watcher").await;
    let vol = cloud
        .volume(
            &owner,
            json!({"volume": {"size": 1, "metadata": {"k": "v"}}}),
        )
        .await;
    let snap = cloud
        .call(
            Method::POST,
            "/v3/snapshots",
            &owner,
            Some(json!({"snapshot": {"volume_id": vol, "metadata": {"k": "v"}}})),
        )
        .await;
    let snap = snap.body["snapshot"]["id"]
        .as_str()
        .expect("snapshot")
        .to_string();
    cloud.wait_snapshot(&snap, "available").await;
    let t = cloud
        .call(
            Method::POST,
            "/v3/types",
            &cloud.admin,
            Some(json!({"volume_type": {"name": "t", "extra_specs": {"k": "v"}}})),
        )
        .await;
    let ty = t.body["volume_type"]["id"]
        .as_str()
        .expect("type")
        .to_string();

    // (method, path, body, other project, reader)
    let cases: Vec<(Method, String, Option<Value>, u16, u16)> = vec![
        (Method::GET, "/v3/volumes".into(), None, OK, OK),
        (Method::GET, "/v3/volumes/detail".into(), None, OK, OK),
        (
            Method::GET,
            format!("/v3/volumes/{vol}"),
            None,
            NOT_FOUND,
            OK,
        ),
        (
            Method::PUT,
            format!("/v3/volumes/{vol}"),
            Some(json!({"volume": {"name": "x"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::GET,
            format!("/v3/volumes/{vol}/metadata"),
            None,
            NOT_FOUND,
            OK,
        ),
        (
            Method::GET,
            format!("/v3/volumes/{vol}/metadata/k"),
            None,
            NOT_FOUND,
            OK,
        ),
        (
            Method::POST,
            format!("/v3/volumes/{vol}/metadata"),
            Some(json!({"metadata": {"a": "b"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::PUT,
            format!("/v3/volumes/{vol}/metadata"),
            Some(json!({"metadata": {"a": "b"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::PUT,
            format!("/v3/volumes/{vol}/metadata/k"),
            Some(json!({"meta": {"k": "w"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::DELETE,
            format!("/v3/volumes/{vol}/metadata/k"),
            None,
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/volumes/{vol}/action"),
            Some(json!({"os-extend": {"new_size": 2}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/volumes/{vol}/action"),
            Some(json!({"os-set_bootable": {"bootable": true}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/volumes/{vol}/action"),
            Some(json!({"os-update_readonly_flag": {"readonly": true}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/volumes/{vol}/action"),
            Some(json!({"os-reset_status": {"status": "error"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/volumes/{vol}/action"),
            Some(json!({"os-retype": {"new_type": "t"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/volumes/{vol}/action"),
            Some(json!({"os-force_delete": {}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/volumes/{vol}/action"),
            Some(json!({"os-initialize_connection": {"connector": {}}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/volumes/{vol}/action"),
            Some(json!({"os-terminate_connection": {"connector": {}}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/volumes/{vol}/action"),
            Some(json!({"os-volume_upload_image": {"image_name": "i"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            "/v3/volumes".into(),
            Some(json!({"volume": {"size": 1, "source_volid": vol}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::DELETE,
            format!("/v3/volumes/{vol}"),
            None,
            NOT_FOUND,
            FORBIDDEN,
        ),
        (Method::GET, "/v3/snapshots".into(), None, OK, OK),
        (Method::GET, "/v3/snapshots/detail".into(), None, OK, OK),
        (
            Method::GET,
            format!("/v3/snapshots/{snap}"),
            None,
            NOT_FOUND,
            OK,
        ),
        (
            Method::PUT,
            format!("/v3/snapshots/{snap}"),
            Some(json!({"snapshot": {"name": "x"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::GET,
            format!("/v3/snapshots/{snap}/metadata"),
            None,
            NOT_FOUND,
            OK,
        ),
        (
            Method::GET,
            format!("/v3/snapshots/{snap}/metadata/k"),
            None,
            NOT_FOUND,
            OK,
        ),
        (
            Method::POST,
            format!("/v3/snapshots/{snap}/metadata"),
            Some(json!({"metadata": {"a": "b"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::PUT,
            format!("/v3/snapshots/{snap}/metadata"),
            Some(json!({"metadata": {"a": "b"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::PUT,
            format!("/v3/snapshots/{snap}/metadata/k"),
            Some(json!({"meta": {"k": "w"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::DELETE,
            format!("/v3/snapshots/{snap}/metadata/k"),
            None,
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/snapshots/{snap}/action"),
            Some(json!({"os-reset_status": {"status": "error"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/snapshots/{snap}/action"),
            Some(json!({"os-force_delete": {}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            "/v3/snapshots".into(),
            Some(json!({"snapshot": {"volume_id": vol}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            "/v3/volumes".into(),
            Some(json!({"volume": {"size": 1, "snapshot_id": snap}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::DELETE,
            format!("/v3/snapshots/{snap}"),
            None,
            NOT_FOUND,
            FORBIDDEN,
        ),
        (Method::GET, "/v3/types".into(), None, OK, OK),
        (Method::GET, format!("/v3/types/{ty}"), None, OK, OK),
        (Method::GET, "/v3/types/default".into(), None, OK, OK),
        (
            Method::POST,
            "/v3/types".into(),
            Some(json!({"volume_type": {"name": "u"}})),
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::PUT,
            format!("/v3/types/{ty}"),
            Some(json!({"volume_type": {"name": "u"}})),
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::DELETE,
            format!("/v3/types/{ty}"),
            None,
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::GET,
            format!("/v3/types/{ty}/extra_specs"),
            None,
            OK,
            OK,
        ),
        (
            Method::GET,
            format!("/v3/types/{ty}/extra_specs/k"),
            None,
            NOT_FOUND,
            NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/v3/types/{ty}/extra_specs"),
            Some(json!({"extra_specs": {"a": "b"}})),
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::PUT,
            format!("/v3/types/{ty}/extra_specs/k"),
            Some(json!({"k": "w"})),
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::DELETE,
            format!("/v3/types/{ty}/extra_specs/k"),
            None,
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::GET,
            format!("/v3/types/{ty}/os-volume-type-access"),
            None,
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/types/{ty}/action"),
            Some(json!({"addProjectAccess": {"project": "p"}})),
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::GET,
            "/v3/os-services".into(),
            None,
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::PUT,
            "/v3/os-services/disable".into(),
            Some(json!({"host": "node1@fake-1", "binary": "cinder-volume"})),
            FORBIDDEN,
            FORBIDDEN,
        ),
        (Method::GET, "/v3/os-availability-zone".into(), None, OK, OK),
        (
            Method::GET,
            "/v3/scheduler-stats/get_pools".into(),
            None,
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::GET,
            "/v3/capabilities/node1@fake-1".into(),
            None,
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::GET,
            format!("/v3/os-quota-sets/{project}"),
            None,
            FORBIDDEN,
            OK,
        ),
        (
            Method::GET,
            format!("/v3/os-quota-sets/{project}/defaults"),
            None,
            FORBIDDEN,
            OK,
        ),
        (
            Method::PUT,
            format!("/v3/os-quota-sets/{project}"),
            Some(json!({"quota_set": {"volumes": 3}})),
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::DELETE,
            format!("/v3/os-quota-sets/{project}"),
            None,
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::GET,
            "/v3/os-quota-class-sets/default".into(),
            None,
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::PUT,
            "/v3/os-quota-class-sets/default".into(),
            Some(json!({"quota_class_set": {"volumes": 3}})),
            FORBIDDEN,
            FORBIDDEN,
        ),
        (Method::GET, "/v3/limits".into(), None, OK, OK),
        (
            Method::GET,
            "/v3/volumes/summary".into(),
            None,
            NOT_FOUND,
            NOT_FOUND,
        ),
    ];
    for (method, path, body, other_expected, reader_expected) in &cases {
        let anon = cloud.call(method.clone(), path, "", body.clone()).await;
        assert_eq!(
            anon.status,
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {path}"
        );
        let r = cloud.call(method.clone(), path, &other, body.clone()).await;
        assert!(
            matches(*other_expected, r.status),
            "other project {method} {path}: {} {}",
            r.status,
            r.body
        );
        let r = cloud
            .call(method.clone(), path, &reader, body.clone())
            .await;
        assert!(
            matches(*reader_expected, r.status),
            "reader {method} {path}: {} {}",
            r.status,
            r.body
        );
    }
    // Lists of another project show nothing of the owner's.
    let others = cloud.call(Method::GET, "/v3/volumes", &other, None).await;
    assert_eq!(others.body["volumes"], json!([]));
    let others = cloud.call(Method::GET, "/v3/snapshots", &other, None).await;
    assert_eq!(others.body["snapshots"], json!([]));
    // Nothing changed: the owner's volume is untouched.
    let v = cloud
        .call(Method::GET, &format!("/v3/volumes/{vol}"), &owner, None)
        .await;
    assert_eq!(v.body["volume"]["status"], "available");
    assert_eq!(v.body["volume"]["size"], 1);
    assert_eq!(v.body["volume"]["metadata"], json!({"k": "v"}));
}

/// The attachments API (3.27+), the legacy attach actions and backups, walked the same way at
/// 3.44.
#[tokio::test]
async fn attachments_and_backups_as_anonymous_other_project_and_reader() {
    let cloud = Cloud::with_backends().await;
    let (user, project, owner) = cloud.member("att-owner").await;
    let (_, _, other) = cloud.member("att-other").await;
    let reader = cloud.reader(&project, "att-watcher").await;
    let vol = cloud.volume(&owner, json!({"volume": {"size": 1}})).await;
    let spare = cloud.volume(&owner, json!({"volume": {"size": 1}})).await;
    let att = cloud
        .call_at(
            Some("3.44"),
            Method::POST,
            "/v3/attachments",
            &owner,
            Some(json!({"attachment": {"volume_uuid": spare}})),
        )
        .await;
    assert_eq!(att.status, StatusCode::OK, "{}", att.body);
    let att = att.body["attachment"]["id"]
        .as_str()
        .expect("attachment")
        .to_string();
    // A backup record as the backup service leaves it (no backup service runs here).
    let now = monostack_common::time::now_micros();
    let bk = uuid::Uuid::new_v4().to_string();
    let record = monostack_volume::db::backups::Backup {
        id: bk.clone(),
        project_id: project.clone(),
        user_id: user,
        volume_id: vol.clone(),
        status: "available".into(),
        size: 1,
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    monostack_volume::db::backups::insert(&cloud.volume.db, &record)
        .await
        .expect("backup record");
    let action = format!("/v3/volumes/{vol}/action");
    let cases: Vec<(Method, String, Option<Value>, u16, u16)> = vec![
        (Method::GET, "/v3/attachments".into(), None, OK, OK),
        (Method::GET, "/v3/attachments/detail".into(), None, OK, OK),
        (
            Method::GET,
            format!("/v3/attachments/{att}"),
            None,
            NOT_FOUND,
            OK,
        ),
        (
            Method::POST,
            "/v3/attachments".into(),
            Some(json!({"attachment": {"volume_uuid": vol}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::PUT,
            format!("/v3/attachments/{att}"),
            Some(json!({"attachment": {"connector": {"host": "h"}}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/attachments/{att}/action"),
            Some(json!({"os-complete": null})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::DELETE,
            format!("/v3/attachments/{att}"),
            None,
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            action.clone(),
            Some(json!({"os-reserve": null})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            action.clone(),
            Some(json!({"os-unreserve": null})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            action.clone(),
            Some(json!({"os-begin_detaching": null})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            action.clone(),
            Some(json!({"os-roll_detaching": null})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            action.clone(),
            Some(json!({"os-attach": {"host_name": "h", "mountpoint": "/x"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            action.clone(),
            Some(json!({"os-detach": {}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (Method::GET, "/v3/backups".into(), None, OK, OK),
        (Method::GET, "/v3/backups/detail".into(), None, OK, OK),
        (
            Method::GET,
            format!("/v3/backups/{bk}"),
            None,
            NOT_FOUND,
            OK,
        ),
        (
            Method::PUT,
            format!("/v3/backups/{bk}"),
            Some(json!({"backup": {"name": "x"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            "/v3/backups".into(),
            Some(json!({"backup": {"volume_id": vol}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/backups/{bk}/restore"),
            Some(json!({"restore": {}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::GET,
            format!("/v3/backups/{bk}/export_record"),
            None,
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            "/v3/backups/import_record".into(),
            Some(json!({"backup-record": {"backup_service": "s", "backup_url": "e30="}})),
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/backups/{bk}/action"),
            Some(json!({"os-reset_status": {"status": "error"}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::POST,
            format!("/v3/backups/{bk}/action"),
            Some(json!({"os-force_delete": {}})),
            NOT_FOUND,
            FORBIDDEN,
        ),
        (
            Method::DELETE,
            format!("/v3/backups/{bk}"),
            None,
            NOT_FOUND,
            FORBIDDEN,
        ),
    ];
    for (method, path, body, other_expected, reader_expected) in &cases {
        let anon = cloud
            .call_at(Some("3.44"), method.clone(), path, "", body.clone())
            .await;
        assert_eq!(
            anon.status,
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {path}"
        );
        let r = cloud
            .call_at(Some("3.44"), method.clone(), path, &other, body.clone())
            .await;
        assert!(
            matches(*other_expected, r.status),
            "other project {method} {path}: {} {}",
            r.status,
            r.body
        );
        let r = cloud
            .call_at(Some("3.44"), method.clone(), path, &reader, body.clone())
            .await;
        assert!(
            matches(*reader_expected, r.status),
            "reader {method} {path}: {} {}",
            r.status,
            r.body
        );
    }
    let others = cloud
        .call_at(Some("3.44"), Method::GET, "/v3/attachments", &other, None)
        .await;
    assert_eq!(others.body["attachments"], json!([]));
    let others = cloud.call(Method::GET, "/v3/backups", &other, None).await;
    assert_eq!(others.body["backups"], json!([]));
    // Nothing changed.
    let v = cloud
        .call(Method::GET, &format!("/v3/volumes/{vol}"), &owner, None)
        .await;
    assert_eq!(v.body["volume"]["status"], "available");
    let b = cloud
        .call(Method::GET, &format!("/v3/backups/{bk}"), &owner, None)
        .await;
    assert_eq!(b.body["backup"]["status"], "available");
    let a = cloud
        .call_at(
            Some("3.44"),
            Method::GET,
            &format!("/v3/attachments/{att}"),
            &owner,
            None,
        )
        .await;
    assert_eq!(a.body["attachment"]["status"], "reserved");
}
