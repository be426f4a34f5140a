//! Creating servers (Nova's `compute.api.API.create`): validate what the request asks for
//! against the flavor, the image, the networks and the quotas, record the instances with
//! everything the build needs (block devices, request spec, tags, metadata, the `create`
//! action), join the server group, and cast `build_instances` to the conductor.

mod bdm;
pub mod image;
mod networks;
mod records;

pub use bdm::RequestedBdm;
pub use networks::Networks;

use super::ApiResult;
use crate::context::RequestContext;
use crate::db::flavor_snapshot::InstanceFlavor;
use crate::db::instances::Instance;
use crate::rpc::conductor::{BuildInstances, ComputeTaskRequest};
use crate::ComputeService;
use monostack_common::ApiError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A validated create request (the API layer checked the body against Nova's schema).
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    pub name: String,
    pub description: Option<String>,
    /// The hostname asked for (2.90); None derives it from the name.
    pub hostname: Option<String>,
    /// None or empty when booting from a volume.
    pub image_ref: Option<String>,
    pub flavor: Option<InstanceFlavor>,
    pub min_count: u32,
    pub max_count: u32,
    pub availability_zone: Option<String>,
    /// `az:host` / `az:host:node` forced by an admin.
    pub forced_host: Option<String>,
    pub forced_node: Option<String>,
    pub key_name: Option<String>,
    pub user_data: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// (path, base64 contents), before 2.57.
    pub personality: Vec<(String, String)>,
    pub config_drive: bool,
    pub access_ip_v4: Option<String>,
    pub access_ip_v6: Option<String>,
    pub admin_password: Option<String>,
    /// OS-DCF:diskConfig: Some(true) for AUTO, Some(false) for MANUAL.
    pub auto_disk_config: Option<bool>,
    pub security_groups: Vec<String>,
    pub block_devices: Vec<RequestedBdm>,
    pub networks: Networks,
    pub scheduler_hints: Map<String, Value>,
    pub tags: Vec<String>,
    pub trusted_certs: Option<Vec<String>>,
    /// 2.74 `host` / `hypervisor_hostname`.
    pub requested_host: Option<String>,
    pub requested_node: Option<String>,
    /// The caller speaks 2.60 or later: multiattach volumes may be boot volumes.
    pub supports_multiattach: bool,
}

/// What a create produced.
#[derive(Debug, Clone)]
pub struct Created {
    pub instances: Vec<Instance>,
    pub reservation_id: String,
}

/// Nova's `API.create`.
pub async fn create(svc: &ComputeService, ctx: &RequestContext, mut req: CreateRequest) -> ApiResult<Created> {
    let flavor = req.flavor.clone().ok_or_else(|| ApiError::bad_request("Invalid flavorRef provided."))?;
    if flavor.disabled {
        return Err(ApiError::bad_request(format!("Flavor {} could not be found.", flavor.flavorid)));
    }
    if req.max_count > 1 {
        networks::check_multiple(&req.networks)?;
        if req.hostname.is_some() {
            return Err(ApiError::bad_request("Unable to allocate a single hostname to multiple instances"));
        }
    }
    check_zone(svc, &req).await?;
    let image_ref = req.image_ref.clone().filter(|i| !i.is_empty());
    let boot_image = match &image_ref {
        Some(id) => Some(image::fetch(svc, ctx, id).await?),
        None => None,
    };
    networks::check_security_groups(svc, ctx, &req.security_groups).await?;
    let allowed = networks::validate(svc, ctx, &req.networks, req.max_count).await?;
    if allowed < req.min_count {
        return Err(ApiError::forbidden("Maximum number of ports exceeded"));
    }
    req.max_count = req.max_count.min(allowed);
    let key = load_key(svc, ctx, req.key_name.as_deref()).await?;
    let auto_disk_config = image::auto_disk_config(boot_image.as_ref(), req.auto_disk_config)?;
    let mut bdms = bdm::transform(&req, &flavor, image_ref.as_deref())?;
    check_metadata_quota(svc, ctx, &req.metadata).await?;
    check_personality_quota(svc, ctx, &req.personality).await?;
    let root_is_volume = bdms.iter().any(|b| b.is_volume_root());
    if let Some(img) = &boot_image {
        image::check_against_flavor(svc, ctx, img, &flavor, root_is_volume)?;
    }
    let group = records::requested_group(svc, ctx, &req.scheduler_hints).await?;
    records::check_requested_destination(svc, &req).await?;
    let grant = crate::quota::check_instances(svc, ctx.project_id(), ctx.user_id(), req.min_count, req.max_count, flavor.vcpus, flavor.memory_mb).await?;
    bdm::validate(svc, ctx, &mut bdms, &flavor, image_ref.as_deref(), req.supports_multiattach).await?;
    let plan = records::Plan { req: &req, flavor: &flavor, image: boot_image.as_ref(), image_ref, key, auto_disk_config, bdms, group };
    let created = records::insert(svc, ctx, &plan, grant.count).await?;
    drop(grant);
    if let Err(e) = bdm::reserve_volumes(svc, ctx, &created.instances, req.supports_multiattach).await {
        for instance in &created.instances {
            crate::db::instances::destroy(&svc.db, &instance.uuid).await?;
        }
        return Err(e);
    }
    cast_build(svc, ctx, &req, &created, plan.image_ref.clone()).await?;
    Ok(created)
}

/// The zone must exist unless an admin forces a host (Nova checks the zones of enabled
/// compute services).
async fn check_zone(svc: &ComputeService, req: &CreateRequest) -> ApiResult<()> {
    let Some(zone) = &req.availability_zone else { return Ok(()) };
    if req.forced_host.is_some() {
        return Ok(());
    }
    if !super::zones::available(&svc.db, &svc.config).await?.contains(zone) {
        return Err(ApiError::bad_request("The requested availability zone is not available"));
    }
    Ok(())
}

/// The public key of `key_name` (Nova: "Invalid key_name provided." when the user has none).
async fn load_key(svc: &ComputeService, ctx: &RequestContext, key_name: Option<&str>) -> ApiResult<Option<(String, String)>> {
    let Some(name) = key_name else { return Ok(None) };
    match crate::db::keypairs::get(&svc.db, ctx.user_id(), name).await? {
        Some(kp) => Ok(Some((kp.name, kp.public_key))),
        None => Err(ApiError::bad_request("Invalid key_name provided.")),
    }
}

/// Nova's `_check_metadata_properties_quota`: at most `metadata_items` items.
pub async fn check_metadata_quota(svc: &ComputeService, ctx: &RequestContext, metadata: &BTreeMap<String, String>) -> ApiResult<()> {
    if metadata.is_empty() {
        return Ok(());
    }
    let limit = crate::quota::project_limits(svc, ctx.project_id()).await?["metadata_items"];
    if limit != crate::quota::UNLIMITED && i64::try_from(metadata.len()).unwrap_or(i64::MAX) > limit {
        return Err(ApiError::forbidden(format!("Maximum number of metadata items exceeds {limit}")));
    }
    Ok(())
}

/// Nova's `_check_injected_file_quota` for `personality` files.
async fn check_personality_quota(svc: &ComputeService, ctx: &RequestContext, files: &[(String, String)]) -> ApiResult<()> {
    if files.is_empty() {
        return Ok(());
    }
    let limits = crate::quota::project_limits(svc, ctx.project_id()).await?;
    let within = |resource: &str, n: usize| {
        let limit = limits[resource];
        limit == crate::quota::UNLIMITED || i64::try_from(n).unwrap_or(i64::MAX) <= limit
    };
    if !within("injected_files", files.len()) {
        return Err(ApiError::forbidden("Personality file limit exceeded"));
    }
    let max_path = files.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    let max_content = files.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
    if !within("injected_file_path_bytes", max_path) {
        return Err(ApiError::forbidden(format!("Personality file path exceeds maximum {}", limits["injected_file_path_bytes"])));
    }
    if !within("injected_file_content_bytes", max_content) {
        return Err(ApiError::forbidden(format!("Personality file content exceeds maximum {}", limits["injected_file_content_bytes"])));
    }
    Ok(())
}

async fn cast_build(svc: &ComputeService, ctx: &RequestContext, req: &CreateRequest, created: &Created, image_id: Option<String>) -> ApiResult<()> {
    let build = BuildInstances {
        instance_uuids: created.instances.iter().map(|i| i.uuid.clone()).collect(),
        image_id,
        admin_password: req.admin_password.clone(),
        injected_files: req.personality.clone(),
        requested_networks: req.networks.requests(),
        security_groups: req.security_groups.clone(),
    };
    // Nova's API does not wait for the conductor either: an undelivered build leaves the
    // servers in BUILD for the conductor to pick up (or fail) when it starts.
    super::cast_to_conductor(svc, ctx, ComputeTaskRequest::BuildInstances(build)).await;
    Ok(())
}
