//! Quota sets, quota classes, limits, and the instance quota check the servers API runs.

use crate::support::Cloud;
use http::{Method, StatusCode};
use monostack_compute::ComputeService;
use serde_json::{json, Value};
use std::sync::Arc;

/// Inserts a live instance of `project`/`user` with a flavor of `vcpus` and `ram` (what the
/// servers API stores), returning its uuid.
pub async fn insert_instance(svc: &ComputeService, project: &str, user: &str, vcpus: i64, ram: i64, host: Option<&str>) -> String {
    let uuid = uuid::Uuid::new_v4().to_string();
    let flavor = json!({"vcpus": vcpus, "memory_mb": ram, "root_gb": 1, "ephemeral_gb": 0, "name": "test", "flavorid": "t"}).to_string();
    let now = monostack_common::time::now_micros();
    loop {
        let id = monostack_compute::db::next_id(&svc.db, &svc.db.pool, "instances").await.expect("next id");
        let inserted = sqlx::query(&svc.db.sql(
            "INSERT INTO instances (uuid, id, display_name, project_id, user_id, flavor, vm_state, power_state, locked, hidden, host, created_at, launched_at, deleted) VALUES (?, ?, ?, ?, ?, ?, 'active', 1, 0, 0, ?, ?, ?, 0)",
        ))
        .bind(uuid.clone())
        .bind(id)
        .bind(format!("vm-{id}"))
        .bind(project.to_string())
        .bind(user.to_string())
        .bind(flavor.clone())
        .bind(host.map(str::to_string))
        .bind(now)
        .bind(now)
        .execute(&svc.db.pool)
        .await;
        if inserted.is_ok() {
            return uuid;
        }
    }
}

fn keys(body: &Value) -> Vec<String> {
    let mut k: Vec<String> = body.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    k.sort();
    k
}

#[tokio::test]
async fn defaults_show_and_microversion_filtering() {
    let cloud = Cloud::start().await;
    let (_, project, member) = cloud.member("quinn").await;
    let shown = cloud.call(Method::GET, &format!("/v2.1/os-quota-sets/{project}"), &member, None).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let set = &shown.body["quota_set"];
    assert_eq!((set["instances"].clone(), set["cores"].clone(), set["ram"].clone()), (json!(10), json!(20), json!(51200)));
    assert_eq!((set["key_pairs"].clone(), set["server_groups"].clone(), set["fixed_ips"].clone()), (json!(100), json!(10), json!(-1)));
    assert_eq!(set["id"], project.as_str());
    assert_eq!(set["injected_file_path_bytes"], 255);

    let v236 = cloud.call_at(Some("2.36"), Method::GET, &format!("/v2.1/os-quota-sets/{project}"), &member, None).await;
    assert!(v236.body["quota_set"].get("floating_ips").is_none());
    assert!(v236.body["quota_set"].get("injected_files").is_some());
    let v257 = cloud.call_at(Some("2.57"), Method::GET, &format!("/v2.1/os-quota-sets/{project}"), &member, None).await;
    assert_eq!(
        keys(&v257.body["quota_set"]),
        vec!["cores", "id", "instances", "key_pairs", "metadata_items", "ram", "server_group_members", "server_groups"]
    );
    let defaults = cloud.call(Method::GET, &format!("/v2.1/os-quota-sets/{project}/defaults"), &member, None).await;
    assert_eq!(defaults.body["quota_set"]["instances"], 10);

    let (_, other, _) = cloud.member("rory").await;
    let foreign = cloud.call(Method::GET, &format!("/v2.1/os-quota-sets/{other}"), &member, None).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let strict = cloud.call_at(Some("2.75"), Method::GET, &format!("/v2.1/os-quota-sets/{project}?colour=red"), &member, None).await;
    assert_eq!(strict.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn update_detail_user_quotas_and_revert() {
    let cloud = Cloud::start().await;
    let (user, project, member) = cloud.member("sam").await;
    let url = format!("/v2.1/os-quota-sets/{project}");
    for _ in 0..3 {
        insert_instance(&cloud.compute, &project, &user, 2, 1024, None).await;
    }
    let detail = cloud.call(Method::GET, &format!("{url}/detail"), &member, None).await;
    assert_eq!(detail.body["quota_set"]["instances"], json!({"limit": 10, "in_use": 3, "reserved": 0}));
    assert_eq!(detail.body["quota_set"]["cores"]["in_use"], 6);
    assert_eq!(detail.body["quota_set"]["ram"]["in_use"], 3072);

    let denied = cloud.call(Method::PUT, &url, &member, Some(json!({"quota_set": {"instances": 50}}))).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let below_usage = cloud.call(Method::PUT, &url, &cloud.admin, Some(json!({"quota_set": {"instances": 2}}))).await;
    assert_eq!(below_usage.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        below_usage.body["badRequest"]["message"],
        "Quota limit 2 for instances must be greater than or equal to already used and reserved 3."
    );
    let forced = cloud.call(Method::PUT, &url, &cloud.admin, Some(json!({"quota_set": {"instances": "2", "force": "True"}}))).await;
    assert_eq!(forced.status, StatusCode::OK, "{}", forced.body);
    assert_eq!(forced.body["quota_set"]["instances"], 2);
    assert!(forced.body["quota_set"].get("id").is_none(), "update answers without the id");
    for bad in [json!({"quota_set": {"instances": -2}}), json!({"quota_set": {"instances": "ten"}}), json!({"quota_set": {"bogus": 1}}), json!({"quota": {}})] {
        let r = cloud.call(Method::PUT, &url, &cloud.admin, Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let removed_key = cloud.call_at(Some("2.36"), Method::PUT, &url, &cloud.admin, Some(json!({"quota_set": {"floating_ips": 1}}))).await;
    assert_eq!(removed_key.status, StatusCode::BAD_REQUEST);
    let unlimited = cloud.call(Method::PUT, &url, &cloud.admin, Some(json!({"quota_set": {"cores": -1}}))).await;
    assert_eq!(unlimited.body["quota_set"]["cores"], -1);

    // A user's own limits: at most what the project leaves.
    let user_url = format!("{url}?user_id={user}");
    let too_much = cloud.call(Method::PUT, &user_url, &cloud.admin, Some(json!({"quota_set": {"ram": 60000}}))).await;
    assert_eq!(too_much.body["badRequest"]["message"], "Quota limit 60000 for ram must be less than or equal to 51200.");
    let user_set = cloud.call(Method::PUT, &user_url, &cloud.admin, Some(json!({"quota_set": {"ram": 4096}}))).await;
    assert_eq!(user_set.status, StatusCode::OK, "{}", user_set.body);
    assert_eq!(user_set.body["quota_set"]["ram"], 4096);
    let user_show = cloud.call(Method::GET, &user_url, &member, None).await;
    assert_eq!((user_show.body["quota_set"]["ram"].clone(), user_show.body["quota_set"]["instances"].clone()), (json!(4096), json!(2)));
    let project_show = cloud.call(Method::GET, &url, &member, None).await;
    assert_eq!(project_show.body["quota_set"]["ram"], 51200);
    // The project may not drop below what its users were given.
    let below_users = cloud.call(Method::PUT, &url, &cloud.admin, Some(json!({"quota_set": {"ram": 4000}}))).await;
    assert_eq!(below_users.status, StatusCode::BAD_REQUEST);

    let user_revert = cloud.call(Method::DELETE, &user_url, &cloud.admin, None).await;
    assert_eq!(user_revert.status, StatusCode::ACCEPTED);
    let reverted = cloud.call(Method::DELETE, &url, &cloud.admin, None).await;
    assert_eq!(reverted.status, StatusCode::ACCEPTED);
    let back = cloud.call(Method::GET, &url, &member, None).await;
    assert_eq!((back.body["quota_set"]["instances"].clone(), back.body["quota_set"]["cores"].clone()), (json!(10), json!(20)));
    let member_delete = cloud.call(Method::DELETE, &url, &member, None).await;
    assert_eq!(member_delete.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn quota_classes_set_the_defaults() {
    let cloud = Cloud::start().await;
    let (_, project, member) = cloud.member("tess").await;
    let shown = cloud.call(Method::GET, "/v2.1/os-quota-class-sets/default", &cloud.admin, None).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.body["quota_class_set"]["id"], "default");
    assert!(shown.body["quota_class_set"].get("server_groups").is_none(), "server groups appear at 2.50");
    assert!(shown.body["quota_class_set"].get("floating_ips").is_some());
    let v250 = cloud.call_at(Some("2.50"), Method::GET, "/v2.1/os-quota-class-sets/default", &cloud.admin, None).await;
    assert_eq!(v250.body["quota_class_set"]["server_groups"], 10);
    assert!(v250.body["quota_class_set"].get("floating_ips").is_none());

    let updated = cloud.call(Method::PUT, "/v2.1/os-quota-class-sets/default", &cloud.admin, Some(json!({"quota_class_set": {"instances": 33, "server_groups": 3}}))).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["quota_class_set"]["instances"], 33);
    assert!(updated.body["quota_class_set"].get("id").is_none());
    let project_now = cloud.call(Method::GET, &format!("/v2.1/os-quota-sets/{project}"), &member, None).await;
    assert_eq!((project_now.body["quota_set"]["instances"].clone(), project_now.body["quota_set"]["server_groups"].clone()), (json!(33), json!(3)));
    let limits = cloud.call(Method::GET, "/v2.1/limits", &member, None).await;
    assert_eq!(limits.body["limits"]["absolute"]["maxTotalInstances"], 33);

    let denied = cloud.call(Method::GET, "/v2.1/os-quota-class-sets/default", &member, None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let bad = cloud.call(Method::PUT, "/v2.1/os-quota-class-sets/default", &cloud.admin, Some(json!({"quota_class_set": {"instances": "x"}}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn limits_show_quota_and_usage() {
    let cloud = Cloud::start().await;
    let (user, project, member) = cloud.member("uma").await;
    insert_instance(&cloud.compute, &project, &user, 4, 2048, None).await;
    let limits = cloud.call(Method::GET, "/v2.1/limits", &member, None).await;
    assert_eq!(limits.status, StatusCode::OK);
    assert_eq!(limits.body["limits"]["rate"], json!([]));
    let abs = &limits.body["limits"]["absolute"];
    assert_eq!((abs["maxTotalInstances"].clone(), abs["totalInstancesUsed"].clone()), (json!(10), json!(1)));
    assert_eq!((abs["totalCoresUsed"].clone(), abs["totalRAMUsed"].clone()), (json!(4), json!(2048)));
    for name in ["maxTotalCores", "maxTotalRAMSize", "maxServerMeta", "maxImageMeta", "maxPersonality", "maxPersonalitySize", "maxTotalKeypairs", "maxServerGroups", "maxServerGroupMembers", "maxTotalFloatingIps", "maxSecurityGroups", "totalServerGroupsUsed"] {
        assert!(abs.get(name).is_some(), "{name} missing: {abs}");
    }
    let v236 = cloud.call_at(Some("2.36"), Method::GET, "/v2.1/limits", &member, None).await;
    assert!(v236.body["limits"]["absolute"].get("maxTotalFloatingIps").is_none());
    assert!(v236.body["limits"]["absolute"].get("maxImageMeta").is_some());
    let v239 = cloud.call_at(Some("2.39"), Method::GET, "/v2.1/limits", &member, None).await;
    assert!(v239.body["limits"]["absolute"].get("maxImageMeta").is_none());
    let v257 = cloud.call_at(Some("2.57"), Method::GET, "/v2.1/limits", &member, None).await;
    assert!(v257.body["limits"]["absolute"].get("maxPersonality").is_none());

    let other = cloud.call(Method::GET, &format!("/v2.1/limits?tenant_id={project}"), &cloud.admin, None).await;
    assert_eq!(other.body["limits"]["absolute"]["totalInstancesUsed"], 1);
    let (_, _, vic) = cloud.member("vic").await;
    let snoop = cloud.call(Method::GET, &format!("/v2.1/limits?tenant_id={project}"), &vic, None).await;
    assert_eq!(snoop.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn instance_quota_check_counts_and_words_like_nova() {
    let cloud = Cloud::start().await;
    let (user, project, _) = cloud.member("walt").await;
    let svc = &cloud.compute;
    for _ in 0..9 {
        insert_instance(svc, &project, &user, 2, 512, None).await;
    }
    let err = monostack_compute::quota::check_instances(svc, &project, &user, 1, 1, 4, 512).await.err().map(|e| (e.status, e.message));
    assert_eq!(err, Some((StatusCode::FORBIDDEN, "Quota exceeded for cores: Requested 4, but already used 18 of 20 cores".to_string())));
    let grant = monostack_compute::quota::check_instances(svc, &project, &user, 1, 5, 1, 512).await.expect("one fits");
    assert_eq!(grant.count, 1, "only one more instance fits");
    drop(grant);
    let range = monostack_compute::quota::check_instances(svc, &project, &user, 2, 3, 1, 512).await.err().map(|e| e.message);
    assert_eq!(range.as_deref(), Some("Quota exceeded for cores, instances: Requested 3, 2-3, but already used 18, 9 of 20, 10 cores, instances"));
}

#[tokio::test]
async fn concurrent_creates_never_exceed_the_quota() {
    let cloud = Cloud::start().await;
    let (user, project, _) = cloud.member("xena").await;
    let svc: Arc<ComputeService> = cloud.compute.clone();
    let url = format!("/v2.1/os-quota-sets/{project}");
    let set = cloud.call(Method::PUT, &url, &cloud.admin, Some(json!({"quota_set": {"instances": 50, "cores": -1, "ram": -1}}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (svc, project, user) = (svc.clone(), project.clone(), user.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(grant) = monostack_compute::quota::check_instances(&svc, &project, &user, 1, 1, 1, 64).await else { return false };
            insert_instance(&svc, &project, &user, 1, 64, None).await;
            drop(grant);
            true
        }));
    }
    let mut created = 0;
    for t in tasks {
        if t.await.expect("task") {
            created += 1;
        }
    }
    assert_eq!(created, 50);
    let usage = monostack_compute::quota::usage(&svc, &project, None).await.expect("usage");
    assert_eq!(usage.instances, 50);
    assert!(monostack_compute::quota::recheck_instances(&svc, &project, &user).await.is_ok());
}
