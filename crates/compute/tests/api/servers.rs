//! Creating servers: Nova's create schema per microversion, the image, flavor, network, key,
//! block device and quota checks, the records written, and the `build_instances` cast.

use crate::support::{Cloud, Resp};
use http::{Method, StatusCode};
use monostack_bus::{Bus, Listener, Message};
use monostack_compute::db::instances::{self, Changes};
use monostack_compute::rpc::conductor::ComputeTaskRequest;
use serde_json::{json, Value};
use std::time::Duration;

/// The microversion most tests speak.
pub const MV: &str = "2.96";

/// Boots a server as `token` at `mv`, the body's `server` merged with `extra`.
pub async fn boot(cloud: &Cloud, token: &str, mv: &str, extra: Value) -> Resp {
    let mut server = json!({"name": "web", "imageRef": cloud.image_id, "flavorRef": "1", "networks": "none"});
    for (k, v) in extra.as_object().into_iter().flatten() {
        if v.is_null() {
            server.as_object_mut().map(|s| s.remove(k));
        } else {
            server[k] = v.clone();
        }
    }
    cloud.call_at(Some(mv), Method::POST, "/v2.1/servers", token, Some(json!({ "server": server }))).await
}

/// A new server's id (202 asserted).
pub async fn create_server(cloud: &Cloud, token: &str, name: &str) -> String {
    let r = boot(cloud, token, MV, json!({"name": name})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    r.body["server"]["id"].as_str().expect("id").to_string()
}

/// Puts a server in a state as the conductor and agents would (launched, on `host`).
pub async fn set_state(cloud: &Cloud, uuid: &str, vm_state: &str, task_state: Option<&str>, host: Option<&str>) {
    let now = monostack_common::time::now_micros();
    let changes = Changes::new()
        .set("vm_state", vm_state)
        .set("task_state", task_state)
        .set("host", host)
        .set("node", host.map(|h| format!("{h}-node")))
        .set("launched_at", now)
        .set("power_state", 1_i64);
    assert!(instances::update(&cloud.compute.db, uuid, &changes, None).await.expect("update"));
}

/// Registers a compute host (service and node), up or down.
pub async fn add_compute_host(cloud: &Cloud, host: &str, up: bool) {
    let db = &cloud.compute.db;
    let now = monostack_common::time::now_micros();
    let seen = if up { now } else { now - 3_600_000_000 };
    let id = monostack_compute::db::next_id(db, &db.pool, "services").await.expect("id");
    sqlx::query(&db.sql("INSERT INTO services (id, uuid, host, binary_name, topic, report_count, disabled, forced_down, last_seen_up, version, created_at, deleted) VALUES (?, ?, ?, 'nova-compute', 'compute', 1, 0, 0, ?, 1, ?, 0)"))
        .bind(id)
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(host)
        .bind(seen)
        .bind(seen)
        .execute(&db.pool)
        .await
        .expect("service");
    let id = monostack_compute::db::next_id(db, &db.pool, "compute_nodes").await.expect("id");
    sqlx::query(&db.sql("INSERT INTO compute_nodes (id, uuid, service_id, host, hypervisor_hostname, hypervisor_type, hypervisor_version, vcpus, memory_mb, local_gb, vcpus_used, memory_mb_used, local_gb_used, free_ram_mb, free_disk_gb, running_vms, current_workload, cpu_info, cpu_allocation_ratio, ram_allocation_ratio, disk_allocation_ratio, mapped, created_at, deleted) VALUES (?, ?, NULL, ?, ?, 'fake', 1000, 32, 65536, 1000, 0, 0, 0, 65536, 1000, 0, 0, '{}', 16.0, 1.5, 1.0, 1, ?, 0)"))
        .bind(id)
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(host)
        .bind(format!("{host}-node"))
        .bind(now)
        .execute(&db.pool)
        .await
        .expect("compute node");
}

/// Listens on `topic` as `server` (the queue `topic.server` and the shared `topic` queue).
pub async fn listen(cloud: &Cloud, topic: &str, server: &str) -> Listener {
    cloud.bus.listen(topic, server).await.expect("listen")
}

/// The next message on `listener` (within 5 s).
pub async fn next_message(listener: &mut Listener) -> Message {
    tokio::time::timeout(Duration::from_secs(5), listener.recv()).await.expect("a message within 5 s").expect("listener open").message
}

/// The `code` of a compute fault body.
pub fn fault_message(r: &Resp) -> String {
    r.body.as_object().and_then(|o| o.values().next()).and_then(|f| f["message"].as_str()).unwrap_or_default().to_string()
}

#[tokio::test]
async fn create_records_the_server_and_casts_build_instances() {
    let cloud = Cloud::start().await;
    let (user, project, member) = cloud.member("carol").await;
    let mut conductor = listen(&cloud, "conductor", "conductor-1").await;
    let r = boot(&cloud, &member, MV, json!({"metadata": {"role": "web"}, "tags": ["a", "b"], "adminPass": "s3cret"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let server = &r.body["server"];
    let id = server["id"].as_str().expect("id").to_string();
    assert_eq!(server["adminPass"], "s3cret");
    assert_eq!(server["OS-DCF:diskConfig"], "MANUAL");
    assert_eq!(server["security_groups"], json!([{"name": "default"}]));
    assert!(r.headers.get("location").and_then(|l| l.to_str().ok()).is_some_and(|l| l.ends_with(&format!("/v2.1/servers/{id}"))));

    let msg = next_message(&mut conductor).await;
    assert_eq!(msg.method, "build_instances");
    assert!(msg.context.request_id.as_deref().is_some_and(|r| r.starts_with("req-")));
    assert_eq!(msg.context.project_id.as_deref(), Some(project.as_str()));
    match monostack_compute::rpc::decode::<ComputeTaskRequest>(&msg).expect("decode") {
        ComputeTaskRequest::BuildInstances(b) => {
            assert_eq!(b.instance_uuids, vec![id.clone()]);
            assert_eq!(b.image_id.as_deref(), Some(cloud.image_id.as_str()));
            assert_eq!(b.admin_password.as_deref(), Some("s3cret"));
        }
        other => panic!("unexpected {other:?}"),
    }

    let i = instances::get(&cloud.compute.db, &id).await.expect("db").expect("instance");
    assert_eq!((i.vm_state.as_str(), i.task_state.as_deref(), i.power_state), ("building", Some("scheduling"), 0));
    assert_eq!((i.user_id.as_str(), i.hostname.as_deref(), i.launch_index), (user.as_str(), Some("web"), Some(0)));
    assert!(i.reservation_id.as_deref().is_some_and(|r| r.starts_with("r-")));
    assert_eq!(i.name(), format!("instance-{:08x}", i.id));
    let spec = monostack_compute::db::request_specs::get(&cloud.compute.db, &id).await.expect("db").expect("spec");
    assert_eq!((spec.flavor.memory_mb, spec.num_instances, spec.project_id.as_str()), (512, 1, project.as_str()));
    let bdms = monostack_compute::db::block_device_mappings::list(&cloud.compute.db, &id).await.expect("bdms");
    assert_eq!(bdms.len(), 1);
    assert_eq!((bdms[0].source_type.as_str(), bdms[0].boot_index), ("image", Some(0)));
    let actions = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/{id}/os-instance-actions"), &member, None).await;
    assert_eq!(actions.body["instanceActions"][0]["action"], "create", "{}", actions.body);

    let shown = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/{id}"), &member, None).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.body["server"]["status"], "BUILD");
    assert_eq!(shown.body["server"]["metadata"], json!({"role": "web"}));
    assert_eq!(shown.body["server"]["tags"], json!(["a", "b"]));
}

#[tokio::test]
async fn multiple_create_names_servers_and_can_return_a_reservation() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("dave").await;
    let r = boot(&cloud, &member, MV, json!({"name": "node", "min_count": 3, "return_reservation_id": true})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let resv = r.body["reservation_id"].as_str().expect("reservation").to_string();
    let listed = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/detail?all_tenants=1&reservation_id={resv}"), &cloud.admin, None).await;
    let mut names: Vec<String> = listed.body["servers"].as_array().expect("servers").iter().map(|s| s["name"].as_str().unwrap_or_default().to_string()).collect();
    names.sort();
    assert_eq!(names, vec!["node-1", "node-2", "node-3"]);
    let hostnames: Vec<&str> = listed.body["servers"].as_array().expect("list").iter().filter_map(|s| s["OS-EXT-SRV-ATTR:hostname"].as_str()).collect();
    assert!(hostnames.contains(&"node-2"), "{hostnames:?}");
    let r = boot(&cloud, &member, MV, json!({"hostname": "one", "max_count": 2})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(fault_message(&r), "Unable to allocate a single hostname to multiple instances");
}

#[tokio::test]
async fn create_schema_errors_are_nova_400s() {
    let cloud = Cloud::start().await;
    let (_, _, t) = cloud.member("erin").await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (MV, json!({"name": ""}), "Invalid input for field/attribute name"),
        (MV, json!({"name": " lead"}), "An invalid 'name' value was provided"),
        (MV, json!({"name": "x".repeat(256)}), "is too long"),
        (MV, json!({"name": 12}), "is not of type 'string'"),
        (MV, json!({"imageRef": "not-a-uuid"}), "Invalid input for field/attribute imageRef"),
        (MV, json!({"flavorRef": null}), "'flavorRef' is a required property"),
        (MV, json!({"networks": null}), "'networks' is a required property"),
        (MV, json!({"networks": "some"}), "Invalid input for field/attribute networks"),
        (MV, json!({"bogus": 1}), "Additional properties are not allowed ('bogus' was unexpected)"),
        (MV, json!({"accessIPv4": "1.2.3"}), "Invalid input for field/attribute accessIPv4"),
        (MV, json!({"accessIPv6": "::zz"}), "Invalid input for field/attribute accessIPv6"),
        (MV, json!({"user_data": "not base64!"}), "Invalid input for field/attribute user_data"),
        (MV, json!({"user_data": "a".repeat(65536)}), "is too long"),
        (MV, json!({"metadata": {"bad/key": "v"}}), "Invalid input for field/attribute metadata"),
        (MV, json!({"config_drive": "maybe"}), "Invalid input for field/attribute config_drive"),
        (MV, json!({"min_count": 0}), "less than the minimum of 1"),
        (MV, json!({"min_count": 3, "max_count": 2}), "min_count must be <= max_count"),
        (MV, json!({"OS-DCF:diskConfig": "SOMETIMES"}), "Invalid input for field/attribute OS-DCF:diskConfig"),
        (MV, json!({"personality": [{"path": "/etc/x", "contents": "aGk="}]}), "('personality' was unexpected)"),
        ("2.56", json!({"personality": [{"path": "/etc/x", "contents": "not base64!"}]}), "Invalid input for field/attribute contents"),
        ("2.18", json!({"description": "d"}), "('description' was unexpected)"),
        ("2.51", json!({"tags": ["a"]}), "('tags' was unexpected)"),
        (MV, json!({"tags": ["a/b"]}), "Invalid input for field/attribute tags"),
        (MV, json!({"tags": (0..51).map(|n| n.to_string()).collect::<Vec<_>>()}), "is too long"),
        (MV, json!({"trusted_image_certificates": []}), "Invalid input for field/attribute trusted_image_certificates"),
        ("2.62", json!({"trusted_image_certificates": ["a"]}), "was unexpected"),
        ("2.89", json!({"hostname": "h"}), "('hostname' was unexpected)"),
        ("2.90", json!({"hostname": "bad.name"}), "Invalid input for field/attribute hostname"),
        ("2.73", json!({"host": "h1"}), "('host' was unexpected)"),
        (MV, json!({"security_groups": [{"name": ""}]}), "Invalid input for field/attribute name"),
        (MV, json!({"os:scheduler_hints": 1}), "Invalid input for field/attribute os:scheduler_hints"),
        (MV, json!({"block_device_mapping_v2": [{"source_type": "disk"}]}), "Invalid input for field/attribute source_type"),
        (MV, json!({"block_device_mapping_v2": [{"boot_index": "x"}]}), "Invalid input for field/attribute boot_index"),
        (MV, json!({"block_device_mapping_v2": [{"volume_size": 0}]}), "Invalid input for field/attribute volume_size"),
        ("2.36", json!({"networks": [{"uuid": "not-a-uuid"}]}), "Bad networks format: network uuid is not in proper format (not-a-uuid)"),
        (MV, json!({"networks": [{"fixed_ip": "10.0.0.1"}]}), "Bad network format: missing 'uuid'"),
        (MV, json!({"networks": [{"port": "5b45a7e8-67a0-4c0f-9b41-3d1d0c1d2e3f", "fixed_ip": "10.0.0.1"}]}), "cannot be used with port"),
        ("2.41", json!({"networks": [{"uuid": "5b45a7e8-67a0-4c0f-9b41-3d1d0c1d2e3f", "tag": "t"}]}), "('tag' was unexpected)"),
    ];
    for (mv, extra, expected) in cases {
        let body_hint = extra.clone();
        let r = if body_hint.get("os:scheduler_hints").is_some() {
            let mut body = json!({"server": {"name": "x", "imageRef": cloud.image_id, "flavorRef": "1", "networks": "none"}});
            body["os:scheduler_hints"] = body_hint["os:scheduler_hints"].clone();
            cloud.call_at(Some(mv), Method::POST, "/v2.1/servers", &t, Some(body)).await
        } else {
            boot(&cloud, &t, mv, extra).await
        };
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{mv} {body_hint}: {}", r.body);
        assert!(r.body.get("badRequest").is_some(), "{}", r.body);
        let message = fault_message(&r);
        assert!(message.contains(expected), "{mv} {body_hint}: {message}");
    }
    let not_object = cloud.call_at(Some(MV), Method::POST, "/v2.1/servers", &t, Some(json!([1]))).await;
    assert_eq!(not_object.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn create_checks_image_flavor_network_key_and_groups() {
    let cloud = Cloud::start().await;
    let (_, project, t) = cloud.member("frank").await;
    let missing = uuid::Uuid::new_v4().to_string();
    let queued = crate::images::create(&cloud.image_url, &cloud.admin, json!({"name": "empty", "visibility": "public"})).await;
    let big = crate::images::upload(&cloud.image_url, &cloud.admin, json!({"name": "big", "visibility": "public", "min_ram": 4096}), &[1]).await;
    let disk = crate::images::upload(&cloud.image_url, &cloud.admin, json!({"name": "disk", "visibility": "public", "min_disk": 50}), &[1]).await;
    let private = crate::images::upload(&cloud.image_url, &cloud.admin, json!({"name": "mine"}), &[1]).await;
    let net = uuid::Uuid::new_v4().to_string();
    let port = uuid::Uuid::new_v4().to_string();
    let cases: Vec<(&str, Value, String)> = vec![
        (MV, json!({"imageRef": missing}), "Can not find requested image".into()),
        (MV, json!({"imageRef": private}), "Can not find requested image".into()),
        (MV, json!({"imageRef": queued}), format!("Image {queued} is not active.")),
        (MV, json!({"imageRef": big}), "Flavor's memory is too small for requested image.".into()),
        (MV, json!({"imageRef": disk}), "Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is 1073741824 bytes, minimum size is 53687091200 bytes.".into()),
        (MV, json!({"flavorRef": "nope"}), "Flavor nope could not be found.".into()),
        (MV, json!({"flavorRef": "http://compute/flavors/"}), "Invalid flavorRef provided.".into()),
        (MV, json!({"imageRef": null}), "Missing imageRef attribute".into()),
        (MV, json!({"networks": "auto"}), format!("Unable to automatically allocate a network for project {project}")),
        (MV, json!({"networks": [{"uuid": net}]}), format!("Network {net} could not be found.")),
        (MV, json!({"networks": [{"port": port}]}), format!("Port id {port} could not be found.")),
        (MV, json!({"key_name": "nokey"}), "Invalid key_name provided.".into()),
        (MV, json!({"security_groups": [{"name": "web"}]}), "Security group web not found.".into()),
        (MV, json!({"availability_zone": "elsewhere"}), "The requested availability zone is not available".into()),
    ];
    for (mv, extra, expected) in cases {
        let r = boot(&cloud, &t, mv, extra.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{extra}: {}", r.body);
        assert_eq!(fault_message(&r), expected, "{extra}");
    }
    // Before 2.37 no `networks` means the project's networks, and there are none: no network.
    let unspecified = boot(&cloud, &t, "2.36", json!({"networks": null})).await;
    assert_eq!(unspecified.status, StatusCode::ACCEPTED, "{}", unspecified.body);
    let group = uuid::Uuid::new_v4().to_string();
    let r = cloud.call_at(Some(MV), Method::POST, "/v2.1/servers", &t, Some(json!({
        "server": {"name": "g", "imageRef": cloud.image_id, "flavorRef": "1", "networks": "none"},
        "os:scheduler_hints": {"group": group}}))).await;
    assert_eq!(fault_message(&r), format!("Instance group {group} could not be found."));

    let forced = boot(&cloud, &t, MV, json!({"availability_zone": "nova:host1"})).await;
    assert_eq!(forced.status, StatusCode::FORBIDDEN, "{}", forced.body);
    let dest = boot(&cloud, &t, MV, json!({"host": "host1"})).await;
    assert_eq!(dest.status, StatusCode::FORBIDDEN);
    let missing_host = boot(&cloud, &cloud.admin, MV, json!({"host": "ghost"})).await;
    assert_eq!(fault_message(&missing_host), "Compute host ghost could not be found.");
    let both = boot(&cloud, &cloud.admin, MV, json!({"host": "h", "availability_zone": "nova:h"})).await;
    assert!(fault_message(&both).contains("mutually exclusive"), "{}", both.body);
    let no_network_multi = boot(&cloud, &t, MV, json!({"networks": [{"port": port}], "max_count": 2})).await;
    assert!(fault_message(&no_network_multi).starts_with("Failed to launch instances: Unable to launch multiple instances"));
}

#[tokio::test]
async fn create_validates_block_device_mappings() {
    let cloud = Cloud::start().await;
    let (_, _, t) = cloud.member("gina").await;
    let vol = uuid::Uuid::new_v4().to_string();
    let image = cloud.image_id.clone();
    let cases: Vec<(Value, String)> = vec![
        (json!({"imageRef": null, "block_device_mapping_v2": [{"source_type": "volume", "destination_type": "volume", "uuid": vol, "boot_index": 0}]}), format!("Block Device Mapping is Invalid: failed to get volume {vol}.")),
        (json!({"block_device_mapping_v2": [{"source_type": "snapshot", "destination_type": "volume", "uuid": vol, "boot_index": 1}, {"source_type": "image", "destination_type": "local", "uuid": image, "boot_index": 0}]}), format!("Block Device Mapping is Invalid: failed to get snapshot {vol}.")),
        (json!({"block_device_mapping_v2": [{"source_type": "image", "destination_type": "local", "uuid": image, "boot_index": 1}]}), "Block Device Mapping is Invalid: Mapping image to local is not supported.".into()),
        (json!({"block_device_mapping_v2": [{"source_type": "volume", "destination_type": "volume", "boot_index": 0}]}), "Block Device Mapping is Invalid: Missing device UUID.".into()),
        (json!({"block_device_mapping_v2": [{"source_type": "blank", "uuid": vol, "destination_type": "local"}]}), "Block Device Mapping is Invalid: Invalid device UUID.".into()),
        (json!({"block_device_mapping_v2": [{"source_type": "blank", "destination_type": "local", "boot_index": -1, "volume_size": 1}]}), "Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.".into()),
        (json!({"block_device_mapping_v2": [{"source_type": "image", "destination_type": "local", "uuid": image, "boot_index": 0}, {"source_type": "blank", "destination_type": "local", "boot_index": -1, "volume_size": 1}]}), "Ephemeral disks requested are larger than the instance type allows. If no size is given in one block device mapping, flavor ephemeral size will be used.".into()),
        (json!({"block_device_mapping_v2": [{"source_type": "image", "destination_type": "local", "uuid": image, "boot_index": 0}, {"source_type": "blank", "destination_type": "local", "guest_format": "swap", "boot_index": -1, "volume_size": 1}]}), "Swap drive requested is larger than instance type allows.".into()),
        (json!({"block_device_mapping_v2": [{"source_type": "blank", "destination_type": "volume", "boot_index": 0}]}), "Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size".into()),
        (json!({"block_device_mapping": [{"volume_id": vol, "device_name": "vdb"}], "block_device_mapping_v2": [{"source_type": "blank", "destination_type": "local"}]}), "Using different block_device_mapping syntaxes is not allowed in the same request.".into()),
        (json!({"min_count": 2, "block_device_mapping_v2": [{"source_type": "volume", "destination_type": "volume", "uuid": vol, "boot_index": 0}]}), "Cannot attach one or more volumes to multiple instances".into()),
    ];
    for (extra, expected) in cases {
        let r = boot(&cloud, &t, MV, extra.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{extra}: {}", r.body);
        assert_eq!(fault_message(&r), expected, "{extra}");
    }
    let ok = boot(&cloud, &t, MV, json!({"block_device_mapping_v2": [{"source_type": "image", "destination_type": "local", "uuid": image, "boot_index": 0, "delete_on_termination": true}]})).await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.body);
}

#[tokio::test]
async fn create_enforces_instance_and_metadata_quotas() {
    let cloud = Cloud::start().await;
    let (_, project, t) = cloud.member("hank").await;
    let set = cloud.call(Method::PUT, &format!("/v2.1/os-quota-sets/{project}"), &cloud.admin, Some(json!({"quota_set": {"instances": 2, "metadata_items": 1}}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let over = boot(&cloud, &t, MV, json!({"min_count": 3})).await;
    assert_eq!(over.status, StatusCode::FORBIDDEN, "{}", over.body);
    assert_eq!(fault_message(&over), "Quota exceeded for instances: Requested 3, but already used 0 of 2 instances");
    let some = boot(&cloud, &t, MV, json!({"min_count": 1, "max_count": 5, "return_reservation_id": true})).await;
    assert_eq!(some.status, StatusCode::ACCEPTED);
    let listed = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers", &t, None).await;
    assert_eq!(listed.body["servers"].as_array().map(Vec::len), Some(2), "max_count is cut to what the quota allows");
    let meta = boot(&cloud, &cloud.admin, MV, json!({"metadata": {"a": "1", "b": "2"}})).await;
    assert_eq!(meta.status, StatusCode::ACCEPTED, "the admin project has its own limits");
    let (_, p2, t2) = cloud.member("ivy").await;
    cloud.call(Method::PUT, &format!("/v2.1/os-quota-sets/{p2}"), &cloud.admin, Some(json!({"quota_set": {"metadata_items": 1}}))).await;
    let meta = boot(&cloud, &t2, MV, json!({"metadata": {"a": "1", "b": "2"}})).await;
    assert_eq!(meta.status, StatusCode::FORBIDDEN);
    assert_eq!(fault_message(&meta), "Maximum number of metadata items exceeds 1");
}

#[tokio::test]
async fn create_policy_and_token_rules() {
    let cloud = Cloud::start().await;
    let no_token = cloud.call_at(Some(MV), Method::POST, "/v2.1/servers", "", Some(json!({"server": {}}))).await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    let reader_user = cloud.identity.create_user("rita", "pw-rita".into()).await;
    let (_, project, _) = cloud.member("owner").await;
    let role = monostack_identity::store::roles::get_by_name(&cloud.identity.identity, "reader", None).await.expect("db").expect("reader role");
    monostack_identity::store::assignments::grant(
        &cloud.identity.identity,
        &monostack_identity::store::assignments::Assignment {
            kind: monostack_identity::store::assignments::Kind::UserProject,
            actor_id: reader_user,
            target_id: project.clone(),
            role_id: role.id,
            inherited: false,
        },
    )
    .await
    .expect("grant");
    let tok = cloud.identity.token_for("rita", "pw-rita", Some(json!({"project": {"id": project}}))).await;
    let reader = crate::identity_support::subject(&tok);
    let r = boot(&cloud, &reader, MV, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(fault_message(&r), "Policy doesn't allow os_compute_api:servers:create to be performed.");
}

#[tokio::test]
async fn servers_join_the_group_of_their_hint_within_quota() {
    let cloud = Cloud::start().await;
    let (_, project, t) = cloud.member("gus").await;
    let g = cloud.call_at(Some(MV), Method::POST, "/v2.1/os-server-groups", &t, Some(json!({"server_group": {"name": "g", "policy": "anti-affinity"}}))).await;
    assert_eq!(g.status, StatusCode::OK, "{}", g.body);
    let group = g.body["server_group"]["id"].as_str().expect("group id").to_string();
    let body = |name: &str| json!({"server": {"name": name, "imageRef": cloud.image_id, "flavorRef": "1", "networks": "none"}, "os:scheduler_hints": {"group": group}});
    let r = cloud.call_at(Some(MV), Method::POST, "/v2.1/servers", &t, Some(body("member-1"))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let id = r.body["server"]["id"].as_str().expect("id").to_string();
    let shown = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/{id}"), &t, None).await;
    assert_eq!(shown.body["server"]["server_groups"], json!([group]));
    let spec = monostack_compute::db::request_specs::get(&cloud.compute.db, &id).await.expect("db").expect("spec");
    let spec_group = spec.instance_group.expect("group in the request spec");
    assert_eq!((spec_group.policy.as_str(), spec_group.members.clone()), ("anti-affinity", vec![id.clone()]));
    cloud.call(Method::PUT, &format!("/v2.1/os-quota-sets/{project}"), &cloud.admin, Some(json!({"quota_set": {"server_group_members": 1}}))).await;
    let r = cloud.call_at(Some(MV), Method::POST, "/v2.1/servers", &t, Some(body("member-2"))).await;
    assert_eq!((r.status, fault_message(&r)), (StatusCode::FORBIDDEN, "Quota exceeded, too many servers in group".to_string()));
    let listed = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers", &t, None).await;
    assert_eq!(listed.body["servers"].as_array().map(Vec::len), Some(1), "the refused server was removed");
}
