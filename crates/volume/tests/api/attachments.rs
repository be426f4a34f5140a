//! Attachments: the v3 attachments API (3.27+, os-complete at 3.44, mode at 3.54) and the
//! legacy attach actions, with Cinder's status transitions, messages and codes.

use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::{json, Value};

const SERVER_A: &str = "11111111-2222-3333-4444-555555555555";
const SERVER_B: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

async fn volume_of(cloud: &Cloud, token: &str, id: &str) -> Value {
    let r = cloud.call_at(Some("3.27"), Method::GET, &format!("/v3/volumes/{id}"), token, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["volume"].clone()
}

async fn attach_create(cloud: &Cloud, version: &str, token: &str, body: Value) -> crate::support::Resp {
    cloud.call_at(Some(version), Method::POST, "/v3/attachments", token, Some(body)).await
}

#[tokio::test]
async fn attachments_api_reserve_connect_complete_delete() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("att-owner").await;
    let (_, _, other) = cloud.member("att-other").await;
    let vol = cloud.volume(&member, json!({"volume": {"size": 1, "name": "data"}})).await;

    // Not before 3.27.
    let old = attach_create(&cloud, "3.26", &member, json!({"attachment": {"volume_uuid": vol}})).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    let old = cloud.call_at(Some("3.26"), Method::GET, "/v3/attachments", &member, None).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);

    // Bad bodies are 400s naming the field.
    for body in [
        json!({"attachment": {}}),
        json!({"attachment": {"volume_uuid": "not-a-uuid"}}),
        json!({"attachment": {"volume_uuid": vol, "bogus": 1}}),
        json!({"attachment": {"volume_uuid": vol, "connector": "x"}}),
        json!({"attachment": {"volume_uuid": vol, "mode": "rw"}}),
        json!({"nope": {}}),
    ] {
        let r = attach_create(&cloud, "3.27", &member, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert!(r.body["badRequest"]["message"].is_string(), "{}", r.body);
    }
    // Another project's member does not see the volume.
    let r = attach_create(&cloud, "3.27", &other, json!({"attachment": {"volume_uuid": vol, "instance_uuid": SERVER_A}})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // Reserve: no connector, the volume is reserved (a null mode, as openstacksdk sends at
    // every version, is no mode).
    let r = attach_create(
        &cloud,
        "3.27",
        &member,
        json!({"attachment": {"volume_uuid": vol, "instance_uuid": SERVER_A, "mode": null, "connector": null}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let att = r.body["attachment"].clone();
    let aid = att["id"].as_str().expect("id").to_string();
    assert_eq!(att["status"], "reserved");
    assert_eq!(att["instance"], SERVER_A);
    assert_eq!(att["volume_id"], vol.as_str());
    assert_eq!(att["attach_mode"], "null");
    assert_eq!(att["connection_info"], json!({}));
    assert_eq!(att["attached_at"], "");
    assert_eq!(att["detached_at"], "");
    let v = volume_of(&cloud, &member, &vol).await;
    assert_eq!(v["status"], "reserved");
    assert_eq!(v["attachments"], json!([]));

    // A volume that is not multiattach takes no second server.
    let r = attach_create(&cloud, "3.27", &member, json!({"attachment": {"volume_uuid": vol, "instance_uuid": SERVER_B}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body["badRequest"]["message"],
        format!("Invalid volume: Volume {vol} status must be available or downloading to reserve, but the current status is reserved.")
    );
    // Deleting the volume is refused while it is reserved.
    let del = cloud.call(Method::DELETE, &format!("/v3/volumes/{vol}"), &member, None).await;
    assert_eq!(del.status, StatusCode::BAD_REQUEST, "{}", del.body);

    // Update with a connector: the manager's driver gives the connection info.
    let path = format!("/v3/attachments/{aid}");
    let bad = cloud
        .call_at(Some("3.27"), Method::PUT, &path, &member, Some(json!({"attachment": {"connector": {}}})))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    let connector = json!({"host": "compute1", "initiator": "iqn.1993-08.org.debian:01:cad181614cec", "ip": "192.168.1.20", "platform": "x86_64", "os_type": "linux", "multipath": false, "mountpoint": "/dev/vdb"});
    let up = cloud
        .call_at(Some("3.27"), Method::PUT, &path, &member, Some(json!({"attachment": {"connector": connector}})))
        .await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    let att = &up.body["attachment"];
    assert_eq!(att["status"], "attaching");
    assert_eq!(att["attach_mode"], "rw");
    assert_eq!(att["connection_info"]["driver_volume_type"], "fake");
    assert_eq!(att["connection_info"]["attachment_id"], aid.as_str());
    assert_eq!(att["connection_info"]["access_mode"], "rw");
    assert_eq!(att["connection_info"]["enforce_multipath"], false);
    assert!(att["attached_at"].as_str().is_some_and(|t| t.len() > 10), "{att}");
    let v = volume_of(&cloud, &member, &vol).await;
    assert_eq!(v["status"], "attaching");

    // os-complete exists from 3.44.
    let action = format!("/v3/attachments/{aid}/action");
    let early = cloud
        .call_at(Some("3.43"), Method::POST, &action, &member, Some(json!({"os-complete": null})))
        .await;
    assert_eq!(early.status, StatusCode::NOT_FOUND);
    let done = cloud
        .call_at(Some("3.44"), Method::POST, &action, &member, Some(json!({"os-complete": null})))
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    let v = volume_of(&cloud, &member, &vol).await;
    assert_eq!(v["status"], "in-use");
    let a = &v["attachments"][0];
    assert_eq!(a["attachment_id"], aid.as_str());
    assert_eq!(a["server_id"], SERVER_A);
    assert_eq!(a["volume_id"], vol.as_str());
    assert_eq!(a["id"], vol.as_str());
    assert_eq!(a["device"], "/dev/vdb");
    assert_eq!(a["host_name"], Value::Null, "only admins see the host");
    let as_admin = volume_of(&cloud, &cloud.admin, &vol).await;
    assert_eq!(as_admin["attachments"][0]["host_name"], "compute1");

    // Lists, filters, show; other projects see nothing.
    let list = cloud.call_at(Some("3.27"), Method::GET, "/v3/attachments", &member, None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(
        list.body["attachments"],
        json!([{"id": aid, "status": "attached", "instance": SERVER_A, "volume_id": vol}])
    );
    let detail = cloud
        .call_at(
            Some("3.27"),
            Method::GET,
            &format!("/v3/attachments/detail?instance_id={SERVER_A}"),
            &member,
            None,
        )
        .await;
    assert_eq!(detail.body["attachments"][0]["connection_info"]["driver_volume_type"], "fake");
    let none = cloud
        .call_at(Some("3.27"), Method::GET, &format!("/v3/attachments?volume_id={SERVER_B}"), &member, None)
        .await;
    assert_eq!(none.body["attachments"], json!([]));
    let by_status = cloud.call_at(Some("3.27"), Method::GET, "/v3/attachments?status=attached", &member, None).await;
    assert_eq!(by_status.body["attachments"].as_array().map(Vec::len), Some(1));
    let bad_filter = cloud.call_at(Some("3.31"), Method::GET, "/v3/attachments?colour=red", &member, None).await;
    assert_eq!(bad_filter.status, StatusCode::BAD_REQUEST);
    let theirs = cloud.call_at(Some("3.27"), Method::GET, "/v3/attachments", &other, None).await;
    assert_eq!(theirs.body["attachments"], json!([]));
    let hidden = cloud.call_at(Some("3.27"), Method::GET, &path, &other, None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let shown = cloud.call_at(Some("3.27"), Method::GET, &path, &member, None).await;
    assert_eq!(shown.body["attachment"]["status"], "attached");
    let missing = cloud
        .call_at(Some("3.27"), Method::GET, &format!("/v3/attachments/{SERVER_B}"), &member, None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.body["itemNotFound"]["message"],
        format!("Volume attachment could not be found with filter: attachment_id = {SERVER_B}.")
    );

    // An attached volume is not deleted, not even forced.
    let del = cloud.call(Method::DELETE, &format!("/v3/volumes/{vol}"), &member, None).await;
    assert_eq!(del.status, StatusCode::BAD_REQUEST, "{}", del.body);
    let forced = cloud
        .call(
            Method::POST,
            &format!("/v3/volumes/{vol}/action"),
            &cloud.admin,
            Some(json!({"os-force_delete": {}})),
        )
        .await;
    assert_eq!(forced.status, StatusCode::BAD_REQUEST, "{}", forced.body);

    // Delete: the connection ends, the volume is available again.
    let gone = cloud.call_at(Some("3.27"), Method::DELETE, &path, &member, None).await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    assert_eq!(gone.body, json!({"attachments": []}));
    let v = volume_of(&cloud, &member, &vol).await;
    assert_eq!(v["status"], "available");
    assert_eq!(v["attachments"], json!([]));
    let again = cloud.call_at(Some("3.27"), Method::DELETE, &path, &member, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // 3.54: the mode at create, with a connector at once.
    let r = attach_create(
        &cloud,
        "3.54",
        &member,
        json!({"attachment": {"volume_uuid": vol, "instance_uuid": SERVER_B, "mode": "ro", "connector": {"host": "compute2"}}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["attachment"]["status"], "attaching");
    assert_eq!(r.body["attachment"]["attach_mode"], "ro");
    assert_eq!(r.body["attachment"]["connection_info"]["access_mode"], "ro");
    let bad_mode = attach_create(&cloud, "3.54", &member, json!({"attachment": {"volume_uuid": vol, "mode": "rx"}})).await;
    assert_eq!(bad_mode.status, StatusCode::BAD_REQUEST);
    let aid2 = r.body["attachment"]["id"].as_str().expect("id").to_string();
    let gone = cloud
        .call_at(Some("3.54"), Method::DELETE, &format!("/v3/attachments/{aid2}"), &member, None)
        .await;
    assert_eq!(gone.status, StatusCode::OK);
    assert_eq!(volume_of(&cloud, &member, &vol).await["status"], "available");

    // A volume in error takes no attachment.
    let reset = cloud
        .call(
            Method::POST,
            &format!("/v3/volumes/{vol}/action"),
            &cloud.admin,
            Some(json!({"os-reset_status": {"status": "error"}})),
        )
        .await;
    assert_eq!(reset.status, StatusCode::ACCEPTED);
    let r = attach_create(&cloud, "3.27", &member, json!({"attachment": {"volume_uuid": vol}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body["badRequest"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Invalid volume: Volume attachments can not be created if the volume is in an error state.")),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn multiattach_volumes_take_several_servers() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("multi").await;
    let t = cloud
        .call(
            Method::POST,
            "/v3/types",
            &cloud.admin,
            Some(json!({"volume_type": {"name": "shared", "extra_specs": {"multiattach": "<is> True"}}})),
        )
        .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.body);
    let vol = cloud.volume(&member, json!({"volume": {"size": 1, "volume_type": "shared"}})).await;
    assert_eq!(volume_of(&cloud, &member, &vol).await["multiattach"], true);
    let mut ids = Vec::new();
    for (server, host) in [(SERVER_A, "c1"), (SERVER_B, "c2")] {
        let r = attach_create(
            &cloud,
            "3.44",
            &member,
            json!({"attachment": {"volume_uuid": vol, "instance_uuid": server, "connector": {"host": host}}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let id = r.body["attachment"]["id"].as_str().expect("id").to_string();
        let done = cloud
            .call_at(
                Some("3.44"),
                Method::POST,
                &format!("/v3/attachments/{id}/action"),
                &member,
                Some(json!({"os-complete": {}})),
            )
            .await;
        assert_eq!(done.status, StatusCode::NO_CONTENT);
        ids.push(id);
    }
    let v = volume_of(&cloud, &member, &vol).await;
    assert_eq!(v["status"], "in-use");
    assert_eq!(v["attachments"].as_array().map(Vec::len), Some(2));
    let first = cloud
        .call_at(Some("3.44"), Method::DELETE, &format!("/v3/attachments/{}", ids[0]), &member, None)
        .await;
    assert_eq!(
        first.body["attachments"],
        json!([{"id": ids[1], "status": "attached", "instance": SERVER_B, "volume_id": vol}])
    );
    let v = volume_of(&cloud, &member, &vol).await;
    assert_eq!(v["status"], "in-use", "still attached to the other server");
    cloud
        .call_at(Some("3.44"), Method::DELETE, &format!("/v3/attachments/{}", ids[1]), &member, None)
        .await;
    assert_eq!(volume_of(&cloud, &member, &vol).await["status"], "available");
}

async fn act(cloud: &Cloud, token: &str, vol: &str, body: Value) -> crate::support::Resp {
    cloud.call(Method::POST, &format!("/v3/volumes/{vol}/action"), token, Some(body)).await
}

#[tokio::test]
async fn legacy_attach_actions_walk_cinder_transitions() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("legacy").await;
    let vol = cloud.volume(&member, json!({"volume": {"size": 1}})).await;
    let status = |v: Value| {
        (
            v["status"].as_str().unwrap_or_default().to_string(),
            v["attachments"].as_array().map_or(0, Vec::len),
        )
    };

    // reserve / unreserve
    assert_eq!(act(&cloud, &member, &vol, json!({"os-reserve": null})).await.status, StatusCode::ACCEPTED);
    assert_eq!(status(volume_of(&cloud, &member, &vol).await), ("attaching".into(), 0));
    let twice = act(&cloud, &member, &vol, json!({"os-reserve": {}})).await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        twice.body["badRequest"]["message"],
        "Invalid volume: Volume status must be available to reserve, but the status is attaching."
    );
    assert_eq!(act(&cloud, &member, &vol, json!({"os-unreserve": null})).await.status, StatusCode::ACCEPTED);
    assert_eq!(status(volume_of(&cloud, &member, &vol).await), ("available".into(), 0));
    // Unreserving what is not reserved does nothing.
    assert_eq!(act(&cloud, &member, &vol, json!({"os-unreserve": null})).await.status, StatusCode::ACCEPTED);

    // begin_detaching needs an attached volume.
    let early = act(&cloud, &member, &vol, json!({"os-begin_detaching": null})).await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        early.body["badRequest"]["message"],
        "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach."
    );

    // reserve → initialize_connection → attach: in-use, attached.
    act(&cloud, &member, &vol, json!({"os-reserve": null})).await;
    let conn = act(
        &cloud,
        &member,
        &vol,
        json!({"os-initialize_connection": {"connector": {"host": "compute1", "enforce_multipath": true}}}),
    )
    .await;
    assert_eq!(conn.status, StatusCode::OK, "{}", conn.body);
    assert_eq!(conn.body["connection_info"]["driver_volume_type"], "fake");
    assert_eq!(conn.body["connection_info"]["enforce_multipath"], true);
    for bad in [
        json!({"os-attach": {"instance_uuid": SERVER_A}}),
        json!({"os-attach": {"mountpoint": "/dev/vdb"}}),
        json!({"os-attach": {"instance_uuid": "x", "mountpoint": "/dev/vdb"}}),
        json!({"os-attach": {"instance_uuid": SERVER_A, "mountpoint": "/dev/vdb", "mode": "wr"}}),
    ] {
        let r = act(&cloud, &member, &vol, bad.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
    let att = act(
        &cloud,
        &member,
        &vol,
        json!({"os-attach": {"instance_uuid": SERVER_A, "mountpoint": "/dev/vdb"}}),
    )
    .await;
    assert_eq!(att.status, StatusCode::ACCEPTED, "{}", att.body);
    let v = volume_of(&cloud, &cloud.admin, &vol).await;
    assert_eq!(status(v.clone()), ("in-use".into(), 1));
    assert_eq!(v["attachments"][0]["server_id"], SERVER_A);
    assert_eq!(v["attachments"][0]["device"], "/dev/vdb");
    // A second server on a volume that is not multiattach.
    let second = act(
        &cloud,
        &member,
        &vol,
        json!({"os-attach": {"instance_uuid": SERVER_B, "mountpoint": "/dev/vdc"}}),
    )
    .await;
    assert_eq!(second.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        second.body["badRequest"]["message"],
        "Error attaching volume - InvalidVolume: Invalid volume: volume is already attached and multiple attachments are not enabled"
    );
    // The same server again is fine.
    assert_eq!(
        act(
            &cloud,
            &member,
            &vol,
            json!({"os-attach": {"instance_uuid": SERVER_A, "mountpoint": "/dev/vdb"}})
        )
        .await
        .status,
        StatusCode::ACCEPTED
    );
    // Attached volumes are not deleted.
    let del = cloud.call(Method::DELETE, &format!("/v3/volumes/{vol}"), &member, None).await;
    assert_eq!(del.status, StatusCode::BAD_REQUEST);
    assert!(
        del.body["badRequest"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("must not be migrating, attached")),
        "{}",
        del.body
    );

    // begin_detaching → roll_detaching → begin_detaching → terminate → detach.
    assert_eq!(
        act(&cloud, &member, &vol, json!({"os-begin_detaching": null})).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(status(volume_of(&cloud, &member, &vol).await).0, "detaching");
    assert_eq!(
        act(&cloud, &member, &vol, json!({"os-roll_detaching": null})).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(status(volume_of(&cloud, &member, &vol).await).0, "in-use");
    act(&cloud, &member, &vol, json!({"os-begin_detaching": null})).await;
    let term = act(&cloud, &member, &vol, json!({"os-terminate_connection": {"connector": {"host": "compute1"}}})).await;
    assert_eq!(term.status, StatusCode::ACCEPTED, "{}", term.body);
    let bad_detach = act(&cloud, &member, &vol, json!({"os-detach": {"attachment_id": "nope"}})).await;
    assert_eq!(bad_detach.status, StatusCode::BAD_REQUEST);
    assert_eq!(act(&cloud, &member, &vol, json!({"os-detach": {}})).await.status, StatusCode::ACCEPTED);
    let v = volume_of(&cloud, &cloud.admin, &vol).await;
    assert_eq!(status(v), ("available".into(), 0));

    // A host attach (no server), detached by its attachment id.
    act(&cloud, &member, &vol, json!({"os-reserve": null})).await;
    assert_eq!(
        act(
            &cloud,
            &member,
            &vol,
            json!({"os-attach": {"host_name": "Backup_Host", "mountpoint": "/mnt/x"}})
        )
        .await
        .status,
        StatusCode::ACCEPTED
    );
    let v = volume_of(&cloud, &cloud.admin, &vol).await;
    assert_eq!(v["attachments"][0]["host_name"], "backup-host");
    let aid = v["attachments"][0]["attachment_id"].as_str().expect("id").to_string();
    assert_eq!(
        act(&cloud, &member, &vol, json!({"os-detach": {"attachment_id": aid}})).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(status(volume_of(&cloud, &member, &vol).await), ("available".into(), 0));

    // A read-only volume attaches read-only only.
    let ro = act(&cloud, &member, &vol, json!({"os-update_readonly_flag": {"readonly": true}})).await;
    assert_eq!(ro.status, StatusCode::ACCEPTED);
    let rw = act(
        &cloud,
        &member,
        &vol,
        json!({"os-attach": {"instance_uuid": SERVER_A, "mountpoint": "/dev/vdb"}}),
    )
    .await;
    assert_eq!(rw.status, StatusCode::BAD_REQUEST);
    assert_eq!(rw.body["badRequest"]["message"], format!("Invalid attaching mode 'rw' for volume {vol}."));
    let ok = act(
        &cloud,
        &member,
        &vol,
        json!({"os-attach": {"instance_uuid": SERVER_A, "mountpoint": "/dev/vdb", "mode": "ro"}}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::ACCEPTED);
    assert_eq!(act(&cloud, &member, &vol, json!({"os-detach": null})).await.status, StatusCode::ACCEPTED);
    assert_eq!(status(volume_of(&cloud, &member, &vol).await), ("available".into(), 0));

    // Maintenance refuses attach and connections.
    act(&cloud, &cloud.admin, &vol, json!({"os-reset_status": {"status": "maintenance"}})).await;
    let m = act(&cloud, &member, &vol, json!({"os-initialize_connection": {"connector": {"host": "h"}}})).await;
    assert_eq!(m.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        m.body["badRequest"]["message"],
        "Invalid volume: The volume connection cannot be initialized in maintenance mode."
    );
}

/// `os-force_detach` (admins): a volume reset to `error` with an attachment is detached and
/// becomes `available`; an attachment of another volume or an unknown one is refused.
#[tokio::test]
async fn force_detach_a_volume_in_error() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("fay").await;
    let vol = cloud.volume(&member, json!({"volume": {"size": 1}})).await;
    let attached = act(
        &cloud,
        &member,
        &vol,
        json!({"os-attach": {"instance_uuid": SERVER_A, "mountpoint": "/dev/vdb"}}),
    )
    .await;
    assert_eq!(attached.status, StatusCode::ACCEPTED, "{}", attached.body);
    let v = volume_of(&cloud, &cloud.admin, &vol).await;
    assert_eq!(v["status"], "in-use");
    let attachment_id = v["attachments"][0]["attachment_id"]
        .as_str()
        .expect("attachment")
        .to_string();
    let reset = act(
        &cloud,
        &cloud.admin,
        &vol,
        json!({"os-reset_status": {"status": "error"}}),
    )
    .await;
    assert_eq!(reset.status, StatusCode::ACCEPTED);
    let refused = act(
        &cloud,
        &member,
        &vol,
        json!({"os-force_detach": {"attachment_id": attachment_id, "connector": null}}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let unknown = act(
        &cloud,
        &cloud.admin,
        &vol,
        json!({"os-force_detach": {"attachment_id": "00000000-0000-0000-0000-000000000000"}}),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let bad = act(
        &cloud,
        &cloud.admin,
        &vol,
        json!({"os-force_detach": {"attachment_id": 5}}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let done = act(
        &cloud,
        &cloud.admin,
        &vol,
        json!({"os-force_detach": {"attachment_id": attachment_id, "connector": null}}),
    )
    .await;
    assert_eq!(done.status, StatusCode::ACCEPTED, "{}", done.body);
    let v = volume_of(&cloud, &cloud.admin, &vol).await;
    assert_eq!(v["status"], "available");
    assert_eq!(v["attachments"], json!([]));
}
