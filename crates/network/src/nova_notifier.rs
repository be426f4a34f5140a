//! Neutron's nova notifier: events about the ports of servers (`device_owner` starting with
//! `compute:`) posted to compute's `POST /v2.1/os-server-external-events` as the `neutron`
//! service user — `network-vif-plugged` when a port becomes ACTIVE (`failed` when ERROR),
//! `network-vif-unplugged` when it goes back DOWN, `network-vif-deleted` when it is deleted,
//! and `network-changed` when its addresses or floating IPs change.
//!
//! Events are queued and sent in batches by one background task (Neutron's
//! `send_events_interval` batching), so an API request or an agent call never waits on
//! compute; an unreachable compute loses the batch with a warning, as in Neutron.

use crate::db::ports::Port;
use monostack_auth::service_token::ServiceToken;
use monostack_common::config::Config;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// One event for compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NovaEvent {
    pub name: &'static str,
    pub server_uuid: String,
    pub status: &'static str,
    /// The port id.
    pub tag: String,
}

/// Whether Nova cares about `port` (a server's port).
pub fn is_compute_port(port: &Port) -> bool {
    port.device_owner.starts_with("compute:") && !port.device_id.is_empty()
}

/// The event a status change of a server's port means, if any (Neutron's
/// `record_port_status_changed`).
pub fn status_event(port: &Port, previous: &str, current: &str) -> Option<NovaEvent> {
    if !is_compute_port(port) || previous == current {
        return None;
    }
    let (name, status) = match (previous, current) {
        (_, "ACTIVE") => ("network-vif-plugged", "completed"),
        (_, "ERROR") => ("network-vif-plugged", "failed"),
        ("ACTIVE", "DOWN") => ("network-vif-unplugged", "completed"),
        _ => return None,
    };
    Some(NovaEvent {
        name,
        server_uuid: port.device_id.clone(),
        status,
        tag: port.id.clone(),
    })
}

/// `network-vif-deleted` for a deleted server port; `network-changed` otherwise.
pub fn port_event(port: &Port, name: &'static str) -> Option<NovaEvent> {
    is_compute_port(port).then(|| NovaEvent {
        name,
        server_uuid: port.device_id.clone(),
        status: "completed",
        tag: port.id.clone(),
    })
}

/// The notifier: a queue and the task that empties it.
pub struct NovaNotifier {
    status_changes: bool,
    data_changes: bool,
    queue: Option<mpsc::UnboundedSender<NovaEvent>>,
}

impl NovaNotifier {
    /// A notifier that sends nothing (tests, or both notifications turned off).
    pub fn disabled() -> Self {
        NovaNotifier {
            status_changes: false,
            data_changes: false,
            queue: None,
        }
    }

    /// The notifier of this deployment: compute at `http://<public_host>:<[compute] port>`,
    /// as the `neutron` service user. Needs a Tokio runtime (the sender task).
    pub fn from_config(config: &Config) -> Self {
        let status_changes = config.network.notify_nova_on_port_status_changes;
        let data_changes = config.network.notify_nova_on_port_data_changes;
        if !status_changes && !data_changes {
            return Self::disabled();
        }
        let url = format!(
            "http://{}:{}/v2.1/os-server-external-events",
            config.public_host(),
            config.compute.port
        );
        let token = Arc::new(ServiceToken::from_config(config, "neutron"));
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(send_loop(rx, url, token));
        NovaNotifier {
            status_changes,
            data_changes,
            queue: Some(tx),
        }
    }

    fn push(&self, event: NovaEvent) {
        if let Some(q) = &self.queue {
            let _ = q.send(event);
        }
    }

    /// A port's status changed from `previous`.
    pub fn port_status_changed(&self, port: &Port, previous: &str) {
        if self.status_changes {
            if let Some(e) = status_event(port, previous, &port.status) {
                self.push(e);
            }
        }
    }

    /// A port was deleted.
    pub fn port_deleted(&self, port: &Port) {
        if self.data_changes {
            if let Some(e) = port_event(port, "network-vif-deleted") {
                self.push(e);
            }
        }
    }

    /// A port's addresses or floating IPs changed.
    pub fn port_changed(&self, port: &Port) {
        if self.data_changes {
            if let Some(e) = port_event(port, "network-changed") {
                self.push(e);
            }
        }
    }
}

async fn send_loop(
    mut rx: mpsc::UnboundedReceiver<NovaEvent>,
    url: String,
    token: Arc<ServiceToken>,
) {
    let client = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(c) => c,
        Err(e) => return tracing::error!("nova notifier disabled: {e}"),
    };
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let events: Vec<Value> = batch.iter().map(|e| json!({"name": e.name, "server_uuid": e.server_uuid, "status": e.status, "tag": e.tag})).collect();
        let body = json!({ "events": events });
        let mut refresh = false;
        for _attempt in 0..2 {
            let auth = match token.get(refresh).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!("Failed to notify nova on events {events:?}: {e}");
                    break;
                }
            };
            match client
                .post(&url)
                .header("x-auth-token", auth)
                .header("openstack-api-version", "compute 2.51")
                .json(&body)
                .send()
                .await
            {
                Ok(resp) if resp.status().as_u16() == 401 => refresh = true,
                Ok(resp) if resp.status().is_success() => {
                    tracing::info!("Nova event response: {}", resp.status());
                    break;
                }
                Ok(resp) => {
                    // 404: the servers are gone; 207 is a success with per-event codes.
                    tracing::warn!("Nova event response for {events:?}: {}", resp.status());
                    break;
                }
                Err(e) => {
                    tracing::warn!("Failed to notify nova on events {events:?}: {e}");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(owner: &str, device: &str) -> Port {
        Port {
            id: "p".into(),
            project_id: "q".into(),
            network_id: "n".into(),
            name: String::new(),
            description: String::new(),
            mac_address: "fa:16:3e:00:00:01".into(),
            admin_state_up: true,
            status: "DOWN".into(),
            device_id: device.into(),
            device_owner: owner.into(),
            port_security_enabled: true,
            dns_name: String::new(),
            binding_host_id: String::new(),
            binding_vif_type: "unbound".into(),
            binding_vnic_type: "normal".into(),
            binding_profile: json!({}),
            binding_vif_details: json!({}),
            allowed_address_pairs: json!([]),
            extra_dhcp_opts: json!([]),
            created_at: 0,
            updated_at: 0,
            revision_number: 0,
            fixed_ips: Vec::new(),
            security_groups: Vec::new(),
            tags: Vec::new(),
        }
    }

    #[test]
    fn only_server_ports_give_events() {
        let p = port("compute:nova", "server-1");
        assert_eq!(
            status_event(&p, "DOWN", "ACTIVE").map(|e| (e.name, e.status)),
            Some(("network-vif-plugged", "completed"))
        );
        assert_eq!(
            status_event(&p, "BUILD", "ERROR").map(|e| (e.name, e.status)),
            Some(("network-vif-plugged", "failed"))
        );
        assert_eq!(
            status_event(&p, "ACTIVE", "DOWN").map(|e| e.name),
            Some("network-vif-unplugged")
        );
        assert_eq!(status_event(&p, "DOWN", "BUILD"), None);
        assert_eq!(status_event(&p, "ACTIVE", "ACTIVE"), None);
        assert_eq!(
            status_event(&port("network:dhcp", "dhcp-1"), "DOWN", "ACTIVE"),
            None
        );
        assert_eq!(
            port_event(&port("compute:nova", ""), "network-vif-deleted"),
            None
        );
        assert_eq!(
            port_event(&p, "network-vif-deleted").map(|e| e.tag),
            Some("p".to_string())
        );
    }
}
