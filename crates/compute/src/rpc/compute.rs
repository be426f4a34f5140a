//! Nova's ComputeAPI: what the API asks of the compute agent running an instance (topic
//! `compute`, server = the instance's host). Casts unless noted; calls answer JSON.
//!
//! Errors of calls: an agent that cannot do what was asked answers an error string holding a
//! [`RemoteFault`] as JSON (`{"kind": "ConsoleTypeUnavailable", "message": "..."}`), which the
//! API maps to Nova's status codes; any other error string is an internal failure.

use crate::context::RequestContext;
use monostack_bus::{Bus, BusError, Target};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

pub const TOPIC: &str = "compute";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceRef {
    pub instance_uuid: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopInstance {
    pub instance_uuid: String,
    pub clean_shutdown: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RebootInstance {
    pub instance_uuid: String,
    /// SOFT or HARD.
    pub reboot_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RescueInstance {
    pub instance_uuid: String,
    pub rescue_password: String,
    pub rescue_image_ref: Option<String>,
    pub clean_shutdown: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotInstance {
    pub instance_uuid: String,
    /// The image record the API created; the agent uploads the data into it.
    pub image_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupInstance {
    pub instance_uuid: String,
    pub image_id: String,
    pub backup_type: String,
    /// How many backups of this type to keep; older ones are deleted.
    pub rotation: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShelveInstance {
    pub instance_uuid: String,
    pub image_id: String,
    pub clean_shutdown: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShelveOffloadInstance {
    pub instance_uuid: String,
    pub clean_shutdown: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetAdminPassword {
    pub instance_uuid: String,
    pub new_pass: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResizeDecision {
    pub instance_uuid: String,
    pub migration_id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetConsoleOutput {
    pub instance_uuid: String,
    /// Last lines to return; None (or -1 at the API) is all.
    pub tail_length: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetConsole {
    pub instance_uuid: String,
    /// novnc, xvpvnc, spice-html5, serial, webmks ...
    pub console_type: String,
}

/// `os-hosts` status: whether the host takes new guests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetHostEnabled {
    pub enabled: bool,
}

/// `os-hosts` maintenance: start (`mode` true) or end the host's maintenance window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostMaintenanceMode {
    pub host: String,
    pub mode: bool,
}

/// `os-hosts/{host}/{startup,shutdown,reboot}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostPowerAction {
    /// startup, shutdown or reboot.
    pub action: String,
}

/// One event from another service (Neutron's `network-vif-plugged` and the like).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalEvent {
    pub server_uuid: String,
    pub name: String,
    pub status: String,
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalInstanceEvent {
    pub instance_uuids: Vec<String>,
    pub events: Vec<ExternalEvent>,
}

/// os-interface attach: a port passed by the user, or one to create on a network (with a
/// fixed IP).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachInterface {
    pub instance_uuid: String,
    pub network_id: Option<String>,
    pub port_id: Option<String>,
    pub fixed_ip: Option<String>,
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetachInterface {
    pub instance_uuid: String,
    pub port_id: String,
}

/// os-volume_attachments attach: the mapping the API recorded (with the reserved attachment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachVolume {
    pub instance_uuid: String,
    pub bdm_uuid: String,
}

/// os-volume_attachments detach (the volume is `detaching` already).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetachVolume {
    pub instance_uuid: String,
    pub volume_id: String,
    pub attachment_id: Option<String>,
}

/// Swap volume: the new volume takes the old one's place (its attachment reserved by the
/// API); the old one is detached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwapVolume {
    pub instance_uuid: String,
    pub old_volume_id: String,
    pub new_volume_id: String,
    pub new_attachment_id: String,
}

/// Every ComputeAPI method; serialized as `{"method": ..., "args": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "snake_case")]
pub enum ComputeRequest {
    StopInstance(StopInstance),
    StartInstance(InstanceRef),
    RebootInstance(RebootInstance),
    PauseInstance(InstanceRef),
    UnpauseInstance(InstanceRef),
    SuspendInstance(InstanceRef),
    ResumeInstance(InstanceRef),
    RescueInstance(RescueInstance),
    UnrescueInstance(InstanceRef),
    SnapshotInstance(SnapshotInstance),
    BackupInstance(BackupInstance),
    ShelveInstance(ShelveInstance),
    ShelveOffloadInstance(ShelveOffloadInstance),
    /// A call: answers null once the password is set.
    SetAdminPassword(SetAdminPassword),
    TriggerCrashDump(InstanceRef),
    InjectNetworkInfo(InstanceRef),
    TerminateInstance(InstanceRef),
    SoftDeleteInstance(InstanceRef),
    RestoreInstance(InstanceRef),
    /// Cast to the source host of the migration.
    ConfirmResize(ResizeDecision),
    /// Cast to the destination host of the migration.
    RevertResize(ResizeDecision),
    /// A call: answers the console log as a JSON string.
    GetConsoleOutput(GetConsoleOutput),
    /// A call: answers `{"url": ...}` (and whatever else the console proxy needs).
    GetVncConsole(GetConsole),
    GetSpiceConsole(GetConsole),
    GetSerialConsole(GetConsole),
    GetMksConsole(GetConsole),
    ExternalInstanceEvent(ExternalInstanceEvent),
    /// A call: answers the driver's counters of a running guest (a JSON object), shown
    /// before 2.48.
    GetDiagnostics(InstanceRef),
    /// A call: answers the standard diagnostics of a running guest, as Nova's 2.48 view.
    GetInstanceDiagnostics(InstanceRef),
    /// A call: answers "enabled" or "disabled".
    SetHostEnabled(SetHostEnabled),
    /// A call: answers "on_maintenance" or "off_maintenance".
    HostMaintenanceMode(HostMaintenanceMode),
    /// A call: answers what the driver did (a JSON string).
    HostPowerAction(HostPowerAction),
    /// A call: answers the id of the port attached (errors as [`RemoteFault`]s named after
    /// Nova's exceptions: PortNotFound, PortInUse, NetworkNotFound, InterfaceAttachFailed…).
    AttachInterface(AttachInterface),
    /// A call: answers null once the port is detached and released.
    DetachInterface(DetachInterface),
    /// Cast: connect the volume, attach it to the guest, complete the attachment.
    AttachVolume(AttachVolume),
    /// Cast: detach from the guest, delete the attachment and the mapping.
    DetachVolume(DetachVolume),
    /// Cast.
    SwapVolume(SwapVolume),
}

/// An agent's typed refusal of a call (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteFault {
    /// Nova's exception name: ConsoleTypeUnavailable, ConsoleNotAvailable, InstanceNotReady,
    /// InstanceInvalidState, NotImplemented, InstancePasswordSetFailed ...
    pub kind: String,
    pub message: String,
}

impl RemoteFault {
    /// The fault inside a remote error, if the agent sent one.
    pub fn parse(error: &BusError) -> Option<RemoteFault> {
        match error {
            BusError::Remote(text) => serde_json::from_str(text).ok(),
            _ => None,
        }
    }
}

fn target(host: &str) -> Target {
    Target::server(TOPIC, host)
}

/// Casts `request` to the agent of `host`.
pub async fn cast(bus: &dyn Bus, ctx: &RequestContext, host: &str, request: ComputeRequest) -> Result<(), BusError> {
    super::cast(bus, &target(host), &request, ctx).await
}

/// Calls the agent of `host`.
pub async fn call(bus: &dyn Bus, ctx: &RequestContext, host: &str, request: ComputeRequest, timeout: Duration) -> Result<Value, BusError> {
    super::call(bus, &target(host), &request, ctx, timeout).await
}
