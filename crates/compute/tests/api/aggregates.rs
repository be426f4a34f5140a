//! Host aggregates and the availability zones they make.

use crate::quotas::insert_instance;
use crate::services::compute_host;
use crate::support::Cloud;
use http::{Method, StatusCode};
use monostack_compute::db::services as service_db;
use serde_json::{json, Value};

async fn create(cloud: &Cloud, body: Value) -> i64 {
    let r = cloud.call(Method::POST, "/v2.1/os-aggregates", &cloud.admin, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["aggregate"]["id"].as_i64().unwrap_or_default()
}

async fn act(cloud: &Cloud, id: i64, body: Value) -> crate::support::Resp {
    cloud.call(Method::POST, &format!("/v2.1/os-aggregates/{id}/action"), &cloud.admin, Some(body)).await
}

#[tokio::test]
async fn crud_and_views() {
    let cloud = Cloud::start().await;
    let created = cloud.call(Method::POST, "/v2.1/os-aggregates", &cloud.admin, Some(json!({"aggregate": {"name": "rack1", "availability_zone": "az1"}}))).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let a = &created.body["aggregate"];
    assert_eq!((a["name"].as_str(), a["availability_zone"].as_str(), a["deleted"].as_bool()), (Some("rack1"), Some("az1"), Some(false)));
    assert!(a.get("hosts").is_none() && a.get("metadata").is_none() && a.get("uuid").is_none());
    let id = a["id"].as_i64().unwrap_or_default();

    let dup = cloud.call(Method::POST, "/v2.1/os-aggregates", &cloud.admin, Some(json!({"aggregate": {"name": "rack1"}}))).await;
    assert_eq!(dup.body["conflictingRequest"]["message"], "Aggregate rack1 already exists.");
    for bad in [json!({"aggregate": {"name": ""}}), json!({"aggregate": {"name": "x", "availability_zone": "a:b"}}), json!({"aggregate": {}}), json!({"aggregate": {"name": "x", "hosts": []}})] {
        let r = cloud.call(Method::POST, "/v2.1/os-aggregates", &cloud.admin, Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    let shown = cloud.call_at(Some("2.41"), Method::GET, &format!("/v2.1/os-aggregates/{id}"), &cloud.admin, None).await;
    assert_eq!(shown.body["aggregate"]["metadata"], json!({"availability_zone": "az1"}));
    assert!(shown.body["aggregate"]["uuid"].as_str().is_some_and(|u| uuid::Uuid::parse_str(u).is_ok()));
    let listed = cloud.call(Method::GET, "/v2.1/os-aggregates", &cloud.admin, None).await;
    assert_eq!(listed.body["aggregates"].as_array().map(Vec::len), Some(1));

    let renamed = cloud.call(Method::PUT, &format!("/v2.1/os-aggregates/{id}"), &cloud.admin, Some(json!({"aggregate": {"name": "rack-1", "availability_zone": "az2"}}))).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!((renamed.body["aggregate"]["name"].as_str(), renamed.body["aggregate"]["availability_zone"].as_str()), (Some("rack-1"), Some("az2")));
    let empty_update = cloud.call(Method::PUT, &format!("/v2.1/os-aggregates/{id}"), &cloud.admin, Some(json!({"aggregate": {}}))).await;
    assert_eq!(empty_update.status, StatusCode::BAD_REQUEST);
    let null_zone = cloud.call(Method::PUT, &format!("/v2.1/os-aggregates/{id}"), &cloud.admin, Some(json!({"aggregate": {"availability_zone": null}}))).await;
    assert_eq!(null_zone.status, StatusCode::BAD_REQUEST);

    let meta = act(&cloud, id, json!({"set_metadata": {"metadata": {"ssd": "true", "gpu": "1"}}})).await;
    assert_eq!(meta.body["aggregate"]["metadata"], json!({"availability_zone": "az2", "ssd": "true", "gpu": "1"}));
    let removed = act(&cloud, id, json!({"set_metadata": {"metadata": {"gpu": null}}})).await;
    assert_eq!(removed.body["aggregate"]["metadata"], json!({"availability_zone": "az2", "ssd": "true"}));
    let unnamed_zone = act(&cloud, id, json!({"set_metadata": {"metadata": {"availability_zone": null}}})).await;
    assert_eq!(unnamed_zone.status, StatusCode::BAD_REQUEST);

    let bad_id = cloud.call(Method::GET, "/v2.1/os-aggregates/abc", &cloud.admin, None).await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    let missing = cloud.call(Method::GET, "/v2.1/os-aggregates/999", &cloud.admin, None).await;
    assert_eq!(missing.body["itemNotFound"]["message"], "Aggregate 999 could not be found.");
    let (_, _, member) = cloud.member("mo").await;
    let denied = cloud.call(Method::GET, "/v2.1/os-aggregates", &member, None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    let deleted = cloud.call(Method::DELETE, &format!("/v2.1/os-aggregates/{id}"), &cloud.admin, None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    let gone = cloud.call(Method::GET, &format!("/v2.1/os-aggregates/{id}"), &cloud.admin, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let reuse = cloud.call(Method::POST, "/v2.1/os-aggregates", &cloud.admin, Some(json!({"aggregate": {"name": "rack-1"}}))).await;
    assert_eq!(reuse.status, StatusCode::OK, "a deleted aggregate's name is free again");
}

#[tokio::test]
async fn hosts_and_zone_rules() {
    let cloud = Cloud::start().await;
    compute_host(&cloud.compute, "c1").await;
    compute_host(&cloud.compute, "c2").await;
    let az1 = create(&cloud, json!({"aggregate": {"name": "one", "availability_zone": "az1"}})).await;
    let az2 = create(&cloud, json!({"aggregate": {"name": "two", "availability_zone": "az2"}})).await;
    let plain = create(&cloud, json!({"aggregate": {"name": "plain"}})).await;

    let added = act(&cloud, az1, json!({"add_host": {"host": "c1"}})).await;
    assert_eq!(added.body["aggregate"]["hosts"], json!(["c1"]));
    let twice = act(&cloud, az1, json!({"add_host": {"host": "c1"}})).await;
    assert_eq!(twice.body["conflictingRequest"]["message"], format!("Aggregate {az1} already has host c1."));
    let other_zone = act(&cloud, az2, json!({"add_host": {"host": "c1"}})).await;
    assert_eq!(other_zone.status, StatusCode::CONFLICT);
    assert_eq!(
        other_zone.body["conflictingRequest"]["message"],
        format!("Cannot add host to aggregate {az2}. Reason: One or more hosts already in availability zone(s) ['az1'].")
    );
    let no_zone = act(&cloud, plain, json!({"add_host": {"host": "c1"}})).await;
    assert_eq!(no_zone.status, StatusCode::OK, "an aggregate without a zone takes any host");
    let not_compute = act(&cloud, az1, json!({"add_host": {"host": "ghost"}})).await;
    assert_eq!(not_compute.body["itemNotFound"]["message"], "Compute host ghost could not be found.");
    let bad_host = act(&cloud, az1, json!({"add_host": {"host": "bad host"}})).await;
    assert_eq!(bad_host.status, StatusCode::BAD_REQUEST);
    let zone_clash = act(&cloud, plain, json!({"set_metadata": {"metadata": {"availability_zone": "az2"}}})).await;
    assert_eq!(zone_clash.status, StatusCode::BAD_REQUEST, "c1 is in az1 through another aggregate");

    let not_empty = cloud.call(Method::DELETE, &format!("/v2.1/os-aggregates/{az1}"), &cloud.admin, None).await;
    assert_eq!(not_empty.body["badRequest"]["message"], format!("Cannot remove host from aggregate {az1}. Reason: Host aggregate is not empty."));

    // A host with servers may not change zone.
    let (user, project, _) = cloud.member("zoe").await;
    insert_instance(&cloud.compute, &project, &user, 1, 64, Some("c2")).await;
    let moving = act(&cloud, az2, json!({"add_host": {"host": "c2"}})).await;
    assert_eq!(moving.status, StatusCode::CONFLICT);
    assert!(moving.body["conflictingRequest"]["message"].as_str().is_some_and(|m| m.contains("would change from 'None' to 'az2'")), "{}", moving.body);
    let zone_change = act(&cloud, plain, json!({"set_metadata": {"metadata": {"availability_zone": "az1"}}})).await;
    assert_eq!(zone_change.status, StatusCode::OK, "c1 has no servers and already is in az1: {}", zone_change.body);

    let removed = act(&cloud, az1, json!({"remove_host": {"host": "c1"}})).await;
    assert_eq!(removed.body["aggregate"]["hosts"], json!([]));
    let not_member = act(&cloud, az1, json!({"remove_host": {"host": "c1"}})).await;
    assert_eq!(not_member.body["itemNotFound"]["message"], format!("Cannot remove host c1 in aggregate {az1}"));
    let unknown_action = act(&cloud, az1, json!({"reboot": {}})).await;
    assert_eq!(unknown_action.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn image_caching_is_checked_then_refused() {
    let cloud = Cloud::start().await;
    let id = create(&cloud, json!({"aggregate": {"name": "cache"}})).await;
    let url = format!("/v2.1/os-aggregates/{id}/images");
    let image = uuid::Uuid::new_v4().to_string();
    let old = cloud.call_at(Some("2.80"), Method::POST, &url, &cloud.admin, Some(json!({"cache": [{"id": image}]}))).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    let dup = cloud.call_at(Some("2.81"), Method::POST, &url, &cloud.admin, Some(json!({"cache": [{"id": image}, {"id": image}]}))).await;
    assert_eq!(dup.body["badRequest"]["message"], "Duplicate images in request");
    let bad = cloud.call_at(Some("2.81"), Method::POST, &url, &cloud.admin, Some(json!({"cache": [{"id": "not-a-uuid"}]}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let missing = cloud.call_at(Some("2.81"), Method::POST, "/v2.1/os-aggregates/999/images", &cloud.admin, Some(json!({"cache": [{"id": image}]}))).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let refused = cloud.call_at(Some("2.81"), Method::POST, &url, &cloud.admin, Some(json!({"cache": [{"id": image}]}))).await;
    assert_eq!(refused.status, StatusCode::NOT_IMPLEMENTED);
    assert!(refused.body["notImplemented"]["message"].is_string());
}

#[tokio::test]
async fn availability_zones_from_aggregates_and_services() {
    let cloud = Cloud::start().await;
    let svc = &cloud.compute;
    compute_host(svc, "c1").await;
    compute_host(svc, "c2").await;
    let (c3, _) = compute_host(svc, "c3").await;
    let conductor = service_db::register(&svc.db, "ctl", "nova-conductor", "conductor", 1).await.expect("conductor");
    service_db::heartbeat(&svc.db, conductor.id).await.expect("heartbeat");
    let az1 = create(&cloud, json!({"aggregate": {"name": "one", "availability_zone": "az1"}})).await;
    act(&cloud, az1, json!({"add_host": {"host": "c1"}})).await;
    let lonely = create(&cloud, json!({"aggregate": {"name": "lonely", "availability_zone": "az-off"}})).await;
    act(&cloud, lonely, json!({"add_host": {"host": "c3"}})).await;
    let mut c3_disabled = c3.clone();
    c3_disabled.disabled = true;
    service_db::save_state(&svc.db, &c3_disabled).await.expect("disable");

    let (_, _, member) = cloud.member("user").await;
    let zones = cloud.call(Method::GET, "/v2.1/os-availability-zone", &member, None).await;
    assert_eq!(zones.status, StatusCode::OK, "{}", zones.body);
    assert_eq!(
        zones.body["availabilityZoneInfo"],
        json!([
            {"zoneName": "az1", "zoneState": {"available": true}, "hosts": null},
            {"zoneName": "nova", "zoneState": {"available": true}, "hosts": null},
            {"zoneName": "az-off", "zoneState": {"available": false}, "hosts": null},
        ])
    );
    let denied = cloud.call(Method::GET, "/v2.1/os-availability-zone/detail", &member, None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let detail = cloud.call(Method::GET, "/v2.1/os-availability-zone/detail", &cloud.admin, None).await;
    let info = detail.body["availabilityZoneInfo"].as_array().cloned().unwrap_or_default();
    let zone = |name: &str| info.iter().find(|z| z["zoneName"] == name).cloned().unwrap_or_default();
    assert_eq!(zone("az1")["hosts"]["c1"]["nova-compute"]["available"], true);
    assert_eq!(zone("az1")["hosts"]["c1"]["nova-compute"]["active"], true);
    assert!(zone("nova")["hosts"]["c2"]["nova-compute"]["updated_at"].is_string());
    assert_eq!(zone("internal")["hosts"]["ctl"]["nova-conductor"]["available"], true, "detail shows the internal zone");
    assert_eq!(zone("az-off")["hosts"], Value::Null);
}
