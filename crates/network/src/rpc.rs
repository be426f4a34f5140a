//! The contract between the server and its agents (the Linux data plane is the next issue):
//! topics and messages as Neutron names them, carried by `monostack_bus`.
//!
//! # Port binding and status flow
//!
//! 1. A port is created `DOWN` with `binding:vif_type = unbound`.
//! 2. Compute sets `binding:host_id` (service role). The server's mechanism driver binds the
//!    port if an alive L2 agent on that host handles the network's segment type and physical
//!    network: `binding:vif_type = bridge`, `vif_details` filled, and the server fans out
//!    [`PortUpdate`] on [`TOPIC_PORT_UPDATE`]. No agent → `binding_failed`.
//! 3. The L2 agent on the host sees the tap device and calls [`GetDevicesDetailsList`] on
//!    [`TOPIC_PLUGIN`]; the server answers [`DeviceDetails`] and marks the port `BUILD`.
//! 4. Once the device is wired, the agent calls [`UpdateDeviceUp`]; the port becomes
//!    `ACTIVE` (and [`UpdateDeviceDown`] takes it back to `DOWN`).
//! 5. DHCP agents get [`NetworkEvent`]s on [`TOPIC_DHCP_AGENT`] for network/subnet/port
//!    changes of networks they host; every agent reports [`AgentState`] on [`TOPIC_REPORTS`].
//! 6. L3 agents call [`SyncRouters`] on [`TOPIC_L3_PLUGIN`] for the routers scheduled to their
//!    host ([`RouterInfo`]: gateway and interface ports, routes, floating IPs), and report the
//!    floating IPs they realized with [`UpdateFloatingIpStatuses`].

use serde::{Deserialize, Serialize};

/// Agents → server calls (Neutron's `q-plugin`).
pub const TOPIC_PLUGIN: &str = "q-plugin";
/// Agents' heartbeats (Neutron's `q-reports-plugin`).
pub const TOPIC_REPORTS: &str = "q-reports-plugin";
/// Server → L2 agents fanouts.
pub const TOPIC_PORT_UPDATE: &str = "q-agent-notifier-port-update";
pub const TOPIC_PORT_DELETE: &str = "q-agent-notifier-port-delete";
pub const TOPIC_NETWORK_UPDATE: &str = "q-agent-notifier-network-update";
pub const TOPIC_NETWORK_DELETE: &str = "q-agent-notifier-network-delete";
pub const TOPIC_SECURITY_GROUP_UPDATE: &str = "q-agent-notifier-securitygroup-update";
/// Server → DHCP and L3 agents (cast to `topic.host`).
pub const TOPIC_DHCP_AGENT: &str = "dhcp_agent";
pub const TOPIC_L3_AGENT: &str = "l3_agent";

/// Port statuses.
pub const PORT_STATUS_DOWN: &str = "DOWN";
pub const PORT_STATUS_BUILD: &str = "BUILD";
pub const PORT_STATUS_ACTIVE: &str = "ACTIVE";
pub const PORT_STATUS_ERROR: &str = "ERROR";

/// `binding:vif_type` values.
pub const VIF_TYPE_UNBOUND: &str = "unbound";
pub const VIF_TYPE_BINDING_FAILED: &str = "binding_failed";
pub const VIF_TYPE_BRIDGE: &str = "bridge";

/// `get_devices_details_list`: an L2 agent asks what its tap devices are.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GetDevicesDetailsList {
    pub devices: Vec<String>,
    pub agent_id: String,
    pub host: String,
}

/// What an L2 agent needs to wire one device (a port).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeviceDetails {
    pub device: String,
    pub port_id: String,
    pub network_id: String,
    pub mac_address: String,
    pub admin_state_up: bool,
    pub network_type: String,
    pub physical_network: Option<String>,
    pub segmentation_id: Option<i64>,
    pub mtu: i64,
    pub fixed_ips: Vec<FixedIp>,
    pub device_owner: String,
    pub port_security_enabled: bool,
    pub security_groups: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FixedIp {
    pub subnet_id: String,
    pub ip_address: String,
}

/// `update_device_up` / `update_device_down`: the agent wired (or unwired) a device.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UpdateDeviceUp {
    pub device: String,
    pub agent_id: String,
    pub host: String,
}

pub type UpdateDeviceDown = UpdateDeviceUp;

/// `port_update` fanout: a port's binding or attributes changed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PortUpdate {
    pub port_id: String,
    pub network_id: String,
    pub host: Option<String>,
    pub network_type: String,
    pub physical_network: Option<String>,
    pub segmentation_id: Option<i64>,
}

/// Network/subnet/port events for DHCP agents (`network_create_end`, `port_update_end`…).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NetworkEvent {
    pub event: String,
    pub network_id: String,
    pub resource_id: String,
}

/// `report_state`: an agent's heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AgentState {
    pub agent_type: String,
    pub binary: String,
    pub host: String,
    pub topic: String,
    pub availability_zone: Option<String>,
    pub configurations: serde_json::Value,
}

/// L3 agents → server calls (Neutron's `q-l3-plugin`).
pub const TOPIC_L3_PLUGIN: &str = "q-l3-plugin";

/// `sync_routers`: an L3 agent asks for the routers scheduled to its host (all of them, or
/// those of `router_ids`), with everything it needs to build their `qrouter-` namespaces.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SyncRouters {
    pub host: String,
    #[serde(default)]
    pub router_ids: Option<Vec<String>>,
}

/// A subnet a router port has an address on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SubnetInfo {
    pub id: String,
    pub cidr: String,
    pub gateway_ip: Option<String>,
}

/// A router port: `qg-` (gateway) or `qr-` (interface) + the first 11 characters of `id`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RouterPortInfo {
    pub id: String,
    pub network_id: String,
    pub mac_address: String,
    pub mtu: i64,
    pub fixed_ips: Vec<FixedIp>,
    pub subnets: Vec<SubnetInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Route {
    pub destination: String,
    pub nexthop: String,
}

/// A floating IP to realize: DNAT to and SNAT from `fixed_ip_address` on the gateway.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FloatingIpInfo {
    pub id: String,
    pub floating_ip_address: String,
    pub fixed_ip_address: String,
    pub port_id: String,
    pub status: String,
}

/// One router as `sync_routers` answers it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RouterInfo {
    pub id: String,
    pub project_id: String,
    pub admin_state_up: bool,
    pub enable_snat: bool,
    pub gw_port: Option<RouterPortInfo>,
    pub interfaces: Vec<RouterPortInfo>,
    pub routes: Vec<Route>,
    pub floating_ips: Vec<FloatingIpInfo>,
}

/// `update_floatingip_statuses`: an L3 agent reports how the floating IPs of a router it
/// hosts stand (`ACTIVE`, `DOWN` or `ERROR`, by floating IP id).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UpdateFloatingIpStatuses {
    pub router_id: String,
    pub fip_statuses: std::collections::BTreeMap<String, String>,
}
