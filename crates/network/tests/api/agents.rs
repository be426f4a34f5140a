//! Agents: registration and liveness by heartbeat, the admin API, DHCP and L3 scheduling.

use crate::routers::router;
use crate::subnets::network;
use crate::Cloud;
use http::{Method, StatusCode};
use monostack_network::rpc::AgentState;
use monostack_network::service::agents::report_state;
use serde_json::{json, Value};

async fn heartbeat(c: &Cloud, agent_type: &str, binary: &str, topic: &str, host: &str) -> String {
    let a = report_state(
        &c.network,
        &AgentState {
            agent_type: agent_type.into(),
            binary: binary.into(),
            host: host.into(),
            topic: topic.into(),
            availability_zone: Some("nova".into()),
            configurations: json!({"interface_driver": "linuxbridge"}),
        },
    )
    .await
    .expect("report_state");
    a.id
}

#[tokio::test]
async fn heartbeats_admin_api_and_scheduling() {
    let c = Cloud::start().await;
    heartbeats_admin_api_and_scheduling_on(&c).await;
    for url in crate::servers() {
        let c = Cloud::start_with(Some(url), |_| {}).await;
        heartbeats_admin_api_and_scheduling_on(&c).await;
    }
}

async fn heartbeats_admin_api_and_scheduling_on(c: &Cloud) {
    let (_, alice) = c.member("alice").await;
    let admin = c.admin.clone();
    // A router made before any L3 agent is hosted nowhere.
    let r1 = router(c, &alice, json!({"name": "r1"})).await;
    let r1 = r1.body["router"]["id"].as_str().expect("id").to_string();
    assert_eq!(
        c.get(&format!("/v2.0/routers/{r1}")).await.body["router"]["availability_zones"],
        json!([])
    );

    let dhcp = heartbeat(c, "DHCP agent", "neutron-dhcp-agent", "dhcp_agent", "net1").await;
    let l3a = heartbeat(c, "L3 agent", "neutron-l3-agent", "l3_agent", "net1").await;
    let l3b = heartbeat(c, "L3 agent", "neutron-l3-agent", "l3_agent", "net2").await;
    let lb = heartbeat(
        c,
        "Linux bridge agent",
        "neutron-linuxbridge-agent",
        "N/A",
        "compute1",
    )
    .await;
    // A second heartbeat keeps the agent.
    assert_eq!(
        heartbeat(c, "DHCP agent", "neutron-dhcp-agent", "dhcp_agent", "net1").await,
        dhcp
    );

    let l = c.get("/v2.0/agents").await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.body);
    let agents = l.body["agents"].as_array().cloned().unwrap_or_default();
    assert_eq!(agents.len(), 4);
    let a = agents
        .iter()
        .find(|a| a["id"] == dhcp.as_str())
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(a["agent_type"], "DHCP agent");
    assert_eq!(a["binary"], "neutron-dhcp-agent");
    assert_eq!(a["host"], "net1");
    assert_eq!(a["alive"], true);
    assert_eq!(a["admin_state_up"], true);
    assert_eq!(a["availability_zone"], "nova");
    assert_eq!(a["configurations"]["interface_driver"], "linuxbridge");
    assert_eq!(
        a["heartbeat_timestamp"].as_str().map(str::len),
        Some(19),
        "{a}"
    );
    let f = c
        .get("/v2.0/agents?agent_type=L3%20agent&fields=host")
        .await;
    assert_eq!(
        f.body["agents"],
        json!([{"host": "net1"}, {"host": "net2"}])
    );

    // Admins only: others list none (Neutron filters lists by policy) and are refused the rest.
    let r = c.call_as(&alice, Method::GET, "/v2.0/agents", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["agents"], json!([]));
    for (m, path) in [
        (Method::GET, format!("/v2.0/agents/{dhcp}")),
        (Method::DELETE, format!("/v2.0/agents/{lb}")),
        (Method::GET, format!("/v2.0/agents/{dhcp}/dhcp-networks")),
        (Method::GET, format!("/v2.0/routers/{r1}/l3-agents")),
    ] {
        let r = c.call_as(&alice, m, &path, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }

    // Updates: admin_state_up and description only.
    let u = c
        .call(
            Method::PUT,
            &format!("/v2.0/agents/{lb}"),
            Some(json!({"agent": {"admin_state_up": false, "description": "rack 4"}})),
        )
        .await;
    assert_eq!(u.status, StatusCode::OK, "{}", u.body);
    assert_eq!(u.body["agent"]["admin_state_up"], false);
    assert_eq!(u.body["agent"]["description"], "rack 4");
    let u = c
        .call(
            Method::PUT,
            &format!("/v2.0/agents/{lb}"),
            Some(json!({"agent": {"host": "x"}})),
        )
        .await;
    assert_eq!(u.status, StatusCode::BAD_REQUEST);

    // DHCP scheduling.
    let net = network(c, &admin, json!({"name": "n"})).await;
    let path = format!("/v2.0/agents/{dhcp}/dhcp-networks");
    let add = c
        .call(Method::POST, &path, Some(json!({"network_id": net})))
        .await;
    assert_eq!(add.status, StatusCode::CREATED, "{}", add.body);
    let again = c
        .call(Method::POST, &path, Some(json!({"network_id": net})))
        .await;
    assert_eq!(
        (again.status, again.kind()),
        (StatusCode::CONFLICT, "NetworkHostedByDHCPAgent")
    );
    let wrong = c
        .call(
            Method::POST,
            &format!("/v2.0/agents/{l3a}/dhcp-networks"),
            Some(json!({"network_id": net})),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.kind()),
        (StatusCode::NOT_FOUND, "InvalidDHCPAgent")
    );
    let missing = c
        .call(
            Method::POST,
            &path,
            Some(json!({"network_id": "9a0b6e5c-4a53-4c48-8d53-2bbf0a6e1d2e"})),
        )
        .await;
    assert_eq!(missing.kind(), "NetworkNotFound");
    let bad = c.call(Method::POST, &path, Some(json!({}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let nets = c.get(&path).await;
    assert_eq!(nets.body["networks"][0]["id"], net.as_str());
    let hosting = c.get(&format!("/v2.0/networks/{net}/dhcp-agents")).await;
    assert_eq!(hosting.body["agents"][0]["id"], dhcp.as_str());
    let d = c.call(Method::DELETE, &format!("{path}/{net}"), None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let d = c.call(Method::DELETE, &format!("{path}/{net}"), None).await;
    assert_eq!(
        (d.status, d.kind()),
        (StatusCode::CONFLICT, "NetworkNotHostedByDhcpAgent")
    );

    // L3 scheduling by hand: one agent per (legacy) router.
    let add = c
        .call(
            Method::POST,
            &format!("/v2.0/agents/{l3a}/l3-routers"),
            Some(json!({"router_id": r1})),
        )
        .await;
    assert_eq!(add.status, StatusCode::CREATED, "{}", add.body);
    let other = c
        .call(
            Method::POST,
            &format!("/v2.0/agents/{l3b}/l3-routers"),
            Some(json!({"router_id": r1})),
        )
        .await;
    assert_eq!(
        (other.status, other.kind()),
        (StatusCode::CONFLICT, "RouterHostedByL3Agent")
    );
    let wrong = c
        .call(
            Method::POST,
            &format!("/v2.0/agents/{dhcp}/l3-routers"),
            Some(json!({"router_id": r1})),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.kind()),
        (StatusCode::NOT_FOUND, "InvalidL3Agent")
    );
    let hosting = c.get(&format!("/v2.0/routers/{r1}/l3-agents")).await;
    assert_eq!(hosting.body["agents"][0]["id"], l3a.as_str());
    assert_eq!(
        c.get(&format!("/v2.0/routers/{r1}")).await.body["router"]["availability_zones"],
        json!(["nova"])
    );
    // New routers go to the least loaded alive L3 agent.
    let r2 = router(c, &alice, json!({"name": "r2"})).await;
    let r2 = r2.body["router"]["id"].as_str().expect("id").to_string();
    let hosted = c.get(&format!("/v2.0/agents/{l3b}/l3-routers")).await;
    assert_eq!(
        hosted.body["routers"][0]["id"],
        r2.as_str(),
        "{}",
        hosted.body
    );
    let d = c
        .call(
            Method::DELETE,
            &format!("/v2.0/agents/{l3b}/l3-routers/{r1}"),
            None,
        )
        .await;
    assert_eq!(
        (d.status, d.kind()),
        (StatusCode::CONFLICT, "RouterNotHostedByL3Agent")
    );
    let d = c
        .call(
            Method::DELETE,
            &format!("/v2.0/agents/{l3a}/l3-routers/{r1}"),
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    // A deleted router leaves its agent.
    let d = c
        .call_as(&alice, Method::DELETE, &format!("/v2.0/routers/{r2}"), None)
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let hosted = c.get(&format!("/v2.0/agents/{l3b}/l3-routers")).await;
    assert_eq!(hosted.body["routers"], json!([]));

    // Deletion.
    let d = c
        .call(Method::DELETE, &format!("/v2.0/agents/{lb}"), None)
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let g = c.get(&format!("/v2.0/agents/{lb}")).await;
    assert_eq!(
        (g.status, g.kind()),
        (StatusCode::NOT_FOUND, "AgentNotFound")
    );
    assert_eq!(
        c.call(
            Method::PUT,
            &format!("/v2.0/agents/{lb}"),
            Some(json!({"agent": {}}))
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    let ext = c.get("/v2.0/extensions").await;
    for alias in ["agent", "dhcp_agent_scheduler", "l3_agent_scheduler"] {
        assert!(
            ext.body["extensions"]
                .as_array()
                .is_some_and(|a| a.iter().any(|e| e["alias"] == alias)),
            "{alias}"
        );
    }
}

#[tokio::test]
async fn agents_without_heartbeats_are_dead_and_get_no_routers() {
    let c = Cloud::start_with(None, |cfg| cfg.network.agent_down_time = 0).await;
    let (_, alice) = c.member("alice").await;
    let l3 = heartbeat(&c, "L3 agent", "neutron-l3-agent", "l3_agent", "net1").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let a = c.get(&format!("/v2.0/agents/{l3}")).await;
    assert_eq!(a.body["agent"]["alive"], false, "{}", a.body);
    let r = router(&c, &alice, json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let hosted = c.get(&format!("/v2.0/agents/{l3}/l3-routers")).await;
    assert_eq!(hosted.body["routers"], json!([]));
}

#[tokio::test]
async fn report_state_over_the_bus() {
    let c = Cloud::start().await;
    let bus: std::sync::Arc<dyn monostack_bus::Bus> =
        std::sync::Arc::new(monostack_bus::InProcessBus::new());
    let consumer = monostack_network::service::agents::serve_reports(
        c.network.clone(),
        bus.clone(),
        "neutron-server",
    )
    .await
    .expect("serve");
    let state = json!({"agent_state": {
        "agent_type": "DHCP agent", "binary": "neutron-dhcp-agent", "host": "net1",
        "topic": "dhcp_agent", "availability_zone": "nova", "configurations": {"networks": 0}}});
    let target = monostack_bus::Target::topic(monostack_network::rpc::TOPIC_REPORTS);
    let timeout = std::time::Duration::from_secs(5);
    let first = bus
        .call(
            &target,
            monostack_bus::Message::new("report_state", state.clone()),
            timeout,
        )
        .await
        .expect("call");
    assert_eq!(first, json!("new"));
    let again = bus
        .call(
            &target,
            monostack_bus::Message::new("report_state", state),
            timeout,
        )
        .await
        .expect("call");
    assert_eq!(again, json!("alive"));
    let bad = bus
        .call(
            &target,
            monostack_bus::Message::new("report_state", json!({"host": 1})),
            timeout,
        )
        .await;
    assert!(bad.is_err());
    let l = c.get("/v2.0/agents").await;
    assert_eq!(l.body["agents"].as_array().map(Vec::len), Some(1));
    assert_eq!(l.body["agents"][0]["alive"], true);
    assert_eq!(
        l.body["agents"][0]["configurations"],
        json!({"networks": 0})
    );
    consumer.abort();
}

#[tokio::test]
async fn networks_with_dhcp_subnets_are_scheduled_to_dhcp_agents() {
    let c = Cloud::start().await;
    let admin = c.admin.clone();
    // A network whose DHCP subnet predates every DHCP agent goes to the first one reporting.
    let early = network(&c, &admin, json!({"name": "early"})).await;
    let s = crate::subnets::subnet(
        &c,
        &admin,
        json!({"network_id": early, "ip_version": 4, "cidr": "10.9.0.0/24"}),
    )
    .await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.body);
    let no_dhcp = network(&c, &admin, json!({"name": "static"})).await;
    crate::subnets::subnet(
        &c,
        &admin,
        json!({"network_id": no_dhcp, "ip_version": 4, "cidr": "10.8.0.0/24", "enable_dhcp": false}),
    )
    .await;
    let d1 = heartbeat(&c, "DHCP agent", "neutron-dhcp-agent", "dhcp_agent", "net1").await;
    let hosting = c.get(&format!("/v2.0/networks/{early}/dhcp-agents")).await;
    assert_eq!(
        hosting.body["agents"][0]["id"],
        d1.as_str(),
        "{}",
        hosting.body
    );
    let hosting = c
        .get(&format!("/v2.0/networks/{no_dhcp}/dhcp-agents"))
        .await;
    assert_eq!(hosting.body["agents"], json!([]));
    // Later networks go to the least loaded agent when their first DHCP subnet is made.
    let d2 = heartbeat(&c, "DHCP agent", "neutron-dhcp-agent", "dhcp_agent", "net2").await;
    let late = network(&c, &admin, json!({"name": "late"})).await;
    let hosting = c.get(&format!("/v2.0/networks/{late}/dhcp-agents")).await;
    assert_eq!(hosting.body["agents"], json!([]));
    crate::subnets::subnet(
        &c,
        &admin,
        json!({"network_id": late, "ip_version": 4, "cidr": "10.7.0.0/24"}),
    )
    .await;
    let hosting = c.get(&format!("/v2.0/networks/{late}/dhcp-agents")).await;
    assert_eq!(
        hosting.body["agents"][0]["id"],
        d2.as_str(),
        "{}",
        hosting.body
    );
    assert_eq!(hosting.body["agents"].as_array().map(Vec::len), Some(1));
    // A deleted network leaves its agent.
    let d = c
        .call(Method::DELETE, &format!("/v2.0/networks/{late}"), None)
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.body);
    let nets = c.get(&format!("/v2.0/agents/{d2}/dhcp-networks")).await;
    assert_eq!(nets.body["networks"], json!([]));
    let n = c
        .call(
            Method::POST,
            &format!("/v2.0/agents/{d2}/dhcp-networks"),
            Some(json!({"network_id": early})),
        )
        .await;
    assert_eq!(n.status, StatusCode::CREATED, "{}", n.body);
}

#[tokio::test]
async fn l3_agents_sync_their_routers_over_the_bus() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let bus: std::sync::Arc<dyn monostack_bus::Bus> =
        std::sync::Arc::new(monostack_bus::InProcessBus::new());
    let consumer = monostack_network::service::agents::serve_l3_plugin(
        c.network.clone(),
        bus.clone(),
        "neutron-server",
    )
    .await
    .expect("serve");
    heartbeat(&c, "L3 agent", "neutron-l3-agent", "l3_agent", "net1").await;
    let (ext, _) = crate::routers::external(&c, "10.10.10.0/24").await;
    let (net, sub) = crate::routers::project_net(&c, &alice, "172.16.101.0/24").await;
    let r = router(
        &c,
        &alice,
        json!({"external_gateway_info": {"network_id": ext}}),
    )
    .await;
    let rid = r.body["router"]["id"].as_str().expect("id").to_string();
    let a = crate::routers::interface(&c, &alice, &rid, "add", json!({"subnet_id": sub})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let p = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/ports",
            Some(json!({"port": {"network_id": net}})),
        )
        .await;
    let vm = p.body["port"]["id"].as_str().expect("id").to_string();
    let f = c
        .call_as(
            &alice,
            Method::POST,
            "/v2.0/floatingips",
            Some(json!({"floatingip": {"floating_network_id": ext, "port_id": vm}})),
        )
        .await;
    assert_eq!(f.status, StatusCode::CREATED, "{}", f.body);

    let target = monostack_bus::Target::topic(monostack_network::rpc::TOPIC_L3_PLUGIN);
    let timeout = std::time::Duration::from_secs(5);
    let sync = |args: Value| {
        let bus = bus.clone();
        let target = target.clone();
        async move {
            bus.call(
                &target,
                monostack_bus::Message::new("sync_routers", args),
                timeout,
            )
            .await
            .expect("call")
        }
    };
    let routers: Vec<monostack_network::rpc::RouterInfo> =
        serde_json::from_value(sync(json!({"host": "net1"})).await).expect("routers");
    assert_eq!(routers.len(), 1);
    let info = &routers[0];
    assert_eq!(info.id, rid);
    assert!(info.enable_snat);
    let gw = info.gw_port.as_ref().expect("gateway");
    assert_eq!(gw.fixed_ips[0].ip_address, "10.10.10.2");
    assert_eq!(gw.subnets[0].gateway_ip.as_deref(), Some("10.10.10.1"));
    assert_eq!(info.interfaces.len(), 1);
    assert_eq!(info.interfaces[0].fixed_ips[0].ip_address, "172.16.101.1");
    assert_eq!(info.interfaces[0].subnets[0].cidr, "172.16.101.0/24");
    assert_eq!(info.interfaces[0].mtu, 1450);
    assert_eq!(info.floating_ips.len(), 1);
    assert_eq!(info.floating_ips[0].floating_ip_address, "10.10.10.3");
    assert_eq!(info.floating_ips[0].port_id, vm);

    assert_eq!(
        sync(json!({"host": "net1", "router_ids": ["other"]})).await,
        json!([])
    );
    assert_eq!(sync(json!({"host": "elsewhere"})).await, json!([]));

    // The agent reports the floating IP's state.
    let fip = info.floating_ips[0].id.clone();
    let report = |status: &str| {
        monostack_bus::Message::new(
            "update_floatingip_statuses",
            json!({"router_id": rid, "fip_statuses": {fip.clone(): status}}),
        )
    };
    bus.call(&target, report("ERROR"), timeout)
        .await
        .expect("call");
    let g = c.get(&format!("/v2.0/floatingips/{fip}")).await;
    assert_eq!(g.body["floatingip"]["status"], "ERROR");
    bus.call(&target, report("BOGUS"), timeout)
        .await
        .expect("call");
    let g = c.get(&format!("/v2.0/floatingips/{fip}")).await;
    assert_eq!(g.body["floatingip"]["status"], "ERROR");
    let bad = bus
        .call(
            &target,
            monostack_bus::Message::new("update_floatingip_statuses", json!({})),
            timeout,
        )
        .await;
    assert!(bad.is_err());
    consumer.abort();
}

/// The router ports of `router` (admin view), by id: (status, binding:host_id).
async fn router_ports(c: &Cloud, router: &str) -> Vec<(String, String, String)> {
    let r = c.get(&format!("/v2.0/ports?device_id={router}")).await;
    r.body["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| {
            (
                p["device_owner"].as_str().unwrap_or("").to_string(),
                p["status"].as_str().unwrap_or("").to_string(),
                p["binding:host_id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Waits (up to 10 s) until every port of `router` is ACTIVE; returns them.
async fn all_active(c: &Cloud, router: &str, count: usize) -> Vec<(String, String, String)> {
    for _ in 0..200 {
        let ports = router_ports(c, router).await;
        if ports.len() == count && ports.iter().all(|(_, s, _)| s == "ACTIVE") {
            return ports;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("router ports not ACTIVE: {:?}", router_ports(c, router).await);
}

#[tokio::test]
async fn the_simulated_l3_agent_reports_router_ports_up() {
    let c = Cloud::start().await;
    let (_, alice) = c.member("alice").await;
    let bus: std::sync::Arc<dyn monostack_bus::Bus> =
        std::sync::Arc::new(monostack_bus::InProcessBus::new());
    let svc = c.network.clone();
    use monostack_network::service::agents::{serve_l3_plugin, serve_plugin, serve_reports};
    let servers = vec![
        serve_reports(svc.clone(), bus.clone(), "neutron-server").await.expect("serve"),
        serve_l3_plugin(svc.clone(), bus.clone(), "neutron-server").await.expect("serve"),
        serve_plugin(svc.clone(), bus.clone(), "neutron-server").await.expect("serve"),
    ];
    // A router made before the agent exists is picked up by its first (full) sync.
    let (ext, _) = crate::routers::external(&c, "10.10.10.0/24").await;
    let early = router(&c, &alice, json!({"external_gateway_info": {"network_id": ext}})).await;
    let early = early.body["router"]["id"].as_str().expect("id").to_string();
    let agent = monostack_network::simulated_l3_agent::start(bus.clone(), "aio", "nova")
        .await
        .expect("start");
    let listed = c.get("/v2.0/agents?agent_type=L3%20agent").await;
    let a = &listed.body["agents"][0];
    assert_eq!((a["host"].clone(), a["alive"].clone()), (json!("aio"), json!(true)), "{}", listed.body);
    assert_eq!(a["configurations"]["simulated"], true);
    let gw = all_active(&c, &early, 1).await;
    assert_eq!(gw[0].0, "network:router_gateway");
    assert_eq!(gw[0].2, "aio", "bound to the agent's host by sync_routers");

    let (_, sub) = crate::routers::project_net(&c, &alice, "172.16.101.0/24").await;
    let r = router(&c, &alice, json!({"external_gateway_info": {"network_id": ext}})).await;
    let rid = r.body["router"]["id"].as_str().expect("id").to_string();
    let hosting = c.get(&format!("/v2.0/routers/{rid}/l3-agents")).await;
    assert_eq!(hosting.body["agents"][0]["host"], "aio", "{}", hosting.body);
    let add = crate::routers::interface(&c, &alice, &rid, "add", json!({"subnet_id": sub})).await;
    assert_eq!(add.status, StatusCode::OK, "{}", add.body);
    let ports = all_active(&c, &rid, 2).await;
    assert!(ports.iter().any(|(o, _, _)| o == "network:router_interface"), "{ports:?}");
    // Removing the interface (the agent hears routers_updated and reports it down) and
    // deleting the router leave nothing behind.
    let rm = crate::routers::interface(&c, &alice, &rid, "remove", json!({"subnet_id": sub})).await;
    assert_eq!(rm.status, StatusCode::OK, "{}", rm.body);
    assert_eq!(router_ports(&c, &rid).await.len(), 1);
    for id in [&rid, &early] {
        let d = c.call_as(&alice, Method::DELETE, &format!("/v2.0/routers/{id}"), None).await;
        assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.body);
    }
    agent.stop();
    for s in servers {
        s.abort();
    }
}
