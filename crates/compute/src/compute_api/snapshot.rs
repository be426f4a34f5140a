//! Snapshots and backups (`createImage`, `createBackup`): the API creates the image record in
//! the image service (with the caller's token, inheriting the boot image's properties) and the
//! compute agent uploads the disk into it.

use super::checks::{self, Precondition};
use super::create::image::image_error;
use super::{cast_to_host, errors, ApiResult};
use crate::context::RequestContext;
use crate::db::instance_actions::names;
use crate::db::instance_metadata::{self, Kind};
use crate::db::instances::{Changes, Instance};
use crate::image_client::{ImageAuth, ImageMeta, NewImage};
use crate::rpc::compute::{BackupInstance, ComputeRequest, SnapshotInstance};
use crate::states::{task, vm};
use crate::ComputeService;
use monostack_common::ApiError;
use std::collections::BTreeMap;

const SNAPSHOT_STATES: &[&str] = &[vm::ACTIVE, vm::STOPPED, vm::PAUSED, vm::SUSPENDED];

/// Image properties a snapshot does not inherit from the boot image.
const NON_INHERITABLE: &[&str] = &["cache_in_nova", "bittorrent", "img_signature_hash_method", "img_signature", "img_signature_key_type", "img_signature_certificate_uuid", "owner_project_name", "owner_user_name"];

/// Nova's `create_image`: the new image record of a snapshot, backup or shelve.
pub async fn create_image_record(
    svc: &ComputeService,
    ctx: &RequestContext,
    instance: &Instance,
    name: &str,
    image_type: &str,
    extra: BTreeMap<String, String>,
) -> ApiResult<ImageMeta> {
    let sys = instance_metadata::get(&svc.db, Kind::System, &instance.uuid).await?;
    let mut properties: BTreeMap<String, String> = sys
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("image_").map(|p| (p.to_string(), v.clone())))
        .filter(|(k, _)| !["min_ram", "min_disk", "disk_format", "container_format", "base_image_ref"].contains(&k.as_str()))
        .filter(|(k, _)| !NON_INHERITABLE.contains(&k.as_str()) && !k.starts_with("img_signature"))
        .collect();
    if let Some(base) = sys.get("image_base_image_ref").filter(|b| !b.is_empty()) {
        properties.insert("base_image_ref".into(), base.clone());
    }
    properties.insert("instance_uuid".into(), instance.uuid.clone());
    properties.insert("user_id".into(), ctx.user_id().to_string());
    properties.insert("image_type".into(), image_type.into());
    let visibility = if ctx.project_id() == instance.project_id { "private" } else { "shared" };
    if visibility == "shared" {
        properties.insert("instance_owner".into(), instance.project_id.clone());
    }
    properties.extend(extra);
    let snapshot = image_type == "snapshot";
    let new = NewImage {
        name: name.to_string(),
        disk_format: if snapshot { None } else { sys.get("image_disk_format").cloned() },
        container_format: if snapshot { None } else { sys.get("image_container_format").cloned() },
        visibility: Some(visibility.into()),
        min_ram: sys.get("image_min_ram").and_then(|v| v.parse().ok()),
        min_disk: sys.get("image_min_disk").and_then(|v| v.parse().ok()),
        properties,
    };
    svc.images.create(ImageAuth { token: &ctx.token, request_id: &ctx.request_id }, &new).await.map_err(image_error)
}

async fn discard_image(svc: &ComputeService, ctx: &RequestContext, id: &str) {
    if let Err(e) = svc.images.delete(ImageAuth { token: &ctx.token, request_id: &ctx.request_id }, id).await {
        tracing::warn!("image {id} of a refused snapshot not deleted: {e}");
    }
}

/// `createImage`: returns the new image's id.
pub async fn snapshot(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, name: &str, metadata: BTreeMap<String, String>) -> ApiResult<String> {
    let p = Precondition::new("createImage", SNAPSHOT_STATES).lock(false);
    checks::check(ctx, instance, &p)?;
    let bdms = crate::db::block_device_mappings::list(&svc.db, &instance.uuid).await?;
    if bdms.iter().any(|b| b.is_volume_root()) {
        return Err(ApiError::bad_request("Snapshots of volume-backed servers need the block storage service, which is not available."));
    }
    let host = instance.host.clone().ok_or_else(|| errors::not_ready(&instance.uuid))?;
    let image = create_image_record(svc, ctx, instance, name, "snapshot", metadata).await?;
    if let Err(e) = checks::begin(svc, ctx, instance, &p, task::IMAGE_SNAPSHOT_PENDING, Changes::new(), Some(names::CREATE_IMAGE)).await {
        discard_image(svc, ctx, &image.id).await;
        return Err(e);
    }
    let request = SnapshotInstance { instance_uuid: instance.uuid.clone(), image_id: image.id.clone() };
    cast_to_host(svc, ctx, &host, ComputeRequest::SnapshotInstance(request)).await;
    Ok(image.id)
}

/// `createBackup`: a snapshot of type `backup_type` keeping `rotation` of them.
pub async fn backup(
    svc: &ComputeService,
    ctx: &RequestContext,
    instance: &Instance,
    name: &str,
    backup_type: &str,
    rotation: i64,
    metadata: BTreeMap<String, String>,
) -> ApiResult<String> {
    let p = Precondition::new("createBackup", SNAPSHOT_STATES).lock(false);
    checks::check(ctx, instance, &p)?;
    let bdms = crate::db::block_device_mappings::list(&svc.db, &instance.uuid).await?;
    if bdms.iter().any(|b| b.is_volume_root()) {
        return Err(ApiError::bad_request("It's not supported to backup volume backed instance."));
    }
    let host = instance.host.clone().ok_or_else(|| errors::not_ready(&instance.uuid))?;
    let mut extra = metadata;
    extra.insert("backup_type".into(), backup_type.into());
    let image = create_image_record(svc, ctx, instance, name, "backup", extra).await?;
    if let Err(e) = checks::begin(svc, ctx, instance, &p, task::IMAGE_BACKUP, Changes::new(), Some(names::BACKUP)).await {
        discard_image(svc, ctx, &image.id).await;
        return Err(e);
    }
    let request = BackupInstance { instance_uuid: instance.uuid.clone(), image_id: image.id.clone(), backup_type: backup_type.into(), rotation };
    cast_to_host(svc, ctx, &host, ComputeRequest::BackupInstance(request)).await;
    Ok(image.id)
}

/// Before 2.39: at most `metadata_items` image properties ("Image metadata limit exceeded").
pub async fn check_image_metadata_quota(svc: &ComputeService, ctx: &RequestContext, metadata: &BTreeMap<String, String>) -> ApiResult<()> {
    if super::create::check_metadata_quota(svc, ctx, metadata).await.is_err() {
        return Err(ApiError::forbidden("Image metadata limit exceeded"));
    }
    Ok(())
}
