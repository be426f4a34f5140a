//! Operations on the host itself rather than on a guest (Nova's `os-hosts` power actions).

use serde::{Deserialize, Serialize};

/// What `os-hosts/{host}/{startup,shutdown,reboot}` asks of the hypervisor host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostPowerAction {
    Startup,
    Shutdown,
    Reboot,
}

impl HostPowerAction {
    pub fn name(self) -> &'static str {
        match self {
            Self::Startup => "startup",
            Self::Shutdown => "shutdown",
            Self::Reboot => "reboot",
        }
    }
}
