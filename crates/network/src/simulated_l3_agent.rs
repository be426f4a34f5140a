//! A STAND-IN for the L3 agent (and for the L2 agent's part in router ports) while the Linux
//! data plane (`crates/network-agent`: `qrouter-` namespaces, `qr-`/`qg-` devices, SNAT) does
//! not exist yet. It builds nothing on the host. It plays the agents' side of the RPC
//! contract in [`crate::rpc`] exactly as the real agents will, over the bus only (it never
//! touches the database), so the server's side is the one they will use:
//!
//! - it registers and stays alive as an `L3 agent` (`neutron-l3-agent`, topic `l3_agent`,
//!   `configurations.simulated: true`) with `report_state` on `q-reports-plugin` every
//!   [`REPORT_INTERVAL`], so it is listed in `/v2.0/agents` and new routers are scheduled
//!   to it;
//! - it listens on `l3_agent.<host>` for the server's `routers_updated`, `router_deleted`,
//!   `router_added_to_agent` and `router_removed_from_agent` ([`crate::l3_notifier`]), and
//!   answers each with `sync_routers` on `q-l3-plugin` (which binds the router ports to its
//!   host), plus a full sync at start and at every report;
//! - for the gateway and interface ports of its routers it does what the host's L2 agent
//!   does once it has wired `qg-`/`qr-` devices: `update_device_up` on `q-plugin`, so they
//!   become ACTIVE (`update_device_down` for ports that left one of its routers).
//!
//! Like the fake virt driver standing in for the L2 agent of server ports, it runs in the
//! all-in-one when `[network] simulated_l3_agent` is true (the default), and goes when the
//! real agents come.

use crate::rpc::{
    AgentState, RouterInfo, SyncRouters, UpdateDeviceUp, TOPIC_L3_AGENT, TOPIC_L3_PLUGIN,
    TOPIC_PLUGIN, TOPIC_REPORTS,
};
use monostack_bus::{Bus, Message, Target};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// How often the stand-in reports its state and resynchronizes (Neutron's
/// `[AGENT] report_interval`).
pub const REPORT_INTERVAL: Duration = Duration::from_secs(30);

const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The running stand-in; [`SimulatedL3Agent::stop`] ends its tasks.
pub struct SimulatedL3Agent {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl SimulatedL3Agent {
    pub fn stop(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

struct Agent {
    bus: Arc<dyn Bus>,
    host: String,
    availability_zone: String,
    /// The ports of each router it hosts, as last synced (one sync at a time).
    routers: tokio::sync::Mutex<BTreeMap<String, BTreeSet<String>>>,
}

/// Starts the stand-in for `host` on `bus`: registers it (the first report is made before
/// this returns, so routers created next are scheduled to it), then serves the server's
/// notifications and reports and resyncs every [`REPORT_INTERVAL`].
pub async fn start(
    bus: Arc<dyn Bus>,
    host: &str,
    availability_zone: &str,
) -> anyhow::Result<SimulatedL3Agent> {
    let agent = Arc::new(Agent {
        bus: bus.clone(),
        host: host.to_string(),
        availability_zone: availability_zone.to_string(),
        routers: tokio::sync::Mutex::new(BTreeMap::new()),
    });
    agent.report_state().await?;
    let listener = bus.listen(TOPIC_L3_AGENT, host).await?;
    let notified = agent.clone();
    let server = monostack_bus::serve(listener, move |msg: Message| {
        let agent = notified.clone();
        async move { agent.notified(&msg.method, &msg.args).await }
    });
    let periodic = agent.clone();
    let ticker = tokio::spawn(async move {
        loop {
            if let Err(e) = periodic.sync(None).await {
                tracing::warn!("simulated L3 agent: router sync failed: {e}");
            }
            tokio::time::sleep(REPORT_INTERVAL).await;
            if let Err(e) = periodic.report_state().await {
                tracing::warn!("simulated L3 agent: report_state failed: {e}");
            }
        }
    });
    tracing::info!("simulated L3 agent (a stand-in: no data plane) serving host {host}");
    Ok(SimulatedL3Agent {
        tasks: vec![server, ticker],
    })
}

impl Agent {
    async fn report_state(&self) -> anyhow::Result<()> {
        let routers = self.routers.lock().await.len();
        let state = AgentState {
            agent_type: crate::db::agents::AGENT_TYPE_L3.into(),
            binary: "neutron-l3-agent".into(),
            host: self.host.clone(),
            topic: TOPIC_L3_AGENT.into(),
            availability_zone: Some(self.availability_zone.clone()),
            configurations: json!({
                "agent_mode": "legacy",
                "routers": routers,
                "simulated": true,
                "description": "monostack's simulated L3 agent: reports router ports up, builds no data plane",
            }),
        };
        let msg = Message::new("report_state", json!({"agent_state": state}));
        self.bus
            .call(&Target::topic(TOPIC_REPORTS), msg, CALL_TIMEOUT)
            .await?;
        Ok(())
    }

    /// The server's casts to `l3_agent.<host>`.
    async fn notified(&self, method: &str, args: &Value) -> Result<Value, String> {
        let ids: Vec<String> = match method {
            "routers_updated" => strings(&args["routers"]),
            "router_added_to_agent" => strings(&args["payload"]),
            "router_deleted" => strings(&json!([args["router_id"]])),
            "router_removed_from_agent" => strings(&json!([args["payload"]["router_id"]])),
            other => return Err(format!("unknown method {other} on {TOPIC_L3_AGENT}")),
        };
        self.sync(Some(ids)).await.map_err(|e| e.to_string())?;
        Ok(Value::Null)
    }

    /// Fetches the routers (`None`: all of its routers) and reports their ports up; ports
    /// that left them (or routers it no longer hosts) are reported down. A full sync reports
    /// up only the ports it had not seen (so the periodic one writes nothing when nothing
    /// changed); a sync of named routers, the answer to a notification, reports all of theirs.
    async fn sync(&self, router_ids: Option<Vec<String>>) -> anyhow::Result<()> {
        let mut known = self.routers.lock().await;
        let req = SyncRouters {
            host: self.host.clone(),
            router_ids: router_ids.clone(),
        };
        let answer = self
            .bus
            .call(
                &Target::topic(TOPIC_L3_PLUGIN),
                Message::new("sync_routers", serde_json::to_value(&req)?),
                CALL_TIMEOUT,
            )
            .await?;
        let routers: Vec<RouterInfo> = serde_json::from_value(answer)?;
        let mut now: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in &routers {
            let ports = r
                .gw_port
                .iter()
                .chain(r.interfaces.iter())
                .map(|p| p.id.clone())
                .collect();
            now.insert(r.id.clone(), ports);
        }
        let asked: BTreeSet<String> = match &router_ids {
            Some(ids) => ids.iter().cloned().collect(),
            None => known.keys().chain(now.keys()).cloned().collect(),
        };
        let mut up = Vec::new();
        let mut down = Vec::new();
        for id in asked {
            let before = known.remove(&id).unwrap_or_default();
            match now.remove(&id) {
                Some(ports) => {
                    down.extend(before.difference(&ports).cloned());
                    if router_ids.is_some() {
                        up.extend(ports.iter().cloned());
                    } else {
                        up.extend(ports.difference(&before).cloned());
                    }
                    known.insert(id, ports);
                }
                None => down.extend(before),
            }
        }
        for port in up {
            self.device(&port, true).await;
        }
        for port in down {
            self.device(&port, false).await;
        }
        Ok(())
    }

    /// `update_device_up` / `update_device_down` for a router port, as the host's L2 agent.
    async fn device(&self, port_id: &str, up: bool) {
        let method = if up {
            "update_device_up"
        } else {
            "update_device_down"
        };
        let args = UpdateDeviceUp {
            device: port_id.to_string(),
            agent_id: format!("simulated-l3-agent-{}", self.host),
            host: self.host.clone(),
        };
        let Ok(args) = serde_json::to_value(&args) else {
            return;
        };
        let msg = Message::new(method, args);
        if let Err(e) = self
            .bus
            .call(&Target::topic(TOPIC_PLUGIN), msg, CALL_TIMEOUT)
            .await
        {
            tracing::warn!("simulated L3 agent: {method} of {port_id} not reported: {e}");
        }
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
