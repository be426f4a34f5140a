//! Periodic tasks and restarts: the power-state sync, the offload of shelved servers, the
//! reclaim of soft-deleted ones, heartbeats, and what a restarted agent settles.

use crate::support::{Cloud, TINY};
use http::{Method, StatusCode};
use monostack_compute::db::instances::{self, Changes};
use monostack_compute_agent::virt::PowerState;
use serde_json::{json, Value};
use std::time::Duration;

/// Polls `check` on the server for 10 s at most.
async fn wait_until(cloud: &Cloud, id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..500 {
        last = cloud.server(id).await;
        if check(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("server {id} never got {what}: {last}");
}

#[tokio::test]
async fn a_guest_that_stops_by_itself_makes_its_server_shutoff() {
    let cloud = Cloud::start_with(1, |c| c.compute.sync_power_state_interval = 1).await;
    let id = cloud.boot("flaky", "1").await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    let node = server["OS-EXT-SRV-ATTR:hypervisor_hostname"].as_str().unwrap();
    cloud.driver.set_power_state(&id, node, PowerState::Shutdown).unwrap();
    let server = wait_until(&cloud, &id, "SHUTOFF", |s| s["status"] == "SHUTOFF").await;
    assert_eq!(server["OS-EXT-STS:power_state"], 4);
    let events = cloud.events(&id, "stop").await;
    assert!(events.contains(&("compute_stop_instance".into(), "Success".into())), "{events:?}");
}

#[tokio::test]
async fn shelved_servers_are_offloaded_after_shelved_offload_time() {
    let cloud = Cloud::start_with(1, |c| {
        c.compute.shelved_offload_time = 1;
        c.compute.shelved_poll_interval = 1;
    })
    .await;
    let id = cloud.boot("later", "1").await;
    cloud.wait_status(&id, "ACTIVE").await;
    cloud.action(&id, json!({"shelve": null})).await;
    cloud.wait_status(&id, "SHELVED").await;
    let server = wait_until(&cloud, &id, "SHELVED_OFFLOADED", |s| s["status"] == "SHELVED_OFFLOADED").await;
    assert!(server["OS-EXT-SRV-ATTR:host"].is_null());
    cloud.wait_no_allocations(&id).await;
}

#[tokio::test]
async fn soft_deleted_servers_are_reclaimed() {
    let cloud = Cloud::start_with(1, |c| c.compute.reclaim_instance_interval = 1).await;
    let id = cloud.boot("soft", "1").await;
    cloud.wait_status(&id, "ACTIVE").await;
    let r = cloud.call(Method::DELETE, &format!("/v2.1/servers/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    cloud.wait_status(&id, "SOFT_DELETED").await;
    cloud.wait_gone(&id).await;
    assert!(cloud.allocations(&id).await.is_empty());
}

#[tokio::test]
async fn a_restarted_agent_settles_interrupted_tasks_and_heartbeats_again() {
    let mut cloud = Cloud::start_with(1, |c| c.compute.service_down_time = 2).await;
    let stopping = cloud.boot("stopping", "1").await;
    let deleting = cloud.boot("deleting", "1").await;
    let building = cloud.boot("building", "1").await;
    for id in [&stopping, &deleting, &building] {
        cloud.wait_status(id, "ACTIVE").await;
    }
    cloud.stop_host(0);
    let db = &cloud.compute.db;
    for (id, task) in [(&stopping, "powering-off"), (&deleting, "deleting"), (&building, "spawning")] {
        let mut changes = Changes::new().set("task_state", task);
        if task == "spawning" {
            changes = changes.set("vm_state", "building");
        }
        assert!(instances::update(db, id, &changes, None).await.unwrap());
    }
    let down = wait_until_service(&cloud, "down").await;
    assert_eq!(down, "down", "no heartbeat for service_down_time");

    cloud.restart_host(0).await;
    let server = cloud.wait_status(&stopping, "SHUTOFF").await;
    assert_eq!(server["OS-EXT-STS:power_state"], 4);
    cloud.wait_gone(&deleting).await;
    assert!(cloud.allocations(&deleting).await.is_empty());
    let server = cloud.wait_status(&building, "ERROR").await;
    assert!(server["fault"]["message"].as_str().unwrap_or_default().contains("interrupted"), "{server}");
    let server = cloud.server(&stopping).await;
    cloud.assert_allocated_on_own_host(&server, TINY).await;
    assert_eq!(wait_until_service(&cloud, "up").await, "up");
}

/// Polls the compute service's state until it is `wanted` (10 s at most).
async fn wait_until_service(cloud: &Cloud, wanted: &str) -> String {
    let mut state = String::new();
    for _ in 0..100 {
        let r = cloud.call(Method::GET, "/v2.1/os-services?binary=nova-compute", None).await;
        state = r.body["services"][0]["state"].as_str().unwrap_or_default().to_string();
        if state == wanted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    state
}
