//! Nova's ComputeTaskAPI: the flows the conductor runs for the API (topic `conductor`). The
//! instances, their block devices and request specs are already in the database when these
//! are cast; the messages carry the ids and what is never stored (passwords, file injections,
//! the requested networks of a build).

use crate::context::RequestContext;
use crate::request_spec::{NetworkRequest, SpecDestination};
use monostack_bus::{Bus, BusError, Target};
use serde::{Deserialize, Serialize};

pub const TOPIC: &str = "conductor";

/// Builds instances already recorded by the API (state building/scheduling): schedule them
/// with their stored request spec, claim, and cast the build to the chosen hosts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildInstances {
    pub instance_uuids: Vec<String>,
    /// The image the instances boot from (None when booting from a volume).
    pub image_id: Option<String>,
    pub admin_password: Option<String>,
    /// (path, base64 contents) of `personality` files (before 2.57).
    pub injected_files: Vec<(String, String)>,
    pub requested_networks: Vec<NetworkRequest>,
    /// Security groups (names or ids) the ports created for the instances get.
    #[serde(default)]
    pub security_groups: Vec<String>,
}

/// Cold migration or resize (Nova's `migrate_server` with `live=False`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrateServer {
    pub instance_uuid: String,
    /// The new flavor of a resize (None for a cold migration).
    pub flavor: Option<crate::db::flavor_snapshot::InstanceFlavor>,
    pub clean_shutdown: bool,
    /// The host an admin asked for (2.56), also in the stored request spec.
    pub requested_destination: Option<SpecDestination>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveMigrateInstance {
    pub instance_uuid: String,
    /// A forced destination (skips the scheduler); None lets the scheduler choose.
    pub host: Option<String>,
    /// None means "auto" (2.25).
    pub block_migration: Option<bool>,
    pub disk_over_commit: Option<bool>,
}

/// Rebuild on the same host, or evacuation (`recreate`) to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RebuildInstance {
    pub instance_uuid: String,
    pub new_pass: Option<String>,
    pub image_ref: Option<String>,
    pub orig_image_ref: Option<String>,
    pub injected_files: Vec<(String, String)>,
    pub preserve_ephemeral: bool,
    /// True for an evacuation.
    pub recreate: bool,
    pub on_shared_storage: Option<bool>,
    /// A forced evacuation destination.
    pub host: Option<String>,
    /// The state an evacuated instance ends in (2.95: stopped).
    pub target_state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnshelveInstance {
    pub instance_uuid: String,
}

/// Removes every placement allocation of a server the API deleted itself (its host down or
/// gone): Nova's API deletes them in `_local_delete`; here the conductor, which holds the
/// placement client, does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeleteAllocations {
    pub instance_uuid: String,
}

/// Every ComputeTaskAPI method; serialized as `{"method": ..., "args": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "snake_case")]
pub enum ComputeTaskRequest {
    BuildInstances(BuildInstances),
    /// Same arguments as `build_instances`; kept for Nova's name of the boot flow.
    ScheduleAndBuildInstances(BuildInstances),
    MigrateServer(MigrateServer),
    LiveMigrateInstance(LiveMigrateInstance),
    RebuildInstance(RebuildInstance),
    UnshelveInstance(UnshelveInstance),
    DeleteAllocations(DeleteAllocations),
}

/// Casts `request` to any conductor.
pub async fn cast(bus: &dyn Bus, ctx: &RequestContext, request: ComputeTaskRequest) -> Result<(), BusError> {
    super::cast(bus, &Target::topic(TOPIC), &request, ctx).await
}
