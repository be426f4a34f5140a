//! Security groups and rules: the default group and its four rules, new groups' egress rules,
//! rule validation, duplicates, policy, in-use rules, and ports' groups.

use crate::subnets::{network, subnet};
use crate::{request, send, Cloud};
use http::{Method, StatusCode};
use serde_json::{json, Value};

async fn rule(c: &Cloud, token: &str, body: Value) -> crate::Resp {
    c.call_as(
        token,
        Method::POST,
        "/v2.0/security-group-rules",
        Some(json!({ "security_group_rule": body })),
    )
    .await
}

fn rules_of(g: &Value) -> Vec<(String, String, Value)> {
    let mut out: Vec<_> = g["security_group_rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            (
                r["direction"].as_str().unwrap_or("").to_string(),
                r["ethertype"].as_str().unwrap_or("").to_string(),
                r["remote_group_id"].clone(),
            )
        })
        .collect();
    out.sort_by_key(|a| (a.0.clone(), a.1.clone()));
    out
}

#[tokio::test]
async fn default_group_on_first_use_and_new_groups() {
    let c = Cloud::start().await;
    let (project, alice) = c.member("alice").await;
    let r = c
        .call_as(&alice, Method::GET, "/v2.0/security-groups", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let groups = r.body["security_groups"].as_array().expect("list").clone();
    assert_eq!(groups.len(), 1, "{}", r.body);
    let d = &groups[0];
    assert_eq!(d["name"], "default");
    assert_eq!(d["description"], "Default security group");
    assert_eq!(d["project_id"], project.as_str());
    let id = d["id"].clone();
    assert_eq!(
        rules_of(d),
        vec![
            ("egress".into(), "IPv4".into(), Value::Null),
            ("egress".into(), "IPv6".into(), Value::Null),
            ("ingress".into(), "IPv4".into(), id.clone()),
            ("ingress".into(), "IPv6".into(), id.clone())
        ]
    );
    assert_eq!(d["security_group_rules"][0]["belongs_to_default_sg"], true);
    // Listing again does not create another.
    assert_eq!(
        c.call_as(&alice, Method::GET, "/v2.0/security-groups", None)
            .await
            .body["security_groups"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/security-groups",
            Some(json!({"security_group": {"name": "allow ping & ssh", "description": "d"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let g = &r.body["security_group"];
    assert_eq!(
        rules_of(g),
        vec![
            ("egress".into(), "IPv4".into(), Value::Null),
            ("egress".into(), "IPv6".into(), Value::Null)
        ]
    );
    assert_eq!(g["stateful"], true);
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/security-groups",
            Some(json!({"security_group": {"name": "Default"}})),
        )
        .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "SecurityGroupDefaultAlreadyExists")
    );
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/security-groups/{}", id.as_str().unwrap_or("")),
            Some(json!({"security_group": {"name": "other"}})),
        )
        .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "SecurityGroupCannotUpdateDefault")
    );
    let r = c
        .call_as(
            &alice,
            Method::DELETE,
            &format!("/v2.0/security-groups/{}", id.as_str().unwrap_or("")),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "SecurityGroupCannotRemoveDefault")
    );

    // Concurrent first uses by one project create one default group.
    let (_, bob) = c.member("bob").await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let router = c.router.clone();
            let req = request(&bob, Method::GET, "/v2.0/security-groups", None, &[]);
            tokio::spawn(async move { send(&router, req).await })
        })
        .collect();
    for t in tasks {
        let r = t.await.expect("task");
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["security_groups"].as_array().map(Vec::len), Some(1));
    }
}

#[tokio::test]
async fn rules_protocols_ports_remotes_and_duplicates() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/security-groups",
            Some(json!({"security_group": {"name": "web"}})),
        )
        .await;
    let sg = r.body["security_group"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = rule(&c, &alice, json!({"security_group_id": sg, "direction": "ingress", "protocol": "TCP", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "10.0.0.1/8"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let created = r.body["security_group_rule"].clone();
    assert_eq!(created["protocol"], "tcp");
    assert_eq!(created["ethertype"], "IPv4");
    assert_eq!(created["normalized_cidr"], "10.0.0.0/8");
    let r = rule(&c, &alice, json!({"security_group_id": sg, "direction": "ingress", "protocol": "6", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "10.0.0.1/8"})).await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "SecurityGroupRuleExists")
    );
    assert_eq!(
        r.message(),
        format!(
            "Security group rule already exists. Rule id is {}.",
            created["id"].as_str().unwrap_or("")
        )
    );
    let r = rule(
        &c,
        &alice,
        json!({"security_group_id": sg, "direction": "egress", "ethertype": "IPv4"}),
    )
    .await;
    assert_eq!(
        r.kind(),
        "SecurityGroupRuleExists",
        "the group's own egress rule"
    );
    let r = rule(&c, &alice, json!({"security_group_id": sg, "direction": "egress", "ethertype": "IPv4", "remote_ip_prefix": "0.0.0.0/0"})).await;
    assert_eq!(
        r.kind(),
        "SecurityGroupRuleExists",
        "0.0.0.0/0 is any address"
    );
    let r = rule(&c, &alice, json!({"security_group_id": sg, "direction": "ingress", "protocol": "icmp", "port_range_min": 8, "port_range_max": 0})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = rule(&c, &alice, json!({"security_group_id": sg, "direction": "ingress", "protocol": "icmp", "ethertype": "IPv6"})).await;
    assert_eq!(r.body["security_group_rule"]["protocol"], "ipv6-icmp");
    let r = rule(&c, &alice, json!({"security_group_id": sg, "direction": "ingress", "protocol": "tcp", "port_range_min": 80, "port_range_max": 79})).await;
    assert_eq!(r.message(), "Invalid input for operation: For TCP/UDP protocols, port_range_min must be <= port_range_max.");
    let r = rule(&c, &alice, json!({"security_group_id": sg, "direction": "ingress", "protocol": "gre", "port_range_min": 80, "port_range_max": 80})).await;
    assert_eq!(r.kind(), "InvalidInput");
    let r = rule(
        &c,
        &alice,
        json!({"security_group_id": sg, "direction": "ingress", "protocol": "bogus"}),
    )
    .await;
    assert_eq!(r.kind(), "InvalidInput");
    let r = rule(
        &c,
        &alice,
        json!({"security_group_id": sg, "direction": "sideways"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = rule(&c, &alice, json!({"security_group_id": sg, "direction": "ingress", "remote_ip_prefix": "2001:db8::/64"})).await;
    assert_eq!(
        r.message(),
        "Invalid input for operation: Conflicting value ethertype IPv4 for CIDR 2001:db8::/64."
    );
    let r = rule(&c, &alice, json!({"security_group_id": sg, "direction": "ingress", "remote_group_id": sg, "remote_ip_prefix": "10.0.0.0/8"})).await;
    assert_eq!(r.kind(), "InvalidInput");
    let r = rule(&c, &alice, json!({"security_group_id": sg, "direction": "ingress", "protocol": "udp", "port_range_min": 53, "port_range_max": 53, "remote_group_id": sg})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = rule(&c, &alice, json!({"security_group_id": sg, "direction": "ingress", "remote_group_id": "11111111-2222-3333-4444-555555555555"})).await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::NOT_FOUND, "SecurityGroupNotFound")
    );
    let r = c.call_as(&alice, Method::POST, "/v2.0/security-group-rules", Some(json!({"security_group_rules": [
        {"security_group_id": sg, "direction": "ingress", "protocol": "tcp", "port_range_min": 443, "port_range_max": 443},
        {"security_group_id": sg, "direction": "ingress", "protocol": "tcp", "port_range_min": 443, "port_range_max": 443}]}))).await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "DuplicateSecurityGroupRuleInPost")
    );

    let (_, bob) = c.member("bob").await;
    let r = rule(
        &c,
        &bob,
        json!({"security_group_id": sg, "direction": "ingress"}),
    )
    .await;
    assert_eq!(
        r.kind(),
        "SecurityGroupNotFound",
        "bob cannot see alice's group"
    );
    let path = format!(
        "/v2.0/security-group-rules/{}",
        created["id"].as_str().unwrap_or("")
    );
    assert_eq!(
        c.call_as(&bob, Method::GET, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.call_as(&alice, Method::GET, &path, None).await.status,
        StatusCode::OK
    );
    let r = c
        .call_as(
            &alice,
            Method::GET,
            &format!("/v2.0/security-group-rules?security_group_id={sg}&direction=ingress"),
            None,
        )
        .await;
    assert_eq!(
        r.body["security_group_rules"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(
        c.call_as(&alice, Method::DELETE, &path, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.call_as(&alice, Method::GET, &path, None).await.kind(),
        "SecurityGroupRuleNotFound"
    );
}

#[tokio::test]
async fn ports_use_groups_and_groups_in_use_stay() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let (_, bob) = c.member("bob").await;
    let net = network(&c, &alice, json!({})).await;
    assert_eq!(
        subnet(
            &c,
            &alice,
            json!({"network_id": net, "ip_version": 4, "cidr": "10.0.0.0/24"})
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/security-groups",
            Some(json!({"security_group": {"name": "web"}})),
        )
        .await;
    let web = r.body["security_group"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = c
        .call_as(
            &bob,
            Method::POST,
            "/v2.0/security-groups",
            Some(json!({"security_group": {"name": "bobs"}})),
        )
        .await;
    let bobs = r.body["security_group"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/ports",
            Some(json!({"port": {"network_id": net, "security_groups": [web]}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["port"]["security_groups"], json!([web]));
    let port = r.body["port"]["id"].as_str().expect("id").to_string();
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/ports",
            Some(json!({"port": {"network_id": net, "security_groups": [bobs]}})),
        )
        .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::NOT_FOUND, "SecurityGroupNotFound")
    );
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/ports",
            Some(json!({"port": {"network_id": net, "device_owner": "network:dhcp"}})),
        )
        .await;
    assert_eq!(
        r.body["port"]["security_groups"],
        json!([]),
        "network devices get no group"
    );
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/ports",
            Some(json!({"port": {"network_id": net, "port_security_enabled": false}})),
        )
        .await;
    assert_eq!(r.body["port"]["security_groups"], json!([]));
    let r = c
        .call_as(
            &alice,
            Method::DELETE,
            &format!("/v2.0/security-groups/{web}"),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "SecurityGroupInUse")
    );
    let r = c
        .call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/ports/{port}"),
            Some(json!({"port": {"security_groups": []}})),
        )
        .await;
    assert_eq!(r.body["port"]["security_groups"], json!([]));
    assert_eq!(
        c.call_as(
            &alice,
            Method::PUT,
            &format!("/v2.0/security-groups/{web}/tags/blue"),
            None
        )
        .await
        .status,
        StatusCode::CREATED
    );
    assert_eq!(
        c.call_as(&alice, Method::GET, "/v2.0/security-groups?tags=blue", None)
            .await
            .body["security_groups"][0]["id"],
        web.as_str()
    );
    assert_eq!(
        c.call_as(
            &bob,
            Method::DELETE,
            &format!("/v2.0/security-groups/{web}"),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.call_as(
            &alice,
            Method::DELETE,
            &format!("/v2.0/security-groups/{web}"),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let r = c.get("/v2.0/security-groups").await;
    assert_eq!(
        r.body["security_groups"].as_array().map(Vec::len),
        Some(4),
        "admin sees every project's groups, its own default included: {}",
        r.body
    );
}

#[tokio::test]
async fn quotas_show_update_details_and_enforcement() {
    let c = Cloud::start().await;
    let (project, alice) = c.member("alice").await;
    let (_, bob) = c.member("bob").await;
    let path = format!("/v2.0/quotas/{project}");
    let r = c.call_as(&alice, Method::GET, &path, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["quota"]["network"], 100);
    assert_eq!(r.body["quota"]["port"], 500);
    assert_eq!(r.body["quota"]["security_group"], 10);
    assert_eq!(
        c.call_as(&bob, Method::GET, &path, None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.call_as(
            &alice,
            Method::PUT,
            &path,
            Some(json!({"quota": {"network": 1}}))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let r = c
        .call(
            Method::PUT,
            &path,
            Some(json!({"quota": {"network": 1, "port": "2"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (
            r.body["quota"]["network"].clone(),
            r.body["quota"]["port"].clone()
        ),
        (json!(1), json!(2))
    );
    assert_eq!(
        c.call(Method::PUT, &path, Some(json!({"quota": {"network": -2}})))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        c.call(Method::PUT, &path, Some(json!({"quota": {"bogus": 1}})))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let r = c.get("/v2.0/quotas").await;
    assert_eq!(r.body["quotas"][0]["project_id"], project.as_str());

    let net = network(&c, &alice, json!({})).await;
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/networks",
            Some(json!({"network": {}})),
        )
        .await;
    assert_eq!((r.status, r.kind()), (StatusCode::CONFLICT, "OverQuota"));
    assert_eq!(r.message(), "Quota exceeded for resources: ['network'].");
    assert_eq!(
        subnet(
            &c,
            &alice,
            json!({"network_id": net, "ip_version": 4, "cidr": "10.0.0.0/24"})
        )
        .await
        .status,
        StatusCode::CREATED
    );
    for _ in 0..2 {
        let r = c
            .call_as(
                &alice,
                Method::POST,
                "/v2.0/ports",
                Some(json!({"port": {"network_id": net}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let r = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/ports",
            Some(json!({"port": {"network_id": net}})),
        )
        .await;
    assert_eq!(r.kind(), "OverQuota");
    let r = c
        .call_as(&alice, Method::GET, &format!("{path}/details"), None)
        .await;
    assert_eq!(
        r.body["quota"]["network"],
        json!({"limit": 1, "used": 1, "reserved": 0})
    );
    assert_eq!(r.body["quota"]["port"]["used"], 2);
    assert_eq!(
        r.body["quota"]["security_group"]["used"], 1,
        "the default group counts"
    );
    assert_eq!(r.body["quota"]["security_group_rule"]["used"], 4);
    assert_eq!(
        c.call_as(&alice, Method::GET, &format!("{path}/default"), None)
            .await
            .body["quota"]["network"],
        100
    );
    assert_eq!(
        c.call(Method::DELETE, &path, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.call_as(&alice, Method::GET, &path, None).await.body["quota"]["network"],
        100
    );
    assert_eq!(
        c.call_as(
            &alice,
            Method::POST,
            "/v2.0/networks",
            Some(json!({"network": {}}))
        )
        .await
        .status,
        StatusCode::CREATED
    );
}
