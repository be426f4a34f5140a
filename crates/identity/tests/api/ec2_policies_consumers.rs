//! OS-EC2 credentials, `/v3/policies` and OS-OAUTH1 consumers through the API.


use http::{Method, StatusCode};
use serde_json::{json, Value};
use crate::support::TestCloud;

fn ids(body: &Value, key: &str, field: &str) -> Vec<String> {
    body[key].as_array().expect("list").iter().map(|x| x[field].as_str().expect("field").to_string()).collect()
}

#[tokio::test]
async fn ec2_credentials_lifecycle_for_the_owner() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (user, project, token) = cloud.member(&admin, "ec2user").await;
    let base = format!("/v3/users/{user}/credentials/OS-EC2");

    let c = cloud.call(Method::POST, &base, Some(&token), Some(json!({"tenant_id": project}))).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let cred = &c.body["credential"];
    let access = cred["access"].as_str().unwrap().to_string();
    assert_eq!(access.len(), 32);
    assert_eq!(cred["secret"].as_str().unwrap().len(), 32);
    assert_eq!(cred["user_id"], user.as_str());
    assert_eq!(cred["tenant_id"], project.as_str());
    assert_eq!(cred["trust_id"], Value::Null);
    assert!(cred["links"]["self"].as_str().unwrap().ends_with(&format!("{base}/{access}")));

    let c2 = cloud.call(Method::POST, &base, Some(&token), Some(json!({"tenant_id": project}))).await;
    assert_eq!(c2.status, StatusCode::CREATED);
    let access2 = c2.body["credential"]["access"].as_str().unwrap().to_string();

    let l = cloud.call(Method::GET, &base, Some(&token), None).await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.body);
    let listed = ids(&l.body, "credentials", "access");
    assert!(listed.contains(&access) && listed.contains(&access2));
    assert!(l.body["links"]["self"].as_str().unwrap().ends_with(&base));

    let s = cloud.call(Method::GET, &format!("{base}/{access}"), Some(&token), None).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    for key in ["access", "secret", "user_id", "tenant_id"] {
        assert_eq!(s.body["credential"][key], *cred.get(key).unwrap());
    }

    // It is an ordinary ec2 credential underneath, with id sha256(access), blob encrypted at rest.
    let id = monostack_identity::api::credentials::ec2_id(&access);
    let stored = monostack_identity::store::credentials::get(&cloud.identity, &id).await.unwrap().unwrap();
    assert_eq!(stored.cred_type, "ec2");
    let raw: String = sqlx::query_scalar("SELECT encrypted_blob FROM credentials WHERE id = ?")
        .bind(&id)
        .fetch_one(&cloud.identity.db.pool)
        .await
        .unwrap();
    assert!(!raw.contains(&access));
    let v3 = cloud.call(Method::GET, &format!("/v3/credentials/{id}"), Some(&admin), None).await;
    assert_eq!(v3.status, StatusCode::OK);
    assert_eq!(v3.body["credential"]["type"], "ec2");

    let d = cloud.call(Method::DELETE, &format!("{base}/{access}"), Some(&token), None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let gone = cloud.call(Method::GET, &format!("{base}/{access}"), Some(&token), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body["error"]["code"], 404);
    let again = cloud.call(Method::DELETE, &format!("{base}/{access}"), Some(&token), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let l = cloud.call(Method::GET, &base, Some(&token), None).await;
    assert_eq!(ids(&l.body, "credentials", "access"), vec![access2]);
}

#[tokio::test]
async fn ec2_credentials_bad_input_and_unknowns() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (user, project, token) = cloud.member(&admin, "ec2bad").await;
    let (_, other_project, _) = cloud.member(&admin, "ec2other").await;
    let base = format!("/v3/users/{user}/credentials/OS-EC2");
    for body in [json!({}), json!({"tenant_id": 5}), json!({"tenant_id": ""}), json!([1])] {
        let r = cloud.call(Method::POST, &base, Some(&token), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
    }
    let r = cloud.call(Method::POST, &base, Some(&token), Some(json!({"tenant_id": "nope"}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"]["message"], "Could not find project: nope.");
    let r = cloud.call(Method::POST, &base, Some(&token), Some(json!({"tenant_id": "default"}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "a domain is not a project");
    // No role on the other project: no credential for it.
    let r = cloud.call(Method::POST, &base, Some(&token), Some(json!({"tenant_id": other_project}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Unknown user (admin may ask): 404.
    let r = cloud.call(Method::POST, "/v3/users/ghost/credentials/OS-EC2", Some(&admin), Some(json!({"tenant_id": project}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"]["message"], "Could not find user: ghost.");
    let r = cloud.call(Method::GET, "/v3/users/ghost/credentials/OS-EC2", Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = cloud.call(Method::GET, &format!("{base}/deadbeef"), Some(&token), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"]["message"], "Could not find credential: deadbeef.");
    let r = cloud.call(Method::POST, &base, None, Some(json!({"tenant_id": project}))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn ec2_credentials_are_private_to_their_user() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (alice, alice_project, alice_token) = cloud.member(&admin, "ec2alice").await;
    let (bob, _, bob_token) = cloud.member(&admin, "ec2bob").await;
    let alice_base = format!("/v3/users/{alice}/credentials/OS-EC2");
    let bob_base = format!("/v3/users/{bob}/credentials/OS-EC2");
    let c = cloud.call(Method::POST, &alice_base, Some(&alice_token), Some(json!({"tenant_id": alice_project}))).await;
    assert_eq!(c.status, StatusCode::CREATED);
    let access = c.body["credential"]["access"].as_str().unwrap().to_string();

    // Bob can neither list, read, delete Alice's, nor create one for her.
    assert_eq!(cloud.call(Method::GET, &alice_base, Some(&bob_token), None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(cloud.call(Method::GET, &format!("{alice_base}/{access}"), Some(&bob_token), None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(cloud.call(Method::DELETE, &format!("{alice_base}/{access}"), Some(&bob_token), None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        cloud.call(Method::POST, &alice_base, Some(&bob_token), Some(json!({"tenant_id": alice_project}))).await.status,
        StatusCode::FORBIDDEN
    );
    // Not through his own path either.
    let r = cloud.call(Method::GET, &format!("{bob_base}/{access}"), Some(&bob_token), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(cloud.call(Method::DELETE, &format!("{bob_base}/{access}"), Some(&bob_token), None).await.status, StatusCode::FORBIDDEN);
    let r = cloud.call(Method::GET, &bob_base, Some(&bob_token), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["credentials"], json!([]));
    // An admin reads it under its owner's path only.
    assert_eq!(cloud.call(Method::GET, &format!("{alice_base}/{access}"), Some(&admin), None).await.status, StatusCode::OK);
    assert_eq!(cloud.call(Method::GET, &format!("{bob_base}/{access}"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    let r = cloud.call(Method::GET, &alice_base, Some(&admin), None).await;
    assert_eq!(ids(&r.body, "credentials", "access"), vec![access.clone()]);
    assert_eq!(cloud.call(Method::GET, &format!("{alice_base}/{access}"), Some(&alice_token), None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn policies_crud_and_filters() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let c = cloud.call(Method::POST, "/v3/policies", Some(&admin), Some(json!({"policy": {"blob": "{\"a\": 1}", "type": "application/json", "owner": "ops"}}))).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let p = c.body["policy"].clone();
    let id = p["id"].as_str().unwrap().to_string();
    assert_eq!(p["blob"], "{\"a\": 1}");
    assert_eq!(p["type"], "application/json");
    assert_eq!(p["owner"], "ops");
    assert!(p["links"]["self"].as_str().unwrap().ends_with(&format!("/v3/policies/{id}")));
    let c2 = cloud.call(Method::POST, "/v3/policies", Some(&admin), Some(json!({"policy": {"blob": "x", "type": "text/plain"}}))).await;
    assert_eq!(c2.status, StatusCode::CREATED);
    let id2 = c2.body["policy"]["id"].as_str().unwrap().to_string();

    let l = cloud.call(Method::GET, "/v3/policies", Some(&admin), None).await;
    assert_eq!(l.status, StatusCode::OK);
    let all = ids(&l.body, "policies", "id");
    assert!(all.contains(&id) && all.contains(&id2));
    let l = cloud.call(Method::GET, "/v3/policies?type=text/plain", Some(&admin), None).await;
    assert_eq!(ids(&l.body, "policies", "id"), vec![id2.clone()]);

    let u = cloud.call(Method::PATCH, &format!("/v3/policies/{id}"), Some(&admin), Some(json!({"policy": {"type": "application/yaml"}}))).await;
    assert_eq!(u.status, StatusCode::OK, "{}", u.body);
    assert_eq!(u.body["policy"]["type"], "application/yaml");
    let s = cloud.call(Method::GET, &format!("/v3/policies/{id}"), Some(&admin), None).await;
    assert_eq!(s.status, StatusCode::OK);
    assert_eq!(s.body["policy"]["type"], "application/yaml");
    assert_eq!(s.body["policy"]["blob"], p["blob"]);
    assert_eq!(s.body["policy"]["owner"], "ops");

    for body in [json!({}), json!({"policy": {}}), json!({"policy": {"blob": 1}}), json!({"policy": {"type": "x".repeat(256)}}), json!({"policy": {"id": "other"}})] {
        let r = cloud.call(Method::PATCH, &format!("/v3/policies/{id}"), Some(&admin), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
    }
    for body in [json!({}), json!({"policy": {"blob": "x"}}), json!({"policy": {"type": "t"}}), json!({"policy": {"blob": 5, "type": "t"}}), json!({"policy": "x"})] {
        let r = cloud.call(Method::POST, "/v3/policies", Some(&admin), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
    }

    let d = cloud.call(Method::DELETE, &format!("/v3/policies/{id}"), Some(&admin), None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    for method in [Method::GET, Method::DELETE] {
        let r = cloud.call(method, &format!("/v3/policies/{id}"), Some(&admin), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.body["error"]["message"], format!("Could not find policy: {id}."));
    }
    let r = cloud.call(Method::PATCH, &format!("/v3/policies/{id}"), Some(&admin), Some(json!({"policy": {"type": "t"}}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn policies_are_admin_only() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (_, _, token) = cloud.member(&admin, "polmember").await;
    let c = cloud.call(Method::POST, "/v3/policies", Some(&admin), Some(json!({"policy": {"blob": "b", "type": "t"}}))).await;
    let id = c.body["policy"]["id"].as_str().unwrap().to_string();
    let path = format!("/v3/policies/{id}");
    let checks = [
        (Method::GET, "/v3/policies", None),
        (Method::POST, "/v3/policies", Some(json!({"policy": {"blob": "b", "type": "t"}}))),
        (Method::GET, path.as_str(), None),
        (Method::PATCH, path.as_str(), Some(json!({"policy": {"type": "u"}}))),
        (Method::DELETE, path.as_str(), None),
        (Method::GET, "/v3/policies/unknown", None),
    ];
    for (method, p, body) in checks {
        let r = cloud.call(method.clone(), p, Some(&token), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {p}: {}", r.body);
    }
    let s = cloud.call(Method::GET, &path, Some(&admin), None).await;
    assert_eq!(s.body["policy"]["type"], "t");
}

#[tokio::test]
async fn consumers_crud() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let c = cloud.call(Method::POST, "/v3/OS-OAUTH1/consumers", Some(&admin), Some(json!({"consumer": {"description": "my app"}}))).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let consumer = c.body["consumer"].clone();
    let id = consumer["id"].as_str().unwrap().to_string();
    let secret = consumer["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 32);
    assert_eq!(consumer["description"], "my app");
    assert!(consumer["links"]["self"].as_str().unwrap().ends_with(&format!("/v3/OS-OAUTH1/consumers/{id}")));
    // The secret is encrypted at rest but recoverable for request signing.
    let raw: String = sqlx::query_scalar("SELECT secret FROM oauth1_consumers WHERE id = ?").bind(&id).fetch_one(&cloud.identity.db.pool).await.unwrap();
    assert_ne!(raw, secret);
    let stored = monostack_identity::store::oauth1_consumers::get(&cloud.identity, &id).await.unwrap().unwrap();
    assert_eq!(stored.secret, secret);

    let s = cloud.call(Method::GET, &format!("/v3/OS-OAUTH1/consumers/{id}"), Some(&admin), None).await;
    assert_eq!(s.status, StatusCode::OK);
    for key in ["description", "id", "links"] {
        assert_eq!(s.body["consumer"][key], consumer[key]);
    }
    assert!(s.body["consumer"].get("secret").is_none(), "secret is shown only on create");

    let c2 = cloud.call(Method::POST, "/v3/OS-OAUTH1/consumers", Some(&admin), Some(json!({"consumer": {"description": null}}))).await;
    assert_eq!(c2.status, StatusCode::CREATED, "{}", c2.body);
    let id2 = c2.body["consumer"]["id"].as_str().unwrap().to_string();
    let l = cloud.call(Method::GET, "/v3/OS-OAUTH1/consumers", Some(&admin), None).await;
    assert_eq!(l.status, StatusCode::OK);
    let listed = ids(&l.body, "consumers", "id");
    assert!(listed.contains(&id) && listed.contains(&id2));
    assert!(l.body["consumers"].as_array().unwrap().iter().all(|c| c.get("secret").is_none()));

    let u = cloud.call(Method::PATCH, &format!("/v3/OS-OAUTH1/consumers/{id}"), Some(&admin), Some(json!({"consumer": {"description": "renamed"}}))).await;
    assert_eq!(u.status, StatusCode::OK, "{}", u.body);
    assert_eq!(u.body["consumer"]["description"], "renamed");
    assert!(u.body["consumer"].get("secret").is_none());
    let s = cloud.call(Method::GET, &format!("/v3/OS-OAUTH1/consumers/{id}"), Some(&admin), None).await;
    assert_eq!(s.body["consumer"]["description"], "renamed");
    for body in [json!({"consumer": {"secret": "x"}}), json!({"consumer": {}}), json!({"consumer": {"description": 3}}), json!({"consumer": {"id": "other"}}), json!({"consumer": 1})] {
        let r = cloud.call(Method::PATCH, &format!("/v3/OS-OAUTH1/consumers/{id}"), Some(&admin), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
    }
    let r = cloud.call(Method::POST, "/v3/OS-OAUTH1/consumers", Some(&admin), Some(json!({"consumer": {"description": []}}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let d = cloud.call(Method::DELETE, &format!("/v3/OS-OAUTH1/consumers/{id}"), Some(&admin), None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let r = cloud.call(Method::GET, &format!("/v3/OS-OAUTH1/consumers/{id}"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"]["message"], format!("Could not find consumer: {id}."));
    assert_eq!(cloud.call(Method::DELETE, &format!("/v3/OS-OAUTH1/consumers/{id}"), Some(&admin), None).await.status, StatusCode::NOT_FOUND);
    let r = cloud.call(Method::PATCH, &format!("/v3/OS-OAUTH1/consumers/{id}"), Some(&admin), Some(json!({"consumer": {"description": "z"}}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn consumers_are_admin_only() {
    let cloud = TestCloud::start().await;
    let admin = cloud.admin_token().await;
    let (_, _, token) = cloud.member(&admin, "consmember").await;
    let c = cloud.call(Method::POST, "/v3/OS-OAUTH1/consumers", Some(&admin), Some(json!({"consumer": {"description": "d"}}))).await;
    let id = c.body["consumer"]["id"].as_str().unwrap().to_string();
    let path = format!("/v3/OS-OAUTH1/consumers/{id}");
    let checks = [
        (Method::GET, "/v3/OS-OAUTH1/consumers", None),
        (Method::POST, "/v3/OS-OAUTH1/consumers", Some(json!({"consumer": {"description": "x"}}))),
        (Method::GET, path.as_str(), None),
        (Method::PATCH, path.as_str(), Some(json!({"consumer": {"description": "x"}}))),
        (Method::DELETE, path.as_str(), None),
    ];
    for (method, p, body) in checks {
        let r = cloud.call(method.clone(), p, Some(&token), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {p}: {}", r.body);
    }
    let r = cloud.call(Method::GET, &path, None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let s = cloud.call(Method::GET, &path, Some(&admin), None).await;
    assert_eq!(s.body["consumer"]["description"], "d");
}
