//! Flavors, flavor access and extra specs.

use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::{json, Value};

fn ids(body: &Value, key: &str) -> Vec<String> {
    body[key].as_array().map(|a| a.iter().filter_map(|f| f["id"].as_str().map(String::from)).collect()).unwrap_or_default()
}

#[tokio::test]
async fn default_flavors_are_seeded_once() {
    let cloud = Cloud::start().await;
    let list = cloud.call(Method::GET, "/v2.1/flavors/detail", &cloud.admin, None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let flavors = list.body["flavors"].as_array().cloned().unwrap_or_default();
    assert_eq!(flavors.len(), 10);
    let tiny = flavors.iter().find(|f| f["name"] == "m1.tiny").cloned().unwrap_or_default();
    assert_eq!((tiny["id"].clone(), tiny["ram"].clone(), tiny["disk"].clone(), tiny["vcpus"].clone()), (json!("1"), json!(512), json!(1), json!(1)));
    assert_eq!(tiny["swap"], "", "swap is \"\" before 2.75");
    assert_eq!(tiny["os-flavor-access:is_public"], true);
    let d4 = flavors.iter().find(|f| f["id"] == "d4").cloned().unwrap_or_default();
    assert_eq!((d4["name"].clone(), d4["ram"].clone(), d4["disk"].clone(), d4["vcpus"].clone()), (json!("ds4G"), json!(4096), json!(20), json!(4)));
    // Opening again (a restart) adds nothing; an emptied table is not refilled behind the
    // operator's back either, because seeding only happens on open.
    monostack_compute::seed_default_flavors(&cloud.compute).await.expect("seed");
    let again = cloud.call(Method::GET, "/v2.1/flavors", &cloud.admin, None).await;
    assert_eq!(again.body["flavors"].as_array().map(Vec::len), Some(10));
    let show = cloud.call_at(Some("2.61"), Method::GET, "/v2.1/flavors/c1", &cloud.admin, None).await;
    assert_eq!(show.body["flavor"]["extra_specs"], json!({"hw_rng:allowed": "True"}));
}

#[tokio::test]
async fn list_filters_sorting_and_paging() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("alice").await;
    let by_ram = cloud.call(Method::GET, "/v2.1/flavors?minRam=4096&minDisk=40", &member, None).await;
    assert_eq!(ids(&by_ram.body, "flavors"), vec!["3", "4", "5"]);
    let bad = cloud.call(Method::GET, "/v2.1/flavors?minRam=lots", &member, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["badRequest"]["message"], "Invalid minRam filter [lots]");
    let sorted = cloud.call(Method::GET, "/v2.1/flavors/detail?sort_key=memory_mb&sort_dir=desc", &member, None).await;
    assert_eq!(sorted.body["flavors"][0]["id"], "5");
    let bad_key = cloud.call(Method::GET, "/v2.1/flavors?sort_key=colour", &member, None).await;
    assert_eq!(bad_key.status, StatusCode::BAD_REQUEST);

    let page = cloud.call(Method::GET, "/v2.1/flavors?limit=3", &member, None).await;
    assert_eq!(ids(&page.body, "flavors"), vec!["1", "2", "3"]);
    let next = page.body["flavors_links"][0]["href"].as_str().unwrap_or_default().to_string();
    assert!(next.ends_with("/v2.1/flavors?limit=3&marker=3"), "{next}");
    let page2 = cloud.call(Method::GET, "/v2.1/flavors?limit=3&marker=3", &member, None).await;
    assert_eq!(ids(&page2.body, "flavors"), vec!["4", "5", "c1"]);
    let last = cloud.call(Method::GET, "/v2.1/flavors?marker=d3", &member, None).await;
    assert_eq!(ids(&last.body, "flavors"), vec!["d4"]);
    assert!(last.body.get("flavors_links").is_none());
    let unknown = cloud.call(Method::GET, "/v2.1/flavors?marker=nope", &member, None).await;
    assert_eq!(unknown.body["badRequest"]["message"], "marker [nope] not found");
    let negative = cloud.call(Method::GET, "/v2.1/flavors?limit=-1", &member, None).await;
    assert_eq!(negative.status, StatusCode::BAD_REQUEST);
    let extra = cloud.call_at(Some("2.75"), Method::GET, "/v2.1/flavors?colour=red", &member, None).await;
    assert_eq!(extra.status, StatusCode::BAD_REQUEST);
    let tolerated = cloud.call_at(Some("2.74"), Method::GET, "/v2.1/flavors?colour=red", &member, None).await;
    assert_eq!(tolerated.status, StatusCode::OK);
}

#[tokio::test]
async fn create_show_update_delete() {
    let cloud = Cloud::start().await;
    let body = json!({"flavor": {"name": "big", "ram": 1024, "vcpus": 2, "disk": 10, "OS-FLV-EXT-DATA:ephemeral": 5, "swap": 512, "rxtx_factor": 2.5}});
    let created = cloud.call(Method::POST, "/v2.1/flavors", &cloud.admin, Some(body.clone())).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.body["flavor"]["id"].as_str().unwrap_or_default().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "an id is generated when none is given: {id}");
    assert_eq!(created.body["flavor"]["OS-FLV-EXT-DATA:ephemeral"], 5);
    assert_eq!(created.body["flavor"]["rxtx_factor"], 2.5);
    assert_eq!(created.body["flavor"]["links"][0]["href"].as_str().map(|h| h.ends_with(&format!("/v2.1/flavors/{id}"))), Some(true));
    assert!(created.body["flavor"].get("description").is_none());

    let dup_name = cloud.call(Method::POST, "/v2.1/flavors", &cloud.admin, Some(body)).await;
    assert_eq!(dup_name.status, StatusCode::CONFLICT);
    assert_eq!(dup_name.body["conflictingRequest"]["message"], "Flavor with name big already exists.");
    let dup_id = cloud.call(Method::POST, "/v2.1/flavors", &cloud.admin, Some(json!({"flavor": {"name": "other", "ram": 1, "vcpus": 1, "disk": 0, "id": "1"}}))).await;
    assert_eq!(dup_id.body["conflictingRequest"]["message"], "Flavor with ID 1 already exists.");

    let v255 = cloud
        .call_at(Some("2.55"), Method::POST, "/v2.1/flavors", &cloud.admin, Some(json!({"flavor": {"name": "described", "ram": 64, "vcpus": 1, "disk": 0, "id": 42, "description": "for tests"}})))
        .await;
    assert_eq!(v255.status, StatusCode::OK, "{}", v255.body);
    assert_eq!((v255.body["flavor"]["id"].clone(), v255.body["flavor"]["description"].clone()), (json!("42"), json!("for tests")));
    let old_update = cloud.call_at(Some("2.54"), Method::PUT, "/v2.1/flavors/42", &cloud.admin, Some(json!({"flavor": {"description": "x"}}))).await;
    assert_eq!(old_update.status, StatusCode::NOT_FOUND);
    let updated = cloud.call_at(Some("2.55"), Method::PUT, "/v2.1/flavors/42", &cloud.admin, Some(json!({"flavor": {"description": null}}))).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["flavor"]["description"], Value::Null);
    let bad_update = cloud.call_at(Some("2.55"), Method::PUT, "/v2.1/flavors/42", &cloud.admin, Some(json!({"flavor": {"name": "x"}}))).await;
    assert_eq!(bad_update.status, StatusCode::BAD_REQUEST);
    let v275 = cloud.call_at(Some("2.75"), Method::GET, "/v2.1/flavors/42", &cloud.admin, None).await;
    assert_eq!(v275.body["flavor"]["swap"], 0);

    let deleted = cloud.call(Method::DELETE, "/v2.1/flavors/42", &cloud.admin, None).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    let gone = cloud.call(Method::GET, "/v2.1/flavors/42", &cloud.admin, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body["itemNotFound"]["message"], "Flavor 42 could not be found.");
    let again = cloud.call(Method::DELETE, "/v2.1/flavors/42", &cloud.admin, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn create_validation_and_policy() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("bob").await;
    for bad in [
        json!({"flavor": {"name": "x", "ram": 0, "vcpus": 1, "disk": 0}}),
        json!({"flavor": {"name": "x", "ram": "many", "vcpus": 1, "disk": 0}}),
        json!({"flavor": {"name": " x", "ram": 1, "vcpus": 1, "disk": 0}}),
        json!({"flavor": {"name": "x", "ram": 1, "vcpus": 1}}),
        json!({"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "id": ""}}),
        json!({"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": -1}}),
        json!({"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "colour": "red"}}),
        json!({"flavor": "x"}),
        json!([]),
    ] {
        let r = cloud.call(Method::POST, "/v2.1/flavors", &cloud.admin, Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad} → {}", r.body);
        assert!(r.body["badRequest"]["message"].is_string(), "{}", r.body);
    }
    let ok = json!({"flavor": {"name": "mine", "ram": 1, "vcpus": 1, "disk": 0}});
    let denied = cloud.call(Method::POST, "/v2.1/flavors", &member, Some(ok)).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(denied.body["forbidden"]["message"], "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.");
    let delete = cloud.call(Method::DELETE, "/v2.1/flavors/1", &member, None).await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn private_flavors_and_access() {
    let cloud = Cloud::start().await;
    let (_, project, member) = cloud.member("carol").await;
    let (_, _, outsider) = cloud.member("dave").await;
    let body = json!({"flavor": {"name": "secret", "ram": 128, "vcpus": 1, "disk": 1, "id": "p1", "os-flavor-access:is_public": false}});
    let created = cloud.call(Method::POST, "/v2.1/flavors", &cloud.admin, Some(body)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);

    let hidden = cloud.call(Method::GET, "/v2.1/flavors/p1", &member, None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let admin_default = cloud.call(Method::GET, "/v2.1/flavors", &cloud.admin, None).await;
    assert!(!ids(&admin_default.body, "flavors").contains(&"p1".to_string()), "admins list public flavors by default");
    let admin_private = cloud.call(Method::GET, "/v2.1/flavors?is_public=false", &cloud.admin, None).await;
    assert_eq!(ids(&admin_private.body, "flavors"), vec!["p1"]);
    let admin_all = cloud.call(Method::GET, "/v2.1/flavors?is_public=None", &cloud.admin, None).await;
    assert_eq!(admin_all.body["flavors"].as_array().map(Vec::len), Some(11));
    let bad_filter = cloud.call(Method::GET, "/v2.1/flavors?is_public=perhaps", &cloud.admin, None).await;
    assert_eq!(bad_filter.body["badRequest"]["message"], "Invalid is_public filter [perhaps]");

    let empty = cloud.call(Method::GET, "/v2.1/flavors/p1/os-flavor-access", &cloud.admin, None).await;
    assert_eq!(empty.body, json!({"flavor_access": []}));
    let add = json!({"addTenantAccess": {"tenant": project}});
    let added = cloud.call(Method::POST, "/v2.1/flavors/p1/action", &cloud.admin, Some(add.clone())).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert_eq!(added.body, json!({"flavor_access": [{"flavor_id": "p1", "tenant_id": project}]}));
    let twice = cloud.call(Method::POST, "/v2.1/flavors/p1/action", &cloud.admin, Some(add.clone())).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);

    let visible = cloud.call(Method::GET, "/v2.1/flavors/p1", &member, None).await;
    assert_eq!(visible.status, StatusCode::OK);
    let listed = cloud.call(Method::GET, "/v2.1/flavors", &member, None).await;
    assert!(ids(&listed.body, "flavors").contains(&"p1".to_string()));
    let not_outsider = cloud.call(Method::GET, "/v2.1/flavors", &outsider, None).await;
    assert!(!ids(&not_outsider.body, "flavors").contains(&"p1".to_string()));

    let denied = cloud.call(Method::POST, "/v2.1/flavors/p1/action", &member, Some(add)).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let public_list = cloud.call(Method::GET, "/v2.1/flavors/1/os-flavor-access", &cloud.admin, None).await;
    assert_eq!(public_list.status, StatusCode::NOT_FOUND);
    let to_public = cloud.call_at(Some("2.7"), Method::POST, "/v2.1/flavors/1/action", &cloud.admin, Some(json!({"addTenantAccess": {"tenant": "x"}}))).await;
    assert_eq!(to_public.body["conflictingRequest"]["message"], "Can not add access to a public flavor.");
    let unknown_action = cloud.call(Method::POST, "/v2.1/flavors/p1/action", &cloud.admin, Some(json!({"frobnicate": {}}))).await;
    assert_eq!(unknown_action.body["badRequest"]["message"], "There is no such action: frobnicate");

    let remove = json!({"removeTenantAccess": {"tenant": project}});
    let removed = cloud.call(Method::POST, "/v2.1/flavors/p1/action", &cloud.admin, Some(remove.clone())).await;
    assert_eq!(removed.body, json!({"flavor_access": []}));
    let not_there = cloud.call(Method::POST, "/v2.1/flavors/p1/action", &cloud.admin, Some(remove)).await;
    assert_eq!(not_there.status, StatusCode::NOT_FOUND);
    let hidden_again = cloud.call(Method::GET, "/v2.1/flavors/p1", &member, None).await;
    assert_eq!(hidden_again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn extra_specs_crud_and_validation() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("erin").await;
    let base = "/v2.1/flavors/1/os-extra_specs";
    let created = cloud.call(Method::POST, base, &cloud.admin, Some(json!({"extra_specs": {"hw:cpu_policy": "dedicated", "count": 3}}))).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.body["extra_specs"]["count"], 3);
    let listed = cloud.call(Method::GET, base, &member, None).await;
    assert_eq!(listed.body["extra_specs"], json!({"hw:cpu_policy": "dedicated", "count": "3", "hw_rng:allowed": "True"}));
    let one = cloud.call(Method::GET, &format!("{base}/count"), &member, None).await;
    assert_eq!(one.body, json!({"count": "3"}));
    let missing = cloud.call(Method::GET, &format!("{base}/nope"), &member, None).await;
    assert_eq!(missing.body["itemNotFound"]["message"], "Flavor 1 has no extra specs with key nope.");

    let put = cloud.call(Method::PUT, &format!("{base}/count"), &cloud.admin, Some(json!({"count": "4"}))).await;
    assert_eq!(put.body, json!({"count": "4"}));
    let mismatch = cloud.call(Method::PUT, &format!("{base}/count"), &cloud.admin, Some(json!({"other": "4"}))).await;
    assert_eq!(mismatch.body["badRequest"]["message"], "Request body and URI mismatch");
    let two = cloud.call(Method::PUT, &format!("{base}/count"), &cloud.admin, Some(json!({"count": "4", "x": "y"}))).await;
    assert_eq!(two.status, StatusCode::BAD_REQUEST);
    let bad_key = cloud.call(Method::POST, base, &cloud.admin, Some(json!({"extra_specs": {"bad/key": "v"}}))).await;
    assert_eq!(bad_key.status, StatusCode::BAD_REQUEST);
    let long = cloud.call(Method::POST, base, &cloud.admin, Some(json!({"extra_specs": {"k": "v".repeat(256)}}))).await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);

    // Nova validates known namespaces from 2.86 only.
    let lax = cloud.call_at(Some("2.85"), Method::POST, base, &cloud.admin, Some(json!({"extra_specs": {"hw:cpu_policy": "fast"}}))).await;
    assert_eq!(lax.status, StatusCode::OK);
    let strict = cloud.call_at(Some("2.86"), Method::POST, base, &cloud.admin, Some(json!({"extra_specs": {"hw:cpu_policy": "fast"}}))).await;
    assert_eq!(strict.body["badRequest"]["message"], "Validation failed; 'fast' is not one of: dedicated, shared, mixed.");
    let unknown_hw = cloud.call_at(Some("2.86"), Method::POST, base, &cloud.admin, Some(json!({"extra_specs": {"hw:warp_drive": "1"}}))).await;
    assert_eq!(unknown_hw.status, StatusCode::BAD_REQUEST);
    let page_size = cloud.call_at(Some("2.86"), Method::POST, base, &cloud.admin, Some(json!({"extra_specs": {"hw:mem_page_size": "huge"}}))).await;
    assert_eq!(page_size.status, StatusCode::BAD_REQUEST);
    let custom = cloud
        .call_at(Some("2.86"), Method::POST, base, &cloud.admin, Some(json!({"extra_specs": {"acme:colour": "blue", "resources:CUSTOM_GPU": "1", "trait:HW_CPU_X86_AVX2": "required"}})))
        .await;
    assert_eq!(custom.status, StatusCode::OK, "{}", custom.body);

    let in_body = cloud.call_at(Some("2.61"), Method::GET, "/v2.1/flavors/1", &member, None).await;
    assert_eq!(in_body.body["flavor"]["extra_specs"]["acme:colour"], "blue");
    let before = cloud.call_at(Some("2.60"), Method::GET, "/v2.1/flavors/1", &member, None).await;
    assert!(before.body["flavor"].get("extra_specs").is_none());

    let denied = cloud.call(Method::DELETE, &format!("{base}/count"), &member, None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let deleted = cloud.call(Method::DELETE, &format!("{base}/count"), &cloud.admin, None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    let gone = cloud.call(Method::DELETE, &format!("{base}/count"), &cloud.admin, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}
