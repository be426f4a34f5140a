//! Cold migration and resize, confirmed or reverted: the instance ends on the right host with
//! the right flavor, and placement holds exactly its allocations (the migration's source
//! allocations gone).

use crate::support::{Cloud, SMALL, TINY};
use http::Method;
use monostack_db::RowExt;
use serde_json::{json, Value};

/// The uuid and status of the instance's latest migration.
async fn latest_migration(cloud: &Cloud, instance: &str) -> (String, String) {
    let db = &cloud.compute.db;
    let row = sqlx::query(&db.sql("SELECT uuid, status FROM migrations WHERE instance_uuid = ? ORDER BY id DESC")).bind(instance).fetch_one(&db.pool).await.unwrap();
    (row.text("uuid").unwrap(), row.text("status").unwrap())
}

fn host(server: &Value) -> String {
    server["OS-EXT-SRV-ATTR:host"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn resize_to_another_host_then_confirm() {
    let cloud = Cloud::start(2).await;
    let id = cloud.boot("grow", "1").await;
    let before = cloud.wait_status(&id, "ACTIVE").await;
    cloud.action(&id, json!({"resize": {"flavorRef": "2"}})).await;
    let resized = cloud.wait_status(&id, "VERIFY_RESIZE").await;
    assert_eq!(resized["OS-EXT-STS:vm_state"], "resized");
    assert_ne!(host(&resized), host(&before), "allow_resize_to_same_host is off");
    assert_eq!(resized["flavor"]["original_name"], "m1.small");
    cloud.assert_allocated_on_own_host(&resized, SMALL).await;
    let (migration, status) = latest_migration(&cloud, &id).await;
    assert_eq!(status, "finished");
    let source_node = cloud.node_uuid(&host(&before)).await;
    assert_eq!(cloud.allocations(&migration).await.keys().collect::<Vec<_>>(), vec![&source_node], "the migration holds the source");
    assert_eq!(cloud.driver.instances().len(), 2, "source copy kept until confirm");

    cloud.action(&id, json!({"confirmResize": null})).await;
    let confirmed = cloud.wait_status(&id, "ACTIVE").await;
    assert_eq!(host(&confirmed), host(&resized));
    cloud.assert_allocated_on_own_host(&confirmed, SMALL).await;
    assert!(cloud.allocations(&migration).await.is_empty());
    assert_eq!(latest_migration(&cloud, &id).await.1, "confirmed");
    assert_eq!(cloud.driver.instances().len(), 1, "source copy removed");
    let events = cloud.events(&id, "resize").await;
    for event in ["conductor_migrate_server", "compute_prep_resize", "compute_resize_instance", "compute_finish_resize"] {
        assert!(events.contains(&(event.to_string(), "Success".to_string())), "{event}: {events:?}");
    }
}

#[tokio::test]
async fn resize_then_revert_returns_to_the_source() {
    let cloud = Cloud::start(2).await;
    let id = cloud.boot("undo", "1").await;
    let before = cloud.wait_status(&id, "ACTIVE").await;
    cloud.action(&id, json!({"resize": {"flavorRef": "2"}})).await;
    cloud.wait_status(&id, "VERIFY_RESIZE").await;
    let (migration, _) = latest_migration(&cloud, &id).await;
    cloud.action(&id, json!({"revertResize": null})).await;
    let reverted = cloud.wait_status(&id, "ACTIVE").await;
    assert_eq!(host(&reverted), host(&before));
    assert_eq!(reverted["flavor"]["original_name"], "m1.tiny");
    assert_eq!(reverted["OS-EXT-STS:power_state"], 1);
    cloud.assert_allocated_on_own_host(&reverted, TINY).await;
    assert!(cloud.allocations(&migration).await.is_empty());
    assert_eq!(latest_migration(&cloud, &id).await.1, "reverted");
    assert_eq!(cloud.driver.instances().len(), 1);
}

#[tokio::test]
async fn cold_migration_moves_a_stopped_server_and_keeps_it_stopped() {
    let cloud = Cloud::start(2).await;
    let id = cloud.boot("mover", "1").await;
    let before = cloud.wait_status(&id, "ACTIVE").await;
    cloud.action(&id, json!({"os-stop": null})).await;
    cloud.wait_status(&id, "SHUTOFF").await;
    cloud.action(&id, json!({"migrate": null})).await;
    let moved = cloud.wait_status(&id, "VERIFY_RESIZE").await;
    assert_ne!(host(&moved), host(&before));
    assert_eq!(moved["OS-EXT-STS:power_state"], 4);
    assert_eq!(latest_migration(&cloud, &id).await.1, "finished");
    cloud.action(&id, json!({"confirmResize": null})).await;
    let done = cloud.wait_status(&id, "SHUTOFF").await;
    cloud.assert_allocated_on_own_host(&done, TINY).await;
}

#[tokio::test]
async fn resize_on_one_host_needs_allow_resize_to_same_host() {
    let cloud = Cloud::start(1).await;
    let id = cloud.boot("alone", "1").await;
    cloud.wait_status(&id, "ACTIVE").await;
    cloud.action(&id, json!({"resize": {"flavorRef": "2"}})).await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    assert_eq!(server["flavor"]["original_name"], "m1.tiny", "no other host: the resize failed");
    cloud.assert_allocated_on_own_host(&server, TINY).await;
    assert_eq!(latest_migration(&cloud, &id).await.1, "error");
    let events = cloud.events(&id, "resize").await;
    assert!(events.contains(&("conductor_migrate_server".into(), "Error".into())), "{events:?}");

    let cloud = Cloud::start_with(1, |c| c.compute.allow_resize_to_same_host = true).await;
    let id = cloud.boot("alone", "1").await;
    cloud.wait_status(&id, "ACTIVE").await;
    cloud.action(&id, json!({"resize": {"flavorRef": "2"}})).await;
    let resized = cloud.wait_status(&id, "VERIFY_RESIZE").await;
    assert_eq!(host(&resized), "cn-1");
    let (migration, _) = latest_migration(&cloud, &id).await;
    cloud.assert_allocated_on_own_host(&resized, SMALL).await;
    assert!(!cloud.allocations(&migration).await.is_empty(), "the migration holds the old flavor on the same node");
    cloud.action(&id, json!({"revertResize": null})).await;
    let reverted = cloud.wait_status(&id, "ACTIVE").await;
    cloud.assert_allocated_on_own_host(&reverted, TINY).await;
    assert!(cloud.allocations(&migration).await.is_empty());
    cloud.action(&id, json!({"resize": {"flavorRef": "2"}})).await;
    cloud.wait_status(&id, "VERIFY_RESIZE").await;
    cloud.action(&id, json!({"confirmResize": null})).await;
    let confirmed = cloud.wait_status(&id, "ACTIVE").await;
    assert_eq!(confirmed["flavor"]["original_name"], "m1.small");
    cloud.assert_allocated_on_own_host(&confirmed, SMALL).await;
    assert_eq!(cloud.driver.instances().len(), 1);
}

#[tokio::test]
async fn resize_confirm_window_confirms_by_itself() {
    let cloud = Cloud::start_with(2, |c| {
        c.compute.resize_confirm_window = 1;
        c.compute.update_resources_interval = 1;
    })
    .await;
    let id = cloud.boot("auto", "1").await;
    cloud.wait_status(&id, "ACTIVE").await;
    cloud.action(&id, json!({"resize": {"flavorRef": "2"}})).await;
    let mut status = Value::Null;
    for _ in 0..300 {
        let server = cloud.server(&id).await;
        status = server["status"].clone();
        if status == "ACTIVE" && server["flavor"]["original_name"] == "m1.small" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status, "ACTIVE", "the resize was confirmed automatically");
    let server = cloud.wait_status(&id, "ACTIVE").await;
    cloud.assert_allocated_on_own_host(&server, SMALL).await;
    assert_eq!(latest_migration(&cloud, &id).await.1, "confirmed");
    let list = cloud.call(Method::GET, &format!("/v2.1/servers/{id}/os-instance-actions"), None).await;
    assert!(list.body["instanceActions"].as_array().unwrap().iter().any(|a| a["action"] == "confirmResize"), "{}", list.body);
}

#[tokio::test]
async fn deleting_a_resized_server_releases_both_hosts() {
    let cloud = Cloud::start(2).await;
    let id = cloud.boot("gone", "1").await;
    cloud.wait_status(&id, "ACTIVE").await;
    cloud.action(&id, json!({"resize": {"flavorRef": "2"}})).await;
    cloud.wait_status(&id, "VERIFY_RESIZE").await;
    let (migration, _) = latest_migration(&cloud, &id).await;
    let r = cloud.call(Method::DELETE, &format!("/v2.1/servers/{id}"), None).await;
    assert_eq!(r.status, http::StatusCode::NO_CONTENT, "{}", r.body);
    cloud.wait_gone(&id).await;
    assert!(cloud.allocations(&id).await.is_empty());
    assert!(cloud.allocations(&migration).await.is_empty(), "the source allocations of the unconfirmed resize");
    assert!(cloud.driver.instances().is_empty(), "both copies destroyed");
}

#[tokio::test]
async fn a_destination_that_is_the_source_refuses_and_the_next_host_is_tried() {
    use monostack_compute::db::{instances, request_specs};
    use monostack_compute::rpc::conductor::{ComputeTaskRequest, MigrateServer};
    let cloud = Cloud::start(2).await;
    let id = cloud.boot("self", "1").await;
    let before = cloud.wait_status(&id, "ACTIVE").await;
    let big = cloud.boot("big", "5").await;
    let big_server = cloud.wait_status(&big, "ACTIVE").await;
    assert_ne!(host(&big_server), host(&before), "the big server went to the emptier host");
    // Without the API's ignore_hosts the scheduler prefers the source (most free RAM); its
    // agent refuses (UnableToMigrateToSelf) and the alternate is tried.
    let db = &cloud.compute.db;
    let mut spec = request_specs::get(db, &id).await.unwrap().unwrap();
    spec.ignore_hosts.clear();
    request_specs::save(db, &id, &spec).await.unwrap();
    instances::update(db, &id, &instances::Changes::new().set("task_state", "resize_prep"), None).await.unwrap();
    let request = ComputeTaskRequest::MigrateServer(MigrateServer { instance_uuid: id.clone(), flavor: None, clean_shutdown: true, requested_destination: None });
    let target = monostack_bus::Target::topic("conductor");
    let ctx = monostack_bus::Context::with_request_id("req-self-migration");
    monostack_conductor::agent_api::client::cast(cloud.bus.as_ref(), &target, &request, &ctx).await.unwrap();
    let moved = cloud.wait_status(&id, "VERIFY_RESIZE").await;
    assert_eq!(host(&moved), host(&big_server), "rescheduled to the other host");
    cloud.assert_allocated_on_own_host(&moved, TINY).await;
    let faults = monostack_compute::db::instance_faults::latest_many(db, std::slice::from_ref(&id)).await.unwrap();
    assert!(faults[&id].message.starts_with("Unable to migrate instance"), "the source refused first: {:?}", faults[&id]);
}
