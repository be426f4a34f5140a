//! Driver failures, typed so the compute manager can react (reschedule a failed spawn, roll
//! back a migration, put the instance in ERROR) without parsing messages. Messages follow
//! Nova's exceptions.

use super::power_state::PowerState;

pub type VirtResult<T> = Result<T, VirtError>;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VirtError {
    #[error("Instance {instance} could not be found.")]
    InstanceNotFound { instance: String },
    #[error("Instance {instance} already exists on node {node}.")]
    InstanceExists { instance: String, node: String },
    #[error("Node {node} could not be found.")]
    NodeNotFound { node: String },
    #[error("Instance {instance} is not running.")]
    InstanceNotRunning { instance: String },
    #[error("Cannot {action} instance {instance} while it is in power state {state}.")]
    InvalidPowerState { instance: String, action: &'static str, state: PowerState },
    #[error("Failed to deploy instance {instance}: {reason}")]
    InstanceDeployFailure { instance: String, reason: String },
    #[error("Failed to power off instance: {reason}")]
    InstancePowerOffFailure { reason: String },
    #[error("Failed to power on instance: {reason}")]
    InstancePowerOnFailure { reason: String },
    #[error("Failed to reboot instance: {reason}")]
    InstanceRebootFailure { reason: String },
    #[error("Failed to suspend instance: {reason}")]
    InstanceSuspendFailure { reason: String },
    #[error("Failed to resume instance: {reason}")]
    InstanceResumeFailure { reason: String },
    #[error("Instance {instance} cannot be rescued: {reason}")]
    InstanceNotRescuable { instance: String, reason: String },
    #[error("Instance {instance} is not in rescue mode")]
    InstanceNotInRescueMode { instance: String },
    #[error("Failed to snapshot instance {instance}: {reason}")]
    SnapshotFailure { instance: String, reason: String },
    #[error("Unavailable console type {console_type}.")]
    ConsoleTypeUnavailable { console_type: String },
    #[error("Volume {volume_id} could not be attached. Reason: {reason}")]
    VolumeAttachFailed { volume_id: String, reason: String },
    #[error("No disk at {location}")]
    DiskNotFound { location: String },
    #[error("Failed to attach network adapter device to {instance}: {reason}")]
    InterfaceAttachFailed { instance: String, reason: String },
    #[error("Failed to detach network adapter device from {instance}: {reason}")]
    InterfaceDetachFailed { instance: String, reason: String },
    #[error("Resize error: {reason}")]
    ResizeError { reason: String },
    #[error("Migration pre-check error: {reason}")]
    MigrationPreCheckError { reason: String },
    #[error("Migration error: {reason}")]
    MigrationError { reason: String },
    #[error("The {operation} operation is not supported by the {driver} driver.")]
    NotSupported { driver: &'static str, operation: &'static str },
    #[error("Invalid virt driver configuration: {reason}")]
    InvalidConfig { reason: String },
    #[error("Hypervisor error: {reason}")]
    Internal { reason: String },
}

impl VirtError {
    pub(crate) fn not_found(instance: &str) -> Self {
        Self::InstanceNotFound { instance: instance.into() }
    }
}
