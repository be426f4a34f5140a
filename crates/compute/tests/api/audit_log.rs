//! `os-instance_usage_audit_log`: the last completed monthly period, over every compute host,
//! with no audit task logs (no audit task runs).

use crate::servers::{add_compute_host, fault_message};
use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn audit_log_reports_every_compute_host_not_run() {
    let cloud = Cloud::start().await;
    add_compute_host(&cloud, "c1", true).await;
    add_compute_host(&cloud, "c2", false).await;
    let index = cloud.call(Method::GET, "/v2.1/os-instance_usage_audit_log", &cloud.admin, None).await;
    assert_eq!(index.status, StatusCode::OK, "{}", index.body);
    let log = &index.body["instance_usage_audit_logs"];
    assert_eq!((log["num_hosts"].as_i64(), log["num_hosts_not_run"].as_i64(), log["num_hosts_done"].as_i64()), (Some(2), Some(2), Some(0)));
    assert_eq!((log["hosts_not_run"].clone(), log["log"].clone()), (json!(["c1", "c2"]), json!({})));
    assert_eq!(log["overall_status"], "0 of 2 hosts done. 0 errors.");

    let show = cloud.call(Method::GET, "/v2.1/os-instance_usage_audit_log/2024-03-15%2010%3A20%3A30", &cloud.admin, None).await;
    assert_eq!(show.status, StatusCode::OK, "{}", show.body);
    let log = &show.body["instance_usage_audit_log"];
    assert_eq!((log["period_beginning"].as_str(), log["period_ending"].as_str()), (Some("2024-02-01 00:00:00"), Some("2024-03-01 00:00:00")));
    assert_eq!((log["total_instances"].as_i64(), log["total_errors"].as_i64(), log["num_hosts_running"].as_i64()), (Some(0), Some(0), Some(0)));
    let fraction = cloud.call(Method::GET, "/v2.1/os-instance_usage_audit_log/2024-01-01%2000%3A00%3A00.5", &cloud.admin, None).await;
    assert_eq!(fraction.body["instance_usage_audit_log"]["period_ending"], "2024-01-01 00:00:00");

    let bad = cloud.call(Method::GET, "/v2.1/os-instance_usage_audit_log/invalid_time", &cloud.admin, None).await;
    assert_eq!((bad.status, fault_message(&bad)), (StatusCode::BAD_REQUEST, "Invalid timestamp for date invalid_time".to_string()));
    let (_, _, member) = cloud.member("eve").await;
    assert_eq!(cloud.call(Method::GET, "/v2.1/os-instance_usage_audit_log", &member, None).await.status, StatusCode::FORBIDDEN);
    let denied = cloud.call(Method::GET, "/v2.1/os-instance_usage_audit_log/2024-03-15%2010%3A20%3A30", &member, None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}
