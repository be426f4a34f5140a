//! Ports: MACs, fixed IPs (in order, requested, concurrent), binding, policy, port security,
//! updates, and the in-use rules of networks and subnets.

use crate::subnets::{network, subnet};
use crate::{request, send, servers, Cloud};
use http::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashSet;

async fn port(c: &Cloud, token: &str, body: Value) -> crate::Resp {
    c.call_as(
        token,
        Method::POST,
        "/v2.0/ports",
        Some(json!({ "port": body })),
    )
    .await
}

fn ips(r: &crate::Resp) -> Vec<String> {
    r.body["port"]["fixed_ips"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["ip_address"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn net_with_subnet(c: &Cloud, token: &str, cidr: &str) -> (String, String) {
    let net = network(c, token, json!({})).await;
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

#[tokio::test]
async fn addresses_in_order_macs_binding_and_views() {
    let c = Cloud::start().await;
    let (project, alice) = c.member("alice").await;
    let (net, sub) = net_with_subnet(&c, &alice, "10.0.0.0/24").await;
    let r = port(&c, &alice, json!({"network_id": net, "name": "p1", "device_id": "vm-1", "device_owner": "compute:nova"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let p = &r.body["port"];
    assert_eq!(p["status"], "DOWN");
    assert_eq!(p["project_id"], project.as_str());
    assert!(
        p["mac_address"]
            .as_str()
            .is_some_and(|m| m.starts_with("fa:16:3e:") && m.len() == 17),
        "{p}"
    );
    assert_eq!(
        p["fixed_ips"],
        json!([{"subnet_id": sub, "ip_address": "10.0.0.2"}])
    );
    assert_eq!(p["port_security_enabled"], true);
    let default_sg = c
        .call_as(
            &alice,
            Method::GET,
            "/v2.0/security-groups?name=default",
            None,
        )
        .await
        .body["security_groups"][0]["id"]
        .clone();
    assert_eq!(
        p["security_groups"],
        json!([default_sg]),
        "the project's default group"
    );
    assert_eq!(p["allowed_address_pairs"], json!([]));
    assert_eq!(p["dns_assignment"][0]["hostname"], "host-10-0-0-2");
    assert!(
        p.get("binding:host_id").is_none(),
        "members do not see binding details: {p}"
    );
    let p1 = p["id"].as_str().expect("id").to_string();
    let admin_view = c.get(&format!("/v2.0/ports/{p1}")).await;
    assert_eq!(admin_view.body["port"]["binding:vif_type"], "unbound");
    assert_eq!(admin_view.body["port"]["binding:vnic_type"], "normal");
    assert_eq!(admin_view.body["port"]["binding:profile"], json!({}));
    assert_eq!(admin_view.body["port"]["binding:host_id"], "");

    let r2 = port(&c, &alice, json!({"network_id": net})).await;
    assert_eq!(ips(&r2), vec!["10.0.0.3"]);
    assert_ne!(
        r2.body["port"]["mac_address"],
        r.body["port"]["mac_address"]
    );
    assert_eq!(
        c.call_as(&alice, Method::DELETE, &format!("/v2.0/ports/{p1}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        ips(&port(&c, &alice, json!({"network_id": net})).await),
        vec!["10.0.0.2"],
        "a freed address is the first free one again"
    );

    // Requested addresses.
    let r = port(
        &c,
        &alice,
        json!({"network_id": net, "fixed_ips": [{"ip_address": "10.0.0.50"}]}),
    )
    .await;
    assert_eq!(
        r.body["port"]["fixed_ips"],
        json!([{"subnet_id": sub, "ip_address": "10.0.0.50"}]),
        "{}",
        r.body
    );
    let r = port(
        &c,
        &alice,
        json!({"network_id": net, "fixed_ips": [{"subnet_id": sub, "ip_address": "10.0.0.50"}]}),
    )
    .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "IpAddressInUse")
    );
    assert_eq!(
        r.message(),
        format!(
            "Unable to complete operation for network {net}. The IP address 10.0.0.50 is in use."
        )
    );
    let r = port(
        &c,
        &alice,
        json!({"network_id": net, "fixed_ips": [{"subnet_id": sub, "ip_address": "10.0.1.5"}]}),
    )
    .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::BAD_REQUEST, "InvalidIpForSubnet")
    );
    let r = port(
        &c,
        &alice,
        json!({"network_id": net, "fixed_ips": [{"subnet_id": sub, "ip_address": "10.0.0.255"}]}),
    )
    .await;
    assert_eq!(r.kind(), "InvalidIpForSubnet", "the broadcast address");
    let r = port(
        &c,
        &alice,
        json!({"network_id": net, "fixed_ips": [{"ip_address": "192.168.9.9"}]}),
    )
    .await;
    assert_eq!(r.kind(), "InvalidIpForNetwork");
    let r = port(&c, &alice, json!({"network_id": net, "fixed_ips": [{"subnet_id": "11111111-2222-3333-4444-555555555555"}]})).await;
    assert_eq!(r.kind(), "InvalidInput");
    let r = port(&c, &alice, json!({"network_id": net, "fixed_ips": []})).await;
    assert_eq!(r.body["port"]["fixed_ips"], json!([]));

    // MACs.
    let r = port(
        &c,
        &alice,
        json!({"network_id": net, "mac_address": "FA:16:3E:AA:BB:CC"}),
    )
    .await;
    assert_eq!(r.body["port"]["mac_address"], "fa:16:3e:aa:bb:cc");
    let r = port(
        &c,
        &alice,
        json!({"network_id": net, "mac_address": "fa:16:3e:aa:bb:cc"}),
    )
    .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "MacAddressInUse")
    );
    let r = port(
        &c,
        &alice,
        json!({"network_id": net, "mac_address": "zz:16:3e:aa:bb:cc"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Binding: admins and services only; a bound port gets the linuxbridge VIF.
    let r = port(
        &c,
        &alice,
        json!({"network_id": net, "binding:host_id": "compute-1"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = port(
        &c,
        &c.admin.clone(),
        json!({"network_id": net, "binding:host_id": "compute-1", "binding:profile": {"a": 1}}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "binding:profile is for the service role"
    );
    let r = port(
        &c,
        &c.admin.clone(),
        json!({"network_id": net, "binding:host_id": "compute-1", "device_owner": "compute:nova"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["port"]["binding:vif_type"], "bridge");
    assert_eq!(r.body["port"]["binding:vif_details"]["port_filter"], true);
    assert_eq!(
        r.body["port"]["status"], "DOWN",
        "agents take it to BUILD and ACTIVE"
    );
    let bound = r.body["port"]["id"].as_str().expect("id").to_string();
    let r = c
        .call(
            Method::PUT,
            &format!("/v2.0/ports/{bound}"),
            Some(json!({"port": {"binding:host_id": ""}})),
        )
        .await;
    assert_eq!(r.body["port"]["binding:vif_type"], "unbound");
    let p = c.network.clone();
    let r = monostack_network::service::ports::set_status(&p, &bound, "ACTIVE")
        .await
        .expect("status");
    assert_eq!(r.status, "ACTIVE");

    // Filters.
    let r = c
        .call_as(
            &alice,
            Method::GET,
            "/v2.0/ports?fixed_ips=ip_address%3D10.0.0.50",
            None,
        )
        .await;
    assert_eq!(
        r.body["ports"].as_array().expect("list").len(),
        1,
        "{}",
        r.body
    );
    let r = c
        .call_as(&alice, Method::GET, "/v2.0/ports?device_id=vm-1", None)
        .await;
    assert_eq!(
        r.body["ports"].as_array().expect("list").len(),
        0,
        "p1 was deleted"
    );
    let r = c
        .call_as(
            &alice,
            Method::GET,
            &format!("/v2.0/ports?network_id={net}&fields=id&fields=mac_address&limit=3"),
            None,
        )
        .await;
    assert_eq!(r.body["ports"].as_array().expect("list").len(), 3);
    assert_eq!(r.body["ports_links"][0]["rel"], "next");
}

#[tokio::test]
async fn policy_on_shared_networks_and_other_projects() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let (_, bob) = c.member("bob").await;
    let a = c.admin.clone();
    let (shared, sub) = {
        let net = network(&c, &a, json!({"shared": true})).await;
        let r = subnet(
            &c,
            &a,
            json!({"network_id": net, "ip_version": 4, "cidr": "10.10.0.0/24"}),
        )
        .await;
        (
            net,
            r.body["subnet"]["id"].as_str().expect("id").to_string(),
        )
    };
    let r = port(&c, &bob, json!({"network_id": shared})).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "anyone may plug into a shared network: {}",
        r.body
    );
    let bobs = r.body["port"]["id"].as_str().expect("id").to_string();
    let r = port(
        &c,
        &bob,
        json!({"network_id": shared, "fixed_ips": [{"subnet_id": sub}]}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "choosing the subnet of a shared network is allowed"
    );
    let r = port(
        &c,
        &bob,
        json!({"network_id": shared, "fixed_ips": [{"ip_address": "10.10.0.99"}]}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "choosing the address is for the network's owner"
    );
    assert!(
        r.message()
            .contains("rule:create_port:fixed_ips:ip_address"),
        "{}",
        r.message()
    );
    let r = port(
        &c,
        &bob,
        json!({"network_id": shared, "device_owner": "network:dhcp"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = port(
        &c,
        &bob,
        json!({"network_id": shared, "mac_address": "fa:16:3e:00:00:09"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (anet, _) = net_with_subnet(&c, &alice, "10.20.0.0/24").await;
    let r = port(&c, &bob, json!({"network_id": anet})).await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::NOT_FOUND, "NetworkNotFound")
    );
    let r = port(&c, &alice, json!({"network_id": anet, "fixed_ips": [{"ip_address": "10.20.0.99"}], "device_owner": "network:dhcp"})).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "the network's owner chooses addresses and owners: {}",
        r.body
    );
    // Bob's port on the shared network: his to see and change, hidden from alice.
    let path = format!("/v2.0/ports/{bobs}");
    assert_eq!(
        c.call_as(&alice, Method::GET, &path, None).await.kind(),
        "PortNotFound"
    );
    assert_eq!(
        c.call_as(
            &bob,
            Method::PUT,
            &path,
            Some(json!({"port": {"name": "mine"}}))
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        c.call_as(&alice, Method::DELETE, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    let r = c.get(&format!("/v2.0/ports?network_id={shared}")).await;
    assert_eq!(r.body["ports"].as_array().expect("list").len(), 2);
    let r = c
        .call_as(
            &a,
            Method::PUT,
            &format!("/v2.0/networks/{shared}"),
            Some(json!({"network": {"shared": false}})),
        )
        .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "InvalidSharedSetting")
    );
}

#[tokio::test]
async fn updates_security_pairs_and_in_use_rules() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let (net, sub) = net_with_subnet(&c, &alice, "10.0.0.0/24").await;
    let r = port(&c, &alice, json!({"network_id": net, "dns_name": "Web1", "extra_dhcp_opts": [{"opt_name": "bootfile-name", "opt_value": "pxelinux.0"}],
        "allowed_address_pairs": [{"ip_address": "10.0.0.200"}, {"ip_address": "10.1.0.0/24", "mac_address": "fa:16:3e:00:00:01"}]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let p = r.body["port"].clone();
    let id = p["id"].as_str().expect("id").to_string();
    assert_eq!(p["dns_name"], "web1");
    assert_eq!(p["dns_assignment"][0]["fqdn"], "web1.openstacklocal.");
    assert_eq!(
        p["extra_dhcp_opts"],
        json!([{"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": 4}])
    );
    assert_eq!(
        p["allowed_address_pairs"][0]["mac_address"], p["mac_address"],
        "a pair's MAC defaults to the port's"
    );
    let path = format!("/v2.0/ports/{id}");
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"port": {"port_security_enabled": false}})),
        )
        .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "PortSecurityPortHasSecurityGroup")
    );
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"port": {"port_security_enabled": false, "security_groups": []}})),
        )
        .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "AddressPairAndPortSecurityRequired")
    );
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"port": {"port_security_enabled": false, "security_groups": [], "allowed_address_pairs": []}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["port"]["port_security_enabled"], false);
    let r = port(&c, &alice, json!({"network_id": net, "port_security_enabled": false, "security_groups": ["11111111-2222-3333-4444-555555555555"]})).await;
    assert_eq!(r.kind(), "PortSecurityAndIPRequiredForSecurityGroups");
    let r = port(&c, &alice, json!({"network_id": net, "allowed_address_pairs": [{"ip_address": "10.0.0.9"}, {"ip_address": "10.0.0.9"}]})).await;
    assert_eq!(r.kind(), "DuplicateAddressPairInRequest");
    let r = port(
        &c,
        &alice,
        json!({"network_id": net, "allowed_address_pairs": [{"mac_address": "fa:16:3e:00:00:01"}]}),
    )
    .await;
    assert_eq!(r.kind(), "AllowedAddressPairsMissingIP");

    // Fixed IPs replaced: a new one taken, the old one freed.
    let rev = c.call_as(&alice, Method::GET, &path, None).await.body["port"]["revision_number"]
        .as_i64()
        .expect("rev");
    let r = c
        .call_with(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"port": {"fixed_ips": [{"subnet_id": sub, "ip_address": "10.0.0.77"}]}})),
            &[("if-match", &format!("revision_number={rev}"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(ips(&r), vec!["10.0.0.77"]);
    assert_eq!(r.body["port"]["revision_number"], rev + 1);
    let r = c
        .call_with(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"port": {"name": "x"}})),
            &[("if-match", &format!("revision_number={rev}"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        ips(&port(&c, &alice, json!({"network_id": net})).await),
        vec!["10.0.0.2"],
        "the old address went back to the pool"
    );
    let r = c.call_as(&alice, Method::PUT, &path, Some(json!({"port": {"fixed_ips": [{"subnet_id": sub, "ip_address": "10.0.0.77"}, {"subnet_id": sub}]}}))).await;
    assert_eq!(
        ips(&r),
        vec!["10.0.0.3", "10.0.0.77"],
        "kept, plus one more from the pool"
    );
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"port": {"status": "ACTIVE"}})),
        )
        .await;
    assert_eq!(r.message(), "Cannot update read-only attribute status");
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"port": {"network_id": net}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // In use: the subnet and network wait for their ports; router ports go through routers.
    let r = c
        .call_as(
            &alice,
            Method::DELETE,
            &format!("/v2.0/subnets/{sub}"),
            None,
        )
        .await;
    assert_eq!((r.status, r.kind()), (StatusCode::CONFLICT, "SubnetInUse"));
    let r = c
        .call_as(
            &alice,
            Method::DELETE,
            &format!("/v2.0/networks/{net}"),
            None,
        )
        .await;
    assert_eq!((r.status, r.kind()), (StatusCode::CONFLICT, "NetworkInUse"));
    assert_eq!(r.message(), format!("Unable to complete operation on network {net}. There are one or more ports still in use on the network."));
    let admin = c.admin.clone();
    let r = port(
        &c,
        &admin,
        json!({"network_id": net, "device_owner": "network:router_interface", "fixed_ips": []}),
    )
    .await;
    let rp = r.body["port"]["id"].as_str().expect("id").to_string();
    let r = c
        .call(Method::DELETE, &format!("/v2.0/ports/{rp}"), None)
        .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "ServicePortInUse")
    );
    let dhcp = port(
        &c,
        &admin,
        json!({"network_id": net, "device_owner": "network:dhcp"}),
    )
    .await;
    assert_eq!(dhcp.status, StatusCode::CREATED);
    for p in c.get(&format!("/v2.0/ports?network_id={net}")).await.body["ports"]
        .as_array()
        .expect("list")
    {
        if p["device_owner"] != "network:dhcp" {
            // Router ports are removed by the router API; here the database is cleaned directly.
            if p["device_owner"] == "network:router_interface" {
                c.call(
                    Method::PUT,
                    &format!("/v2.0/ports/{}", p["id"].as_str().unwrap_or("")),
                    Some(json!({"port": {"device_owner": ""}})),
                )
                .await;
            }
            assert_eq!(
                c.call(
                    Method::DELETE,
                    &format!("/v2.0/ports/{}", p["id"].as_str().unwrap_or("")),
                    None
                )
                .await
                .status,
                StatusCode::NO_CONTENT
            );
        }
    }
    assert_eq!(
        c.call_as(
            &alice,
            Method::DELETE,
            &format!("/v2.0/networks/{net}"),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT,
        "the DHCP port goes with the network"
    );
    assert_eq!(
        c.get(&format!(
            "/v2.0/ports/{}",
            dhcp.body["port"]["id"].as_str().unwrap_or("")
        ))
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn slaac_ports_get_eui64_addresses() {
    let c = Cloud::start().await;
    let a = c.admin.clone();
    let net = network(&c, &a, json!({})).await;
    let v4 = subnet(
        &c,
        &a,
        json!({"network_id": net, "ip_version": 4, "cidr": "10.0.0.0/24"}),
    )
    .await;
    assert_eq!(v4.status, StatusCode::CREATED);
    let v6 = subnet(&c, &a, json!({"network_id": net, "ip_version": 6, "cidr": "2001:db8::/64", "ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"})).await;
    assert_eq!(v6.status, StatusCode::CREATED);
    let r = port(
        &c,
        &a,
        json!({"network_id": net, "mac_address": "fa:16:3e:12:34:56"}),
    )
    .await;
    assert_eq!(ips(&r), vec!["10.0.0.2", "2001:db8::f816:3eff:fe12:3456"]);
    let r = port(
        &c,
        &a,
        json!({"network_id": net, "fixed_ips": [{"ip_address": "2001:db8::5"}]}),
    )
    .await;
    assert_eq!(
        r.kind(),
        "InvalidInput",
        "SLAAC addresses come from the MAC"
    );
}

/// `writers` ports created at once on a fresh network with one subnet of `cidr`: distinct
/// addresses for the first `capacity`, a clean 409 IpAddressGenerationFailure for the rest.
async fn race_for_addresses(c: &Cloud, cidr: &str, capacity: usize, writers: usize) {
    let (net, _) = net_with_subnet(c, &c.admin, cidr).await;
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let router = c.router.clone();
            let req = request(
                &c.admin,
                Method::POST,
                "/v2.0/ports",
                Some(json!({"port": {"network_id": net}})),
                &[],
            );
            tokio::spawn(async move { send(&router, req).await })
        })
        .collect();
    let mut addresses = HashSet::new();
    let mut macs = HashSet::new();
    let mut exhausted = 0;
    for t in tasks {
        let r = t.await.expect("task");
        match r.status {
            StatusCode::CREATED => {
                for ip in ips(&r) {
                    assert!(addresses.insert(ip.clone()), "{ip} handed out twice");
                }
                assert!(macs.insert(
                    r.body["port"]["mac_address"]
                        .as_str()
                        .unwrap_or("")
                        .to_string()
                ));
            }
            StatusCode::CONFLICT if r.kind() == "IpAddressGenerationFailure" => exhausted += 1,
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(addresses.len(), capacity);
    assert_eq!(exhausted, writers - capacity);
    let listed = c.get(&format!("/v2.0/ports?network_id={net}")).await;
    assert_eq!(
        listed.body["ports"].as_array().expect("list").len(),
        capacity
    );
}

#[tokio::test]
async fn two_hundred_concurrent_ports_on_a_slash_24_get_distinct_addresses() {
    let c = Cloud::start().await;
    race_for_addresses(&c, "10.0.0.0/24", 200, 200).await;
    race_for_addresses(&c, "10.1.0.0/27", 29, 45).await;
    for url in servers() {
        let c = Cloud::start_with(Some(url), |_| {}).await;
        race_for_addresses(&c, "10.0.0.0/24", 200, 200).await;
        race_for_addresses(&c, "10.1.0.0/27", 29, 45).await;
    }
}

#[tokio::test]
async fn network_ip_availabilities_count_pools_and_allocations() {
    let c = Cloud::start().await;
    let a = c.admin.clone();
    let (net, sub) = net_with_subnet(&c, &a, "10.0.0.0/24").await;
    for _ in 0..3 {
        assert_eq!(
            port(&c, &a, json!({"network_id": net})).await.status,
            StatusCode::CREATED
        );
    }
    let r = c
        .get(&format!("/v2.0/network-ip-availabilities/{net}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let n = &r.body["network_ip_availability"];
    assert_eq!(
        (n["total_ips"].clone(), n["used_ips"].clone()),
        (json!(253), json!(3))
    );
    assert_eq!(n["subnet_ip_availability"][0]["subnet_id"], sub.as_str());
    let r = c
        .get(&format!("/v2.0/network-ip-availabilities?network_id={net}"))
        .await;
    assert_eq!(
        r.body["network_ip_availabilities"].as_array().map(Vec::len),
        Some(1)
    );
    // ip_version filters subnets: a network without an IPv4 subnet is not listed for 4.
    let bare = c
        .call(Method::POST, "/v2.0/networks", Some(json!({"network": {"name": "bare"}})))
        .await;
    let bare = bare.body["network"]["id"].as_str().unwrap().to_string();
    let ids = |r: &serde_json::Value| -> Vec<String> {
        r["network_ip_availabilities"].as_array().unwrap().iter().map(|n| n["network_id"].as_str().unwrap().to_string()).collect()
    };
    let all = c.get("/v2.0/network-ip-availabilities").await;
    assert!(ids(&all.body).contains(&bare), "{}", all.body);
    let v4 = c.get("/v2.0/network-ip-availabilities?ip_version=4").await;
    assert_eq!(v4.status, StatusCode::OK, "{}", v4.body);
    assert!(!ids(&v4.body).contains(&bare) && ids(&v4.body).contains(&net), "{}", v4.body);
    let v6 = c.get("/v2.0/network-ip-availabilities?ip_version=6").await;
    assert!(!ids(&v6.body).contains(&net), "{}", v6.body);
    assert_eq!(c.get("/v2.0/network-ip-availabilities?ip_version=5").await.status, StatusCode::BAD_REQUEST);

    let (_, alice) = c.member("alice").await;
    assert_eq!(
        c.call_as(&alice, Method::GET, "/v2.0/network-ip-availabilities", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// The availability ranges behind allocation: pools in order, requested addresses split
/// them, freed addresses come back (first free first), outside-pool addresses stay out,
/// a pool change or lost ranges are rebuilt from the allocations.
async fn availability_ranges_on(c: &Cloud) {
    let a = c.admin.clone();
    let net = network(c, &a, json!({})).await;
    let r = subnet(
        c,
        &a,
        json!({"network_id": net, "ip_version": 4, "cidr": "10.2.0.0/28",
               "allocation_pools": [{"start": "10.2.0.9", "end": "10.2.0.11"},
                                    {"start": "10.2.0.2", "end": "10.2.0.5"}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let sub = r.body["subnet"]["id"].as_str().expect("id").to_string();
    let (a, net) = (&a, &net);
    let auto = || async move { port(c, a, json!({"network_id": net})).await };
    let fixed = |ip: &'static str| async move {
        port(c, a, json!({"network_id": net, "fixed_ips": [{"ip_address": ip}]})).await
    };
    let id = |r: &crate::Resp| r.body["port"]["id"].as_str().expect("id").to_string();
    let delete = |pid: String| async move {
        let d = c.call(Method::DELETE, &format!("/v2.0/ports/{pid}"), None).await;
        assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.body);
    };
    let r3 = fixed("10.2.0.3").await;
    assert_eq!(ips(&r3), vec!["10.2.0.3"], "{}", r3.body);
    let outside = fixed("10.2.0.13").await;
    assert_eq!(ips(&outside), vec!["10.2.0.13"], "{}", outside.body);
    let mut got = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..4 {
        let r = auto().await;
        got.extend(ips(&r));
        ports.push(id(&r));
    }
    assert_eq!(got, vec!["10.2.0.2", "10.2.0.4", "10.2.0.5", "10.2.0.9"]);
    assert_eq!(fixed("10.2.0.4").await.kind(), "IpAddressInUse");
    // Freed: back first; outside the pools: never handed out automatically.
    delete(ports[1].clone()).await;
    delete(id(&outside)).await;
    assert_eq!(ips(&auto().await), vec!["10.2.0.4"]);
    // A port moving to a requested address frees the old one.
    let moved = c
        .call(
            Method::PUT,
            &format!("/v2.0/ports/{}", ports[0]),
            Some(json!({"port": {"fixed_ips": [{"ip_address": "10.2.0.11"}]}})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(ips(&auto().await), vec!["10.2.0.2"]);
    assert_eq!(ips(&auto().await), vec!["10.2.0.10"]);
    let full = auto().await;
    assert_eq!(full.status, StatusCode::CONFLICT, "{}", full.body);
    assert_eq!(full.kind(), "IpAddressGenerationFailure");
    // A wider pool: the ranges are rebuilt from the allocations.
    let u = c
        .call(
            Method::PUT,
            &format!("/v2.0/subnets/{sub}"),
            Some(json!({"subnet": {"allocation_pools": [{"start": "10.2.0.2", "end": "10.2.0.14"}]}})),
        )
        .await;
    assert_eq!(u.status, StatusCode::OK, "{}", u.body);
    assert_eq!(ips(&auto().await), vec!["10.2.0.6"]);
    // Ranges lost (a subnet from before them, or a release that missed them): rebuilt.
    let mut tx = monostack_network::db::read(&c.network.db).await.expect("tx");
    let ranges = monostack_network::db::ip_ranges::list(&mut tx, &sub).await.expect("ranges");
    drop(tx);
    let ip = |t: &str| monostack_network::ipam::parse_ip(t).expect("ip").1;
    assert_eq!(
        ranges
            .iter()
            .map(|r| (r.first, r.last))
            .collect::<Vec<_>>(),
        vec![(ip("10.2.0.7"), ip("10.2.0.8")), (ip("10.2.0.12"), ip("10.2.0.14"))]
    );
    monostack_network::db::write(&c.network.db, |tx, _| {
        let sub = sub.clone();
        Box::pin(async move {
            tx.exec("DELETE FROM ipam_availability_ranges WHERE subnet_id = ?", &[monostack_network::db::Bind::Text(&sub)]).await?;
            Ok(())
        })
    })
    .await
    .expect("drop ranges");
    assert_eq!(ips(&auto().await), vec!["10.2.0.7"], "rebuilt once they look exhausted");
    monostack_network::db::write(&c.network.db, |tx, _| {
        let sub = sub.clone();
        Box::pin(async move {
            monostack_network::db::ip_ranges::invalidate(tx, &sub).await
        })
    })
    .await
    .expect("invalidate");
    assert_eq!(ips(&auto().await), vec!["10.2.0.8"], "rebuilt when not current");
    assert_eq!(ips(&auto().await), vec!["10.2.0.12"]);
}

#[tokio::test]
async fn availability_ranges_follow_pools_requests_and_releases() {
    let c = Cloud::start().await;
    availability_ranges_on(&c).await;
    for url in servers() {
        let c = Cloud::start_with(Some(url), |_| {}).await;
        availability_ranges_on(&c).await;
    }
}
