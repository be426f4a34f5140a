//! The volume flows on PostgreSQL and MariaDB/MySQL. Each test skips with one line when its
//! server is not configured (`MONOSTACK_TEST_POSTGRES_URL`, `MONOSTACK_TEST_MYSQL_URL`;
//! `tools/test` sets them).

use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::json;

/// A fresh database per run: `<url>/mstest_<random>_{service}`.
fn connection(var: &str) -> Option<String> {
    let Ok(url) = std::env::var(var) else {
        eprintln!("skipping: {var} is not set");
        return None;
    };
    let mut url = url::Url::parse(&url).expect("valid URL");
    url.set_path(&format!(
        "/mstest_{}_{{service}}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    Some(url.to_string().replace("%7B", "{").replace("%7D", "}"))
}

async fn exercise(connection: String) {
    let cloud = Cloud::with_backends_on(Some(connection)).await;
    let (_, project, member) = cloud.member("nia").await;
    let t = cloud.call(Method::POST, "/v3/types", &cloud.admin, Some(json!({"volume_type": {"name": "one", "extra_specs": {"volume_backend_name": "fake-1"}}}))).await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.body);
    // The encryption table (migration 4).
    let type_id = t.body["volume_type"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let enc = cloud
        .call(
            Method::POST,
            &format!("/v3/types/{type_id}/encryption"),
            &cloud.admin,
            Some(json!({"encryption": {"provider": "luks", "cipher": null, "key_size": null, "control_location": "front-end"}})),
        )
        .await;
    assert_eq!(enc.status, StatusCode::OK, "{}", enc.body);
    let shown = cloud
        .call(
            Method::GET,
            &format!("/v3/types/{type_id}/encryption"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(shown.body["provider"], "luks");
    assert_eq!(shown.body["key_size"], serde_json::Value::Null);
    // The transfers table (migration 5): offer a volume and cancel.
    let offered = cloud
        .volume(&member, json!({"volume": {"size": 1, "name": "offered"}}))
        .await;
    let transfer = cloud
        .call(
            Method::POST,
            "/v3/os-volume-transfer",
            &member,
            Some(json!({"transfer": {"volume_id": offered, "name": "t"}})),
        )
        .await;
    assert_eq!(transfer.status, StatusCode::ACCEPTED, "{}", transfer.body);
    let tid = transfer.body["transfer"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let cancel = cloud
        .call(
            Method::DELETE,
            &format!("/v3/os-volume-transfer/{tid}"),
            &member,
            None,
        )
        .await;
    assert_eq!(cancel.status, StatusCode::ACCEPTED);
    let removed = cloud
        .call(
            Method::DELETE,
            &format!("/v3/volumes/{offered}"),
            &member,
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::ACCEPTED, "{}", removed.body);
    cloud.wait_gone(&format!("/v3/volumes/{offered}")).await;
    let dup = cloud
        .call(
            Method::POST,
            "/v3/types",
            &cloud.admin,
            Some(json!({"volume_type": {"name": "one"}})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let a = cloud
        .volume(
            &member,
            json!({"volume": {"size": 2, "name": "a", "metadata": {"k": "v"}}}),
        )
        .await;
    let b = cloud
        .volume(
            &member,
            json!({"volume": {"size": 1, "name": "b", "volume_type": "one"}}),
        )
        .await;
    let shown = cloud
        .call(Method::GET, &format!("/v3/volumes/{b}"), &cloud.admin, None)
        .await;
    assert_eq!(
        shown.body["volume"]["os-vol-host-attr:host"],
        "node1@fake-1#fake-1"
    );
    let list = cloud
        .call_at(
            Some("3.45"),
            Method::GET,
            "/v3/volumes/detail?sort=size:asc&with_count=true&metadata={'k':'v'}",
            &member,
            None,
        )
        .await;
    assert_eq!(list.body["count"], 1);
    assert_eq!(list.body["volumes"][0]["id"], a.as_str());
    let ext = cloud
        .call(
            Method::POST,
            &format!("/v3/volumes/{a}/action"),
            &member,
            Some(json!({"os-extend": {"new_size": 4}})),
        )
        .await;
    assert_eq!(ext.status, StatusCode::ACCEPTED);
    assert_eq!(cloud.wait_volume(&a, "available").await["size"], 4);
    let snap = cloud
        .call(
            Method::POST,
            "/v3/snapshots",
            &member,
            Some(json!({"snapshot": {"volume_id": a}})),
        )
        .await;
    let sid = snap.body["snapshot"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    cloud.wait_snapshot(&sid, "available").await;
    let usage = cloud
        .call(
            Method::GET,
            &format!("/v3/os-quota-sets/{project}?usage=true"),
            &member,
            None,
        )
        .await;
    assert_eq!(usage.body["quota_set"]["gigabytes"]["in_use"], 9);
    let set = cloud
        .call(
            Method::PUT,
            &format!("/v3/os-quota-sets/{project}"),
            &cloud.admin,
            Some(json!({"quota_set": {"volumes": 5}})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK);
    let del = cloud
        .call(
            Method::DELETE,
            &format!("/v3/volumes/{a}?cascade=true"),
            &member,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::ACCEPTED);
    cloud.wait_gone(&format!("/v3/volumes/{a}")).await;
    let services = cloud
        .call(Method::GET, "/v3/os-services", &cloud.admin, None)
        .await;
    assert_eq!(services.body["services"].as_array().map(Vec::len), Some(3));
    // Services registering at the same time all get their own id.
    let db = &cloud.volume.db;
    let hosts: Vec<String> = (0..8).map(|i| format!("racer{i}@b")).collect();
    let registered = futures::future::join_all(hosts.iter().map(|h| {
        monostack_volume::db::services::register(db, h, "cinder-volume", "cinder-volume", "nova")
    }))
    .await;
    let mut ids: Vec<i64> = registered
        .into_iter()
        .map(|r| r.expect("registered").id)
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8);
    // Migrations are idempotent: a second pass applies nothing.
    assert_eq!(
        cloud
            .volume
            .db
            .migrate(monostack_volume::db::schema::MIGRATIONS)
            .await
            .expect("migrate"),
        0
    );
}

#[tokio::test]
async fn volumes_on_postgresql() {
    if let Some(c) = connection("MONOSTACK_TEST_POSTGRES_URL") {
        exercise(c).await;
    }
}

#[tokio::test]
async fn volumes_on_mysql() {
    if let Some(c) = connection("MONOSTACK_TEST_MYSQL_URL") {
        exercise(c).await;
    }
}
