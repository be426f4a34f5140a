//! Volume transfers: create (the volume awaits the transfer), list, show, cancel, accept
//! with the auth key (the volume and its usage move to the accepting project).

use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn create_show_list_delete_and_accept() {
    let cloud = Cloud::with_backends().await;
    let (_, project_a, alice) = cloud.member("alice").await;
    let (_, project_b, bob) = cloud.member("bob").await;
    let vol = cloud.volume(&alice, json!({"volume": {"size": 2}})).await;
    let bad = cloud
        .call(
            Method::POST,
            "/v3/os-volume-transfer",
            &alice,
            Some(json!({"transfer": {"volume_id": "nope"}})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let hidden = cloud
        .call(
            Method::POST,
            "/v3/os-volume-transfer",
            &bob,
            Some(json!({"transfer": {"volume_id": vol}})),
        )
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let made = cloud
        .call(
            Method::POST,
            "/v3/os-volume-transfer",
            &alice,
            Some(json!({"transfer": {"volume_id": vol, "name": "gift"}})),
        )
        .await;
    assert_eq!(made.status, StatusCode::ACCEPTED, "{}", made.body);
    let t = &made.body["transfer"];
    let mut keys: Vec<&str> = t
        .as_object()
        .expect("transfer")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["auth_key", "created_at", "id", "links", "name", "volume_id"]
    );
    let id = t["id"].as_str().expect("id").to_string();
    assert_eq!(t["auth_key"].as_str().map(str::len), Some(16));
    let v = cloud
        .call(Method::GET, &format!("/v3/volumes/{vol}"), &alice, None)
        .await;
    assert_eq!(v.body["volume"]["status"], "awaiting-transfer");
    let again = cloud
        .call(
            Method::POST,
            "/v3/os-volume-transfer",
            &alice,
            Some(json!({"transfer": {"volume_id": vol}})),
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    // 3.57 shows the projects; /volume-transfers needs 3.55.
    let shown = cloud
        .call_at(
            Some("3.57"),
            Method::GET,
            &format!("/v3/volume-transfers/{id}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(
        shown.body["transfer"]["source_project_id"],
        project_a.as_str()
    );
    assert_eq!(shown.body["transfer"]["accepted"], false);
    assert_eq!(shown.body["transfer"]["no_snapshots"], false);
    let old = cloud
        .call_at(
            Some("3.54"),
            Method::GET,
            &format!("/v3/volume-transfers/{id}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    let list = cloud
        .call(Method::GET, "/v3/os-volume-transfer", &alice, None)
        .await;
    assert_eq!(list.body["transfers"].as_array().map(Vec::len), Some(1));
    let others = cloud
        .call(Method::GET, "/v3/os-volume-transfer/detail", &bob, None)
        .await;
    assert_eq!(others.body["transfers"], json!([]));
    let not_bobs = cloud
        .call(
            Method::GET,
            &format!("/v3/os-volume-transfer/{id}"),
            &bob,
            None,
        )
        .await;
    assert_eq!(not_bobs.status, StatusCode::NOT_FOUND);
    assert_eq!(
        not_bobs.body["itemNotFound"]["message"],
        format!("Transfer {id} could not be found.")
    );
    // Cancel, then offer again and accept.
    let del = cloud
        .call(
            Method::DELETE,
            &format!("/v3/os-volume-transfer/{id}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::ACCEPTED);
    let v = cloud
        .call(Method::GET, &format!("/v3/volumes/{vol}"), &alice, None)
        .await;
    assert_eq!(v.body["volume"]["status"], "available");
    let made = cloud
        .call(
            Method::POST,
            "/v3/os-volume-transfer",
            &alice,
            Some(json!({"transfer": {"volume_id": vol}})),
        )
        .await;
    let id = made.body["transfer"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let key = made.body["transfer"]["auth_key"]
        .as_str()
        .expect("key")
        .to_string();
    let wrong = cloud
        .call(
            Method::POST,
            &format!("/v3/os-volume-transfer/{id}/accept"),
            &bob,
            Some(json!({"accept": {"auth_key": "wrong"}})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong.body["badRequest"]["message"],
        format!("Invalid auth key: Attempt to transfer {id} with invalid auth key.")
    );
    let ok = cloud
        .call(
            Method::POST,
            &format!("/v3/os-volume-transfer/{id}/accept"),
            &bob,
            Some(json!({"accept": {"auth_key": key}})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.body);
    assert_eq!(ok.body["transfer"]["volume_id"], vol.as_str());
    let v = cloud
        .call(Method::GET, &format!("/v3/volumes/{vol}"), &bob, None)
        .await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(v.body["volume"]["status"], "available");
    let gone = cloud
        .call(Method::GET, &format!("/v3/volumes/{vol}"), &alice, None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    // Usage moved with the volume.
    for (project, token, volumes, gb) in [(&project_a, &alice, 0, 0), (&project_b, &bob, 1, 2)] {
        let q = cloud
            .call(
                Method::GET,
                &format!("/v3/os-quota-sets/{project}?usage=True"),
                token,
                None,
            )
            .await;
        assert_eq!(
            q.body["quota_set"]["volumes"]["in_use"], volumes,
            "{}",
            q.body
        );
        assert_eq!(q.body["quota_set"]["gigabytes"]["in_use"], gb);
    }
    let done = cloud
        .call(
            Method::GET,
            &format!("/v3/os-volume-transfer/{id}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(done.status, StatusCode::NOT_FOUND);
}
