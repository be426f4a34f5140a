//! Failure injection: rules that make a chosen operation fail on a node, for an instance
//! name or uuid, always or a given number of times, so tests can exercise rescheduling,
//! rollbacks and ERROR states.

use crate::virt::{InstanceRef, VirtError};
use regex::Regex;

/// The operations a fault can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeOperation {
    Spawn,
    Destroy,
    Reboot,
    PowerOff,
    PowerOn,
    Pause,
    Unpause,
    Suspend,
    Resume,
    Rescue,
    Unrescue,
    Snapshot,
    AttachVolume,
    DetachVolume,
    AttachInterface,
    DetachInterface,
    MigrateDisk,
    FinishMigration,
    PreLiveMigration,
    LiveMigration,
}

impl FakeOperation {
    /// The error the real operation would raise on failure.
    pub(crate) fn error(self, instance: &InstanceRef, node: &str) -> VirtError {
        let reason = format!("injected {self:?} fault on node {node}");
        let uuid = instance.uuid.clone();
        match self {
            Self::Spawn => VirtError::InstanceDeployFailure { instance: uuid, reason },
            Self::PowerOff => VirtError::InstancePowerOffFailure { reason },
            Self::PowerOn | Self::Unpause | Self::Unrescue => {
                VirtError::InstancePowerOnFailure { reason }
            }
            Self::Reboot => VirtError::InstanceRebootFailure { reason },
            Self::Suspend | Self::Pause => VirtError::InstanceSuspendFailure { reason },
            Self::Resume => VirtError::InstanceResumeFailure { reason },
            Self::Rescue => VirtError::InstanceNotRescuable { instance: uuid, reason },
            Self::Snapshot => VirtError::SnapshotFailure { instance: uuid, reason },
            Self::AttachVolume => VirtError::VolumeAttachFailed { volume_id: "-".into(), reason },
            Self::AttachInterface => VirtError::InterfaceAttachFailed { instance: uuid, reason },
            Self::DetachInterface => VirtError::InterfaceDetachFailed { instance: uuid, reason },
            Self::MigrateDisk | Self::FinishMigration => VirtError::ResizeError { reason },
            Self::PreLiveMigration | Self::LiveMigration => VirtError::MigrationError { reason },
            Self::Destroy | Self::DetachVolume => VirtError::Internal { reason },
        }
    }
}

/// Fails `operation` for matching instances. Unset conditions match everything.
#[derive(Debug, Clone)]
pub struct FaultRule {
    pub operation: FakeOperation,
    /// Only on this node.
    pub node: Option<String>,
    /// Only for instances whose display name or hypervisor name matches.
    pub name_pattern: Option<Regex>,
    pub instance_uuid: Option<String>,
    /// Fire this many times, then retire; `None` fires forever.
    pub remaining: Option<u32>,
}

impl FaultRule {
    /// A rule failing every `operation`.
    pub fn new(operation: FakeOperation) -> Self {
        Self { operation, node: None, name_pattern: None, instance_uuid: None, remaining: None }
    }

    pub fn on_node(mut self, node: &str) -> Self {
        self.node = Some(node.into());
        self
    }

    pub fn matching_name(mut self, pattern: &str) -> Result<Self, regex::Error> {
        self.name_pattern = Some(Regex::new(pattern)?);
        Ok(self)
    }

    pub fn for_instance(mut self, uuid: &str) -> Self {
        self.instance_uuid = Some(uuid.into());
        self
    }

    pub fn times(mut self, count: u32) -> Self {
        self.remaining = Some(count);
        self
    }

    fn matches(&self, operation: FakeOperation, instance: &InstanceRef, node: &str) -> bool {
        self.operation == operation
            && self.remaining != Some(0)
            && self.node.as_deref().is_none_or(|n| n == node)
            && self.instance_uuid.as_deref().is_none_or(|u| u == instance.uuid)
            && self
                .name_pattern
                .as_ref()
                .is_none_or(|re| re.is_match(&instance.display_name) || re.is_match(&instance.name))
    }
}

/// The active rules.
#[derive(Debug, Default)]
pub(crate) struct FaultSet {
    rules: Vec<FaultRule>,
}

impl FaultSet {
    pub(crate) fn new(rules: Vec<FaultRule>) -> Self {
        Self { rules }
    }

    pub(crate) fn add(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// The error to raise if a rule fires for this call (consuming one of its shots).
    pub(crate) fn check(
        &mut self,
        operation: FakeOperation,
        instance: &InstanceRef,
        node: &str,
    ) -> Result<(), VirtError> {
        let Some(rule) = self.rules.iter_mut().find(|r| r.matches(operation, instance, node))
        else {
            return Ok(());
        };
        if let Some(remaining) = rule.remaining.as_mut() {
            *remaining -= 1;
        }
        tracing::info!(
            "Fake driver: injecting {operation:?} failure for {} on {node}",
            instance.uuid
        );
        Err(operation.error(instance, node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(name: &str) -> InstanceRef {
        InstanceRef {
            uuid: format!("{name}-uuid"),
            name: "instance-00000001".into(),
            display_name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn rules_match_on_operation_node_and_name() {
        let mut set = FaultSet::new(vec![
            FaultRule::new(FakeOperation::Spawn).on_node("fake-2"),
            FaultRule::new(FakeOperation::Spawn).matching_name("^fail-").unwrap(),
        ]);
        assert!(set.check(FakeOperation::Spawn, &instance("ok"), "fake-1").is_ok());
        assert!(set.check(FakeOperation::PowerOff, &instance("ok"), "fake-2").is_ok());
        let err = set.check(FakeOperation::Spawn, &instance("ok"), "fake-2").unwrap_err();
        assert!(matches!(err, VirtError::InstanceDeployFailure { .. }));
        assert!(set.check(FakeOperation::Spawn, &instance("fail-me"), "fake-1").is_err());
    }

    #[test]
    fn counted_rules_retire() {
        let mut set = FaultSet::new(vec![FaultRule::new(FakeOperation::PowerOff)
            .for_instance("a-uuid")
            .times(1)]);
        assert!(set.check(FakeOperation::PowerOff, &instance("b"), "n").is_ok());
        assert!(matches!(
            set.check(FakeOperation::PowerOff, &instance("a"), "n"),
            Err(VirtError::InstancePowerOffFailure { .. })
        ));
        assert!(set.check(FakeOperation::PowerOff, &instance("a"), "n").is_ok());
        set.add(FaultRule::new(FakeOperation::Reboot));
        assert!(set.check(FakeOperation::Reboot, &instance("a"), "n").is_err());
        set.clear();
        assert!(set.check(FakeOperation::Reboot, &instance("a"), "n").is_ok());
    }
}
