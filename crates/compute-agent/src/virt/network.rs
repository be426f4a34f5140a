//! A virtual NIC as the network service describes it (one item of Nova's `network_info`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vif {
    /// The port's id.
    pub id: String,
    /// MAC address.
    pub address: String,
    pub network_id: String,
    /// The binding's vif_type (`bridge`, `ovs`, `tap`, ...).
    pub vif_type: String,
    /// Host-side device name (`tap<port-id prefix>`).
    pub devname: Option<String>,
    /// Bridge the device is plugged into (`brq<net-id prefix>`).
    pub bridge: Option<String>,
    pub mtu: Option<u32>,
    pub fixed_ips: Vec<String>,
    /// The binding's vif_details.
    pub details: BTreeMap<String, serde_json::Value>,
}
