//! Auto-allocated topology: built on first request from the default external network and
//! default subnet pools, answered again afterwards, dry runs, deletion, and its refusals.

use crate::subnets::subnet;
use crate::Cloud;
use http::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn get_builds_once_dry_run_and_delete() {
    let c = Cloud::start().await;
    get_builds_once_dry_run_and_delete_on(&c).await;
    for url in crate::servers() {
        let c = Cloud::start_with(Some(url), |_| {}).await;
        get_builds_once_dry_run_and_delete_on(&c).await;
    }
}

async fn get_builds_once_dry_run_and_delete_on(c: &Cloud) {
    let (project, alice) = c.member("alice").await;
    let (_, bob) = c.member("bob").await;
    let path = format!("/v2.0/auto-allocated-topology/{project}");

    // Nothing to build on yet.
    let r = c.call_as(&alice, Method::GET, &path, None).await;
    assert_eq!(
        (r.status, r.kind()),
        (StatusCode::CONFLICT, "AutoAllocationFailure")
    );
    assert_eq!(
        r.message(),
        "Deployment error: No default router:external network."
    );
    let ext = c
        .call(
            Method::POST,
            "/v2.0/networks",
            Some(
                json!({"network": {"name": "public", "router:external": true, "is_default": true}}),
            ),
        )
        .await;
    let ext = ext.body["network"]["id"].as_str().expect("id").to_string();
    let admin = c.admin.clone();
    let s = subnet(
        c,
        &admin,
        json!({"network_id": ext, "ip_version": 4, "cidr": "172.24.4.0/24", "enable_dhcp": false}),
    )
    .await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.body);
    let r = c
        .call_as(&alice, Method::GET, &format!("{path}?fields=dry-run"), None)
        .await;
    assert_eq!(
        r.message(),
        "Deployment error: No default subnetpools defined."
    );
    let pool = c
        .call(
            Method::POST,
            "/v2.0/subnetpools",
            Some(json!({"subnetpool": {"name": "default", "prefixes": ["10.100.0.0/16"], "default_prefixlen": 26, "is_default": true, "shared": true}})),
        )
        .await;
    assert_eq!(pool.status, StatusCode::CREATED, "{}", pool.body);

    let dry = c
        .call_as(&alice, Method::GET, &format!("{path}?fields=dry-run"), None)
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(dry.body["auto_allocated_topology"]["id"], "dry-run=pass");

    // The first GET builds the topology; the next answers the same network.
    let r = c.call_as(&alice, Method::GET, &path, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let topo = &r.body["auto_allocated_topology"];
    assert_eq!(topo["project_id"], project.as_str());
    let net = topo["id"].as_str().expect("id").to_string();
    let again = c
        .call_as(
            &alice,
            Method::GET,
            "/v2.0/auto-allocated-topology/None",
            None,
        )
        .await;
    assert_eq!(again.body["auto_allocated_topology"]["id"], net.as_str());

    let n = c
        .call_as(&alice, Method::GET, &format!("/v2.0/networks/{net}"), None)
        .await;
    assert_eq!(n.body["network"]["name"], "auto_allocated_network");
    assert_eq!(n.body["network"]["admin_state_up"], true);
    let subs = c
        .call_as(
            &alice,
            Method::GET,
            &format!("/v2.0/subnets?network_id={net}"),
            None,
        )
        .await;
    assert_eq!(subs.body["subnets"][0]["name"], "auto_allocated_subnet_v4");
    assert_eq!(subs.body["subnets"][0]["cidr"], "10.100.0.0/26");
    let routers = c.call_as(&alice, Method::GET, "/v2.0/routers", None).await;
    let router = &routers.body["routers"][0];
    assert_eq!(router["name"], "auto_allocated_router");
    assert_eq!(router["external_gateway_info"]["network_id"], ext.as_str());
    let rid = router["id"].as_str().expect("id").to_string();
    let ports = c
        .call_as(
            &alice,
            Method::GET,
            &format!("/v2.0/ports?device_id={rid}&network_id={net}"),
            None,
        )
        .await;
    assert_eq!(
        ports.body["ports"][0]["device_owner"],
        "network:router_interface"
    );
    assert_eq!(
        ports.body["ports"][0]["fixed_ips"][0]["ip_address"],
        "10.100.0.1"
    );

    // Someone else's project: refused; unknown fields: refused.
    let r = c.call_as(&bob, Method::GET, &path, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c.call_as(&bob, Method::DELETE, &path, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .call_as(&alice, Method::GET, &format!("{path}?fields=id"), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Deletion removes all of it; a second deletion has nothing to do.
    let d = c.call_as(&alice, Method::DELETE, &path, None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.body);
    let n = c.get(&format!("/v2.0/networks/{net}")).await;
    assert_eq!(n.status, StatusCode::NOT_FOUND);
    let routers = c.call_as(&alice, Method::GET, "/v2.0/routers", None).await;
    assert_eq!(routers.body["routers"], json!([]));
    let d = c.call_as(&alice, Method::DELETE, &path, None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    // And the next GET builds a new one.
    let r = c.call_as(&alice, Method::GET, &path, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_ne!(r.body["auto_allocated_topology"]["id"], Value::from(net));
}
