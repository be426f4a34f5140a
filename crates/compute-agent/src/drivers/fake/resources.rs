//! A node's resources as the fake hypervisor reports them: its configured size, and what its
//! guests use.

use super::{FakeDriverConfig, FakeInstance};
use crate::virt::{CpuInfo, CpuTopology, NodeResources, SupportedInstance, VolumeConnector};

pub(super) fn node_resources<'a>(
    config: &FakeDriverConfig,
    node: &str,
    guests: impl Iterator<Item = &'a FakeInstance>,
) -> NodeResources {
    let (mut vcpus_used, mut memory_mb_used, mut local_gb_used) = (0u32, 0u64, 0u64);
    for guest in guests.filter(|g| g.node == node) {
        vcpus_used += guest.flavor.vcpus;
        memory_mb_used += guest.flavor.memory_mb;
        local_gb_used +=
            guest.flavor.root_gb + guest.flavor.ephemeral_gb + guest.flavor.swap_mb.div_ceil(1024);
    }
    NodeResources {
        hypervisor_hostname: node.into(),
        hypervisor_type: config.hypervisor_type.clone(),
        hypervisor_version: config.hypervisor_version,
        vcpus: config.vcpus,
        memory_mb: config.memory_mb,
        local_gb: config.local_gb,
        vcpus_used,
        memory_mb_used,
        local_gb_used,
        disk_available_least: config.local_gb as i64 - local_gb_used as i64,
        cpu_info: CpuInfo {
            arch: config.cpu_arch.clone(),
            model: "Nehalem".into(),
            vendor: "Intel".into(),
            features: ["pge", "clflush", "sse4.2", "avx"].map(String::from).to_vec(),
            topology: CpuTopology { sockets: 1, cores: config.vcpus, threads: 1 },
        },
        supported_instances: vec![SupportedInstance {
            arch: config.cpu_arch.clone(),
            hv_type: config.hypervisor_type.clone(),
            vm_mode: "hvm".into(),
        }],
    }
}

pub(super) fn volume_connector(host: &str, arch: &str) -> VolumeConnector {
    VolumeConnector {
        host: host.into(),
        ip: "127.0.0.1".into(),
        initiator: Some(format!("iqn.2010-10.org.openstack:{host}")),
        platform: arch.into(),
        os_type: "linux".into(),
        multipath: false,
    }
}
