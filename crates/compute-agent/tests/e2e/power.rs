//! Power and lifecycle actions land in Nova's states, record their events, and leave the
//! server's claim where it was; a failing driver leaves the server as it was, with no task.

use crate::support::{Cloud, TINY};
use http::{Method, StatusCode};
use monostack_compute_agent::drivers::fake::{FakeOperation, FaultRule};
use serde_json::{json, Value};

/// Runs `action` and waits for `status`; checks the vm and power state and the event.
async fn step(cloud: &Cloud, id: &str, action: Value, status: &str, vm_state: &str, power_state: i64, event: (&str, &str)) -> Value {
    cloud.action(id, action).await;
    let server = cloud.wait_status(id, status).await;
    assert_eq!(server["OS-EXT-STS:vm_state"], vm_state, "{server}");
    assert_eq!(server["OS-EXT-STS:power_state"], power_state, "{server}");
    let events = cloud.events(id, event.0).await;
    assert!(events.contains(&(event.1.to_string(), "Success".to_string())), "{} events: {events:?}", event.0);
    server
}

#[tokio::test]
async fn power_actions_walk_through_novas_states() {
    let cloud = Cloud::start(1).await;
    let id = cloud.boot("vm", "1").await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    step(&cloud, &id, json!({"os-stop": null}), "SHUTOFF", "stopped", 4, ("stop", "compute_stop_instance")).await;
    step(&cloud, &id, json!({"os-start": null}), "ACTIVE", "active", 1, ("start", "compute_start_instance")).await;
    step(&cloud, &id, json!({"reboot": {"type": "SOFT"}}), "ACTIVE", "active", 1, ("reboot", "compute_reboot_instance")).await;
    step(&cloud, &id, json!({"pause": null}), "PAUSED", "paused", 3, ("pause", "compute_pause_instance")).await;
    step(&cloud, &id, json!({"unpause": null}), "ACTIVE", "active", 1, ("unpause", "compute_unpause_instance")).await;
    step(&cloud, &id, json!({"suspend": null}), "SUSPENDED", "suspended", 4, ("suspend", "compute_suspend_instance")).await;
    step(&cloud, &id, json!({"resume": null}), "ACTIVE", "active", 1, ("resume", "compute_resume_instance")).await;
    step(&cloud, &id, json!({"rescue": {"adminPass": "rescue-me"}}), "RESCUE", "rescued", 1, ("rescue", "compute_rescue_instance")).await;
    step(&cloud, &id, json!({"unrescue": null}), "ACTIVE", "active", 1, ("unrescue", "compute_unrescue_instance")).await;
    step(&cloud, &id, json!({"os-stop": null}), "SHUTOFF", "stopped", 4, ("stop", "compute_stop_instance")).await;
    step(&cloud, &id, json!({"reboot": {"type": "HARD"}}), "ACTIVE", "active", 1, ("reboot", "compute_reboot_instance")).await;
    cloud.assert_allocated_on_own_host(&server, TINY).await;
}

#[tokio::test]
async fn a_driver_failure_leaves_the_server_as_it_was() {
    let cloud = Cloud::start(1).await;
    let id = cloud.boot("stubborn", "1").await;
    cloud.wait_status(&id, "ACTIVE").await;
    cloud.driver.inject_fault(FaultRule::new(FakeOperation::PowerOff).times(1));
    cloud.action(&id, json!({"os-stop": null})).await;
    let mut events = Vec::new();
    for _ in 0..250 {
        events = cloud.events(&id, "stop").await;
        if events.iter().any(|(_, r)| r == "Error") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(events.contains(&("compute_stop_instance".into(), "Error".into())), "{events:?}");
    let server = cloud.wait_status(&id, "ACTIVE").await;
    assert_eq!(server["OS-EXT-STS:power_state"], 1);
    step(&cloud, &id, json!({"os-stop": null}), "SHUTOFF", "stopped", 4, ("stop", "compute_stop_instance")).await;
}

#[tokio::test]
async fn calls_answer_passwords_and_consoles() {
    let cloud = Cloud::start(1).await;
    let id = cloud.boot("console", "1").await;
    cloud.wait_status(&id, "ACTIVE").await;
    cloud.action(&id, json!({"changePassword": {"adminPass": "n3w-secret"}})).await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    assert!(server["OS-EXT-STS:task_state"].is_null());
    let r = cloud.call(Method::POST, &format!("/v2.1/servers/{id}/action"), Some(json!({"os-getConsoleOutput": {"length": 5}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["output"].is_string(), "{}", r.body);
    let r = cloud.call(Method::POST, &format!("/v2.1/servers/{id}/remote-consoles"), Some(json!({"remote_console": {"protocol": "vnc", "type": "novnc"}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["remote_console"]["url"].as_str().unwrap_or_default().contains("token"), "{}", r.body);
}
