//! Allocations: consumer generations, capacity rules, the body formats of each version,
//! atomic multi-consumer moves, and usages.

use crate::{uuid, Cloud, LATEST};
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn consumer_generations_guard_every_write() {
    let c = Cloud::start().await;
    let rp = c.provider("cn", None).await;
    c.inventory(&rp, json!({"VCPU": {"total": 8}, "MEMORY_MB": {"total": 1024}})).await;
    let consumer = uuid();
    let path = format!("/allocations/{consumer}");
    let r = c.allocate(&consumer, json!({rp.clone(): {"resources": {"VCPU": 2, "MEMORY_MB": 512}}}), Some(3)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a new consumer has no generation yet");
    assert_eq!(r.code(), "placement.concurrent_update");
    let r = c.allocate(&consumer, json!({rp.clone(): {"resources": {"VCPU": 2, "MEMORY_MB": 512}}}), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let got = c.get(&path).await;
    assert_eq!(got.body["consumer_generation"], 1);
    assert_eq!(got.body["project_id"], "p1");
    assert_eq!(got.body["user_id"], "u1");
    assert_eq!(got.body["consumer_type"], "INSTANCE");
    assert_eq!(got.body["allocations"][&rp]["resources"], json!({"VCPU": 2, "MEMORY_MB": 512}));
    assert_eq!(got.body["allocations"][&rp]["generation"], c.generation(&rp).await);
    let old = c.call(Method::GET, &path, "1.11", None).await;
    assert!(old.body.get("project_id").is_none() && old.body.get("consumer_generation").is_none());

    let again = c.allocate(&consumer, json!({rp.clone(): {"resources": {"VCPU": 1}}}), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "expected null but the consumer exists");
    assert!(again.detail().contains("consumer generation conflict"), "{}", again.body);
    let stale = c.allocate(&consumer, json!({rp.clone(): {"resources": {"VCPU": 1}}}), Some(0)).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let ok = c.allocate(&consumer, json!({rp.clone(): {"resources": {"VCPU": 1}}}), Some(1)).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    assert_eq!(c.get(&path).await.body["consumer_generation"], 2);

    let by_rp = c.get(&format!("/resource_providers/{rp}/allocations")).await;
    assert_eq!(by_rp.body["allocations"][&consumer]["resources"], json!({"VCPU": 1}));
    assert_eq!(by_rp.body["allocations"][&consumer]["consumer_generation"], 2);
    assert_eq!(by_rp.body["resource_provider_generation"], c.generation(&rp).await);

    // An empty allocations object with the right generation removes them safely.
    let cleared = c.allocate(&consumer, json!({}), Some(2)).await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT, "{}", cleared.body);
    assert_eq!(c.get(&path).await.body, json!({"allocations": {}}));
    assert_eq!(c.call(Method::DELETE, &path, LATEST, None).await.status, StatusCode::NOT_FOUND);
    let fresh = c.allocate(&consumer, json!({rp.clone(): {"resources": {"VCPU": 1}}}), None).await;
    assert_eq!(fresh.status, StatusCode::NO_CONTENT, "a cleared consumer starts over");
    assert_eq!(c.call(Method::DELETE, &path, LATEST, None).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn capacity_and_unit_rules() {
    let c = Cloud::start().await;
    let rp = c.provider("cn", None).await;
    c.inventory(&rp, json!({
        "VCPU": {"total": 4, "reserved": 1, "allocation_ratio": 2.0, "max_unit": 4},
        "MEMORY_MB": {"total": 1024, "min_unit": 128, "step_size": 128},
    }))
    .await;
    let alloc = |amounts: serde_json::Value| {
        let c = &c;
        let rp = rp.clone();
        async move { c.allocate(&uuid(), json!({rp: {"resources": amounts}}), None).await }
    };
    let r = alloc(json!({"VCPU": 5})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "max_unit");
    assert!(r.detail().contains("violate inventory constraints"), "{}", r.body);
    assert_eq!(alloc(json!({"MEMORY_MB": 64})).await.status, StatusCode::CONFLICT, "min_unit");
    assert_eq!(alloc(json!({"MEMORY_MB": 200})).await.status, StatusCode::CONFLICT, "step_size");
    assert_eq!(alloc(json!({"PCI_DEVICE": 1})).await.status, StatusCode::CONFLICT, "no inventory");
    assert_eq!(alloc(json!({"CUSTOM_UNKNOWN": 1})).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(alloc(json!({"VCPU": 0})).await.status, StatusCode::BAD_REQUEST);
    // (4 - 1) * 2 = 6 VCPU in all.
    assert_eq!(alloc(json!({"VCPU": 4})).await.status, StatusCode::NO_CONTENT);
    assert_eq!(alloc(json!({"VCPU": 2})).await.status, StatusCode::NO_CONTENT);
    let full = alloc(json!({"VCPU": 1})).await;
    assert_eq!(full.status, StatusCode::CONFLICT);
    assert!(full.detail().contains("exceed the capacity"), "{}", full.body);
    let usage = c.get(&format!("/resource_providers/{rp}/usages")).await;
    assert_eq!(usage.body["usages"], json!({"VCPU": 6, "MEMORY_MB": 0}));
    let missing = c.allocate(&uuid(), json!({uuid(): {"resources": {"VCPU": 1}}}), None).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.detail().contains("does not exist"));
    let bad = c.call(Method::PUT, "/allocations/not-a-uuid", LATEST, Some(json!({}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn body_formats_of_older_versions() {
    let c = Cloud::start().await;
    let rp = c.provider("cn", None).await;
    c.inventory(&rp, json!({"VCPU": {"total": 8}})).await;
    let consumer = uuid();
    let list_form = json!({"allocations": [{"resource_provider": {"uuid": rp}, "resources": {"VCPU": 1}}]});
    let r = c.call(Method::PUT, &format!("/allocations/{consumer}"), "1.0", Some(list_form.clone())).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = c.call(Method::PUT, &format!("/allocations/{consumer}"), "1.8", Some(list_form.clone())).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "1.8 needs project and user");
    let mut with_ids = list_form.clone();
    with_ids["project_id"] = json!("p2");
    with_ids["user_id"] = json!("u2");
    assert_eq!(c.call(Method::PUT, &format!("/allocations/{consumer}"), "1.8", Some(with_ids)).await.status, StatusCode::NO_CONTENT);
    let dict = json!({"allocations": {rp.clone(): {"resources": {"VCPU": 3}}}, "project_id": "p2", "user_id": "u2"});
    assert_eq!(c.call(Method::PUT, &format!("/allocations/{consumer}"), "1.12", Some(dict.clone())).await.status, StatusCode::NO_CONTENT);
    assert_eq!(c.call(Method::PUT, &format!("/allocations/{consumer}"), "1.28", Some(dict)).await.status, StatusCode::BAD_REQUEST, "1.28 needs consumer_generation");
    let no_type = json!({"allocations": {}, "project_id": "p2", "user_id": "u2", "consumer_generation": 3});
    assert_eq!(c.call(Method::PUT, &format!("/allocations/{consumer}"), LATEST, Some(no_type)).await.status, StatusCode::BAD_REQUEST, "1.38 needs consumer_type");
    let got = c.get(&format!("/allocations/{consumer}")).await;
    assert_eq!(got.body["consumer_type"], "unknown");
    assert_eq!(got.body["consumer_generation"], 3);
    let usages = c.call(Method::GET, "/usages?project_id=p2", "1.9", None).await;
    assert_eq!(usages.body, json!({"usages": {"VCPU": 3}}));
}

#[tokio::test]
async fn post_allocations_moves_atomically() {
    let c = Cloud::start().await;
    let src = c.provider("src", None).await;
    let dst = c.provider("dst", None).await;
    c.inventory(&src, json!({"VCPU": {"total": 4}})).await;
    c.inventory(&dst, json!({"VCPU": {"total": 4}})).await;
    let instance = uuid();
    let migration = uuid();
    assert_eq!(c.allocate(&instance, json!({src.clone(): {"resources": {"VCPU": 2}}}), None).await.status, StatusCode::NO_CONTENT);
    let entry = |allocs: serde_json::Value, gen: Option<i64>, kind: &str| json!({"allocations": allocs, "project_id": "p1", "user_id": "u1", "consumer_generation": gen, "consumer_type": kind});
    // The move fails as a whole when one part does not fit.
    let too_big = json!({
        migration.clone(): entry(json!({src.clone(): {"resources": {"VCPU": 2}}}), None, "MIGRATION"),
        instance.clone(): entry(json!({dst.clone(): {"resources": {"VCPU": 5}}}), Some(1), "INSTANCE"),
    });
    let r = c.call(Method::POST, "/allocations", LATEST, Some(too_big)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(c.get(&format!("/allocations/{migration}")).await.body["allocations"], json!({}));
    assert_eq!(c.get(&format!("/allocations/{instance}")).await.body["allocations"][&src]["resources"]["VCPU"], 2);
    let moved = json!({
        migration.clone(): entry(json!({src.clone(): {"resources": {"VCPU": 2}}}), None, "MIGRATION"),
        instance.clone(): entry(json!({dst.clone(): {"resources": {"VCPU": 2}}}), Some(1), "INSTANCE"),
    });
    let r = c.call(Method::POST, "/allocations", LATEST, Some(moved)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(c.get(&format!("/allocations/{instance}")).await.body["allocations"][&dst]["resources"]["VCPU"], 2);
    assert_eq!(c.get(&format!("/allocations/{migration}")).await.body["consumer_type"], "MIGRATION");
    assert_eq!(c.call(Method::POST, "/allocations", "1.12", Some(json!({}))).await.status, StatusCode::NOT_FOUND, "POST /allocations is 1.13");
    // Usages by project, user and consumer type.
    let typed = c.get("/usages?project_id=p1").await;
    assert_eq!(typed.body["usages"]["MIGRATION"], json!({"VCPU": 2, "consumer_count": 1}));
    assert_eq!(typed.body["usages"]["INSTANCE"], json!({"VCPU": 2, "consumer_count": 1}));
    let all = c.get("/usages?project_id=p1&consumer_type=all").await;
    assert_eq!(all.body["usages"]["all"], json!({"VCPU": 4, "consumer_count": 2}));
    let plain = c.call(Method::GET, "/usages?project_id=p1&user_id=u1", "1.37", None).await;
    assert_eq!(plain.body, json!({"usages": {"VCPU": 4}}));
    assert_eq!(c.call(Method::GET, "/usages?project_id=p1&user_id=nobody", "1.37", None).await.body, json!({"usages": {}}));
    assert_eq!(c.get("/usages").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.call(Method::GET, "/usages?project_id=p1", "1.8", None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reshaper_moves_inventory_and_allocations_together() {
    let c = Cloud::start().await;
    let root = c.provider("host", None).await;
    c.inventory(&root, json!({"VCPU": {"total": 8}, "VGPU": {"total": 2}})).await;
    let child = c.provider("host-gpu", Some(&root)).await;
    let consumer = uuid();
    assert_eq!(c.allocate(&consumer, json!({root.clone(): {"resources": {"VCPU": 1, "VGPU": 1}}}), None).await.status, StatusCode::NO_CONTENT);
    let body = json!({
        "inventories": {
            root.clone(): {"resource_provider_generation": c.generation(&root).await, "inventories": {"VCPU": {"total": 8}}},
            child.clone(): {"resource_provider_generation": c.generation(&child).await, "inventories": {"VGPU": {"total": 2}}},
        },
        "allocations": {consumer.clone(): {
            "allocations": {root.clone(): {"resources": {"VCPU": 1}}, child.clone(): {"resources": {"VGPU": 1}}},
            "project_id": "p1", "user_id": "u1", "consumer_generation": 1, "consumer_type": "INSTANCE",
        }},
    });
    let admin_only = c.call(Method::POST, "/reshaper", LATEST, Some(body.clone())).await;
    assert_eq!(admin_only.status, StatusCode::FORBIDDEN, "the reshaper is for the service role");
    let service = crate::policy::service_token(&c).await;
    let r = c.call_as(&service, Method::POST, "/reshaper", LATEST, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let got = c.get(&format!("/allocations/{consumer}")).await;
    assert_eq!(got.body["allocations"][&child]["resources"], json!({"VGPU": 1}));
    assert!(c.get(&format!("/resource_providers/{root}/inventories")).await.body["inventories"].get("VGPU").is_none());
    let again = c.call_as(&service, Method::POST, "/reshaper", LATEST, Some(body)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "stale generations");
}
