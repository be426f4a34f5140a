//! `os-hosts` (until 2.42): hosts with their zones, a host's resources, and the checks in front
//! of the operations its compute agent answers (those run end to end in the agent's tests).

use crate::servers::{add_compute_host, boot, fault_message, set_state, MV};
use crate::support::Cloud;
use http::{Method, StatusCode};
use monostack_compute::db::services as service_db;
use serde_json::{json, Value};

fn names(body: &Value) -> Vec<(String, String, String)> {
    let hosts = body["hosts"].as_array().cloned().unwrap_or_default();
    let field = |h: &Value, k: &str| h[k].as_str().unwrap_or_default().to_string();
    hosts.iter().map(|h| (field(h, "host_name"), field(h, "service"), field(h, "zone"))).collect()
}

#[tokio::test]
async fn list_by_zone_of_enabled_services() {
    let cloud = Cloud::start().await;
    add_compute_host(&cloud, "c1", true).await;
    add_compute_host(&cloud, "c2", true).await;
    service_db::register(&cloud.compute.db, "ctl", "nova-conductor", "conductor", 1).await.expect("conductor");
    let mut off = service_db::register(&cloud.compute.db, "c3", "nova-compute", "compute", 1).await.expect("c3");
    off.disabled = true;
    service_db::save_state(&cloud.compute.db, &off).await.expect("disable");
    let agg = cloud.call(Method::POST, "/v2.1/os-aggregates", &cloud.admin, Some(json!({"aggregate": {"name": "r1", "availability_zone": "az1"}}))).await;
    let id = agg.body["aggregate"]["id"].as_i64().expect("aggregate id");
    cloud.call(Method::POST, &format!("/v2.1/os-aggregates/{id}/action"), &cloud.admin, Some(json!({"add_host": {"host": "c2"}}))).await;

    let all = cloud.call(Method::GET, "/v2.1/os-hosts", &cloud.admin, None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let mut got = names(&all.body);
    got.sort();
    let row = |h: &str, s: &str, z: &str| (h.to_string(), s.to_string(), z.to_string());
    assert_eq!(got, vec![row("c1", "compute", "nova"), row("c2", "compute", "az1"), row("ctl", "conductor", "internal")], "disabled services are left out");
    let az1 = cloud.call(Method::GET, "/v2.1/os-hosts?zone=az1", &cloud.admin, None).await;
    assert_eq!(names(&az1.body), vec![row("c2", "compute", "az1")]);
    let blank = cloud.call(Method::GET, "/v2.1/os-hosts?zone=", &cloud.admin, None).await;
    assert_eq!(names(&blank.body).len(), 3, "a blank zone lists every host");
    let none = cloud.call(Method::GET, "/v2.1/os-hosts?zone=xxx", &cloud.admin, None).await;
    assert_eq!(none.body, json!({"hosts": []}));

    let (_, _, member) = cloud.member("hal").await;
    assert_eq!(cloud.call(Method::GET, "/v2.1/os-hosts", &member, None).await.status, StatusCode::FORBIDDEN);
    let gone = cloud.call_at(Some("2.43"), Method::GET, "/v2.1/os-hosts", &cloud.admin, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let last = cloud.call_at(Some("2.42"), Method::GET, "/v2.1/os-hosts", &cloud.admin, None).await;
    assert_eq!(last.status, StatusCode::OK);
}

#[tokio::test]
async fn show_totals_usage_and_projects() {
    let cloud = Cloud::start().await;
    add_compute_host(&cloud, "c1", true).await;
    let (_, p1, t1) = cloud.member("ann").await;
    let (_, p2, t2) = cloud.member("bob").await;
    for (token, flavor, host) in [(&t1, "3", "c1"), (&t2, "1", "c1"), (&t1, "2", "c1"), (&t1, "3", "elsewhere")] {
        let r = boot(&cloud, token, MV, json!({"flavorRef": flavor})).await;
        let id = r.body["server"]["id"].as_str().expect("server id").to_string();
        set_state(&cloud, &id, "active", None, Some(host)).await;
    }

    let r = cloud.call(Method::GET, "/v2.1/os-hosts/c1", &cloud.admin, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let line = |project: &str, cpu: i64, memory_mb: i64, disk_gb: i64| json!({"resource": {"host": "c1", "project": project, "cpu": cpu, "memory_mb": memory_mb, "disk_gb": disk_gb}});
    assert_eq!(
        r.body["host"],
        json!([line("(total)", 32, 65536, 1000), line("(used_now)", 0, 0, 0), line("(used_max)", 4, 6656, 61), line(&p1, 3, 6144, 60), line(&p2, 1, 512, 1)])
    );
    let missing = cloud.call(Method::GET, "/v2.1/os-hosts/nonexistent_hostname", &cloud.admin, None).await;
    assert_eq!((missing.status, fault_message(&missing)), (StatusCode::NOT_FOUND, "Compute host nonexistent_hostname could not be found.".to_string()));
    let (_, _, member) = cloud.member("cat").await;
    assert_eq!(cloud.call(Method::GET, "/v2.1/os-hosts/c1", &member, None).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn updates_and_power_actions_are_checked_before_the_agent_is_asked() {
    let cloud = Cloud::start().await;
    add_compute_host(&cloud, "c1", true).await;
    add_compute_host(&cloud, "down", false).await;
    for bad in [
        json!({}),
        json!({"status": null, "maintenance_mode": null}),
        json!({"status": "invalid", "maintenance_mode": "enable"}),
        json!({"status": "enable", "maintenance_mode": "invalid"}),
        json!({"status": "enable", "extra": 1}),
    ] {
        let r = cloud.call(Method::PUT, "/v2.1/os-hosts/c1", &cloud.admin, Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
    let body = json!({"status": "enable", "maintenance_mode": "enable"});
    let (_, _, member) = cloud.member("dan").await;
    assert_eq!(cloud.call(Method::PUT, "/v2.1/os-hosts/c1", &member, Some(body.clone())).await.status, StatusCode::FORBIDDEN);
    let missing = cloud.call(Method::PUT, "/v2.1/os-hosts/nonexistent_hostname", &cloud.admin, Some(body.clone())).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    let down = cloud.call(Method::PUT, "/v2.1/os-hosts/down", &cloud.admin, Some(json!({"status": "DISABLE"}))).await;
    assert_eq!((down.status, fault_message(&down)), (StatusCode::BAD_REQUEST, "Compute service of down is unavailable at this time.".to_string()));
    for action in ["startup", "shutdown", "reboot"] {
        let path = format!("/v2.1/os-hosts/nonexistent_hostname/{action}");
        assert_eq!(cloud.call(Method::GET, &path, &cloud.admin, None).await.status, StatusCode::NOT_FOUND, "{action}");
        let path = format!("/v2.1/os-hosts/c1/{action}");
        assert_eq!(cloud.call(Method::GET, &path, &member, None).await.status, StatusCode::FORBIDDEN, "{action}");
        let gone = cloud.call_at(Some("2.43"), Method::GET, &path, &cloud.admin, None).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND, "{action} at 2.43");
    }
}
