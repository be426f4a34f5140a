//! The compute API's networking with a real networking service: create-time checks of
//! networks, ports and fixed IPs, and the security group and network proxies (gone from 2.36).

use crate::servers::boot;
use crate::support::Cloud;
use http::{Method, StatusCode};
use serde_json::{json, Value};

const MV: &str = "2.60";

fn message(body: &Value) -> String {
    body.as_object().and_then(|o| o.values().next()).and_then(|f| f["message"].as_str()).unwrap_or_default().to_string()
}

async fn network(cloud: &Cloud, token: &str, name: &str, cidr: Option<&str>) -> String {
    let (s, n) = cloud.net(token, Method::POST, "/v2.0/networks", Some(json!({"network": {"name": name}}))).await;
    assert_eq!(s, 201, "{n}");
    let id = n["network"]["id"].as_str().expect("id").to_string();
    if let Some(cidr) = cidr {
        let (s, b) = cloud.net(token, Method::POST, "/v2.0/subnets", Some(json!({"subnet": {"network_id": id, "cidr": cidr, "ip_version": 4}}))).await;
        assert_eq!(s, 201, "{b}");
    }
    id
}

#[tokio::test]
async fn create_checks_networks_ports_and_fixed_ips() {
    let cloud = Cloud::start().await;
    let (_, _, t) = cloud.member("nora").await;
    let bare = network(&cloud, &t, "bare", None).await;
    let r = boot(&cloud, &t, MV, json!({"networks": [{"uuid": bare}]})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(message(&r.body), format!("Network {bare} requires a subnet in order to boot instances on."));
    let (s, _) = cloud.net(&t, Method::DELETE, &format!("/v2.0/networks/{bare}"), None).await;
    assert_eq!(s, 204);

    let net = network(&cloud, &t, "lan", Some("10.5.0.0/24")).await;
    // A port already given to a device is in use (409).
    let (s, p) = cloud.net(&t, Method::POST, "/v2.0/ports", Some(json!({"port": {"network_id": net, "device_id": "elsewhere", "fixed_ips": [{"ip_address": "10.5.0.9"}]}}))).await;
    assert_eq!(s, 201, "{p}");
    let port = p["port"]["id"].as_str().expect("port").to_string();
    let r = boot(&cloud, &t, MV, json!({"networks": [{"port": port}]})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(message(&r.body), format!("Port {port} is still in use."));
    // Its address is taken (400).
    let r = boot(&cloud, &t, MV, json!({"networks": [{"uuid": net, "fixed_ip": "10.5.0.9"}]})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(message(&r.body), "Fixed IP address 10.5.0.9 is already in use on instance elsewhere.");
    // Someone else's network is not found.
    let (_, _, other) = cloud.member("otto").await;
    let theirs = network(&cloud, &other, "theirs", Some("10.6.0.0/24")).await;
    let r = boot(&cloud, &t, MV, json!({"networks": [{"uuid": theirs}]})).await;
    assert_eq!(message(&r.body), format!("Network {theirs} could not be found."));
    // One network: no `networks` before 2.37 and "auto" are accepted; two are ambiguous.
    assert_eq!(boot(&cloud, &t, "2.36", json!({"networks": null})).await.status, StatusCode::ACCEPTED);
    assert_eq!(boot(&cloud, &t, MV, json!({"networks": "auto"})).await.status, StatusCode::ACCEPTED);
    network(&cloud, &t, "lan2", Some("10.7.0.0/24")).await;
    let r = boot(&cloud, &t, "2.36", json!({"networks": null})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(message(&r.body), "Multiple possible networks found, use a Network ID to be more specific.");
    // A security group of the project is accepted by name or id; another project's is not.
    let (s, g) = cloud.net(&t, Method::POST, "/v2.0/security-groups", Some(json!({"security_group": {"name": "web"}}))).await;
    assert_eq!(s, 201, "{g}");
    let web = g["security_group"]["id"].as_str().expect("id").to_string();
    for name in ["web", web.as_str()] {
        let r = boot(&cloud, &t, MV, json!({"networks": [{"uuid": net}], "security_groups": [{"name": name}]})).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{name}: {}", r.body);
    }
    let r = boot(&cloud, &other, MV, json!({"networks": "none", "security_groups": [{"name": "web"}]})).await;
    assert_eq!(message(&r.body), "Security group web not found.");
}

#[tokio::test]
async fn security_group_proxy_until_2_36() {
    let cloud = Cloud::start().await;
    let (_, project, t) = cloud.member("sam").await;
    let at = |v: &'static str| Some(v);
    let r = cloud.call_at(at("2.35"), Method::POST, "/v2.1/os-security-groups", &t, Some(json!({"security_group": {"name": "db", "description": "databases"}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let group = r.body["security_group"].clone();
    assert_eq!(group["name"], "db");
    assert_eq!(group["description"], "databases");
    assert_eq!(group["tenant_id"], project.as_str());
    let id = group["id"].as_str().expect("id").to_string();
    let r = cloud.call_at(at("2.35"), Method::GET, "/v2.1/os-security-groups", &t, None).await;
    let names: Vec<&str> = r.body["security_groups"].as_array().into_iter().flatten().filter_map(|g| g["name"].as_str()).collect();
    assert!(names.contains(&"db"), "{names:?}");

    let rule = json!({"security_group_rule": {"parent_group_id": id, "ip_protocol": "tcp", "from_port": 22, "to_port": 22, "cidr": "10.0.0.0/8"}});
    let r = cloud.call_at(at("2.35"), Method::POST, "/v2.1/os-security-group-rules", &t, Some(rule.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["security_group_rule"]["from_port"], 22);
    assert_eq!(r.body["security_group_rule"]["ip_range"]["cidr"], "10.0.0.0/8");
    let rule_id = r.body["security_group_rule"]["id"].as_str().expect("rule").to_string();
    let r = cloud.call_at(at("2.35"), Method::POST, "/v2.1/os-security-group-rules", &t, Some(rule)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a duplicate rule: {}", r.body);
    let r = cloud.call_at(at("2.35"), Method::GET, &format!("/v2.1/os-security-groups/{id}"), &t, None).await;
    assert_eq!(r.body["security_group"]["rules"].as_array().map(Vec::len), Some(1), "{}", r.body);
    let r = cloud.call_at(at("2.35"), Method::DELETE, &format!("/v2.1/os-security-group-rules/{rule_id}"), &t, None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);

    let r = cloud.call_at(at("2.36"), Method::GET, "/v2.1/os-security-groups", &t, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = cloud.call_at(at("2.35"), Method::POST, "/v2.1/os-security-groups", &t, Some(json!({"security_group": {"name": "x"}}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = cloud.call_at(at("2.35"), Method::DELETE, &format!("/v2.1/os-security-groups/{id}"), &t, None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let r = cloud.call_at(at("2.35"), Method::GET, &format!("/v2.1/os-security-groups/{id}"), &t, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn networks_proxy_until_2_36() {
    let cloud = Cloud::start().await;
    let (_, _, t) = cloud.member("nat").await;
    let net = network(&cloud, &t, "mine", Some("10.8.0.0/24")).await;
    let r = cloud.call_at(Some("2.35"), Method::GET, "/v2.1/os-networks", &t, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let nets = r.body["networks"].as_array().cloned().unwrap_or_default();
    assert!(nets.iter().any(|n| n["id"] == net.as_str() && n["label"] == "mine"), "{nets:?}");
    let r = cloud.call_at(Some("2.35"), Method::GET, &format!("/v2.1/os-networks/{net}"), &t, None).await;
    assert_eq!(r.body["network"]["label"], "mine");
    let missing = uuid::Uuid::new_v4();
    let r = cloud.call_at(Some("2.35"), Method::GET, &format!("/v2.1/os-networks/{missing}"), &t, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = cloud.call_at(Some("2.35"), Method::POST, "/v2.1/os-networks", &t, Some(json!({"network": {"label": "x"}}))).await;
    assert_eq!(r.status, StatusCode::GONE);
    let r = cloud.call_at(Some("2.36"), Method::GET, "/v2.1/os-networks", &t, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn interfaces_of_a_server_not_yet_on_a_host() {
    let cloud = Cloud::start().await;
    let (_, _, t) = cloud.member("ivy").await;
    let r = boot(&cloud, &t, MV, json!({})).await;
    let id = r.body["server"]["id"].as_str().expect("id").to_string();
    let r = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/{id}/os-interface"), &t, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["interfaceAttachments"], json!([]));
    let net = network(&cloud, &t, "n", Some("10.9.0.0/24")).await;
    let r = cloud.call_at(Some(MV), Method::POST, &format!("/v2.1/servers/{id}/os-interface"), &t, Some(json!({"interfaceAttachment": {"net_id": net}}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = cloud.call_at(Some(MV), Method::POST, &format!("/v2.1/servers/{id}/os-interface"), &t, Some(json!({"interfaceAttachment": {"fixed_ips": [{"ip_address": "10.9.0.5"}]}}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(message(&r.body), "Must input network_id when request IP address");
    let r = cloud.call_at(Some(MV), Method::POST, &format!("/v2.1/servers/{id}/os-interface"), &t, Some(json!({"interfaceAttachment": {"bogus": 1}}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let port = uuid::Uuid::new_v4();
    let r = cloud.call_at(Some(MV), Method::GET, &format!("/v2.1/servers/{id}/os-interface/{port}"), &t, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
