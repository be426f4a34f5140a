//! Networks: ML2 segments (project and provider), policy, attributes, filters, paging, tags,
//! If-Match and deletion.

use crate::{request, send, servers, Cloud};
use http::{Method, StatusCode};
use serde_json::{json, Value};

async fn create(c: &Cloud, token: &str, body: Value) -> crate::Resp {
    c.call_as(
        token,
        Method::POST,
        "/v2.0/networks",
        Some(json!({ "network": body })),
    )
    .await
}

#[tokio::test]
async fn project_networks_get_vxlan_ids_in_order_and_provider_attributes_are_for_admins() {
    let c = Cloud::start().await;
    let (project, member) = c.member("alice").await;
    let r = create(&c, &member, json!({"name": "net1"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let n = &r.body["network"];
    assert_eq!(n["project_id"], project.as_str());
    assert_eq!(n["tenant_id"], project.as_str());
    assert_eq!(n["status"], "ACTIVE");
    assert_eq!(n["admin_state_up"], true);
    assert_eq!(n["shared"], false);
    assert_eq!(n["router:external"], false);
    assert_eq!(n["port_security_enabled"], true);
    assert_eq!(n["mtu"], 1450, "vxlan carries 1500 - 50");
    assert_eq!(n["revision_number"], 1);
    assert_eq!(n["subnets"], json!([]));
    assert!(n["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(
        n.get("provider:network_type").is_none(),
        "members do not see provider attributes: {n}"
    );
    let id1 = n["id"].as_str().expect("id").to_string();
    let r = c.get(&format!("/v2.0/networks/{id1}")).await;
    assert_eq!(r.body["network"]["provider:network_type"], "vxlan");
    assert_eq!(r.body["network"]["provider:segmentation_id"], 1);
    assert_eq!(r.body["network"]["provider:physical_network"], Value::Null);
    let r = create(&c, &member, json!({"name": "net2"})).await;
    let id2 = r.body["network"]["id"].as_str().expect("id").to_string();
    assert_eq!(
        c.get(&format!("/v2.0/networks/{id2}")).await.body["network"]["provider:segmentation_id"],
        2
    );
    // A released id is handed out again, first.
    assert_eq!(
        c.call(Method::DELETE, &format!("/v2.0/networks/{id1}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = create(&c, &c.admin, json!({"name": "net3"})).await;
    assert_eq!(
        r.body["network"]["provider:segmentation_id"], 1,
        "{}",
        r.body
    );

    let r = create(&c, &member, json!({"provider:network_type": "vlan"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.kind(), "PolicyNotAuthorized");
    assert!(
        r.message()
            .contains("rule:create_network:provider:network_type"),
        "{}",
        r.message()
    );
    let r = create(&c, &member, json!({"shared": true})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = create(
        &c,
        &member,
        json!({"shared": false, "name": "explicit default is fine"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

#[tokio::test]
async fn provider_networks_vlan_flat_vxlan_and_multi_segment() {
    let c = Cloud::start().await;
    let a = c.admin.clone();
    let r = create(&c, &a, json!({"provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 4094, "shared": true})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body["network"]["provider:segmentation_id"], 4094,
        "admins may use ids outside the ranges"
    );
    assert_eq!(r.body["network"]["mtu"], 1500);
    assert_eq!(r.body["network"]["shared"], true);
    let r = create(&c, &a, json!({"provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 4094})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.kind(), "VlanIdInUse");
    assert_eq!(
        r.message(),
        "Unable to create the network. The VLAN 4094 on physical network physnet1 is in use."
    );
    let r = create(
        &c,
        &a,
        json!({"provider:network_type": "vlan", "provider:physical_network": "physnet1"}),
    )
    .await;
    assert_eq!(
        r.body["network"]["provider:segmentation_id"], 1000,
        "partial VLAN segments come from the range in order"
    );
    let r = create(&c, &a, json!({"provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 4095})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.kind(), "InvalidInput");
    assert_eq!(
        r.message(),
        "Invalid input for operation: segmentation_id out of range (1 through 4094)."
    );
    let r = create(&c, &a, json!({"provider:network_type": "vlan", "provider:physical_network": "elsewhere", "provider:segmentation_id": 5})).await;
    assert_eq!(r.message(), "Invalid input for operation: physical_network 'elsewhere' unknown for VLAN provider network.");
    let r = create(&c, &a, json!({"provider:network_type": "flat", "provider:physical_network": "public", "router:external": true})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["network"]["provider:segmentation_id"], Value::Null);
    assert_eq!(r.body["network"]["router:external"], true);
    let r = create(
        &c,
        &a,
        json!({"provider:network_type": "flat", "provider:physical_network": "public"}),
    )
    .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "FlatNetworkInUse")
    );
    let r = create(
        &c,
        &a,
        json!({"provider:network_type": "vxlan", "provider:segmentation_id": 70000}),
    )
    .await;
    assert_eq!(r.body["network"]["provider:segmentation_id"], 70000);
    let r = create(
        &c,
        &a,
        json!({"provider:network_type": "vxlan", "provider:segmentation_id": 70000}),
    )
    .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "TunnelIdInUse")
    );
    let r = create(&c, &a, json!({"provider:network_type": "gre"})).await;
    assert_eq!(r.body["network"]["mtu"], 1458);
    let r = create(&c, &a, json!({"provider:network_type": "local"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = create(&c, &a, json!({"provider:network_type": "geneve"})).await;
    assert_eq!(
        r.message(),
        "Invalid input for operation: network_type value 'geneve' not supported."
    );
    let r = create(&c, &a, json!({"segments": [
        {"provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 7},
        {"provider:network_type": "vxlan"}]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let segs = r.body["network"]["segments"]
        .as_array()
        .expect("segments")
        .clone();
    assert_eq!(segs.len(), 2);
    assert_eq!(segs[0]["provider:segmentation_id"], 7);
    assert_eq!(segs[1]["provider:network_type"], "vxlan");
    assert!(r.body["network"].get("provider:network_type").is_none());
    assert_eq!(
        r.body["network"]["mtu"], 1450,
        "the smallest MTU of the segments"
    );
    let r = create(
        &c,
        &a,
        json!({"segments": [{"provider:network_type": "vxlan"}], "provider:network_type": "vxlan"}),
    )
    .await;
    assert_eq!(r.kind(), "InvalidInput");
}

#[tokio::test]
async fn tenant_network_types_fall_back_in_order() {
    let c = Cloud::start_with(None, |cfg| {
        cfg.ml2.tenant_network_types = vec!["vlan".into(), "local".into()];
        cfg.ml2_type_vlan.network_vlan_ranges = vec!["physnet1:10:11".into()];
    })
    .await;
    let mut types = Vec::new();
    for i in 0..3 {
        let r = create(&c, &c.admin.clone(), json!({"name": format!("n{i}")})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        types.push((
            r.body["network"]["provider:network_type"].clone(),
            r.body["network"]["provider:segmentation_id"].clone(),
        ));
    }
    assert_eq!(
        types,
        vec![
            (json!("vlan"), json!(10)),
            (json!("vlan"), json!(11)),
            (json!("local"), Value::Null)
        ]
    );
    let c = Cloud::start_with(None, |cfg| {
        cfg.ml2.tenant_network_types = vec!["vxlan".into()];
        cfg.ml2_type_vxlan.vni_ranges = vec!["5:5".into()];
    })
    .await;
    assert_eq!(
        create(&c, &c.admin.clone(), json!({})).await.status,
        StatusCode::CREATED
    );
    let r = create(&c, &c.admin.clone(), json!({})).await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::SERVICE_UNAVAILABLE, "NoNetworkAvailable")
    );
}

/// `writers` project networks created at once from a range of `capacity` segmentation ids
/// starting at `first`: exactly `capacity` succeed, with distinct ids, the rest get 503.
async fn race_for_segments(c: &Cloud, first: i64, capacity: usize, writers: usize) {
    let tasks: Vec<_> = (0..writers)
        .map(|i| {
            let router = c.router.clone();
            let req = request(
                &c.admin,
                Method::POST,
                "/v2.0/networks",
                Some(json!({"network": {"name": format!("race{i}")}})),
                &[],
            );
            tokio::spawn(async move { send(&router, req).await })
        })
        .collect();
    let mut ids = Vec::new();
    let mut exhausted = 0;
    for t in tasks {
        let r = t.await.expect("task");
        match r.status {
            StatusCode::CREATED => ids.push(
                r.body["network"]["provider:segmentation_id"]
                    .as_i64()
                    .expect("vni"),
            ),
            StatusCode::SERVICE_UNAVAILABLE => exhausted += 1,
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    ids.sort_unstable();
    let expected: Vec<i64> = (first..first + i64::try_from(capacity).expect("small")).collect();
    assert_eq!(ids, expected, "every id handed out once, in order");
    assert_eq!(exhausted, writers - capacity);
}

#[tokio::test]
async fn concurrent_creates_never_share_a_vni() {
    let tweak = |cfg: &mut monostack_common::config::Config| {
        cfg.ml2.tenant_network_types = vec!["vxlan".into()];
        cfg.ml2_type_vxlan.vni_ranges = vec!["1:25".into()];
    };
    let c = Cloud::start_with(None, tweak).await;
    race_for_segments(&c, 1, 25, 40).await;
    for url in servers() {
        let c = Cloud::start_with(Some(url), tweak).await;
        race_for_segments(&c, 1, 25, 40).await;
    }
}

#[tokio::test]
async fn concurrent_creates_never_share_a_vlan() {
    let tweak = |cfg: &mut monostack_common::config::Config| {
        cfg.ml2.tenant_network_types = vec!["vlan".into()];
        cfg.ml2_type_vlan.network_vlan_ranges = vec!["physnet1:100:119".into()];
    };
    let c = Cloud::start_with(None, tweak).await;
    race_for_segments(&c, 100, 20, 32).await;
    for url in servers() {
        let c = Cloud::start_with(Some(url), tweak).await;
        race_for_segments(&c, 100, 20, 32).await;
    }
}

#[tokio::test]
async fn visibility_filters_fields_sorting_and_pages() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let (_, bob) = c.member("bob").await;
    let a = c.admin.clone();
    for name in ["c-net", "a-net", "b-net"] {
        assert_eq!(
            create(&c, &alice, json!({"name": name})).await.status,
            StatusCode::CREATED
        );
    }
    let shared = create(&c, &a, json!({"name": "shared", "shared": true}))
        .await
        .body["network"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let private = create(&c, &a, json!({"name": "private"})).await.body["network"]["id"]
        .as_str()
        .expect("id")
        .to_string();

    let r = c.call_as(&bob, Method::GET, "/v2.0/networks", None).await;
    let names: Vec<_> = r.body["networks"]
        .as_array()
        .expect("list")
        .iter()
        .map(|n| n["name"].clone())
        .collect();
    assert_eq!(
        names,
        vec![json!("shared")],
        "bob sees only the shared network"
    );
    let r = c
        .call_as(
            &bob,
            Method::GET,
            &format!("/v2.0/networks/{private}"),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::NOT_FOUND, "NetworkNotFound")
    );
    assert_eq!(
        r.message(),
        format!("Network {private} could not be found.")
    );
    assert_eq!(
        c.call_as(&bob, Method::GET, &format!("/v2.0/networks/{shared}"), None)
            .await
            .status,
        StatusCode::OK
    );
    let r = c
        .call_as(
            &bob,
            Method::PUT,
            &format!("/v2.0/networks/{shared}"),
            Some(json!({"network": {"name": "mine"}})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a shared network is not bob's to change"
    );

    let r = c
        .call_as(
            &alice,
            Method::GET,
            "/v2.0/networks?sort_key=name&sort_dir=desc&fields=name&fields=id",
            None,
        )
        .await;
    let names: Vec<_> = r.body["networks"]
        .as_array()
        .expect("list")
        .iter()
        .map(|n| n["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(names, vec!["shared", "c-net", "b-net", "a-net"]);
    assert_eq!(r.body["networks"][0].as_object().expect("object").len(), 2);
    let r = c
        .call_as(&alice, Method::GET, "/v2.0/networks?name=b-net", None)
        .await;
    assert_eq!(r.body["networks"].as_array().expect("list").len(), 1);
    let r = c
        .call_as(&alice, Method::GET, "/v2.0/networks?shared=True", None)
        .await;
    assert_eq!(r.body["networks"][0]["id"], shared.as_str());
    let r = c
        .get("/v2.0/networks?provider:network_type=vxlan&shared=false")
        .await;
    assert_eq!(r.body["networks"].as_array().expect("list").len(), 4);
    let r = c
        .get("/v2.0/networks?provider:segmentation_id=2&provider:segmentation_id=3")
        .await;
    assert_eq!(r.body["networks"].as_array().expect("list").len(), 2);

    // Pages of two, following the links.
    let mut url = "/v2.0/networks?limit=2&sort_key=name".to_string();
    let mut seen = Vec::new();
    loop {
        let r = c.get(&url).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        seen.extend(
            r.body["networks"]
                .as_array()
                .expect("list")
                .iter()
                .map(|n| n["name"].as_str().unwrap_or("").to_string()),
        );
        let next = r.body["networks_links"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["rel"] == "next"))
            .and_then(|x| x["href"].as_str())
            .map(str::to_string);
        match next {
            Some(href) => url = href.trim_start_matches("http://net.test:9696").to_string(),
            None => break,
        }
    }
    assert_eq!(seen, vec!["a-net", "b-net", "c-net", "private", "shared"]);
    let r = c.get("/v2.0/networks?limit=abc").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = c.get("/v2.0/networks?sort_key=bogus").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn updates_revisions_if_match_tags_and_bad_input() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let r = create(
        &c,
        &alice,
        json!({"name": "n", "description": "d", "tags": ["red"]}),
    )
    .await;
    assert_eq!(r.body["network"]["tags"], json!(["red"]));
    let id = r.body["network"]["id"].as_str().expect("id").to_string();
    let path = format!("/v2.0/networks/{id}");
    let r = c
        .call_with(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"network": {"name": "n2"}})),
            &[("if-match", "revision_number=7")],
        )
        .await;
    assert_eq!(
        (r.status, r.kind()),
        (
            StatusCode::PRECONDITION_FAILED,
            "RevisionNumberConstraintFailed"
        )
    );
    let r = c
        .call_with(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"network": {"name": "n2", "mtu": 1400, "admin_state_up": false}})),
            &[("if-match", "revision_number=1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["network"]["name"], "n2");
    assert_eq!(r.body["network"]["mtu"], 1400);
    assert_eq!(r.body["network"]["revision_number"], 2);
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"network": {"mtu": 9000}})),
        )
        .await;
    assert_eq!(
        r.message(),
        "Invalid input for operation: Requested MTU is too big, maximum is 1450."
    );
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"network": {"shared": true}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"network": {"status": "DOWN"}})),
        )
        .await;
    assert_eq!(
        (r.status, r.message()),
        (
            StatusCode::BAD_REQUEST,
            "Cannot update read-only attribute status"
        )
    );
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"network": {"admin_state_up": "maybe"}})),
        )
        .await;
    assert_eq!(
        r.message(),
        "Invalid input for admin_state_up. Reason: 'maybe' cannot be converted to boolean."
    );
    let r = create(&c, &alice, json!({"bogus": 1})).await;
    assert_eq!(
        (r.status, r.message()),
        (StatusCode::BAD_REQUEST, "Unrecognized attribute(s) 'bogus'")
    );
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/networks",
            Some(json!({"net": {}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = create(&c, &alice, json!({"availability_zone_hints": ["nowhere"]})).await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::NOT_FOUND, "AvailabilityZoneNotFound")
    );
    let r = create(&c, &alice, json!({"availability_zone_hints": ["nova"]})).await;
    assert_eq!(r.body["network"]["availability_zones"], json!(["nova"]));

    // Tags.
    let tags = format!("{path}/tags");
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &tags,
            Some(json!({"tags": ["blue", "green"]})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["tags"].clone()),
        (StatusCode::OK, json!(["blue", "green"]))
    );
    assert_eq!(
        c.call_as(&alice, Method::PUT, &format!("{tags}/yellow"), None)
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        c.call_as(&alice, Method::GET, &format!("{tags}/yellow"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = c
        .call_as(&alice, Method::GET, &format!("{tags}/purple"), None)
        .await;
    assert_eq!((r.status, r.kind()), (StatusCode::NOT_FOUND, "TagNotFound"));
    assert_eq!(
        c.call_as(&alice, Method::DELETE, &format!("{tags}/blue"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.call_as(&alice, Method::GET, &tags, None).await.body["tags"],
        json!(["green", "yellow"])
    );
    let r = c
        .call_as(
            &alice,
            Method::GET,
            "/v2.0/networks?tags=green,yellow",
            None,
        )
        .await;
    assert_eq!(r.body["networks"].as_array().expect("list").len(), 1);
    let r = c
        .call_as(
            &alice,
            Method::GET,
            "/v2.0/networks?not-tags-any=green",
            None,
        )
        .await;
    assert_eq!(r.body["networks"].as_array().expect("list").len(), 1);
    let rev = c.call_as(&alice, Method::GET, &path, None).await.body["network"]["revision_number"]
        .as_i64()
        .expect("rev");
    assert!(rev >= 5, "tag changes bump the revision: {rev}");
    let (_, bob) = c.member("bob").await;
    assert_eq!(
        c.call_as(&bob, Method::GET, &tags, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.call_as(&alice, Method::DELETE, &tags, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.call_as(&alice, Method::GET, &tags, None).await.body["tags"],
        json!([])
    );

    // Delete with If-Match, then gone.
    let r = c
        .call_with(
            &alice,
            Method::DELETE,
            &path,
            None,
            &[("if-match", "revision_number=1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        c.call_as(&bob, Method::DELETE, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.call_as(&alice, Method::DELETE, &path, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.call_as(&alice, Method::GET, &path, None).await.status,
        StatusCode::NOT_FOUND
    );

    // Bulk create.
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/networks",
            Some(json!({"networks": [{"name": "x"}, {"name": "y"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["networks"].as_array().expect("list").len(), 2);
    let r = c.get("/v2.0/availability_zones").await;
    assert_eq!(r.body["availability_zones"][0]["name"], "nova");
}
