//! Volumes of servers at the API (Nova's `attach_volume`, `detach_volume`, `swap_volume`):
//! the preconditions, the mapping record and the block storage attachment that reserves the
//! volume (created here, without a connector, as Nova's `_check_attach_and_reserve_volume`),
//! then a cast to the compute agent of the server's host, which connects and attaches it.
//! A shelved-offloaded server has no host: its volumes are attached and detached here, in
//! the records only (Nova's `_attach_volume_shelved_offloaded`).

use super::checks::{self, Precondition};
use super::interfaces::caller_auth;
use super::{cast_to_host, record_action, ApiResult};
use crate::context::RequestContext;
use crate::db::block_device_mappings::{self as bdm_db, BlockDeviceMapping};
use crate::db::instances::Instance;
use crate::network_client::NetAuth;
use crate::rpc::compute::{AttachVolume, ComputeRequest, DetachVolume, SwapVolume};
use crate::states::vm;
use crate::volume_client::{self as cinder, VolumeError};
use crate::ComputeService;
use monostack_common::ApiError;
use serde_json::Value;

/// The vm states attach and detach accept (Nova's `check_instance_state` on them).
const STATES: &[&str] = &[vm::ACTIVE, vm::PAUSED, vm::STOPPED, vm::RESIZED, vm::SOFT_DELETED, vm::SHELVED, vm::SHELVED_OFFLOADED];
/// Swap volume's.
const SWAP_STATES: &[&str] = &[vm::ACTIVE, vm::PAUSED, vm::RESIZED];

/// Nova's `translate_volume_exception`: a volume Cinder does not show is VolumeNotFound;
/// Cinder's 400 is InvalidInput, 403 Forbidden, 413 OverQuota; an unreachable service is a 503.
pub fn volume_failure(volume_id: &str, e: VolumeError) -> ApiError {
    match e {
        VolumeError::NotFound(_) => ApiError::not_found(format!("Volume {volume_id} could not be found.")),
        other => cinder_failure(other),
    }
}

/// A Cinder refusal of anything but a lookup, as Nova's `translate_cinder_exception`.
pub fn cinder_failure(e: VolumeError) -> ApiError {
    match e {
        VolumeError::NotFound(m) => ApiError::not_found(m),
        VolumeError::BadRequest(m) | VolumeError::Conflict(m) => ApiError::bad_request(format!("Invalid input received: {m} (HTTP 400)")),
        VolumeError::Forbidden(m) => ApiError::forbidden(m),
        VolumeError::OverQuota(m) => ApiError::new(http::StatusCode::PAYLOAD_TOO_LARGE, format!("Quota exceeded for resources: {m}")),
        VolumeError::Unavailable(m) => {
            tracing::error!("block storage service: {m}");
            ApiError::new(http::StatusCode::SERVICE_UNAVAILABLE, "Connection to cinder host failed: the block storage service is unavailable")
        }
    }
}

fn invalid_volume(reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("Invalid volume: {reason}"))
}

/// Nova's `block_device.match_device`: `/dev/vdb`, `/dev/xvdc`, `/dev/sda1`.
pub fn match_device(device: &str) -> bool {
    let Some(rest) = device.strip_prefix("/dev/") else { return false };
    let letters: String = rest.chars().take_while(char::is_ascii_lowercase).collect();
    let digits = &rest[letters.len()..];
    !letters.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

fn strip_dev(name: &str) -> &str {
    name.strip_prefix("/dev/").unwrap_or(name)
}

/// Nova's `get_next_device_name`: the first letter after the root device's prefix (`vd`) that
/// none of the server's disks uses; local disks without a name take the letters after the
/// root in order (the driver names them so). A requested name in use is `DevicePathInUse`.
pub fn next_device_name(instance: &Instance, bdms: &[BlockDeviceMapping], requested: Option<&str>) -> ApiResult<String> {
    let root = instance.root_device_name.as_deref().map(strip_dev).unwrap_or("vda").to_string();
    // `vda` → `vd`, `sda1` → `sd`.
    let base = root.trim_end_matches(|c: char| c.is_ascii_digit());
    let prefix = base[..base.len().saturating_sub(1)].to_string();
    let mut used: Vec<String> = vec![root.clone()];
    used.extend(bdms.iter().filter_map(|b| b.device_name.as_deref()).map(|d| strip_dev(d).to_string()));
    let unnamed_local = bdms.iter().filter(|b| b.device_name.is_none() && b.boot_index != Some(0) && b.destination_type == "local").count();
    let free = |used: &[String]| (b'a'..=b'z').map(|c| format!("{prefix}{}", char::from(c))).find(|n| !used.contains(n));
    for _ in 0..unnamed_local {
        if let Some(n) = free(&used) {
            used.push(n);
        }
    }
    if let Some(dev) = requested {
        if used.iter().any(|u| u == strip_dev(dev)) {
            return Err(ApiError::conflict(format!("The supplied device path ({dev}) is in use.")));
        }
        return Ok(format!("/dev/{}", strip_dev(dev)));
    }
    free(&used).map(|n| format!("/dev/{n}")).ok_or_else(|| ApiError::forbidden("The maximum allowed number of disk devices (26) to attach to a single instance has been exceeded."))
}

/// What an attach asks for.
#[derive(Debug, Clone, Default)]
pub struct AttachRequest {
    pub volume_id: String,
    pub device: Option<String>,
    pub tag: Option<String>,
    pub delete_on_termination: bool,
    /// The caller speaks 2.60 or later (multiattach volumes allowed).
    pub supports_multiattach: bool,
}

/// Nova's `_check_volume_already_attached`.
async fn check_not_attached(svc: &ComputeService, instance: &Instance, volume: &Value) -> ApiResult<()> {
    let volume_id = volume["id"].as_str().unwrap_or_default();
    let bdms = bdm_db::list_by_volume(&svc.db, volume_id).await?;
    if bdms.is_empty() {
        return Ok(());
    }
    if !volume["multiattach"].as_bool().unwrap_or(false) {
        let uuids: Vec<&str> = bdms.iter().map(|b| b.instance_uuid.as_str()).collect();
        return Err(invalid_volume(format!("volume {volume_id} is already attached to instances: {}", uuids.join(" "))));
    }
    if bdms.iter().any(|b| b.instance_uuid == instance.uuid) {
        return Err(invalid_volume(format!("volume {volume_id} already attached")));
    }
    Ok(())
}

/// Nova's `_check_attach_and_reserve_volume`: multiattach needs 2.60, then Cinder reserves
/// the volume for the server (an attachment without a connector). Answers the attachment id.
pub async fn reserve(svc: &ComputeService, auth: &NetAuth, instance_uuid: &str, volume: &Value, supports_multiattach: bool) -> ApiResult<String> {
    let volume_id = volume["id"].as_str().unwrap_or_default();
    if volume["multiattach"].as_bool().unwrap_or(false) && !supports_multiattach {
        return Err(ApiError::bad_request("Multiattach volumes are only supported starting with compute API version 2.60."));
    }
    let attachment = cinder::attachment_create(svc.volume.as_ref(), auth, volume_id, instance_uuid, None).await.map_err(|e| volume_failure(volume_id, e))?;
    attachment["id"].as_str().map(str::to_string).ok_or_else(|| ApiError::internal("attachment without an id"))
}

/// Nova's `attach_volume`: answers the device name (None for a shelved-offloaded server,
/// whose device is chosen when it is unshelved).
pub async fn attach(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, req: AttachRequest) -> ApiResult<Option<String>> {
    checks::check(ctx, instance, &Precondition::new("attach_volume", STATES).launched(false))?;
    if let Some(dev) = &req.device {
        if !match_device(dev) {
            return Err(ApiError::bad_request(format!("The supplied device path ({dev}) is invalid.")));
        }
    }
    let auth = caller_auth(ctx);
    let volume = cinder::get_volume(svc.volume.as_ref(), &auth, &req.volume_id).await.map_err(|e| volume_failure(&req.volume_id, e))?;
    check_not_attached(svc, instance, &volume).await?;
    let offloaded = instance.vm_state == vm::SHELVED_OFFLOADED;
    if offloaded {
        if req.tag.is_some() {
            return Err(ApiError::bad_request("Tagged volume attachment is not supported for shelved-offloaded instances."));
        }
        if volume["multiattach"].as_bool().unwrap_or(false) {
            return Err(ApiError::bad_request("Attaching multiattach volumes is not supported for shelved-offloaded instances."));
        }
    } else if instance.host.is_none() {
        return Err(super::errors::not_ready(&instance.uuid));
    }
    let bdms = bdm_db::list(&svc.db, &instance.uuid).await?;
    let device = if offloaded { None } else { Some(next_device_name(instance, &bdms, req.device.as_deref())?) };
    let mut bdm = BlockDeviceMapping {
        uuid: uuid::Uuid::new_v4().to_string(),
        instance_uuid: instance.uuid.clone(),
        boot_index: None,
        source_type: "volume".into(),
        destination_type: "volume".into(),
        device_name: device.clone(),
        volume_id: Some(req.volume_id.clone()),
        volume_size: volume["size"].as_i64(),
        delete_on_termination: req.delete_on_termination,
        tag: req.tag.clone(),
        ..Default::default()
    };
    bdm_db::insert_one(&svc.db, &bdm).await?;
    let attachment_id = match reserve(svc, &auth, &instance.uuid, &volume, req.supports_multiattach).await {
        Ok(id) => id,
        Err(e) => {
            bdm_db::destroy(&svc.db, &bdm.uuid).await?;
            return Err(e);
        }
    };
    bdm.attachment_id = Some(attachment_id.clone());
    bdm_db::save(&svc.db, &bdm).await?;
    record_action(svc, ctx, &instance.uuid, "attach_volume").await?;
    if offloaded {
        // Nova completes the connector-less attachment so the volume reads in-use; the
        // host that unshelves the server connects it.
        if let Err(e) = cinder::attachment_complete(svc.volume.as_ref(), &auth, &attachment_id).await {
            let _ = cinder::attachment_delete(svc.volume.as_ref(), &auth, &attachment_id).await;
            bdm_db::destroy(&svc.db, &bdm.uuid).await?;
            return Err(cinder_failure(e));
        }
        return Ok(None);
    }
    let host = instance.host.clone().unwrap_or_default();
    let request = ComputeRequest::AttachVolume(AttachVolume { instance_uuid: instance.uuid.clone(), bdm_uuid: bdm.uuid.clone() });
    cast_to_host(svc, ctx, &host, request).await;
    Ok(device)
}

/// The mapping of `volume_id` on the server, or Nova's 404.
pub async fn attached(svc: &ComputeService, instance: &Instance, volume_id: &str) -> ApiResult<BlockDeviceMapping> {
    bdm_db::get_by_volume_and_instance(&svc.db, volume_id, &instance.uuid)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Instance {} is not attached to volume {volume_id}", instance.uuid)))
}

/// Nova's `detach_volume` (the API's checks of the volume and the mapping first).
pub async fn detach(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, volume_id: &str) -> ApiResult<()> {
    let auth = caller_auth(ctx);
    cinder::get_volume(svc.volume.as_ref(), &auth, volume_id).await.map_err(|e| volume_failure(volume_id, e))?;
    let bdm = attached(svc, instance, volume_id).await?;
    if bdm.boot_index == Some(0) {
        return Err(ApiError::bad_request("Cannot detach a root device volume"));
    }
    checks::check(ctx, instance, &Precondition::new("detach_volume", STATES).launched(false))?;
    if instance.vm_state == vm::SHELVED_OFFLOADED {
        record_action(svc, ctx, &instance.uuid, "detach_volume").await?;
        local_cleanup(svc, &auth, std::slice::from_ref(&bdm)).await;
        return Ok(());
    }
    let Some(host) = instance.host.clone() else { return Err(super::errors::not_ready(&instance.uuid)) };
    if bdm.attachment_id.is_none() {
        // Never connected (its attach failed half-way): nothing on the host to undo.
        bdm_db::destroy(&svc.db, &bdm.uuid).await?;
        return Ok(());
    }
    cinder::volume_action(svc.volume.as_ref(), &auth, volume_id, "os-begin_detaching", Value::Null)
        .await
        .map_err(|e| match e {
            VolumeError::BadRequest(m) | VolumeError::Conflict(m) => invalid_volume(format!("Invalid input received: {m} (HTTP 400)")),
            other => volume_failure(volume_id, other),
        })?;
    record_action(svc, ctx, &instance.uuid, "detach_volume").await?;
    let request = ComputeRequest::DetachVolume(DetachVolume { instance_uuid: instance.uuid.clone(), volume_id: volume_id.to_string(), attachment_id: bdm.attachment_id.clone() });
    cast_to_host(svc, ctx, &host, request).await;
    Ok(())
}

/// Nova's `_local_cleanup_bdm_volumes`: the volumes of a server no host holds are let go in
/// the records (attachment deleted, `delete_on_termination` volumes deleted), and the
/// mappings go. Failures are logged: the server goes anyway.
pub async fn local_cleanup(svc: &ComputeService, auth: &NetAuth, bdms: &[BlockDeviceMapping]) {
    for bdm in bdms.iter().filter(|b| b.is_volume()) {
        if let Some(att) = &bdm.attachment_id {
            if let Err(e) = cinder::attachment_delete(svc.volume.as_ref(), auth, att).await {
                tracing::warn!("[instance: {}] attachment {att} not deleted: {e}", bdm.instance_uuid);
            }
        }
        if bdm.delete_on_termination {
            if let Some(volume_id) = &bdm.volume_id {
                if let Err(e) = cinder::delete_volume(svc.volume.as_ref(), auth, volume_id).await {
                    tracing::warn!("[instance: {}] volume {volume_id} not deleted: {e}", bdm.instance_uuid);
                }
            }
        }
        if let Err(e) = bdm_db::destroy(&svc.db, &bdm.uuid).await {
            tracing::warn!("[instance: {}] mapping {} not removed: {}", bdm.instance_uuid, bdm.uuid, e.message);
        }
    }
}

/// 2.85 `PUT` of the attachment itself: only `delete_on_termination` may change; the
/// other fields must repeat what the mapping holds.
pub async fn update(svc: &ComputeService, instance: &Instance, volume_id: &str, att: &serde_json::Map<String, Value>) -> ApiResult<()> {
    let mut bdm = bdm_db::get_by_volume_and_instance(&svc.db, volume_id, &instance.uuid)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No volume Block Device Mapping with id {volume_id}.")))?;
    if att.get("id").is_some_and(|v| v.as_str() != Some(volume_id)) {
        return Err(ApiError::bad_request("The id property is not mutable"));
    }
    if att.get("serverId").is_some_and(|v| v.as_str() != Some(instance.uuid.as_str())) {
        return Err(ApiError::bad_request("The serverId property is not mutable"));
    }
    if att.get("device").is_some_and(|v| v.as_str() != bdm.device_name.as_deref()) {
        return Err(ApiError::bad_request("The device property is not mutable"));
    }
    if att.get("tag").is_some_and(|v| v.as_str() != bdm.tag.as_deref()) {
        return Err(ApiError::bad_request("The tag property is not mutable"));
    }
    if let Some(v) = att.get("delete_on_termination").and_then(Value::as_bool) {
        bdm.delete_on_termination = v;
        bdm_db::save(&svc.db, &bdm).await?;
    }
    Ok(())
}

/// Nova's swap volume (Cinder's volume migration calls it): the old volume must be
/// migrating; the new one is reserved for the server and the agent moves the guest to it.
pub async fn swap(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, old_volume_id: &str, new_volume_id: &str) -> ApiResult<()> {
    let auth = caller_auth(ctx);
    let old = cinder::get_volume(svc.volume.as_ref(), &auth, old_volume_id).await.map_err(|e| volume_failure(old_volume_id, e))?;
    if old["migration_status"].as_str().is_none_or(str::is_empty) {
        return Err(ApiError::conflict(format!("volume {old_volume_id} is not migrating; this API should only be called by Cinder")));
    }
    let new = match cinder::get_volume(svc.volume.as_ref(), &auth, new_volume_id).await {
        Ok(v) => v,
        Err(VolumeError::NotFound(_)) => return Err(ApiError::bad_request(format!("Volume {new_volume_id} could not be found."))),
        Err(e) => return Err(cinder_failure(e)),
    };
    checks::check(ctx, instance, &Precondition::new("swap_volume", SWAP_STATES))?;
    let Some(host) = instance.host.clone() else { return Err(super::errors::not_ready(&instance.uuid)) };
    let bdm = bdm_db::get_by_volume_and_instance(&svc.db, old_volume_id, &instance.uuid)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No volume Block Device Mapping with id {old_volume_id}.")))?;
    if new["attach_status"] == "attached" {
        return Err(invalid_volume("New volume must be detached in order to swap."));
    }
    if new["size"].as_i64().unwrap_or(0) < old["size"].as_i64().unwrap_or(0) {
        return Err(invalid_volume("New volume must be the same size or larger."));
    }
    check_not_attached(svc, instance, &new).await?;
    cinder::volume_action(svc.volume.as_ref(), &auth, old_volume_id, "os-begin_detaching", Value::Null)
        .await
        .map_err(|e| invalid_volume(e.message()))?;
    let new_attachment_id = match reserve(svc, &auth, &instance.uuid, &new, true).await {
        Ok(id) => id,
        Err(e) => {
            let _ = cinder::volume_action(svc.volume.as_ref(), &auth, old_volume_id, "os-roll_detaching", Value::Null).await;
            return Err(e);
        }
    };
    let _ = bdm;
    record_action(svc, ctx, &instance.uuid, "swap_volume").await?;
    let request = ComputeRequest::SwapVolume(SwapVolume {
        instance_uuid: instance.uuid.clone(),
        old_volume_id: old_volume_id.to_string(),
        new_volume_id: new_volume_id.to_string(),
        new_attachment_id,
    });
    cast_to_host(svc, ctx, &host, request).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_match_as_nova() {
        assert!(match_device("/dev/vdb"));
        assert!(match_device("/dev/xvdc"));
        assert!(match_device("/dev/sda1"));
        assert!(!match_device("vdb"));
        assert!(!match_device("/dev/"));
        assert!(!match_device("/dev/vd-b"));
    }
}
