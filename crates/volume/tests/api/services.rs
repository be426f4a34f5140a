//! os-services, availability zones, pools, quotas and limits.

use crate::support::Cloud;
use http::{Method, StatusCode};
use monostack_common::config::VolumeBackendSection;
use serde_json::json;

#[tokio::test]
async fn services_zones_and_pools() {
    let cloud = Cloud::with_backends().await;
    let (_, _, member) = cloud.member("kim").await;
    let refused = cloud
        .call(Method::GET, "/v3/os-services", &member, None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let list = cloud
        .call_at(
            Some("3.49"),
            Method::GET,
            "/v3/os-services",
            &cloud.admin,
            None,
        )
        .await;
    let services = list.body["services"].as_array().expect("services");
    let mut seen: Vec<(String, String)> = services
        .iter()
        .map(|s| {
            (
                s["binary"].as_str().unwrap_or_default().into(),
                s["host"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("cinder-scheduler".into(), "node1".into()),
            ("cinder-volume".into(), "node1@fake-1".into()),
            ("cinder-volume".into(), "node1@fake-2".into())
        ]
    );
    assert!(services
        .iter()
        .all(|s| s["state"] == "up" && s["status"] == "enabled" && s["zone"] == "nova"));
    assert!(services
        .iter()
        .filter(|s| s["binary"] == "cinder-volume")
        .all(|s| s["backend_state"] == "up"));
    let filtered = cloud
        .call(
            Method::GET,
            "/v3/os-services?binary=cinder-scheduler",
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(filtered.body["services"].as_array().map(Vec::len), Some(1));
    // A disabled backend takes no new volumes.
    let off = cloud
        .call(Method::PUT, "/v3/os-services/disable-log-reason", &cloud.admin, Some(json!({"host": "node1@fake-2", "binary": "cinder-volume", "disabled_reason": "maintenance"})))
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.body["status"], "disabled");
    assert_eq!(off.body["disabled_reason"], "maintenance");
    let id = cloud
        .volume(&cloud.admin, json!({"volume": {"size": 1}}))
        .await;
    let v = cloud
        .call(
            Method::GET,
            &format!("/v3/volumes/{id}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(
        v.body["volume"]["os-vol-host-attr:host"],
        "node1@fake-1#fake-1"
    );
    let on = cloud
        .call(
            Method::PUT,
            "/v3/os-services/enable",
            &cloud.admin,
            Some(json!({"host": "node1@fake-2", "binary": "cinder-volume"})),
        )
        .await;
    assert_eq!(on.body["disabled"], false);
    let missing = cloud
        .call(
            Method::PUT,
            "/v3/os-services/enable",
            &cloud.admin,
            Some(json!({"host": "nowhere", "binary": "cinder-volume"})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let zones = cloud
        .call(Method::GET, "/v3/os-availability-zone", &member, None)
        .await;
    assert_eq!(
        zones.body["availabilityZoneInfo"],
        json!([{"zoneName": "nova", "zoneState": {"available": true}}])
    );
    let pools = cloud
        .call(
            Method::GET,
            "/v3/scheduler-stats/get_pools?detail=true",
            &cloud.admin,
            None,
        )
        .await;
    let pools = pools.body["pools"].as_array().expect("pools").clone();
    assert_eq!(pools.len(), 2);
    assert_eq!(pools[0]["name"], "node1@fake-1#fake-1");
    assert_eq!(pools[0]["capabilities"]["total_capacity_gb"], 100.0);
    assert_eq!(pools[0]["capabilities"]["volume_backend_name"], "fake-1");
    let denied = cloud
        .call(Method::GET, "/v3/scheduler-stats/get_pools", &member, None)
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let caps = cloud
        .call(
            Method::GET,
            "/v3/capabilities/node1@fake-1",
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(caps.status, StatusCode::OK, "{}", caps.body);
    assert_eq!(
        caps.body["namespace"],
        "OS::Storage::Capabilities::node1@fake-1"
    );
    assert_eq!(caps.body["volume_backend_name"], "fake-1");
    assert_eq!(caps.body["storage_protocol"], "fake");
    let none = cloud
        .call(Method::GET, "/v3/capabilities/node9@x", &cloud.admin, None)
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    let denied = cloud
        .call(Method::GET, "/v3/capabilities/node1@fake-1", &member, None)
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn quotas_limit_and_report_usage() {
    let cloud = Cloud::with_backends().await;
    let (_, project, member) = cloud.member("lou").await;
    let q = cloud
        .call(
            Method::GET,
            &format!("/v3/os-quota-sets/{project}"),
            &member,
            None,
        )
        .await;
    assert_eq!(q.status, StatusCode::OK);
    assert_eq!(q.body["quota_set"]["volumes"], 10);
    assert_eq!(q.body["quota_set"]["gigabytes"], 1000);
    assert_eq!(q.body["quota_set"]["per_volume_gigabytes"], -1);
    assert_eq!(q.body["quota_set"]["volumes___DEFAULT__"], -1);
    let (_, other_project, _) = cloud.member("max").await;
    let other = cloud
        .call(
            Method::GET,
            &format!("/v3/os-quota-sets/{other_project}"),
            &member,
            None,
        )
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let refused = cloud
        .call(
            Method::PUT,
            &format!("/v3/os-quota-sets/{project}"),
            &member,
            Some(json!({"quota_set": {"volumes": 1}})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let set = cloud
        .call(
            Method::PUT,
            &format!("/v3/os-quota-sets/{project}"),
            &cloud.admin,
            Some(json!({"quota_set": {"volumes": 1, "per_volume_gigabytes": 5}})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["quota_set"]["volumes"], 1);
    let bad = cloud
        .call(
            Method::PUT,
            &format!("/v3/os-quota-sets/{project}"),
            &cloud.admin,
            Some(json!({"quota_set": {"bogus": 1}})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let too_big = cloud
        .call(
            Method::POST,
            "/v3/volumes",
            &member,
            Some(json!({"volume": {"size": 6}})),
        )
        .await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        too_big.body["overLimit"]["message"],
        "Requested volume size 6G is larger than maximum allowed limit 5G."
    );
    cloud.volume(&member, json!({"volume": {"size": 2}})).await;
    let over = cloud
        .call(
            Method::POST,
            "/v3/volumes",
            &member,
            Some(json!({"volume": {"size": 1}})),
        )
        .await;
    assert_eq!(over.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        over.body["overLimit"]["message"],
        "Maximum number of volumes allowed (1) exceeded for quota 'volumes'."
    );
    let usage = cloud
        .call(
            Method::GET,
            &format!("/v3/os-quota-sets/{project}?usage=true"),
            &member,
            None,
        )
        .await;
    assert_eq!(
        usage.body["quota_set"]["volumes"],
        json!({"limit": 1, "in_use": 1, "reserved": 0})
    );
    assert_eq!(usage.body["quota_set"]["gigabytes"]["in_use"], 2);
    let below = cloud
        .call(
            Method::PUT,
            &format!("/v3/os-quota-sets/{project}"),
            &cloud.admin,
            Some(json!({"quota_set": {"volumes": 0}})),
        )
        .await;
    assert_eq!(below.status, StatusCode::BAD_REQUEST);
    let limits = cloud.call(Method::GET, "/v3/limits", &member, None).await;
    assert_eq!(limits.body["limits"]["absolute"]["maxTotalVolumes"], 1);
    assert_eq!(limits.body["limits"]["absolute"]["totalVolumesUsed"], 1);
    assert_eq!(limits.body["limits"]["absolute"]["totalGigabytesUsed"], 2);
    assert_eq!(limits.body["limits"]["rate"], json!([]));
    let reset = cloud
        .call(
            Method::DELETE,
            &format!("/v3/os-quota-sets/{project}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK);
    let back = cloud
        .call(
            Method::GET,
            &format!("/v3/os-quota-sets/{project}"),
            &member,
            None,
        )
        .await;
    assert_eq!(back.body["quota_set"]["volumes"], 10);
    let defaults = cloud
        .call(
            Method::GET,
            &format!("/v3/os-quota-sets/{project}/defaults"),
            &member,
            None,
        )
        .await;
    assert_eq!(defaults.body["quota_set"]["snapshots"], 10);
    // The default class changes everyone's defaults.
    let class = cloud
        .call(
            Method::PUT,
            "/v3/os-quota-class-sets/default",
            &cloud.admin,
            Some(json!({"quota_class_set": {"snapshots": 3}})),
        )
        .await;
    assert_eq!(class.status, StatusCode::OK);
    let after = cloud
        .call(
            Method::GET,
            &format!("/v3/os-quota-sets/{other_project}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(after.body["quota_set"]["snapshots"], 3);
}

#[tokio::test]
async fn a_backend_that_cannot_work_is_left_out() {
    let cloud = Cloud::start_with(
        |c| {
            c.volume.enabled_backends = vec!["fake-1".into(), "lvm-1".into()];
            c.volume_backends.insert(
                "fake-1".into(),
                VolumeBackendSection {
                    volume_driver: "fake".into(),
                    ..Default::default()
                },
            );
            c.volume_backends.insert(
                "lvm-1".into(),
                VolumeBackendSection {
                    volume_driver: "lvm".into(),
                    volume_group: "ms-no-such-vg".into(),
                    ..Default::default()
                },
            );
        },
        true,
    )
    .await;
    assert_eq!(cloud.managers.len(), 1);
    assert_eq!(cloud.managers[0].manager.backend, "node1@fake-1");
    let list = cloud
        .call(
            Method::GET,
            "/v3/os-services?binary=cinder-volume",
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(list.body["services"].as_array().map(Vec::len), Some(1));
}

/// `?host=` takes Cinder's host match (a host names its backends, a backend its pools);
/// freeze/thaw need a volume service on the host (400 otherwise, as Cinder).
#[tokio::test]
async fn services_by_host_and_freeze_thaw() {
    let cloud = Cloud::with_backends().await;
    let names = |body: &serde_json::Value| {
        let mut v: Vec<String> = body["services"]
            .as_array()
            .expect("services")
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s["binary"].as_str().unwrap_or(""),
                    s["host"].as_str().unwrap_or("")
                )
            })
            .collect();
        v.sort();
        v
    };
    let by_host = cloud
        .call(
            Method::GET,
            "/v3/os-services?host=node1",
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(
        names(&by_host.body),
        [
            "cinder-scheduler node1",
            "cinder-volume node1@fake-1",
            "cinder-volume node1@fake-2"
        ]
    );
    let by_backend = cloud
        .call(
            Method::GET,
            "/v3/os-services?host=node1@fake-1&binary=cinder-volume",
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(names(&by_backend.body), ["cinder-volume node1@fake-1"]);
    let none = cloud
        .call(Method::GET, "/v3/os-services?host=node", &cloud.admin, None)
        .await;
    assert_eq!(none.body["services"], json!([]));
    for action in ["freeze", "thaw"] {
        let bad = cloud
            .call(
                Method::PUT,
                &format!("/v3/os-services/{action}"),
                &cloud.admin,
                Some(json!({"host": "invalid_host"})),
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            bad.body["badRequest"]["message"],
            "No service found with host=invalid_host"
        );
        let missing = cloud
            .call(
                Method::PUT,
                &format!("/v3/os-services/{action}"),
                &cloud.admin,
                Some(json!({})),
            )
            .await;
        assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    }
    let froze = cloud
        .call(
            Method::PUT,
            "/v3/os-services/freeze",
            &cloud.admin,
            Some(json!({"host": "node1@fake-1"})),
        )
        .await;
    assert_eq!(froze.status, StatusCode::OK);
    let thawed = cloud
        .call(
            Method::PUT,
            "/v3/os-services/thaw",
            &cloud.admin,
            Some(json!({"host": "node1"})),
        )
        .await;
    assert_eq!(thawed.status, StatusCode::OK);
}
