//! Live migration (scheduled, forced, failing) and evacuation from a host whose service is
//! forced down: the instance ends on the destination with its allocations moved, or stays on
//! the source with its allocations when the move fails.

use crate::support::{Cloud, TINY};
use http::{Method, StatusCode};
use monostack_compute_agent::drivers::fake::{FakeOperation, FaultRule};
use monostack_db::RowExt;
use serde_json::{json, Value};

fn host(server: &Value) -> String {
    server["OS-EXT-SRV-ATTR:host"].as_str().unwrap_or_default().to_string()
}

fn other(host: &str) -> &'static str {
    if host == "cn-1" {
        "cn-2"
    } else {
        "cn-1"
    }
}

async fn latest_migration(cloud: &Cloud, instance: &str) -> (String, String, String) {
    let db = &cloud.compute.db;
    let sql = db.sql("SELECT uuid, status, migration_type FROM migrations WHERE instance_uuid = ? ORDER BY id DESC");
    match sqlx::query(&sql).bind(instance).fetch_optional(&db.pool).await.unwrap() {
        Some(row) => (row.text("uuid").unwrap(), row.text("status").unwrap(), row.text("migration_type").unwrap()),
        None => Default::default(),
    }
}

/// Polls until the instance's latest migration has `status`.
async fn wait_migration(cloud: &Cloud, instance: &str, status: &str) -> String {
    for _ in 0..500 {
        let (uuid, current, _) = latest_migration(cloud, instance).await;
        if current == status {
            return uuid;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("migration of {instance} never reached {status}: {:?}", latest_migration(cloud, instance).await);
}

#[tokio::test]
async fn live_migration_moves_a_running_server_and_its_allocations() {
    let cloud = Cloud::start(2).await;
    let id = cloud.boot("live", "1").await;
    let before = cloud.wait_status(&id, "ACTIVE").await;
    cloud.action(&id, json!({"os-migrateLive": {"host": null, "block_migration": "auto"}})).await;
    let migration = wait_migration(&cloud, &id, "completed").await;
    let after = cloud.wait_status(&id, "ACTIVE").await;
    assert_eq!(host(&after), other(&host(&before)));
    assert_eq!(after["OS-EXT-STS:power_state"], 1);
    cloud.assert_allocated_on_own_host(&after, TINY).await;
    assert!(cloud.allocations(&migration).await.is_empty());
    let guests = cloud.driver.instances();
    assert_eq!(guests.len(), 1, "the source guest is gone");
    assert_eq!(guests[0].node, after["OS-EXT-SRV-ATTR:hypervisor_hostname"].as_str().unwrap());
    let events = cloud.events(&id, "live-migration").await;
    for event in ["conductor_live_migrate_instance", "compute_check_can_live_migrate_destination", "compute_pre_live_migration", "compute_live_migration", "compute_post_live_migration_at_destination"] {
        assert!(events.contains(&(event.to_string(), "Success".to_string())), "{event}: {events:?}");
    }
}

#[tokio::test]
async fn live_migration_to_a_forced_host_keeps_a_paused_server_paused() {
    let cloud = Cloud::start(2).await;
    let id = cloud.boot("paused", "1").await;
    let before = cloud.wait_status(&id, "ACTIVE").await;
    cloud.action(&id, json!({"pause": null})).await;
    cloud.wait_status(&id, "PAUSED").await;
    let target = other(&host(&before));
    cloud.action(&id, json!({"os-migrateLive": {"host": target, "block_migration": "auto", "force": true}})).await;
    wait_migration(&cloud, &id, "completed").await;
    let after = cloud.wait_status(&id, "PAUSED").await;
    assert_eq!(host(&after), target);
    assert_eq!(after["OS-EXT-STS:power_state"], 3);
    cloud.assert_allocated_on_own_host(&after, TINY).await;
}

#[tokio::test]
async fn a_failed_live_migration_leaves_the_server_on_its_source() {
    let cloud = Cloud::start(2).await;
    let id = cloud.boot("stay", "1").await;
    let before = cloud.wait_status(&id, "ACTIVE").await;
    cloud.driver.inject_fault(FaultRule::new(FakeOperation::LiveMigration));
    cloud.action(&id, json!({"os-migrateLive": {"host": null, "block_migration": "auto"}})).await;
    let migration = wait_migration(&cloud, &id, "error").await;
    let after = cloud.wait_status(&id, "ACTIVE").await;
    assert_eq!(host(&after), host(&before));
    cloud.assert_allocated_on_own_host(&after, TINY).await;
    assert!(cloud.allocations(&migration).await.is_empty());
    assert_eq!(cloud.driver.instances().len(), 1, "the destination was rolled back");
}

/// Forces the compute service of `host` down (2.53).
async fn force_down(cloud: &Cloud, host: &str, down: bool) {
    let list = cloud.call(Method::GET, &format!("/v2.1/os-services?host={host}&binary=nova-compute"), None).await;
    let service = list.body["services"][0]["id"].as_str().expect("service uuid").to_string();
    let r = cloud.call(Method::PUT, &format!("/v2.1/os-services/{service}"), Some(json!({"forced_down": down}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn evacuate_rebuilds_on_another_host_and_the_source_cleans_up_when_back() {
    let mut cloud = Cloud::start(2).await;
    let id = cloud.boot("refugee", "1").await;
    let before = cloud.wait_status(&id, "ACTIVE").await;
    let source = host(&before);
    let index = if source == "cn-1" { 0 } else { 1 };
    cloud.stop_host(index);
    force_down(&cloud, &source, true).await;
    cloud.action(&id, json!({"evacuate": {}})).await;
    let migration = wait_migration(&cloud, &id, "done").await;
    let after = cloud.wait_status(&id, "ACTIVE").await;
    assert_eq!(host(&after), other(&source));
    cloud.assert_allocated_on_own_host(&after, TINY).await;
    assert!(cloud.allocations(&migration).await.is_empty(), "the dead source's allocations are gone");
    let (_, _, kind) = latest_migration(&cloud, &id).await;
    assert_eq!(kind, "evacuation");
    let events = cloud.events(&id, "evacuate").await;
    assert!(events.contains(&("compute_rebuild_instance".into(), "Success".into())), "{events:?}");
    assert_eq!(cloud.driver.instances().len(), 2, "the source's guest is still there while it is down");

    cloud.restart_host(index).await;
    assert_eq!(cloud.driver.instances().len(), 1, "the restarted source destroyed the evacuated guest");
    assert_eq!(latest_migration(&cloud, &id).await.1, "completed");
    force_down(&cloud, &source, false).await;
}

#[tokio::test]
async fn deleting_a_server_on_a_down_host_frees_its_allocations() {
    // Nova's _local_delete: nobody can cast to the host, so the API deletes the server itself
    // and its placement allocations must not outlive it.
    let cloud = Cloud::start(2).await;
    let id = cloud.boot("stranded", "1").await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    let source = host(&server);
    cloud.stop_host(if source == "cn-1" { 0 } else { 1 });
    force_down(&cloud, &source, true).await;
    assert!(!cloud.allocations(&id).await.is_empty());
    let r = cloud.call(Method::DELETE, &format!("/v2.1/servers/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    cloud.wait_gone(&id).await;
    cloud.wait_no_allocations(&id).await;
}
