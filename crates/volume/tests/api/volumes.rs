//! Volumes through the whole flow: API → scheduler → volume manager → fake driver.

use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn create_schedules_to_the_emptiest_backend_and_becomes_available() {
    let cloud = Cloud::with_backends().await;
    let (_, project, member) = cloud.member("alice").await;
    let r = cloud.call(Method::POST, "/v3/volumes", &member, Some(json!({"volume": {"size": 1, "name": "vol-1", "description": "first", "metadata": {"a": "b"}}}))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let v = &r.body["volume"];
    assert_eq!(v["status"], "creating");
    assert_eq!(v["name"], "vol-1");
    assert_eq!(v["size"], 1);
    assert_eq!(v["metadata"], json!({"a": "b"}));
    assert_eq!(v["volume_type"], "__DEFAULT__");
    assert_eq!(v["bootable"], "false");
    assert_eq!(v["attachments"], json!([]));
    assert_eq!(v["availability_zone"], "nova");
    // The extension attributes are Cinder's show and detail's only, not the create's.
    assert!(v.get("os-vol-tenant-attr:tenant_id").is_none(), "{v}");
    let id = v["id"].as_str().expect("id").to_string();
    let member_view = cloud.call(Method::GET, &format!("/v3/volumes/{id}"), &member, None).await;
    assert_eq!(member_view.body["volume"]["os-vol-tenant-attr:tenant_id"], project.as_str());
    assert!(
        member_view.body["volume"].get("os-vol-host-attr:host").is_none(),
        "hidden from members"
    );
    let shown = cloud.wait_volume(&id, "available").await;
    // fake-2 has twice the capacity: CapacityWeigher picks it.
    assert_eq!(shown["os-vol-host-attr:host"], "node1@fake-2#fake-2");
    assert_eq!(shown["volume_type_id"].as_str().map(str::len), Some(36));
    let fake2 = &cloud.managers[1].manager;
    assert_eq!(fake2.backend, "node1@fake-2");
    // The member sees it; another project does not.
    let mine = cloud
        .call(Method::GET, &format!("/v3/volumes/{id}"), &member, None)
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.body["volume"]["status"], "available");
    let (_, _, other) = cloud.member("mallory").await;
    let hidden = cloud
        .call(Method::GET, &format!("/v3/volumes/{id}"), &other, None)
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(
        hidden.body["itemNotFound"]["message"],
        format!("Volume {id} could not be found.")
    );
    let no_delete = cloud
        .call(Method::DELETE, &format!("/v3/volumes/{id}"), &other, None)
        .await;
    assert_eq!(no_delete.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_creates_are_refused_with_cinders_errors() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("bob").await;
    let cases = [
        (json!({"volume": {"size": 0}}), StatusCode::BAD_REQUEST),
        (json!({"volume": {"size": "abc"}}), StatusCode::BAD_REQUEST),
        (json!({"volume": {"size": -1}}), StatusCode::BAD_REQUEST),
        (json!({"volume": {}}), StatusCode::BAD_REQUEST),
        (
            json!({"volume": {"size": 1, "volume_type": "nope"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"volume": {"size": 1, "availability_zone": "az9"}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"volume": {"size": 1, "multiattach": true}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"volume": {"size": 1, "snapshot_id": "not-a-uuid"}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"volume": {"size": 1, "snapshot_id": "0b6f8e0e-0000-4000-8000-000000000000"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"volume": {"size": 1, "source_volid": "0b6f8e0e-0000-4000-8000-000000000000"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"volume": {"size": 1, "metadata": {"k": 1}}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"volume": {"size": 1, "name": "x".repeat(256)}}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"volume": "x"}), StatusCode::BAD_REQUEST),
        (json!({"volumes": {"size": 1}}), StatusCode::BAD_REQUEST),
        (
            json!({"volume": {"size": 1001}}),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (body, status) in cases {
        let r = cloud
            .call(Method::POST, "/v3/volumes", &member, Some(body.clone()))
            .await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert!(
            r.body
                .as_object()
                .and_then(|o| o.values().next())
                .is_some_and(|f| f["message"].is_string()),
            "{}",
            r.body
        );
    }
    let zero = cloud
        .call(
            Method::POST,
            "/v3/volumes",
            &member,
            Some(json!({"volume": {"size": 0}})),
        )
        .await;
    assert_eq!(zero.body["badRequest"]["code"], 400);
    let az = cloud
        .call(
            Method::POST,
            "/v3/volumes",
            &member,
            Some(json!({"volume": {"size": 1, "availability_zone": "az9"}})),
        )
        .await;
    assert_eq!(
        az.body["badRequest"]["message"],
        "Availability zone 'az9' is invalid."
    );
    let quota = cloud
        .call(
            Method::POST,
            "/v3/volumes",
            &member,
            Some(json!({"volume": {"size": 1001}})),
        )
        .await;
    assert_eq!(quota.body["overLimit"]["message"], "Requested volume or snapshot exceeds allowed gigabytes quota. Requested 1001G, quota is 1000G and 0G has been consumed.");
    let strict = cloud
        .call_at(
            Some("3.53"),
            Method::POST,
            "/v3/volumes",
            &member,
            Some(json!({"volume": {"size": 1, "bogus": 1}})),
        )
        .await;
    assert_eq!(strict.status, StatusCode::BAD_REQUEST);
    let lax = cloud
        .call_at(
            Some("3.52"),
            Method::POST,
            "/v3/volumes",
            &member,
            Some(json!({"volume": {"size": 1, "bogus": 1}})),
        )
        .await;
    assert_eq!(lax.status, StatusCode::ACCEPTED);
    let (_, _, reader_less) = cloud.member("carl").await;
    let _ = reader_less;
}

#[tokio::test]
async fn no_backend_fits_so_the_volume_ends_in_error() {
    let cloud = Cloud::with_backends().await;
    // Larger than either backend (and within quota).
    let big = cloud
        .call(
            Method::POST,
            "/v3/volumes",
            &cloud.admin,
            Some(json!({"volume": {"size": 500}})),
        )
        .await;
    assert_eq!(big.status, StatusCode::ACCEPTED);
    let id = big.body["volume"]["id"].as_str().expect("id").to_string();
    let v = cloud.wait_volume(&id, "error").await;
    assert!(v["os-vol-host-attr:host"].is_null());
    // A type that names a backend no service has.
    let t = cloud.call(Method::POST, "/v3/types", &cloud.admin, Some(json!({"volume_type": {"name": "ghost", "extra_specs": {"volume_backend_name": "nowhere"}}}))).await;
    assert_eq!(t.status, StatusCode::OK);
    let ghost = cloud
        .call(
            Method::POST,
            "/v3/volumes",
            &cloud.admin,
            Some(json!({"volume": {"size": 1, "volume_type": "ghost"}})),
        )
        .await;
    let gid = ghost.body["volume"]["id"].as_str().expect("id").to_string();
    cloud.wait_volume(&gid, "error").await;
    // A volume in error that was never scheduled is deleted at once.
    let del = cloud
        .call(
            Method::DELETE,
            &format!("/v3/volumes/{gid}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::ACCEPTED);
    let gone = cloud
        .call(
            Method::GET,
            &format!("/v3/volumes/{gid}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    // A type naming fake-1 lands there even though fake-2 is emptier; the capacity filter
    // counts what is already provisioned there.
    cloud.call(Method::POST, "/v3/types", &cloud.admin, Some(json!({"volume_type": {"name": "one", "extra_specs": {"volume_backend_name": "fake-1"}}}))).await;
    let first = cloud
        .volume(
            &cloud.admin,
            json!({"volume": {"size": 60, "volume_type": "one"}}),
        )
        .await;
    let shown = cloud
        .call(
            Method::GET,
            &format!("/v3/volumes/{first}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(
        shown.body["volume"]["os-vol-host-attr:host"],
        "node1@fake-1#fake-1"
    );
    let second = cloud
        .call(
            Method::POST,
            "/v3/volumes",
            &cloud.admin,
            Some(json!({"volume": {"size": 60, "volume_type": "one"}})),
        )
        .await;
    let second = second.body["volume"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    cloud.wait_volume(&second, "error").await;
    // The type is in use now: it cannot be deleted, nor its specs changed.
    let tid = cloud
        .call(Method::GET, "/v3/types?is_public=None", &cloud.admin, None)
        .await
        .body["volume_types"]
        .as_array()
        .expect("types")
        .iter()
        .find(|t| t["name"] == "one")
        .map(|t| t["id"].as_str().unwrap_or_default().to_string())
        .expect("type one");
    let del = cloud
        .call(
            Method::DELETE,
            &format!("/v3/types/{tid}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        del.body["badRequest"]["message"],
        "Target volume type is still in use."
    );
    let spec = cloud
        .call(
            Method::POST,
            &format!("/v3/types/{tid}/extra_specs"),
            &cloud.admin,
            Some(json!({"extra_specs": {"a": "b"}})),
        )
        .await;
    assert_eq!(spec.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn lists_filter_sort_page_and_count() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("dora").await;
    let mut ids = Vec::new();
    for (name, size) in [("a", 1), ("b", 3), ("c", 2)] {
        ids.push(cloud.volume(&member, json!({"volume": {"size": size, "name": name, "metadata": {"tier": if size > 1 { "gold" } else { "bronze" }}}})).await);
    }
    cloud
        .volume(
            &cloud.admin,
            json!({"volume": {"size": 1, "name": "admins"}}),
        )
        .await;
    let summary = cloud.call(Method::GET, "/v3/volumes", &member, None).await;
    let vols = summary.body["volumes"].as_array().expect("list");
    assert_eq!(vols.len(), 3);
    assert_eq!(
        vols[0].as_object().map(|o| o.len()),
        Some(3),
        "id, name, links"
    );
    // Newest first by default.
    assert_eq!(vols[0]["name"], "c");
    let by_size = cloud
        .call(
            Method::GET,
            "/v3/volumes/detail?sort=size:asc",
            &member,
            None,
        )
        .await;
    let names: Vec<_> = by_size.body["volumes"]
        .as_array()
        .expect("list")
        .iter()
        .map(|v| v["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("a"), json!("c"), json!("b")]);
    let page = cloud
        .call(
            Method::GET,
            "/v3/volumes/detail?sort=name:asc&limit=2",
            &member,
            None,
        )
        .await;
    assert_eq!(page.body["volumes"].as_array().expect("list").len(), 2);
    let next = page.body["volumes_links"][0]["href"]
        .as_str()
        .expect("next");
    assert!(next.contains("marker="));
    let path = next
        .split_once("/v3/")
        .map(|(_, p)| format!("/v3/{p}"))
        .expect("path");
    let rest = cloud.call(Method::GET, &path, &member, None).await;
    assert_eq!(rest.body["volumes"][0]["name"], "c");
    let gold = cloud
        .call(
            Method::GET,
            "/v3/volumes/detail?metadata={'tier':'gold'}",
            &member,
            None,
        )
        .await;
    assert_eq!(gold.body["volumes"].as_array().expect("list").len(), 2);
    let named = cloud
        .call(Method::GET, "/v3/volumes?name=b", &member, None)
        .await;
    assert_eq!(named.body["volumes"].as_array().expect("list").len(), 1);
    let sized = cloud
        .call(
            Method::GET,
            "/v3/volumes/detail?size=2&status=available",
            &member,
            None,
        )
        .await;
    assert_eq!(sized.body["volumes"][0]["name"], "c");
    // name~ (3.34) matches part of a name; before 3.31 unknown filters are ignored, after a 400.
    let like = cloud
        .call_at(
            Some("3.34"),
            Method::GET,
            "/v3/volumes?name~=A",
            &member,
            None,
        )
        .await;
    assert_eq!(like.body["volumes"].as_array().expect("list").len(), 1);
    let ignored = cloud
        .call_at(
            Some("3.30"),
            Method::GET,
            "/v3/volumes?bogus=1",
            &member,
            None,
        )
        .await;
    assert_eq!(ignored.status, StatusCode::OK);
    let refused = cloud
        .call_at(
            Some("3.31"),
            Method::GET,
            "/v3/volumes?bogus=1",
            &member,
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.body["badRequest"]["message"],
        "Invalid filters bogus are found in query options."
    );
    // with_count (3.45) counts every match, not the page.
    let counted = cloud
        .call_at(
            Some("3.45"),
            Method::GET,
            "/v3/volumes?with_count=true&limit=1",
            &member,
            None,
        )
        .await;
    assert_eq!(counted.body["count"], 3);
    let uncounted = cloud
        .call_at(
            Some("3.44"),
            Method::GET,
            "/v3/volumes?with_count=true&limit=1",
            &member,
            None,
        )
        .await;
    assert!(uncounted.body.get("count").is_none());
    // Admins see every project's with all_tenants.
    let all = cloud
        .call(Method::GET, "/v3/volumes?all_tenants=1", &cloud.admin, None)
        .await;
    assert_eq!(all.body["volumes"].as_array().expect("list").len(), 4);
    let own = cloud
        .call(Method::GET, "/v3/volumes", &cloud.admin, None)
        .await;
    assert_eq!(own.body["volumes"].as_array().expect("list").len(), 1);
    let bad_marker = cloud
        .call(Method::GET, "/v3/volumes?marker=nope", &member, None)
        .await;
    assert_eq!(bad_marker.status, StatusCode::NOT_FOUND);
    let bad_sort = cloud
        .call(Method::GET, "/v3/volumes?sort=bogus", &member, None)
        .await;
    assert_eq!(bad_sort.status, StatusCode::BAD_REQUEST);
    // The summary (3.12, metadata from 3.36).
    let sum = cloud
        .call_at(
            Some("3.36"),
            Method::GET,
            "/v3/volumes/summary",
            &member,
            None,
        )
        .await;
    assert_eq!(sum.body["volume-summary"]["total_count"], 3);
    assert_eq!(sum.body["volume-summary"]["total_size"], 6);
    assert_eq!(
        sum.body["volume-summary"]["metadata"]["tier"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let _ = ids;
}

#[tokio::test]
async fn update_metadata_and_flags() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("erin").await;
    let id = cloud
        .volume(&member, json!({"volume": {"size": 1, "name": "v"}}))
        .await;
    let base = format!("/v3/volumes/{id}");
    let upd = cloud
        .call(
            Method::PUT,
            &base,
            &member,
            Some(
                json!({"volume": {"name": "renamed", "description": "d", "metadata": {"x": "1"}}}),
            ),
        )
        .await;
    assert_eq!(upd.status, StatusCode::OK);
    assert_eq!(upd.body["volume"]["name"], "renamed");
    assert_eq!(upd.body["volume"]["metadata"], json!({"x": "1"}));
    let bad = cloud
        .call(
            Method::PUT,
            &base,
            &member,
            Some(json!({"volume": {"size": 5}})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let meta = format!("{base}/metadata");
    let merged = cloud
        .call(
            Method::POST,
            &meta,
            &member,
            Some(json!({"metadata": {"y": "2"}})),
        )
        .await;
    assert_eq!(merged.body["metadata"], json!({"x": "1", "y": "2"}));
    let replaced = cloud
        .call(
            Method::PUT,
            &meta,
            &member,
            Some(json!({"metadata": {"z": "3"}})),
        )
        .await;
    assert_eq!(replaced.body["metadata"], json!({"z": "3"}));
    let one = cloud
        .call(Method::GET, &format!("{meta}/z"), &member, None)
        .await;
    assert_eq!(one.body, json!({"meta": {"z": "3"}}));
    let put = cloud
        .call(
            Method::PUT,
            &format!("{meta}/z"),
            &member,
            Some(json!({"meta": {"z": "4"}})),
        )
        .await;
    assert_eq!(put.body, json!({"meta": {"z": "4"}}));
    let mismatch = cloud
        .call(
            Method::PUT,
            &format!("{meta}/z"),
            &member,
            Some(json!({"meta": {"w": "4"}})),
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    let del = cloud
        .call(Method::DELETE, &format!("{meta}/z"), &member, None)
        .await;
    assert_eq!(del.status, StatusCode::OK);
    let missing = cloud
        .call(Method::GET, &format!("{meta}/z"), &member, None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // Bootable and readonly flags.
    let action = format!("{base}/action");
    let boot = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-set_bootable": {"bootable": true}})),
        )
        .await;
    assert_eq!(boot.status, StatusCode::OK);
    let shown = cloud.call(Method::GET, &base, &member, None).await;
    assert_eq!(shown.body["volume"]["bootable"], "true");
    let bad_flag = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-set_bootable": {"bootable": "maybe"}})),
        )
        .await;
    assert_eq!(bad_flag.status, StatusCode::BAD_REQUEST);
    let ro = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-update_readonly_flag": {"readonly": true}})),
        )
        .await;
    assert_eq!(ro.status, StatusCode::ACCEPTED);
    // The readonly flag reaches the connection info the driver gives.
    let conn = cloud.call(Method::POST, &action, &member, Some(json!({"os-initialize_connection": {"connector": {"host": "compute1", "initiator": "iqn.x"}}}))).await;
    assert_eq!(conn.status, StatusCode::OK, "{}", conn.body);
    assert_eq!(conn.body["connection_info"]["driver_volume_type"], "fake");
    assert_eq!(conn.body["connection_info"]["data"]["access_mode"], "ro");
    let term = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-terminate_connection": {"connector": {"host": "compute1"}}})),
        )
        .await;
    assert_eq!(term.status, StatusCode::ACCEPTED);
    let unknown = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-bogus": {}})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        unknown.body["badRequest"]["message"],
        "There is no such action: os-bogus"
    );
}

#[tokio::test]
async fn extend_only_grows_available_volumes() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("fay").await;
    let id = cloud.volume(&member, json!({"volume": {"size": 2}})).await;
    let action = format!("/v3/volumes/{id}/action");
    let smaller = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-extend": {"new_size": 2}})),
        )
        .await;
    assert_eq!(smaller.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        smaller.body["badRequest"]["message"],
        "Invalid input received: New size for extend must be greater than current size. (current: 2, extended: 2)."
    );
    let bad = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-extend": {"new_size": "x"}})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let ok = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-extend": {"new_size": 5}})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.body);
    let grown = cloud.wait_volume(&id, "available").await;
    assert_eq!(grown["size"], 5);
    let backend = cloud
        .managers
        .iter()
        .find(|m| {
            grown["os-vol-host-attr:host"]
                .as_str()
                .is_some_and(|h| h.starts_with(&m.manager.backend))
        })
        .expect("manager");
    let _ = backend;
    // Not available: refused.
    let reset = cloud
        .call(
            Method::POST,
            &action,
            &cloud.admin,
            Some(json!({"os-reset_status": {"status": "error"}})),
        )
        .await;
    assert_eq!(reset.status, StatusCode::ACCEPTED);
    let refused = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-extend": {"new_size": 6}})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body["badRequest"]["message"].as_str().is_some_and(
        |m| m.contains("must be '{'status': 'available'}' to extend, currently error")
    ));
}

#[tokio::test]
async fn delete_rules_cascade_and_admin_actions() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("gus").await;
    let id = cloud.volume(&member, json!({"volume": {"size": 1}})).await;
    let base = format!("/v3/volumes/{id}");
    let action = format!("{base}/action");
    // Members may not use the admin actions.
    for body in [
        json!({"os-reset_status": {"status": "error"}}),
        json!({"os-force_delete": {}}),
    ] {
        let r = cloud.call(Method::POST, &action, &member, Some(body)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let invalid = cloud
        .call(
            Method::POST,
            &action,
            &cloud.admin,
            Some(json!({"os-reset_status": {"status": "bogus"}})),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    // Attached: refused.
    let attached = cloud
        .call(
            Method::POST,
            &action,
            &cloud.admin,
            Some(json!({"os-reset_status": {"status": "in-use", "attach_status": "attached"}})),
        )
        .await;
    assert_eq!(attached.status, StatusCode::ACCEPTED);
    let refused = cloud.call(Method::DELETE, &base, &member, None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body["badRequest"]["message"].as_str().is_some_and(
            |m| m.starts_with("Invalid volume: Volume status must be available or error")
        )
    );
    cloud
        .call(
            Method::POST,
            &action,
            &cloud.admin,
            Some(json!({"os-reset_status": {"status": "available", "attach_status": "detached"}})),
        )
        .await;
    // With a snapshot: refused unless cascade.
    let snap = cloud
        .call(
            Method::POST,
            "/v3/snapshots",
            &member,
            Some(json!({"snapshot": {"volume_id": id, "name": "s1"}})),
        )
        .await;
    assert_eq!(snap.status, StatusCode::ACCEPTED, "{}", snap.body);
    let sid = snap.body["snapshot"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    cloud.wait_snapshot(&sid, "available").await;
    let refused = cloud.call(Method::DELETE, &base, &member, None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let cascade = cloud
        .call(
            Method::DELETE,
            &format!("{base}?cascade=true"),
            &member,
            None,
        )
        .await;
    assert_eq!(cascade.status, StatusCode::ACCEPTED);
    cloud.wait_gone(&base).await;
    cloud.wait_gone(&format!("/v3/snapshots/{sid}")).await;
    // An admin force-deletes a volume in a busy status.
    let busy = cloud.volume(&member, json!({"volume": {"size": 1}})).await;
    let busy_action = format!("/v3/volumes/{busy}/action");
    cloud
        .call(
            Method::POST,
            &busy_action,
            &cloud.admin,
            Some(json!({"os-reset_status": {"status": "extending"}})),
        )
        .await;
    let refused = cloud
        .call(
            Method::DELETE,
            &format!("/v3/volumes/{busy}"),
            &member,
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let forced = cloud
        .call(
            Method::POST,
            &busy_action,
            &cloud.admin,
            Some(json!({"os-force_delete": {}})),
        )
        .await;
    assert_eq!(forced.status, StatusCode::ACCEPTED);
    cloud.wait_gone(&format!("/v3/volumes/{busy}")).await;
    for m in &cloud.managers {
        let _ = m;
    }
}

#[tokio::test]
async fn copies_stay_on_the_source_backend() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("hal").await;
    cloud.call(Method::POST, "/v3/types", &cloud.admin, Some(json!({"volume_type": {"name": "one", "extra_specs": {"volume_backend_name": "fake-1"}}}))).await;
    let src = cloud
        .volume(
            &member,
            json!({"volume": {"size": 2, "volume_type": "one"}}),
        )
        .await;
    let boot = cloud
        .call(
            Method::POST,
            &format!("/v3/volumes/{src}/action"),
            &member,
            Some(json!({"os-set_bootable": {"bootable": true}})),
        )
        .await;
    assert_eq!(boot.status, StatusCode::OK);
    let small = cloud
        .call(
            Method::POST,
            "/v3/volumes",
            &member,
            Some(json!({"volume": {"size": 1, "source_volid": src}})),
        )
        .await;
    assert_eq!(small.status, StatusCode::BAD_REQUEST);
    let clone = cloud
        .volume(&member, json!({"volume": {"source_volid": src}}))
        .await;
    let c = cloud
        .call(
            Method::GET,
            &format!("/v3/volumes/{clone}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(
        c.body["volume"]["os-vol-host-attr:host"],
        "node1@fake-1#fake-1"
    );
    assert_eq!(c.body["volume"]["size"], 2);
    assert_eq!(c.body["volume"]["source_volid"], src.as_str());
    assert_eq!(c.body["volume"]["volume_type"], "one");
    assert_eq!(
        c.body["volume"]["bootable"], "true",
        "bootable follows the source"
    );
    let snap = cloud
        .call(
            Method::POST,
            "/v3/snapshots",
            &member,
            Some(json!({"snapshot": {"volume_id": src}})),
        )
        .await;
    let sid = snap.body["snapshot"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    cloud.wait_snapshot(&sid, "available").await;
    let from_snap = cloud
        .volume(&member, json!({"volume": {"snapshot_id": sid, "size": 3}}))
        .await;
    let f = cloud
        .call(
            Method::GET,
            &format!("/v3/volumes/{from_snap}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(
        f.body["volume"]["os-vol-host-attr:host"],
        "node1@fake-1#fake-1"
    );
    assert_eq!(f.body["volume"]["snapshot_id"], sid.as_str());
    assert_eq!(f.body["volume"]["size"], 3);
    let too_small = cloud
        .call(
            Method::POST,
            "/v3/volumes",
            &member,
            Some(json!({"volume": {"snapshot_id": sid, "size": 1}})),
        )
        .await;
    assert_eq!(too_small.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        too_small.body["badRequest"]["message"],
        "Invalid input received: Volume size '1'GB cannot be smaller than the snapshot size 2GB. They must be >= original snapshot size."
    );
}

#[tokio::test]
async fn retype_in_place_or_not_at_all() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("ria").await;
    for (name, backend) in [("one", "fake-1"), ("one-too", "fake-1"), ("two", "fake-2")] {
        let r = cloud.call(Method::POST, "/v3/types", &cloud.admin, Some(json!({"volume_type": {"name": name, "extra_specs": {"volume_backend_name": backend}}}))).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let id = cloud
        .volume(
            &member,
            json!({"volume": {"size": 1, "volume_type": "one"}}),
        )
        .await;
    let action = format!("/v3/volumes/{id}/action");
    // Same backend: done in place.
    let r = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-retype": {"new_type": "one-too"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let mut shown = serde_json::Value::Null;
    for _ in 0..200 {
        shown = cloud
            .call(Method::GET, &format!("/v3/volumes/{id}"), &member, None)
            .await
            .body;
        if shown["volume"]["volume_type"] == "one-too" && shown["volume"]["status"] == "available" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(shown["volume"]["volume_type"], "one-too");
    assert_eq!(shown["volume"]["status"], "available");
    // Another backend would need a migration: the volume stays as it was.
    let r = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-retype": {"new_type": "two", "migration_policy": "on-demand"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let back = cloud.wait_volume(&id, "available").await;
    assert_eq!(back["volume_type"], "one-too");
    // Bad requests.
    let same = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-retype": {"new_type": "one-too"}})),
        )
        .await;
    assert_eq!(same.status, StatusCode::BAD_REQUEST);
    assert!(same.body["badRequest"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("Invalid volume: Retype needs volume")));
    let unknown = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-retype": {"new_type": "nope"}})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        unknown.body["badRequest"]["message"],
        "Invalid input received: Invalid volume_type passed: nope."
    );
    let policy = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-retype": {"new_type": "one", "migration_policy": "always"}})),
        )
        .await;
    assert_eq!(policy.status, StatusCode::BAD_REQUEST);
    let missing = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-retype": {}})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn image_metadata_actions() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("uma").await;
    let id = cloud.volume(&member, json!({"volume": {"size": 1}})).await;
    let action = format!("/v3/volumes/{id}/action");
    let set = cloud.call(Method::POST, &action, &member, Some(json!({"os-set_image_metadata": {"metadata": {"image_name": "cirros", "hw_disk_bus": "virtio"}}}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(
        set.body["metadata"],
        json!({"image_name": "cirros", "hw_disk_bus": "virtio"})
    );
    let shown = cloud
        .call(Method::GET, &format!("/v3/volumes/{id}"), &member, None)
        .await;
    assert_eq!(
        shown.body["volume"]["volume_image_metadata"]["image_name"],
        "cirros"
    );
    let unset = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-unset_image_metadata": {"key": "hw_disk_bus"}})),
        )
        .await;
    assert_eq!(unset.status, StatusCode::OK);
    let again = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-unset_image_metadata": {"key": "hw_disk_bus"}})),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let show = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-show_image_metadata": null})),
        )
        .await;
    assert_eq!(show.body["metadata"], json!({"image_name": "cirros"}));
    let bad = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"os-set_image_metadata": {"metadata": {"k": 1}}})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
