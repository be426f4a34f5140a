//! Servers on networks, end to end with the networking service: ports created and bound by the
//! compute agent, addresses in the server, ports becoming ACTIVE when the fake driver (as the
//! L2 agent) plugs them and `network-vif-plugged` reaching compute, ports released on delete,
//! interfaces attached and detached, security groups added and removed, ports moving with the
//! server.

use crate::support::{Cloud, VERSION};
use http::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

/// Boots `extra` merged into a tiny server at `version` as `token`; answers the response.
async fn boot_at(
    cloud: &Cloud,
    token: &str,
    version: &str,
    name: &str,
    extra: Value,
) -> crate::support::Resp {
    let mut server = json!({"name": name, "imageRef": cloud.image_id, "flavorRef": "1"});
    if let (Some(s), Some(e)) = (server.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            s.insert(k.clone(), v.clone());
        }
    }
    cloud
        .call_at(
            version,
            token,
            Method::POST,
            "/v2.1/servers",
            Some(json!({ "server": server })),
        )
        .await
}

async fn boot_ok(cloud: &Cloud, token: &str, name: &str, extra: Value) -> String {
    let r = boot_at(cloud, token, VERSION, name, extra).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "boot {name}: {}", r.body);
    let id = r.body["server"]["id"].as_str().expect("id").to_string();
    wait_active(cloud, token, &id).await
}

async fn wait_active(cloud: &Cloud, token: &str, id: &str) -> String {
    let mut last = Value::Null;
    for _ in 0..500 {
        let r = cloud
            .call_as(token, Method::GET, &format!("/v2.1/servers/{id}"), None)
            .await;
        last = r.body["server"].clone();
        if last["status"] == "ACTIVE" && last["OS-EXT-STS:task_state"].is_null() {
            return id.to_string();
        }
        if last["status"] == "ERROR" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("server {id} never became ACTIVE: {last}");
}

async fn show(cloud: &Cloud, token: &str, id: &str) -> Value {
    let r = cloud
        .call_as(token, Method::GET, &format!("/v2.1/servers/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["server"].clone()
}

/// Polls until `check` holds for the server's ports (5 s at most).
async fn wait_ports(
    cloud: &Cloud,
    server: &str,
    what: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let mut ports = Vec::new();
    for _ in 0..250 {
        ports = cloud.ports_of(server).await;
        if check(&ports) {
            return ports;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("ports of {server} never {what}: {ports:?}");
}

async fn delete_and_wait(cloud: &Cloud, token: &str, id: &str) {
    let r = cloud
        .call_as(token, Method::DELETE, &format!("/v2.1/servers/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    cloud.wait_gone(id).await;
}

#[tokio::test]
async fn boot_on_a_network_binds_a_port_shows_addresses_and_delete_releases_it() {
    let cloud = Cloud::start(2).await;
    let (_, project, t) = cloud.identity.member(&cloud.admin, "nina").await;
    let (net, subnet) = cloud
        .network_with_subnet(&t, "private", "10.0.0.0/24")
        .await;
    let id = boot_ok(&cloud, &t, "web", json!({"networks": [{"uuid": net}]})).await;
    let server = show(&cloud, &t, &id).await;
    // The host is for admins to see.
    let host = cloud.server(&id).await["OS-EXT-SRV-ATTR:host"].as_str().map(str::to_string);
    assert!(host.is_some());
    let addresses = &server["addresses"]["private"];
    assert_eq!(addresses.as_array().map(Vec::len), Some(1), "{server}");
    let ip = addresses[0]["addr"].as_str().expect("addr").to_string();
    assert!(ip.starts_with("10.0.0."), "{ip}");
    assert_eq!(addresses[0]["version"], 4);
    assert_eq!(addresses[0]["OS-EXT-IPS:type"], "fixed");
    assert!(addresses[0]["OS-EXT-IPS-MAC:mac_addr"]
        .as_str()
        .is_some_and(|m| m.starts_with("fa:16:3e:")));
    assert_eq!(server["security_groups"], json!([{"name": "default"}]));
    let ips = cloud
        .call_as(&t, Method::GET, &format!("/v2.1/servers/{id}/ips"), None)
        .await;
    assert_eq!(ips.body["addresses"]["private"][0]["addr"], ip.as_str());

    // The port: the server's, on its host, in the project, ACTIVE once "plugged".
    let ports = wait_ports(&cloud, &id, "became ACTIVE", |p| {
        p.len() == 1 && p[0]["status"] == "ACTIVE"
    })
    .await;
    let port = &ports[0];
    assert_eq!(port["device_owner"], "compute:nova");
    assert_eq!(port["project_id"], project.as_str());
    assert_eq!(port["fixed_ips"][0]["subnet_id"], subnet.as_str());
    assert_eq!(
        port["binding:host_id"].as_str().map(str::to_string),
        host,
        "bound to the server's host"
    );
    assert_eq!(port["binding:vif_type"], "bridge");
    let port_id = port["id"].as_str().expect("port id").to_string();

    // network-vif-plugged went from the network service to compute, which accepted it.
    let mut plugged = None;
    for _ in 0..250 {
        plugged = cloud
            .external_events
            .lock()
            .iter()
            .find(|(body, _)| {
                body["events"].as_array().into_iter().flatten().any(|e| {
                    e["name"] == "network-vif-plugged"
                        && e["server_uuid"] == id.as_str()
                        && e["tag"] == port_id.as_str()
                })
            })
            .cloned();
        if plugged.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (body, status) = plugged.expect("network-vif-plugged reached compute");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events"][0]["status"], "completed");

    // Delete: the port compute created goes, and the network service tells compute.
    delete_and_wait(&cloud, &t, &id).await;
    assert!(cloud.ports_of(&id).await.is_empty(), "ports left behind");
    let (status, _) = cloud
        .net(
            &cloud.admin,
            Method::GET,
            &format!("/v2.0/ports/{port_id}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_port_passed_by_the_user_is_taken_then_given_back() {
    let cloud = Cloud::start(1).await;
    let (_, _, t) = cloud.identity.member(&cloud.admin, "pia").await;
    let (net, _) = cloud
        .network_with_subnet(&t, "lan", "192.168.10.0/24")
        .await;
    let (s, p) = cloud
        .net(
            &t,
            Method::POST,
            "/v2.0/ports",
            Some(json!({"port": {"network_id": net, "name": "mine"}})),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let port_id = p["port"]["id"].as_str().expect("port").to_string();
    let address = p["port"]["fixed_ips"][0]["ip_address"]
        .as_str()
        .expect("ip")
        .to_string();
    let id = boot_ok(&cloud, &t, "p1", json!({"networks": [{"port": port_id}]})).await;
    let server = show(&cloud, &t, &id).await;
    assert_eq!(server["addresses"]["lan"][0]["addr"], address.as_str());
    let ports = cloud.ports_of(&id).await;
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0]["id"], port_id.as_str());
    assert_eq!(ports[0]["device_owner"], "compute:nova");
    assert_eq!(ports[0]["binding:host_id"], "cn-1");

    // Now in use: another server cannot have it.
    let r = boot_at(
        &cloud,
        &t,
        VERSION,
        "p2",
        json!({"networks": [{"port": port_id}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(
        r.body["conflictingRequest"]["message"],
        format!("Port {port_id} is still in use.")
    );

    delete_and_wait(&cloud, &t, &id).await;
    let (s, p) = cloud
        .net(
            &cloud.admin,
            Method::GET,
            &format!("/v2.0/ports/{port_id}"),
            None,
        )
        .await;
    assert_eq!(s, 200, "the user's port survives the server");
    assert_eq!(p["port"]["device_id"], "");
    assert_eq!(p["port"]["device_owner"], "");
    assert_eq!(p["port"]["binding:host_id"], "");
    assert_eq!(p["port"]["status"], "DOWN");
}

#[tokio::test]
async fn fixed_ips_auto_none_and_refusals() {
    let cloud = Cloud::start(1).await;
    let (_, project, t) = cloud.identity.member(&cloud.admin, "fay").await;
    let missing = uuid::Uuid::new_v4().to_string();
    // Nothing to auto-allocate from: Nova's message, as before.
    let r = boot_at(&cloud, &t, VERSION, "a0", json!({"networks": "auto"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body["badRequest"]["message"],
        format!("Unable to automatically allocate a network for project {project}")
    );
    let r = boot_at(
        &cloud,
        &t,
        VERSION,
        "m",
        json!({"networks": [{"uuid": missing}]}),
    )
    .await;
    assert_eq!(
        r.body["badRequest"]["message"],
        format!("Network {missing} could not be found.")
    );
    let r = boot_at(
        &cloud,
        &t,
        VERSION,
        "m",
        json!({"networks": [{"port": missing}]}),
    )
    .await;
    assert_eq!(
        r.body["badRequest"]["message"],
        format!("Port id {missing} could not be found.")
    );

    let (net, _) = cloud.network_with_subnet(&t, "only", "10.1.0.0/24").await;
    // A fixed IP.
    let id = boot_ok(
        &cloud,
        &t,
        "fixed",
        json!({"networks": [{"uuid": net, "fixed_ip": "10.1.0.50"}]}),
    )
    .await;
    assert_eq!(
        show(&cloud, &t, &id).await["addresses"]["only"][0]["addr"],
        "10.1.0.50"
    );
    let r = boot_at(
        &cloud,
        &t,
        VERSION,
        "fixed2",
        json!({"networks": [{"uuid": net, "fixed_ip": "10.1.0.50"}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body["badRequest"]["message"],
        format!("Fixed IP address 10.1.0.50 is already in use on instance {id}.")
    );
    // "auto" with exactly one network available takes it; so does no `networks` before 2.37.
    let auto = boot_ok(&cloud, &t, "auto", json!({"networks": "auto"})).await;
    assert!(
        show(&cloud, &t, &auto).await["addresses"]["only"][0]["addr"]
            .as_str()
            .is_some_and(|a| a.starts_with("10.1.0."))
    );
    let r = boot_at(&cloud, &t, "2.36", "legacy", json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let legacy = wait_active(&cloud, &t, r.body["server"]["id"].as_str().expect("id")).await;
    assert_eq!(cloud.ports_of(&legacy).await.len(), 1);
    // "none": no port at all.
    let none = boot_ok(&cloud, &t, "none", json!({"networks": "none"})).await;
    assert_eq!(show(&cloud, &t, &none).await["addresses"], json!({}));
    assert!(cloud.ports_of(&none).await.is_empty());
    // Two networks: "auto" is ambiguous.
    cloud.network_with_subnet(&t, "second", "10.2.0.0/24").await;
    let r = boot_at(&cloud, &t, VERSION, "amb", json!({"networks": "auto"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(
        r.body["conflictingRequest"]["message"],
        "Multiple possible networks found, use a Network ID to be more specific."
    );
    // A network without subnet cannot take servers.
    let (_, bare) = cloud
        .net(
            &t,
            Method::POST,
            "/v2.0/networks",
            Some(json!({"network": {"name": "bare"}})),
        )
        .await;
    let bare = bare["network"]["id"].as_str().expect("id").to_string();
    let r = boot_at(
        &cloud,
        &t,
        VERSION,
        "bare",
        json!({"networks": [{"uuid": bare}]}),
    )
    .await;
    assert_eq!(
        r.body["badRequest"]["message"],
        format!("Network {bare} requires a subnet in order to boot instances on.")
    );
    for id in [&id, &auto, &legacy, &none] {
        delete_and_wait(&cloud, &t, id).await;
    }
    let (_, left) = cloud
        .net(
            &t,
            Method::GET,
            "/v2.0/ports?device_owner=compute:nova",
            None,
        )
        .await;
    assert_eq!(left["ports"], json!([]), "every server port released");
}

#[tokio::test]
async fn interfaces_attach_and_detach() {
    let cloud = Cloud::start(1).await;
    let (_, _, t) = cloud.identity.member(&cloud.admin, "ida").await;
    let (a, _) = cloud.network_with_subnet(&t, "net-a", "10.10.0.0/24").await;
    let (b, _) = cloud.network_with_subnet(&t, "net-b", "10.20.0.0/24").await;
    let id = boot_ok(&cloud, &t, "multi", json!({"networks": [{"uuid": a}]})).await;
    let base = format!("/v2.1/servers/{id}/os-interface");
    let r = cloud.call_as(&t, Method::GET, &base, None).await;
    assert_eq!(
        r.body["interfaceAttachments"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.body
    );
    assert_eq!(r.body["interfaceAttachments"][0]["net_id"], a.as_str());

    let body =
        json!({"interfaceAttachment": {"net_id": b, "fixed_ips": [{"ip_address": "10.20.0.7"}]}});
    let r = cloud.call_as(&t, Method::POST, &base, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let attached = r.body["interfaceAttachment"].clone();
    assert_eq!(attached["net_id"], b.as_str());
    assert_eq!(attached["fixed_ips"][0]["ip_address"], "10.20.0.7");
    let new_port = attached["port_id"].as_str().expect("port").to_string();
    let server = show(&cloud, &t, &id).await;
    assert_eq!(
        server["addresses"]["net-b"][0]["addr"], "10.20.0.7",
        "{server}"
    );
    assert_eq!(
        server["addresses"]["net-a"].as_array().map(Vec::len),
        Some(1)
    );
    let r = cloud
        .call_as(&t, Method::GET, &format!("{base}/{new_port}"), None)
        .await;
    assert_eq!(r.body["interfaceAttachment"]["port_id"], new_port.as_str());
    wait_ports(&cloud, &id, "all became ACTIVE", |p| {
        p.len() == 2 && p.iter().all(|p| p["status"] == "ACTIVE")
    })
    .await;
    // Refusals: both a port and a network; a fixed IP without network; an unknown network.
    let r = cloud
        .call_as(
            &t,
            Method::POST,
            &base,
            Some(json!({"interfaceAttachment": {"net_id": b, "port_id": new_port}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let missing = uuid::Uuid::new_v4().to_string();
    let r = cloud
        .call_as(
            &t,
            Method::POST,
            &base,
            Some(json!({"interfaceAttachment": {"net_id": missing}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    let r = cloud
        .call_as(&t, Method::DELETE, &format!("{base}/{new_port}"), None)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let r = cloud.call_as(&t, Method::GET, &base, None).await;
    assert_eq!(
        r.body["interfaceAttachments"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(show(&cloud, &t, &id).await["addresses"]
        .get("net-b")
        .is_none());
    let (s, _) = cloud
        .net(
            &cloud.admin,
            Method::GET,
            &format!("/v2.0/ports/{new_port}"),
            None,
        )
        .await;
    assert_eq!(s, 404, "the port compute created is deleted on detach");
    let r = cloud
        .call_as(&t, Method::DELETE, &format!("{base}/{new_port}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    delete_and_wait(&cloud, &t, &id).await;
}

#[tokio::test]
async fn security_groups_on_servers() {
    let cloud = Cloud::start(1).await;
    let (_, _, t) = cloud.identity.member(&cloud.admin, "sia").await;
    let (net, _) = cloud
        .network_with_subnet(&t, "sg-net", "10.30.0.0/24")
        .await;
    let (s, g) = cloud
        .net(
            &t,
            Method::POST,
            "/v2.0/security-groups",
            Some(json!({"security_group": {"name": "web"}})),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    let web = g["security_group"]["id"].as_str().expect("id").to_string();
    let r = boot_at(
        &cloud,
        &t,
        VERSION,
        "x",
        json!({"networks": [{"uuid": net}], "security_groups": [{"name": "nope"}]}),
    )
    .await;
    assert_eq!(
        r.body["badRequest"]["message"],
        "Security group nope not found."
    );
    let id = boot_ok(
        &cloud,
        &t,
        "sg",
        json!({"networks": [{"uuid": net}], "security_groups": [{"name": "web"}]}),
    )
    .await;
    let ports = cloud.ports_of(&id).await;
    assert_eq!(ports[0]["security_groups"], json!([web]));
    assert_eq!(
        show(&cloud, &t, &id).await["security_groups"],
        json!([{"name": "web"}])
    );

    cloud
        .action(&id, json!({"addSecurityGroup": {"name": "default"}}))
        .await;
    let groups = cloud.ports_of(&id).await[0]["security_groups"]
        .as_array()
        .map(Vec::len);
    assert_eq!(groups, Some(2));
    let names: Vec<Value> = show(&cloud, &t, &id).await["security_groups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(names.len(), 2, "{names:?}");
    let r = cloud
        .call_as(
            &t,
            Method::GET,
            &format!("/v2.1/servers/{id}/os-security-groups"),
            None,
        )
        .await;
    assert_eq!(
        r.body["security_groups"].as_array().map(Vec::len),
        Some(2),
        "{}",
        r.body
    );

    cloud
        .action(&id, json!({"removeSecurityGroup": {"name": "web"}}))
        .await;
    assert_eq!(
        cloud.ports_of(&id).await[0]["security_groups"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        show(&cloud, &t, &id).await["security_groups"],
        json!([{"name": "default"}])
    );
    let r = cloud
        .call_as(
            &t,
            Method::POST,
            &format!("/v2.1/servers/{id}/action"),
            Some(json!({"removeSecurityGroup": {"name": "web"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = cloud
        .call_as(
            &t,
            Method::POST,
            &format!("/v2.1/servers/{id}/action"),
            Some(json!({"addSecurityGroup": {"name": "ghost"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    delete_and_wait(&cloud, &t, &id).await;
}

#[tokio::test]
async fn ports_follow_a_migrated_server() {
    let cloud = Cloud::start(2).await;
    let (net, _) = cloud
        .network_with_subnet(&cloud.admin, "mig-net", "10.40.0.0/24")
        .await;
    let id = boot_ok(
        &cloud,
        &cloud.admin,
        "mover",
        json!({"networks": [{"uuid": net}]}),
    )
    .await;
    let before = show(&cloud, &cloud.admin, &id).await["OS-EXT-SRV-ATTR:host"]
        .as_str()
        .expect("host")
        .to_string();
    cloud.action(&id, json!({"migrate": null})).await;
    cloud.wait_status(&id, "VERIFY_RESIZE").await;
    cloud.action(&id, json!({"confirmResize": null})).await;
    let server = cloud.wait_status(&id, "ACTIVE").await;
    let after = server["OS-EXT-SRV-ATTR:host"]
        .as_str()
        .expect("host")
        .to_string();
    assert_ne!(before, after);
    let ports = cloud.ports_of(&id).await;
    assert_eq!(
        ports[0]["binding:host_id"],
        after.as_str(),
        "the port is bound where the server runs"
    );
    assert!(server["addresses"]["mig-net"][0]["addr"].as_str().is_some());
    delete_and_wait(&cloud, &cloud.admin, &id).await;
}

#[tokio::test]
async fn deleting_an_offloaded_server_releases_its_ports() {
    // Offloaded, the server has no host to cast to: the API deletes it itself (Nova's
    // _local_delete) and must release its ports, as deallocate_for_instance does.
    let cloud = Cloud::start(1).await;
    let (_, _, t) = cloud.identity.member(&cloud.admin, "olga").await;
    let (net, _) = cloud.network_with_subnet(&t, "private", "10.2.0.0/24").await;
    let id = boot_ok(&cloud, &t, "shelf", json!({"networks": [{"uuid": net}]})).await;
    wait_ports(&cloud, &id, "became ACTIVE", |p| p.len() == 1 && p[0]["status"] == "ACTIVE").await;
    let r = cloud.call_as(&t, Method::POST, &format!("/v2.1/servers/{id}/action"), Some(json!({"shelve": null}))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    cloud.wait_status(&id, "SHELVED_OFFLOADED").await;
    assert_eq!(cloud.ports_of(&id).await.len(), 1, "an offloaded server keeps its ports");
    delete_and_wait(&cloud, &t, &id).await;
    wait_ports(&cloud, &id, "were released", <[Value]>::is_empty).await;
}
