//! Concurrent writers: many allocation PUTs racing for the last units of one provider must
//! never over-allocate (exactly the ones that fit succeed), on SQLite and PostgreSQL; and
//! generation-checked writes racing each other let exactly one through.

use crate::{send, uuid, Cloud, LATEST};
use axum::body::Body;
use http::{Method, Request, StatusCode};
use serde_json::json;

fn put_allocation(token: &str, consumer: &str, rp: &str, vcpus: i64) -> Request<Body> {
    let body = json!({
        "allocations": {rp: {"resources": {"VCPU": vcpus}}},
        "project_id": "p", "user_id": "u", "consumer_generation": null, "consumer_type": "INSTANCE",
    });
    Request::builder()
        .method(Method::PUT)
        .uri(format!("/allocations/{consumer}"))
        .header("x-auth-token", token)
        .header("openstack-api-version", format!("placement {LATEST}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

/// `writers` PUTs of 1 VCPU each at once on a provider with `capacity` VCPUs.
async fn race_for_capacity(c: &Cloud, capacity: i64, writers: usize) {
    let rp = c.provider(&format!("contended-{}", uuid()), None).await;
    c.inventory(&rp, json!({"VCPU": {"total": capacity}})).await;
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let router = c.router.clone();
            let req = put_allocation(&c.admin, &uuid(), &rp, 1);
            tokio::spawn(async move { send(&router, req).await })
        })
        .collect();
    let (mut ok, mut full) = (0, 0);
    for t in tasks {
        let r = t.await.expect("task");
        match r.status {
            StatusCode::NO_CONTENT => ok += 1,
            StatusCode::CONFLICT if r.detail().contains("exceed the capacity") => full += 1,
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(ok, capacity as usize, "exactly the allocations that fit succeed");
    assert_eq!(full, writers - capacity as usize);
    let usage = c.get(&format!("/resource_providers/{rp}/usages")).await;
    assert_eq!(usage.body["usages"]["VCPU"], capacity);
    let allocs = c.get(&format!("/resource_providers/{rp}/allocations")).await;
    assert_eq!(allocs.body["allocations"].as_object().expect("allocations").len(), capacity as usize);
}

/// Two generation-checked inventory writes at the same generation: one wins, one gets 409.
async fn race_for_generation(c: &Cloud) {
    let rp = c.provider(&format!("gen-{}", uuid()), None).await;
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let router = c.router.clone();
            let body = json!({"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 10 + i}}});
            let req = Request::builder()
                .method(Method::PUT)
                .uri(format!("/resource_providers/{rp}/inventories"))
                .header("x-auth-token", &c.admin)
                .header("openstack-api-version", format!("placement {LATEST}"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .expect("request");
            tokio::spawn(async move { send(&router, req).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        let r = t.await.expect("task");
        if r.status == StatusCode::CONFLICT {
            assert_eq!(r.code(), "placement.concurrent_update");
        }
        statuses.push(r.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 5);
    assert_eq!(c.generation(&rp).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_on_sqlite() {
    let c = Cloud::start().await;
    race_for_capacity(&c, 10, 30).await;
    race_for_generation(&c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_on_postgresql() {
    let Some(conn) = crate::postgres() else { return };
    let c = Cloud::start_with(Some(conn)).await;
    race_for_capacity(&c, 10, 30).await;
    race_for_generation(&c).await;
    // Consumers moving between two providers in opposite directions at once (lock ordering).
    let a = c.provider("a", None).await;
    let b = c.provider("b", None).await;
    c.inventory(&a, json!({"VCPU": {"total": 100}})).await;
    c.inventory(&b, json!({"VCPU": {"total": 100}})).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let router = c.router.clone();
            let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
            let body = json!({
                uuid(): {"allocations": {first.clone(): {"resources": {"VCPU": 1}}}, "project_id": "p", "user_id": "u", "consumer_generation": null, "consumer_type": "INSTANCE"},
                uuid(): {"allocations": {second.clone(): {"resources": {"VCPU": 1}}}, "project_id": "p", "user_id": "u", "consumer_generation": null, "consumer_type": "INSTANCE"},
            });
            let req = Request::builder()
                .method(Method::POST)
                .uri("/allocations")
                .header("x-auth-token", &c.admin)
                .header("openstack-api-version", format!("placement {LATEST}"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .expect("request");
            tokio::spawn(async move { send(&router, req).await })
        })
        .collect();
    for t in tasks {
        let r = t.await.expect("task");
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    }
    assert_eq!(c.get(&format!("/resource_providers/{a}/usages")).await.body["usages"]["VCPU"], 20);
}
