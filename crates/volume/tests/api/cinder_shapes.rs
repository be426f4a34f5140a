//! Response shapes Tempest checks against Cinder's: os-hosts, extensions, snapshot views,
//! visible admin metadata, and links that follow the request's URL form.

use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn hosts_and_extensions() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("hal").await;
    assert_eq!(cloud.call(Method::GET, "/v3/os-hosts", &member, None).await.status, StatusCode::FORBIDDEN);
    let hosts = cloud.call(Method::GET, "/v3/os-hosts", &cloud.admin, None).await;
    assert_eq!(hosts.status, StatusCode::OK, "{}", hosts.body);
    let list = hosts.body["hosts"].as_array().expect("hosts");
    assert!(list.iter().any(|h| h["service"] == "cinder-scheduler"), "{list:?}");

    let id = cloud.volume(&cloud.admin, json!({"volume": {"size": 2}})).await;
    let placed = cloud.call(Method::GET, &format!("/v3/volumes/{id}"), &cloud.admin, None).await;
    let pool = placed.body["volume"]["os-vol-host-attr:host"].as_str().expect("host").to_string();
    let volume_host = pool.split('#').next().unwrap_or_default().to_string();
    assert!(list.iter().any(|h| h["service"] == "cinder-volume" && h["host_name"] == volume_host.as_str()), "{list:?}");
    let shown = cloud.call(Method::GET, &format!("/v3/os-hosts/{volume_host}"), &cloud.admin, None).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let total = &shown.body["host"][0]["resource"];
    assert_eq!((total["project"].as_str(), total["volume_count"].as_str(), total["total_volume_gb"].as_str()), (Some("(total)"), Some("1"), Some("2")), "{}", shown.body);
    assert_eq!(shown.body["host"][1]["resource"]["project"], cloud.admin_project.as_str());
    let unknown = cloud.call(Method::GET, "/v3/os-hosts/nowhere", &cloud.admin, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    cloud.call(Method::DELETE, &format!("/v3/volumes/{id}"), &cloud.admin, None).await;

    let extensions = cloud.call(Method::GET, "/v3/extensions", &member, None).await;
    assert_eq!(extensions.status, StatusCode::OK);
    let all = extensions.body["extensions"].as_array().expect("extensions");
    assert!(all.iter().any(|e| e["name"] == "Hosts" && e["alias"] == "os-hosts" && e["links"] == json!([])), "{all:?}");
    let one = cloud.call(Method::GET, "/v3/extensions/os-hosts", &member, None).await;
    assert_eq!(one.body["extension"]["name"], "Hosts");
}

#[tokio::test]
async fn snapshot_views_admin_metadata_and_links() {
    let cloud = Cloud::with_backends().await;
    let volume = cloud.volume(&cloud.admin, json!({"volume": {"size": 1}})).await;

    // Create and update answer without the extended attributes; show has them.
    let created = cloud.call(Method::POST, "/v3/snapshots", &cloud.admin, Some(json!({"snapshot": {"volume_id": volume}}))).await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    assert!(created.body["snapshot"].get("os-extended-snapshot-attributes:progress").is_none(), "{}", created.body);
    let snap = created.body["snapshot"]["id"].as_str().expect("id").to_string();
    cloud.wait_snapshot(&snap, "available").await;
    let shown = cloud.call(Method::GET, &format!("/v3/snapshots/{snap}"), &cloud.admin, None).await;
    assert!(shown.body["snapshot"].get("os-extended-snapshot-attributes:project_id").is_some(), "{}", shown.body);
    let renamed = cloud.call(Method::PUT, &format!("/v3/snapshots/{snap}"), &cloud.admin, Some(json!({"snapshot": {"name": "s"}}))).await;
    assert!(renamed.body["snapshot"].get("os-extended-snapshot-attributes:progress").is_none(), "{}", renamed.body);
    let null_volume = cloud.call(Method::POST, "/v3/snapshots", &cloud.admin, Some(json!({"snapshot": {"volume_id": null}}))).await;
    assert_eq!(null_volume.status, StatusCode::NOT_FOUND, "{}", null_volume.body);

    // The readonly flag shows in the volume's metadata, as Cinder's visible admin metadata.
    let flag = cloud.call(Method::POST, &format!("/v3/volumes/{volume}/action"), &cloud.admin, Some(json!({"os-update_readonly_flag": {"readonly": true}}))).await;
    assert_eq!(flag.status, StatusCode::ACCEPTED, "{}", flag.body);
    let vol = cloud.call(Method::GET, &format!("/v3/volumes/{volume}"), &cloud.admin, None).await;
    assert_eq!(vol.body["volume"]["metadata"]["readonly"], "True", "{}", vol.body);

    // Links name the project only when the request did.
    let project = cloud.admin_project.clone();
    let without = cloud.call(Method::GET, "/v3/volumes?limit=1", &cloud.admin, None).await;
    let next = without.body["volumes_links"][0]["href"].as_str().expect("next");
    assert!(next.contains("/v3/volumes?") && !next.contains(&project), "{next}");
    let with = cloud.call(Method::GET, &format!("/v3/{project}/volumes?limit=1"), &cloud.admin, None).await;
    let next = with.body["volumes_links"][0]["href"].as_str().expect("next");
    assert!(next.contains(&format!("/v3/{project}/volumes?")), "{next}");
    let self_link = with.body["volumes"][0]["links"][0]["href"].as_str().expect("self");
    assert!(self_link.contains(&format!("/v3/{project}/volumes/")), "{self_link}");
}
