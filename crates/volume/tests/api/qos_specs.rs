//! QoS specs and their association with volume types.

use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn qos_specs_lifecycle_and_associations() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("quinn").await;
    let body = json!({"qos_specs": {"name": "gold", "consumer": "front-end", "read_iops_sec": "1000", "write_iops_sec": "500"}});
    let refused = cloud
        .call(Method::POST, "/v3/qos-specs", &member, Some(body.clone()))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let created = cloud
        .call(
            Method::POST,
            "/v3/qos-specs",
            &cloud.admin,
            Some(body.clone()),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let q = &created.body["qos_specs"];
    assert_eq!(q["consumer"], "front-end");
    assert_eq!(
        q["specs"],
        json!({"read_iops_sec": "1000", "write_iops_sec": "500"})
    );
    assert_eq!(created.body["links"][0]["rel"], "self");
    let id = q["id"].as_str().expect("id").to_string();
    let dup = cloud
        .call(Method::POST, "/v3/qos-specs", &cloud.admin, Some(body))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let bad = cloud
        .call(
            Method::POST,
            "/v3/qos-specs",
            &cloud.admin,
            Some(json!({"qos_specs": {"name": "x", "consumer": "middle"}})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let list = cloud
        .call(Method::GET, "/v3/qos-specs", &cloud.admin, None)
        .await;
    assert_eq!(list.body["qos_specs"].as_array().map(Vec::len), Some(1));
    let upd = cloud
        .call(
            Method::PUT,
            &format!("/v3/qos-specs/{id}"),
            &cloud.admin,
            Some(json!({"qos_specs": {"total_bytes_sec": "1024"}})),
        )
        .await;
    assert_eq!(upd.body, json!({"qos_specs": {"total_bytes_sec": "1024"}}));
    let keys = cloud
        .call(
            Method::PUT,
            &format!("/v3/qos-specs/{id}/delete_keys"),
            &cloud.admin,
            Some(json!({"keys": ["write_iops_sec"]})),
        )
        .await;
    assert_eq!(keys.status, StatusCode::ACCEPTED);
    let missing = cloud
        .call(
            Method::PUT,
            &format!("/v3/qos-specs/{id}/delete_keys"),
            &cloud.admin,
            Some(json!({"keys": ["nope"]})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let shown = cloud
        .call(
            Method::GET,
            &format!("/v3/qos-specs/{id}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(
        shown.body["qos_specs"]["specs"],
        json!({"read_iops_sec": "1000", "total_bytes_sec": "1024"})
    );
    // Associate with a type; the type shows it to admins.
    let t = cloud
        .call(
            Method::POST,
            "/v3/types",
            &cloud.admin,
            Some(json!({"volume_type": {"name": "fast"}})),
        )
        .await;
    let tid = t.body["volume_type"]["id"]
        .as_str()
        .expect("type")
        .to_string();
    let assoc = cloud
        .call(
            Method::GET,
            &format!("/v3/qos-specs/{id}/associate?vol_type_id={tid}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(assoc.status, StatusCode::ACCEPTED);
    let no_type = cloud
        .call(
            Method::GET,
            &format!("/v3/qos-specs/{id}/associate"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(no_type.status, StatusCode::BAD_REQUEST);
    let listed = cloud
        .call(
            Method::GET,
            &format!("/v3/qos-specs/{id}/associations"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(
        listed.body["qos_associations"],
        json!([{"association_type": "volume_type", "name": "fast", "id": tid}])
    );
    let ty = cloud
        .call(Method::GET, &format!("/v3/types/{tid}"), &cloud.admin, None)
        .await;
    assert_eq!(ty.body["volume_type"]["qos_specs_id"], id.as_str());
    let other = cloud
        .call(
            Method::POST,
            "/v3/qos-specs",
            &cloud.admin,
            Some(json!({"qos_specs": {"name": "silver"}})),
        )
        .await;
    let other_id = other.body["qos_specs"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let taken = cloud
        .call(
            Method::GET,
            &format!("/v3/qos-specs/{other_id}/associate?vol_type_id={tid}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST);
    // In use: delete refused unless forced.
    let del = cloud
        .call(
            Method::DELETE,
            &format!("/v3/qos-specs/{id}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::BAD_REQUEST);
    assert_eq!(del.body["badRequest"]["message"], "Qos specs still in use.");
    let dis = cloud
        .call(
            Method::GET,
            &format!("/v3/qos-specs/{id}/disassociate_all"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(dis.status, StatusCode::ACCEPTED);
    let del = cloud
        .call(
            Method::DELETE,
            &format!("/v3/qos-specs/{id}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::ACCEPTED);
    let gone = cloud
        .call(
            Method::GET,
            &format!("/v3/qos-specs/{id}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        gone.body["itemNotFound"]["message"],
        format!("No such QoS spec {id}.")
    );
    cloud
        .call(
            Method::GET,
            &format!("/v3/qos-specs/{other_id}/associate?vol_type_id={tid}"),
            &cloud.admin,
            None,
        )
        .await;
    let forced = cloud
        .call(
            Method::DELETE,
            &format!("/v3/qos-specs/{other_id}?force=true"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(forced.status, StatusCode::ACCEPTED);
    let ty = cloud
        .call(Method::GET, &format!("/v3/types/{tid}"), &cloud.admin, None)
        .await;
    assert!(ty.body["volume_type"]["qos_specs_id"].is_null());
}
