//! Server → L3 agents notifications (Neutron's `L3AgentNotifyAPI`): casts to
//! `l3_agent.<host>` ([`crate::rpc::TOPIC_L3_AGENT`]) for each host whose L3 agent hosts the
//! router, sent after the change committed, in the background (an API request never waits
//! on an agent):
//!
//! - `routers_updated` `{"routers": [id]}`: the router, its gateway, interfaces or routes
//!   changed; the agent answers with `sync_routers` for those routers;
//! - `router_deleted` `{"router_id": id}`;
//! - `router_added_to_agent` `{"payload": [id]}` / `router_removed_from_agent`
//!   `{"payload": {"router_id": id}}`: an admin (re)scheduled the router.
//!
//! The bus is the one the server answers the L3 agents on (set by
//! [`crate::service::agents::serve_l3_plugin`]); without it nothing is sent.

use crate::rpc::TOPIC_L3_AGENT;
use monostack_bus::{Bus, Message, Target};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

#[derive(Default)]
pub struct L3AgentNotifier {
    bus: OnceLock<Arc<dyn Bus>>,
}

impl L3AgentNotifier {
    /// Sends from now on over `bus` (the first bus given stays).
    pub fn connect(&self, bus: Arc<dyn Bus>) {
        let _ = self.bus.set(bus);
    }

    /// Casts `method` with `args` to the L3 agent of each of `hosts`, in the background.
    pub fn cast(&self, hosts: Vec<String>, method: &'static str, args: Value) {
        let Some(bus) = self.bus.get().cloned() else {
            return;
        };
        if hosts.is_empty() {
            return;
        }
        tokio::spawn(async move {
            for host in hosts {
                let target = Target::server(TOPIC_L3_AGENT, host.as_str());
                if let Err(e) = bus.cast(&target, Message::new(method, args.clone())).await {
                    tracing::debug!("{method} to the L3 agent on {host} not sent: {e}");
                }
            }
        });
    }

    /// `routers_updated` for `router_id` to `hosts`.
    pub fn routers_updated(&self, hosts: Vec<String>, router_id: &str) {
        self.cast(
            hosts,
            "routers_updated",
            serde_json::json!({"routers": [router_id]}),
        );
    }
}
