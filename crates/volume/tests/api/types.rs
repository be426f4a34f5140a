//! Volume types, their extra specs and access lists.

use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn the_default_type_exists_and_cannot_be_deleted() {
    let cloud = Cloud::start().await;
    let list = cloud
        .call(Method::GET, "/v3/types", &cloud.admin, None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let types = list.body["volume_types"].as_array().expect("types");
    assert_eq!(types.len(), 1);
    assert_eq!(types[0]["name"], "__DEFAULT__");
    assert_eq!(types[0]["is_public"], true);
    let default = cloud
        .call(Method::GET, "/v3/types/default", &cloud.admin, None)
        .await;
    assert_eq!(default.status, StatusCode::OK);
    let id = default.body["volume_type"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(id, types[0]["id"]);
    let del = cloud
        .call(
            Method::DELETE,
            &format!("/v3/types/{id}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::BAD_REQUEST);
    assert!(del.body["badRequest"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("default volume type")));
}

#[tokio::test]
async fn admins_manage_types_members_read_them() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("alice").await;
    let body = json!({"volume_type": {"name": "fast", "description": "SSD", "extra_specs": {"volume_backend_name": "file-1", "multiattach": "<is> False"}}});
    let refused = cloud
        .call(Method::POST, "/v3/types", &member, Some(body.clone()))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.body["forbidden"]["message"],
        "Policy doesn't allow volume_extension:type_create to be performed."
    );
    let created = cloud
        .call(Method::POST, "/v3/types", &cloud.admin, Some(body.clone()))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let t = &created.body["volume_type"];
    assert_eq!(t["name"], "fast");
    assert_eq!(t["extra_specs"]["volume_backend_name"], "file-1");
    assert_eq!(t["os-volume-type-access:is_public"], true);
    let id = t["id"].as_str().expect("id").to_string();
    let dup = cloud
        .call(Method::POST, "/v3/types", &cloud.admin, Some(body))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(
        dup.body["conflictingRequest"]["message"],
        "Volume Type fast already exists."
    );
    // A member sees the type, but only the user-visible extra specs.
    let seen = cloud
        .call(Method::GET, &format!("/v3/types/{id}"), &member, None)
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(
        seen.body["volume_type"]["extra_specs"],
        json!({"multiattach": "<is> False"})
    );
    assert!(seen.body["volume_type"].get("qos_specs_id").is_none());
    let specs = cloud
        .call(
            Method::GET,
            &format!("/v3/types/{id}/extra_specs"),
            &member,
            None,
        )
        .await;
    assert_eq!(
        specs.body["extra_specs"],
        json!({"multiattach": "<is> False"})
    );
    // Update, then bad updates.
    let upd = cloud
        .call(
            Method::PUT,
            &format!("/v3/types/{id}"),
            &cloud.admin,
            Some(json!({"volume_type": {"name": "faster", "description": "NVMe"}})),
        )
        .await;
    assert_eq!(upd.status, StatusCode::OK);
    assert_eq!(upd.body["volume_type"]["name"], "faster");
    assert_eq!(upd.body["volume_type"]["description"], "NVMe");
    let empty = cloud
        .call(
            Method::PUT,
            &format!("/v3/types/{id}"),
            &cloud.admin,
            Some(json!({"volume_type": {}})),
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        empty.body["badRequest"]["message"],
        "Specify volume type name, description, is_public or a combination thereof."
    );
    let blank = cloud
        .call(
            Method::PUT,
            &format!("/v3/types/{id}"),
            &cloud.admin,
            Some(json!({"volume_type": {"name": "  "}})),
        )
        .await;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST);
    for bad in [
        json!({"volume_type": {"name": ""}}),
        json!({"volume_type": {"name": 5}}),
        json!({"volume_type": {}}),
        json!({"type": {"name": "x"}}),
    ] {
        let r = cloud
            .call(Method::POST, "/v3/types", &cloud.admin, Some(bad.clone()))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // Delete: 202, then gone.
    let del = cloud
        .call(
            Method::DELETE,
            &format!("/v3/types/{id}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::ACCEPTED);
    let gone = cloud
        .call(Method::GET, &format!("/v3/types/{id}"), &cloud.admin, None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let again = cloud
        .call(
            Method::DELETE,
            &format!("/v3/types/{id}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn extra_specs_crud() {
    let cloud = Cloud::start().await;
    let t = cloud
        .call(
            Method::POST,
            "/v3/types",
            &cloud.admin,
            Some(json!({"volume_type": {"name": "t1"}})),
        )
        .await;
    let id = t.body["volume_type"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let base = format!("/v3/types/{id}/extra_specs");
    let set = cloud
        .call(
            Method::POST,
            &base,
            &cloud.admin,
            Some(json!({"extra_specs": {"volume_backend_name": "b1", "k": "v"}})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK);
    assert_eq!(set.body["extra_specs"]["k"], "v");
    let one = cloud
        .call(Method::GET, &format!("{base}/k"), &cloud.admin, None)
        .await;
    assert_eq!(one.body, json!({"k": "v"}));
    let put = cloud
        .call(
            Method::PUT,
            &format!("{base}/k"),
            &cloud.admin,
            Some(json!({"k": "w"})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(put.body, json!({"k": "w"}));
    let mismatch = cloud
        .call(
            Method::PUT,
            &format!("{base}/k"),
            &cloud.admin,
            Some(json!({"other": "w"})),
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        mismatch.body["badRequest"]["message"],
        "Request body and URI mismatch"
    );
    let bad = cloud
        .call(
            Method::POST,
            &base,
            &cloud.admin,
            Some(json!({"extra_specs": {"k": 1}})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let all = cloud.call(Method::GET, &base, &cloud.admin, None).await;
    assert_eq!(
        all.body["extra_specs"],
        json!({"volume_backend_name": "b1", "k": "w"})
    );
    let del = cloud
        .call(Method::DELETE, &format!("{base}/k"), &cloud.admin, None)
        .await;
    assert_eq!(del.status, StatusCode::ACCEPTED);
    let missing = cloud
        .call(Method::GET, &format!("{base}/k"), &cloud.admin, None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.body["itemNotFound"]["message"],
        format!("Volume Type {id} has no extra specs with key k.")
    );
    let (_, _, member) = cloud.member("bob").await;
    let refused = cloud
        .call(
            Method::POST,
            &base,
            &member,
            Some(json!({"extra_specs": {"x": "y"}})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // The list filter on extra specs.
    let filtered = cloud
        .call(
            Method::GET,
            "/v3/types?extra_specs={'volume_backend_name':'b1'}",
            &cloud.admin,
            None,
        )
        .await;
    let names: Vec<_> = filtered.body["volume_types"]
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("t1")]);
}

#[tokio::test]
async fn private_types_are_seen_only_with_access() {
    let cloud = Cloud::start().await;
    let (_, project, member) = cloud.member("carol").await;
    let t = cloud
        .call(
            Method::POST,
            "/v3/types",
            &cloud.admin,
            Some(
                json!({"volume_type": {"name": "gold", "os-volume-type-access:is_public": false}}),
            ),
        )
        .await;
    assert_eq!(t.body["volume_type"]["is_public"], false);
    let id = t.body["volume_type"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let hidden = cloud
        .call(Method::GET, &format!("/v3/types/{id}"), &member, None)
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let listed = cloud.call(Method::GET, "/v3/types", &member, None).await;
    assert!(!listed.body["volume_types"]
        .as_array()
        .expect("list")
        .iter()
        .any(|t| t["id"] == id.as_str()));
    // Admins list private types with is_public=false (or None for all).
    let private = cloud
        .call(Method::GET, "/v3/types?is_public=false", &cloud.admin, None)
        .await;
    assert_eq!(
        private.body["volume_types"].as_array().expect("list").len(),
        1
    );
    let all = cloud
        .call(Method::GET, "/v3/types?is_public=None", &cloud.admin, None)
        .await;
    assert_eq!(all.body["volume_types"].as_array().expect("list").len(), 2);
    let action = format!("/v3/types/{id}/action");
    let add = cloud
        .call(
            Method::POST,
            &action,
            &cloud.admin,
            Some(json!({"addProjectAccess": {"project": project}})),
        )
        .await;
    assert_eq!(add.status, StatusCode::ACCEPTED);
    let dup = cloud
        .call(
            Method::POST,
            &action,
            &cloud.admin,
            Some(json!({"addProjectAccess": {"project": project}})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let access = cloud
        .call(
            Method::GET,
            &format!("/v3/types/{id}/os-volume-type-access"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(
        access.body["volume_type_access"],
        json!([{"volume_type_id": id, "project_id": project}])
    );
    let seen = cloud
        .call(Method::GET, &format!("/v3/types/{id}"), &member, None)
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    let listed = cloud.call(Method::GET, "/v3/types", &member, None).await;
    assert!(listed.body["volume_types"]
        .as_array()
        .expect("list")
        .iter()
        .any(|t| t["id"] == id.as_str()));
    let refused = cloud
        .call(
            Method::POST,
            &action,
            &member,
            Some(json!({"removeProjectAccess": {"project": project}})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let remove = cloud
        .call(
            Method::POST,
            &action,
            &cloud.admin,
            Some(json!({"removeProjectAccess": {"project": project}})),
        )
        .await;
    assert_eq!(remove.status, StatusCode::ACCEPTED);
    let again = cloud
        .call(
            Method::POST,
            &action,
            &cloud.admin,
            Some(json!({"removeProjectAccess": {"project": project}})),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let hidden = cloud
        .call(Method::GET, &format!("/v3/types/{id}"), &member, None)
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    // The default type is public: no access list.
    let default = cloud
        .call(Method::GET, "/v3/types/default", &cloud.admin, None)
        .await;
    let default_id = default.body["volume_type"]["id"].as_str().expect("id");
    let none = cloud
        .call(
            Method::GET,
            &format!("/v3/types/{default_id}/os-volume-type-access"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn type_lists_page_and_sort() {
    let cloud = Cloud::start().await;
    for name in ["a", "b", "c"] {
        let r = cloud
            .call(
                Method::POST,
                "/v3/types",
                &cloud.admin,
                Some(json!({"volume_type": {"name": name}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let page = cloud
        .call(
            Method::GET,
            "/v3/types?sort=name:asc&limit=2",
            &cloud.admin,
            None,
        )
        .await;
    let names: Vec<_> = page.body["volume_types"]
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(names, vec!["__DEFAULT__", "a"]);
    let next = page.body["volume_type_links"][0]["href"]
        .as_str()
        .expect("next link");
    let path = next
        .split_once("/v3/")
        .map(|(_, p)| format!("/v3/{p}"))
        .expect("path");
    let page2 = cloud.call(Method::GET, &path, &cloud.admin, None).await;
    let names: Vec<_> = page2.body["volume_types"]
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(names, vec!["b", "c"]);
    // As in Cinder, a full page links to the next one, which is then empty and links nowhere.
    let next = page2.body["volume_type_links"][0]["href"]
        .as_str()
        .expect("next link of a full page");
    let path = next
        .split_once("/v3/")
        .map(|(_, p)| format!("/v3/{p}"))
        .expect("path");
    let page3 = cloud.call(Method::GET, &path, &cloud.admin, None).await;
    assert_eq!(
        page3.body["volume_types"].as_array().map(Vec::len),
        Some(0),
        "{}",
        page3.body
    );
    assert!(page3.body.get("volume_type_links").is_none());
    let bad = cloud
        .call(Method::GET, "/v3/types?limit=abc", &cloud.admin, None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.body["badRequest"]["message"],
        "limit param must be an integer"
    );
}

/// Cinder's create answer has no `qos_specs_id`, its update answer neither that nor
/// `os-volume-type-access:is_public` (Tempest's create/update schemas refuse them); show keeps
/// both for admins.
#[tokio::test]
async fn create_and_update_answers_have_cinders_fields() {
    let cloud = Cloud::start().await;
    let created = cloud
        .call(
            Method::POST,
            "/v3/types",
            &cloud.admin,
            Some(json!({"volume_type": {"name": "shape", "extra_specs": {"a": "b"}}})),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let t = created.body["volume_type"].as_object().expect("type");
    let mut keys: Vec<&str> = t.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "description",
            "extra_specs",
            "id",
            "is_public",
            "name",
            "os-volume-type-access:is_public"
        ]
    );
    let id = t["id"].as_str().expect("id").to_string();
    let upd = cloud
        .call(
            Method::PUT,
            &format!("/v3/types/{id}"),
            &cloud.admin,
            Some(json!({"volume_type": {"description": "d"}})),
        )
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    let t = upd.body["volume_type"].as_object().expect("type");
    let mut keys: Vec<&str> = t.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["description", "extra_specs", "id", "is_public", "name"]
    );
    let shown = cloud
        .call(Method::GET, &format!("/v3/types/{id}"), &cloud.admin, None)
        .await;
    assert!(shown.body["volume_type"].get("qos_specs_id").is_some());
    assert_eq!(
        shown.body["volume_type"]["os-volume-type-access:is_public"],
        true
    );
}

/// `/types/{id}/encryption`: create, show (the record, or `{}`), one field, update, delete,
/// with Cinder's refusals.
#[tokio::test]
async fn encryption_types_crud() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("alice").await;
    let created = cloud
        .call(
            Method::POST,
            "/v3/types",
            &cloud.admin,
            Some(json!({"volume_type": {"name": "luks"}})),
        )
        .await;
    let id = created.body["volume_type"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let url = format!("/v3/types/{id}/encryption");
    let empty = cloud.call(Method::GET, &url, &cloud.admin, None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body, json!({}));
    let spec = json!({"encryption": {"provider": "LuksEncryptor", "key_size": 256, "cipher": "aes-xts-plain64", "control_location": "front-end"}});
    let refused = cloud
        .call(Method::POST, &url, &member, Some(spec.clone()))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let bad = cloud
        .call(
            Method::POST,
            &url,
            &cloud.admin,
            Some(json!({"encryption": {"provider": "p", "control_location": "middle"}})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    let missing = cloud
        .call(
            Method::POST,
            &url,
            &cloud.admin,
            Some(json!({"encryption": {"provider": "p"}})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let no_type = cloud
        .call(
            Method::POST,
            "/v3/types/00000000-0000-0000-0000-000000000000/encryption",
            &cloud.admin,
            Some(spec.clone()),
        )
        .await;
    assert_eq!(no_type.status, StatusCode::NOT_FOUND);
    let made = cloud
        .call(Method::POST, &url, &cloud.admin, Some(spec.clone()))
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let e = &made.body["encryption"];
    assert_eq!(e["provider"], "LuksEncryptor");
    assert_eq!(e["key_size"], 256);
    assert_eq!(e["volume_type_id"], id.as_str());
    let enc_id = e["encryption_id"]
        .as_str()
        .expect("encryption_id")
        .to_string();
    let again = cloud
        .call(Method::POST, &url, &cloud.admin, Some(spec))
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        again.body["badRequest"]["message"],
        format!("Volume type encryption for type {id} already exists.")
    );
    let shown = cloud.call(Method::GET, &url, &cloud.admin, None).await;
    assert_eq!(shown.body["cipher"], "aes-xts-plain64");
    assert_eq!(shown.body["encryption_id"], enc_id.as_str());
    assert_eq!(shown.body["deleted"], false);
    let upd = cloud
        .call(
            Method::PUT,
            &format!("{url}/{enc_id}"),
            &cloud.admin,
            Some(json!({"encryption": {"key_size": 128, "provider": "SomeProvider", "control_location": "back-end"}})),
        )
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.body);
    assert_eq!(
        upd.body,
        json!({"encryption": {"key_size": 128, "provider": "SomeProvider", "control_location": "back-end"}})
    );
    let item = cloud
        .call(
            Method::GET,
            &format!("{url}/control_location"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(item.body, json!({"control_location": "back-end"}));
    let nokey = cloud
        .call(Method::GET, &format!("{url}/nope"), &cloud.admin, None)
        .await;
    assert_eq!(nokey.status, StatusCode::NOT_FOUND);
    let del = cloud
        .call(
            Method::DELETE,
            &format!("{url}/{enc_id}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::ACCEPTED);
    let gone = cloud.call(Method::GET, &url, &cloud.admin, None).await;
    assert_eq!(gone.body, json!({}));
    let del_again = cloud
        .call(
            Method::DELETE,
            &format!("{url}/{enc_id}"),
            &cloud.admin,
            None,
        )
        .await;
    assert_eq!(del_again.status, StatusCode::NOT_FOUND);
    assert_eq!(
        del_again.body["itemNotFound"]["message"],
        format!("Volume type encryption for type {id} does not exist.")
    );
}
