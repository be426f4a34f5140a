//! Every endpoint as an anonymous caller (401) and as a member of another project (404 for
//! another project's resources, so their existence is not revealed; 403 for admin-only APIs).

use crate::subnets::{network, subnet};
use crate::Cloud;
use http::{Method, StatusCode};
use serde_json::json;

/// The body a write to `path` needs (None for reads and single-tag writes).
fn body_for(m: &Method, path: &str) -> Option<serde_json::Value> {
    if *m != Method::PUT || path.contains("/tags/") {
        return None;
    }
    let body = match path {
        p if p.ends_with("/tags") => json!({"tags": ["a"]}),
        p if p.contains("/networks/") => json!({"network": {"name": "x"}}),
        p if p.contains("/subnets/") => json!({"subnet": {"name": "x"}}),
        p if p.contains("/ports/") => json!({"port": {"name": "x"}}),
        _ => json!({"security_group": {"name": "y"}}),
    };
    Some(body)
}

#[tokio::test]
async fn anonymous_and_other_projects_are_refused_everywhere() {
    let c = Cloud::start().await;
    let (alice_project, alice) = c.member("alice").await;
    let (_, bob) = c.member("bob").await;
    let net = network(&c, &alice, json!({})).await;
    let sub = subnet(
        &c,
        &alice,
        json!({"network_id": net, "ip_version": 4, "cidr": "10.0.0.0/24"}),
    )
    .await
    .body["subnet"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let port = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/ports",
            Some(json!({"port": {"network_id": net}})),
        )
        .await
        .body["port"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let sg = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/security-groups",
            Some(json!({"security_group": {"name": "x"}})),
        )
        .await
        .body["security_group"]
        .clone();
    let sg_id = sg["id"].as_str().expect("id").to_string();
    let rule = sg["security_group_rules"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();

    let owned: Vec<(Method, String)> = vec![
        (Method::GET, format!("/v2.0/networks/{net}")),
        (Method::PUT, format!("/v2.0/networks/{net}")),
        (Method::DELETE, format!("/v2.0/networks/{net}")),
        (Method::GET, format!("/v2.0/networks/{net}/tags")),
        (Method::PUT, format!("/v2.0/networks/{net}/tags")),
        (Method::DELETE, format!("/v2.0/networks/{net}/tags")),
        (Method::GET, format!("/v2.0/networks/{net}/tags/t")),
        (Method::PUT, format!("/v2.0/networks/{net}/tags/t")),
        (Method::DELETE, format!("/v2.0/networks/{net}/tags/t")),
        (Method::GET, format!("/v2.0/subnets/{sub}")),
        (Method::PUT, format!("/v2.0/subnets/{sub}")),
        (Method::DELETE, format!("/v2.0/subnets/{sub}")),
        (Method::PUT, format!("/v2.0/subnets/{sub}/tags/t")),
        (Method::GET, format!("/v2.0/ports/{port}")),
        (Method::PUT, format!("/v2.0/ports/{port}")),
        (Method::DELETE, format!("/v2.0/ports/{port}")),
        (Method::PUT, format!("/v2.0/ports/{port}/tags/t")),
        (Method::GET, format!("/v2.0/security-groups/{sg_id}")),
        (Method::PUT, format!("/v2.0/security-groups/{sg_id}")),
        (Method::DELETE, format!("/v2.0/security-groups/{sg_id}")),
        (Method::PUT, format!("/v2.0/security-groups/{sg_id}/tags/t")),
        (Method::GET, format!("/v2.0/security-group-rules/{rule}")),
        (Method::DELETE, format!("/v2.0/security-group-rules/{rule}")),
    ];
    let collections: Vec<(Method, String)> = [
        "/v2.0",
        "/v2.0/extensions",
        "/v2.0/networks",
        "/v2.0/subnets",
        "/v2.0/ports",
        "/v2.0/security-groups",
        "/v2.0/security-group-rules",
        "/v2.0/availability_zones",
        "/v2.0/quotas",
    ]
    .iter()
    .map(|p| (Method::GET, p.to_string()))
    .chain(
        [
            "/v2.0/networks",
            "/v2.0/subnets",
            "/v2.0/ports",
            "/v2.0/security-groups",
            "/v2.0/security-group-rules",
        ]
        .iter()
        .map(|p| (Method::POST, p.to_string())),
    )
    .chain(
        [
            format!("/v2.0/quotas/{alice_project}"),
            format!("/v2.0/quotas/{alice_project}/details"),
        ]
        .into_iter()
        .map(|p| (Method::GET, p)),
    )
    .collect();

    for (m, path) in owned.iter().chain(collections.iter()) {
        let r = c.call_as("", m.clone(), path, body_for(m, path)).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "anonymous {m} {path}: {}",
            r.body
        );
        assert!(
            r.body["NeutronError"]["type"].is_string(),
            "{m} {path}: {}",
            r.body
        );
    }
    for (m, path) in &owned {
        let r = c.call_as(&bob, m.clone(), path, body_for(m, path)).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "bob {m} {path}: {}",
            r.body
        );
    }
    for (m, path) in [
        (Method::GET, format!("/v2.0/quotas/{alice_project}")),
        (Method::PUT, format!("/v2.0/quotas/{alice_project}")),
        (Method::DELETE, format!("/v2.0/quotas/{alice_project}")),
        (Method::GET, "/v2.0/quotas".to_string()),
    ] {
        let body = (m == Method::PUT).then(|| json!({"quota": {"network": 1}}));
        let r = c.call_as(&bob, m.clone(), &path, body).await;
        assert_eq!(
            (r.status, r.kind()),
            (StatusCode::FORBIDDEN, "PolicyNotAuthorized"),
            "bob {m} {path}: {}",
            r.body
        );
    }
    // Bob's lists show none of alice's resources.
    for (path, key) in [
        ("/v2.0/networks", "networks"),
        ("/v2.0/subnets", "subnets"),
        ("/v2.0/ports", "ports"),
        ("/v2.0/security-group-rules", "security_group_rules"),
    ] {
        let r = c.call_as(&bob, Method::GET, path, None).await;
        let items = r.body[key].as_array().expect("list");
        assert!(
            items
                .iter()
                .all(|i| i["project_id"] != alice_project.as_str()),
            "{path}: {}",
            r.body
        );
    }
    // And alice's resources are all still there.
    assert_eq!(
        c.call_as(&alice, Method::GET, &format!("/v2.0/ports/{port}"), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        c.call_as(
            &alice,
            Method::GET,
            &format!("/v2.0/security-group-rules/{rule}"),
            None
        )
        .await
        .status,
        StatusCode::OK
    );
}
