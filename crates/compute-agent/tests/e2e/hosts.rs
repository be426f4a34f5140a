//! What the compute agent answers about its host and guests: `os-hosts` operations, the
//! host's uptime in its node's stats, and server diagnostics from the fake driver.

use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn os_hosts_operations_reach_the_agent() {
    let cloud = Cloud::start(2).await;
    let admin = cloud.admin.clone();
    let status = cloud.call_at("2.42", &admin, Method::PUT, "/v2.1/os-hosts/cn-1", Some(json!({"status": "Disable"}))).await;
    assert_eq!((status.status, status.body.clone()), (StatusCode::OK, json!({"host": "cn-1", "status": "disabled"})));
    let enabled = cloud.call_at("2.42", &admin, Method::PUT, "/v2.1/os-hosts/cn-1", Some(json!({"status": "enable"}))).await;
    assert_eq!(enabled.body, json!({"host": "cn-1", "status": "enabled"}));
    // Like libvirt, the fake driver has no maintenance mode and cannot power its host.
    let maintenance = cloud.call_at("2.42", &admin, Method::PUT, "/v2.1/os-hosts/cn-1", Some(json!({"maintenance_mode": "enable"}))).await;
    assert_eq!(maintenance.status, StatusCode::NOT_IMPLEMENTED, "{}", maintenance.body);
    for action in ["startup", "shutdown", "reboot"] {
        let r = cloud.call_at("2.42", &admin, Method::GET, &format!("/v2.1/os-hosts/cn-2/{action}"), None).await;
        assert_eq!(r.status, StatusCode::NOT_IMPLEMENTED, "{action}: {}", r.body);
    }
    let hosts = cloud.call_at("2.42", &admin, Method::GET, "/v2.1/os-hosts", None).await;
    let names: Vec<&str> = hosts.body["hosts"].as_array().into_iter().flatten().filter_map(|h| h["host_name"].as_str()).collect();
    assert!(names.contains(&"cn-1") && names.contains(&"cn-2"), "{}", hosts.body);
    let show = cloud.call_at("2.42", &admin, Method::GET, "/v2.1/os-hosts/cn-1", None).await;
    assert_eq!(show.body["host"][0]["resource"]["project"], "(total)", "{}", show.body);
}

#[tokio::test]
async fn the_resource_tracker_reports_the_host_uptime() {
    let cloud = Cloud::start(1).await;
    let list = cloud.call_at("2.1", &cloud.admin, Method::GET, "/v2.1/os-hypervisors", None).await;
    let id = list.body["hypervisors"][0]["id"].as_i64().expect("hypervisor id");
    let uptime = cloud.call_at("2.1", &cloud.admin, Method::GET, &format!("/v2.1/os-hypervisors/{id}/uptime"), None).await;
    assert_eq!(uptime.status, StatusCode::OK, "{}", uptime.body);
    let line = uptime.body["hypervisor"]["uptime"].as_str().unwrap_or_default();
    assert!(line.contains(" up ") && line.contains("load average: "), "{line}");
    let detail = cloud.call_at("2.88", &cloud.admin, Method::GET, "/v2.1/os-hypervisors/detail", None).await;
    assert!(detail.body["hypervisors"][0]["uptime"].as_str().is_some_and(|u| u.contains("load average")), "{}", detail.body);
}

#[tokio::test]
async fn diagnostics_of_a_running_server() {
    let cloud = Cloud::start(1).await;
    let id = cloud.boot("diag", "3").await;
    cloud.wait_status(&id, "ACTIVE").await;
    let path = format!("/v2.1/servers/{id}/diagnostics");
    let legacy = cloud.call_at("2.47", &cloud.admin, Method::GET, &path, None).await;
    assert_eq!(legacy.status, StatusCode::OK, "{}", legacy.body);
    let counters = legacy.body.as_object().cloned().unwrap_or_default();
    for key in ["cpu0_time", "cpu1_time", "vda_read", "vda_write_req", "memory", "memory-actual"] {
        assert!(counters.get(key).is_some_and(Value::is_i64), "{key} in {}", legacy.body);
    }
    assert_eq!(counters["memory"], 4096 * 1024, "KiB of m1.medium");

    let standard = cloud.call_at("2.48", &cloud.admin, Method::GET, &path, None).await;
    assert_eq!(standard.status, StatusCode::OK, "{}", standard.body);
    let d = &standard.body;
    assert_eq!((d["state"].as_str(), d["driver"].as_str(), d["hypervisor_os"].as_str()), (Some("running"), Some("libvirt"), Some("linux")));
    assert_eq!((d["num_cpus"].as_i64(), d["num_disks"].as_i64(), d["num_nics"].as_i64()), (Some(2), Some(1), Some(0)));
    assert_eq!(d["memory_details"]["maximum"], 4096);
    assert_eq!(d["cpu_details"].as_array().map(Vec::len), Some(2));
    assert!(d["uptime"].is_u64() && d["config_drive"] == false, "{d}");

    cloud.action(&id, json!({"os-stop": null})).await;
    cloud.wait_status(&id, "SHUTOFF").await;
    let stopped = cloud.call_at("2.48", &cloud.admin, Method::GET, &path, None).await;
    assert_eq!(stopped.status, StatusCode::CONFLICT, "{}", stopped.body);
    assert_eq!(stopped.body["conflictingRequest"]["message"], format!("Cannot 'get_diagnostics' instance {id} while it is in power state shutdown"));
}
