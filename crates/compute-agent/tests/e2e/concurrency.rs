//! Many clients at once: creates racing for the last units of a quota, and deletes racing to
//! record their instance actions. Every request must get its own clean answer.

use crate::support::Cloud;
use futures::future::join_all;
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn simultaneous_creates_against_a_quota_of_fifty_give_fifty_servers_and_fifty_403s() {
    let cloud = Cloud::start(2).await;
    let project = set_instance_quota(&cloud, 50).await;

    let creates = (0..100).map(|i| {
        let body = json!({"server": {"name": format!("race-{i}"), "imageRef": cloud.image_id, "flavorRef": "1", "networks": "none"}});
        cloud.call(Method::POST, "/v2.1/servers", Some(body))
    });
    let answers = join_all(creates).await;
    let accepted: Vec<String> =
        answers.iter().filter(|r| r.status == StatusCode::ACCEPTED).map(|r| r.body["server"]["id"].as_str().unwrap().to_string()).collect();
    let refused: Vec<_> = answers.iter().filter(|r| r.status == StatusCode::FORBIDDEN).collect();
    assert_eq!((accepted.len(), refused.len()), (50, 50), "every answer is a 202 or a 403");
    for r in &refused {
        let message = r.body["forbidden"]["message"].as_str().unwrap();
        assert!(message.starts_with("Quota exceeded for instances"), "{message}");
    }
    for id in &accepted {
        cloud.wait_status(id, "ACTIVE").await;
    }
    let usage = cloud.project_usage(&project).await;
    assert_eq!(usage.get("VCPU"), Some(&50), "placement holds exactly the 50 servers: {usage:?}");
    assert_eq!(usage.get("MEMORY_MB"), Some(&(50 * 512)), "{usage:?}");
}

#[tokio::test]
async fn twenty_simultaneous_deletes_all_succeed() {
    let cloud = Cloud::start(2).await;
    let project = set_instance_quota(&cloud, -1).await;
    let body = json!({"server": {"name": "doomed", "imageRef": cloud.image_id, "flavorRef": "1", "networks": "none", "min_count": 20}});
    let r = cloud.call(Method::POST, "/v2.1/servers", Some(body)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let list = cloud.call(Method::GET, "/v2.1/servers?name=doomed", None).await;
    let ids: Vec<String> = list.body["servers"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 20);
    for id in &ids {
        cloud.wait_status(id, "ACTIVE").await;
    }

    let paths: Vec<String> = ids.iter().map(|id| format!("/v2.1/servers/{id}")).collect();
    let deletes = paths.iter().map(|path| cloud.call(Method::DELETE, path, None));
    for (id, r) in ids.iter().zip(join_all(deletes).await) {
        assert_eq!(r.status, StatusCode::NO_CONTENT, "delete {id}: {}", r.body);
    }
    for id in &ids {
        cloud.wait_gone(id).await;
        assert!(cloud.allocations(id).await.is_empty(), "allocations of {id} left");
    }
    assert!(cloud.driver.instances().is_empty(), "guests left on the hypervisors");
    assert!(cloud.project_usage(&project).await.is_empty(), "usage left after the deletes");
}

/// Sets the admin project's instance quota (cores and RAM unlimited); returns the project.
async fn set_instance_quota(cloud: &Cloud, instances: i64) -> String {
    let project = cloud.admin_project().await;
    let quota = json!({"quota_set": {"instances": instances, "cores": -1, "ram": -1}});
    let r = cloud.call(Method::PUT, &format!("/v2.1/os-quota-sets/{project}"), Some(quota)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    project
}
