//! Agents: registered and kept alive by their heartbeats ([`crate::rpc::AgentState`] on
//! [`crate::rpc::TOPIC_REPORTS`], handled by [`report_state`]), shown `alive` while the last
//! heartbeat is younger than `[network] agent_down_time`; the networks DHCP agents serve and
//! the routers L3 agents host, scheduled by hand (Neutron's dhcp_agent_scheduler and
//! l3_agent_scheduler) or, for new routers, to the alive L3 agent hosting the fewest.

use crate::db::agents::{self, Agent, Binding, AGENT_TYPE_DHCP, AGENT_TYPE_L3};
use crate::db::{self, Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use crate::rpc::{
    AgentState, SyncRouters, UpdateDeviceUp, UpdateFloatingIpStatuses, PORT_STATUS_ACTIVE,
    PORT_STATUS_DOWN, TOPIC_L3_PLUGIN, TOPIC_PLUGIN, TOPIC_REPORTS,
};
use crate::NetworkService;
use monostack_bus::{Bus, Message};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct AgentUpdate {
    pub admin_state_up: Option<bool>,
    pub description: Option<String>,
}

/// Whether the agent's last heartbeat is recent enough (`now` in epoch microseconds).
pub fn is_alive(agent_down_time: u32, a: &Agent, now: i64) -> bool {
    let down_after = i64::from(agent_down_time) * 1_000_000;
    now.saturating_sub(a.heartbeat_timestamp) <= down_after
}

/// An agent's heartbeat: registers it on first report (enabled, as Neutron's
/// enable_new_agents), else refreshes what it reports and its heartbeat time.
pub async fn report_state(svc: &NetworkService, state: &AgentState) -> NeutronResult<Agent> {
    Ok(report(svc, state).await?.0)
}

/// [`report_state`], also saying whether the agent is new.
async fn report(svc: &NetworkService, state: &AgentState) -> NeutronResult<(Agent, bool)> {
    db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            let now = monostack_common::time::now_micros();
            match agents::by_type_host(tx, &state.agent_type, &state.host).await? {
                Some(mut a) => {
                    a.binary = state.binary.clone();
                    a.topic = state.topic.clone();
                    a.availability_zone = state.availability_zone.clone();
                    a.configurations = state.configurations.clone();
                    a.heartbeat_timestamp = now.max(a.heartbeat_timestamp);
                    agents::save(tx, &a).await?;
                    Ok((a, false))
                }
                None => {
                    let a = Agent {
                        id: uuid::Uuid::new_v4().to_string(),
                        agent_type: state.agent_type.clone(),
                        binary: state.binary.clone(),
                        topic: state.topic.clone(),
                        host: state.host.clone(),
                        availability_zone: state.availability_zone.clone(),
                        admin_state_up: true,
                        description: String::new(),
                        configurations: state.configurations.clone(),
                        created_at: now,
                        started_at: now,
                        heartbeat_timestamp: now,
                    };
                    agents::insert(tx, &a).await?;
                    if a.agent_type == AGENT_TYPE_DHCP {
                        schedule_unhosted_networks(svc, tx, &a.id).await?;
                    }
                    Ok((a, true))
                }
            }
        })
    })
    .await
}

/// The server side of the agents' `report_state` calls on [`TOPIC_REPORTS`] (args: the
/// [`AgentState`], bare or under `agent_state`), answering `new` for an agent's first report
/// and `alive` afterwards, as Neutron does.
pub async fn serve_reports(
    svc: Arc<NetworkService>,
    bus: Arc<dyn Bus>,
    server: &str,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = bus.listen(TOPIC_REPORTS, server).await?;
    Ok(monostack_bus::serve(listener, move |msg: Message| {
        let svc = svc.clone();
        async move {
            if msg.method != "report_state" {
                return Err(format!("unknown method {} on {TOPIC_REPORTS}", msg.method));
            }
            let args = msg.args.get("agent_state").unwrap_or(&msg.args).clone();
            let state: AgentState =
                serde_json::from_value(args).map_err(|e| format!("bad agent_state: {e}"))?;
            match report(&svc, &state).await {
                Ok((_, true)) => Ok(serde_json::json!("new")),
                Ok((_, false)) => Ok(serde_json::json!("alive")),
                Err(e) => Err(e.message),
            }
        }
    }))
}

/// The server side of the L2 agents' calls on [`TOPIC_PLUGIN`]: `update_device_up` and
/// `update_device_down` (args: an [`UpdateDeviceUp`]; `device` is the port id) set the port
/// ACTIVE or DOWN, when the port is bound to the agent's host (Neutron ignores reports about
/// ports bound elsewhere), answering whether it was; the status change is what tells compute
/// that the VIF is plugged.
pub async fn serve_plugin(
    svc: Arc<NetworkService>,
    bus: Arc<dyn Bus>,
    server: &str,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = bus.listen(TOPIC_PLUGIN, server).await?;
    Ok(monostack_bus::serve(listener, move |msg: Message| {
        let svc = svc.clone();
        async move {
            let status = match msg.method.as_str() {
                "update_device_up" => PORT_STATUS_ACTIVE,
                "update_device_down" => PORT_STATUS_DOWN,
                other => return Err(format!("unknown method {other} on {TOPIC_PLUGIN}")),
            };
            let req: UpdateDeviceUp = serde_json::from_value(msg.args)
                .map_err(|e| format!("bad {}: {e}", msg.method))?;
            let port = {
                let mut tx = db::read(&svc.db).await.map_err(|e| e.message)?;
                crate::db::ports::get(&mut tx, &req.device).await.map_err(|e| e.message)?
            };
            let Some(port) = port else {
                tracing::debug!("Device {} not found in the database", req.device);
                return Ok(serde_json::json!(false));
            };
            if port.binding_host_id != req.host {
                tracing::debug!("Device {} not bound to the agent host {}", req.device, req.host);
                return Ok(serde_json::json!(false));
            }
            crate::service::ports::set_status(&svc, &port.id, status).await.map_err(|e| e.message)?;
            Ok(serde_json::json!(true))
        }
    }))
}

/// The server side of the L3 agents' calls on [`TOPIC_L3_PLUGIN`]: `sync_routers` (args: a
/// [`SyncRouters`]) answering a list of [`crate::rpc::RouterInfo`], and
/// `update_floatingip_statuses` (args: an [`UpdateFloatingIpStatuses`]).
pub async fn serve_l3_plugin(
    svc: Arc<NetworkService>,
    bus: Arc<dyn Bus>,
    server: &str,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = bus.listen(TOPIC_L3_PLUGIN, server).await?;
    svc.l3_agents.connect(bus.clone());
    Ok(monostack_bus::serve(listener, move |msg: Message| {
        let svc = svc.clone();
        async move {
            match msg.method.as_str() {
                "sync_routers" => {
                    let req: SyncRouters = serde_json::from_value(msg.args)
                        .map_err(|e| format!("bad sync_routers: {e}"))?;
                    let routers = crate::service::routers::sync_routers(&svc, &req)
                        .await
                        .map_err(|e| e.message)?;
                    serde_json::to_value(routers).map_err(|e| e.to_string())
                }
                "update_floatingip_statuses" => {
                    let req: UpdateFloatingIpStatuses = serde_json::from_value(msg.args)
                        .map_err(|e| format!("bad update_floatingip_statuses: {e}"))?;
                    crate::service::floatingips::set_statuses(
                        &svc,
                        &req.router_id,
                        &req.fip_statuses,
                    )
                    .await
                    .map_err(|e| e.message)?;
                    Ok(serde_json::Value::Null)
                }
                other => Err(format!("unknown method {other} on {TOPIC_L3_PLUGIN}")),
            }
        }
    }))
}

pub async fn update(svc: &NetworkService, id: &str, req: AgentUpdate) -> NeutronResult<Agent> {
    db::write(&svc.db, |tx, _| {
        let req = &req;
        Box::pin(async move {
            let mut a = agents::must_get(tx, id).await?;
            if let Some(v) = req.admin_state_up {
                a.admin_state_up = v;
            }
            if let Some(v) = &req.description {
                a.description = v.clone();
            }
            agents::save(tx, &a).await?;
            Ok(a)
        })
    })
    .await
}

pub async fn delete(svc: &NetworkService, id: &str) -> NeutronResult<()> {
    db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            agents::must_get(tx, id).await?;
            agents::delete(tx, id).await
        })
    })
    .await
}

/// The agent if it may take `kind` resources (its type, enabled), else Neutron's 404.
async fn schedulable(tx: &mut Tx, kind: Binding, agent_id: &str) -> NeutronResult<Agent> {
    let a = agents::must_get(tx, agent_id).await?;
    match kind {
        Binding::DhcpNetwork if a.agent_type != AGENT_TYPE_DHCP || !a.admin_state_up => {
            Err(NeutronError::not_found(
                "InvalidDHCPAgent",
                format!("Agent {agent_id} is not a valid DHCP Agent or has been disabled."),
            ))
        }
        Binding::L3Router if a.agent_type != AGENT_TYPE_L3 || !a.admin_state_up => {
            Err(NeutronError::not_found(
                "InvalidL3Agent",
                format!("Agent {agent_id} is not a L3 Agent or has been disabled"),
            ))
        }
        _ => Ok(a),
    }
}

/// The hosts of the L3 agents hosting a router (where its notifications go).
pub async fn l3_hosts(tx: &mut Tx, router_id: &str) -> NeutronResult<Vec<String>> {
    let mut hosts = Vec::new();
    for id in agents::agents_of(tx, Binding::L3Router, router_id).await? {
        if let Some(a) = agents::get(tx, &id).await? {
            if !hosts.contains(&a.host) {
                hosts.push(a.host);
            }
        }
    }
    Ok(hosts)
}

/// Schedules a network to a DHCP agent or a router to an L3 agent by hand (the L3 agent
/// hears `router_added_to_agent`).
pub async fn schedule(
    svc: &NetworkService,
    kind: Binding,
    agent_id: &str,
    resource_id: &str,
) -> NeutronResult<()> {
    let host = db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            let agent = schedulable(tx, kind, agent_id).await?;
            let bound = agents::agents_of(tx, kind, resource_id).await?;
            match kind {
                Binding::DhcpNetwork => {
                    crate::db::networks::must_get(tx, resource_id).await?;
                    if bound.iter().any(|a| a == agent_id) {
                        return Err(NeutronError::conflict(
                            "NetworkHostedByDHCPAgent",
                            format!("The network {resource_id} has been already hosted by the DHCP Agent {agent_id}."),
                        ));
                    }
                }
                Binding::L3Router => {
                    crate::db::routers::must_get(tx, resource_id).await?;
                    if bound.iter().any(|a| a == agent_id) {
                        return Ok(None);
                    }
                    // A legacy router lives on one L3 agent.
                    if let Some(other) = bound.first() {
                        return Err(NeutronError::conflict(
                            "RouterHostedByL3Agent",
                            format!("The router {resource_id} has been already hosted by the L3 Agent {other}."),
                        ));
                    }
                }
            }
            agents::bind(tx, kind, resource_id, agent_id).await?;
            Ok(Some(agent.host))
        })
    })
    .await?;
    if let (Binding::L3Router, Some(host)) = (kind, host) {
        svc.l3_agents.cast(
            vec![host],
            "router_added_to_agent",
            serde_json::json!({"payload": [resource_id]}),
        );
    }
    Ok(())
}

/// Removes a network from a DHCP agent or a router from an L3 agent (409 when not there;
/// the L3 agent hears `router_removed_from_agent`).
pub async fn unschedule(
    svc: &NetworkService,
    kind: Binding,
    agent_id: &str,
    resource_id: &str,
) -> NeutronResult<()> {
    let host = db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            let agent = agents::must_get(tx, agent_id).await?;
            if agents::unbind(tx, kind, resource_id, agent_id).await? {
                return Ok(agent.host);
            }
            Err(match kind {
                Binding::DhcpNetwork => NeutronError::conflict(
                    "NetworkNotHostedByDhcpAgent",
                    format!(
                        "The network {resource_id} is not hosted by the DHCP Agent {agent_id}."
                    ),
                ),
                Binding::L3Router => NeutronError::conflict(
                    "RouterNotHostedByL3Agent",
                    format!("The router {resource_id} is not hosted by the L3 Agent {agent_id}."),
                ),
            })
        })
    })
    .await?;
    if kind == Binding::L3Router {
        svc.l3_agents.cast(
            vec![host],
            "router_removed_from_agent",
            serde_json::json!({"payload": {"router_id": resource_id}}),
        );
    }
    Ok(())
}

/// Binds a new router to the alive, enabled L3 agent hosting the fewest routers (none when
/// there is no such agent), inside the router's transaction.
pub async fn auto_schedule_router(
    svc: &NetworkService,
    tx: &mut Tx,
    router_id: &str,
) -> NeutronResult<()> {
    if let Some(agent_id) = least_loaded(svc, tx, AGENT_TYPE_L3, Binding::L3Router)
        .await?
        .into_iter()
        .next()
    {
        agents::bind(tx, Binding::L3Router, router_id, &agent_id).await?;
    }
    Ok(())
}

/// The alive, enabled agents of `agent_type`, fewest `kind` resources first.
async fn least_loaded(
    svc: &NetworkService,
    tx: &mut Tx,
    agent_type: &str,
    kind: Binding,
) -> NeutronResult<Vec<String>> {
    let now = monostack_common::time::now_micros();
    let down_time = svc.config.network.agent_down_time;
    let table = match kind {
        Binding::DhcpNetwork => "network_dhcp_agent_bindings",
        Binding::L3Router => "router_l3_agent_bindings",
    };
    let mut loads = Vec::new();
    for a in agents::load(
        tx,
        Some("agent_type = ? AND admin_state_up = 1"),
        &[Bind::Text(agent_type)],
    )
    .await?
    {
        if !is_alive(down_time, &a, now) {
            continue;
        }
        let load = tx
            .fetch_optional(
                &format!("SELECT COUNT(*) AS n FROM {table} WHERE agent_id = ?"),
                &[Bind::Text(&a.id)],
            )
            .await?
            .map(|r| r.i("n"))
            .transpose()?
            .unwrap_or(0);
        loads.push((load, a.id));
    }
    loads.sort();
    Ok(loads.into_iter().map(|(_, id)| id).collect())
}

/// Schedules a network with DHCP-enabled subnets to the least loaded alive DHCP agents, up to
/// `[network] dhcp_agents_per_network` (Neutron's network_auto_schedule).
pub async fn auto_schedule_network(
    svc: &NetworkService,
    tx: &mut Tx,
    network_id: &str,
) -> NeutronResult<()> {
    let want = svc.config.network.dhcp_agents_per_network as usize;
    let bound = agents::agents_of(tx, Binding::DhcpNetwork, network_id).await?;
    if bound.len() >= want {
        return Ok(());
    }
    let candidates = least_loaded(svc, tx, AGENT_TYPE_DHCP, Binding::DhcpNetwork).await?;
    for id in candidates
        .into_iter()
        .filter(|id| !bound.contains(id))
        .take(want - bound.len())
    {
        agents::bind(tx, Binding::DhcpNetwork, network_id, &id).await?;
    }
    Ok(())
}

/// A DHCP agent's first report: the networks with DHCP-enabled subnets that have fewer DHCP
/// agents than they should get it.
async fn schedule_unhosted_networks(
    svc: &NetworkService,
    tx: &mut Tx,
    agent_id: &str,
) -> NeutronResult<()> {
    let want = i64::from(svc.config.network.dhcp_agents_per_network);
    let rows = tx
        .fetch_all(
            "SELECT DISTINCT network_id FROM subnets WHERE enable_dhcp = 1 ORDER BY network_id",
            &[],
        )
        .await?;
    for row in rows {
        let net = row.s("network_id")?;
        let bound = agents::agents_of(tx, Binding::DhcpNetwork, &net).await?;
        if (bound.len() as i64) < want && !bound.iter().any(|a| a == agent_id) {
            agents::bind(tx, Binding::DhcpNetwork, &net, agent_id).await?;
        }
    }
    Ok(())
}

/// The availability zones of the L3 agents hosting a router.
pub async fn router_zones(tx: &mut Tx, router_id: &str) -> NeutronResult<Vec<String>> {
    let mut zones = Vec::new();
    for id in agents::agents_of(tx, Binding::L3Router, router_id).await? {
        if let Some(z) = agents::get(tx, &id)
            .await?
            .and_then(|a| a.availability_zone)
        {
            if !zones.contains(&z) {
                zones.push(z);
            }
        }
    }
    Ok(zones)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alive_within_agent_down_time() {
        let a = Agent {
            id: "a".into(),
            agent_type: AGENT_TYPE_L3.into(),
            binary: "neutron-l3-agent".into(),
            topic: "l3_agent".into(),
            host: "h".into(),
            availability_zone: None,
            admin_state_up: true,
            description: String::new(),
            configurations: serde_json::json!({}),
            created_at: 0,
            started_at: 0,
            heartbeat_timestamp: 1_000_000,
        };
        assert!(is_alive(75, &a, 76_000_000));
        assert!(!is_alive(75, &a, 76_000_001));
        assert!(!is_alive(0, &a, 1_000_001));
    }
}
