//! Server metadata and tags, instance actions with their events, external events, and
//! deferred (soft) deletes.

use crate::servers::{add_compute_host, create_server, fault_message, listen, next_message, set_state, MV};
use crate::support::Cloud;
use http::{Method, StatusCode};
use monostack_compute::db::instance_actions::{self, EventResult};
use monostack_compute::rpc::compute::ComputeRequest;
use serde_json::{json, Value};
use std::sync::Arc;

#[tokio::test]
async fn metadata_crud_with_validation_state_and_quota() {
    let cloud = Cloud::start().await;
    let (_, project, t) = cloud.member("abe").await;
    let id = create_server(&cloud, &t, "meta").await;
    let path = format!("/v2.1/servers/{id}/metadata");
    let r = cloud.call_at(Some(MV), Method::POST, &path, &t, Some(json!({"metadata": {"a": "1"}}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "building servers refuse metadata changes: {}", r.body);
    assert_eq!(fault_message(&r), format!("Cannot 'update metadata' instance {id} while it is in vm_state building"));
    set_state(&cloud, &id, "active", None, Some("h")).await;
    let r = cloud.call_at(Some(MV), Method::POST, &path, &t, Some(json!({"metadata": {"a": "1", "b": "2"}}))).await;
    assert_eq!((r.status, r.body["metadata"].clone()), (StatusCode::OK, json!({"a": "1", "b": "2"})));
    let r = cloud.call_at(Some(MV), Method::POST, &path, &t, Some(json!({"metadata": {"c": "3"}}))).await;
    assert_eq!(r.body["metadata"], json!({"a": "1", "b": "2", "c": "3"}));
    let r = cloud.call_at(Some(MV), Method::PUT, &path, &t, Some(json!({"metadata": {"z": "26"}}))).await;
    assert_eq!(r.body["metadata"], json!({"z": "26"}));
    let r = cloud.call_at(Some(MV), Method::PUT, &format!("{path}/k"), &t, Some(json!({"meta": {"k": "v"}}))).await;
    assert_eq!((r.status, r.body.clone()), (StatusCode::OK, json!({"meta": {"k": "v"}})));
    let r = cloud.call_at(Some(MV), Method::GET, &format!("{path}/k"), &t, None).await;
    assert_eq!(r.body, json!({"meta": {"k": "v"}}));
    let r = cloud.call_at(Some(MV), Method::GET, &path, &t, None).await;
    assert_eq!(r.body, json!({"metadata": {"k": "v", "z": "26"}}));
    for (method, sub, body, status, message) in [
        (Method::PUT, "/k", json!({"meta": {"other": "v"}}), StatusCode::BAD_REQUEST, "Request body and URI mismatch"),
        (Method::PUT, "/k", json!({"meta": {"k": "v", "j": "w"}}), StatusCode::BAD_REQUEST, ""),
        (Method::POST, "", json!({"metadata": {"k": "x".repeat(256)}}), StatusCode::BAD_REQUEST, ""),
        (Method::POST, "", json!({"metadata": {"": "v"}}), StatusCode::BAD_REQUEST, ""),
        (Method::POST, "", json!({"meta": {}}), StatusCode::BAD_REQUEST, ""),
        (Method::GET, "/missing", Value::Null, StatusCode::NOT_FOUND, "Metadata item was not found"),
        (Method::DELETE, "/missing", Value::Null, StatusCode::NOT_FOUND, "Metadata item was not found"),
    ] {
        let body = (!body.is_null()).then_some(body);
        let r = cloud.call_at(Some(MV), method.clone(), &format!("{path}{sub}"), &t, body.clone()).await;
        assert_eq!(r.status, status, "{method} {sub} {body:?}: {}", r.body);
        if !message.is_empty() {
            assert_eq!(fault_message(&r), message);
        }
    }
    cloud.call(Method::PUT, &format!("/v2.1/os-quota-sets/{project}"), &cloud.admin, Some(json!({"quota_set": {"metadata_items": 2}}))).await;
    let r = cloud.call_at(Some(MV), Method::POST, &path, &t, Some(json!({"metadata": {"q": "1"}}))).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::FORBIDDEN, "Maximum number of metadata items exceeds 2".to_string()));
    let r = cloud.call_at(Some(MV), Method::DELETE, &format!("{path}/k"), &t, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let (_, _, other) = cloud.member("bea").await;
    assert_eq!(cloud.call_at(Some(MV), Method::GET, &path, &other, None).await.status, StatusCode::NOT_FOUND);
    let r = cloud.call_at(Some(MV), Method::POST, &format!("/v2.1/servers/{id}/action"), &t, Some(json!({"lock": null}))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let r = cloud.call_at(Some(MV), Method::POST, &path, &t, Some(json!({"metadata": {"z": "1"}}))).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::CONFLICT, format!("Instance {id} is locked")));
}

#[tokio::test]
async fn tags_crud_with_limits() {
    let cloud = Cloud::start().await;
    let (_, _, t) = cloud.member("cal").await;
    let id = create_server(&cloud, &t, "tagged").await;
    let path = format!("/v2.1/servers/{id}/tags");
    let r = cloud.call_at(Some(MV), Method::PUT, &format!("{path}/blue"), &t, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "building servers refuse tag changes");
    set_state(&cloud, &id, "active", None, Some("h")).await;
    assert_eq!(cloud.call_at(Some("2.25"), Method::GET, &path, &t, None).await.status, StatusCode::NOT_FOUND);
    let r = cloud.call_at(Some(MV), Method::PUT, &format!("{path}/blue"), &t, None).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.headers.get("location").is_some());
    let r = cloud.call_at(Some(MV), Method::PUT, &format!("{path}/blue"), &t, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "existing tags are accepted again");
    assert_eq!(cloud.call_at(Some(MV), Method::GET, &format!("{path}/blue"), &t, None).await.status, StatusCode::NO_CONTENT);
    let r = cloud.call_at(Some(MV), Method::GET, &format!("{path}/red"), &t, None).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::NOT_FOUND, format!("Server {id} has no tag 'red'")));
    let r = cloud.call_at(Some(MV), Method::PUT, &format!("{path}/a,b"), &t, None).await;
    assert!(fault_message(&r).starts_with("Tag 'a,b' is invalid."), "{}", r.body);
    let r = cloud.call_at(Some(MV), Method::PUT, &path, &t, Some(json!({"tags": ["x", "y", "x"]}))).await;
    assert_eq!(r.body["tags"], json!(["x", "y"]));
    let too_many: Vec<String> = (0..51).map(|n| format!("t{n}")).collect();
    let r = cloud.call_at(Some(MV), Method::PUT, &path, &t, Some(json!({"tags": too_many}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let fifty: Vec<String> = (0..50).map(|n| format!("t{n}")).collect();
    cloud.call_at(Some(MV), Method::PUT, &path, &t, Some(json!({"tags": fifty}))).await;
    let r = cloud.call_at(Some(MV), Method::PUT, &format!("{path}/one-more"), &t, None).await;
    assert_eq!(fault_message(&r), "The number of tags exceeded the per-server limit 50");
    let r = cloud.call_at(Some(MV), Method::DELETE, &format!("{path}/t0"), &t, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = cloud.call_at(Some(MV), Method::DELETE, &format!("{path}/t0"), &t, None).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::NOT_FOUND, format!("Instance {id} has no tag 't0'")));
    assert_eq!(cloud.call_at(Some(MV), Method::DELETE, &path, &t, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call_at(Some(MV), Method::GET, &path, &t, None).await.body, json!({"tags": []}));
}

#[tokio::test]
async fn instance_actions_show_events_by_role_and_microversion() {
    let cloud = Cloud::start().await;
    let (_, _, t) = cloud.member("dina").await;
    let id = create_server(&cloud, &t, "traced").await;
    set_state(&cloud, &id, "active", None, Some("host1")).await;
    let stop = cloud.call_at(Some(MV), Method::POST, &format!("/v2.1/servers/{id}/action"), &t, Some(json!({"os-stop": null}))).await;
    let stop_request = stop.headers.get("x-openstack-request-id").and_then(|v| v.to_str().ok()).expect("request id").to_string();
    let db = &cloud.compute.db;
    instance_actions::event_start(db, &id, &stop_request, "compute_stop_instance", Some("host1")).await.expect("event").expect("action");
    instance_actions::event_finish(db, &id, &stop_request, "compute_stop_instance", EventResult::Error, Some("it broke"), Some("Traceback ...")).await.expect("finish");
    let list_path = format!("/v2.1/servers/{id}/os-instance-actions");
    let list = cloud.call_at(Some(MV), Method::GET, &list_path, &t, None).await;
    let actions = list.body["instanceActions"].as_array().expect("actions").clone();
    assert_eq!(actions.len(), 2);
    assert_eq!((actions[0]["action"].clone(), actions[0]["request_id"].clone(), actions[0]["message"].clone()), (json!("stop"), json!(stop_request), json!("Error")));
    assert!(actions[0]["updated_at"].is_string());
    assert!(cloud.call_at(Some("2.57"), Method::GET, &list_path, &t, None).await.body["instanceActions"][0].get("updated_at").is_none());

    let show = format!("{list_path}/{stop_request}");
    let v250 = cloud.call_at(Some("2.50"), Method::GET, &show, &t, None).await;
    assert!(v250.body["instanceAction"].get("events").is_none(), "owners see events from 2.51");
    let owner = cloud.call_at(Some(MV), Method::GET, &show, &t, None).await.body["instanceAction"].clone();
    let event = &owner["events"][0];
    assert_eq!((event["event"].clone(), event["result"].clone()), (json!("compute_stop_instance"), json!("Error")));
    assert!(event.get("traceback").is_none() && event.get("host").is_none() && event.get("details").is_none());
    assert_eq!(event["hostId"].as_str().map(str::len), Some(56));
    let admin = cloud.call_at(Some(MV), Method::GET, &show, &cloud.admin, None).await.body["instanceAction"].clone();
    assert_eq!((admin["events"][0]["traceback"].clone(), admin["events"][0]["host"].clone(), admin["events"][0]["details"].clone()), (json!("Traceback ..."), json!("host1"), json!("it broke")));
    let admin_283 = cloud.call_at(Some("2.83"), Method::GET, &show, &cloud.admin, None).await.body["instanceAction"].clone();
    assert!(admin_283["events"][0].get("details").is_none());
    let r = cloud.call_at(Some(MV), Method::GET, &format!("{list_path}/req-nope"), &t, None).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::NOT_FOUND, "Action req-nope not found".to_string()));

    let page = cloud.call_at(Some(MV), Method::GET, &format!("{list_path}?limit=1"), &t, None).await;
    assert_eq!(page.body["instanceActions"].as_array().map(Vec::len), Some(1));
    assert!(page.body["links"][0]["href"].as_str().is_some_and(|h| h.contains(&format!("marker={stop_request}"))));
    let rest = cloud.call_at(Some(MV), Method::GET, &format!("{list_path}?marker={stop_request}"), &t, None).await;
    assert_eq!(rest.body["instanceActions"][0]["action"], "create");
    let bad = cloud.call_at(Some(MV), Method::GET, &format!("{list_path}?marker=req-nope"), &t, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = cloud.call_at(Some(MV), Method::GET, &format!("{list_path}?bogus=1"), &t, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let future = cloud.call_at(Some(MV), Method::GET, &format!("{list_path}?changes-since=2999-01-01T00:00:00Z"), &t, None).await;
    assert_eq!(future.body["instanceActions"], json!([]));

    set_state(&cloud, &id, "active", None, None).await;
    cloud.call_at(Some(MV), Method::DELETE, &format!("/v2.1/servers/{id}"), &t, None).await;
    assert_eq!(cloud.call_at(Some("2.20"), Method::GET, &list_path, &t, None).await.status, StatusCode::NOT_FOUND);
    let deleted = cloud.call_at(Some("2.21"), Method::GET, &list_path, &t, None).await;
    assert_eq!(deleted.body["instanceActions"][0]["action"], "delete", "{}", deleted.body);
}

#[tokio::test]
async fn external_events_are_forwarded_to_the_hosts() {
    let cloud = Cloud::start().await;
    let (_, _, t) = cloud.member("eve").await;
    add_compute_host(&cloud, "host1", true).await;
    let placed = create_server(&cloud, &t, "placed").await;
    let unplaced = create_server(&cloud, &t, "unplaced").await;
    set_state(&cloud, &placed, "active", None, Some("host1")).await;
    let mut agent = listen(&cloud, "compute", "host1").await;
    let missing = uuid::Uuid::new_v4().to_string();
    let events = json!({"events": [
        {"name": "network-vif-plugged", "server_uuid": placed, "tag": "port-1"},
        {"name": "network-changed", "server_uuid": unplaced},
        {"name": "network-vif-deleted", "server_uuid": missing},
    ]});
    let r = cloud.call_at(Some(MV), Method::POST, "/v2.1/os-server-external-events", &t, Some(events.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = cloud.call_at(Some(MV), Method::POST, "/v2.1/os-server-external-events", &cloud.admin, Some(events)).await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS, "{}", r.body);
    let codes: Vec<i64> = r.body["events"].as_array().expect("events").iter().filter_map(|e| e["code"].as_i64()).collect();
    assert_eq!(codes, vec![200, 422, 404]);
    assert_eq!(r.body["events"][0]["status"], "completed");
    match monostack_compute::rpc::decode::<ComputeRequest>(&next_message(&mut agent).await).expect("decode") {
        ComputeRequest::ExternalInstanceEvent(e) => {
            assert_eq!(e.instance_uuids, vec![placed.clone()]);
            assert_eq!((e.events[0].name.as_str(), e.events[0].tag.as_deref()), ("network-vif-plugged", Some("port-1")));
        }
        other => panic!("unexpected {other:?}"),
    }
    let ok = json!({"events": [{"name": "network-changed", "server_uuid": placed}]});
    let r = cloud.call_at(Some(MV), Method::POST, "/v2.1/os-server-external-events", &cloud.admin, Some(ok)).await;
    assert_eq!(r.status, StatusCode::OK);
    for bad in [
        json!({"events": []}),
        json!({"events": [{"name": "power-update", "server_uuid": placed}]}),
        json!({"events": [{"name": "network-changed"}]}),
        json!({"events": [{"name": "network-changed", "server_uuid": placed, "extra": 1}]}),
    ] {
        let r = cloud.call_at(Some("2.75"), Method::POST, "/v2.1/os-server-external-events", &cloud.admin, Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
    let untagged = json!({"events": [{"name": "power-update", "server_uuid": placed}]});
    let r = cloud.call_at(Some("2.76"), Method::POST, "/v2.1/os-server-external-events", &cloud.admin, Some(untagged)).await;
    assert_eq!((r.status, r.body["events"][0]["code"].clone()), (StatusCode::MULTI_STATUS, json!(400)));
}

#[tokio::test]
async fn deferred_delete_soft_deletes_restores_and_force_deletes() {
    let cloud = Cloud::start().await;
    let (_, _, t) = cloud.member("finn").await;
    add_compute_host(&cloud, "host1", true).await;
    let id = create_server(&cloud, &t, "soft").await;
    set_state(&cloud, &id, "active", None, Some("host1")).await;
    // A second service on the same database, configured to keep deleted servers for an hour.
    let mut config = (*cloud.compute.config).clone();
    config.compute.reclaim_instance_interval = 3600;
    let bus: Arc<dyn monostack_bus::Bus> = Arc::new(cloud.bus.clone());
    let images = cloud.compute.images.clone();
    let soft = monostack_compute::ComputeService::open(Arc::new(config), bus, images).await.expect("open");
    let validator: monostack_auth::SharedValidator = Arc::new(monostack_identity::validator::LocalValidator(cloud.identity.identity.clone()));
    let router = monostack_common::server::with_common_layers(
        monostack_compute::api::router(soft, validator, "http://127.0.0.1:5000/v3"),
        monostack_common::FaultStyle::Compute,
        1 << 20,
    );
    let soft_cloud = crate::support::Cloud { router, ..cloud };
    let mut agent = listen(&soft_cloud, "compute", "host1").await;
    let d = soft_cloud.call_at(Some(MV), Method::DELETE, &format!("/v2.1/servers/{id}"), &t, None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.body);
    assert_eq!(next_message(&mut agent).await.method, "soft_delete_instance");
    let shown = soft_cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/{id}"), &t, None).await;
    assert_eq!(shown.body["server"]["OS-EXT-STS:task_state"], "soft-deleting");
    set_state(&soft_cloud, &id, "soft-delete", None, Some("host1")).await;
    let listed = soft_cloud.call_at(Some(MV), Method::GET, "/v2.1/servers", &t, None).await;
    assert_eq!(listed.body["servers"], json!([]), "soft-deleted servers leave the default listing");
    let action = format!("/v2.1/servers/{id}/action");
    let r = soft_cloud.call_at(Some(MV), Method::POST, &action, &t, Some(json!({"restore": null}))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(next_message(&mut agent).await.method, "restore_instance");
    set_state(&soft_cloud, &id, "soft-delete", None, Some("host1")).await;
    let r = soft_cloud.call_at(Some(MV), Method::POST, &action, &t, Some(json!({"forceDelete": null}))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(next_message(&mut agent).await.method, "terminate_instance");
}
