//! Console calls: the console log and remote console URLs. Refusals are typed faults the API
//! maps to Nova's status codes.

use super::ComputeManager;
use crate::virt::{ConsoleEndpoint, VirtError};
use monostack_bus::{Context, Reply};
use monostack_conductor::agent_api::client::fault_reply;
use serde_json::{json, Value};

/// The console proxies' base URLs (Nova's `novncproxy_base_url` and `serialproxy_base_url`
/// defaults, on this deployment's public host).
fn console_url(public_host: &str, protocol: &str, token: &str) -> String {
    match protocol {
        "serial" => format!("ws://{public_host}:6083/?token={token}"),
        _ => format!("http://{public_host}:6080/vnc_lite.html?path=%3Ftoken%3D{token}"),
    }
}

fn refusal(uuid: &str, e: VirtError) -> String {
    match e {
        VirtError::InstanceNotFound { .. } => fault_reply("InstanceNotReady", format!("Instance {uuid} is not ready")),
        VirtError::ConsoleTypeUnavailable { console_type } => fault_reply("ConsoleTypeUnavailable", format!("Unavailable console type {console_type}.")),
        VirtError::NotSupported { .. } => fault_reply("NotImplemented", e.to_string()),
        other => fault_reply("Internal", other.to_string()),
    }
}

impl ComputeManager {
    /// The last `tail` lines of the console log (all when None).
    pub(crate) async fn console_output(&self, ctx: &Context, uuid: &str, tail: Option<i64>) -> Reply {
        let instance = match self.conductor.instance_get(ctx, uuid).await {
            Ok(Some(i)) => i,
            _ => return Err(fault_reply("InstanceNotFound", format!("Instance {uuid} could not be found."))),
        };
        let text = self.driver.get_console_output(&self.guest(&instance)).await.map_err(|e| refusal(uuid, e))?;
        let output = match tail.and_then(|n| usize::try_from(n).ok()) {
            Some(n) => {
                let lines: Vec<&str> = text.lines().collect();
                lines[lines.len().saturating_sub(n)..].join("\n")
            }
            None => text,
        };
        Ok(Value::String(output))
    }

    /// A console of `protocol` (vnc, spice, serial, mks) and `console_type`.
    pub(crate) async fn remote_console(&self, ctx: &Context, uuid: &str, protocol: &str, console_type: &str) -> Reply {
        let valid = match protocol {
            "vnc" => matches!(console_type, "novnc" | "xvpvnc"),
            "serial" => console_type == "serial",
            _ => return Err(fault_reply("ConsoleTypeUnavailable", format!("Unavailable console type {console_type}."))),
        };
        if !valid {
            return Err(fault_reply("ConsoleTypeInvalid", format!("Invalid console type {console_type}")));
        }
        let instance = match self.conductor.instance_get(ctx, uuid).await {
            Ok(Some(i)) => i,
            _ => return Err(fault_reply("InstanceNotFound", format!("Instance {uuid} could not be found."))),
        };
        let guest = self.guest(&instance);
        let endpoint: ConsoleEndpoint = match protocol {
            "serial" => self.driver.get_serial_console(&guest).await,
            _ => self.driver.get_vnc_console(&guest).await,
        }
        .map_err(|e| refusal(uuid, e))?;
        let token = uuid::Uuid::new_v4().to_string();
        Ok(json!({
            "url": console_url(&self.config.public_host(), protocol, &token),
            "host": endpoint.host,
            "port": endpoint.port,
            "internal_access_path": endpoint.internal_access_path,
            "token": token,
        }))
    }
}
