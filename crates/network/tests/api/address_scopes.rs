//! Address scopes: CRUD, sharing rules, visibility, and subnet pools joining them (IP version,
//! overlapping prefixes, in-use deletes).

use crate::Cloud;
use http::{Method, StatusCode};
use serde_json::{json, Value};

async fn scope(c: &Cloud, token: &str, body: Value) -> crate::Resp {
    c.call_as(token, Method::POST, "/v2.0/address-scopes", Some(json!({ "address_scope": body })))
        .await
}

async fn pool(c: &Cloud, token: &str, body: Value) -> crate::Resp {
    c.call_as(token, Method::POST, "/v2.0/subnetpools", Some(json!({ "subnetpool": body }))).await
}

fn id(r: &crate::Resp, key: &str) -> String {
    r.body[key]["id"].as_str().unwrap_or_else(|| panic!("no {key} id in {:?}", r.body)).to_string()
}

#[tokio::test]
async fn create_list_show_update_delete() {
    let c = Cloud::start().await;
    let (project, alice) = c.member("alice").await;
    let r = scope(&c, &alice, json!({"name": "as4", "ip_version": 4})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let s = r.body["address_scope"].clone();
    assert_eq!(s["name"], "as4");
    assert_eq!(s["ip_version"], 4);
    assert_eq!(s["shared"], false);
    assert_eq!(s["project_id"], project.as_str());
    assert_eq!(s["tenant_id"], project.as_str());
    let sid = id(&r, "address_scope");

    let r = c.call_as(&alice, Method::GET, "/v2.0/address-scopes", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let ids: Vec<&str> = r.body["address_scopes"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids, vec![sid.as_str()]);
    let r = c.call_as(&alice, Method::GET, "/v2.0/address-scopes?ip_version=6", None).await;
    assert_eq!(r.body["address_scopes"], json!([]));

    let r = c.call_as(&alice, Method::GET, &format!("/v2.0/address-scopes/{sid}?fields=name"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["address_scope"], json!({"name": "as4"}));

    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/address-scopes/{sid}"),
            Some(json!({"address_scope": {"name": "renamed"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["address_scope"]["name"], "renamed");
    // ip_version is fixed once created.
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/address-scopes/{sid}"),
            Some(json!({"address_scope": {"ip_version": 6}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Only admins share.
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/address-scopes/{sid}"),
            Some(json!({"address_scope": {"shared": true}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);

    let r = c.call_as(&alice, Method::DELETE, &format!("/v2.0/address-scopes/{sid}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c.call_as(&alice, Method::GET, &format!("/v2.0/address-scopes/{sid}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.kind(), "AddressScopeNotFound");
}

#[tokio::test]
async fn bad_input_is_refused() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    for (body, why) in [
        (json!({"name": "x"}), "no ip_version"),
        (json!({"name": "x", "ip_version": 5}), "ip_version 5"),
        (json!({"name": "x", "ip_version": "four"}), "ip_version not a number"),
        (json!({"ip_version": 4}), "no name"),
        (json!({"name": "x", "ip_version": 4, "shared": "maybe"}), "shared not a boolean"),
        (json!({"name": "x", "ip_version": 4, "bogus": 1}), "unknown attribute"),
    ] {
        let r = scope(&c, &alice, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{why}: {:?}", r.body);
        assert!(r.body["NeutronError"]["message"].is_string(), "{why}: {:?}", r.body);
    }
    let r = scope(&c, &alice, json!({"name": "x", "ip_version": 4, "shared": true})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a member may not create a shared scope");
}

#[tokio::test]
async fn shared_scopes_are_visible_and_stay_shared() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let (_, bob) = c.member("bob").await;
    let private = id(&scope(&c, &alice, json!({"name": "mine", "ip_version": 4})).await, "address_scope");
    let r = scope(&c, &c.admin, json!({"name": "shared", "ip_version": 4, "shared": true})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let shared = id(&r, "address_scope");

    let r = c.call_as(&bob, Method::GET, "/v2.0/address-scopes", None).await;
    let ids: Vec<&str> = r.body["address_scopes"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids, vec![shared.as_str()], "bob sees the shared scope only");
    for m in [Method::GET, Method::PUT, Method::DELETE] {
        let body = (m == Method::PUT).then(|| json!({"address_scope": {"name": "x"}}));
        let r = c.call_as(&bob, m.clone(), &format!("/v2.0/address-scopes/{private}"), body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{m} of another project's scope");
    }
    let r = c.call_as(&bob, Method::DELETE, &format!("/v2.0/address-scopes/{shared}"), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "bob may see but not delete the shared scope");

    let r = c
        .call(
            Method::PUT,
            &format!("/v2.0/address-scopes/{shared}"),
            Some(json!({"address_scope": {"shared": false}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.kind(), "AddressScopeUpdateError");
    let r = c.call_as(&alice, Method::GET, "/v2.0/address-scopes", None).await;
    assert_eq!(r.body["address_scopes"].as_array().map(Vec::len), Some(2));
    let r = c.call_as("", Method::GET, "/v2.0/address-scopes", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn subnet_pools_join_scopes_by_neutrons_rules() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let (_, bob) = c.member("bob").await;
    let v4 = id(&scope(&c, &alice, json!({"name": "v4", "ip_version": 4})).await, "address_scope");
    let v6 = id(&scope(&c, &alice, json!({"name": "v6", "ip_version": 6})).await, "address_scope");

    let r = pool(&c, &alice, json!({"name": "p1", "prefixes": ["10.10.0.0/16"], "address_scope_id": v4})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["subnetpool"]["address_scope_id"], v4.as_str());
    let p1 = id(&r, "subnetpool");

    // The pool's IP version must be the scope's.
    let r = pool(&c, &alice, json!({"name": "p6", "prefixes": ["10.20.0.0/16"], "address_scope_id": v6})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.kind(), "IllegalSubnetPoolIpVersionAssociationToAddressScope");
    // Pools of one scope never overlap.
    let r = pool(&c, &alice, json!({"name": "p2", "prefixes": ["10.10.128.0/17"], "address_scope_id": v4})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.kind(), "AddressScopePrefixConflict");
    // ...but an overlapping pool outside the scope is fine, and cannot join it later.
    let r = pool(&c, &alice, json!({"name": "p2", "prefixes": ["10.10.128.0/17"]})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let p2 = id(&r, "subnetpool");
    assert_eq!(r.body["subnetpool"]["address_scope_id"], Value::Null);
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/subnetpools/{p2}"),
            Some(json!({"subnetpool": {"address_scope_id": v4}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    // A pool in the scope cannot grow into another's prefixes either.
    let r = pool(&c, &alice, json!({"name": "p3", "prefixes": ["10.30.0.0/16"], "address_scope_id": v4})).await;
    let p3 = id(&r, "subnetpool");
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/subnetpools/{p3}"),
            Some(json!({"subnetpool": {"prefixes": ["10.30.0.0/16", "10.10.1.0/24"]}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);

    // Unknown, invisible and malformed scopes.
    let r = pool(
        &c,
        &alice,
        json!({"name": "p", "prefixes": ["10.40.0.0/16"], "address_scope_id": "11111111-2222-3333-4444-555555555555"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.kind(), "AddressScopeNotFound");
    let r = pool(&c, &bob, json!({"name": "p", "prefixes": ["10.40.0.0/16"], "address_scope_id": v4})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "bob may not use alice's private scope");
    let r = pool(&c, &alice, json!({"name": "p", "prefixes": ["10.40.0.0/16"], "address_scope_id": "nope"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // A scope with pools is in use; leaving it frees it.
    let r = c.call_as(&alice, Method::DELETE, &format!("/v2.0/address-scopes/{v4}"), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.kind(), "AddressScopeInUse");
    for p in [&p1, &p3] {
        let r = c
            .call_as(
                &alice,
                Method::PUT,
                &format!("/v2.0/subnetpools/{p}"),
                Some(json!({"subnetpool": {"address_scope_id": null}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["subnetpool"]["address_scope_id"], Value::Null);
    }
    let r = c.call_as(&alice, Method::DELETE, &format!("/v2.0/address-scopes/{v4}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn pools_in_another_projects_shared_scope_are_the_scope_owners_to_change() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let r = scope(&c, &c.admin, json!({"name": "shared", "ip_version": 4, "shared": true})).await;
    let shared = id(&r, "address_scope");
    let r = pool(&c, &alice, json!({"name": "p", "prefixes": ["10.50.0.0/16"], "address_scope_id": shared})).await;
    assert_eq!(r.status, StatusCode::CREATED, "alice may join a shared scope: {:?}", r.body);
    let p = id(&r, "subnetpool");
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/subnetpools/{p}"),
            Some(json!({"subnetpool": {"name": "q"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.kind(), "IllegalSubnetPoolUpdate");
    let r = c
        .call(Method::PUT, &format!("/v2.0/subnetpools/{p}"), Some(json!({"subnetpool": {"name": "q"}})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "an admin may: {:?}", r.body);
}

#[tokio::test]
async fn the_extension_and_the_collection_are_announced() {
    let c = Cloud::start().await;
    let r = c.get("/v2.0/extensions/address-scope").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c.get("/v2.0").await;
    assert!(r.body["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .any(|x| x["collection"] == "address-scopes"));
}

#[tokio::test]
async fn a_network_shows_the_scope_of_its_subnets_pools() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let s = id(&scope(&c, &alice, json!({"name": "v4", "ip_version": 4})).await, "address_scope");
    let p = id(
        &pool(
            &c,
            &alice,
            json!({"name": "p", "prefixes": ["10.60.0.0/16"], "default_prefixlen": 24, "address_scope_id": s}),
        )
        .await,
        "subnetpool",
    );
    let r = c.call_as(&alice, Method::POST, "/v2.0/networks", Some(json!({"network": {"name": "n"}}))).await;
    let net = id(&r, "network");
    assert_eq!(r.body["network"]["ipv4_address_scope"], Value::Null);
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/subnets",
            Some(json!({"subnet": {"network_id": net, "ip_version": 4, "subnetpool_id": p}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = c.call_as(&alice, Method::GET, &format!("/v2.0/networks/{net}"), None).await;
    assert_eq!(r.body["network"]["ipv4_address_scope"], s.as_str());
    assert_eq!(r.body["network"]["ipv6_address_scope"], Value::Null);
    let r = c.call_as(&alice, Method::GET, &format!("/v2.0/networks?ipv4_address_scope={s}"), None).await;
    assert_eq!(r.body["networks"].as_array().map(Vec::len), Some(1));
    // Leaving the scope takes the network out of it too.
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/subnetpools/{p}"),
            Some(json!({"subnetpool": {"address_scope_id": null}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = c.call_as(&alice, Method::GET, &format!("/v2.0/networks/{net}"), None).await;
    assert_eq!(r.body["network"]["ipv4_address_scope"], Value::Null);
}
