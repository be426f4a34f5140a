//! Server actions: Nova's preconditions (lock, host, vm and task state), the task state set at
//! the API, the instance action recorded, and the message cast to the compute agent or the
//! conductor (read from the in-process bus).

use crate::servers::{add_compute_host, create_server, fault_message, listen, next_message, set_state, MV};
use crate::support::{Cloud, Resp};
use http::{Method, StatusCode};
use monostack_bus::Listener;
use monostack_compute::db::instances;
use monostack_compute::rpc::compute::ComputeRequest;
use monostack_compute::rpc::conductor::ComputeTaskRequest;
use serde_json::{json, Value};

async fn act(cloud: &Cloud, token: &str, mv: &str, id: &str, body: Value) -> Resp {
    cloud.call_at(Some(mv), Method::POST, &format!("/v2.1/servers/{id}/action"), token, Some(body)).await
}

async fn task_state(cloud: &Cloud, id: &str) -> Option<String> {
    instances::get(&cloud.compute.db, id).await.expect("db").expect("instance").task_state
}

async fn clear_task(cloud: &Cloud, id: &str) {
    let changes = instances::Changes::new().set("task_state", None::<String>);
    instances::update(&cloud.compute.db, id, &changes, None).await.expect("clear");
}

/// A running server of a new member on `host1` (up), with the member's token.
async fn running(cloud: &Cloud, name: &str) -> (String, String) {
    let (_, _, t) = cloud.member(name).await;
    add_compute_host(cloud, "host1", true).await;
    let id = create_server(cloud, &t, name).await;
    set_state(cloud, &id, "active", None, Some("host1")).await;
    (id, t)
}

async fn compute_request(listener: &mut Listener) -> ComputeRequest {
    let msg = next_message(listener).await;
    monostack_compute::rpc::decode(&msg).expect("a ComputeAPI message")
}

async fn conductor_request(listener: &mut Listener) -> ComputeTaskRequest {
    let msg = next_message(listener).await;
    monostack_compute::rpc::decode(&msg).expect("a ComputeTaskAPI message")
}

async fn last_action(cloud: &Cloud, token: &str, id: &str) -> String {
    let r = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/{id}/os-instance-actions"), token, None).await;
    r.body["instanceActions"][0]["action"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn power_actions_check_states_set_tasks_and_cast_to_the_host() {
    let cloud = Cloud::start().await;
    let (id, t) = running(&cloud, "sam").await;
    let mut agent = listen(&cloud, "compute", "host1").await;

    let r = act(&cloud, &t, MV, &id, json!({"os-start": null})).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::CONFLICT, format!("Cannot 'start' instance {id} while it is in vm_state active")));
    let r = act(&cloud, &t, MV, &id, json!({"os-stop": null})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(task_state(&cloud, &id).await.as_deref(), Some("powering-off"));
    assert!(matches!(compute_request(&mut agent).await, ComputeRequest::StopInstance(s) if s.instance_uuid == id));
    assert_eq!(last_action(&cloud, &t, &id).await, "stop");
    let r = act(&cloud, &t, MV, &id, json!({"pause": null})).await;
    assert_eq!(fault_message(&r), format!("Cannot 'pause' instance {id} while it is in task_state powering-off"));

    set_state(&cloud, &id, "stopped", None, Some("host1")).await;
    let r = act(&cloud, &t, MV, &id, json!({"reboot": {"type": "SOFT"}})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = act(&cloud, &t, MV, &id, json!({"reboot": {"type": "hard"}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(task_state(&cloud, &id).await.as_deref(), Some("rebooting_hard"));
    assert!(matches!(compute_request(&mut agent).await, ComputeRequest::RebootInstance(r) if r.reboot_type == "HARD"));
    let r = act(&cloud, &t, MV, &id, json!({"reboot": {"type": "gentle"}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let cases: &[(&str, &str, &str, &str)] = &[
        ("active", "os-stop", "powering-off", "stop_instance"),
        ("stopped", "os-start", "powering-on", "start_instance"),
        ("active", "pause", "pausing", "pause_instance"),
        ("paused", "unpause", "unpausing", "unpause_instance"),
        ("active", "suspend", "suspending", "suspend_instance"),
        ("suspended", "resume", "resuming", "resume_instance"),
        ("rescued", "unrescue", "unrescuing", "unrescue_instance"),
        ("active", "shelveOffload", "", ""),
    ];
    for (vm, action, task, method) in cases {
        set_state(&cloud, &id, vm, None, Some("host1")).await;
        let r = act(&cloud, &t, MV, &id, json!({ *action: null })).await;
        if task.is_empty() {
            assert_eq!(r.status, StatusCode::FORBIDDEN, "shelveOffload is for admins: {}", r.body);
            continue;
        }
        assert_eq!(r.status, StatusCode::ACCEPTED, "{action}: {}", r.body);
        assert_eq!(task_state(&cloud, &id).await.as_deref(), Some(*task), "{action}");
        assert_eq!(next_message(&mut agent).await.method, *method);
    }
    let r = act(&cloud, &t, "2.16", &id, json!({"trigger_crash_dump": null})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    set_state(&cloud, &id, "active", None, Some("host1")).await;
    let r = act(&cloud, &t, MV, &id, json!({"trigger_crash_dump": null})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(next_message(&mut agent).await.method, "trigger_crash_dump");
    let r = act(&cloud, &t, MV, &id, json!({"rescue": {"adminPass": "rescue-pw"}})).await;
    assert_eq!((r.status, r.body["adminPass"].clone()), (StatusCode::OK, json!("rescue-pw")));
    assert!(matches!(compute_request(&mut agent).await, ComputeRequest::RescueInstance(r) if r.rescue_password == "rescue-pw"));

    let building = create_server(&cloud, &t, "fresh").await;
    let r = act(&cloud, &t, MV, &building, json!({"os-stop": null})).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::CONFLICT, format!("Instance {building} is not ready")));
    let r = act(&cloud, &t, MV, &id, json!({"fly": null})).await;
    assert_eq!(fault_message(&r), "There is no such action: fly");
    let r = act(&cloud, &t, MV, &id, json!({"os-stop": null, "os-start": null})).await;
    assert_eq!(fault_message(&r), "Malformed request body");
    let (_, _, other) = cloud.member("stranger").await;
    let r = act(&cloud, &other, MV, &id, json!({"os-stop": null})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn locks_refuse_non_admins_and_remember_who_locked() {
    let cloud = Cloud::start().await;
    let (id, t) = running(&cloud, "tina").await;
    let r = act(&cloud, &t, "2.73", &id, json!({"lock": {"locked_reason": "maintenance"}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let shown = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/{id}"), &t, None).await;
    assert_eq!((shown.body["server"]["locked"].clone(), shown.body["server"]["locked_reason"].clone()), (json!(true), json!("maintenance")));
    let r = act(&cloud, &t, MV, &id, json!({"os-stop": null})).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::CONFLICT, format!("Instance {id} is locked")));
    let d = cloud.call_at(Some(MV), Method::DELETE, &format!("/v2.1/servers/{id}"), &t, None).await;
    assert_eq!(d.status, StatusCode::CONFLICT);
    let r = act(&cloud, &cloud.admin, MV, &id, json!({"os-stop": null})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "admins bypass locks: {}", r.body);
    let r = act(&cloud, &t, MV, &id, json!({"unlock": null})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let shown = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/{id}"), &t, None).await;
    assert_eq!((shown.body["server"]["locked"].clone(), shown.body["server"]["locked_reason"].clone()), (json!(false), Value::Null));

    let r = act(&cloud, &cloud.admin, MV, &id, json!({"lock": null})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let r = act(&cloud, &t, MV, &id, json!({"unlock": null})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "an admin's lock needs unlock_override: {}", r.body);
    let r = act(&cloud, &cloud.admin, MV, &id, json!({"unlock": null})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let r = act(&cloud, &t, "2.73", &id, json!({"lock": {"locked_reason": ""}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let events = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/{id}/os-instance-actions"), &cloud.admin, None).await;
    let actions: Vec<&str> = events.body["instanceActions"].as_array().expect("actions").iter().filter_map(|a| a["action"].as_str()).collect();
    assert_eq!(&actions[..4], &["unlock", "lock", "unlock", "stop"]);
}

#[tokio::test]
async fn delete_is_immediate_unless_a_live_host_must_terminate() {
    let cloud = Cloud::start().await;
    let (id, t) = running(&cloud, "uma").await;
    let mut agent = listen(&cloud, "compute", "host1").await;
    let fresh = create_server(&cloud, &t, "never-scheduled").await;
    let d = cloud.call_at(Some(MV), Method::DELETE, &format!("/v2.1/servers/{fresh}"), &t, None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/{fresh}"), &t, None).await.status, StatusCode::NOT_FOUND);

    let d = cloud.call_at(Some(MV), Method::DELETE, &format!("/v2.1/servers/{id}"), &t, None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    assert_eq!(task_state(&cloud, &id).await.as_deref(), Some("deleting"));
    assert!(matches!(compute_request(&mut agent).await, ComputeRequest::TerminateInstance(r) if r.instance_uuid == id));
    let shown = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/{id}"), &t, None).await;
    assert_eq!(shown.body["server"]["OS-EXT-STS:task_state"], "deleting");

    add_compute_host(&cloud, "deadhost", false).await;
    let down = create_server(&cloud, &t, "on-dead-host").await;
    set_state(&cloud, &down, "active", None, Some("deadhost")).await;
    let d = cloud.call_at(Some(MV), Method::DELETE, &format!("/v2.1/servers/{down}"), &t, None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    assert!(instances::get(&cloud.compute.db, &down).await.expect("db").is_none(), "deleted locally when the host is down");
    let gone = cloud.call_at(Some(MV), Method::DELETE, "/v2.1/servers/-1", &t, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let r = act(&cloud, &t, MV, &id, json!({"restore": null})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "only soft-deleted servers restore: {}", r.body);
}

#[tokio::test]
async fn admin_actions_and_their_policies() {
    let cloud = Cloud::start().await;
    let (id, t) = running(&cloud, "vera").await;
    let r = act(&cloud, &t, MV, &id, json!({"os-resetState": {"state": "error"}})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = act(&cloud, &cloud.admin, MV, &id, json!({"os-resetState": {"state": "broken"}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = act(&cloud, &cloud.admin, MV, &id, json!({"os-resetState": {"state": "error"}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let shown = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/{id}"), &t, None).await;
    assert_eq!(shown.body["server"]["status"], "ERROR");
    let r = act(&cloud, &cloud.admin, MV, &id, json!({"resetNetwork": null})).await;
    assert_eq!(r.status, StatusCode::GONE);
    let r = act(&cloud, &cloud.admin, MV, &id, json!({"injectNetworkInfo": null})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let r = act(&cloud, &t, MV, &id, json!({"addSecurityGroup": {"name": "web"}})).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::NOT_FOUND, "Security group web not found.".to_string()));
    let r = act(&cloud, &t, MV, &id, json!({"addSecurityGroup": {}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn resize_and_migrations_go_to_the_conductor() {
    let cloud = Cloud::start().await;
    let (id, t) = running(&cloud, "walt").await;
    let mut conductor = listen(&cloud, "conductor", "c1").await;
    let mut agent = listen(&cloud, "compute", "host1").await;
    let r = act(&cloud, &t, MV, &id, json!({"resize": {"flavorRef": "1"}})).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::BAD_REQUEST, "When resizing, instances must change flavor!".to_string()));
    let r = act(&cloud, &t, MV, &id, json!({"resize": {"flavorRef": "404"}})).await;
    assert_eq!(fault_message(&r), "Flavor 404 could not be found.");
    let r = act(&cloud, &t, MV, &id, json!({"resize": {}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = act(&cloud, &t, MV, &id, json!({"resize": {"flavorRef": "2"}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(task_state(&cloud, &id).await.as_deref(), Some("resize_prep"));
    match conductor_request(&mut conductor).await {
        ComputeTaskRequest::MigrateServer(m) => assert_eq!(m.flavor.map(|f| f.flavorid), Some("2".to_string())),
        other => panic!("unexpected {other:?}"),
    }
    let spec = monostack_compute::db::request_specs::get(&cloud.compute.db, &id).await.expect("db").expect("spec");
    assert_eq!(spec.ignore_hosts, vec!["host1".to_string()]);
    assert_eq!(last_action(&cloud, &t, &id).await, "resize");

    clear_task(&cloud, &id).await;
    let r = act(&cloud, &t, MV, &id, json!({"confirmResize": null})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "not resized yet: {}", r.body);
    set_state(&cloud, &id, "resized", None, Some("host1")).await;
    let r = act(&cloud, &t, MV, &id, json!({"confirmResize": null})).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::BAD_REQUEST, "Instance has not been resized.".to_string()));
    let db = &cloud.compute.db;
    sqlx::query(&db.sql("INSERT INTO migrations (id, uuid, instance_uuid, source_compute, dest_compute, status, migration_type, hidden, created_at, deleted) VALUES (1, ?, ?, 'host1', 'host2', 'finished', 'resize', 0, 0, 0)"))
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(id.clone())
        .execute(&db.pool)
        .await
        .expect("migration");
    let r = act(&cloud, &t, MV, &id, json!({"confirmResize": null})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert!(matches!(compute_request(&mut agent).await, ComputeRequest::ConfirmResize(c) if c.migration_id == 1));

    set_state(&cloud, &id, "active", None, Some("host1")).await;
    let r = act(&cloud, &t, MV, &id, json!({"migrate": null})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "cold migration is for managers and admins");
    let r = act(&cloud, &cloud.admin, MV, &id, json!({"migrate": {"host": "host1"}})).await;
    assert_eq!(fault_message(&r), "Cannot migrate to the host where the server exists.");
    let r = act(&cloud, &cloud.admin, MV, &id, json!({"migrate": {"host": "nowhere"}})).await;
    assert_eq!(fault_message(&r), "Compute host nowhere could not be found.");
    add_compute_host(&cloud, "host2", true).await;
    let r = act(&cloud, &cloud.admin, MV, &id, json!({"migrate": {"host": "host2"}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert!(matches!(conductor_request(&mut conductor).await, ComputeTaskRequest::MigrateServer(m) if m.flavor.is_none() && m.requested_destination.as_ref().map(|d| d.host.as_str()) == Some("host2")));

    clear_task(&cloud, &id).await;
    let r = act(&cloud, &cloud.admin, "2.30", &id, json!({"os-migrateLive": {"block_migration": "auto", "host": null, "force": true}})).await;
    assert_eq!(fault_message(&r), "Can't force to a non-provided destination");
    let r = act(&cloud, &cloud.admin, "2.24", &id, json!({"os-migrateLive": {"block_migration": "auto", "host": null, "disk_over_commit": false}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "auto arrived in 2.25");
    let r = act(&cloud, &cloud.admin, MV, &id, json!({"os-migrateLive": {"block_migration": "auto", "host": null}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(task_state(&cloud, &id).await.as_deref(), Some("migrating"));
    assert!(matches!(conductor_request(&mut conductor).await, ComputeTaskRequest::LiveMigrateInstance(l) if l.block_migration.is_none() && l.host.is_none()));

    add_compute_host(&cloud, "host3", false).await;
    set_state(&cloud, &id, "active", None, Some("host3")).await;
    let r = act(&cloud, &t, MV, &id, json!({"resize": {"flavorRef": "2"}})).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::CONFLICT, "Service is unavailable at this time.".to_string()));
}

#[tokio::test]
async fn evacuate_needs_a_dead_host() {
    let cloud = Cloud::start().await;
    let (id, t) = running(&cloud, "xena").await;
    let mut conductor = listen(&cloud, "conductor", "c1").await;
    let r = act(&cloud, &cloud.admin, MV, &id, json!({"evacuate": {}})).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::BAD_REQUEST, "Compute service of host1 is still in use.".to_string()));
    let r = act(&cloud, &t, MV, &id, json!({"evacuate": {}})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    add_compute_host(&cloud, "dead", false).await;
    add_compute_host(&cloud, "spare", true).await;
    set_state(&cloud, &id, "active", None, Some("dead")).await;
    let r = act(&cloud, &cloud.admin, MV, &id, json!({"evacuate": {"host": "dead"}})).await;
    assert_eq!(fault_message(&r), "The target host can't be the same one.");
    let r = act(&cloud, &cloud.admin, MV, &id, json!({"evacuate": {"host": "ghost"}})).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::NOT_FOUND, "Compute host ghost not found.".to_string()));
    let r = act(&cloud, &cloud.admin, "2.13", &id, json!({"evacuate": {"onSharedStorage": false}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["adminPass"].is_string());
    match conductor_request(&mut conductor).await {
        ComputeTaskRequest::RebuildInstance(rb) => assert!(rb.recreate && rb.target_state.is_none()),
        other => panic!("unexpected {other:?}"),
    }
    clear_task(&cloud, &id).await;
    let r = act(&cloud, &cloud.admin, MV, &id, json!({"evacuate": {"host": "spare"}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    match conductor_request(&mut conductor).await {
        // Without `force` (2.68+) the scheduler checks the requested host: it travels in
        // the request spec, not as a forced host.
        ComputeTaskRequest::RebuildInstance(rb) => assert_eq!((rb.host.as_deref(), rb.target_state.as_deref()), (None, Some("stopped"))),
        other => panic!("unexpected {other:?}"),
    }
    let spec = monostack_compute::db::request_specs::get(&cloud.compute.db, &id).await.expect("db").expect("spec");
    assert_eq!(spec.requested_destination.map(|d| d.host).as_deref(), Some("spare"));
    let db = &cloud.compute.db;
    let (n,): (i64,) = sqlx::query_as(&db.sql("SELECT COUNT(*) FROM migrations WHERE instance_uuid = ? AND migration_type = 'evacuation' AND status = 'accepted'")).bind(id.clone()).fetch_one(&db.pool).await.expect("count");
    assert_eq!(n, 2);
}

#[tokio::test]
async fn rebuild_snapshot_backup_and_shelve_use_the_image_service() {
    let cloud = Cloud::start().await;
    let (id, t) = running(&cloud, "yuri").await;
    let mut conductor = listen(&cloud, "conductor", "c1").await;
    let mut agent = listen(&cloud, "compute", "host1").await;
    let missing = uuid::Uuid::new_v4().to_string();
    let r = act(&cloud, &t, MV, &id, json!({"rebuild": {"imageRef": missing}})).await;
    assert_eq!(fault_message(&r), "Cannot find image for rebuild");
    let r = act(&cloud, &t, MV, &id, json!({"rebuild": {"imageRef": cloud.image_id, "name": "rebuilt", "user_data": "aGk=", "adminPass": "pw"}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!((r.body["server"]["name"].clone(), r.body["server"]["adminPass"].clone()), (json!("rebuilt"), json!("pw")));
    assert_eq!(r.body["server"]["user_data"], "aGk=");
    assert_eq!(r.body["server"]["status"], "REBUILD");
    assert!(matches!(conductor_request(&mut conductor).await, ComputeTaskRequest::RebuildInstance(rb) if !rb.recreate && rb.new_pass.as_deref() == Some("pw")));
    let r = act(&cloud, &t, "2.56", &id, json!({"rebuild": {"imageRef": cloud.image_id, "user_data": "aGk="}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    clear_task(&cloud, &id).await;
    let r = act(&cloud, &t, "2.45", &id, json!({"createImage": {"name": "snap", "metadata": {"purpose": "test"}}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let image_id = r.body["image_id"].as_str().expect("image id").to_string();
    assert_eq!(task_state(&cloud, &id).await.as_deref(), Some("image_snapshot_pending"));
    assert!(matches!(compute_request(&mut agent).await, ComputeRequest::SnapshotInstance(s) if s.image_id == image_id));
    let image: Value = reqwest::Client::new()
        .get(format!("{}/v2/images/{image_id}", cloud.image_url))
        .header("x-auth-token", &t)
        .send()
        .await
        .expect("get image")
        .json()
        .await
        .expect("image json");
    assert_eq!((image["status"].clone(), image["instance_uuid"].clone(), image["image_type"].clone()), (json!("queued"), json!(id), json!("snapshot")));
    assert_eq!(image["purpose"], "test");
    let r = act(&cloud, &t, MV, &id, json!({"createImage": {"name": "again"}})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a snapshot is in progress: {}", r.body);

    clear_task(&cloud, &id).await;
    let r = act(&cloud, &t, "2.44", &id, json!({"createBackup": {"name": "daily-1", "backup_type": "daily", "rotation": 2}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert!(r.headers.get("location").is_some());
    assert!(matches!(compute_request(&mut agent).await, ComputeRequest::BackupInstance(b) if b.rotation == 2 && b.backup_type == "daily"));
    let r = act(&cloud, &t, MV, &id, json!({"createBackup": {"name": "x", "backup_type": "daily"}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    clear_task(&cloud, &id).await;
    let r = act(&cloud, &t, MV, &id, json!({"unshelve": null})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = act(&cloud, &t, MV, &id, json!({"shelve": null})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    match compute_request(&mut agent).await {
        ComputeRequest::ShelveInstance(s) => assert_ne!(s.image_id, image_id),
        other => panic!("unexpected {other:?}"),
    }
    set_state(&cloud, &id, "shelved", None, Some("host1")).await;
    let r = act(&cloud, &t, "2.77", &id, json!({"unshelve": {"availability_zone": "nova"}})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a zone needs an offloaded server: {}", r.body);
    set_state(&cloud, &id, "shelved_offloaded", None, None).await;
    let r = act(&cloud, &t, "2.77", &id, json!({"unshelve": {"availability_zone": "elsewhere"}})).await;
    assert_eq!(fault_message(&r), "The requested availability zone is not available");
    let r = act(&cloud, &t, "2.77", &id, json!({"unshelve": {}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = act(&cloud, &t, "2.91", &id, json!({"unshelve": {"host": "host1"}})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "unshelving to a host is for admins");
    let r = act(&cloud, &t, "2.77", &id, json!({"unshelve": {"availability_zone": "nova"}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert!(matches!(conductor_request(&mut conductor).await, ComputeTaskRequest::UnshelveInstance(u) if u.instance_uuid == id));
    let spec = monostack_compute::db::request_specs::get(&cloud.compute.db, &id).await.expect("db").expect("spec");
    assert_eq!(spec.availability_zone.as_deref(), Some("nova"));
}

#[tokio::test]
async fn calls_to_agents_answer_or_fail_as_nova() {
    let cloud = Cloud::start().await;
    let (id, t) = running(&cloud, "zoe").await;
    let r = act(&cloud, &t, MV, &id, json!({"os-getConsoleOutput": {"length": 5}})).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "no agent answers: {}", r.body);
    let r = act(&cloud, &t, MV, &id, json!({"changePassword": {"adminPass": "new"}})).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(task_state(&cloud, &id).await, None, "an undelivered password change clears its task");

    let listener = listen(&cloud, "compute", "host1").await;
    monostack_bus::serve(listener, |msg| async move {
        match msg.method.as_str() {
            "get_console_output" => Ok(json!("line1\u{7}\nline2\n")),
            "get_vnc_console" => Ok(json!({"url": "http://console/vnc?token=abc"})),
            "get_serial_console" => Err(json!({"kind": "ConsoleTypeUnavailable", "message": "Unavailable console type serial."}).to_string()),
            "set_admin_password" => Ok(Value::Null),
            other => Err(format!("unexpected {other}")),
        }
    });
    let r = act(&cloud, &t, MV, &id, json!({"os-getConsoleOutput": {"length": -1}})).await;
    assert_eq!((r.status, r.body["output"].clone()), (StatusCode::OK, json!("line1\nline2\n")));
    let r = act(&cloud, &t, MV, &id, json!({"os-getConsoleOutput": {"length": -2}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = act(&cloud, &t, "2.5", &id, json!({"os-getVNCConsole": {"type": "novnc"}})).await;
    assert_eq!(r.body["console"], json!({"type": "novnc", "url": "http://console/vnc?token=abc"}), "{}", r.body);
    let r = act(&cloud, &t, "2.6", &id, json!({"os-getVNCConsole": {"type": "novnc"}})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let path = format!("/v2.1/servers/{id}/remote-consoles");
    let r = cloud.call_at(Some(MV), Method::POST, &path, &t, Some(json!({"remote_console": {"protocol": "vnc", "type": "novnc"}}))).await;
    assert_eq!(r.body["remote_console"]["url"], "http://console/vnc?token=abc", "{}", r.body);
    let r = cloud.call_at(Some(MV), Method::POST, &path, &t, Some(json!({"remote_console": {"protocol": "serial", "type": "serial"}}))).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::BAD_REQUEST, "Unavailable console type serial.".to_string()));
    let r = cloud.call_at(Some(MV), Method::POST, &path, &t, Some(json!({"remote_console": {"protocol": "rdp", "type": "rdp-html5"}}))).await;
    assert_eq!(fault_message(&r), "Unavailable console type rdp.");
    let r = cloud.call_at(Some("2.7"), Method::POST, &path, &t, Some(json!({"remote_console": {"protocol": "mks", "type": "webmks"}}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = act(&cloud, &t, MV, &id, json!({"changePassword": {"adminPass": "new"}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(task_state(&cloud, &id).await.as_deref(), Some("updating_password"));
}
