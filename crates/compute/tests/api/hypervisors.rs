//! Hypervisors (compute nodes) across the microversions that reshaped them.

use crate::quotas::insert_instance;
use crate::services::compute_host;
use crate::support::Cloud;
use http::{Method, StatusCode};
use monostack_compute::db::services as service_db;
use serde_json::{json, Value};

fn ids(body: &Value) -> Vec<Value> {
    body["hypervisors"].as_array().map(|a| a.iter().map(|h| h["id"].clone()).collect()).unwrap_or_default()
}

#[tokio::test]
async fn list_show_and_detail_views() {
    let cloud = Cloud::start().await;
    let (service, node) = compute_host(&cloud.compute, "c1").await;
    let list = cloud.call(Method::GET, "/v2.1/os-hypervisors", &cloud.admin, None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.body["hypervisors"], json!([{"id": node.id, "hypervisor_hostname": "c1-node", "state": "up", "status": "enabled"}]));

    let detail = cloud.call(Method::GET, "/v2.1/os-hypervisors/detail", &cloud.admin, None).await;
    let h = &detail.body["hypervisors"][0];
    assert_eq!((h["vcpus"].as_i64(), h["vcpus_used"].as_i64(), h["free_ram_mb"].as_i64()), (Some(32), Some(2), Some(64512)));
    assert_eq!(h["service"], json!({"id": service.id, "host": "c1", "disabled_reason": null}));
    assert!(h["cpu_info"].is_string(), "cpu_info is text before 2.28");
    let v228 = cloud.call_at(Some("2.28"), Method::GET, &format!("/v2.1/os-hypervisors/{}", node.id), &cloud.admin, None).await;
    assert_eq!(v228.body["hypervisor"]["cpu_info"]["arch"], "x86_64");
    let v253 = cloud.call_at(Some("2.53"), Method::GET, &format!("/v2.1/os-hypervisors/{}", node.uuid), &cloud.admin, None).await;
    assert_eq!(v253.status, StatusCode::OK, "{}", v253.body);
    assert_eq!((v253.body["hypervisor"]["id"].as_str(), v253.body["hypervisor"]["service"]["id"].as_str()), (Some(node.uuid.as_str()), Some(service.uuid.as_str())));
    let v288 = cloud.call_at(Some("2.88"), Method::GET, &format!("/v2.1/os-hypervisors/{}", node.uuid), &cloud.admin, None).await;
    let h88 = &v288.body["hypervisor"];
    assert!(h88.get("vcpus").is_none() && h88.get("cpu_info").is_none());
    assert!(h88["uptime"].as_str().is_some_and(|u| u.contains("up 1 day")));

    let int_at_253 = cloud.call_at(Some("2.53"), Method::GET, &format!("/v2.1/os-hypervisors/{}", node.id), &cloud.admin, None).await;
    assert_eq!(int_at_253.body["badRequest"]["message"], format!("Invalid uuid {}", node.id));
    let uuid_before = cloud.call(Method::GET, &format!("/v2.1/os-hypervisors/{}", node.uuid), &cloud.admin, None).await;
    assert_eq!(uuid_before.body["itemNotFound"]["message"], format!("Hypervisor with ID '{}' could not be found.", node.uuid));
    let (_, _, member) = cloud.member("mia").await;
    let denied = cloud.call(Method::GET, "/v2.1/os-hypervisors", &member, None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    // Disabled and forced-down services show in status and state.
    let mut down = service.clone();
    down.disabled = true;
    down.forced_down = true;
    service_db::save_state(&cloud.compute.db, &down).await.expect("save");
    let after = cloud.call(Method::GET, "/v2.1/os-hypervisors", &cloud.admin, None).await;
    assert_eq!((after.body["hypervisors"][0]["state"].as_str(), after.body["hypervisors"][0]["status"].as_str()), (Some("down"), Some("disabled")));
}

#[tokio::test]
async fn paging_patterns_and_servers() {
    let cloud = Cloud::start().await;
    let mut nodes = Vec::new();
    for host in ["alpha", "beta", "gamma"] {
        nodes.push(compute_host(&cloud.compute, host).await.1);
    }
    let (user, project, _) = cloud.member("pat").await;
    let server = insert_instance(&cloud.compute, &project, &user, 1, 64, Some("beta")).await;

    let page = cloud.call_at(Some("2.33"), Method::GET, "/v2.1/os-hypervisors?limit=2", &cloud.admin, None).await;
    assert_eq!(ids(&page.body), vec![json!(nodes[0].id), json!(nodes[1].id)]);
    assert!(page.body["hypervisors_links"][0]["href"].as_str().is_some_and(|h| h.ends_with(&format!("/v2.1/os-hypervisors?limit=2&marker={}", nodes[1].id))));
    let rest = cloud.call_at(Some("2.33"), Method::GET, &format!("/v2.1/os-hypervisors/detail?marker={}", nodes[1].id), &cloud.admin, None).await;
    assert_eq!(ids(&rest.body), vec![json!(nodes[2].id)]);
    let bad_marker = cloud.call_at(Some("2.33"), Method::GET, "/v2.1/os-hypervisors?marker=999", &cloud.admin, None).await;
    assert_eq!(bad_marker.status, StatusCode::BAD_REQUEST);
    let uuid_page = cloud.call_at(Some("2.53"), Method::GET, &format!("/v2.1/os-hypervisors?marker={}", nodes[0].uuid), &cloud.admin, None).await;
    assert_eq!(ids(&uuid_page.body), vec![json!(nodes[1].uuid), json!(nodes[2].uuid)]);

    let pattern = cloud.call_at(Some("2.53"), Method::GET, "/v2.1/os-hypervisors?hypervisor_hostname_pattern=eta&with_servers=true", &cloud.admin, None).await;
    assert_eq!(pattern.status, StatusCode::OK, "{}", pattern.body);
    assert_eq!(ids(&pattern.body), vec![json!(nodes[1].uuid)]);
    assert!(pattern.body["hypervisors"][0]["servers"][0]["name"].as_str().is_some_and(|n| n.starts_with("instance-0000")));
    assert_eq!(pattern.body["hypervisors"][0]["servers"][0]["uuid"], server.as_str());
    let no_match = cloud.call_at(Some("2.53"), Method::GET, "/v2.1/os-hypervisors?hypervisor_hostname_pattern=zzz", &cloud.admin, None).await;
    assert_eq!(no_match.body["itemNotFound"]["message"], "No hypervisor matching 'zzz' could be found.");
    let paged_pattern = cloud.call_at(Some("2.53"), Method::GET, "/v2.1/os-hypervisors?hypervisor_hostname_pattern=a&limit=1", &cloud.admin, None).await;
    assert_eq!(paged_pattern.status, StatusCode::BAD_REQUEST);
    let empty_servers = cloud.call_at(Some("2.75"), Method::GET, "/v2.1/os-hypervisors?hypervisor_hostname_pattern=alpha&with_servers=1", &cloud.admin, None).await;
    assert_eq!(empty_servers.body["hypervisors"][0]["servers"], json!([]), "2.75 shows an empty list");
    let no_key = cloud.call_at(Some("2.74"), Method::GET, "/v2.1/os-hypervisors?hypervisor_hostname_pattern=alpha&with_servers=1", &cloud.admin, None).await;
    assert!(no_key.body["hypervisors"][0].get("servers").is_none());

    let search = cloud.call(Method::GET, "/v2.1/os-hypervisors/amm/search", &cloud.admin, None).await;
    assert_eq!(ids(&search.body), vec![json!(nodes[2].id)]);
    let servers = cloud.call(Method::GET, "/v2.1/os-hypervisors/beta/servers", &cloud.admin, None).await;
    assert_eq!(servers.body["hypervisors"][0]["servers"][0]["uuid"], server.as_str());
    let search_gone = cloud.call_at(Some("2.53"), Method::GET, "/v2.1/os-hypervisors/amm/search", &cloud.admin, None).await;
    assert_eq!(search_gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn statistics_and_uptime_until_2_88() {
    let cloud = Cloud::start().await;
    let (_, n1) = compute_host(&cloud.compute, "c1").await;
    let (s2, _) = compute_host(&cloud.compute, "c2").await;
    let stats = cloud.call(Method::GET, "/v2.1/os-hypervisors/statistics", &cloud.admin, None).await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    let s = &stats.body["hypervisor_statistics"];
    assert_eq!((s["count"].as_i64(), s["vcpus"].as_i64(), s["vcpus_used"].as_i64(), s["disk_available_least"].as_i64()), (Some(2), Some(64), Some(4), Some(1800)));
    let mut disabled = s2.clone();
    disabled.disabled = true;
    service_db::save_state(&cloud.compute.db, &disabled).await.expect("disable");
    let fewer = cloud.call(Method::GET, "/v2.1/os-hypervisors/statistics", &cloud.admin, None).await;
    assert_eq!(fewer.body["hypervisor_statistics"]["count"], 1, "disabled services' nodes are not counted");
    let gone = cloud.call_at(Some("2.88"), Method::GET, "/v2.1/os-hypervisors/statistics", &cloud.admin, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    let uptime = cloud.call(Method::GET, &format!("/v2.1/os-hypervisors/{}/uptime", n1.id), &cloud.admin, None).await;
    assert_eq!(uptime.status, StatusCode::OK, "{}", uptime.body);
    assert!(uptime.body["hypervisor"]["uptime"].as_str().is_some_and(|u| u.contains("load average")));
    let uptime_gone = cloud.call_at(Some("2.88"), Method::GET, &format!("/v2.1/os-hypervisors/{}/uptime", n1.uuid), &cloud.admin, None).await;
    assert_eq!(uptime_gone.status, StatusCode::NOT_FOUND);
}
