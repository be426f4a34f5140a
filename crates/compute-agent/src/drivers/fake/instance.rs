//! One simulated guest and its state machine. Transitions refuse what a real hypervisor would
//! refuse (pausing a stopped guest, unrescuing a guest not in rescue), so manager bugs show up
//! against the fake as they would against QEMU.

use crate::virt::{
    FlavorInfo, InstanceRef, LifecycleTransition, PowerState, RebootType, SpawnRequest, Vif,
    VirtError, VirtResult, VolumeConnection,
};
use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

/// Console lines kept per guest.
const CONSOLE_LINES: usize = 200;

/// A guest as the fake hypervisor holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeInstance {
    pub uuid: String,
    pub name: String,
    pub display_name: String,
    pub node: String,
    pub flavor: FlavorInfo,
    pub image_id: Option<String>,
    pub power_state: PowerState,
    /// State saved to disk by `suspend` (the guest then reports SHUTDOWN, as libvirt does).
    pub suspended: bool,
    pub rescued: bool,
    /// Prepared by `pre_live_migration`, not yet made permanent.
    pub incoming_migration: bool,
    /// Mountpoint → attached volume.
    pub volumes: BTreeMap<String, VolumeConnection>,
    /// Port id → plugged NIC.
    pub interfaces: BTreeMap<String, Vif>,
    pub console: VecDeque<String>,
    /// VNC port (the serial console listens at this + 4100).
    pub console_port: u16,
    /// When the guest was defined or last booted: its uptime (and the diagnostics counters
    /// that grow with it) counts from here.
    pub booted_at: Instant,
}

impl FakeInstance {
    /// A guest being built on `node` (power state NOSTATE until it boots).
    pub(crate) fn building(
        instance: &InstanceRef,
        node: &str,
        request: &SpawnRequest,
        console_port: u16,
    ) -> Self {
        let mut guest = Self {
            uuid: instance.uuid.clone(),
            name: instance.name.clone(),
            display_name: instance.display_name.clone(),
            node: node.into(),
            flavor: instance.flavor.clone(),
            image_id: request.image_meta.id.clone().or_else(|| instance.image_ref.clone()),
            power_state: PowerState::NoState,
            suspended: false,
            rescued: false,
            incoming_migration: false,
            volumes: BTreeMap::new(),
            interfaces: BTreeMap::new(),
            console: VecDeque::new(),
            console_port,
            booted_at: Instant::now(),
        };
        guest.plug(&request.network_info, &request.block_device_info.volumes);
        guest
    }

    /// Records the NICs and volumes a build or an incoming migration brings.
    pub(crate) fn plug(&mut self, vifs: &[Vif], volumes: &[crate::virt::VolumeMapping]) {
        for vif in vifs {
            self.interfaces.insert(vif.id.clone(), vif.clone());
        }
        for mapping in volumes {
            self.volumes.insert(mapping.mount_device.clone(), mapping.connection.clone());
        }
    }

    pub(crate) fn log(&mut self, line: impl Into<String>) {
        if self.console.len() == CONSOLE_LINES {
            self.console.pop_front();
        }
        self.console.push_back(line.into());
    }

    fn boot(&mut self) {
        self.power_state = PowerState::Running;
        self.suspended = false;
        self.booted_at = Instant::now();
        let from = if self.rescued { "rescue image" } else { "disk" };
        let lines = [
            "[    0.000000] Linux version 6.1.0 (monostack fake hypervisor)".to_string(),
            format!(
                "[    0.000000] Booting {} ({}) on {} from {from}",
                self.name, self.uuid, self.node
            ),
            "[    1.234567] Run /sbin/init as init process".to_string(),
            format!(
                "{} login:",
                if self.display_name.is_empty() { &self.name } else { &self.display_name }
            ),
        ];
        for line in lines {
            self.log(line);
        }
    }

    fn refuse(&self, action: &'static str) -> VirtError {
        VirtError::InvalidPowerState {
            instance: self.uuid.clone(),
            action,
            state: self.power_state,
        }
    }

    /// The build finished: the guest runs, or stays off when not asked to start.
    pub(crate) fn finish_build(&mut self, power_on: bool) -> Option<LifecycleTransition> {
        if power_on {
            self.boot();
            Some(LifecycleTransition::Started)
        } else {
            self.power_state = PowerState::Shutdown;
            None
        }
    }

    pub(crate) fn power_off(&mut self) -> Option<LifecycleTransition> {
        if self.power_state == PowerState::Shutdown && !self.suspended {
            return None;
        }
        self.log("reboot: Power down");
        self.power_state = PowerState::Shutdown;
        self.suspended = false;
        Some(LifecycleTransition::Stopped)
    }

    /// Starts the guest whatever its state (a saved state is discarded, as a hard boot does).
    pub(crate) fn power_on(&mut self) -> Option<LifecycleTransition> {
        if self.power_state == PowerState::Running {
            return None;
        }
        self.boot();
        Some(LifecycleTransition::Started)
    }

    /// A soft reboot of a guest that is not running falls back to a hard one, as in libvirt.
    pub(crate) fn reboot(&mut self, reboot_type: RebootType) -> Option<LifecycleTransition> {
        let was_running = self.power_state == PowerState::Running;
        let kind = if reboot_type == RebootType::Soft && was_running { "soft" } else { "hard" };
        self.log(format!("reboot: Restarting system ({kind} reboot)"));
        self.boot();
        (!was_running).then_some(LifecycleTransition::Started)
    }

    pub(crate) fn pause(&mut self) -> VirtResult<LifecycleTransition> {
        if self.power_state != PowerState::Running {
            return Err(self.refuse("pause"));
        }
        self.power_state = PowerState::Paused;
        Ok(LifecycleTransition::Paused)
    }

    pub(crate) fn unpause(&mut self) -> VirtResult<LifecycleTransition> {
        if self.power_state != PowerState::Paused {
            return Err(self.refuse("unpause"));
        }
        self.power_state = PowerState::Running;
        Ok(LifecycleTransition::Resumed)
    }

    pub(crate) fn suspend(&mut self) -> VirtResult<LifecycleTransition> {
        if !matches!(self.power_state, PowerState::Running | PowerState::Paused) {
            return Err(self.refuse("suspend"));
        }
        self.log("PM: suspend entry (disk)");
        self.power_state = PowerState::Shutdown;
        self.suspended = true;
        Ok(LifecycleTransition::Suspended)
    }

    pub(crate) fn resume(&mut self) -> VirtResult<LifecycleTransition> {
        if !self.suspended {
            return Err(self.refuse("resume"));
        }
        self.log("PM: resume from disk");
        self.power_state = PowerState::Running;
        self.suspended = false;
        Ok(LifecycleTransition::Resumed)
    }

    pub(crate) fn rescue(&mut self) -> VirtResult<LifecycleTransition> {
        if self.rescued {
            return Err(VirtError::InstanceNotRescuable {
                instance: self.uuid.clone(),
                reason: "it is already in rescue mode".into(),
            });
        }
        self.rescued = true;
        self.boot();
        Ok(LifecycleTransition::Started)
    }

    pub(crate) fn unrescue(&mut self) -> VirtResult<LifecycleTransition> {
        if !self.rescued {
            return Err(VirtError::InstanceNotInRescueMode { instance: self.uuid.clone() });
        }
        self.rescued = false;
        self.boot();
        Ok(LifecycleTransition::Started)
    }

    pub(crate) fn attach_volume(
        &mut self,
        connection: &VolumeConnection,
        mountpoint: &str,
    ) -> VirtResult<()> {
        let busy = |reason: String| VirtError::VolumeAttachFailed {
            volume_id: connection.volume_id.clone(),
            reason,
        };
        if self.volumes.contains_key(mountpoint) {
            return Err(busy(format!("device {mountpoint} is already in use")));
        }
        if self.volumes.values().any(|v| v.volume_id == connection.volume_id) {
            return Err(busy("the volume is already attached to this instance".into()));
        }
        self.volumes.insert(mountpoint.into(), connection.clone());
        Ok(())
    }

    pub(crate) fn detach_volume(
        &mut self,
        connection: &VolumeConnection,
        mountpoint: &str,
    ) -> VirtResult<()> {
        match self.volumes.get(mountpoint) {
            Some(attached) if attached.volume_id == connection.volume_id => {
                self.volumes.remove(mountpoint);
                Ok(())
            }
            _ => Err(VirtError::DiskNotFound { location: mountpoint.into() }),
        }
    }

    pub(crate) fn swap_volume(
        &mut self,
        old: &VolumeConnection,
        new: &VolumeConnection,
        mountpoint: &str,
    ) -> VirtResult<()> {
        self.detach_volume(old, mountpoint)?;
        self.volumes.insert(mountpoint.into(), new.clone());
        Ok(())
    }

    pub(crate) fn attach_interface(&mut self, vif: &Vif) -> VirtResult<()> {
        if self.interfaces.contains_key(&vif.id) {
            return Err(VirtError::InterfaceAttachFailed {
                instance: self.uuid.clone(),
                reason: format!("port {} is already attached", vif.id),
            });
        }
        self.interfaces.insert(vif.id.clone(), vif.clone());
        Ok(())
    }

    pub(crate) fn detach_interface(&mut self, vif: &Vif) -> VirtResult<()> {
        if self.interfaces.remove(&vif.id).is_none() {
            return Err(VirtError::InterfaceDetachFailed {
                instance: self.uuid.clone(),
                reason: format!("port {} is not attached", vif.id),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guest() -> FakeInstance {
        let instance = InstanceRef {
            uuid: "u1".into(),
            name: "instance-00000001".into(),
            display_name: "vm1".into(),
            ..Default::default()
        };
        let mut g = FakeInstance::building(&instance, "fake-1", &SpawnRequest::default(), 5900);
        g.finish_build(true);
        g
    }

    fn volume(id: &str) -> VolumeConnection {
        VolumeConnection {
            volume_id: id.into(),
            driver_volume_type: "local".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_built_guest_runs_and_logs_a_login_prompt() {
        let g = guest();
        assert_eq!(g.power_state, PowerState::Running);
        assert_eq!(g.console.back().map(String::as_str), Some("vm1 login:"));
    }

    #[test]
    fn a_guest_built_without_power_on_stays_off() {
        let mut g = guest();
        g.power_state = PowerState::NoState;
        assert_eq!(g.finish_build(false), None);
        assert_eq!(g.power_state, PowerState::Shutdown);
    }

    #[test]
    fn pause_needs_a_running_guest() {
        let mut g = guest();
        assert_eq!(g.pause().unwrap(), LifecycleTransition::Paused);
        assert!(matches!(g.pause(), Err(VirtError::InvalidPowerState { action: "pause", .. })));
        assert_eq!(g.unpause().unwrap(), LifecycleTransition::Resumed);
        assert!(g.unpause().is_err());
        g.power_off();
        assert!(g.pause().is_err());
    }

    #[test]
    fn suspend_saves_to_disk_and_reports_shutdown() {
        let mut g = guest();
        assert!(g.resume().is_err());
        g.suspend().unwrap();
        assert_eq!(g.power_state, PowerState::Shutdown);
        assert!(g.suspended);
        assert!(g.suspend().is_err());
        g.resume().unwrap();
        assert_eq!(g.power_state, PowerState::Running);
        g.pause().unwrap();
        g.suspend().unwrap();
        assert!(g.suspended);
    }

    #[test]
    fn power_cycle_is_idempotent() {
        let mut g = guest();
        assert_eq!(g.power_off(), Some(LifecycleTransition::Stopped));
        assert_eq!(g.power_off(), None);
        assert_eq!(g.power_on(), Some(LifecycleTransition::Started));
        assert_eq!(g.power_on(), None);
        g.suspend().unwrap();
        assert_eq!(g.power_on(), Some(LifecycleTransition::Started));
        assert!(!g.suspended);
    }

    #[test]
    fn reboots_end_running_and_soft_falls_back_to_hard() {
        let mut g = guest();
        assert_eq!(g.reboot(RebootType::Soft), None);
        assert!(g.console.iter().any(|l| l.contains("soft reboot")));
        g.power_off();
        assert_eq!(g.reboot(RebootType::Soft), Some(LifecycleTransition::Started));
        assert!(g.console.iter().any(|l| l.contains("hard reboot")));
        g.pause().unwrap();
        g.reboot(RebootType::Hard);
        assert_eq!(g.power_state, PowerState::Running);
    }

    #[test]
    fn rescue_and_unrescue_alternate() {
        let mut g = guest();
        assert!(matches!(g.unrescue(), Err(VirtError::InstanceNotInRescueMode { .. })));
        g.power_off();
        g.rescue().unwrap();
        assert!(g.rescued);
        assert_eq!(g.power_state, PowerState::Running);
        assert!(g.console.iter().any(|l| l.contains("from rescue image")));
        assert!(matches!(g.rescue(), Err(VirtError::InstanceNotRescuable { .. })));
        g.unrescue().unwrap();
        assert!(!g.rescued);
    }

    #[test]
    fn volumes_attach_once_per_device_and_detach_by_device() {
        let mut g = guest();
        g.attach_volume(&volume("v1"), "/dev/vdb").unwrap();
        assert!(g.attach_volume(&volume("v2"), "/dev/vdb").is_err());
        assert!(g.attach_volume(&volume("v1"), "/dev/vdc").is_err());
        assert!(matches!(
            g.detach_volume(&volume("v2"), "/dev/vdb"),
            Err(VirtError::DiskNotFound { .. })
        ));
        g.swap_volume(&volume("v1"), &volume("v3"), "/dev/vdb").unwrap();
        assert_eq!(g.volumes["/dev/vdb"].volume_id, "v3");
        g.detach_volume(&volume("v3"), "/dev/vdb").unwrap();
        assert!(g.volumes.is_empty());
    }

    #[test]
    fn interfaces_attach_once() {
        let mut g = guest();
        let vif = Vif { id: "p1".into(), ..Default::default() };
        g.attach_interface(&vif).unwrap();
        assert!(matches!(g.attach_interface(&vif), Err(VirtError::InterfaceAttachFailed { .. })));
        g.detach_interface(&vif).unwrap();
        assert!(matches!(g.detach_interface(&vif), Err(VirtError::InterfaceDetachFailed { .. })));
    }

    #[test]
    fn console_is_bounded() {
        let mut g = guest();
        for i in 0..500 {
            g.log(format!("line {i}"));
        }
        assert_eq!(g.console.len(), CONSOLE_LINES);
        assert_eq!(g.console.back().map(String::as_str), Some("line 499"));
    }
}
