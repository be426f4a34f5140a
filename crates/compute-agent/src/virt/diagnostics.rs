//! What a driver tells about a running guest (Nova's `get_diagnostics` and
//! `get_instance_diagnostics`): before 2.48 a driver-specific map of counters, from 2.48 the
//! standard [`InstanceDiagnostics`] every driver fills the same way.

use super::power_state::PowerState;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The driver-specific counters shown before 2.48 (libvirt's `cpu0_time`, `vda_read`,
/// `tap…_rx`, `memory`, …).
pub type DriverDiagnostics = BTreeMap<String, i64>;

/// One virtual CPU: its time in nanoseconds and its utilisation in percent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuDiagnostics {
    pub id: Option<u32>,
    pub time: Option<u64>,
    pub utilisation: Option<u32>,
}

/// One NIC's traffic counters (octets, packets, errors, drops; rates in bytes per second).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NicDiagnostics {
    pub mac_address: Option<String>,
    pub rx_octets: Option<u64>,
    pub rx_errors: Option<u64>,
    pub rx_drop: Option<u64>,
    pub rx_packets: Option<u64>,
    pub rx_rate: Option<u64>,
    pub tx_octets: Option<u64>,
    pub tx_errors: Option<u64>,
    pub tx_drop: Option<u64>,
    pub tx_packets: Option<u64>,
    pub tx_rate: Option<u64>,
}

/// One disk's I/O counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskDiagnostics {
    pub read_bytes: Option<u64>,
    pub read_requests: Option<u64>,
    pub write_bytes: Option<u64>,
    pub write_requests: Option<u64>,
    pub errors_count: Option<u64>,
}

/// Memory in MiB: the guest's maximum and what it uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryDiagnostics {
    pub maximum: Option<u64>,
    pub used: Option<u64>,
}

/// The standard diagnostics of a guest (Nova's `Diagnostics` object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceDiagnostics {
    pub state: PowerState,
    /// The driver family as Nova names it: `libvirt`, `vmwareapi`, `ironic`, `hyperv`.
    pub driver: String,
    /// The hypervisor (`qemu`, `kvm`).
    pub hypervisor: Option<String>,
    pub hypervisor_os: Option<String>,
    /// Seconds since the guest booted.
    pub uptime: Option<u64>,
    pub config_drive: bool,
    pub memory_details: MemoryDiagnostics,
    pub cpu_details: Vec<CpuDiagnostics>,
    pub nic_details: Vec<NicDiagnostics>,
    pub disk_details: Vec<DiskDiagnostics>,
}

impl InstanceDiagnostics {
    /// Nova's 2.48 view: the power state by its lower-case name (`pending` for NOSTATE) and
    /// the counts of CPUs, NICs and disks.
    pub fn view(&self) -> Value {
        let state = match self.state {
            PowerState::NoState => "pending",
            PowerState::Running => "running",
            PowerState::Paused => "paused",
            PowerState::Shutdown => "shutdown",
            PowerState::Crashed => "crashed",
            PowerState::Suspended => "suspended",
        };
        json!({
            "state": state,
            "driver": self.driver,
            "hypervisor": self.hypervisor,
            "hypervisor_os": self.hypervisor_os,
            "uptime": self.uptime,
            "config_drive": self.config_drive,
            "num_cpus": self.cpu_details.len(),
            "num_nics": self.nic_details.len(),
            "num_disks": self.disk_details.len(),
            "memory_details": self.memory_details,
            "cpu_details": self.cpu_details,
            "nic_details": self.nic_details,
            "disk_details": self.disk_details,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_counts_devices_and_names_the_state() {
        let d = InstanceDiagnostics {
            state: PowerState::NoState,
            driver: "libvirt".into(),
            hypervisor: Some("qemu".into()),
            hypervisor_os: Some("linux".into()),
            uptime: Some(5),
            config_drive: false,
            memory_details: MemoryDiagnostics { maximum: Some(512), used: Some(128) },
            cpu_details: vec![CpuDiagnostics::default(), CpuDiagnostics::default()],
            nic_details: vec![],
            disk_details: vec![DiskDiagnostics::default()],
        };
        let v = d.view();
        assert_eq!((v["state"].as_str(), v["num_cpus"].as_u64(), v["num_nics"].as_u64(), v["num_disks"].as_u64()), (Some("pending"), Some(2), Some(0), Some(1)));
        assert_eq!(v["memory_details"], json!({"maximum": 512, "used": 128}));
        assert_eq!(v["cpu_details"][0], json!({"id": null, "time": null, "utilisation": null}));
    }
}
