//! Floating IPs: allocation on an external network, association through a router with a
//! gateway, the in-use rules with routers, policy between projects, quotas.

use crate::routers::{external, interface, project_net, router};
use crate::{Cloud, Resp};
use http::{Method, StatusCode};
use serde_json::{json, Value};

async fn fip(c: &Cloud, token: &str, body: Value) -> Resp {
    c.call_as(
        token,
        Method::POST,
        "/v2.0/floatingips",
        Some(json!({ "floatingip": body })),
    )
    .await
}

async fn put_fip(c: &Cloud, token: &str, id: &str, body: Value) -> Resp {
    c.call_as(
        token,
        Method::PUT,
        &format!("/v2.0/floatingips/{id}"),
        Some(json!({ "floatingip": body })),
    )
    .await
}

async fn port(c: &Cloud, token: &str, net: &str) -> (String, String) {
    let p = c
        .call_as(
            token,
            Method::POST,
            "/v2.0/ports",
            Some(json!({"port": {"network_id": net, "name": "vm"}})),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    (
        p.body["port"]["id"].as_str().expect("id").to_string(),
        p.body["port"]["fixed_ips"][0]["ip_address"]
            .as_str()
            .expect("ip")
            .to_string(),
    )
}

#[tokio::test]
async fn allocate_associate_disassociate_and_delete() {
    let c = Cloud::start().await;
    allocate_associate_disassociate_and_delete_on(&c).await;
    for url in crate::servers() {
        let c = Cloud::start_with(Some(url), |_| {}).await;
        allocate_associate_disassociate_and_delete_on(&c).await;
    }
}

async fn allocate_associate_disassociate_and_delete_on(c: &Cloud) {
    let (project, alice) = c.member("alice").await;
    let (ext, ext_subnet) = external(c, "10.10.10.0/24").await;
    let (net, sub) = project_net(c, &alice, "172.16.101.0/24").await;
    let r = router(
        c,
        &alice,
        json!({"name": "r", "external_gateway_info": {"network_id": ext}}),
    )
    .await;
    let rid = r.body["router"]["id"].as_str().expect("id").to_string();
    assert_eq!(
        interface(c, &alice, &rid, "add", json!({"subnet_id": sub}))
            .await
            .status,
        StatusCode::OK
    );
    let (vm, vm_ip) = port(c, &alice, &net).await;

    // Allocation: the next free address of the external subnet (the gateway took .2).
    let f = fip(c, &alice, json!({"floating_network_id": ext})).await;
    assert_eq!(f.status, StatusCode::CREATED, "{}", f.body);
    let body = &f.body["floatingip"];
    assert_eq!(body["floating_ip_address"], "10.10.10.3");
    assert_eq!(body["status"], "DOWN");
    assert_eq!(body["router_id"], Value::Null);
    assert_eq!(body["port_id"], Value::Null);
    assert_eq!(body["port_details"], Value::Null);
    assert_eq!(body["project_id"], project.as_str());
    assert_eq!(body["floating_network_id"], ext.as_str());
    let id = body["id"].as_str().expect("id").to_string();
    let ports = c.get(&format!("/v2.0/ports?device_id={id}")).await.body["ports"].clone();
    assert_eq!(ports[0]["device_owner"], "network:floatingip");
    assert_eq!(ports[0]["status"], "N/A");
    assert_eq!(
        ports[0]["fixed_ips"],
        json!([{"subnet_id": ext_subnet, "ip_address": "10.10.10.3"}])
    );
    let fip_port = ports[0]["id"].as_str().expect("id").to_string();

    // Association through the router.
    let a = put_fip(c, &alice, &id, json!({"port_id": vm})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let body = &a.body["floatingip"];
    assert_eq!(body["router_id"], rid.as_str());
    assert_eq!(body["port_id"], vm.as_str());
    assert_eq!(body["fixed_ip_address"], vm_ip.as_str());
    assert_eq!(body["status"], "ACTIVE");
    assert_eq!(body["port_details"]["network_id"], net.as_str());
    assert_eq!(body["port_details"]["name"], "vm");
    assert_eq!(body["revision_number"], 2);

    // One floating IP per fixed IP and external network.
    let second = fip(
        c,
        &alice,
        json!({"floating_network_id": ext, "port_id": vm}),
    )
    .await;
    assert_eq!(
        (second.status, second.kind()),
        (StatusCode::CONFLICT, "FloatingIPPortAlreadyAssociated")
    );
    // The router's interface and gateway are needed while it is associated.
    let rm = interface(c, &alice, &rid, "remove", json!({"subnet_id": sub})).await;
    assert_eq!(
        (rm.status, rm.kind()),
        (StatusCode::CONFLICT, "RouterInterfaceInUseByFloatingIP")
    );
    let gw = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/routers/{rid}"),
            Some(json!({"router": {"external_gateway_info": null}})),
        )
        .await;
    assert_eq!(
        (gw.status, gw.kind()),
        (
            StatusCode::CONFLICT,
            "RouterExternalGatewayInUseByFloatingIp"
        )
    );
    // The floating IP's port is not deletable through the port API.
    let d = c
        .call(Method::DELETE, &format!("/v2.0/ports/{fip_port}"), None)
        .await;
    assert_eq!(d.status, StatusCode::CONFLICT);

    // Disassociation.
    let d = put_fip(c, &alice, &id, json!({"port_id": null})).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    assert_eq!(d.body["floatingip"]["status"], "DOWN");
    assert_eq!(d.body["floatingip"]["router_id"], Value::Null);
    assert_eq!(d.body["floatingip"]["fixed_ip_address"], Value::Null);
    let bad = put_fip(c, &alice, &id, json!({"fixed_ip_address": vm_ip})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = put_fip(
        c,
        &alice,
        &id,
        json!({"port_id": vm, "fixed_ip_address": "172.16.101.200"}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.message(),
        format!("Bad floatingip request: Port {vm} does not have fixed ip 172.16.101.200.")
    );

    // Created associated; deleting the internal port disassociates it.
    let f2 = fip(
        c,
        &alice,
        json!({"floating_network_id": ext, "port_id": vm, "description": "web"}),
    )
    .await;
    assert_eq!(f2.status, StatusCode::CREATED, "{}", f2.body);
    assert_eq!(f2.body["floatingip"]["status"], "ACTIVE");
    let id2 = f2.body["floatingip"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let d = c
        .call_as(&alice, Method::DELETE, &format!("/v2.0/ports/{vm}"), None)
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let g = c
        .call_as(
            &alice,
            Method::GET,
            &format!("/v2.0/floatingips/{id2}"),
            None,
        )
        .await;
    assert_eq!(g.body["floatingip"]["port_id"], Value::Null);
    assert_eq!(g.body["floatingip"]["status"], "DOWN");

    // Lists, filters and tags.
    let l = c
        .call_as(
            &alice,
            Method::GET,
            "/v2.0/floatingips?description=web",
            None,
        )
        .await;
    assert_eq!(l.body["floatingips"].as_array().map(Vec::len), Some(1));
    let t = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/floatingips/{id2}/tags/x"),
            None,
        )
        .await;
    assert!(t.status.is_success(), "{}", t.body);

    // Deletion frees the address and its port.
    let d = c
        .call_as(
            &alice,
            Method::DELETE,
            &format!("/v2.0/floatingips/{id}"),
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.body);
    assert_eq!(
        c.get(&format!("/v2.0/ports/{fip_port}")).await.status,
        StatusCode::NOT_FOUND
    );
    let g = c
        .call_as(
            &alice,
            Method::GET,
            &format!("/v2.0/floatingips/{id}"),
            None,
        )
        .await;
    assert_eq!(
        (g.status, g.kind()),
        (StatusCode::NOT_FOUND, "FloatingIPNotFound")
    );
    let again = fip(c, &alice, json!({"floating_network_id": ext})).await;
    assert_eq!(
        again.body["floatingip"]["floating_ip_address"],
        "10.10.10.3"
    );
}

#[tokio::test]
async fn reachability_validation_policy_and_quota() {
    let c = Cloud::start().await;
    let (project, alice) = c.member("alice").await;
    let (_, bob) = c.member("bob").await;
    let admin = c.admin.clone();
    let (ext, ext_subnet) = external(&c, "10.30.0.0/24").await;
    let (net, sub) = project_net(&c, &alice, "192.168.5.0/24").await;
    let (vm, _) = port(&c, &alice, &net).await;

    // No router joins the port's subnet to the external network.
    let f = fip(
        &c,
        &alice,
        json!({"floating_network_id": ext, "port_id": vm}),
    )
    .await;
    assert_eq!(
        (f.status, f.kind()),
        (
            StatusCode::NOT_FOUND,
            "ExternalGatewayForFloatingIPNotFound"
        )
    );
    assert_eq!(
        f.message(),
        format!("External network {ext} is not reachable from subnet {sub}.  Therefore, cannot associate Port {vm} with a Floating IP.")
    );
    // A router without a gateway is not enough either.
    let r = router(&c, &alice, json!({})).await;
    let rid = r.body["router"]["id"].as_str().expect("id").to_string();
    interface(&c, &alice, &rid, "add", json!({"subnet_id": sub})).await;
    let f = fip(
        &c,
        &alice,
        json!({"floating_network_id": ext, "port_id": vm}),
    )
    .await;
    assert_eq!(f.status, StatusCode::NOT_FOUND);
    let up = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/routers/{rid}"),
            Some(json!({"router": {"external_gateway_info": {"network_id": ext}}})),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    let f = fip(
        &c,
        &alice,
        json!({"floating_network_id": ext, "port_id": vm}),
    )
    .await;
    assert_eq!(f.status, StatusCode::CREATED, "{}", f.body);
    let id = f.body["floatingip"]["id"].as_str().expect("id").to_string();

    // Not an external network; missing network; bad addresses.
    let r = fip(&c, &alice, json!({"floating_network_id": net})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.message(),
        format!("Bad floatingip request: Network {net} is not a valid external network.")
    );
    for body in [
        json!({}),
        json!({"floating_network_id": "x"}),
        json!({"floating_network_id": ext, "fixed_ip_address": "1.2.3.4"}),
        json!({"floating_network_id": ext, "floating_ip_address": "nope"}),
        json!({"floating_network_id": ext, "status": "ACTIVE"}),
    ] {
        let r = fip(&c, &alice, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
    }
    let r = fip(
        &c,
        &alice,
        json!({"floating_network_id": "9a0b6e5c-4a53-4c48-8d53-2bbf0a6e1d2e"}),
    )
    .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::NOT_FOUND, "NetworkNotFound")
    );

    // A chosen address is admin-only, and taken once.
    let r = fip(
        &c,
        &alice,
        json!({"floating_network_id": ext, "floating_ip_address": "10.30.0.50"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = fip(&c, &admin, json!({"floating_network_id": ext, "floating_ip_address": "10.30.0.50", "subnet_id": ext_subnet, "project_id": project})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["floatingip"]["floating_ip_address"], "10.30.0.50");
    let r = fip(
        &c,
        &admin,
        json!({"floating_network_id": ext, "floating_ip_address": "10.30.0.50"}),
    )
    .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "IpAddressInUse")
    );

    // Another project's member: nothing to see, nothing to change, no port of Alice's.
    for (m, body) in [
        (Method::GET, None),
        (Method::PUT, Some(json!({"floatingip": {"port_id": null}}))),
        (Method::DELETE, None),
    ] {
        let r = c
            .call_as(&bob, m, &format!("/v2.0/floatingips/{id}"), body)
            .await;
        assert_eq!(
            (r.status, r.kind()),
            (StatusCode::NOT_FOUND, "FloatingIPNotFound")
        );
    }
    let l = c
        .call_as(&bob, Method::GET, "/v2.0/floatingips", None)
        .await;
    assert_eq!(l.body["floatingips"], json!([]));
    let r = fip(&c, &bob, json!({"floating_network_id": ext, "port_id": vm})).await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::NOT_FOUND, "PortNotFound")
    );

    // The floatingip quota.
    let q = c
        .call(
            Method::PUT,
            &format!("/v2.0/quotas/{project}"),
            Some(json!({"quota": {"floatingip": 2}})),
        )
        .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    let r = fip(&c, &alice, json!({"floating_network_id": ext})).await;
    assert_eq!((r.status, r.kind()), (StatusCode::CONFLICT, "OverQuota"));
    let d = c.get(&format!("/v2.0/quotas/{project}/details")).await;
    assert_eq!(d.body["quota"]["floatingip"]["used"], 2, "{}", d.body);
    // check_limit (sent by the openstack CLI): a limit below what is used is refused.
    let url = format!("/v2.0/quotas/{project}");
    let below = c.call(Method::PUT, &url, Some(json!({"quota": {"floatingip": 1, "check_limit": true}}))).await;
    assert_eq!(below.status, StatusCode::BAD_REQUEST, "{}", below.body);
    let at = c.call(Method::PUT, &url, Some(json!({"quota": {"floatingip": 2, "check_limit": true}}))).await;
    assert_eq!(at.status, StatusCode::OK, "{}", at.body);
    let unchecked = c.call(Method::PUT, &url, Some(json!({"quota": {"floatingip": 1, "check_limit": false}}))).await;
    assert_eq!(unchecked.status, StatusCode::OK, "{}", unchecked.body);
    assert_eq!(d.body["quota"]["router"]["used"], 1, "{}", d.body);
}

/// `writers` floating IPs asked for at once on an external /27 (29 addresses): distinct
/// addresses for as many as fit, a clean 409 for the rest, and interfaces of overlapping
/// subnets added at once to one router: exactly one wins.
async fn race(c: &Cloud, writers: usize) {
    let (ext, _) = external(c, "10.40.0.0/27").await;
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let router = c.router.clone();
            let req = crate::request(
                &c.admin,
                Method::POST,
                "/v2.0/floatingips",
                Some(json!({"floatingip": {"floating_network_id": ext}})),
                &[],
            );
            tokio::spawn(async move { crate::send(&router, req).await })
        })
        .collect();
    let mut addresses = std::collections::HashSet::new();
    let mut exhausted = 0;
    for t in tasks {
        let r = t.await.expect("task");
        match r.status {
            StatusCode::CREATED => {
                let ip = r.body["floatingip"]["floating_ip_address"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                assert!(addresses.insert(ip.clone()), "{ip} handed out twice");
            }
            StatusCode::CONFLICT => {
                assert_eq!(r.kind(), "IpAddressGenerationFailure", "{}", r.body);
                exhausted += 1;
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(addresses.len(), 29.min(writers));
    assert_eq!(exhausted, writers.saturating_sub(29));

    let admin = c.admin.clone();
    let r = router(c, &admin, json!({})).await;
    let rid = r.body["router"]["id"].as_str().expect("id").to_string();
    let mut subnets = Vec::new();
    for _ in 0..6 {
        subnets.push(project_net(c, &admin, "192.168.50.0/24").await.1);
    }
    let tasks: Vec<_> = subnets
        .iter()
        .map(|s| {
            let router = c.router.clone();
            let req = crate::request(
                &admin,
                Method::PUT,
                &format!("/v2.0/routers/{rid}/add_router_interface"),
                Some(json!({ "subnet_id": s })),
                &[],
            );
            tokio::spawn(async move { crate::send(&router, req).await })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        let r = t.await.expect("task");
        match r.status {
            StatusCode::OK => won += 1,
            StatusCode::BAD_REQUEST => assert!(r.message().contains("overlaps"), "{}", r.body),
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(won, 1);
}

#[tokio::test]
async fn concurrent_floating_ips_and_interfaces() {
    let c = Cloud::start().await;
    race(&c, 40).await;
    for url in crate::servers() {
        let c = Cloud::start_with(Some(url), |_| {}).await;
        race(&c, 40).await;
    }
}
