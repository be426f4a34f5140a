//! Flavor extra spec validation (microversion 2.86): keys in a namespace Nova knows must be
//! keys Nova knows, with values of the right form; keys in other namespaces, and keys without
//! a namespace, are the operator's own and pass.
//!
//! Traits are checked for their form (`trait<group>:<NAME>`, NAME of `[A-Z0-9_]`) rather than
//! against the os-traits list, so a cloud whose placement knows newer traits is not refused.

use regex::Regex;
use std::sync::OnceLock;

/// What a known key's value must be.
#[derive(Debug, Clone, Copy)]
enum Value {
    Bool,
    /// An integer, at least the bound when given.
    Int { min: Option<i64>, max: Option<i64> },
    /// One of these words.
    Enum(&'static [&'static str]),
    /// A match of this (anchored) pattern.
    Pattern(&'static str),
    /// Any text.
    Text,
}

use Value::{Bool, Enum, Int, Pattern, Text};

const fn min(n: i64) -> Value {
    Int { min: Some(n), max: None }
}

const CPU_MASK: &str = r"\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*";

/// Known keys: a name pattern (regex, anchored) and the value it takes.
const RULES: &[(&str, Value)] = &[
    ("hw:cpu_realtime", Bool),
    ("hw:cpu_realtime_mask", Pattern(r"(\^)?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*")),
    ("hw:hide_hypervisor_id", Bool),
    ("hw:cpu_policy", Enum(&["dedicated", "shared", "mixed"])),
    ("hw:cpu_thread_policy", Enum(&["prefer", "isolate", "require"])),
    ("hw:emulator_threads_policy", Enum(&["isolate", "share"])),
    ("hw:cpu_dedicated_mask", Pattern(CPU_MASK)),
    ("hw:mem_page_size", Pattern(r"(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)")),
    ("hw:locked_memory", Bool),
    ("hw:numa_nodes", min(1)),
    (r"hw:numa_cpus\.\d+", Pattern(CPU_MASK)),
    (r"hw:numa_mem\.\d+", min(1)),
    ("hw:pci_numa_affinity_policy", Enum(&["required", "preferred", "legacy", "socket"])),
    ("hw:cpu_sockets", min(1)),
    ("hw:cpu_cores", min(1)),
    ("hw:cpu_threads", min(1)),
    ("hw:cpu_max_sockets", min(1)),
    ("hw:cpu_max_cores", min(1)),
    ("hw:cpu_max_threads", min(1)),
    ("hw:boot_menu", Bool),
    ("hw:vif_multiqueue_enabled", Bool),
    ("hw:mem_encryption", Bool),
    ("hw:mem_encryption_model", Enum(&["amd-sev", "amd-sev-es", "amd-sev-snp"])),
    ("hw:pmem", Pattern(r"([a-zA-Z0-9_]+(,)?)+")),
    ("hw:pmu", Bool),
    ("hw:serial_port_count", min(0)),
    ("hw:tpm_model", Enum(&["tpm-tis", "tpm-crb"])),
    ("hw:tpm_version", Enum(&["1.2", "2.0"])),
    ("hw:tpm_secret_security", Enum(&["user", "host", "deployment"])),
    ("hw:watchdog_action", Enum(&["none", "pause", "poweroff", "reset", "disabled"])),
    ("hw:viommu_model", Enum(&["intel", "smmuv3", "virtio", "auto"])),
    ("hw:virtio_packed_ring", Bool),
    ("hw:sound_model", Enum(&["sb16", "es1370", "pcspk", "ac97", "ich6", "ich9", "usb", "virtio"])),
    ("hw:usb_model", Enum(&["none", "nec-xhci", "qemu-xhci"])),
    ("hw:redirected_usb_ports", Int { min: Some(0), max: Some(15) }),
    ("hw:ephemeral_encryption", Bool),
    ("hw:ephemeral_encryption_format", Enum(&["luks", "plain"])),
    ("hw_rng:allowed", Bool),
    ("hw_rng:rate_bytes", min(0)),
    ("hw_rng:rate_period", min(0)),
    ("hw_video:ram_max_mb", min(0)),
    ("os:secure_boot", Enum(&["disabled", "required"])),
    ("quota:(cpu|memory|disk_io|vif)_limit", min(0)),
    ("quota:(cpu|memory|disk_io|vif)_reservation", Int { min: None, max: None }),
    ("quota:(cpu|memory|disk_io|vif)_shares_level", Enum(&["custom", "high", "normal", "low"])),
    ("quota:(cpu|memory|disk_io|vif)_shares_share", min(0)),
    ("quota:cpu_shares", min(0)),
    ("quota:cpu_period", min(0)),
    ("quota:cpu_quota", Int { min: None, max: None }),
    ("quota:disk_(read|write|total)_(bytes|iops)_sec", min(0)),
    ("quota:vif_(inbound|outbound)_(average|peak|burst)", min(0)),
    ("accel:device_profile", Text),
    ("aggregate_instance_extra_specs:.+", Text),
    (
        "capabilities:(id|uuid|service_id|host|vcpus|memory_mb|local_gb|vcpus_used|memory_mb_used|local_gb_used|hypervisor_type|hypervisor_version|hypervisor_hostname|free_ram_mb|free_disk_gb|current_workload|running_vms|disk_available_least|host_ip|mapped|cpu_allocation_ratio|ram_allocation_ratio|disk_allocation_ratio|total_usable_ram_mb|total_usable_disk_gb|disk_mb_used|free_disk_mb|vcpus_total|num_instances|num_io_ops|failed_builds|aggregates|cell_uuid|updated)",
        Text,
    ),
    ("capabilities:(cpu_info|metrics|stats|numa_topology|supported_hv_specs|pci_device_pools|nodename|pci_stats|supported_instances|limits|instances)(:\\w+)*", Text),
    ("hide_hypervisor_id", Bool),
    ("group_policy", Enum(&["isolate", "none"])),
    (r"pci_passthrough:alias", Pattern(r"[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*")),
    ("vmware:hw_version", Text),
    ("vmware:storage_policy", Text),
    (r"resources([a-zA-Z0-9_-]{1,64})?:(VCPU|MEMORY_MB|DISK_GB|PCI_DEVICE|SRIOV_NET_VF|NUMA_SOCKET|NUMA_CORE|NUMA_THREAD|NUMA_MEMORY_MB|IPV4_ADDRESS|VGPU|VGPU_DISPLAY_HEAD|NET_BW_EGR_KILOBIT_PER_SEC|NET_BW_IGR_KILOBIT_PER_SEC|PCPU|MEM_ENCRYPTION_CONTEXT|FPGA|PGPU|NET_PACKET_RATE_KILOPACKET_PER_SEC|NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC|NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC|CUSTOM_[A-Z0-9_]+)", Int { min: None, max: None }),
    (r"trait([a-zA-Z0-9_-]{1,64})?:[A-Z0-9_]+", Enum(&["required", "forbidden"])),
];

/// Namespaces (the part before the first `:`) that Nova validates: a key in one of them that
/// no rule knows is refused.
const NAMESPACES: &[&str] = &[
    "hw", "hw_rng", "hw_video", "os", "quota", "accel", "aggregate_instance_extra_specs", "capabilities", "pci_passthrough", "vmware",
    r"resources([a-zA-Z0-9_-]{1,64})?", r"trait([a-zA-Z0-9_-]{1,64})?",
];

struct Compiled {
    rules: Vec<(Regex, Value)>,
    namespaces: Vec<Regex>,
}

/// `pattern` matching whole strings; the patterns above are constants the tests compile, so
/// None never happens in practice (and would only make a rule match nothing).
fn anchored(pattern: &str) -> Option<Regex> {
    Regex::new(&format!("^(?:{pattern})$")).ok()
}

fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| Compiled {
        rules: RULES.iter().filter_map(|(name, value)| Some((anchored(name)?, *value))).collect(),
        namespaces: NAMESPACES.iter().filter_map(|n| anchored(n)).collect(),
    })
}

/// Checks one extra spec; the error is Nova's 400 message.
pub fn validate(name: &str, value: &str) -> Result<(), String> {
    let c = compiled();
    if let Some((_, rule)) = c.rules.iter().find(|(re, _)| re.is_match(name)) {
        return check_value(*rule, value);
    }
    let Some((namespace, _)) = name.split_once(':') else { return Ok(()) };
    if c.namespaces.iter().any(|re| re.is_match(namespace)) {
        return Err(format!("Validation failed; extra spec '{name}' does not appear to be a valid extra spec."));
    }
    Ok(())
}

fn check_value(rule: Value, value: &str) -> Result<(), String> {
    match rule {
        Bool => crate::api::input::parse_bool(value)
            .map(|_| ())
            .ok_or_else(|| format!("Validation failed; '{value}' is not a valid boolean-like value.")),
        Int { min, max } => {
            let n: i64 = value.trim().parse().map_err(|_| format!("Validation failed; '{value}' is not a valid integer value."))?;
            if let Some(m) = max.filter(|m| n > *m) {
                return Err(format!("Validation failed; '{value}' is greater than the max value of '{m}'."));
            }
            if let Some(m) = min.filter(|m| n < *m) {
                return Err(format!("Validation failed; '{value}' is less than the min value of '{m}'."));
            }
            Ok(())
        }
        Enum(words) if words.contains(&value) => Ok(()),
        Enum(words) => Err(format!("Validation failed; '{value}' is not one of: {}.", words.join(", "))),
        Pattern(p) if anchored(p).is_some_and(|re| re.is_match(value)) => Ok(()),
        Pattern(p) => Err(format!("Validation failed; '{value}' is not of the format '{p}'.")),
        Text => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for (name, value) in RULES {
            assert!(Regex::new(name).is_ok(), "{name}");
            if let Pattern(p) = value {
                assert!(Regex::new(p).is_ok(), "{p}");
            }
        }
        for n in NAMESPACES {
            assert!(Regex::new(n).is_ok(), "{n}");
        }
    }

    #[test]
    fn known_keys_need_valid_values() {
        assert!(validate("hw:cpu_policy", "dedicated").is_ok());
        assert_eq!(validate("hw:cpu_policy", "fast").err().as_deref(), Some("Validation failed; 'fast' is not one of: dedicated, shared, mixed."));
        assert!(validate("hw:mem_page_size", "2048").is_ok());
        assert!(validate("hw:mem_page_size", "large").is_ok());
        assert!(validate("hw:mem_page_size", "huge").is_err());
        assert!(validate("hw:numa_nodes", "0").is_err());
        assert!(validate("hw:numa_cpus.0", "0-3,^2").is_ok());
        assert!(validate("hw_rng:allowed", "True").is_ok());
        assert!(validate("hw_rng:allowed", "sometimes").is_err());
        assert!(validate("resources:VCPU", "2").is_ok());
        assert!(validate("resources1:CUSTOM_GPU", "1").is_ok());
        assert!(validate("resources:VCPU", "two").is_err());
        assert!(validate("trait:HW_CPU_X86_AVX", "required").is_ok());
        assert!(validate("trait:HW_CPU_X86_AVX", "wanted").is_err());
        assert!(validate("hw:redirected_usb_ports", "16").is_err());
    }

    #[test]
    fn unknown_keys_only_fail_in_known_namespaces() {
        assert!(validate("hw:not_a_thing", "1").is_err());
        assert!(validate("resources:NOT_A_CLASS", "1").is_err());
        assert!(validate("trait:lowercase", "required").is_err());
        assert!(validate("mycompany:anything", "x").is_ok());
        assert!(validate("no-namespace", "x").is_ok());
    }
}
