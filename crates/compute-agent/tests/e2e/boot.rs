//! Booting and deleting: ACTIVE with its claim on its host, rescheduling after a failed spawn,
//! ERROR when every host fails or none fits, and nothing left in placement afterwards.

use crate::support::{Cloud, TINY};
use http::{Method, StatusCode};
use monostack_compute_agent::drivers::fake::{FakeOperation, FaultRule};
use serde_json::json;

#[tokio::test]
async fn boot_reaches_active_and_delete_releases_everything() {
    let cloud = Cloud::start(2).await;
    let id = cloud.boot("web", "1").await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    assert_eq!(server["OS-EXT-STS:vm_state"], "active");
    assert_eq!(server["OS-EXT-STS:power_state"], 1);
    let host = server["OS-EXT-SRV-ATTR:host"].as_str().unwrap().to_string();
    assert!(host == "cn-1" || host == "cn-2", "{host}");
    assert!(server["OS-EXT-SRV-ATTR:hypervisor_hostname"].as_str().unwrap().starts_with("fake-"));
    cloud.assert_allocated_on_own_host(&server, TINY).await;
    let events = cloud.events(&id, "create").await;
    assert!(events.contains(&("conductor_schedule_and_build_instances".into(), "Success".into())), "{events:?}");
    assert!(events.contains(&("compute__do_build_and_run_instance".into(), "Success".into())), "{events:?}");
    let node = monostack_compute::db::compute_nodes::by_host(&cloud.compute.db, &host).await.unwrap().remove(0);
    assert_eq!((node.vcpus_used, node.memory_mb_used, node.running_vms), (1, 512, 1), "the resource tracker counted the instance");

    let r = cloud.call(Method::DELETE, &format!("/v2.1/servers/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    cloud.wait_gone(&id).await;
    assert!(cloud.allocations(&id).await.is_empty(), "allocations left after delete");
    assert!(cloud.driver.instances().is_empty(), "guest left on the hypervisor");
    let project = cloud.admin_project().await;
    assert!(cloud.project_usage(&project).await.is_empty(), "usage left after delete");
    let node = monostack_compute::db::compute_nodes::by_host(&cloud.compute.db, &host).await.unwrap().remove(0);
    assert_eq!((node.vcpus_used, node.running_vms), (0, 0));
}

#[tokio::test]
async fn compute_services_register_and_report_their_nodes() {
    let cloud = Cloud::start(3).await;
    let r = cloud.call(Method::GET, "/v2.1/os-services?binary=nova-compute", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut hosts: Vec<String> = r.body["services"].as_array().unwrap().iter().map(|s| s["host"].as_str().unwrap().to_string()).collect();
    hosts.sort();
    assert_eq!(hosts, vec!["cn-1", "cn-2", "cn-3"]);
    assert!(r.body["services"].as_array().unwrap().iter().all(|s| s["state"] == "up"), "{}", r.body);
    let query = monostack_placement::types::CandidateQuery::resources(&[("VCPU", 1), ("MEMORY_MB", 512), ("DISK_GB", 1)]);
    let candidates = cloud.placement.allocation_candidates(&query).await.unwrap();
    for host in ["cn-1", "cn-2", "cn-3"] {
        let uuid = cloud.node_uuid(host).await;
        let summary = &candidates.provider_summaries[&uuid];
        assert_eq!(summary.resources["VCPU"].capacity, 32 * 16, "VCPU inventory of {host} with the cpu allocation ratio");
        assert_eq!(summary.resources["MEMORY_MB"].capacity, 65_536 * 3 / 2, "RAM inventory of {host} with the ram allocation ratio");
    }
}

#[tokio::test]
async fn a_failed_spawn_is_rescheduled_to_another_host() {
    let cloud = Cloud::start(2).await;
    cloud.driver.inject_fault(FaultRule::new(FakeOperation::Spawn).times(1));
    let id = cloud.boot("retry", "1").await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    cloud.assert_allocated_on_own_host(&server, TINY).await;
    let events = cloud.events(&id, "create").await;
    let builds: Vec<&str> = events.iter().filter(|(e, _)| e == "compute__do_build_and_run_instance").map(|(_, r)| r.as_str()).collect();
    assert_eq!(builds.len(), 2, "{events:?}");
    assert!(builds.contains(&"Error") && builds.contains(&"Success"), "{events:?}");
    assert_eq!(cloud.driver.instances().len(), 1, "the failed guest was cleaned up");
}

#[tokio::test]
async fn spawn_failing_everywhere_ends_in_error_with_a_fault_and_no_allocations() {
    let cloud = Cloud::start(2).await;
    cloud.driver.inject_fault(FaultRule::new(FakeOperation::Spawn));
    let id = cloud.boot("doomed", "1").await;
    let server = cloud.wait_status(&id, "ERROR").await;
    let fault = server["fault"]["message"].as_str().unwrap_or_default();
    assert!(fault.starts_with("Exceeded maximum number of retries."), "{server}");
    assert_eq!(server["fault"]["code"], 500);
    assert!(server["OS-EXT-SRV-ATTR:host"].is_null());
    assert!(cloud.allocations(&id).await.is_empty(), "allocations left by the failed build");
    assert!(cloud.driver.instances().is_empty());
    let r = cloud.call(Method::DELETE, &format!("/v2.1/servers/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    cloud.wait_gone(&id).await;
}

#[tokio::test]
async fn no_valid_host_when_the_flavor_fits_nowhere() {
    let cloud = Cloud::start(2).await;
    let flavor = json!({"flavor": {"name": "huge", "id": "huge", "ram": 512, "vcpus": 1, "disk": 5000}});
    let r = cloud.call(Method::POST, "/v2.1/flavors", Some(flavor)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let id = cloud.boot("big", "huge").await;
    let server = cloud.wait_status(&id, "ERROR").await;
    assert_eq!(server["fault"]["message"], "No valid host was found. There are not enough hosts available.");
    assert!(cloud.allocations(&id).await.is_empty());
    let events = cloud.events(&id, "create").await;
    assert!(events.contains(&("conductor_schedule_and_build_instances".into(), "Error".into())), "{events:?}");
}

#[tokio::test]
async fn a_multi_create_spreads_and_claims_every_instance() {
    let cloud = Cloud::start(3).await;
    let body = json!({"server": {"name": "many", "imageRef": cloud.image_id, "flavorRef": "1", "networks": "none", "min_count": 3}});
    let r = cloud.call(Method::POST, "/v2.1/servers", Some(body)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let list = cloud.call(Method::GET, "/v2.1/servers?name=many", None).await;
    let ids: Vec<String> = list.body["servers"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 3);
    let mut hosts = Vec::new();
    for id in &ids {
        let server = cloud.wait_status(id, "ACTIVE").await;
        cloud.assert_allocated_on_own_host(&server, TINY).await;
        hosts.push(server["OS-EXT-SRV-ATTR:host"].as_str().unwrap().to_string());
    }
    hosts.sort();
    hosts.dedup();
    assert_eq!(hosts.len(), 3, "free RAM weighing spreads the instances");
}
