//! Image API tests: an in-process identity and image service on temporary SQLite databases,
//! driven over the router as clients drive it.

#[path = "../../../identity/tests/api/support/mod.rs"]
mod identity_support;

use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use identity_support::TestCloud;
use md5::Digest;
use monostack_image::ImageService;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

struct Cloud {
    identity: TestCloud,
    image: Arc<ImageService>,
    router: axum::Router,
    admin: String,
}

struct Resp {
    status: StatusCode,
    headers: http::HeaderMap,
    bytes: bytes::Bytes,
    body: Value,
}

impl Cloud {
    async fn start() -> Cloud {
        let identity = TestCloud::start().await;
        let image = open_image(&identity).await;
        let router = router(&identity, image.clone());
        let admin = identity.admin_token().await;
        Cloud { identity, image, router, admin }
    }

    async fn call(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Resp {
        let ct = if method == Method::PATCH { "application/openstack-images-v2.1-json-patch" } else { "application/json" };
        let body = body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty);
        self.send(method, path, token, &[("content-type", ct)], body).await
    }

    async fn send(&self, method: Method, path: &str, token: &str, headers: &[(&str, &str)], body: Body) -> Resp {
        let mut req = Request::builder().method(method).uri(path).header("x-auth-token", token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self.router.clone().oneshot(req.body(body).expect("request")).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp { status, headers, bytes, body }
    }

    async fn create(&self, token: &str, body: Value) -> String {
        let r = self.call(Method::POST, "/v2/images", token, Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().expect("id").to_string()
    }

    async fn upload(&self, token: &str, id: &str, data: Vec<u8>) -> Resp {
        self.send(Method::PUT, &format!("/v2/images/{id}/file"), token, &[("content-type", "application/octet-stream")], Body::from(data)).await
    }

    async fn show(&self, id: &str) -> Value {
        self.call(Method::GET, &format!("/v2/images/{id}"), &self.admin, None).await.body
    }
}

async fn open_image(identity: &TestCloud) -> Arc<ImageService> {
    let limits: Arc<dyn monostack_auth::limits::LimitSource> = Arc::new(monostack_identity::validator::LocalLimits::new(identity.identity.clone()));
    ImageService::open(identity.identity.config.clone(), Some(limits)).await.expect("open image")
}

fn router(identity: &TestCloud, image: Arc<ImageService>) -> axum::Router {
    let validator: monostack_auth::SharedValidator = Arc::new(monostack_identity::validator::LocalValidator(identity.identity.clone()));
    monostack_common::server::with_common_layers(
        monostack_image::api::router(image, validator, "http://127.0.0.1:5000/v3"),
        monostack_common::FaultStyle::Image,
        114_688,
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn raw_image(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 256) as u8).collect()
}

#[tokio::test]
async fn upload_download_hashes_ranges_and_statuses() {
    let c = Cloud::start().await;
    let id = c.create(&c.admin, json!({"name": "raw-1", "disk_format": "raw", "container_format": "bare"})).await;
    assert_eq!(c.show(&id).await["status"], "queued");
    let empty = c.call(Method::GET, &format!("/v2/images/{id}/file"), &c.admin, None).await;
    assert_eq!(empty.status, StatusCode::NO_CONTENT, "no data yet");

    let data = raw_image(3 << 20);
    assert_eq!(c.upload(&c.admin, &id, data.clone()).await.status, StatusCode::NO_CONTENT);
    let shown = c.show(&id).await;
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["size"], data.len());
    assert_eq!(shown["virtual_size"], data.len());
    assert_eq!(shown["checksum"], hex(&md5::Md5::digest(&data)));
    assert_eq!(shown["os_hash_algo"], "sha512");
    assert_eq!(shown["os_hash_value"], hex(&sha2::Sha512::digest(&data)));
    assert_eq!(shown["stores"], "file");

    let again = c.upload(&c.admin, &id, data.clone()).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "active images take no second upload");

    let got = c.call(Method::GET, &format!("/v2/images/{id}/file"), &c.admin, None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.bytes.as_ref(), data.as_slice());
    assert_eq!(got.headers["content-md5"], shown["checksum"].as_str().expect("md5"));
    let part = c.send(Method::GET, &format!("/v2/images/{id}/file"), &c.admin, &[("range", "bytes=10-19")], Body::empty()).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes.as_ref(), &data[10..20]);
    assert_eq!(part.headers["content-range"], format!("bytes 10-19/{}", data.len()).as_str());
    let bad = c.send(Method::GET, &format!("/v2/images/{id}/file"), &c.admin, &[("range", "bytes=99999999-")], Body::empty()).await;
    assert_eq!(bad.status, StatusCode::RANGE_NOT_SATISFIABLE);

    assert_eq!(c.call(Method::POST, &format!("/v2/images/{id}/actions/deactivate"), &c.admin, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(c.show(&id).await["status"], "deactivated");
    assert_eq!(c.call(Method::POST, &format!("/v2/images/{id}/actions/reactivate"), &c.admin, None).await.status, StatusCode::NO_CONTENT);

    let file = c.identity.identity.config.state_dir().join("images").join(&id);
    assert!(file.exists(), "one file per image, named by its id");
    assert_eq!(c.call(Method::DELETE, &format!("/v2/images/{id}"), &c.admin, None).await.status, StatusCode::NO_CONTENT);
    assert!(!file.exists());
    assert_eq!(c.call(Method::GET, &format!("/v2/images/{id}"), &c.admin, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.call(Method::DELETE, &format!("/v2/images/{id}"), &c.admin, None).await.status, StatusCode::NOT_FOUND);
    let reuse = c.call(Method::POST, "/v2/images", &c.admin, Some(json!({"id": id}))).await;
    assert_eq!(reuse.status, StatusCode::CONFLICT, "deleted ids are not reused");
}

#[tokio::test]
async fn unsafe_or_mismatched_data_is_refused_and_leaves_nothing() {
    let c = Cloud::start().await;
    // A raw file declared qcow2.
    let id = c.create(&c.admin, json!({"name": "liar", "disk_format": "qcow2", "container_format": "bare"})).await;
    let r = c.upload(&c.admin, &id, raw_image(1 << 20)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(c.show(&id).await["status"], "queued", "refused data can be replaced by a correct upload");
    assert!(!c.identity.identity.config.state_dir().join("images").join(&id).exists());

    // A qcow2 whose backing file is /etc/passwd, made by qemu-img when it is installed.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("evil.qcow2");
    let made = std::process::Command::new("qemu-img")
        .args(["create", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw"])
        .arg(&path)
        .output();
    match made {
        Ok(out) if out.status.success() => {
            let id = c.create(&c.admin, json!({"name": "evil", "disk_format": "qcow2", "container_format": "bare"})).await;
            let r = c.upload(&c.admin, &id, std::fs::read(&path).expect("read")).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST);
            assert!(r.body.to_string().contains("backing file"), "{}", r.body);
            assert_ne!(c.show(&id).await["status"], "active");
        }
        _ => eprintln!("skipping the qemu-img backing-file upload: qemu-img is not installed"),
    }

    // A transfer that breaks half-way: the image ends killed, with no data kept.
    let id = c.create(&c.admin, json!({"name": "cut", "disk_format": "raw", "container_format": "bare"})).await;
    let broken = futures::stream::iter(vec![Ok(bytes::Bytes::from(raw_image(4096))), Err(std::io::Error::other("connection reset"))]);
    let r = c.send(Method::PUT, &format!("/v2/images/{id}/file"), &c.admin, &[], Body::from_stream(broken)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.show(&id).await["status"], "killed");
    let partial = c.identity.identity.config.state_dir().join("images").join(".partial");
    assert_eq!(std::fs::read_dir(partial).expect("partial dir").count(), 0);
}

#[tokio::test]
async fn a_restart_settles_interrupted_uploads() {
    let c = Cloud::start().await;
    let id = c.create(&c.admin, json!({"name": "mid-upload", "disk_format": "raw", "container_format": "bare"})).await;
    monostack_image::db::images::transition(&c.image.db, &id, &["queued"], "saving").await.expect("db");
    let partial = c.identity.identity.config.state_dir().join("images").join(".partial").join(format!("{id}.leftover"));
    std::fs::write(&partial, b"half an image").expect("write");
    let reopened = open_image(&c.identity).await;
    let img = monostack_image::db::images::get(&reopened.db, &id).await.expect("db").expect("image");
    assert_eq!(img.status, "killed");
    assert!(!partial.exists());
}

#[tokio::test]
async fn create_list_patch_tags_and_protection() {
    let c = Cloud::start().await;
    let id = c
        .create(&c.admin, json!({"name": "cirros", "disk_format": "qcow2", "container_format": "bare", "tags": ["a"], "hw_disk_bus": "scsi", "min_ram": 64}))
        .await;
    c.create(&c.admin, json!({"name": "other", "disk_format": "raw", "container_format": "ovf"})).await;
    let c = &c;
    let list = |q: &'static str| async move { c.call(Method::GET, &format!("/v2/images{q}"), &c.admin, None).await.body };
    let names = |v: Value| v["images"].as_array().expect("images").iter().map(|i| i["name"].as_str().unwrap_or("").to_string()).collect::<Vec<_>>();
    assert_eq!(names(list("?name=cirros").await), ["cirros"]);
    assert_eq!(names(list("?tag=a").await), ["cirros"]);
    assert_eq!(names(list("?hw_disk_bus=scsi").await), ["cirros"]);
    assert_eq!(names(list("?container_format=ovf").await), ["other"]);
    assert_eq!(names(list("?disk_format=in:raw,qcow2&sort=name:asc").await), ["cirros", "other"]);
    assert_eq!(names(list("?sort_key=name&sort_dir=desc").await), ["other", "cirros"]);
    let page = list("?limit=1&sort=name:asc").await;
    assert_eq!(names(page.clone()), ["cirros"]);
    assert!(page["next"].as_str().expect("next").contains(&format!("marker={id}")));
    assert_eq!(c.call(Method::GET, "/v2/images?marker=nope", &c.admin, None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.call(Method::GET, "/v2/images?sort_key=bogus", &c.admin, None).await.status, StatusCode::BAD_REQUEST);

    let patch = json!([
        {"op": "replace", "path": "/name", "value": "cirros-2"},
        {"op": "add", "path": "/os_distro", "value": "cirros"},
        {"op": "remove", "path": "/hw_disk_bus"},
        {"op": "replace", "path": "/protected", "value": true},
    ]);
    let r = c.call(Method::PATCH, &format!("/v2/images/{id}"), &c.admin, Some(patch)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], "cirros-2");
    assert_eq!(r.body["os_distro"], "cirros");
    assert!(r.body.get("hw_disk_bus").is_none());
    let ro = c.call(Method::PATCH, &format!("/v2/images/{id}"), &c.admin, Some(json!([{"op": "replace", "path": "/size", "value": 1}]))).await;
    assert_eq!(ro.status, StatusCode::FORBIDDEN);
    let wrong_type = c.send(Method::PATCH, &format!("/v2/images/{id}"), &c.admin, &[("content-type", "application/json")], Body::from("[]")).await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    assert_eq!(c.call(Method::PUT, &format!("/v2/images/{id}/tags/b"), &c.admin, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(c.show(&id).await["tags"], json!(["a", "b"]));
    assert_eq!(c.call(Method::DELETE, &format!("/v2/images/{id}/tags/zz"), &c.admin, None).await.status, StatusCode::NOT_FOUND);

    assert_eq!(c.call(Method::DELETE, &format!("/v2/images/{id}"), &c.admin, None).await.status, StatusCode::FORBIDDEN, "protected");
    let bad = c.call(Method::POST, "/v2/images", &c.admin, Some(json!({"min_ram": "lots"}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let ro = c.call(Method::POST, "/v2/images", &c.admin, Some(json!({"status": "active"}))).await;
    assert_eq!(ro.status, StatusCode::FORBIDDEN);
    let malformed = c.send(Method::POST, "/v2/images", &c.admin, &[("content-type", "application/json")], Body::from("{nope")).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.call(Method::GET, "/v2/schemas/image", &c.admin, None).await.body["name"], "image");
}

#[tokio::test]
async fn visibility_sharing_and_members() {
    let c = Cloud::start().await;
    let (_, owner_project, owner) = c.identity.member(&c.admin, "owner").await;
    let (_, guest_project, guest) = c.identity.member(&c.admin, "guest").await;
    let private = c.create(&owner, json!({"name": "mine", "visibility": "private"})).await;
    let shared = c.create(&owner, json!({"name": "offered"})).await;
    assert_eq!(c.show(&shared).await["visibility"], "shared", "Glance's default visibility");
    assert_eq!(c.show(&private).await["owner"], owner_project.as_str());

    let public = c.call(Method::POST, "/v2/images", &owner, Some(json!({"name": "pub", "visibility": "public"}))).await;
    assert_eq!(public.status, StatusCode::FORBIDDEN, "only admins publicize");
    let community = c.create(&owner, json!({"name": "comm", "visibility": "community"})).await;

    assert_eq!(c.call(Method::GET, &format!("/v2/images/{private}"), &guest, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.call(Method::GET, &format!("/v2/images/{community}"), &guest, None).await.status, StatusCode::OK);
    let names = |r: Resp| r.body["images"].as_array().expect("images").iter().map(|i| i["name"].as_str().unwrap_or("").to_string()).collect::<Vec<_>>();
    assert!(names(c.call(Method::GET, "/v2/images", &guest, None).await).is_empty(), "community images are not listed by default");
    assert_eq!(names(c.call(Method::GET, "/v2/images?visibility=community", &guest, None).await), ["comm"]);

    let forbidden = c.call(Method::POST, &format!("/v2/images/{private}/members"), &owner, Some(json!({"member": guest_project}))).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "only shared images have members");
    let added = c.call(Method::POST, &format!("/v2/images/{shared}/members"), &owner, Some(json!({"member": guest_project}))).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert_eq!(added.body["status"], "pending");
    let dup = c.call(Method::POST, &format!("/v2/images/{shared}/members"), &owner, Some(json!({"member": guest_project}))).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    assert!(names(c.call(Method::GET, "/v2/images", &guest, None).await).is_empty(), "pending members do not list it");
    assert_eq!(names(c.call(Method::GET, "/v2/images?member_status=pending", &guest, None).await), ["offered"]);
    let member_path = format!("/v2/images/{shared}/members/{guest_project}");
    let by_owner = c.call(Method::PUT, &member_path, &owner, Some(json!({"status": "accepted"}))).await;
    assert_eq!(by_owner.status, StatusCode::FORBIDDEN, "the owner cannot accept for the member");
    let accepted = c.call(Method::PUT, &member_path, &guest, Some(json!({"status": "accepted"}))).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(names(c.call(Method::GET, "/v2/images", &guest, None).await), ["offered"]);
    let edit = c.call(Method::PATCH, &format!("/v2/images/{shared}"), &guest, Some(json!([{"op": "replace", "path": "/name", "value": "x"}]))).await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN, "members read, owners write");
    assert_eq!(c.call(Method::DELETE, &member_path, &owner, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(c.call(Method::GET, &format!("/v2/images/{shared}"), &guest, None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unified_limits_cap_image_count_and_size() {
    let c = Cloud::start().await;
    let (_, _, member) = c.identity.member(&c.admin, "quota").await;
    let services = c.identity.call(Method::GET, "/v3/services?type=image", Some(&c.admin), None).await;
    let service_id = services.body["services"][0]["id"].as_str().expect("image service").to_string();
    let limits = json!({"registered_limits": [
        {"service_id": service_id, "resource_name": "image_count_total", "default_limit": 1},
        {"service_id": service_id, "resource_name": "image_size_total", "default_limit": 1},
    ]});
    let r = c.identity.call(Method::POST, "/v3/registered_limits", Some(&c.admin), Some(limits)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = c.create(&member, json!({"name": "one", "disk_format": "raw", "container_format": "bare"})).await;
    let second = c.call(Method::POST, "/v2/images", &member, Some(json!({"name": "two"}))).await;
    assert_eq!(second.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", second.body);
    let big = c.upload(&member, &id, raw_image(2 << 20)).await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE, "2 MiB over a 1 MiB quota: {}", big.body);
    assert_eq!(c.show(&id).await["status"], "queued");
    assert_eq!(c.upload(&member, &id, raw_image(1000)).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn glance_direct_import_and_discovery() {
    let c = Cloud::start().await;
    let methods = c.call(Method::GET, "/v2/info/import", &c.admin, None).await;
    assert_eq!(methods.body["import-methods"]["value"], json!(["glance-direct", "web-download", "copy-image"]));
    assert_eq!(c.call(Method::GET, "/v2/info/stores", &c.admin, None).await.body["stores"][0]["id"], "file");
    let id = c.create(&c.admin, json!({"name": "staged", "disk_format": "raw", "container_format": "bare"})).await;
    let early = c.call(Method::POST, &format!("/v2/images/{id}/import"), &c.admin, Some(json!({"method": {"name": "glance-direct"}}))).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "nothing staged yet");
    let data = raw_image(100_000);
    let staged = c.send(Method::PUT, &format!("/v2/images/{id}/stage"), &c.admin, &[("content-type", "application/octet-stream")], Body::from(data.clone())).await;
    assert_eq!(staged.status, StatusCode::NO_CONTENT, "{}", staged.body);
    assert_eq!(c.show(&id).await["status"], "uploading");
    let r = c.call(Method::POST, &format!("/v2/images/{id}/import"), &c.admin, Some(json!({"method": {"name": "glance-direct"}}))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let mut shown = c.show(&id).await;
    for _ in 0..100 {
        if shown["status"] == "active" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        shown = c.show(&id).await;
    }
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["checksum"], hex(&md5::Md5::digest(&data)));
    assert_eq!(shown["os_glance_importing_to_stores"], "");
    let tasks = c.call(Method::GET, &format!("/v2/images/{id}/tasks"), &c.admin, None).await;
    assert_eq!(tasks.body["tasks"][0]["status"], "success", "{}", tasks.body);

    let web = c.create(&c.admin, json!({"name": "web", "disk_format": "raw", "container_format": "bare"})).await;
    let body = json!({"method": {"name": "web-download", "uri": "http://127.0.0.1:9/nothing-listens-here"}});
    assert_eq!(c.call(Method::POST, &format!("/v2/images/{web}/import"), &c.admin, Some(body)).await.status, StatusCode::ACCEPTED);
    let mut shown = c.show(&web).await;
    for _ in 0..200 {
        if shown["os_glance_failed_import"] == "file" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        shown = c.show(&web).await;
    }
    assert_eq!(shown["os_glance_failed_import"], "file", "{shown}");
    assert_eq!(shown["status"], "queued");
    assert!(shown["os_glance_import_error"].as_str().unwrap_or("").contains("web-download"));
}
