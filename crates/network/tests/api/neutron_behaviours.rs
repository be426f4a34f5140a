//! Behaviours Tempest's network API suite checks, found by running it: subnets of external
//! networks carry `router:external`, no group is renamed "default", auto-address IPv6 subnets
//! go with their ports' addresses, an external network goes with its idle floating IPs, and
//! subnet pools take tags.

use crate::subnets::{network, subnet};
use crate::Cloud;
use http::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn subnets_show_whether_their_network_is_external() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let r = c
        .call(
            Method::POST,
            "/v2.0/networks",
            Some(json!({"network": {"name": "ext", "router:external": true}})),
        )
        .await;
    let ext = r.body["network"]["id"].as_str().expect("id").to_string();
    let r = c
        .call(
            Method::POST,
            "/v2.0/subnets",
            Some(json!({"subnet": {"network_id": ext, "ip_version": 4, "cidr": "172.24.4.0/24"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["subnet"]["router:external"], true);
    let own = network(&c, &alice, json!({})).await;
    let r = subnet(&c, &alice, json!({"network_id": own, "ip_version": 4, "cidr": "10.0.0.0/24"})).await;
    assert_eq!(r.body["subnet"]["router:external"], false);
    let sid = r.body["subnet"]["id"].as_str().expect("id").to_string();
    let r = c.call_as(&alice, Method::GET, &format!("/v2.0/subnets/{sid}"), None).await;
    assert_eq!(r.body["subnet"]["router:external"], false);
    // Another project sees the external network's subnets, and can filter on the attribute.
    let r = c.call_as(&alice, Method::GET, &format!("/v2.0/subnets?network_id={ext}"), None).await;
    assert_eq!(r.body["subnets"].as_array().map(Vec::len), Some(1), "{:?}", r.body);
    let r = c.call_as(&alice, Method::GET, "/v2.0/subnets?router:external=false", None).await;
    let ids: Vec<&str> = r.body["subnets"].as_array().expect("list").iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids, vec![sid.as_str()]);
    let r = c.get("/v2.0/extensions/subnet-external-network").await;
    assert_eq!(r.status, StatusCode::OK);
    // Read-only.
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/subnets/{sid}"),
            Some(json!({"subnet": {"router:external": true}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn no_security_group_is_renamed_default() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let r = c
        .call_as(&alice, Method::POST, "/v2.0/security-groups", Some(json!({"security_group": {"name": "web"}})))
        .await;
    let id = r.body["security_group"]["id"].as_str().expect("id").to_string();
    for name in ["default", "DEFAULT"] {
        let r = c
            .call_as(
                &alice,
                Method::PUT,
                &format!("/v2.0/security-groups/{id}"),
                Some(json!({"security_group": {"name": name}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{name}");
        assert_eq!(r.kind(), "SecurityGroupDefaultAlreadyExists");
    }
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/security-groups/{id}"),
            Some(json!({"security_group": {"name": "web2"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn auto_address_subnets_go_with_their_ports_addresses() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let net = network(&c, &alice, json!({})).await;
    let v4 = subnet(&c, &alice, json!({"network_id": net, "ip_version": 4, "cidr": "10.1.0.0/24"}))
        .await
        .body["subnet"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let mut auto = Vec::new();
    for (cidr, mode) in [("2001:db8:1::/64", "slaac"), ("2001:db8:2::/64", "dhcpv6-stateless")] {
        let r = subnet(
            &c,
            &alice,
            json!({"network_id": net, "ip_version": 6, "cidr": cidr, "ipv6_ra_mode": mode, "ipv6_address_mode": mode}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        auto.push(r.body["subnet"]["id"].as_str().expect("id").to_string());
    }
    let stateful = subnet(
        &c,
        &alice,
        json!({"network_id": net, "ip_version": 6, "cidr": "2001:db8:3::/64", "ipv6_ra_mode": "dhcpv6-stateful", "ipv6_address_mode": "dhcpv6-stateful"}),
    )
    .await
    .body["subnet"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = c.call_as(&alice, Method::POST, "/v2.0/ports", Some(json!({"port": {"network_id": net}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let port = r.body["port"]["id"].as_str().expect("id").to_string();
    let revision = r.body["port"]["revision_number"].as_i64().expect("revision");
    let subnets_of = |body: &Value| -> Vec<String> {
        body["port"]["fixed_ips"]
            .as_array()
            .expect("fixed_ips")
            .iter()
            .filter_map(|f| f["subnet_id"].as_str().map(str::to_string))
            .collect()
    };
    let before = subnets_of(&r.body);
    assert!(
        auto.iter().all(|a| before.contains(a)),
        "the port has SLAAC and stateless addresses: {:?}",
        r.body
    );

    for id in &auto {
        let r = c.call_as(&alice, Method::DELETE, &format!("/v2.0/subnets/{id}"), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    }
    let r = c.call_as(&alice, Method::GET, &format!("/v2.0/ports/{port}"), None).await;
    let left = subnets_of(&r.body);
    let want: Vec<String> = before.iter().filter(|s| !auto.contains(s)).cloned().collect();
    assert_eq!(left, want);
    assert!(left.contains(&v4), "{:?}", r.body);
    assert!(r.body["port"]["revision_number"].as_i64().expect("revision") > revision);
    // IPv4 (and DHCPv6-stateful) addresses still hold their subnets.
    for id in left.iter().filter(|s| **s == v4 || **s == stateful) {
        let r = c.call_as(&alice, Method::DELETE, &format!("/v2.0/subnets/{id}"), None).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.kind(), "SubnetInUse");
    }
}

#[tokio::test]
async fn an_external_network_goes_with_its_idle_floating_ips() {
    let c = Cloud::start().await;
    let r = c
        .call(
            Method::POST,
            "/v2.0/networks",
            Some(json!({"network": {"name": "ext", "router:external": true}})),
        )
        .await;
    let ext = r.body["network"]["id"].as_str().expect("id").to_string();
    let r = c
        .call(
            Method::POST,
            "/v2.0/subnets",
            Some(json!({"subnet": {"network_id": ext, "ip_version": 4, "cidr": "172.24.5.0/24", "enable_dhcp": false}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = c
        .call(Method::POST, "/v2.0/floatingips", Some(json!({"floatingip": {"floating_network_id": ext}})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let fip = r.body["floatingip"]["id"].as_str().expect("id").to_string();
    // A port of someone else on the network still holds it.
    let r = c.call(Method::POST, "/v2.0/ports", Some(json!({"port": {"network_id": ext}}))).await;
    let port = r.body["port"]["id"].as_str().expect("id").to_string();
    let r = c.call(Method::DELETE, &format!("/v2.0/networks/{ext}"), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.kind(), "NetworkInUse");
    c.call(Method::DELETE, &format!("/v2.0/ports/{port}"), None).await;
    let r = c.call(Method::DELETE, &format!("/v2.0/networks/{ext}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let r = c.get(&format!("/v2.0/floatingips/{fip}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = c.get(&format!("/v2.0/ports?network_id={ext}")).await;
    assert_eq!(r.body["ports"], json!([]));
}

#[tokio::test]
async fn subnet_pools_take_tags() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let (_, bob) = c.member("bob").await;
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/subnetpools",
            Some(json!({"subnetpool": {"name": "p", "prefixes": ["10.70.0.0/16"]}})),
        )
        .await;
    let p = r.body["subnetpool"]["id"].as_str().expect("id").to_string();
    let revision = r.body["subnetpool"]["revision_number"].as_i64().expect("revision");
    let r = c.call_as(&alice, Method::PUT, &format!("/v2.0/subnetpools/{p}/tags/red"), None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = c.call_as(&alice, Method::GET, &format!("/v2.0/subnetpools/{p}"), None).await;
    assert_eq!(r.body["subnetpool"]["tags"], json!(["red"]));
    assert!(r.body["subnetpool"]["revision_number"].as_i64().expect("revision") > revision);
    let r = c.call_as(&alice, Method::GET, "/v2.0/subnetpools?tags=red", None).await;
    assert_eq!(r.body["subnetpools"].as_array().map(Vec::len), Some(1));
    let r = c
        .call_as(&alice, Method::PUT, &format!("/v2.0/subnetpools/{p}/tags"), Some(json!({"tags": ["a", "b"]})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = c.call_as(&bob, Method::PUT, &format!("/v2.0/subnetpools/{p}/tags/x"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another project's pool");
    let r = c.call_as(&alice, Method::DELETE, &format!("/v2.0/subnetpools/{p}/tags"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c.call_as(&alice, Method::GET, &format!("/v2.0/subnetpools/{p}/tags"), None).await;
    assert_eq!(r.body["tags"], json!([]));
}
