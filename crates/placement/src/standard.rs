//! The standard resource classes (os-resource-classes) and traits (os-traits) every placement
//! deployment knows, and the naming rules of custom ones.

/// Standard resource classes, in os-resource-classes order.
pub const RESOURCE_CLASSES: &[&str] = &[
    "VCPU",
    "MEMORY_MB",
    "DISK_GB",
    "PCI_DEVICE",
    "SRIOV_NET_VF",
    "NUMA_SOCKET",
    "NUMA_CORE",
    "NUMA_THREAD",
    "NUMA_MEMORY_MB",
    "IPV4_ADDRESS",
    "VGPU",
    "VGPU_DISPLAY_HEAD",
    "NET_BW_EGR_KILOBIT_PER_SEC",
    "NET_BW_IGR_KILOBIT_PER_SEC",
    "PCPU",
    "MEM_ENCRYPTION_CONTEXT",
    "FPGA",
    "PGPU",
    "NET_PACKET_RATE_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
];

/// The os-traits names, one a line.
const TRAITS: &str = include_str!("standard_traits.txt");

/// Every standard trait name.
pub fn traits() -> impl Iterator<Item = &'static str> {
    TRAITS.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// The trait that makes a provider share its inventory with the trees in its aggregates.
pub const MISC_SHARES_VIA_AGGREGATE: &str = "MISC_SHARES_VIA_AGGREGATE";

pub const CUSTOM_PREFIX: &str = "CUSTOM_";

/// `^[A-Z0-9_]+$`: the form of any resource class or trait name.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// `^CUSTOM_[A-Z0-9_]+$`: the form of a custom resource class or trait.
pub fn is_valid_custom_name(name: &str) -> bool {
    name.len() > CUSTOM_PREFIX.len() && name.starts_with(CUSTOM_PREFIX) && is_valid_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_sets_hold_what_nova_reports() {
        let traits: Vec<&str> = traits().collect();
        for t in ["COMPUTE_NET_ATTACH_INTERFACE", "COMPUTE_VOLUME_MULTI_ATTACH", "HW_CPU_X86_AVX2", "STORAGE_DISK_SSD",
            "MISC_SHARES_VIA_AGGREGATE", "COMPUTE_STATUS_DISABLED", "COMPUTE_IMAGE_TYPE_QCOW2", "HW_CPU_X86_VMX"] {
            assert!(traits.contains(&t), "{t}");
        }
        assert!(traits.iter().all(|t| is_valid_name(t) && !t.starts_with(CUSTOM_PREFIX)));
        assert!(RESOURCE_CLASSES.iter().all(|c| is_valid_name(c)));
    }

    #[test]
    fn custom_names() {
        assert!(is_valid_custom_name("CUSTOM_GOLD_1"));
        assert!(!is_valid_custom_name("CUSTOM_"));
        assert!(!is_valid_custom_name("CUSTOM_gold"));
        assert!(!is_valid_custom_name("GOLD"));
        assert!(is_valid_name("VCPU"));
        assert!(!is_valid_name("VCPU "));
    }
}
