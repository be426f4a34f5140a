//! The guest's console log and console endpoints.

use super::FakeDriver;
use crate::virt::{ConsoleEndpoint, ConsoleKind, InstanceRef, PowerState, VirtError, VirtResult};

impl FakeDriver {
    pub(super) fn console_log(&self, instance: &InstanceRef) -> VirtResult<String> {
        self.with_guest(&instance.uuid, &instance.node, |g| {
            let mut text = g.console.iter().cloned().collect::<Vec<_>>().join("\n");
            text.push('\n');
            Ok(text)
        })
    }

    /// A console of a running or paused guest (a stopped guest has no display).
    pub(super) fn console_endpoint(
        &self,
        instance: &InstanceRef,
        kind: ConsoleKind,
    ) -> VirtResult<ConsoleEndpoint> {
        self.with_guest(&instance.uuid, &instance.node, |g| {
            if !matches!(g.power_state, PowerState::Running | PowerState::Paused) {
                let console_type = match kind {
                    ConsoleKind::Vnc => "novnc",
                    ConsoleKind::Serial => "serial",
                };
                return Err(VirtError::ConsoleTypeUnavailable {
                    console_type: console_type.into(),
                });
            }
            let port = match kind {
                ConsoleKind::Vnc => g.console_port,
                ConsoleKind::Serial => g.console_port + 4100,
            };
            Ok(ConsoleEndpoint { kind, host: "127.0.0.1".into(), port, internal_access_path: None })
        })
    }
}
