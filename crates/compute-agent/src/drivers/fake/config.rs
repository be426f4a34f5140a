//! The fake driver's settings: how many nodes, how big, how slow, and which spawns fail.

use super::faults::{FakeOperation, FaultRule};
use crate::virt::VirtError;
use monostack_common::config::FakeDriverSection;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct FakeDriverConfig {
    pub node_names: Vec<String>,
    pub vcpus: u32,
    pub memory_mb: u64,
    pub local_gb: u64,
    pub hypervisor_type: String,
    pub hypervisor_version: u64,
    pub cpu_arch: String,
    /// Total duration of a spawn, spread over its steps.
    pub spawn_delay: Duration,
    /// Duration of every other operation on an instance.
    pub action_delay: Duration,
    /// Failures to inject from the start.
    pub faults: Vec<FaultRule>,
}

impl FakeDriverConfig {
    /// `count` nodes (at least one) named `fake-1..count`, with the section's defaults
    /// otherwise and no injected failures.
    pub fn with_nodes(count: u32) -> Self {
        Self::base(&FakeDriverSection { node_count: count.max(1), ..FakeDriverSection::default() })
    }

    /// Reads the `[fake_driver]` section; a bad regular expression or zero nodes is an error.
    pub fn from_section(section: &FakeDriverSection) -> Result<Self, VirtError> {
        if section.node_count == 0 {
            return Err(VirtError::InvalidConfig {
                reason: "[fake_driver] node_count must be at least 1".into(),
            });
        }
        let mut faults: Vec<FaultRule> = section
            .fail_spawn_on_nodes
            .iter()
            .map(|node| FaultRule::new(FakeOperation::Spawn).on_node(node))
            .collect();
        if let Some(pattern) = &section.fail_spawn_name_regex {
            let rule =
                FaultRule::new(FakeOperation::Spawn).matching_name(pattern).map_err(|e| {
                    VirtError::InvalidConfig {
                        reason: format!("[fake_driver] fail_spawn_name_regex: {e}"),
                    }
                })?;
            faults.push(rule);
        }
        Ok(Self { faults, ..Self::base(section) })
    }

    fn base(section: &FakeDriverSection) -> Self {
        Self {
            node_names: (1..=section.node_count)
                .map(|i| format!("{}{i}", section.node_name_prefix))
                .collect(),
            vcpus: section.vcpus,
            memory_mb: section.memory_mb,
            local_gb: section.local_gb,
            hypervisor_type: section.hypervisor_type.clone(),
            hypervisor_version: section.hypervisor_version,
            cpu_arch: section.cpu_arch.clone(),
            spawn_delay: Duration::from_millis(section.spawn_delay_ms),
            action_delay: Duration::from_millis(section.action_delay_ms),
            faults: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_named_from_the_prefix() {
        let section = FakeDriverSection { node_count: 3, ..FakeDriverSection::default() };
        let config = FakeDriverConfig::from_section(&section).unwrap();
        assert_eq!(config.node_names, vec!["fake-1", "fake-2", "fake-3"]);
        assert_eq!(FakeDriverConfig::with_nodes(2).node_names, vec!["fake-1", "fake-2"]);
    }

    #[test]
    fn configured_failures_become_spawn_faults() {
        let section = FakeDriverSection {
            fail_spawn_on_nodes: vec!["fake-2".into()],
            fail_spawn_name_regex: Some("^fail-".into()),
            ..FakeDriverSection::default()
        };
        assert_eq!(FakeDriverConfig::from_section(&section).unwrap().faults.len(), 2);
    }

    #[test]
    fn bad_settings_are_refused() {
        let zero = FakeDriverSection { node_count: 0, ..FakeDriverSection::default() };
        assert!(FakeDriverConfig::from_section(&zero).is_err());
        let bad = FakeDriverSection {
            fail_spawn_name_regex: Some("(".into()),
            ..FakeDriverSection::default()
        };
        let err = FakeDriverConfig::from_section(&bad).unwrap_err();
        assert!(err.to_string().contains("fail_spawn_name_regex"), "{err}");
    }
}
