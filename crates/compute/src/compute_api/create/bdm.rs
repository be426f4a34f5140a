//! Block device mappings of a create: the requested ones (v2, or the legacy format) turned
//! into the instance's disks, completed with the root image disk and the flavor's ephemeral
//! and swap disks, and validated as Nova's `_validate_bdm` does: volumes and snapshots are
//! looked up in the block storage service with the caller's token, and once the server is
//! recorded its existing volumes are reserved for it (an attachment without a connector);
//! the compute agent creates the others at build.

use super::super::ApiResult;
use super::CreateRequest;
use crate::context::RequestContext;
use crate::db::block_device_mappings::BlockDeviceMapping;
use crate::db::flavor_snapshot::InstanceFlavor;
use crate::ComputeService;
use crate::volume_client::{self as cinder, VolumeError};
use monostack_common::ApiError;

/// Nova's `max_local_block_devices` default.
const MAX_LOCAL_BLOCK_DEVICES: usize = 3;
/// Nova's DiskBus values.
const DISK_BUSES: &[&str] = &["fdc", "ide", "sata", "scsi", "usb", "virtio", "xen", "lxc", "uml"];
/// The root device name Nova assumes.
const ROOT_DEVICE: &str = "vda";

/// One requested mapping after schema validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestedBdm {
    /// True for an entry of the legacy `block_device_mapping`.
    pub legacy: bool,
    pub source_type: Option<String>,
    pub destination_type: Option<String>,
    pub uuid: Option<String>,
    pub image_id: Option<String>,
    pub volume_id: Option<String>,
    pub snapshot_id: Option<String>,
    /// Legacy `virtual_name` (swap, ephemeral0 ...).
    pub virtual_name: Option<String>,
    pub boot_index: Option<i64>,
    pub volume_size: Option<i64>,
    pub device_name: Option<String>,
    pub device_type: Option<String>,
    pub disk_bus: Option<String>,
    pub guest_format: Option<String>,
    pub delete_on_termination: bool,
    pub no_device: bool,
    pub tag: Option<String>,
    pub volume_type: Option<String>,
}

fn invalid_format(details: &str) -> ApiError {
    ApiError::bad_request(format!("Block Device Mapping is Invalid: {details}"))
}

fn strip_dev(name: &str) -> &str {
    name.strip_prefix("/dev/").unwrap_or(name)
}

/// Nova's `BlockDeviceDict.from_api`.
fn from_api(b: &RequestedBdm, image_specified: bool) -> ApiResult<BlockDeviceMapping> {
    let mut out = BlockDeviceMapping {
        boot_index: b.boot_index,
        source_type: b.source_type.clone().unwrap_or_default(),
        destination_type: b.destination_type.clone().unwrap_or_else(|| "local".into()),
        device_name: b.device_name.clone(),
        device_type: b.device_type.clone(),
        disk_bus: b.disk_bus.clone(),
        guest_format: b.guest_format.clone(),
        image_id: b.image_id.clone(),
        volume_id: b.volume_id.clone(),
        snapshot_id: b.snapshot_id.clone(),
        volume_size: b.volume_size,
        volume_type: b.volume_type.clone(),
        delete_on_termination: b.delete_on_termination,
        no_device: b.no_device,
        tag: b.tag.clone(),
        ..Default::default()
    };
    if b.no_device {
        return Ok(out);
    }
    match (out.source_type.as_str(), &b.uuid) {
        ("blank", Some(_)) => return Err(invalid_format("Invalid device UUID.")),
        ("blank", None) => {}
        (_, None) => return Err(invalid_format("Missing device UUID.")),
        ("image", Some(u)) => out.image_id = Some(u.clone()),
        ("volume", Some(u)) => out.volume_id = Some(u.clone()),
        ("snapshot", Some(u)) => out.snapshot_id = Some(u.clone()),
        (_, Some(_)) => return Err(invalid_format("Some required fields are missing")),
    }
    if out.source_type == "image" && out.destination_type == "local" && !(image_specified && b.boot_index == Some(0)) {
        return Err(invalid_format("Mapping image to local is not supported."));
    }
    if out.destination_type == "local" && b.volume_type.is_some() {
        return Err(invalid_format("Specifying a volume_type with destination_type=local is not supported."));
    }
    if out.source_type == "volume" && b.volume_type.is_some() {
        return Err(invalid_format("Specifying volume type to existing volume is not supported."));
    }
    Ok(out)
}

/// Nova's `from_legacy_mapping` for one legacy entry.
fn from_legacy(b: &RequestedBdm) -> BlockDeviceMapping {
    let root = b.device_name.as_deref().map(strip_dev) == Some(ROOT_DEVICE);
    let virtual_name = b.virtual_name.as_deref().unwrap_or_default();
    let (source, destination, guest_format) = if b.volume_id.is_some() {
        ("volume", "volume", None)
    } else if b.snapshot_id.is_some() {
        ("snapshot", "volume", None)
    } else if virtual_name == "swap" {
        ("blank", "local", Some("swap".to_string()))
    } else {
        ("blank", "local", None)
    };
    BlockDeviceMapping {
        boot_index: Some(if root { 0 } else { -1 }),
        source_type: source.into(),
        destination_type: destination.into(),
        device_name: b.device_name.clone(),
        guest_format,
        volume_id: b.volume_id.clone(),
        snapshot_id: b.snapshot_id.clone(),
        volume_size: b.volume_size,
        delete_on_termination: b.delete_on_termination,
        no_device: b.no_device,
        ..Default::default()
    }
}

/// The root disk made from the boot image.
fn image_root(image_id: &str) -> BlockDeviceMapping {
    BlockDeviceMapping {
        boot_index: Some(0),
        source_type: "image".into(),
        destination_type: "local".into(),
        image_id: Some(image_id.into()),
        delete_on_termination: true,
        ..Default::default()
    }
}

fn blank_local(size: i64, swap: bool) -> BlockDeviceMapping {
    BlockDeviceMapping {
        boot_index: Some(-1),
        source_type: "blank".into(),
        destination_type: "local".into(),
        guest_format: swap.then(|| "swap".to_string()),
        volume_size: Some(size),
        delete_on_termination: true,
        ..Default::default()
    }
}

/// Nova's `_check_and_transform_bdm`: the instance's mappings, before per-instance checks.
pub fn transform(req: &CreateRequest, flavor: &InstanceFlavor, image_ref: Option<&str>) -> ApiResult<Vec<BlockDeviceMapping>> {
    let legacy = req.block_devices.iter().all(|b| b.legacy);
    if let Some(_image) = image_ref {
        for b in &req.block_devices {
            let to_volume = b.destination_type.as_deref() == Some("volume") || b.volume_id.is_some() || b.snapshot_id.is_some();
            if to_volume && b.device_name.as_deref().map(strip_dev) == Some(ROOT_DEVICE) && !b.legacy {
                return Err(ApiError::bad_request(format!("The volume cannot be assigned the same device name as the root device {ROOT_DEVICE}")));
            }
        }
    }
    let mut bdms: Vec<BlockDeviceMapping> = Vec::new();
    if legacy {
        let root_given = req.block_devices.iter().any(|b| b.device_name.as_deref().map(strip_dev) == Some(ROOT_DEVICE));
        if let (Some(image), false) = (image_ref, root_given) {
            bdms.push(image_root(image));
        }
        bdms.extend(req.block_devices.iter().map(from_legacy));
    } else {
        for b in &req.block_devices {
            bdms.push(from_api(b, image_ref.is_some())?);
        }
    }
    if (req.min_count > 1 || req.max_count > 1) && bdms.iter().any(|b| b.source_type == "volume") {
        return Err(ApiError::bad_request("Cannot attach one or more volumes to multiple instances"));
    }
    if flavor.ephemeral_gb > 0 && !bdms.iter().any(BlockDeviceMapping::is_ephemeral) {
        bdms.push(blank_local(flavor.ephemeral_gb, false));
    }
    if flavor.swap > 0 && !bdms.iter().any(BlockDeviceMapping::is_swap) {
        bdms.push(blank_local(flavor.swap, true));
    }
    Ok(bdms)
}

/// Nova's `_validate_bdm`.
pub async fn validate(svc: &ComputeService, ctx: &RequestContext, bdms: &mut [BlockDeviceMapping], flavor: &InstanceFlavor, image_ref: Option<&str>, supports_multiattach: bool) -> ApiResult<()> {
    let mut boot: Vec<i64> = bdms.iter().filter_map(|b| b.boot_index).filter(|i| *i >= 0).collect();
    boot.sort_unstable();
    if boot.is_empty() || boot.iter().enumerate().any(|(i, v)| i64::try_from(i).ok() != Some(*v)) {
        return Err(invalid_format("Boot sequence for the instance and image/block device mapping combination is not valid."));
    }
    for b in bdms.iter_mut() {
        check_source(svc, ctx, b, image_ref, supports_multiattach).await?;
        if b.disk_bus.as_deref().is_some_and(|bus| !DISK_BUSES.contains(&bus)) {
            return Err(ApiError::bad_request("Block Device Mapping is Invalid."));
        }
    }
    let ephemeral: i64 = bdms.iter().filter(|b| b.is_ephemeral()).map(|b| b.volume_size.unwrap_or(flavor.ephemeral_gb)).sum();
    if ephemeral > flavor.ephemeral_gb {
        return Err(ApiError::bad_request(
            "Ephemeral disks requested are larger than the instance type allows. If no size is given in one block device mapping, flavor ephemeral size will be used.",
        ));
    }
    let swaps: Vec<&BlockDeviceMapping> = bdms.iter().filter(|b| b.is_swap()).collect();
    if swaps.len() > 1 {
        return Err(invalid_format("More than one swap drive requested."));
    }
    if swaps.first().is_some_and(|s| s.volume_size.unwrap_or(0) > flavor.swap) {
        return Err(ApiError::bad_request("Swap drive requested is larger than instance type allows."));
    }
    if bdms.iter().filter(|b| b.destination_type == "local").count() > MAX_LOCAL_BLOCK_DEVICES {
        return Err(invalid_format("You specified more local devices than the limit allows"));
    }
    Ok(())
}

async fn check_source(svc: &ComputeService, ctx: &RequestContext, b: &mut BlockDeviceMapping, image_ref: Option<&str>, supports_multiattach: bool) -> ApiResult<()> {
    let auth = crate::compute_api::interfaces::caller_auth(ctx);
    if let Some(image_id) = &b.image_id {
        if Some(image_id.as_str()) != image_ref && super::image::get(svc, ctx, image_id).await.is_err() {
            return Err(invalid_format(&format!("failed to get image {image_id}.")));
        }
        if b.source_type == "image" && b.destination_type == "volume" && b.volume_size.unwrap_or(0) == 0 {
            return Err(ApiError::bad_request("Images with destination_type 'volume' need to have a non-zero size specified"));
        }
    } else if let Some(volume_id) = b.volume_id.clone() {
        let volume = match cinder::get_volume(svc.volume.as_ref(), &auth, &volume_id).await {
            Ok(v) => v,
            Err(e @ VolumeError::Unavailable(_)) => return Err(crate::compute_api::volumes::cinder_failure(e)),
            Err(_) => return Err(invalid_format(&format!("failed to get volume {volume_id}."))),
        };
        if volume["multiattach"].as_bool().unwrap_or(false) && !supports_multiattach {
            return Err(ApiError::bad_request("Multiattach volumes are only supported starting with compute API version 2.60."));
        }
        // Nova's `_get_bdm_image_metadata`: the root volume must be bootable.
        if b.boot_index == Some(0) && !is_true(&volume["bootable"]) {
            return Err(ApiError::bad_request(format!("Block Device {volume_id} is not bootable.")));
        }
        check_attachable(&volume)?;
        b.volume_size = volume["size"].as_i64();
    } else if let Some(snapshot_id) = b.snapshot_id.clone() {
        let snapshot = match cinder::get_snapshot(svc.volume.as_ref(), &auth, &snapshot_id).await {
            Ok(s) => s,
            Err(e @ VolumeError::Unavailable(_)) => return Err(crate::compute_api::volumes::cinder_failure(e)),
            Err(_) => return Err(invalid_format(&format!("failed to get snapshot {snapshot_id}."))),
        };
        if b.volume_size.is_none() {
            b.volume_size = snapshot["size"].as_i64();
        }
    } else if b.source_type == "blank" && b.destination_type == "volume" && b.volume_size.unwrap_or(0) == 0 {
        return Err(ApiError::bad_request("Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size"));
    }
    Ok(())
}

/// Cinder's `bootable` ("true"/"false", or a boolean).
fn is_true(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Cinder's `_attachment_reserve` states, checked before anything is recorded (Nova learns
/// them from the reserve; checking first spares a server record that must go again).
fn check_attachable(volume: &serde_json::Value) -> ApiResult<()> {
    let status = volume["status"].as_str().unwrap_or_default();
    let multiattach = volume["multiattach"].as_bool().unwrap_or(false);
    if status == "available" || status == "downloading" || (multiattach && status == "in-use") {
        return Ok(());
    }
    let expected = if multiattach { "available, downloading or in-use" } else { "available or downloading" };
    Err(ApiError::bad_request(format!(
        "Invalid volume: Invalid input received: Invalid volume: Volume status must be {expected} to reserve, but the status is {status}. (HTTP 400)"
    )))
}

/// Reserves the existing volumes of the new servers for them (Nova's
/// `_check_attach_and_reserve_volume` of `_validate_bdm`): an attachment without a connector
/// each, recorded in the mapping. Undoes what it did when one fails.
pub async fn reserve_volumes(svc: &ComputeService, ctx: &RequestContext, instances: &[crate::db::instances::Instance], supports_multiattach: bool) -> ApiResult<()> {
    let auth = crate::compute_api::interfaces::caller_auth(ctx);
    let mut done: Vec<String> = Vec::new();
    for instance in instances {
        let bdms = crate::db::block_device_mappings::list(&svc.db, &instance.uuid).await?;
        for mut b in bdms.into_iter().filter(|b| b.source_type == "volume" && b.destination_type == "volume") {
            let volume_id = b.volume_id.clone().unwrap_or_default();
            let result = async {
                let volume = cinder::get_volume(svc.volume.as_ref(), &auth, &volume_id).await.map_err(|e| crate::compute_api::volumes::volume_failure(&volume_id, e))?;
                crate::compute_api::volumes::reserve(svc, &auth, &instance.uuid, &volume, supports_multiattach).await.map_err(|e| {
                    if e.status == http::StatusCode::BAD_REQUEST && e.message.starts_with("Invalid input received") {
                        ApiError::bad_request(format!("Invalid volume: {}", e.message))
                    } else {
                        e
                    }
                })
            }
            .await;
            match result {
                Ok(attachment_id) => {
                    done.push(attachment_id.clone());
                    b.attachment_id = Some(attachment_id);
                    crate::db::block_device_mappings::save(&svc.db, &b).await?;
                }
                Err(e) => {
                    for att in &done {
                        let _ = cinder::attachment_delete(svc.volume.as_ref(), &auth, att).await;
                    }
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}
