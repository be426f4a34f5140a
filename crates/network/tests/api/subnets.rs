//! Subnets: IPv4/IPv6 defaults, pools, gateways, overlap rules, IPv6 modes, updates, policy.

use crate::Cloud;
use http::{Method, StatusCode};
use serde_json::{json, Value};

pub async fn network(c: &Cloud, token: &str, body: Value) -> String {
    let r = c
        .call_as(
            token,
            Method::POST,
            "/v2.0/networks",
            Some(json!({ "network": body })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["network"]["id"].as_str().expect("id").to_string()
}

pub async fn subnet(c: &Cloud, token: &str, body: Value) -> crate::Resp {
    c.call_as(
        token,
        Method::POST,
        "/v2.0/subnets",
        Some(json!({ "subnet": body })),
    )
    .await
}

#[tokio::test]
async fn ipv4_defaults_pools_gateways_and_overlaps() {
    let c = Cloud::start().await;
    let (project, alice) = c.member("alice").await;
    let net = network(&c, &alice, json!({"name": "n"})).await;
    let rev = c
        .call_as(&alice, Method::GET, &format!("/v2.0/networks/{net}"), None)
        .await
        .body["network"]["revision_number"]
        .clone();
    let r = subnet(&c, &alice, json!({"network_id": net, "ip_version": 4, "cidr": "10.0.0.0/24", "name": "s1", "dns_nameservers": ["8.8.8.8"], "host_routes": [{"destination": "192.168.0.0/16", "nexthop": "10.0.0.254"}]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let s = &r.body["subnet"];
    assert_eq!(s["gateway_ip"], "10.0.0.1");
    assert_eq!(
        s["allocation_pools"],
        json!([{"start": "10.0.0.2", "end": "10.0.0.254"}])
    );
    assert_eq!(s["enable_dhcp"], true);
    assert_eq!(s["project_id"], project.as_str());
    assert_eq!(s["ipv6_ra_mode"], Value::Null);
    assert_eq!(s["dns_nameservers"], json!(["8.8.8.8"]));
    assert_eq!(
        s["host_routes"],
        json!([{"destination": "192.168.0.0/16", "nexthop": "10.0.0.254"}])
    );
    assert_eq!(s["revision_number"], 1);
    let sid = s["id"].as_str().expect("id").to_string();
    let n = c
        .call_as(&alice, Method::GET, &format!("/v2.0/networks/{net}"), None)
        .await;
    assert_eq!(n.body["network"]["subnets"], json!([sid]));
    assert!(
        n.body["network"]["revision_number"].as_i64() > rev.as_i64(),
        "adding a subnet bumps the network's revision"
    );

    let r = subnet(
        &c,
        &alice,
        json!({"network_id": net, "ip_version": 4, "cidr": "10.0.0.128/25"}),
    )
    .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::BAD_REQUEST, "InvalidInput")
    );
    assert_eq!(r.message(), format!("Invalid input for operation: Requested subnet with cidr: 10.0.0.128/25 for network: {net} overlaps with another subnet."));
    let other = network(&c, &alice, json!({})).await;
    let r = subnet(
        &c,
        &alice,
        json!({"network_id": other, "ip_version": 4, "cidr": "10.0.0.0/24", "gateway_ip": null}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "the same CIDR on another network is fine: {}",
        r.body
    );
    assert_eq!(r.body["subnet"]["gateway_ip"], Value::Null);
    assert_eq!(
        r.body["subnet"]["allocation_pools"],
        json!([{"start": "10.0.0.1", "end": "10.0.0.254"}])
    );

    let r = subnet(&c, &alice, json!({"network_id": net, "ip_version": 4, "cidr": "10.1.0.0/24", "allocation_pools": [{"start": "10.1.0.10", "end": "10.1.0.20"}, {"start": "10.1.0.20", "end": "10.1.0.30"}]})).await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "OverlappingAllocationPools")
    );
    assert_eq!(r.message(), "Found overlapping allocation pools: 10.1.0.10-10.1.0.20 10.1.0.20-10.1.0.30 for subnet 10.1.0.0/24.");
    let r = subnet(&c, &alice, json!({"network_id": net, "ip_version": 4, "cidr": "10.1.0.0/24", "allocation_pools": [{"start": "10.1.0.10", "end": "10.1.1.20"}]})).await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::BAD_REQUEST, "OutOfBoundsAllocationPool")
    );
    let r = subnet(&c, &alice, json!({"network_id": net, "ip_version": 4, "cidr": "10.1.0.0/24", "allocation_pools": [{"start": "10.1.0.1", "end": "10.1.0.20"}]})).await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "GatewayConflictWithAllocationPools")
    );
    let r = subnet(&c, &alice, json!({"network_id": net, "ip_version": 4, "cidr": "10.1.0.0/24", "gateway_ip": "10.1.0.254", "allocation_pools": [{"start": "10.1.0.100", "end": "10.1.0.200"}]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body["subnet"]["allocation_pools"],
        json!([{"start": "10.1.0.100", "end": "10.1.0.200"}])
    );

    let r = subnet(
        &c,
        &alice,
        json!({"network_id": net, "ip_version": 4, "cidr": "10.2.0.1/24"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.message().contains("'10.2.0.0/24' is recommended"),
        "{}",
        r.message()
    );
    let r = subnet(
        &c,
        &alice,
        json!({"network_id": net, "ip_version": 6, "cidr": "10.2.0.0/24"}),
    )
    .await;
    assert_eq!(r.kind(), "InvalidInput");
    let r = subnet(
        &c,
        &alice,
        json!({"network_id": net, "ip_version": 5, "cidr": "10.2.0.0/24"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = subnet(
        &c,
        &alice,
        json!({"network_id": net, "cidr": "10.2.0.0/24"}),
    )
    .await;
    assert_eq!(
        r.message(),
        "Failed to parse request. Required attribute 'ip_version' not specified"
    );
    let r = subnet(&c, &alice, json!({"network_id": net, "ip_version": 4, "cidr": "10.2.0.0/24", "gateway_ip": "10.2.0.0"})).await;
    assert_eq!(
        r.message(),
        "Invalid input for operation: Gateway is not valid on subnet."
    );
    let r = subnet(&c, &alice, json!({"network_id": net, "ip_version": 4, "cidr": "10.2.0.0/24", "dns_nameservers": ["1.1.1.1", "1.1.1.1"]})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = subnet(&c, &alice, json!({"network_id": net, "ip_version": 4, "cidr": "10.2.0.0/24", "dns_nameservers": ["2001:db8::1"]})).await;
    assert_eq!(r.message(), "Invalid input for operation: dns_nameserver '2001:db8::1' does not match the ip_version '4'.");
    let r = subnet(
        &c,
        &alice,
        json!({"network_id": net, "ip_version": 4, "cidr": "10.2.0.0/31"}),
    )
    .await;
    assert_eq!(r.message(), "Invalid input for operation: Subnet has a prefix length that is incompatible with DHCP service enabled.");
    let r = subnet(&c, &alice, json!({"network_id": net, "ip_version": 4, "cidr": "10.2.0.0/24", "subnetpool_id": "11111111-2222-3333-4444-555555555555"})).await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::NOT_FOUND, "SubnetPoolNotFound")
    );
    let r = subnet(&c, &alice, json!({"network_id": "11111111-2222-3333-4444-555555555555", "ip_version": 4, "cidr": "10.2.0.0/24"})).await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::NOT_FOUND, "NetworkNotFound")
    );
}

#[tokio::test]
async fn ipv6_modes_and_defaults() {
    let c = Cloud::start().await;
    let a = c.admin.clone();
    let net = network(&c, &a, json!({})).await;
    let r = subnet(&c, &a, json!({"network_id": net, "ip_version": 6, "cidr": "2001:db8:0:1::/64", "ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["subnet"]["gateway_ip"], "2001:db8:0:1::1");
    assert_eq!(
        r.body["subnet"]["allocation_pools"],
        json!([{"start": "2001:db8:0:1::2", "end": "2001:db8:0:1:ffff:ffff:ffff:ffff"}])
    );
    assert_eq!(r.body["subnet"]["ipv6_address_mode"], "slaac");
    let r = subnet(&c, &a, json!({"network_id": net, "ip_version": 6, "cidr": "2001:db8:0:2::/80", "ipv6_address_mode": "slaac"})).await;
    assert!(
        r.message().contains("requires the prefix to be /64"),
        "{}",
        r.message()
    );
    let r = subnet(&c, &a, json!({"network_id": net, "ip_version": 6, "cidr": "2001:db8:0:2::/64", "ipv6_ra_mode": "slaac", "ipv6_address_mode": "dhcpv6-stateful"})).await;
    assert_eq!(r.kind(), "InvalidInput");
    let r = subnet(&c, &a, json!({"network_id": net, "ip_version": 6, "cidr": "2001:db8:0:2::/64", "ipv6_address_mode": "dhcpv6-stateful", "enable_dhcp": false})).await;
    assert_eq!(r.kind(), "InvalidInput");
    let r = subnet(
        &c,
        &a,
        json!({"network_id": net, "ip_version": 4, "cidr": "10.9.0.0/24", "ipv6_ra_mode": "slaac"}),
    )
    .await;
    assert_eq!(
        r.message(),
        "Invalid input for operation: ipv6_ra_mode is not valid when ip_version is 4."
    );
    let r = subnet(&c, &a, json!({"network_id": net, "ip_version": 6, "cidr": "2001:db8:0:3::/64", "ipv6_address_mode": "dhcpv6-stateful", "gateway_ip": "2001:DB8:0:3::fe"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["subnet"]["gateway_ip"], "2001:db8:0:3::fe");
    let r = c
        .get(&format!(
            "/v2.0/subnets?network_id={net}&ip_version=6&fields=cidr"
        ))
        .await;
    assert_eq!(
        r.body["subnets"],
        json!([{"cidr": "2001:db8:0:1::/64"}, {"cidr": "2001:db8:0:3::/64"}])
    );
}

#[tokio::test]
async fn policy_updates_and_deletion() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let (_, bob) = c.member("bob").await;
    let a = c.admin.clone();
    let net = network(&c, &alice, json!({})).await;
    let r = subnet(
        &c,
        &bob,
        json!({"network_id": net, "ip_version": 4, "cidr": "10.0.0.0/24"}),
    )
    .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::NOT_FOUND, "NetworkNotFound"),
        "bob cannot see alice's network"
    );
    let shared = network(&c, &a, json!({"shared": true})).await;
    let r = subnet(
        &c,
        &bob,
        json!({"network_id": shared, "ip_version": 4, "cidr": "10.0.0.0/24"}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "only the owner adds subnets to a shared network"
    );
    let r = subnet(
        &c,
        &a,
        json!({"network_id": shared, "ip_version": 4, "cidr": "10.5.0.0/24"}),
    )
    .await;
    let shared_subnet = r.body["subnet"]["id"].as_str().expect("id").to_string();
    assert_eq!(
        c.call_as(
            &bob,
            Method::GET,
            &format!("/v2.0/subnets/{shared_subnet}"),
            None
        )
        .await
        .status,
        StatusCode::OK,
        "subnets of shared networks are visible"
    );

    let r = subnet(
        &c,
        &alice,
        json!({"network_id": net, "ip_version": 4, "cidr": "10.0.0.0/24"}),
    )
    .await;
    let sid = r.body["subnet"]["id"].as_str().expect("id").to_string();
    let path = format!("/v2.0/subnets/{sid}");
    assert_eq!(
        c.call_as(&bob, Method::GET, &path, None).await.kind(),
        "SubnetNotFound"
    );
    let r = c.call_as(&alice, Method::GET, "/v2.0/subnets", None).await;
    assert_eq!(
        r.body["subnets"].as_array().expect("list").len(),
        2,
        "her own and the shared one"
    );
    let r = c.call_with(&alice, Method::PUT, &path, Some(json!({"subnet": {"name": "renamed", "dns_nameservers": ["9.9.9.9"], "gateway_ip": null}})), &[("if-match", "revision_number=1")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["subnet"]["name"], "renamed");
    assert_eq!(r.body["subnet"]["gateway_ip"], Value::Null);
    assert_eq!(r.body["subnet"]["dns_nameservers"], json!(["9.9.9.9"]));
    assert_eq!(r.body["subnet"]["revision_number"], 2);
    let r = c.call_as(&alice, Method::PUT, &path, Some(json!({"subnet": {"allocation_pools": [{"start": "10.0.0.10", "end": "10.0.0.19"}]}}))).await;
    assert_eq!(
        r.body["subnet"]["allocation_pools"],
        json!([{"start": "10.0.0.10", "end": "10.0.0.19"}])
    );
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"subnet": {"cidr": "10.9.0.0/24"}})),
        )
        .await;
    assert_eq!(r.message(), "Cannot update read-only attribute cidr");
    let r = c
        .call_with(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"subnet": {"name": "x"}})),
            &[("if-match", "revision_number=1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        c.call_as(&alice, Method::PUT, &format!("{path}/tags/t1"), None)
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        c.call_as(&alice, Method::GET, "/v2.0/subnets?tags=t1", None)
            .await
            .body["subnets"][0]["id"],
        sid.as_str()
    );
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
    let n = c
        .call_as(&alice, Method::GET, &format!("/v2.0/networks/{net}"), None)
        .await;
    assert_eq!(n.body["network"]["subnets"], json!([]));
}

#[tokio::test]
async fn subnet_pools_allocate_in_order_and_check_bounds() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let a = c.admin.clone();
    let r = c.call(Method::POST, "/v2.0/subnetpools", Some(json!({"subnetpool": {"name": "pool", "prefixes": ["10.10.0.0/16", "10.20.0.0/24"], "default_prefixlen": 24, "shared": true, "is_default": true}}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let p = r.body["subnetpool"].clone();
    assert_eq!(
        (
            p["ip_version"].clone(),
            p["min_prefixlen"].clone(),
            p["max_prefixlen"].clone()
        ),
        (json!(4), json!(8), json!(32))
    );
    let pool = p["id"].as_str().expect("id").to_string();
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/subnetpools",
            Some(json!({"subnetpool": {"name": "x", "prefixes": ["10.0.0.0/8"], "shared": true}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/subnetpools",
            Some(json!({"subnetpool": {"name": "x", "prefixes": ["10.0.0.0/8", "2001:db8::/32"]}})),
        )
        .await;
    assert_eq!(r.kind(), "PrefixVersionMismatch");
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/subnetpools",
            Some(json!({"subnetpool": {"name": "x", "prefixes": []}})),
        )
        .await;
    assert_eq!(r.kind(), "EmptySubnetPoolPrefixList");

    let net = network(&c, &alice, json!({})).await;
    let r = subnet(
        &c,
        &alice,
        json!({"network_id": net, "ip_version": 4, "subnetpool_id": pool}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["subnet"]["cidr"], "10.10.0.0/24");
    assert_eq!(r.body["subnet"]["subnetpool_id"], pool.as_str());
    assert_eq!(r.body["subnet"]["gateway_ip"], "10.10.0.1");
    let net2 = network(&c, &alice, json!({})).await;
    let r = subnet(&c, &alice, json!({"network_id": net2, "ip_version": 4, "use_default_subnetpool": true, "prefixlen": 26})).await;
    assert_eq!(r.body["subnet"]["cidr"], "10.10.1.0/26", "{}", r.body);
    let r = subnet(
        &c,
        &alice,
        json!({"network_id": net2, "ip_version": 4, "subnetpool_id": pool, "prefixlen": 26}),
    )
    .await;
    assert_eq!(r.body["subnet"]["cidr"], "10.10.1.64/26", "{}", r.body);
    let r = subnet(
        &c,
        &alice,
        json!({"network_id": net2, "ip_version": 4, "subnetpool_id": pool, "cidr": "10.10.1.0/28"}),
    )
    .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "SubnetAllocationError"),
        "taken in the pool"
    );
    let r = subnet(&c, &alice, json!({"network_id": net2, "ip_version": 4, "subnetpool_id": pool, "cidr": "192.168.0.0/24"})).await;
    assert_eq!(r.kind(), "SubnetAllocationError", "outside the pool");
    let r = subnet(
        &c,
        &alice,
        json!({"network_id": net2, "ip_version": 4, "subnetpool_id": pool, "prefixlen": 4}),
    )
    .await;
    assert_eq!(r.kind(), "MinPrefixSubnetAllocationError");
    let r = subnet(
        &c,
        &alice,
        json!({"network_id": net2, "ip_version": 6, "subnetpool_id": pool}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = subnet(
        &c,
        &alice,
        json!({"network_id": net2, "ip_version": 4, "subnetpool_id": pool, "prefixlen": 16}),
    )
    .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "SubnetAllocationError"),
        "no /16 left: {}",
        r.body
    );
    let r = subnet(
        &c,
        &alice,
        json!({"network_id": net2, "ip_version": 6, "use_default_subnetpool": true}),
    )
    .await;
    assert_eq!(
        r.message(),
        "Bad subnets request: No default subnetpool found for IPv6."
    );

    let path = format!("/v2.0/subnetpools/{pool}");
    let r = c
        .call(
            Method::PUT,
            &path,
            Some(json!({"subnetpool": {"prefixes": ["10.20.0.0/24"]}})),
        )
        .await;
    assert_eq!(r.kind(), "IllegalSubnetPoolPrefixUpdate");
    let r = c.call(Method::PUT, &path, Some(json!({"subnetpool": {"prefixes": ["10.0.0.0/8", "10.20.0.0/24"], "name": "bigger"}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["subnetpool"]["prefixes"], json!(["10.0.0.0/8"]));
    assert_eq!(
        c.call_as(&alice, Method::GET, &path, None).await.status,
        StatusCode::OK,
        "shared pools are visible"
    );
    assert_eq!(
        c.call_as(&alice, Method::DELETE, &path, None).await.status,
        StatusCode::FORBIDDEN
    );
    let r = c.call(Method::DELETE, &path, None).await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "SubnetPoolInUse")
    );
    let _ = a;
}
