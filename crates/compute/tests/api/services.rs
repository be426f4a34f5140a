//! Services: registration and heartbeats (as the conductor records them), the services API
//! before and after 2.53, and deleting compute services.

use crate::quotas::insert_instance;
use crate::support::Cloud;
use http::{Method, StatusCode};
use monostack_compute::db::compute_nodes::{self as node_db, ComputeNode, NodeReport};
use monostack_compute::db::services::{self as service_db, Service};
use monostack_compute::ComputeService;
use serde_json::json;

/// A compute host as a starting compute agent leaves it: its nova-compute service (one
/// heartbeat) and one hypervisor named `<host>-node`.
pub async fn compute_host(svc: &ComputeService, host: &str) -> (Service, ComputeNode) {
    let service = service_db::register(&svc.db, host, "nova-compute", "compute", 66).await.expect("register");
    assert!(service_db::heartbeat(&svc.db, service.id).await.expect("heartbeat"));
    let node = node_db::upsert(&svc.db, &report(host, Some(service.id), 2)).await.expect("node");
    let service = service_db::by_id(&svc.db, service.id).await.expect("db").expect("service");
    (service, node)
}

pub fn report(host: &str, service_id: Option<i64>, vcpus_used: i64) -> NodeReport {
    NodeReport {
        uuid: None,
        service_id,
        host: host.into(),
        hypervisor_hostname: format!("{host}-node"),
        hypervisor_type: "fake".into(),
        hypervisor_version: 1000,
        host_ip: Some("192.0.2.10".into()),
        vcpus: 32,
        memory_mb: 65536,
        local_gb: 1000,
        vcpus_used,
        memory_mb_used: 1024,
        local_gb_used: 10,
        running_vms: 1,
        current_workload: 0,
        disk_available_least: Some(900),
        cpu_info: json!({"arch": "x86_64", "model": "fake", "vendor": "fake", "features": [], "topology": {"cores": 16, "sockets": 1, "threads": 2}}).to_string(),
        cpu_allocation_ratio: 16.0,
        ram_allocation_ratio: 1.5,
        disk_allocation_ratio: 1.0,
        stats: serde_json::Map::from_iter([("uptime".to_string(), json!(" 10:00:00 up 1 day,  1 user,  load average: 0.00, 0.00, 0.00"))]),
    }
}

#[tokio::test]
async fn register_heartbeat_and_upsert_are_idempotent() {
    let cloud = Cloud::start().await;
    let svc = &cloud.compute;
    let first = service_db::register(&svc.db, "h1", "nova-compute", "compute", 1).await.expect("register");
    let again = service_db::register(&svc.db, "h1", "nova-compute", "compute", 2).await.expect("register again");
    assert_eq!((first.id, first.uuid.clone()), (again.id, again.uuid.clone()));
    assert_eq!(again.version, 2);
    assert!(!service_db::is_up(&first, 60, monostack_common::time::now_micros() + 61_000_000));
    for _ in 0..3 {
        assert!(service_db::heartbeat(&svc.db, first.id).await.expect("heartbeat"));
    }
    let seen = service_db::by_id(&svc.db, first.id).await.expect("db").expect("service");
    assert_eq!(seen.report_count, 3);
    assert!(service_db::is_up(&seen, 60, monostack_common::time::now_micros()));
    let conductor = service_db::register(&svc.db, "h1", "nova-conductor", "conductor", 1).await.expect("conductor");
    assert_ne!(conductor.id, first.id);

    let node = node_db::upsert(&svc.db, &report("h1", Some(first.id), 2)).await.expect("node");
    let updated = node_db::upsert(&svc.db, &report("h1", Some(first.id), 5)).await.expect("node again");
    assert_eq!((node.id, node.uuid.clone()), (updated.id, updated.uuid.clone()));
    assert_eq!((updated.vcpus_used, updated.free_ram_mb), (5, 65536 - 1024));
    assert_eq!(node_db::list(&svc.db).await.expect("list").len(), 1);

    // Concurrent first registrations meet on the same row.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let svc = svc.clone();
            tokio::spawn(async move { service_db::register(&svc.db, "h2", "nova-compute", "compute", 1).await.expect("register").id })
        })
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.expect("task"));
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
}

#[tokio::test]
async fn list_filters_and_views() {
    let cloud = Cloud::start().await;
    let svc = &cloud.compute;
    let (compute, _) = compute_host(svc, "c1").await;
    service_db::register(&svc.db, "ctl", "nova-conductor", "conductor", 1).await.expect("conductor");
    let listed = cloud.call(Method::GET, "/v2.1/os-services", &cloud.admin, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let services = listed.body["services"].as_array().cloned().unwrap_or_default();
    assert_eq!(services.len(), 2);
    let c = &services[0];
    assert_eq!((c["binary"].as_str(), c["host"].as_str(), c["zone"].as_str()), (Some("nova-compute"), Some("c1"), Some("nova")));
    assert_eq!((c["status"].as_str(), c["state"].as_str(), c["id"].as_i64()), (Some("enabled"), Some("up"), Some(compute.id)));
    assert!(c.get("forced_down").is_none());
    assert_eq!(services[1]["zone"], "internal");
    assert_eq!(services[1]["state"], "up", "a service that never reported is judged by its creation, as Nova does");
    sqlx::query(&svc.db.sql("UPDATE services SET last_seen_up = ? WHERE binary_name = 'nova-conductor'"))
        .bind(monostack_common::time::now_micros() - 61_000_000)
        .execute(&svc.db.pool)
        .await
        .expect("age the heartbeat");
    let stale = cloud.call(Method::GET, "/v2.1/os-services?binary=nova-conductor", &cloud.admin, None).await;
    assert_eq!(stale.body["services"][0]["state"], "down", "last heartbeat older than service_down_time");

    let by_binary = cloud.call_at(Some("2.11"), Method::GET, "/v2.1/os-services?binary=nova-conductor", &cloud.admin, None).await;
    assert_eq!(by_binary.body["services"].as_array().map(Vec::len), Some(1));
    assert_eq!(by_binary.body["services"][0]["forced_down"], false);
    let by_host = cloud.call_at(Some("2.53"), Method::GET, "/v2.1/os-services?host=c1", &cloud.admin, None).await;
    assert_eq!(by_host.body["services"][0]["id"], compute.uuid.as_str());
    let strict = cloud.call_at(Some("2.75"), Method::GET, "/v2.1/os-services?zone=nova", &cloud.admin, None).await;
    assert_eq!(strict.status, StatusCode::BAD_REQUEST);
    let (_, _, member) = cloud.member("ops").await;
    let denied = cloud.call(Method::GET, "/v2.1/os-services", &member, None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn enable_disable_and_force_down_before_2_53() {
    let cloud = Cloud::start().await;
    compute_host(&cloud.compute, "c1").await;
    let body = json!({"host": "c1", "binary": "nova-compute"});
    let disabled = cloud.call(Method::PUT, "/v2.1/os-services/disable", &cloud.admin, Some(body.clone())).await;
    assert_eq!(disabled.body, json!({"service": {"host": "c1", "binary": "nova-compute", "status": "disabled"}}));
    let reason = cloud
        .call(Method::PUT, "/v2.1/os-services/disable-log-reason", &cloud.admin, Some(json!({"host": "c1", "binary": "nova-compute", "disabled_reason": "maintenance"})))
        .await;
    assert_eq!(reason.body["service"]["disabled_reason"], "maintenance");
    let listed = cloud.call(Method::GET, "/v2.1/os-services?host=c1", &cloud.admin, None).await;
    assert_eq!((listed.body["services"][0]["status"].as_str(), listed.body["services"][0]["disabled_reason"].as_str()), (Some("disabled"), Some("maintenance")));
    let missing_reason = cloud.call(Method::PUT, "/v2.1/os-services/disable-log-reason", &cloud.admin, Some(body.clone())).await;
    assert_eq!(missing_reason.body["badRequest"]["message"], "Missing disabled reason field");
    let enabled = cloud.call(Method::PUT, "/v2.1/os-services/enable", &cloud.admin, Some(body.clone())).await;
    assert_eq!(enabled.body["service"]["status"], "enabled");

    let too_early = cloud.call_at(Some("2.10"), Method::PUT, "/v2.1/os-services/force-down", &cloud.admin, Some(body.clone())).await;
    assert_eq!(too_early.status, StatusCode::NOT_FOUND);
    let down = cloud.call_at(Some("2.11"), Method::PUT, "/v2.1/os-services/force-down", &cloud.admin, Some(json!({"host": "c1", "binary": "nova-compute", "forced_down": true}))).await;
    assert_eq!(down.body, json!({"service": {"host": "c1", "binary": "nova-compute", "forced_down": true}}));
    let state = cloud.call_at(Some("2.11"), Method::GET, "/v2.1/os-services?host=c1", &cloud.admin, None).await;
    assert_eq!((state.body["services"][0]["state"].as_str(), state.body["services"][0]["forced_down"].as_bool()), (Some("down"), Some(true)));

    let unknown_host = cloud.call(Method::PUT, "/v2.1/os-services/enable", &cloud.admin, Some(json!({"host": "nowhere", "binary": "nova-compute"}))).await;
    assert_eq!(unknown_host.body["itemNotFound"]["message"], "Could not find binary nova-compute on host nowhere.");
    let not_compute = cloud.call(Method::PUT, "/v2.1/os-services/enable", &cloud.admin, Some(json!({"host": "c1", "binary": "nova-scheduler"}))).await;
    assert_eq!(not_compute.status, StatusCode::BAD_REQUEST);
    let no_action = cloud.call(Method::PUT, "/v2.1/os-services/frobnicate", &cloud.admin, Some(body.clone())).await;
    assert_eq!(no_action.body["itemNotFound"]["message"], "Unknown action");
    let no_host = cloud.call(Method::PUT, "/v2.1/os-services/enable", &cloud.admin, Some(json!({"binary": "nova-compute"}))).await;
    assert_eq!(no_host.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn update_by_uuid_from_2_53() {
    let cloud = Cloud::start().await;
    let (compute, _) = compute_host(&cloud.compute, "c1").await;
    let conductor = service_db::register(&cloud.compute.db, "ctl", "nova-conductor", "conductor", 1).await.expect("conductor");
    let url = format!("/v2.1/os-services/{}", compute.uuid);
    let disabled = cloud.call_at(Some("2.53"), Method::PUT, &url, &cloud.admin, Some(json!({"status": "disabled", "disabled_reason": "upgrade"}))).await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    let s = &disabled.body["service"];
    assert_eq!((s["id"].as_str(), s["status"].as_str(), s["disabled_reason"].as_str(), s["forced_down"].as_bool()), (Some(compute.uuid.as_str()), Some("disabled"), Some("upgrade"), Some(false)));
    let contradiction = cloud.call_at(Some("2.53"), Method::PUT, &url, &cloud.admin, Some(json!({"status": "enabled", "disabled_reason": "x"}))).await;
    assert_eq!(contradiction.status, StatusCode::BAD_REQUEST);
    let nothing = cloud.call_at(Some("2.53"), Method::PUT, &url, &cloud.admin, Some(json!({}))).await;
    assert_eq!(nothing.body["badRequest"]["message"], "No updates were requested. Fields 'status' or 'forced_down' should be specified.");
    let forced = cloud.call_at(Some("2.53"), Method::PUT, &url, &cloud.admin, Some(json!({"status": "enabled", "forced_down": true}))).await;
    assert_eq!((forced.body["service"]["status"].as_str(), forced.body["service"]["state"].as_str()), (Some("enabled"), Some("down")));
    let bad_uuid = cloud.call_at(Some("2.53"), Method::PUT, "/v2.1/os-services/12", &cloud.admin, Some(json!({"status": "enabled"}))).await;
    assert_eq!(bad_uuid.body["badRequest"]["message"], "Invalid uuid 12");
    let unknown = cloud.call_at(Some("2.53"), Method::PUT, &format!("/v2.1/os-services/{}", uuid::Uuid::new_v4()), &cloud.admin, Some(json!({"status": "enabled"}))).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let scheduler = cloud.call_at(Some("2.53"), Method::PUT, &format!("/v2.1/os-services/{}", conductor.uuid), &cloud.admin, Some(json!({"status": "disabled"}))).await;
    assert_eq!(scheduler.body["badRequest"]["message"], "Updating a nova-conductor service is not supported. Only nova-compute services can be updated.");
    let bad_status = cloud.call_at(Some("2.53"), Method::PUT, &url, &cloud.admin, Some(json!({"status": "sleeping"}))).await;
    assert_eq!(bad_status.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn delete_refuses_busy_compute_services() {
    let cloud = Cloud::start().await;
    let svc = &cloud.compute;
    let (busy, _) = compute_host(svc, "busy").await;
    let (idle, _) = compute_host(svc, "idle").await;
    let (user, project, _) = cloud.member("owner").await;
    insert_instance(svc, &project, &user, 1, 64, Some("busy")).await;
    let agg = cloud.call(Method::POST, "/v2.1/os-aggregates", &cloud.admin, Some(json!({"aggregate": {"name": "a"}}))).await;
    let agg_id = agg.body["aggregate"]["id"].as_i64().unwrap_or_default();
    let added = cloud.call(Method::POST, &format!("/v2.1/os-aggregates/{agg_id}/action"), &cloud.admin, Some(json!({"add_host": {"host": "idle"}}))).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);

    let refused = cloud.call(Method::DELETE, &format!("/v2.1/os-services/{}", busy.id), &cloud.admin, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.body["conflictingRequest"]["message"], "Unable to delete compute service that is hosting instances. Migrate or delete the instances first.");
    let deleted = cloud.call(Method::DELETE, &format!("/v2.1/os-services/{}", idle.id), &cloud.admin, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let agg_now = cloud.call(Method::GET, &format!("/v2.1/os-aggregates/{agg_id}"), &cloud.admin, None).await;
    assert_eq!(agg_now.body["aggregate"]["hosts"], json!([]), "the host left its aggregates");
    assert!(node_db::by_host(&svc.db, "idle").await.expect("db").is_empty(), "its nodes went with it");
    let again = cloud.call(Method::DELETE, &format!("/v2.1/os-services/{}", idle.id), &cloud.admin, None).await;
    assert_eq!(again.body["itemNotFound"]["message"], format!("Service {} not found.", idle.id));
    let by_uuid_old = cloud.call(Method::DELETE, &format!("/v2.1/os-services/{}", busy.uuid), &cloud.admin, None).await;
    assert_eq!(by_uuid_old.status, StatusCode::BAD_REQUEST, "integer ids before 2.53");
    let by_int_new = cloud.call_at(Some("2.53"), Method::DELETE, &format!("/v2.1/os-services/{}", busy.id), &cloud.admin, None).await;
    assert_eq!(by_int_new.status, StatusCode::BAD_REQUEST, "uuids from 2.53");
    let conductor = service_db::register(&svc.db, "ctl", "nova-conductor", "conductor", 1).await.expect("conductor");
    let other = cloud.call_at(Some("2.53"), Method::DELETE, &format!("/v2.1/os-services/{}", conductor.uuid), &cloud.admin, None).await;
    assert_eq!(other.status, StatusCode::NO_CONTENT);
}
