//! Bad input of every kind gets a clean Keystone fault with the right status, never a 500.


use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use crate::support::TestCloud;
use tower::ServiceExt;

async fn raw(cloud: &TestCloud, method: Method, path: &str, token: Option<&str>, body: &str) -> (StatusCode, serde_json::Value) {
    let mut req = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("x-auth-token", t);
    }
    let resp = cloud.router.clone().oneshot(req.body(Body::from(body.to_string())).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn malformed_and_mistyped_bodies_are_400() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    for body in ["{not json", "", "[]", "null", "{\"project\": []}", "{\"project\": {\"name\": 7}}", "{\"project\": {\"name\": \"x\", \"enabled\": \"yes\"}}", "{\"project\": {}}"] {
        let (status, fault) = raw(&cloud, Method::POST, "/v3/projects", Some(&admin), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "body {body:?} gave {fault}");
        assert_eq!(fault["error"]["code"], 400, "{fault}");
        assert!(fault["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (status, _) = raw(&cloud, Method::POST, "/v3/auth/tokens", None, "{\"auth\": {\"identity\": {\"methods\": [\"kerberos\"], \"kerberos\": {}}}}").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "unknown auth method");
}

#[tokio::test]
async fn huge_bodies_are_413() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let big = format!("{{\"project\": {{\"name\": \"big\", \"description\": \"{}\"}}}}", "x".repeat(200_000));
    let (status, fault) = raw(&cloud, Method::POST, "/v3/projects", Some(&admin), &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{fault}");
    assert_eq!(fault["error"]["code"], 413);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_faults() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (status, fault) = raw(&cloud, Method::GET, "/v3/nothing-here", Some(&admin), "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(fault["error"]["code"], 404);
    let (status, fault) = raw(&cloud, Method::PUT, "/v3/auth/catalog", Some(&admin), "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(fault["error"]["code"], 405);
}

#[tokio::test]
async fn unicode_and_sql_like_names_are_just_names() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    for name in ["проект-日本語-🚀", "x'; DROP TABLE projects; --", "a\" OR \"1\"=\"1", "%_\\"] {
        let r = cloud.call(Method::POST, "/v3/projects", Some(&admin), Some(json!({"project": {"name": name}}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        assert_eq!(r.body["project"]["name"], name);
        let id = r.body["project"]["id"].as_str().unwrap().to_string();
        let shown = cloud.call(Method::GET, &format!("/v3/projects/{id}"), Some(&admin), None).await;
        assert_eq!(shown.body["project"]["name"], name);
        let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("name", name).finish();
        let listed = cloud.call(Method::GET, &format!("/v3/projects?{q}"), Some(&admin), None).await;
        assert_eq!(listed.body["projects"].as_array().unwrap().len(), 1, "{name}");
    }
    let still = cloud.call(Method::GET, "/v3/projects", Some(&admin), None).await;
    assert_eq!(still.status, StatusCode::OK, "tables intact");
}

#[tokio::test]
async fn garbage_expired_and_revoked_tokens_are_401() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    // An expired token, made with the service's own keys.
    let now = monostack_common::time::now_micros();
    let user = monostack_identity::store::users::get_by_name(&cloud.identity, "default", "admin").await.unwrap().unwrap();
    let expired = cloud.identity.encode_token(&monostack_identity::token::payload::Payload {
        user_id: user.id,
        methods: vec!["password".into()],
        scope: monostack_identity::token::payload::Scope::Unscoped,
        expires_at: now - 1_000_000,
        issued_at: now - 2_000_000,
        audit_ids: vec![monostack_identity::token::payload::new_audit_id()],
    });
    let revoked = cloud.admin_token().await;
    let d = cloud.call_with(Method::DELETE, "/v3/auth/tokens", Some(&admin), None, &[("x-subject-token", &revoked)]).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    for token in ["", "garbage", "gAAAAABnotreallyafernettokenatallbutlongenoughtolooklikeone", &expired, &revoked, &"A".repeat(10_000)] {
        let r = cloud.call(Method::GET, "/v3/projects", Some(token), None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "token {:.20}", token);
        assert_eq!(r.body["error"]["title"], "Unauthorized");
    }
    let r = cloud.call_with(Method::GET, "/v3/auth/tokens", Some(&admin), None, &[("x-subject-token", &expired)]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "expired subject");
    let r = cloud.call_with(Method::GET, "/v3/auth/tokens?allow_expired=1", Some(&admin), None, &[("x-subject-token", &expired)]).await;
    assert_eq!(r.status, StatusCode::OK, "allow_expired accepts a recently expired token: {}", r.body);
}
