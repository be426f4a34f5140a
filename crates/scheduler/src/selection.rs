//! The scheduler's answer for one instance: the chosen host and the alternates a reschedule
//! may try without asking the scheduler again (Nova's `Selection`).

use crate::allocation::AllocationRequest;
use crate::host_state::{HostState, Limits};
use serde::{Deserialize, Serialize};

/// One host the instance may be built on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostChoice {
    pub host: String,
    pub nodename: String,
    pub compute_node_uuid: String,
    pub limits: Limits,
    /// For the chosen host, the request already claimed; for an alternate, the one to claim
    /// if the build moves there. `None` when placement was not consulted.
    pub allocation_request: Option<AllocationRequest>,
}

impl HostChoice {
    pub(crate) fn from_host(
        host: &HostState,
        allocation_request: Option<AllocationRequest>,
    ) -> Self {
        Self {
            host: host.host.clone(),
            nodename: host.nodename.clone(),
            compute_node_uuid: host.uuid.clone(),
            limits: host.limits(),
            allocation_request,
        }
    }
}

/// Where one instance goes, and where it may go next if that fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// The instance this selection is for (`None` when the request named no uuids).
    pub instance_uuid: Option<String>,
    pub chosen: HostChoice,
    /// At most `max_attempts - 1` other hosts that passed the filters, best first.
    pub alternates: Vec<HostChoice>,
}
