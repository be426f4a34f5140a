//! Simple tenant usage, migrations and the legacy extension list.

use crate::quotas::insert_instance;
use crate::support::Cloud;
use http::{Method, StatusCode};
use monostack_compute::ComputeService;
use serde_json::json;

const HOUR: i64 = 3_600_000_000;

async fn set_times(svc: &ComputeService, uuid: &str, launched_at: i64, terminated_at: Option<i64>) {
    sqlx::query(&svc.db.sql("UPDATE instances SET launched_at = ?, created_at = ?, terminated_at = ? WHERE uuid = ?"))
        .bind(launched_at)
        .bind(launched_at)
        .bind(terminated_at)
        .bind(uuid.to_string())
        .execute(&svc.db.pool)
        .await
        .expect("update");
}

fn iso(micros: i64) -> String {
    monostack_common::time::to_datetime(micros).format("%Y-%m-%dT%H:%M:%S").to_string()
}

#[tokio::test]
async fn tenant_usage_sums_hours_in_the_period() {
    let cloud = Cloud::start().await;
    let svc = &cloud.compute;
    let (user, project, token) = cloud.member("una").await;
    let (other_user, other_project, _) = cloud.member("vera").await;
    let now = monostack_common::time::now_micros();
    let day_start = now - 10 * HOUR;
    let running = insert_instance(svc, &project, &user, 2, 1024, None).await;
    set_times(svc, &running, day_start, None).await;
    let ended = insert_instance(svc, &project, &user, 1, 512, None).await;
    set_times(svc, &ended, day_start, Some(day_start + 2 * HOUR)).await;
    let foreign = insert_instance(svc, &other_project, &other_user, 1, 512, None).await;
    set_times(svc, &foreign, day_start, None).await;

    let start = iso(day_start);
    let end = iso(day_start + 4 * HOUR);
    let mine = cloud.call(Method::GET, &format!("/v2.1/os-simple-tenant-usage/{project}?start={start}&end={end}"), &token, None).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    let usage = &mine.body["tenant_usage"];
    assert_eq!(usage["tenant_id"], project.as_str());
    let total_hours = usage["total_hours"].as_f64().unwrap_or_default();
    assert!((total_hours - 6.0).abs() < 0.01, "4 h running + 2 h until termination: {total_hours}");
    assert!((usage["total_vcpus_usage"].as_f64().unwrap_or_default() - 10.0).abs() < 0.01);
    let servers = usage["server_usages"].as_array().cloned().unwrap_or_default();
    assert_eq!(servers.len(), 2);
    let ended_view = servers.iter().find(|s| s["instance_id"] == ended.as_str()).cloned().unwrap_or_default();
    assert_eq!(ended_view["state"], "terminated");
    assert_eq!(ended_view["flavor"], "test");
    assert_eq!(ended_view["local_gb"], 1);

    let empty = cloud.call(Method::GET, &format!("/v2.1/os-simple-tenant-usage/{project}?start={}&end={}", iso(now - 100 * HOUR), iso(now - 90 * HOUR)), &token, None).await;
    assert_eq!(empty.body["tenant_usage"], json!({}));
    let backwards = cloud.call(Method::GET, &format!("/v2.1/os-simple-tenant-usage/{project}?start={end}&end={start}"), &token, None).await;
    assert_eq!(backwards.body["badRequest"]["message"], "Invalid start time. The start time cannot occur after the end time.");
    let garbage = cloud.call(Method::GET, &format!("/v2.1/os-simple-tenant-usage/{project}?start=yesterday"), &token, None).await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    let foreign_view = cloud.call(Method::GET, &format!("/v2.1/os-simple-tenant-usage/{other_project}"), &token, None).await;
    assert_eq!(foreign_view.status, StatusCode::FORBIDDEN);
    let list_denied = cloud.call(Method::GET, "/v2.1/os-simple-tenant-usage", &token, None).await;
    assert_eq!(list_denied.status, StatusCode::FORBIDDEN);

    let all = cloud.call(Method::GET, &format!("/v2.1/os-simple-tenant-usage?start={start}&end={end}&detailed=1"), &cloud.admin, None).await;
    let tenants = all.body["tenant_usages"].as_array().cloned().unwrap_or_default();
    assert_eq!(tenants.len(), 2);
    assert!(tenants.iter().all(|t| t["server_usages"].is_array()));
    let brief = cloud.call(Method::GET, &format!("/v2.1/os-simple-tenant-usage?start={start}&end={end}"), &cloud.admin, None).await;
    assert!(brief.body["tenant_usages"][0].get("server_usages").is_none());

    let page = cloud.call_at(Some("2.40"), Method::GET, &format!("/v2.1/os-simple-tenant-usage?start={start}&end={end}&limit=1"), &cloud.admin, None).await;
    assert_eq!(page.body["tenant_usages"].as_array().map(Vec::len), Some(1));
    let next = page.body["tenant_usages_links"][0]["href"].as_str().unwrap_or_default().to_string();
    assert!(next.contains("marker="), "{next}");
    let bad_marker = cloud.call_at(Some("2.40"), Method::GET, "/v2.1/os-simple-tenant-usage?marker=nope", &cloud.admin, None).await;
    assert_eq!(bad_marker.status, StatusCode::BAD_REQUEST);
}

async fn insert_migration(svc: &ComputeService, instance: &str, kind: &str, status: &str, source: &str, project: &str, created_at: i64) -> (i64, String) {
    let uuid = uuid::Uuid::new_v4().to_string();
    let id = monostack_compute::db::next_id(&svc.db, &svc.db.pool, "migrations").await.expect("id");
    sqlx::query(&svc.db.sql(
        "INSERT INTO migrations (id, uuid, instance_uuid, source_compute, dest_compute, source_node, dest_node, status, migration_type, hidden, project_id, user_id, created_at, updated_at, deleted) \
         VALUES (?, ?, ?, ?, 'dest', 'src-node', 'dest-node', ?, ?, 0, ?, 'u1', ?, ?, 0)",
    ))
    .bind(id)
    .bind(uuid.clone())
    .bind(instance.to_string())
    .bind(source.to_string())
    .bind(status.to_string())
    .bind(kind.to_string())
    .bind(project.to_string())
    .bind(created_at)
    .bind(created_at)
    .execute(&svc.db.pool)
    .await
    .expect("insert migration");
    (id, uuid)
}

#[tokio::test]
async fn migrations_filters_versions_and_paging() {
    let cloud = Cloud::start().await;
    let svc = &cloud.compute;
    let now = monostack_common::time::now_micros();
    let instance = uuid::Uuid::new_v4().to_string();
    let (first_id, first) = insert_migration(svc, &instance, "resize", "finished", "src", "p1", now - 3 * HOUR).await;
    let (live_id, live) = insert_migration(svc, &instance, "live-migration", "running", "src", "p1", now - 2 * HOUR).await;
    let (_, last) = insert_migration(svc, &uuid::Uuid::new_v4().to_string(), "evacuation", "done", "other", "p2", now - HOUR).await;

    let all = cloud.call(Method::GET, "/v2.1/os-migrations", &cloud.admin, None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let list = all.body["migrations"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["id"], first_id, "oldest first before 2.59");
    assert!(list[0].get("migration_type").is_none() && list[0].get("uuid").is_none());
    assert_eq!(list[0]["source_compute"], "src");

    let v223 = cloud.call_at(Some("2.23"), Method::GET, "/v2.1/os-migrations?migration_type=live-migration", &cloud.admin, None).await;
    let m = &v223.body["migrations"][0];
    assert_eq!(m["migration_type"], "live-migration");
    assert!(m["links"][0]["href"].as_str().is_some_and(|h| h.ends_with(&format!("/v2.1/servers/{instance}/migrations/{live_id}"))));

    let by_host = cloud.call(Method::GET, "/v2.1/os-migrations?host=other", &cloud.admin, None).await;
    assert_eq!(by_host.body["migrations"].as_array().map(Vec::len), Some(1));
    let by_status = cloud.call(Method::GET, "/v2.1/os-migrations?status=finished", &cloud.admin, None).await;
    assert_eq!(by_status.body["migrations"][0]["id"], first_id);
    let by_instance = cloud.call(Method::GET, &format!("/v2.1/os-migrations?instance_uuid={instance}"), &cloud.admin, None).await;
    assert_eq!(by_instance.body["migrations"].as_array().map(Vec::len), Some(2));

    let newest = cloud.call_at(Some("2.59"), Method::GET, "/v2.1/os-migrations?limit=2", &cloud.admin, None).await;
    let uuids: Vec<_> = newest.body["migrations"].as_array().map(|a| a.iter().filter_map(|m| m["uuid"].as_str().map(String::from)).collect()).unwrap_or_default();
    assert_eq!(uuids, vec![last.clone(), live.clone()]);
    assert!(newest.body["migrations_links"][0]["href"].as_str().is_some_and(|h| h.ends_with(&format!("marker={live}"))));
    let rest = cloud.call_at(Some("2.59"), Method::GET, &format!("/v2.1/os-migrations?marker={live}"), &cloud.admin, None).await;
    assert_eq!(rest.body["migrations"][0]["uuid"], first.as_str());
    let bad_marker = cloud.call_at(Some("2.59"), Method::GET, "/v2.1/os-migrations?marker=nope", &cloud.admin, None).await;
    assert_eq!(bad_marker.body["badRequest"]["message"], "Marker nope could not be found.");
    let since = cloud.call_at(Some("2.59"), Method::GET, &format!("/v2.1/os-migrations?changes-since={}", iso(now - 90 * 60 * 1_000_000)), &cloud.admin, None).await;
    assert_eq!(since.body["migrations"].as_array().map(Vec::len), Some(1));
    let backwards = cloud
        .call_at(Some("2.66"), Method::GET, &format!("/v2.1/os-migrations?changes-since={}&changes-before={}", iso(now), iso(now - HOUR)), &cloud.admin, None)
        .await;
    assert_eq!(backwards.body["badRequest"]["message"], "The value of changes-since must be less than or equal to changes-before.");
    let strict = cloud.call_at(Some("2.59"), Method::GET, "/v2.1/os-migrations?colour=red", &cloud.admin, None).await;
    assert_eq!(strict.status, StatusCode::BAD_REQUEST);
    let v280 = cloud.call_at(Some("2.80"), Method::GET, "/v2.1/os-migrations?project_id=p2", &cloud.admin, None).await;
    assert_eq!((v280.body["migrations"][0]["project_id"].as_str(), v280.body["migrations"][0]["user_id"].as_str()), (Some("p2"), Some("u1")));

    let (_, _, member) = cloud.member("wes").await;
    let denied = cloud.call(Method::GET, "/v2.1/os-migrations", &member, None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn extensions_are_listed() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("xan").await;
    let list = cloud.call(Method::GET, "/v2.1/extensions", &member, None).await;
    assert_eq!(list.status, StatusCode::OK);
    let aliases: Vec<_> = list.body["extensions"].as_array().map(|a| a.iter().filter_map(|e| e["alias"].as_str().map(String::from)).collect()).unwrap_or_default();
    assert!(aliases.len() > 90);
    for alias in ["os-keypairs", "os-aggregates", "os-hypervisors", "os-server-groups", "OS-EXT-AZ"] {
        assert!(aliases.iter().any(|a| a == alias), "{alias}");
    }
    let one = cloud.call(Method::GET, "/v2.1/extensions/os-keypairs", &member, None).await;
    assert_eq!(one.body["extension"]["name"], "Keypairs");
    let missing = cloud.call(Method::GET, "/v2.1/extensions/os-teleport", &member, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_default_rule_parses() {
    let enforcer = monostack_auth::policy::Enforcer::try_new(monostack_compute::policy_defaults::DEFAULT_RULES);
    assert!(enforcer.is_ok(), "{:?}", enforcer.err());
}
