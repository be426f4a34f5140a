//! Listing and showing servers: Nova's filters (who may use which), status mapping, sorting,
//! paging, and the attributes each microversion and policy adds.

use crate::servers::{add_compute_host, boot, create_server, fault_message, set_state, MV};
use crate::support::Cloud;
use http::{Method, StatusCode};
use monostack_compute::db::instances::{self, Changes};
use serde_json::{json, Value};

fn names(body: &Value) -> Vec<String> {
    body["servers"].as_array().into_iter().flatten().map(|s| s["name"].as_str().unwrap_or_default().to_string()).collect()
}

async fn list(cloud: &Cloud, token: &str, mv: &str, query: &str) -> Vec<String> {
    let r = cloud.call_at(Some(mv), Method::GET, &format!("/v2.1/servers?{query}"), token, None).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
    let mut n = names(&r.body);
    n.sort();
    n
}

#[tokio::test]
async fn filters_follow_nova() {
    let cloud = Cloud::start().await;
    let (_, project, t) = cloud.member("lena").await;
    let (_, _, other) = cloud.member("otto").await;
    let a = create_server(&cloud, &t, "alpha").await;
    let b = create_server(&cloud, &t, "beta").await;
    let c = create_server(&cloud, &t, "gamma").await;
    create_server(&cloud, &other, "theirs").await;
    set_state(&cloud, &a, "active", None, Some("host1")).await;
    set_state(&cloud, &b, "stopped", None, Some("host2")).await;
    let changes = Changes::new().set("locked", true).set("locked_by", "owner");
    instances::update(&cloud.compute.db, &c, &changes, None).await.expect("lock");
    for (uuid, tags) in [(&a, vec!["x", "y"]), (&b, vec!["x"])] {
        monostack_compute::db::instance_tags::replace(&cloud.compute.db, uuid, &tags.iter().map(|s| s.to_string()).collect::<Vec<_>>()).await.expect("tags");
    }

    assert_eq!(list(&cloud, &t, MV, "").await, vec!["alpha", "beta", "gamma"]);
    assert_eq!(list(&cloud, &t, MV, "name=^al").await, vec!["alpha"]);
    assert_eq!(list(&cloud, &t, MV, "name=a$").await, vec!["alpha", "beta", "gamma"]);
    assert_eq!(list(&cloud, &t, MV, "status=SHUTOFF").await, vec!["beta"]);
    assert_eq!(list(&cloud, &t, MV, "status=ACTIVE&status=BUILD").await, vec!["alpha", "gamma"]);
    assert_eq!(list(&cloud, &t, "2.37", "status=bogus").await, Vec::<String>::new());
    let bad = cloud.call_at(Some("2.38"), Method::GET, "/v2.1/servers?status=bogus", &t, None).await;
    assert_eq!((bad.status, fault_message(&bad)), (StatusCode::BAD_REQUEST, "Invalid status value".to_string()));
    assert_eq!(list(&cloud, &t, MV, &format!("image={}", cloud.image_id)).await.len(), 3);
    assert_eq!(list(&cloud, &t, MV, "flavor=1").await.len(), 3);
    assert!(list(&cloud, &t, MV, "flavor=2").await.is_empty());
    assert!(list(&cloud, &t, MV, "flavor=nonexistent").await.is_empty());
    assert_eq!(list(&cloud, &t, MV, "locked=true").await, vec!["gamma"]);
    let bad = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers?locked=perhaps", &t, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(list(&cloud, &t, MV, "tags=x,y").await, vec!["alpha"]);
    assert_eq!(list(&cloud, &t, MV, "tags-any=y,z").await, vec!["alpha"]);
    assert_eq!(list(&cloud, &t, MV, "not-tags=x,y").await, vec!["beta", "gamma"]);
    assert_eq!(list(&cloud, &t, MV, "not-tags-any=x").await, vec!["gamma"]);
    // Non-admins: admin-only filters are dropped silently (before 2.75 unknown ones too).
    assert_eq!(list(&cloud, &t, MV, "host=host1").await.len(), 3);
    assert_eq!(list(&cloud, &t, "2.74", "bogus=1").await.len(), 3);
    let strict = cloud.call_at(Some("2.75"), Method::GET, "/v2.1/servers?bogus=1", &t, None).await;
    assert_eq!(strict.status, StatusCode::BAD_REQUEST);
    assert_eq!(list(&cloud, &t, MV, "tenant_id=someone-else").await.len(), 3);
    assert_eq!(list(&cloud, &t, MV, "availability_zone=nova").await, Vec::<String>::new());
    let forbidden = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers?all_tenants=1", &t, None).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "{}", forbidden.body);

    let admin = &cloud.admin;
    assert_eq!(list(&cloud, admin, MV, "all_tenants=1").await.len(), 4);
    assert_eq!(list(&cloud, admin, MV, &format!("all_tenants=1&project_id={project}")).await.len(), 3);
    assert_eq!(list(&cloud, admin, MV, "all_tenants=1&host=host1").await, vec!["alpha"]);
    assert_eq!(list(&cloud, admin, MV, "all_tenants=1&vm_state=stopped").await, vec!["beta"]);
    assert_eq!(list(&cloud, admin, MV, "all_tenants=1&node=host2").await, vec!["beta"]);
    let joined = cloud.call_at(Some("2.74"), Method::GET, "/v2.1/servers?metadata=x", admin, None).await;
    assert_eq!((joined.status, fault_message(&joined)), (StatusCode::BAD_REQUEST, "Invalid filter field: metadata.".to_string()));
    let bad_regex = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers?name=(", &t, None).await;
    assert_eq!(bad_regex.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn deleted_and_changed_servers_are_listed_by_time_and_for_admins() {
    let cloud = Cloud::start().await;
    let (_, _, t) = cloud.member("mona").await;
    let before = monostack_common::time::iso_micros(monostack_common::time::now_micros());
    let gone = create_server(&cloud, &t, "gone").await;
    create_server(&cloud, &t, "kept").await;
    let d = cloud.call_at(Some(MV), Method::DELETE, &format!("/v2.1/servers/{gone}"), &t, None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.body);
    assert_eq!(list(&cloud, &t, MV, "").await, vec!["kept"]);
    let since = list(&cloud, &t, MV, &format!("changes-since={before}")).await;
    assert_eq!(since, vec!["gone", "kept"], "changes-since shows recent deletions");
    let since_q = format!("changes-since={before}&changes-before=2000-01-01T00:00:00Z");
    let bad = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers?{since_q}"), &t, None).await;
    assert_eq!(fault_message(&bad), "The value of changes-since must be less than or equal to changes-before.");
    let bad = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers?changes-since=yesterday", &t, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let deleted = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers/detail?all_tenants=1&deleted=true", &cloud.admin, None).await;
    assert_eq!(names(&deleted.body), vec!["gone"]);
    assert_eq!(deleted.body["servers"][0]["status"], "DELETED");
    assert_eq!(list(&cloud, &t, MV, "deleted=true").await, vec!["kept"], "deleted is admin-only and dropped");
    let refused = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers?status=DELETED", &t, None).await;
    assert_eq!((refused.status, fault_message(&refused)), (StatusCode::FORBIDDEN, "Only administrators may list deleted instances".to_string()));
}

#[tokio::test]
async fn sorting_and_paging() {
    let cloud = Cloud::start().await;
    let (_, _, t) = cloud.member("nina").await;
    for name in ["b", "a", "d", "c"] {
        create_server(&cloud, &t, name).await;
    }
    assert_eq!(names(&cloud.call_at(Some(MV), Method::GET, "/v2.1/servers?sort_key=display_name&sort_dir=asc", &t, None).await.body), vec!["a", "b", "c", "d"]);
    assert_eq!(names(&cloud.call_at(Some(MV), Method::GET, "/v2.1/servers?sort_key=display_name", &t, None).await.body), vec!["d", "c", "b", "a"]);
    assert_eq!(names(&cloud.call_at(Some(MV), Method::GET, "/v2.1/servers", &t, None).await.body), vec!["c", "d", "a", "b"], "newest first");
    let both = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers?sort_key=vm_state&sort_dir=asc&sort_key=display_name&sort_dir=desc", &t, None).await;
    assert_eq!(names(&both.body), vec!["d", "c", "b", "a"]);
    let ignored = cloud.call_at(Some("2.74"), Method::GET, "/v2.1/servers?sort_key=vcpus&sort_key=display_name&sort_dir=asc&sort_dir=asc", &t, None).await;
    assert_eq!(names(&ignored.body), vec!["a", "b", "c", "d"]);
    let bad = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers?sort_key=vcpus", &t, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "ignored keys are refused from 2.75");
    let host = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers?sort_key=host", &t, None).await;
    assert_eq!((host.status, fault_message(&host)), (StatusCode::FORBIDDEN, "Only administrators can sort servers by host".to_string()));

    let page = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers?sort_key=display_name&sort_dir=asc&limit=2", &t, None).await;
    assert_eq!(names(&page.body), vec!["a", "b"]);
    let next = page.body["servers_links"][0]["href"].as_str().expect("next link").to_string();
    assert!(next.contains("/v2.1/servers?") && next.contains("marker="), "{next}");
    let query = next.split_once('?').map(|(_, q)| q.to_string()).unwrap_or_default();
    let page2 = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers?{query}"), &t, None).await;
    assert_eq!(names(&page2.body), vec!["c", "d"]);
    let last = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers?{}", query.replace("limit=2", "limit=5")), &t, None).await;
    assert!(last.body.get("servers_links").is_none());
    let bad_marker = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers?marker=nope", &t, None).await;
    assert_eq!((bad_marker.status, fault_message(&bad_marker)), (StatusCode::BAD_REQUEST, "marker [nope] not found".to_string()));
    let bad_limit = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers?limit=-1", &t, None).await;
    assert_eq!(bad_limit.status, StatusCode::BAD_REQUEST);
    let detail = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers/detail?limit=1", &t, None).await;
    assert!(detail.body["servers_links"][0]["href"].as_str().is_some_and(|h| h.contains("/servers/detail?")));
}

#[tokio::test]
async fn show_adds_attributes_per_microversion_and_policy() {
    let cloud = Cloud::start().await;
    let (_, project, t) = cloud.member("olga").await;
    add_compute_host(&cloud, "host1", true).await;
    let r = boot(&cloud, &t, MV, json!({"description": "desc", "trusted_image_certificates": ["cert-1"]})).await;
    let id = r.body["server"]["id"].as_str().expect("id").to_string();
    set_state(&cloud, &id, "active", None, Some("host1")).await;
    let network_info = json!([{"address": "fa:16:3e:11:22:33", "network": {"label": "private", "subnets": [{"ips": [{"address": "10.0.0.7", "type": "fixed", "version": 4}]}]}}]);
    monostack_compute::db::info_caches::set(&cloud.compute.db, &id, &network_info).await.expect("cache");
    let path = format!("/v2.1/servers/{id}");

    let v21 = cloud.call_at(Some("2.1"), Method::GET, &path, &t, None).await.body["server"].clone();
    assert_eq!(v21["flavor"]["id"], "1");
    assert!(v21["flavor"]["links"][0]["href"].as_str().is_some_and(|h| h.ends_with("/flavors/1")));
    assert_eq!(v21["image"]["id"], cloud.image_id.as_str());
    assert_eq!(v21["status"], "ACTIVE");
    assert_eq!(v21["progress"], 0);
    assert_eq!(v21["OS-EXT-STS:vm_state"], "active");
    assert_eq!(v21["OS-EXT-STS:power_state"], 1);
    assert_eq!(v21["OS-EXT-AZ:availability_zone"], "nova");
    assert_eq!(v21["addresses"]["private"][0]["addr"], "10.0.0.7");
    assert_eq!(v21["addresses"]["private"][0]["OS-EXT-IPS-MAC:mac_addr"], "fa:16:3e:11:22:33");
    assert_eq!(v21["hostId"].as_str().map(str::len), Some(56));
    assert_eq!(v21["tenant_id"], project.as_str());
    assert!(v21.get("description").is_none(), "description appears only from 2.19");
    assert!(v21.get("OS-EXT-SRV-ATTR:host").is_none() && v21.get("locked").is_none() && v21.get("tags").is_none());
    assert!(v21["OS-SRV-USG:launched_at"].is_string());
    assert_eq!(v21["os-extended-volumes:volumes_attached"], json!([]));

    let latest = cloud.call_at(Some(MV), Method::GET, &path, &t, None).await.body["server"].clone();
    assert_eq!(latest["flavor"]["original_name"], "m1.tiny");
    assert_eq!(latest["flavor"]["extra_specs"]["hw_rng:allowed"], "True");
    assert_eq!((latest["locked"].clone(), latest["description"].clone()), (json!(false), json!("desc")));
    assert_eq!(latest["tags"], json!([]));
    assert_eq!(latest["trusted_image_certificates"], json!(["cert-1"]));
    assert_eq!(latest["server_groups"], json!([]));
    assert_eq!(latest["locked_reason"], Value::Null);
    assert_eq!(latest["OS-EXT-SRV-ATTR:hostname"], "web");
    assert_eq!(latest["pinned_availability_zone"], Value::Null);
    assert!(latest.get("host_status").is_none() && latest.get("OS-EXT-SRV-ATTR:host").is_none());

    let admin = cloud.call_at(Some(MV), Method::GET, &path, &cloud.admin, None).await.body["server"].clone();
    assert_eq!(admin["OS-EXT-SRV-ATTR:host"], "host1");
    assert_eq!(admin["OS-EXT-SRV-ATTR:hypervisor_hostname"], "host1-node");
    assert!(admin["OS-EXT-SRV-ATTR:instance_name"].as_str().is_some_and(|n| n.starts_with("instance-")));
    assert_eq!(admin["OS-EXT-SRV-ATTR:launch_index"], 0);
    assert_eq!(admin["host_status"], "UP");
    let admin_v22 = cloud.call_at(Some("2.2"), Method::GET, &path, &cloud.admin, None).await.body["server"].clone();
    assert!(admin_v22.get("OS-EXT-SRV-ATTR:host").is_some() && admin_v22.get("OS-EXT-SRV-ATTR:launch_index").is_none());

    set_state(&cloud, &id, "error", None, Some("host1")).await;
    monostack_compute::db::instance_faults::add(&cloud.compute.db, &id, 500, "boom", Some("traceback"), Some("host1")).await.expect("fault");
    let owner_view = cloud.call_at(Some(MV), Method::GET, &path, &t, None).await.body["server"].clone();
    assert_eq!(owner_view["fault"]["message"], "boom");
    assert!(owner_view["fault"].get("details").is_none(), "500 details are for admins");
    let admin_view = cloud.call_at(Some(MV), Method::GET, &path, &cloud.admin, None).await.body["server"].clone();
    assert_eq!(admin_view["fault"]["details"], "traceback");

    let (_, _, stranger) = cloud.member("pete").await;
    let hidden = cloud.call_at(Some(MV), Method::GET, &path, &stranger, None).await;
    assert_eq!((hidden.status, fault_message(&hidden)), (StatusCode::NOT_FOUND, format!("Instance {id} could not be found.")));
    let missing = cloud.call_at(Some(MV), Method::GET, "/v2.1/servers/-1", &t, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.get("itemNotFound").is_some());
    let ips = cloud.call_at(Some(MV), Method::GET, &format!("{path}/ips"), &t, None).await;
    assert_eq!(ips.body["addresses"]["private"], json!([{"version": 4, "addr": "10.0.0.7"}]));
    let one = cloud.call_at(Some(MV), Method::GET, &format!("{path}/ips/private"), &t, None).await;
    assert_eq!(one.body["private"][0]["addr"], "10.0.0.7");
    let none = cloud.call_at(Some(MV), Method::GET, &format!("{path}/ips/public"), &t, None).await;
    assert_eq!((none.status, fault_message(&none)), (StatusCode::NOT_FOUND, "Instance is not a member of specified network".to_string()));
    let by_ip = list(&cloud, &t, MV, "ip=10.0.0").await;
    assert_eq!(by_ip, vec!["web"]);
}

#[tokio::test]
async fn update_changes_names_and_answers_per_microversion() {
    let cloud = Cloud::start().await;
    let (_, _, t) = cloud.member("quin").await;
    let id = create_server(&cloud, &t, "old").await;
    let path = format!("/v2.1/servers/{id}");
    let r = cloud.call_at(Some("2.74"), Method::PUT, &path, &t, Some(json!({"server": {"name": "new", "description": "d", "accessIPv4": "1.2.3.4"}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.body["server"]["name"].clone(), r.body["server"]["accessIPv4"].clone()), (json!("new"), json!("1.2.3.4")));
    assert!(r.body["server"].get("OS-EXT-STS:vm_state").is_none(), "before 2.75 update answers a reduced view");
    let r = cloud.call_at(Some(MV), Method::PUT, &path, &t, Some(json!({"server": {"hostname": "renamed"}}))).await;
    assert_eq!(r.body["server"]["OS-EXT-SRV-ATTR:hostname"], "renamed");
    assert_eq!(r.body["server"]["OS-EXT-STS:vm_state"], "building");
    for (mv, body) in [
        (MV, json!({"server": {"name": ""}})),
        ("2.18", json!({"server": {"description": "x"}})),
        (MV, json!({"server": {"bogus": 1}})),
        (MV, json!({"nope": {}})),
        ("2.89", json!({"server": {"hostname": "h1"}})),
    ] {
        let r = cloud.call_at(Some(mv), Method::PUT, &path, &t, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
    }
    let (_, _, other) = cloud.member("rob").await;
    let r = cloud.call_at(Some(MV), Method::PUT, &path, &other, Some(json!({"server": {"name": "mine"}}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
