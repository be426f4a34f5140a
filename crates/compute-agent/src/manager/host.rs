//! Calls about the host itself (`os-hosts`): its status, maintenance window and power.

use super::ComputeManager;
use crate::virt::{HostPowerAction, VirtError};
use monostack_bus::Reply;
use monostack_conductor::agent_api::client::fault_reply;
use serde_json::{json, Value};

fn refusal(e: VirtError) -> String {
    match e {
        VirtError::NotSupported { .. } => fault_reply("NotImplemented", e.to_string()),
        other => fault_reply("Internal", other.to_string()),
    }
}

impl ComputeManager {
    /// Whether the host takes new guests, as Nova's manager answers it when the driver has no
    /// say (every driver but the retired XenAPI): the requested status. Nova also flips its
    /// nodes' COMPUTE_STATUS_DISABLED trait until the next resource report; the scheduler
    /// here reads the service's disabled flag (`os-services`) instead.
    pub(crate) fn set_host_enabled(&self, enabled: bool) -> Reply {
        tracing::info!("Host {} {}", self.host, if enabled { "enabled" } else { "disabled" });
        Ok(json!(if enabled { "enabled" } else { "disabled" }))
    }

    /// Starts (`on`) or ends the host's maintenance window, if the driver can.
    pub(crate) async fn host_maintenance_mode(&self, host: &str, on: bool) -> Reply {
        let answer = self.driver.host_maintenance_mode(host, on).await.map_err(refusal)?;
        Ok(Value::String(answer))
    }

    /// `startup`, `shutdown` or `reboot` of the host, if the driver can.
    pub(crate) async fn host_power_action(&self, action: &str) -> Reply {
        let action: HostPowerAction = serde_json::from_value(json!(action)).map_err(|_| fault_reply("Invalid", format!("Unknown host power action {action}")))?;
        tracing::info!("Host power action {} on {}", action.name(), self.host);
        let answer = self.driver.host_power_action(action).await.map_err(refusal)?;
        Ok(Value::String(answer))
    }
}
