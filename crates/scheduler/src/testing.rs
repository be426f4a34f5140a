//! Builders shared by the unit tests.

use crate::host_state::{HostState, SupportedInstance};
use crate::request_spec::{Flavor, RequestSpec};

/// An up, enabled, empty host named `name` (node `name-node`, uuid `name-uuid`).
pub fn host(name: &str, ram_mb: i64, disk_gb: i64, vcpus: i64) -> HostState {
    let mut h = HostState::new(name, &format!("{name}-node"), &format!("{name}-uuid"));
    h.total_usable_ram_mb = ram_mb;
    h.free_ram_mb = ram_mb;
    h.total_usable_disk_gb = disk_gb;
    h.free_disk_mb = disk_gb * 1024;
    h.vcpus_total = vcpus;
    h.hypervisor_type = "qemu".into();
    h.hypervisor_version = 6_002_000;
    h.supported_instances = vec![SupportedInstance::new("x86_64", "qemu", "hvm")];
    h
}

/// A one-instance request for a flavor of `ram_mb`, `disk_gb` and `vcpus`.
pub fn spec(ram_mb: u64, disk_gb: u64, vcpus: u32) -> RequestSpec {
    let flavor = Flavor {
        name: "test".into(),
        vcpus,
        memory_mb: ram_mb,
        root_gb: disk_gb,
        ..Flavor::default()
    };
    let mut s = RequestSpec::new(flavor, 1);
    s.project_id = "project-1".into();
    s.user_id = "user-1".into();
    s
}
