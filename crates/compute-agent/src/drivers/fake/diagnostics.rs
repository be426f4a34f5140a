//! What the fake hypervisor tells about itself and its guests: the host's `uptime` line, and
//! guest diagnostics shaped as libvirt reports a QEMU guest's (the fake stands in for one),
//! with counters that grow with the guest's uptime so successive readings differ as they do
//! on a real host.

use super::{FakeDriverConfig, FakeInstance};
use crate::virt::{
    CpuDiagnostics, DiskDiagnostics, DriverDiagnostics, InstanceDiagnostics, MemoryDiagnostics,
    NicDiagnostics,
};
use std::time::Duration;

/// The `uptime` line of a host up for `up` at `seconds_of_day` (UTC), with `load` as its
/// one-minute load average: ` 10:00:00 up 1 day,  2:03,  0 users,  load average: 0.10, …`.
pub(super) fn uptime_line(seconds_of_day: u64, up: Duration, load: f64) -> String {
    let (h, m, s) = (seconds_of_day / 3600 % 24, seconds_of_day / 60 % 60, seconds_of_day % 60);
    let up = up.as_secs();
    let (days, hours, minutes) = (up / 86_400, up / 3600 % 24, up / 60 % 60);
    let mut since = String::new();
    if days > 0 {
        since.push_str(&format!("{days} day{}, ", if days == 1 { "" } else { "s" }));
    }
    if hours > 0 {
        since.push_str(&format!("{hours:2}:{minutes:02}"));
    } else {
        since.push_str(&format!("{minutes} min"));
    }
    format!(
        " {h:02}:{m:02}:{s:02} up {since},  0 users,  load average: {load:.2}, {:.2}, {:.2}",
        load * 0.8,
        load * 0.6
    )
}

/// The guest's disks as it sees them: the root disk, the ephemeral and swap disks of its
/// flavor, then its volumes by mountpoint.
fn disk_names(guest: &FakeInstance) -> Vec<String> {
    let mut disks = vec!["vda".to_string()];
    let mut next = b'b';
    for present in [guest.flavor.ephemeral_gb > 0, guest.flavor.swap_mb > 0] {
        if present {
            disks.push(format!("vd{}", next as char));
            next += 1;
        }
    }
    disks.extend(guest.volumes.keys().map(|m| m.trim_start_matches("/dev/").to_string()));
    disks
}

/// A NIC's host-side device: the port's tap device (`tap` + the port id's first 11 characters).
fn tap_name(vif: &crate::virt::Vif) -> String {
    vif.devname.clone().unwrap_or_else(|| format!("tap{}", vif.id.chars().take(11).collect::<String>()))
}

/// Counters of one guest after `t` seconds up.
struct Counters {
    t: u64,
}

impl Counters {
    fn of(guest: &FakeInstance) -> Self {
        Counters { t: guest.booted_at.elapsed().as_secs() }
    }

    /// Nanoseconds of CPU time of vCPU `id`: 1.7 s to boot, then about 5% busy.
    fn cpu_time(&self, id: u64) -> u64 {
        1_700_000_000 + self.t * 50_000_000 + id * 1_000_000
    }

    fn disk(&self) -> DiskDiagnostics {
        DiskDiagnostics {
            read_bytes: Some(262_144 + self.t * 1024),
            read_requests: Some(112 + self.t / 4),
            write_bytes: Some(5_778_432 + self.t * 8192),
            write_requests: Some(488 + self.t),
            errors_count: Some(0),
        }
    }

    fn nic(&self, mac: &str) -> NicDiagnostics {
        NicDiagnostics {
            mac_address: Some(mac.to_string()),
            rx_octets: Some(2_070_139 + self.t * 1500),
            rx_errors: Some(0),
            rx_drop: Some(0),
            rx_packets: Some(26_701 + self.t * 10),
            rx_rate: None,
            tx_octets: Some(140_208 + self.t * 300),
            tx_errors: Some(0),
            tx_drop: Some(0),
            tx_packets: Some(662 + self.t * 2),
            tx_rate: None,
        }
    }

    /// MiB in use: a quarter of the guest's memory, at least 1.
    fn memory_used(&self, memory_mb: u64) -> u64 {
        (memory_mb / 4).max(1)
    }
}

/// libvirt's pre-2.48 counters (`cpu0_time`, `vda_read`, `tap…_rx`, `memory` in KiB, …).
pub(super) fn driver_diagnostics(guest: &FakeInstance) -> DriverDiagnostics {
    let c = Counters::of(guest);
    let mut out = DriverDiagnostics::new();
    let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    for id in 0..u64::from(guest.flavor.vcpus) {
        out.insert(format!("cpu{id}_time"), signed(c.cpu_time(id)));
    }
    for disk in disk_names(guest) {
        let d = c.disk();
        for (suffix, value) in [("read", d.read_bytes), ("read_req", d.read_requests), ("write", d.write_bytes), ("write_req", d.write_requests), ("errors", d.errors_count)] {
            out.insert(format!("{disk}_{suffix}"), signed(value.unwrap_or(0)));
        }
    }
    for vif in guest.interfaces.values() {
        let (n, tap) = (c.nic(&vif.address), tap_name(vif));
        for (suffix, value) in [
            ("rx", n.rx_octets),
            ("rx_packets", n.rx_packets),
            ("rx_errors", n.rx_errors),
            ("rx_drop", n.rx_drop),
            ("tx", n.tx_octets),
            ("tx_packets", n.tx_packets),
            ("tx_errors", n.tx_errors),
            ("tx_drop", n.tx_drop),
        ] {
            out.insert(format!("{tap}_{suffix}"), signed(value.unwrap_or(0)));
        }
    }
    let memory_kib = guest.flavor.memory_mb * 1024;
    out.insert("memory".into(), signed(memory_kib));
    out.insert("memory-actual".into(), signed(memory_kib));
    out.insert("memory-rss".into(), signed(c.memory_used(guest.flavor.memory_mb) * 1024));
    out
}

/// The standard diagnostics, as libvirt fills them for a QEMU guest (the fake builds no
/// config drive).
pub(super) fn instance_diagnostics(guest: &FakeInstance, config: &FakeDriverConfig) -> InstanceDiagnostics {
    let c = Counters::of(guest);
    InstanceDiagnostics {
        state: guest.power_state,
        driver: "libvirt".into(),
        hypervisor: Some(config.hypervisor_type.to_lowercase()),
        hypervisor_os: Some("linux".into()),
        uptime: Some(c.t),
        config_drive: false,
        memory_details: MemoryDiagnostics { maximum: Some(guest.flavor.memory_mb), used: Some(c.memory_used(guest.flavor.memory_mb)) },
        cpu_details: (0..guest.flavor.vcpus)
            .map(|id| CpuDiagnostics { id: Some(id), time: Some(c.cpu_time(u64::from(id))), utilisation: Some(5) })
            .collect(),
        nic_details: guest.interfaces.values().map(|vif| c.nic(&vif.address)).collect(),
        disk_details: disk_names(guest).iter().map(|_| c.disk()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_reads_like_the_uptime_command() {
        let line = uptime_line(36_000 + 61, Duration::from_secs(86_400 + 2 * 3600 + 3 * 60), 0.1);
        assert_eq!(line, " 10:01:01 up 1 day,  2:03,  0 users,  load average: 0.10, 0.08, 0.06");
        let short = uptime_line(0, Duration::from_secs(5 * 60 + 7), 0.0);
        assert_eq!(short, " 00:00:00 up 5 min,  0 users,  load average: 0.00, 0.00, 0.00");
        assert!(uptime_line(0, Duration::from_secs(3 * 86_400), 0.0).contains("up 3 days, 0 min"));
    }
}
