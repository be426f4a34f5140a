//! Routers: gateway on an external network, interfaces by subnet and by port, static routes
//! and extraroutes, in-use rules, policy between projects, quotas and tags.

use crate::subnets::{network, subnet};
use crate::{Cloud, Resp};
use http::{Method, StatusCode};
use serde_json::{json, Value};

/// An external network with one subnet (admin): (network id, subnet id).
pub async fn external(c: &Cloud, cidr: &str) -> (String, String) {
    let admin = c.admin.clone();
    let net = network(c, &admin, json!({"name": "ext", "router:external": true})).await;
    let r = subnet(
        c,
        &admin,
        json!({"network_id": net, "ip_version": 4, "cidr": cidr, "enable_dhcp": false}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (
        net,
        r.body["subnet"]["id"].as_str().expect("id").to_string(),
    )
}

/// A project network with one subnet: (network id, subnet id).
pub async fn project_net(c: &Cloud, token: &str, cidr: &str) -> (String, String) {
    let net = network(c, token, json!({"name": "n"})).await;
    let r = subnet(
        c,
        token,
        json!({"network_id": net, "ip_version": 4, "cidr": cidr}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (
        net,
        r.body["subnet"]["id"].as_str().expect("id").to_string(),
    )
}

pub async fn router(c: &Cloud, token: &str, body: Value) -> Resp {
    c.call_as(
        token,
        Method::POST,
        "/v2.0/routers",
        Some(json!({ "router": body })),
    )
    .await
}

pub async fn interface(c: &Cloud, token: &str, router: &str, action: &str, body: Value) -> Resp {
    c.call_as(
        token,
        Method::PUT,
        &format!("/v2.0/routers/{router}/{action}_router_interface"),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn gateway_interfaces_routes_and_deletion() {
    let c = Cloud::start().await;
    gateway_interfaces_routes_and_deletion_on(&c).await;
    for url in crate::servers() {
        let c = Cloud::start_with(Some(url), |_| {}).await;
        gateway_interfaces_routes_and_deletion_on(&c).await;
    }
}

async fn gateway_interfaces_routes_and_deletion_on(c: &Cloud) {
    let (project, alice) = c.member("alice").await;
    let (ext, ext_subnet) = external(c, "10.10.10.0/24").await;
    let (net1, s1) = project_net(c, &alice, "172.16.100.0/24").await;
    let (net2, s2) = project_net(c, &alice, "172.16.101.0/24").await;

    let r = router(
        c,
        &alice,
        json!({"name": "router_100_101", "external_gateway_info": {"network_id": ext}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let rt = &r.body["router"];
    let id = rt["id"].as_str().expect("id").to_string();
    assert_eq!(rt["status"], "ACTIVE");
    assert_eq!(rt["admin_state_up"], true);
    assert_eq!(rt["project_id"], project.as_str());
    assert_eq!(rt["routes"], json!([]));
    assert_eq!(rt["revision_number"], 1);
    assert!(rt.get("ha").is_none(), "ha is admin-only: {rt}");
    assert_eq!(
        rt["external_gateway_info"],
        json!({"network_id": ext, "enable_snat": true, "external_fixed_ips": [{"subnet_id": ext_subnet, "ip_address": "10.10.10.2"}]})
    );
    let shown = c.get(&format!("/v2.0/routers/{id}")).await;
    assert_eq!(shown.body["router"]["ha"], false);
    assert_eq!(shown.body["router"]["distributed"], false);
    assert_eq!(shown.body["router"]["flavor_id"], Value::Null);

    // The gateway port: on the external network, owned by no project, not deletable.
    let ports = c
        .get(&format!("/v2.0/ports?device_id={id}&network_id={ext}"))
        .await;
    let gw = &ports.body["ports"][0];
    assert_eq!(gw["device_owner"], "network:router_gateway");
    assert_eq!(gw["project_id"], "");
    let gw_id = gw["id"].as_str().expect("id").to_string();
    let d = c
        .call(Method::DELETE, &format!("/v2.0/ports/{gw_id}"), None)
        .await;
    assert_eq!(
        (d.status, d.kind()),
        (StatusCode::CONFLICT, "ServicePortInUse")
    );

    // An interface by subnet takes the subnet's gateway address.
    let a = interface(c, &alice, &id, "add", json!({"subnet_id": s1})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["id"], id.as_str());
    assert_eq!(a.body["subnet_id"], s1.as_str());
    assert_eq!(a.body["subnet_ids"], json!([s1]));
    assert_eq!(a.body["network_id"], net1.as_str());
    let p1 = a.body["port_id"].as_str().expect("port").to_string();
    let port = c
        .call_as(&alice, Method::GET, &format!("/v2.0/ports/{p1}"), None)
        .await;
    assert_eq!(
        port.body["port"]["device_owner"],
        "network:router_interface"
    );
    assert_eq!(port.body["port"]["device_id"], id.as_str());
    assert_eq!(
        port.body["port"]["fixed_ips"],
        json!([{"subnet_id": s1, "ip_address": "172.16.100.1"}])
    );

    // The same subnet again, or one overlapping it, is refused.
    let again = interface(c, &alice, &id, "add", json!({"subnet_id": s1})).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        again.message(),
        format!("Bad router request: Router already has a port on subnet {s1}.")
    );
    let (_, s3) = project_net(c, &alice, "172.16.100.0/25").await;
    let over = interface(c, &alice, &id, "add", json!({"subnet_id": s3})).await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST);
    assert!(
        over.message()
            .contains("overlaps with cidr 172.16.100.0/24"),
        "{}",
        over.body
    );

    // An interface by port: the port is handed over to the router.
    let p = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/ports",
            Some(json!({"port": {"network_id": net2}})),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    let p2 = p.body["port"]["id"].as_str().expect("id").to_string();
    let a2 = interface(c, &alice, &id, "add", json!({"port_id": p2})).await;
    assert_eq!(a2.status, StatusCode::OK, "{}", a2.body);
    assert_eq!(a2.body["subnet_id"], s2.as_str());
    let a3 = interface(c, &alice, &id, "add", json!({"port_id": p2})).await;
    assert_eq!((a3.status, a3.kind()), (StatusCode::CONFLICT, "PortInUse"));

    // A router with interfaces cannot go.
    let d = c
        .call_as(&alice, Method::DELETE, &format!("/v2.0/routers/{id}"), None)
        .await;
    assert_eq!((d.status, d.kind()), (StatusCode::CONFLICT, "RouterInUse"));
    assert_eq!(d.message(), format!("Router {id} still has ports"));

    // Static routes: the next hop must be on one of the router's subnets, not its own.
    let put = |routes: Value| {
        let c = &c;
        let alice = alice.clone();
        let id = id.clone();
        async move {
            c.call_as(
                &alice,
                Method::PUT,
                &format!("/v2.0/routers/{id}"),
                Some(json!({"router": {"routes": routes}})),
            )
            .await
        }
    };
    let ok = put(json!([{"destination": "192.168.0.0/24", "nexthop": "172.16.100.10"}])).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(
        ok.body["router"]["routes"],
        json!([{"destination": "192.168.0.0/24", "nexthop": "172.16.100.10"}])
    );
    let far = put(json!([{"destination": "192.168.0.0/24", "nexthop": "1.2.3.4"}])).await;
    assert_eq!(
        (far.status, far.kind()),
        (StatusCode::BAD_REQUEST, "InvalidRoutes")
    );
    assert!(far
        .message()
        .ends_with("the nexthop is not connected with router"));
    let own = put(json!([{"destination": "192.168.0.0/24", "nexthop": "172.16.100.1"}])).await;
    assert_eq!(
        (own.status, own.kind()),
        (StatusCode::BAD_REQUEST, "InvalidRoutes")
    );
    assert!(own.message().ends_with("the nexthop is used by router"));
    let bad = put(json!([{"destination": "192.168.0.1/24", "nexthop": "172.16.100.9"}])).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // The interface a route needs stays.
    let rm = interface(c, &alice, &id, "remove", json!({"subnet_id": s1})).await;
    assert_eq!(
        (rm.status, rm.kind()),
        (StatusCode::CONFLICT, "RouterInterfaceInUseByRoute")
    );
    assert_eq!(put(json!([])).await.status, StatusCode::OK);
    let rm = interface(c, &alice, &id, "remove", json!({"subnet_id": s1})).await;
    assert_eq!(rm.status, StatusCode::OK, "{}", rm.body);
    assert_eq!(rm.body["port_id"], p1.as_str());
    let gone = c.get(&format!("/v2.0/ports/{p1}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let rm = interface(c, &alice, &id, "remove", json!({"subnet_id": s1})).await;
    assert_eq!(
        (rm.status, rm.kind()),
        (StatusCode::NOT_FOUND, "RouterInterfaceNotFoundForSubnet")
    );
    let rm = interface(c, &alice, &id, "remove", json!({"port_id": p2})).await;
    assert_eq!(rm.status, StatusCode::OK, "{}", rm.body);
    let rm = interface(c, &alice, &id, "remove", json!({"port_id": p2})).await;
    assert_eq!(
        (rm.status, rm.kind()),
        (StatusCode::NOT_FOUND, "RouterInterfaceNotFound")
    );
    assert_eq!(
        rm.message(),
        format!("Router {id} does not have an interface with id {p2}")
    );

    // The external network stays external while a router uses it.
    let u = c
        .call(
            Method::PUT,
            &format!("/v2.0/networks/{ext}"),
            Some(json!({"network": {"router:external": false}})),
        )
        .await;
    assert_eq!(
        (u.status, u.kind()),
        (StatusCode::CONFLICT, "ExternalNetworkInUse")
    );

    // Gateway changes: a project network is not external; null removes the gateway.
    let up = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/routers/{id}"),
            Some(json!({"router": {"external_gateway_info": {"network_id": net1}}})),
        )
        .await;
    assert_eq!(up.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        up.message(),
        format!("Bad router request: Network {net1} is not an external network.")
    );
    let up = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/routers/{id}"),
            Some(json!({"router": {"external_gateway_info": null, "name": "r2"}})),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    assert_eq!(up.body["router"]["external_gateway_info"], Value::Null);
    assert_eq!(up.body["router"]["name"], "r2");
    assert_eq!(
        c.get(&format!("/v2.0/ports/{gw_id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let u = c
        .call(
            Method::PUT,
            &format!("/v2.0/networks/{ext}"),
            Some(json!({"network": {"router:external": false}})),
        )
        .await;
    assert_eq!(u.status, StatusCode::OK, "{}", u.body);

    let d = c
        .call_as(&alice, Method::DELETE, &format!("/v2.0/routers/{id}"), None)
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.body);
    let g = c.get(&format!("/v2.0/routers/{id}")).await;
    assert_eq!(
        (g.status, g.kind()),
        (StatusCode::NOT_FOUND, "RouterNotFound")
    );
}

#[tokio::test]
async fn policy_validation_quota_extraroutes_and_tags() {
    let c = Cloud::start().await;
    let (project, alice) = c.member("alice").await;
    let (_, bob) = c.member("bob").await;
    let (ext, _) = external(&c, "10.20.0.0/24").await;
    let (_, s1) = project_net(&c, &alice, "192.168.1.0/24").await;

    let r = router(&c, &alice, json!({"name": "r"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["router"]["external_gateway_info"], Value::Null);
    let id = r.body["router"]["id"].as_str().expect("id").to_string();

    // Another project's member sees nothing and changes nothing.
    for (m, path, body) in [
        (Method::GET, format!("/v2.0/routers/{id}"), None),
        (
            Method::PUT,
            format!("/v2.0/routers/{id}"),
            Some(json!({"router": {"name": "x"}})),
        ),
        (Method::DELETE, format!("/v2.0/routers/{id}"), None),
        (
            Method::PUT,
            format!("/v2.0/routers/{id}/add_router_interface"),
            Some(json!({"subnet_id": s1})),
        ),
    ] {
        let resp = c.call_as(&bob, m, &path, body).await;
        assert_eq!(
            (resp.status, resp.kind()),
            (StatusCode::NOT_FOUND, "RouterNotFound"),
            "{path}"
        );
    }
    let list = c.call_as(&bob, Method::GET, "/v2.0/routers", None).await;
    assert_eq!(list.body["routers"], json!([]));
    // Alice's private network is not Bob's to name as a gateway.
    let (alice_net, _) = project_net(&c, &alice, "192.168.9.0/24").await;
    let gw = router(
        &c,
        &bob,
        json!({"external_gateway_info": {"network_id": alice_net}}),
    )
    .await;
    assert_eq!(
        (gw.status, gw.kind()),
        (StatusCode::NOT_FOUND, "NetworkNotFound")
    );
    // Bob's router cannot take Alice's subnet.
    let rb = router(&c, &bob, json!({})).await;
    let rb_id = rb.body["router"]["id"].as_str().expect("id").to_string();
    let a = interface(&c, &bob, &rb_id, "add", json!({"subnet_id": s1})).await;
    assert_eq!(
        (a.status, a.kind()),
        (StatusCode::NOT_FOUND, "SubnetNotFound")
    );

    // Admin-only attributes: enable_snat, ha, distributed.
    let snat = router(
        &c,
        &alice,
        json!({"external_gateway_info": {"network_id": ext, "enable_snat": false}}),
    )
    .await;
    assert_eq!(snat.status, StatusCode::FORBIDDEN, "{}", snat.body);
    let ha = router(&c, &alice, json!({"ha": true})).await;
    assert_eq!(ha.status, StatusCode::FORBIDDEN);
    let admin = c.admin.clone();
    let ha = router(&c, &admin, json!({"ha": true})).await;
    assert_eq!(
        (ha.status, ha.kind()),
        (StatusCode::BAD_REQUEST, "InvalidInput")
    );
    assert_eq!(
        ha.message(),
        "Invalid input for operation: Provider single_node does not support ha=True."
    );
    let dvr = router(&c, &admin, json!({"distributed": true})).await;
    assert_eq!(dvr.status, StatusCode::BAD_REQUEST);
    let plain = router(
        &c,
        &admin,
        json!({"distributed": false, "ha": false, "project_id": project}),
    )
    .await;
    assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.body);
    let snat = router(
        &c,
        &admin,
        json!({"external_gateway_info": {"network_id": ext, "enable_snat": false}}),
    )
    .await;
    assert_eq!(snat.status, StatusCode::CREATED, "{}", snat.body);
    assert_eq!(
        snat.body["router"]["external_gateway_info"]["enable_snat"],
        false
    );

    // Bad input.
    for body in [
        json!({"routes": []}),
        json!({"external_gateway_info": {"network_id": "nope"}}),
        json!({"external_gateway_info": {"network_id": ext, "foo": 1}}),
        json!({"admin_state_up": "maybe"}),
        json!({"availability_zone_hints": ["nowhere"]}),
    ] {
        let resp = router(&c, &alice, body.clone()).await;
        assert!(
            resp.status == StatusCode::BAD_REQUEST || resp.status == StatusCode::NOT_FOUND,
            "{body}: {}",
            resp.body
        );
    }
    let missing = router(
        &c,
        &alice,
        json!({"external_gateway_info": {"network_id": "9a0b6e5c-4a53-4c48-8d53-2bbf0a6e1d2e"}}),
    )
    .await;
    assert_eq!(
        (missing.status, missing.kind()),
        (StatusCode::NOT_FOUND, "NetworkNotFound")
    );
    let both = interface(
        &c,
        &alice,
        &id,
        "add",
        json!({"subnet_id": s1, "port_id": s1}),
    )
    .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        both.message(),
        "Bad router request: Cannot specify both subnet-id and port-id."
    );
    let neither = interface(&c, &alice, &id, "add", json!({})).await;
    assert_eq!(neither.status, StatusCode::BAD_REQUEST);
    let junk = interface(&c, &alice, &id, "add", json!([1])).await;
    assert_eq!(junk.status, StatusCode::BAD_REQUEST);

    // extraroute-atomic.
    assert_eq!(
        interface(&c, &alice, &id, "add", json!({"subnet_id": s1}))
            .await
            .status,
        StatusCode::OK
    );
    let add = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/routers/{id}/add_extraroutes"),
            Some(json!({"router": {"routes": [
                {"destination": "10.1.0.0/16", "nexthop": "192.168.1.5"},
                {"destination": "10.2.0.0/16", "nexthop": "192.168.1.6"}]}})),
        )
        .await;
    assert_eq!(add.status, StatusCode::OK, "{}", add.body);
    assert_eq!(
        add.body["router"]["routes"].as_array().map(Vec::len),
        Some(2)
    );
    let del = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/routers/{id}/remove_extraroutes"),
            Some(json!({"router": {"routes": [{"destination": "10.1.0.0/16", "nexthop": "192.168.1.5"}]}})),
        )
        .await;
    assert_eq!(
        del.body["router"]["routes"],
        json!([{"destination": "10.2.0.0/16", "nexthop": "192.168.1.6"}])
    );

    // Tags and filters.
    let t = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/routers/{id}/tags/blue"),
            None,
        )
        .await;
    assert!(t.status.is_success(), "{}", t.body);
    let l = c
        .call_as(&alice, Method::GET, "/v2.0/routers?tags=blue", None)
        .await;
    assert_eq!(
        l.body["routers"].as_array().map(Vec::len),
        Some(1),
        "{}",
        l.body
    );
    let l = c
        .call_as(&alice, Method::GET, "/v2.0/routers?name=r&fields=id", None)
        .await;
    assert_eq!(l.body["routers"], json!([{"id": id}]));

    // The router quota.
    let q = c
        .call(
            Method::PUT,
            &format!("/v2.0/quotas/{project}"),
            Some(json!({"quota": {"router": 2}})),
        )
        .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    let over = router(&c, &alice, json!({})).await;
    assert_eq!(
        (over.status, over.kind()),
        (StatusCode::CONFLICT, "OverQuota")
    );

    // The extensions are announced.
    let ext = c.get("/v2.0/extensions").await;
    let aliases: Vec<&str> = ext.body["extensions"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["alias"].as_str()).collect())
        .unwrap_or_default();
    for alias in ["router", "ext-gw-mode", "extraroute", "extraroute-atomic"] {
        assert!(aliases.contains(&alias), "{alias}");
    }
}

#[tokio::test]
async fn one_default_external_network() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let admin = c.admin.clone();
    let r = c
        .call(
            Method::POST,
            "/v2.0/networks",
            Some(
                json!({"network": {"name": "public", "router:external": true, "is_default": true}}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["network"]["is_default"], true);
    let public = r.body["network"]["id"].as_str().expect("id").to_string();
    let r = c
        .call(
            Method::POST,
            "/v2.0/networks",
            Some(
                json!({"network": {"name": "other", "router:external": true, "is_default": true}}),
            ),
        )
        .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "DefaultExternalNetworkExists")
    );
    assert_eq!(
        r.message(),
        format!("A default external network already exists: {public}.")
    );
    // Only admins choose it; a project network is never the default.
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/networks",
            Some(json!({"network": {"is_default": true}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let own = network(&c, &alice, json!({})).await;
    let shown = c
        .call_as(&alice, Method::GET, &format!("/v2.0/networks/{own}"), None)
        .await;
    assert_eq!(shown.body["network"]["is_default"], false);
    let other = network(&c, &admin, json!({"router:external": true})).await;
    let u = c
        .call(
            Method::PUT,
            &format!("/v2.0/networks/{public}"),
            Some(json!({"network": {"is_default": false}})),
        )
        .await;
    assert_eq!(u.body["network"]["is_default"], false);
    let u = c
        .call(
            Method::PUT,
            &format!("/v2.0/networks/{other}"),
            Some(json!({"network": {"is_default": true}})),
        )
        .await;
    assert_eq!(u.status, StatusCode::OK, "{}", u.body);
    assert_eq!(u.body["network"]["is_default"], true);
}
