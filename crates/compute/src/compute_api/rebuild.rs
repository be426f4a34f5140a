//! Rebuilding a server with a (possibly new) image, name, metadata, password, key, user data,
//! trusted certificates and hostname (Nova's `API.rebuild`); the conductor rebuilds it on its
//! host.

use super::checks::{self, Precondition};
use super::create::image;
use super::{cast_to_conductor, ApiResult};
use crate::context::RequestContext;
use crate::db::instance_actions::names;
use crate::db::instance_metadata::{self, Kind};
use crate::db::instances::{Changes, Instance};
use crate::image_client::ImageError;
use crate::rpc::conductor::{ComputeTaskRequest, RebuildInstance};
use crate::states::{task, vm};
use crate::ComputeService;
use monostack_common::ApiError;
use std::collections::BTreeMap;

/// A validated rebuild request; `Some(None)` fields unset the attribute.
#[derive(Debug, Clone, Default)]
pub struct RebuildRequest {
    pub image_ref: String,
    pub admin_password: Option<String>,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub metadata: Option<BTreeMap<String, String>>,
    pub preserve_ephemeral: bool,
    pub auto_disk_config: Option<bool>,
    pub access_ip_v4: Option<String>,
    pub access_ip_v6: Option<String>,
    pub personality: Vec<(String, String)>,
    pub key_name: Option<Option<String>>,
    pub user_data: Option<Option<String>>,
    pub trusted_certs: Option<Option<Vec<String>>>,
    pub hostname: Option<String>,
}

pub async fn rebuild(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, req: RebuildRequest) -> ApiResult<()> {
    let p = Precondition::new("rebuild", &[vm::ACTIVE, vm::STOPPED, vm::ERROR]);
    checks::check(ctx, instance, &p)?;
    let mut changes = Changes::new();
    if let Some(key) = &req.key_name {
        let (name, data) = match key {
            Some(name) => match crate::db::keypairs::get(&svc.db, ctx.user_id(), name).await? {
                Some(kp) => (Some(kp.name), Some(kp.public_key)),
                None => return Err(ApiError::bad_request("Invalid key_name provided.")),
            },
            None => (None, None),
        };
        changes = changes.set("key_name", name).set("key_data", data);
    }
    let new_image = image::get(svc, ctx, &req.image_ref).await.map_err(|e| match e {
        ImageError::NotFound(_) => ApiError::bad_request("Cannot find image for rebuild"),
        other => image::image_error(other),
    })?;
    let auto_disk_config = image::auto_disk_config(Some(&new_image), req.auto_disk_config)?;
    if let Some(metadata) = &req.metadata {
        super::create::check_metadata_quota(svc, ctx, metadata).await?;
    }
    let bdms = crate::db::block_device_mappings::list(&svc.db, &instance.uuid).await?;
    let volume_backed = bdms.iter().any(|b| b.is_volume_root());
    if volume_backed && instance.image_ref.as_deref() != Some(req.image_ref.as_str()) {
        return Err(ApiError::bad_request(format!(
            "Image {} is unacceptable: Unable to rebuild with a different image for a volume-backed server.",
            req.image_ref
        )));
    }
    image::check_against_flavor(svc, ctx, &new_image, &instance.flavor, volume_backed)?;
    changes = apply_attributes(changes, &req, auto_disk_config)?;
    if !volume_backed {
        changes = changes.set("image_ref", req.image_ref.clone());
    }
    checks::begin(svc, ctx, instance, &p, task::REBUILDING, changes, None).await?;
    if let Some(metadata) = &req.metadata {
        instance_metadata::replace(&svc.db, Kind::User, &instance.uuid, metadata).await?;
    }
    reset_image_metadata(svc, &instance.uuid, &new_image).await?;
    super::record_action(svc, ctx, &instance.uuid, names::REBUILD).await?;
    let request = RebuildInstance {
        instance_uuid: instance.uuid.clone(),
        new_pass: req.admin_password.clone(),
        image_ref: Some(req.image_ref.clone()),
        orig_image_ref: instance.image_ref.clone(),
        injected_files: req.personality.clone(),
        preserve_ephemeral: req.preserve_ephemeral,
        recreate: false,
        on_shared_storage: None,
        host: None,
        target_state: None,
    };
    cast_to_conductor(svc, ctx, ComputeTaskRequest::RebuildInstance(request)).await;
    Ok(())
}

fn apply_attributes(mut changes: Changes, req: &RebuildRequest, auto_disk_config: bool) -> ApiResult<Changes> {
    changes = changes.set("progress", 0_i64).set("auto_disk_config", auto_disk_config);
    if let Some(name) = &req.name {
        changes = changes.set("display_name", name.clone());
    }
    if let Some(description) = &req.description {
        changes = changes.set("display_description", description.clone());
    }
    if let Some(ip) = &req.access_ip_v4 {
        changes = changes.set("access_ip_v4", ip.clone());
    }
    if let Some(ip) = &req.access_ip_v6 {
        changes = changes.set("access_ip_v6", ip.clone());
    }
    if let Some(user_data) = &req.user_data {
        changes = changes.set("user_data", user_data.clone());
    }
    if let Some(certs) = &req.trusted_certs {
        let text = certs.as_ref().map(|c| serde_json::to_string(c).unwrap_or_default());
        changes = changes.set("trusted_certs", text);
    }
    if let Some(hostname) = &req.hostname {
        changes = changes.set("hostname", hostname.clone());
    }
    Ok(changes)
}

/// Replaces the `image_*` system metadata with the new image's (Nova's `_reset_image_metadata`).
async fn reset_image_metadata(svc: &ComputeService, uuid: &str, image: &crate::image_client::ImageMeta) -> ApiResult<()> {
    let mut sys = instance_metadata::get(&svc.db, Kind::System, uuid).await?;
    sys.retain(|k, _| !k.starts_with("image_"));
    for (k, v) in &image.properties {
        sys.insert(format!("image_{k}"), v.clone());
    }
    sys.insert("image_min_ram".into(), image.min_ram.to_string());
    sys.insert("image_min_disk".into(), image.min_disk.to_string());
    sys.insert("image_base_image_ref".into(), image.id.clone());
    instance_metadata::replace(&svc.db, Kind::System, uuid, &sys).await
}
