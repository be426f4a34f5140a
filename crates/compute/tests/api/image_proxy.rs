//! Nova's image proxy (`/images` until 2.35, `/images/{id}/metadata` until 2.38) over a real
//! image service: Nova's view, filters, paging, deletion and property edits.

use crate::images::{create, upload};
use crate::servers::fault_message;
use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::{json, Value};

fn ids(body: &Value) -> Vec<String> {
    body["images"].as_array().into_iter().flatten().filter_map(|i| i["id"].as_str().map(str::to_string)).collect()
}

fn find<'a>(body: &'a Value, id: &str) -> &'a Value {
    body["images"].as_array().and_then(|a| a.iter().find(|i| i["id"] == id)).unwrap_or(&Value::Null)
}

#[tokio::test]
async fn list_show_filters_and_pages() {
    let cloud = Cloud::start().await;
    let (_, _, t) = cloud.member("ida").await;
    let server = "5b8ea4b4-9d1c-4e4e-8a4e-2f6f1a0c9d01";
    let plain = upload(&cloud.image_url, &t, json!({"name": "plain", "os_distro": "cirros", "auto_disk_config": "true", "min_ram": 64}), &[1u8; 1024]).await;
    let queued = create(&cloud.image_url, &t, json!({"name": "queued"})).await;
    let snap = upload(&cloud.image_url, &t, json!({"name": "snap", "instance_uuid": server, "image_type": "snapshot"}), &[2u8; 16]).await;

    let index = cloud.call(Method::GET, "/v2.1/images", &t, None).await;
    assert_eq!(index.status, StatusCode::OK, "{}", index.body);
    for id in [&plain, &queued, &snap, &cloud.image_id] {
        assert!(ids(&index.body).contains(id), "{id} listed: {}", index.body);
    }
    let entry = find(&index.body, &plain);
    assert_eq!(entry.as_object().map(|o| o.len()), Some(3), "id, name and links: {entry}");
    let links: Vec<&str> = entry["links"].as_array().into_iter().flatten().filter_map(|l| l["rel"].as_str()).collect();
    assert_eq!(links, vec!["self", "bookmark", "alternate"]);
    assert_eq!(entry["links"][2]["href"], format!("{}/images/{plain}", cloud.image_url));

    let detail = cloud.call(Method::GET, "/v2.1/images/detail", &t, None).await;
    let p = find(&detail.body, &plain);
    assert_eq!((p["status"].as_str(), p["progress"].as_i64(), p["OS-EXT-IMG-SIZE:size"].as_i64(), p["minRam"].as_i64(), p["minDisk"].as_i64()), (Some("ACTIVE"), Some(100), Some(1024), Some(64), Some(0)));
    assert_eq!(p["metadata"], json!({"os_distro": "cirros", "auto_disk_config": "true"}));
    assert_eq!(p["OS-DCF:diskConfig"], "AUTO");
    assert!(p["created"].as_str().is_some_and(|c| c.ends_with('Z')) && p["updated"].is_string(), "{p}");
    assert!(p.get("server").is_none());
    let q = find(&detail.body, &queued);
    assert_eq!((q["status"].as_str(), q["progress"].as_i64()), (Some("SAVING"), Some(25)));
    let s = find(&detail.body, &snap);
    assert_eq!(s["server"]["id"], server);
    assert!(s["server"]["links"][0]["href"].as_str().is_some_and(|h| h.ends_with(&format!("/v2.1/servers/{server}"))));

    let only = |query: &str| {
        let path = format!("/v2.1/images?{query}");
        let cloud = &cloud;
        let t = t.clone();
        async move {
            let r = cloud.call(Method::GET, &path, &t, None).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
            ids(&r.body)
        }
    };
    assert!(!only("status=ACTIVE").await.contains(&queued));
    assert_eq!(only("name=queued").await, vec![queued.clone()]);
    assert_eq!(only(&format!("server={server}")).await, vec![snap.clone()]);
    assert_eq!(only(&format!("server=http%3A%2F%2Fh%3A8774%2Fv2.1%2Fservers%2F{server}")).await, vec![snap.clone()]);
    assert_eq!(only("type=snapshot").await, vec![snap.clone()]);
    assert_eq!(only("property-os_distro=cirros").await, vec![plain.clone()]);
    let since = p["created"].as_str().unwrap_or_default().replace(':', "%3A");
    assert!(only(&format!("changes-since={since}")).await.contains(&plain));
    assert!(only("changes-since=2999-01-01T00%3A00%3A00Z").await.is_empty());

    let first = cloud.call(Method::GET, "/v2.1/images?limit=1", &t, None).await;
    let page = ids(&first.body);
    assert_eq!(page.len(), 1);
    let next = first.body["images_links"][0]["href"].as_str().expect("a next link").to_string();
    assert!(next.ends_with(&format!("/v2.1/images?limit=1&marker={}", page[0])), "{next}");
    let second = cloud.call(Method::GET, &format!("/v2.1/images/detail?limit=1&marker={}", page[0]), &t, None).await;
    assert_eq!(ids(&second.body).len(), 1);
    assert_ne!(ids(&second.body), page);
    assert_eq!(cloud.call(Method::GET, "/v2.1/images?limit=0", &t, None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(cloud.call(Method::GET, "/v2.1/images?marker=nope", &t, None).await.status, StatusCode::BAD_REQUEST);

    let show = cloud.call(Method::GET, &format!("/v2.1/images/{plain}"), &t, None).await;
    assert_eq!((show.status, show.body["image"]["id"].as_str()), (StatusCode::OK, Some(plain.as_str())));
    let missing = cloud.call(Method::GET, "/v2.1/images/0b4e8a9e-5c8f-4a4a-9d4e-6d3c0b1f2a3b", &t, None).await;
    assert_eq!((missing.status, fault_message(&missing)), (StatusCode::NOT_FOUND, "Image not found.".to_string()));
    let (_, _, other) = cloud.member("jon").await;
    assert_eq!(cloud.call(Method::GET, &format!("/v2.1/images/{plain}"), &other, None).await.status, StatusCode::NOT_FOUND, "private to its project");
    for path in ["/v2.1/images", "/v2.1/images/detail", &format!("/v2.1/images/{plain}")] {
        assert_eq!(cloud.call_at(Some("2.36"), Method::GET, path, &t, None).await.status, StatusCode::NOT_FOUND, "{path} at 2.36");
        assert_eq!(cloud.call_at(Some("2.35"), Method::GET, path, &t, None).await.status, StatusCode::OK, "{path} at 2.35");
    }
}

#[tokio::test]
async fn delete_through_the_proxy() {
    let cloud = Cloud::start().await;
    let (_, _, t) = cloud.member("kim").await;
    let mine = upload(&cloud.image_url, &t, json!({"name": "mine"}), &[3u8; 8]).await;
    let path = format!("/v2.1/images/{mine}");
    assert_eq!(cloud.call(Method::DELETE, &path, &t, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(cloud.call(Method::GET, &path, &t, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call(Method::DELETE, &path, &t, None).await.status, StatusCode::NOT_FOUND);
    for bad in ["-1", "invalid", "0b4e8a9e-5c8f-4a4a-9d4e-6d3c0b1f2a3j", "a%20b"] {
        let r = cloud.call(Method::DELETE, &format!("/v2.1/images/{bad}"), &t, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}: {}", r.body);
    }
    assert_eq!(cloud.call(Method::DELETE, "/v2.1/images/", &t, None).await.status, StatusCode::NOT_FOUND);
    let theirs = cloud.call(Method::DELETE, &format!("/v2.1/images/{}", cloud.image_id), &t, None).await;
    assert_eq!((theirs.status, fault_message(&theirs)), (StatusCode::FORBIDDEN, "You are not allowed to delete the image.".to_string()));
    assert_eq!(cloud.call_at(Some("2.36"), Method::DELETE, &format!("/v2.1/images/{}", cloud.image_id), &cloud.admin, None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metadata_is_the_image_properties() {
    let cloud = Cloud::start().await;
    let (_, project, t) = cloud.member("lee").await;
    let image = upload(&cloud.image_url, &t, json!({"name": "meta"}), &[4u8; 8]).await;
    let path = format!("/v2.1/images/{image}/metadata");
    let call = |method: Method, sub: &str, body: Option<Value>| {
        let (cloud, t, path) = (&cloud, t.clone(), format!("{path}{sub}"));
        async move { cloud.call(method, &path, &t, body).await }
    };
    let set = call(Method::PUT, "", Some(json!({"metadata": {"os_version": "value1", "os_distro": "value2"}}))).await;
    assert_eq!((set.status, set.body.clone()), (StatusCode::OK, json!({"metadata": {"os_version": "value1", "os_distro": "value2"}})));
    assert_eq!(call(Method::GET, "", None).await.body, json!({"metadata": {"os_version": "value1", "os_distro": "value2"}}));
    let merged = call(Method::POST, "", Some(json!({"metadata": {"os_version": "alt1", "architecture": "value3"}}))).await;
    assert_eq!(merged.body, json!({"metadata": {"os_version": "alt1", "os_distro": "value2", "architecture": "value3"}}));
    let replaced = call(Method::PUT, "", Some(json!({"metadata": {"os_version": "value2", "architecture": "value3"}}))).await;
    assert_eq!(replaced.status, StatusCode::OK);
    assert_eq!(call(Method::GET, "", None).await.body, json!({"metadata": {"os_version": "value2", "architecture": "value3"}}));
    let item = call(Method::PUT, "/os_version", Some(json!({"meta": {"os_version": "alt"}}))).await;
    assert_eq!((item.status, item.body.clone()), (StatusCode::OK, json!({"meta": {"os_version": "alt"}})));
    assert_eq!(call(Method::GET, "/os_version", None).await.body, json!({"meta": {"os_version": "alt"}}));
    assert_eq!(call(Method::DELETE, "/os_version", None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(call(Method::GET, "", None).await.body, json!({"metadata": {"architecture": "value3"}}));
    assert_eq!(call(Method::GET, "/os_version", None).await.status, StatusCode::NOT_FOUND);
    let gone = call(Method::DELETE, "/os_version", None).await;
    assert_eq!((gone.status, fault_message(&gone)), (StatusCode::NOT_FOUND, "Invalid metadata key".to_string()));
    let mismatch = call(Method::PUT, "/a", Some(json!({"meta": {"b": "1"}}))).await;
    assert_eq!((mismatch.status, fault_message(&mismatch)), (StatusCode::BAD_REQUEST, "Request body and URI mismatch".to_string()));
    for (method, sub, body) in [
        (Method::PUT, "/a", json!({"meta": {"a": "1", "b": "2"}})),
        (Method::PUT, "/a", json!({"meta": {}})),
        (Method::POST, "", json!({"metadata": {"a": 1}})),
        (Method::POST, "", json!({"metadata": {"bad/key": "1"}})),
        (Method::PUT, "", json!({"meta": {"a": "1"}})),
    ] {
        assert_eq!(call(method.clone(), sub, Some(body.clone())).await.status, StatusCode::BAD_REQUEST, "{method} {sub} {body}");
    }

    let nowhere = "/v2.1/images/0b4e8a9e-5c8f-4a4a-9d4e-6d3c0b1f2a3b/metadata";
    for (method, sub, body) in [
        (Method::GET, "", None),
        (Method::PUT, "", Some(json!({"metadata": {"a": "1"}}))),
        (Method::POST, "", Some(json!({"metadata": {"a": "1"}}))),
        (Method::GET, "/a", None),
        (Method::PUT, "/a", Some(json!({"meta": {"a": "1"}}))),
        (Method::DELETE, "/a", None),
    ] {
        let r = cloud.call(method.clone(), &format!("{nowhere}{sub}"), &t, body).await;
        assert_eq!((r.status, fault_message(&r)), (StatusCode::NOT_FOUND, "Image not found.".to_string()), "{method} {sub}");
    }

    cloud.call(Method::PUT, &format!("/v2.1/os-quota-sets/{project}"), &cloud.admin, Some(json!({"quota_set": {"metadata_items": 2}}))).await;
    let over = call(Method::POST, "", Some(json!({"metadata": {"b": "1", "c": "2"}}))).await;
    assert_eq!((over.status, fault_message(&over)), (StatusCode::FORBIDDEN, "Image metadata limit exceeded".to_string()));
    assert_eq!(call(Method::GET, "", None).await.body, json!({"metadata": {"architecture": "value3"}}), "nothing changed");
    assert_eq!(cloud.call_at(Some("2.39"), Method::GET, &path, &t, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cloud.call_at(Some("2.38"), Method::GET, &path, &t, None).await.status, StatusCode::OK);
}
