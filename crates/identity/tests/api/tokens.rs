//! Token issue/validate/revoke through the API.


use http::{Method, StatusCode};
use serde_json::json;
use crate::support::{subject, TestCloud, ADMIN_PASSWORD};

#[tokio::test]
async fn password_token_validates_and_revokes() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let r = cloud.call_with(Method::GET, "/v3/auth/tokens", Some(&admin), None, &[("x-subject-token", &admin)]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["token"]["project"]["name"], "admin");
    assert!(r.body["token"]["roles"].as_array().unwrap().iter().any(|x| x["name"] == "reader"), "implied roles expand");
    assert!(r.body["token"]["catalog"].as_array().unwrap().len() >= 6);

    let other = cloud.admin_token().await;
    let d = cloud.call_with(Method::DELETE, "/v3/auth/tokens", Some(&admin), None, &[("x-subject-token", &other)]).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let v = cloud.call_with(Method::GET, "/v3/auth/tokens", Some(&admin), None, &[("x-subject-token", &other)]).await;
    assert_eq!(v.status, StatusCode::NOT_FOUND);
    let used = cloud.call(Method::GET, "/v3/projects", Some(&other), None).await;
    assert_eq!(used.status, StatusCode::UNAUTHORIZED);
    assert_eq!(used.body["error"]["code"], 401);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let cloud = TestCloud::start().await;
    let a = cloud.token_for("admin", "wrong", None).await;
    let b = cloud.token_for("nobody", ADMIN_PASSWORD, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.body, b.body);
}

#[tokio::test]
async fn token_method_keeps_expiry_and_chains_audit_ids() {
    let cloud = TestCloud::start().await;
    let unscoped = cloud.token_for("admin", ADMIN_PASSWORD, None).await;
    assert_eq!(unscoped.status, StatusCode::CREATED);
    assert!(unscoped.body["token"].get("catalog").is_none());
    let t = subject(&unscoped);
    let body = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": t}}, "scope": {"system": {"all": true}}}});
    let r = cloud.call(Method::POST, "/v3/auth/tokens", None, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["token"]["expires_at"], unscoped.body["token"]["expires_at"]);
    assert_eq!(r.body["token"]["audit_ids"][1], unscoped.body["token"]["audit_ids"][0]);
    assert_eq!(r.body["token"]["system"]["all"], true);
}

#[tokio::test]
async fn bad_bodies_are_400_not_500() {
    let cloud = TestCloud::start().await;
    for body in [json!({}), json!({"auth": 1}), json!({"auth": {"identity": {"methods": "password"}}}), json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": 5}}}}})] {
        let r = cloud.call(Method::POST, "/v3/auth/tokens", None, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body} gave {}", r.body);
        assert_eq!(r.body["error"]["code"], 400);
    }
    let garbage = cloud.call(Method::GET, "/v3/projects", Some("gAAAAgarbage"), None).await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn project_member_cannot_see_other_projects() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (_, project_a, token_a) = cloud.member(&admin, "alice").await;
    let (_, project_b, _) = cloud.member(&admin, "bob").await;
    let own = cloud.call(Method::GET, &format!("/v3/projects/{project_a}"), Some(&token_a), None).await;
    assert_eq!(own.status, StatusCode::OK);
    let other = cloud.call(Method::GET, &format!("/v3/projects/{project_b}"), Some(&token_a), None).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let update = cloud.call(Method::PATCH, &format!("/v3/projects/{project_b}"), Some(&token_a), Some(json!({"project": {"name": "x"}}))).await;
    assert_eq!(update.status, StatusCode::FORBIDDEN);
    let mine = cloud.call(Method::GET, "/v3/auth/projects", Some(&token_a), None).await;
    let ids: Vec<&str> = mine.body["projects"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![project_a.as_str()]);
}

#[tokio::test]
async fn disabling_a_project_revokes_its_tokens() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (_, project, token) = cloud.member(&admin, "carol").await;
    assert_eq!(cloud.call(Method::GET, "/v3/auth/projects", Some(&token), None).await.status, StatusCode::OK);
    let r = cloud.call(Method::PATCH, &format!("/v3/projects/{project}"), Some(&admin), Some(json!({"project": {"enabled": false}}))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(cloud.call(Method::GET, "/v3/auth/projects", Some(&token), None).await.status, StatusCode::UNAUTHORIZED);
}
