//! Diagnostics calls: what the driver knows about a running guest. A guest that is not
//! running has none to give (Nova's InstanceInvalidState, a 409 at the API).

use super::ComputeManager;
use crate::virt::VirtError;
use monostack_bus::{Context, Reply};
use monostack_compute::states::power;
use monostack_conductor::agent_api::client::fault_reply;
use serde_json::json;

fn refusal(uuid: &str, e: VirtError) -> String {
    match e {
        VirtError::NotSupported { .. } => fault_reply("NotImplemented", e.to_string()),
        VirtError::InstanceNotFound { .. } => fault_reply("InstanceNotReady", format!("Instance {uuid} is not ready")),
        other => fault_reply("Internal", other.to_string()),
    }
}

impl ComputeManager {
    /// The guest's diagnostics: the driver's counters, or (`standard`) Nova's 2.48 form.
    pub(crate) async fn diagnostics(&self, ctx: &Context, uuid: &str, standard: bool) -> Reply {
        let instance = match self.conductor.instance_get(ctx, uuid).await {
            Ok(Some(i)) => i,
            _ => return Err(fault_reply("InstanceNotFound", format!("Instance {uuid} could not be found."))),
        };
        let guest = self.guest(&instance);
        let state = self.power_state(&guest).await;
        if state != power::RUNNING {
            let name = power::ALL.iter().find(|(c, _)| *c == state).map_or("pending", |(_, n)| n);
            return Err(fault_reply(
                "InstanceInvalidState",
                format!("Instance {uuid} in power state {name}. Cannot get_diagnostics while the instance is in this state."),
            ));
        }
        tracing::info!("{}Retrieving diagnostics", instance.tag());
        if standard {
            let d = self.driver.get_instance_diagnostics(&guest).await.map_err(|e| refusal(uuid, e))?;
            Ok(d.view())
        } else {
            let d = self.driver.get_diagnostics(&guest).await.map_err(|e| refusal(uuid, e))?;
            Ok(json!(d))
        }
    }
}
