//! Key pairs: generation, import of SSH keys and x509 certificates, per-user scoping, paging,
//! quotas and the microversion differences.

use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::json;

#[path = "../fixtures/keys.rs"]
#[allow(dead_code)]
mod fixtures;
use fixtures::*;

#[tokio::test]
async fn generate_import_show_delete() {
    let cloud = Cloud::start().await;
    let (user, _, token) = cloud.member("kim").await;

    let generated = cloud.call(Method::POST, "/v2.1/os-keypairs", &token, Some(json!({"keypair": {"name": "gen"}}))).await;
    assert_eq!(generated.status, StatusCode::OK, "2.1 answers 200: {}", generated.body);
    let kp = &generated.body["keypair"];
    assert!(kp["private_key"].as_str().is_some_and(|k| k.starts_with("-----BEGIN RSA PRIVATE KEY-----")));
    assert!(kp["public_key"].as_str().is_some_and(|k| k.starts_with("ssh-rsa ")));
    assert_eq!(kp["user_id"], user.as_str());
    assert!(kp.get("type").is_none(), "type appears from 2.2");

    let imported = cloud.call_at(Some("2.2"), Method::POST, "/v2.1/os-keypairs", &token, Some(json!({"keypair": {"name": "ed", "public_key": ED25519}}))).await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.body);
    assert_eq!(imported.body["keypair"]["fingerprint"], ED25519_FP);
    assert_eq!(imported.body["keypair"]["type"], "ssh");
    assert!(imported.body["keypair"].get("private_key").is_none());
    for (name, key) in [("ec", ECDSA), ("rsa", RSA)] {
        let r = cloud.call_at(Some("2.2"), Method::POST, "/v2.1/os-keypairs", &token, Some(json!({"keypair": {"name": name, "public_key": key}}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
    }
    let cert = cloud.call_at(Some("2.2"), Method::POST, "/v2.1/os-keypairs", &token, Some(json!({"keypair": {"name": "cert", "type": "x509", "public_key": CERT}}))).await;
    assert_eq!(cert.status, StatusCode::CREATED, "{}", cert.body);
    assert_eq!(cert.body["keypair"]["fingerprint"], CERT_FP);

    let shown = cloud.call_at(Some("2.2"), Method::GET, "/v2.1/os-keypairs/rsa", &token, None).await;
    assert_eq!(shown.status, StatusCode::OK);
    let k = &shown.body["keypair"];
    assert_eq!((k["fingerprint"].as_str(), k["type"].as_str(), k["deleted"].as_bool()), (Some(RSA_FP), Some("ssh"), Some(false)));
    assert!(k["id"].is_i64() && k["created_at"].is_string() && k["deleted_at"].is_null());

    let listed = cloud.call(Method::GET, "/v2.1/os-keypairs", &token, None).await;
    let names: Vec<_> = listed.body["keypairs"].as_array().map(|a| a.iter().filter_map(|k| k["keypair"]["name"].as_str()).collect()).unwrap_or_default();
    assert_eq!(names, vec!["cert", "ec", "ed", "gen", "rsa"]);

    let dup = cloud.call(Method::POST, "/v2.1/os-keypairs", &token, Some(json!({"keypair": {"name": "ed", "public_key": ED25519}}))).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.body["conflictingRequest"]["message"], "Key pair 'ed' already exists.");

    let old_delete = cloud.call(Method::DELETE, "/v2.1/os-keypairs/gen", &token, None).await;
    assert_eq!(old_delete.status, StatusCode::ACCEPTED);
    let new_delete = cloud.call_at(Some("2.2"), Method::DELETE, "/v2.1/os-keypairs/ed", &token, None).await;
    assert_eq!(new_delete.status, StatusCode::NO_CONTENT);
    let gone = cloud.call(Method::GET, "/v2.1/os-keypairs/ed", &token, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body["itemNotFound"]["message"], format!("Keypair ed not found for user {user}"));
}

#[tokio::test]
async fn generated_x509_and_the_2_92_rules() {
    let cloud = Cloud::start().await;
    let (_, _, token) = cloud.member("lee").await;
    let x509 = cloud.call_at(Some("2.2"), Method::POST, "/v2.1/os-keypairs", &token, Some(json!({"keypair": {"name": "win", "type": "x509"}}))).await;
    assert_eq!(x509.status, StatusCode::CREATED, "{}", x509.body);
    assert!(x509.body["keypair"]["public_key"].as_str().is_some_and(|k| k.starts_with("-----BEGIN CERTIFICATE-----")));
    assert_eq!(x509.body["keypair"]["fingerprint"].as_str().map(str::len), Some(59));

    let no_key = cloud.call_at(Some("2.92"), Method::POST, "/v2.1/os-keypairs", &token, Some(json!({"keypair": {"name": "gen"}}))).await;
    assert_eq!(no_key.status, StatusCode::BAD_REQUEST, "generation is refused from 2.92");
    let dotted_old = cloud.call_at(Some("2.91"), Method::POST, "/v2.1/os-keypairs", &token, Some(json!({"keypair": {"name": "me@host.x", "public_key": ED25519}}))).await;
    assert_eq!(dotted_old.status, StatusCode::BAD_REQUEST);
    let dotted = cloud.call_at(Some("2.92"), Method::POST, "/v2.1/os-keypairs", &token, Some(json!({"keypair": {"name": "me@host.x", "public_key": ED25519}}))).await;
    assert_eq!(dotted.status, StatusCode::CREATED, "{}", dotted.body);
    let fetched = cloud.call_at(Some("2.92"), Method::GET, "/v2.1/os-keypairs/me@host.x", &token, None).await;
    assert_eq!(fetched.status, StatusCode::OK);
}

#[tokio::test]
async fn invalid_keys_and_bodies() {
    let cloud = Cloud::start().await;
    let (_, _, token) = cloud.member("max").await;
    let bad_ssh = cloud.call(Method::POST, "/v2.1/os-keypairs", &token, Some(json!({"keypair": {"name": "k", "public_key": "ssh-rsa AAAA-garbage"}}))).await;
    assert_eq!(bad_ssh.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_ssh.body["badRequest"]["message"], "Keypair data is invalid: failed to generate fingerprint");
    let bad_cert = cloud.call_at(Some("2.2"), Method::POST, "/v2.1/os-keypairs", &token, Some(json!({"keypair": {"name": "k", "type": "x509", "public_key": ED25519}}))).await;
    assert_eq!(bad_cert.status, StatusCode::BAD_REQUEST);
    assert!(bad_cert.body["badRequest"]["message"].as_str().is_some_and(|m| m.starts_with("Keypair data is invalid: failed to generate X509 fingerprint")));
    for body in [
        json!({"keypair": {}}),
        json!({"keypair": {"name": ""}}),
        json!({"keypair": {"name": "has/slash"}}),
        json!({"keypair": {"name": "k", "type": "pgp"}}),
        json!({"keypair": {"name": "k", "colour": "red"}}),
        json!({"keypairs": {"name": "k"}}),
    ] {
        let r = cloud.call_at(Some("2.2"), Method::POST, "/v2.1/os-keypairs", &token, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
    }
}

#[tokio::test]
async fn users_are_isolated_and_admins_may_act_for_them() {
    let cloud = Cloud::start().await;
    let (alice, _, alice_token) = cloud.member("alice").await;
    let (_, _, bob_token) = cloud.member("bob").await;
    let made = cloud.call(Method::POST, "/v2.1/os-keypairs", &alice_token, Some(json!({"keypair": {"name": "a1", "public_key": ED25519}}))).await;
    assert_eq!(made.status, StatusCode::OK);
    let bob_view = cloud.call(Method::GET, "/v2.1/os-keypairs/a1", &bob_token, None).await;
    assert_eq!(bob_view.status, StatusCode::NOT_FOUND);
    let bob_list = cloud.call(Method::GET, "/v2.1/os-keypairs", &bob_token, None).await;
    assert_eq!(bob_list.body["keypairs"], json!([]));

    let snoop = cloud.call_at(Some("2.10"), Method::GET, &format!("/v2.1/os-keypairs?user_id={alice}"), &bob_token, None).await;
    assert_eq!(snoop.status, StatusCode::FORBIDDEN);
    let admin_list = cloud.call_at(Some("2.10"), Method::GET, &format!("/v2.1/os-keypairs?user_id={alice}"), &cloud.admin, None).await;
    assert_eq!(admin_list.body["keypairs"].as_array().map(Vec::len), Some(1));
    let admin_creates = cloud
        .call_at(Some("2.10"), Method::POST, "/v2.1/os-keypairs", &cloud.admin, Some(json!({"keypair": {"name": "a2", "public_key": RSA, "user_id": alice}})))
        .await;
    assert_eq!(admin_creates.status, StatusCode::CREATED, "{}", admin_creates.body);
    assert_eq!(admin_creates.body["keypair"]["user_id"], alice.as_str());
    let bob_for_alice = cloud
        .call_at(Some("2.10"), Method::POST, "/v2.1/os-keypairs", &bob_token, Some(json!({"keypair": {"name": "a3", "public_key": RSA, "user_id": alice}})))
        .await;
    assert_eq!(bob_for_alice.status, StatusCode::FORBIDDEN);
    let admin_delete = cloud.call_at(Some("2.10"), Method::DELETE, &format!("/v2.1/os-keypairs/a2?user_id={alice}"), &cloud.admin, None).await;
    assert_eq!(admin_delete.status, StatusCode::NO_CONTENT);
    // Before 2.10 user_id is ignored: the admin looks at their own key pairs.
    let ignored = cloud.call_at(Some("2.9"), Method::GET, &format!("/v2.1/os-keypairs/a1?user_id={alice}"), &cloud.admin, None).await;
    assert_eq!(ignored.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn paging_and_quota() {
    let cloud = Cloud::start().await;
    let (_, project, token) = cloud.member("nia").await;
    let limit = cloud.call(Method::PUT, &format!("/v2.1/os-quota-sets/{project}"), &cloud.admin, Some(json!({"quota_set": {"key_pairs": 3}}))).await;
    assert_eq!(limit.status, StatusCode::OK, "{}", limit.body);
    for name in ["k1", "k2", "k3"] {
        let r = cloud.call(Method::POST, "/v2.1/os-keypairs", &token, Some(json!({"keypair": {"name": name, "public_key": ED25519}}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let over = cloud.call(Method::POST, "/v2.1/os-keypairs", &token, Some(json!({"keypair": {"name": "k4", "public_key": ED25519}}))).await;
    assert_eq!(over.status, StatusCode::FORBIDDEN);
    assert_eq!(over.body["forbidden"]["message"], "Quota exceeded, too many key pairs.");

    let page = cloud.call_at(Some("2.35"), Method::GET, "/v2.1/os-keypairs?limit=2", &token, None).await;
    let names: Vec<_> = page.body["keypairs"].as_array().map(|a| a.iter().filter_map(|k| k["keypair"]["name"].as_str()).collect()).unwrap_or_default();
    assert_eq!(names, vec!["k1", "k2"]);
    assert!(page.body["keypairs_links"][0]["href"].as_str().is_some_and(|h| h.ends_with("/v2.1/os-keypairs?limit=2&marker=k2")));
    let rest = cloud.call_at(Some("2.35"), Method::GET, "/v2.1/os-keypairs?marker=k2", &token, None).await;
    assert_eq!(rest.body["keypairs"].as_array().map(Vec::len), Some(1));
    let unknown = cloud.call_at(Some("2.35"), Method::GET, "/v2.1/os-keypairs?marker=zz", &token, None).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let unpaged = cloud.call_at(Some("2.34"), Method::GET, "/v2.1/os-keypairs?limit=1", &token, None).await;
    assert_eq!(unpaged.body["keypairs"].as_array().map(Vec::len), Some(3), "limit is ignored before 2.35");
}
