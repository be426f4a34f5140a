//! Volumes on the agent (Nova's `attach_volume`, `detach_volume`, `swap_volume`, the
//! `_prep_block_device` of a build and the volume part of `_shutdown_instance` /
//! `_cleanup_volumes`), with the block storage attachments flow: the API reserved the volume
//! (an attachment without a connector); here the attachment gets this host's connector and
//! answers the connection info, the driver attaches, and `os-complete` makes the volume
//! `in-use`. A detach ends the driver's use, then deletes the attachment (the volume becomes
//! `available`). Volumes a build needs (from an image, a snapshot, or blank) are created
//! with the user's token and waited for.

use super::op::{Failure, OpResult};
use super::ComputeManager;
use crate::virt::{BlockDeviceInfo, InstanceRef, VolumeConnection, VolumeMapping};
use monostack_bus::Context;
use monostack_compute::db::block_device_mappings::BlockDeviceMapping;
use monostack_compute::network_client::NetAuth;
use monostack_compute::rpc::compute::{AttachVolume, DetachVolume, SwapVolume};
use monostack_compute::volume_client::{self as cinder, VolumeError};
use monostack_conductor::agent_api::conductor::{ConductorRequest, InstanceRef as InstanceArg};
use monostack_conductor::agent_api::records::InstanceRecord;
use serde_json::{json, Value};
use std::time::Duration;

/// Nova's `block_device_allocate_retries` and `block_device_allocate_retries_interval`.
const ALLOCATE_TRIES: u32 = 60;
const ALLOCATE_INTERVAL: Duration = Duration::from_millis(500);

/// Nova's connection info from Cinder's flat one: `{"driver_volume_type", "data", "serial"}`.
fn nova_connection_info(attachment: &Value, volume_id: &str) -> Value {
    let mut data = attachment["connection_info"].clone();
    let kind = data.as_object_mut().and_then(|m| m.remove("driver_volume_type")).unwrap_or(Value::Null);
    json!({"driver_volume_type": kind, "data": data, "serial": volume_id, "attachment_id": attachment["id"]})
}

/// The driver's view of a mapping's connection.
fn connection_of(bdm: &BlockDeviceMapping) -> VolumeConnection {
    let ci = bdm.connection_info.clone().unwrap_or(Value::Null);
    VolumeConnection {
        volume_id: bdm.volume_id.clone().unwrap_or_default(),
        driver_volume_type: ci["driver_volume_type"].as_str().unwrap_or_default().to_string(),
        serial: bdm.volume_id.clone(),
        data: ci["data"].clone(),
    }
}

/// The volumes part of Nova's `block_device_info` for the driver.
pub(crate) fn block_device_info(bdms: &[BlockDeviceMapping], root_device: Option<&str>) -> BlockDeviceInfo {
    let volumes = bdms
        .iter()
        .filter(|b| b.is_volume() && b.connection_info.is_some())
        .map(|b| VolumeMapping {
            mount_device: b.device_name.clone().unwrap_or_default(),
            connection: connection_of(b),
            boot_index: b.boot_index.and_then(|i| i32::try_from(i).ok()),
            delete_on_termination: b.delete_on_termination,
        })
        .collect();
    BlockDeviceInfo { root_device_name: Some(root_device.unwrap_or("/dev/vda").to_string()), volumes, ..BlockDeviceInfo::default() }
}

fn volume_failure(e: &VolumeError) -> Failure {
    Failure::Error(e.to_string())
}

impl ComputeManager {
    /// The caller's token (the volume is the user's), else the `nova` service user's.
    pub(crate) async fn volume_auth(&self, ctx: &Context) -> Result<NetAuth, VolumeError> {
        let request_id = ctx.request_id.as_deref().unwrap_or("-");
        match monostack_conductor::agent_api::auth_token(ctx) {
            Some(token) => Ok(NetAuth::new(token, request_id)),
            None => self.volume.service_auth(request_id, false).await,
        }
    }

    /// The `nova` service user's credentials: attachments of connected volumes are deleted
    /// as the service (Cinder then knows compute itself let the volume go, bug 2004555).
    pub(crate) async fn volume_service_auth(&self, ctx: &Context) -> Result<NetAuth, VolumeError> {
        self.volume.service_auth(ctx.request_id.as_deref().unwrap_or("-"), false).await
    }

    /// Deletes an attachment as the service (the caller's token when the service's is not
    /// available).
    async fn delete_attachment(&self, ctx: &Context, auth: &NetAuth, attachment_id: &str) -> Result<(), VolumeError> {
        let service = self.volume_service_auth(ctx).await.unwrap_or_else(|_| auth.clone());
        cinder::attachment_delete(self.volume.as_ref(), &service, attachment_id).await
    }

    /// The instance's mappings, as the conductor has them.
    pub(crate) async fn bdms(&self, ctx: &Context, uuid: &str) -> Result<Vec<BlockDeviceMapping>, Failure> {
        Ok(self.conductor.call(ctx, ConductorRequest::BlockDeviceMappings(InstanceArg { uuid: uuid.to_string() })).await?)
    }

    async fn bdm_save(&self, ctx: &Context, bdm: &BlockDeviceMapping) -> Result<(), Failure> {
        let _: bool = self.conductor.call(ctx, ConductorRequest::BlockDeviceMappingSave(bdm.clone())).await?;
        Ok(())
    }

    async fn bdm_destroy(&self, ctx: &Context, bdm: &BlockDeviceMapping) {
        let request = ConductorRequest::BlockDeviceMappingDestroy(InstanceArg { uuid: bdm.uuid.clone() });
        if let Err(e) = self.conductor.run(ctx, request).await {
            tracing::warn!("[instance: {}] mapping {} not removed: {e}", bdm.instance_uuid, bdm.uuid);
        }
    }

    /// This host's connector as the block storage service takes it.
    async fn connector(&self, guest: &InstanceRef) -> Result<Value, Failure> {
        let c = self.driver.get_volume_connector(guest).await?;
        serde_json::to_value(c).map_err(|e| Failure::Recoverable(e.to_string()))
    }

    /// Gives the reserved attachment this host's connector: answers the mapping with its
    /// connection info (not yet saved).
    async fn connect(&self, auth: &NetAuth, guest: &InstanceRef, bdm: &BlockDeviceMapping) -> Result<BlockDeviceMapping, Failure> {
        let volume_id = bdm.volume_id.clone().unwrap_or_default();
        let attachment_id = bdm.attachment_id.clone().ok_or_else(|| Failure::Error(format!("volume {volume_id} has no attachment")))?;
        let mut connector = self.connector(guest).await?;
        // Nova tells Cinder where the volume appears in the guest.
        if let (Some(c), Some(device)) = (connector.as_object_mut(), &bdm.device_name) {
            c.insert("mountpoint".into(), json!(device));
        }
        let attachment = cinder::attachment_update(self.volume.as_ref(), auth, &attachment_id, &connector).await.map_err(|e| volume_failure(&e))?;
        let mut out = bdm.clone();
        out.connection_info = Some(nova_connection_info(&attachment, &volume_id));
        Ok(out)
    }

    /// os-volume_attachments attach, on the server's host.
    pub(crate) async fn attach_volume(&self, ctx: &Context, r: AttachVolume) {
        let uuid = r.instance_uuid.clone();
        let Some(op) = self.begin(ctx, &uuid, "compute_attach_volume").await else { return };
        let result = self.do_attach_volume(ctx, &op.instance, &r.bdm_uuid).await;
        self.end(ctx, op, result.map_err(|f| match f {
            Failure::Error(m) => Failure::Recoverable(m),
            other => other,
        }))
        .await;
    }

    async fn do_attach_volume(&self, ctx: &Context, instance: &InstanceRecord, bdm_uuid: &str) -> OpResult {
        let Some(bdm) = self.bdms(ctx, &instance.uuid).await?.into_iter().find(|b| b.uuid == bdm_uuid) else {
            return Err(Failure::Abandoned(format!("mapping {bdm_uuid} is gone")));
        };
        let volume_id = bdm.volume_id.clone().unwrap_or_default();
        let device = bdm.device_name.clone().unwrap_or_default();
        let auth = self.volume_auth(ctx).await.map_err(|e| volume_failure(&e))?;
        let guest = self.guest(instance);
        tracing::info!("{}Attaching volume {volume_id} to {device}", instance.tag());
        let attached = self.connect_and_attach(&auth, &guest, &bdm, &device).await;
        match attached {
            Ok(connected) => self.bdm_save(ctx, &connected).await,
            Err(failure) => {
                // Nova's `_attach_volume` on failure: the attachment and the mapping go.
                tracing::error!("{}Failed to attach {volume_id} at {device}: {}", instance.tag(), failure.message());
                if let Some(att) = &bdm.attachment_id {
                    if let Err(e) = self.delete_attachment(ctx, &auth, att).await {
                        tracing::warn!("{}attachment {att} not deleted: {e}", instance.tag());
                    }
                }
                self.bdm_destroy(ctx, &bdm).await;
                Err(failure)
            }
        }
    }

    /// Connects the reserved attachment, attaches in the guest, completes the attachment.
    async fn connect_and_attach(&self, auth: &NetAuth, guest: &InstanceRef, bdm: &BlockDeviceMapping, device: &str) -> Result<BlockDeviceMapping, Failure> {
        let connected = self.connect(auth, guest, bdm).await?;
        self.driver.attach_volume(guest, &connection_of(&connected), device).await?;
        if let Err(e) = cinder::attachment_complete(self.volume.as_ref(), auth, bdm.attachment_id.as_deref().unwrap_or_default()).await {
            let _ = self.driver.detach_volume(guest, &connection_of(&connected), device).await;
            return Err(volume_failure(&e));
        }
        Ok(connected)
    }

    /// Connects the new volume's attachment, swaps in the guest, completes the attachment.
    async fn connect_and_swap(&self, auth: &NetAuth, guest: &InstanceRef, old: &BlockDeviceMapping, new: &mut BlockDeviceMapping, device: &str, attachment_id: &str) -> Result<(), Failure> {
        *new = self.connect(auth, guest, new).await?;
        self.driver.swap_volume(guest, &connection_of(old), &connection_of(new), device).await?;
        cinder::attachment_complete(self.volume.as_ref(), auth, attachment_id).await.map_err(|e| volume_failure(&e))
    }

    /// os-volume_attachments detach, on the server's host.
    pub(crate) async fn detach_volume(&self, ctx: &Context, r: DetachVolume) {
        let uuid = r.instance_uuid.clone();
        let Some(op) = self.begin(ctx, &uuid, "compute_detach_volume").await else { return };
        let result = self.do_detach_volume(ctx, &op.instance, &r.volume_id).await;
        self.end(ctx, op, result).await;
    }

    async fn do_detach_volume(&self, ctx: &Context, instance: &InstanceRecord, volume_id: &str) -> OpResult {
        let Some(bdm) = self.bdms(ctx, &instance.uuid).await?.into_iter().find(|b| b.volume_id.as_deref() == Some(volume_id)) else {
            return Err(Failure::Abandoned(format!("volume {volume_id} is not attached")));
        };
        let auth = self.volume_auth(ctx).await.map_err(|e| Failure::Recoverable(e.to_string()))?;
        let guest = self.guest(instance);
        let device = bdm.device_name.clone().unwrap_or_default();
        tracing::info!("{}Detaching volume {volume_id} from {device}", instance.tag());
        if bdm.connection_info.is_some() {
            if let Err(e) = self.driver.detach_volume(&guest, &connection_of(&bdm), &device).await {
                if matches!(e, crate::virt::VirtError::DiskNotFound { .. }) || !self.driver.instance_exists(&guest).await.unwrap_or(false) {
                    tracing::warn!("{}volume {volume_id} was not attached in the guest: {e}", instance.tag());
                } else {
                    let _ = cinder::volume_action(self.volume.as_ref(), &auth, volume_id, "os-roll_detaching", Value::Null).await;
                    return Err(Failure::Recoverable(e.to_string()));
                }
            }
        }
        if let Some(att) = &bdm.attachment_id {
            self.delete_attachment(ctx, &auth, att).await.map_err(|e| Failure::Recoverable(e.to_string()))?;
        }
        self.bdm_destroy(ctx, &bdm).await;
        Ok(())
    }

    /// Swap volume: the new volume takes the old one's device.
    pub(crate) async fn swap_volume(&self, ctx: &Context, r: SwapVolume) {
        let uuid = r.instance_uuid.clone();
        let Some(op) = self.begin(ctx, &uuid, "compute_swap_volume").await else { return };
        let result = self.do_swap_volume(ctx, &op.instance, &r).await;
        self.end(ctx, op, result.map_err(|f| Failure::Recoverable(f.message().to_string()))).await;
    }

    async fn do_swap_volume(&self, ctx: &Context, instance: &InstanceRecord, r: &SwapVolume) -> OpResult {
        let Some(old) = self.bdms(ctx, &instance.uuid).await?.into_iter().find(|b| b.volume_id.as_deref() == Some(r.old_volume_id.as_str())) else {
            return Err(Failure::Abandoned(format!("volume {} is not attached", r.old_volume_id)));
        };
        let auth = self.volume_auth(ctx).await.map_err(|e| volume_failure(&e))?;
        let guest = self.guest(instance);
        let device = old.device_name.clone().unwrap_or_default();
        let mut new = BlockDeviceMapping { volume_id: Some(r.new_volume_id.clone()), attachment_id: Some(r.new_attachment_id.clone()), connection_info: None, ..old.clone() };
        let swapped = self.connect_and_swap(&auth, &guest, &old, &mut new, &device, &r.new_attachment_id).await;
        if let Err(failure) = swapped {
            let _ = self.delete_attachment(ctx, &auth, &r.new_attachment_id).await;
            let _ = cinder::volume_action(self.volume.as_ref(), &auth, &r.old_volume_id, "os-roll_detaching", Value::Null).await;
            return Err(failure);
        }
        if let Some(att) = &old.attachment_id {
            if let Err(e) = self.delete_attachment(ctx, &auth, att).await {
                tracing::warn!("{}attachment {att} of the swapped-out volume not deleted: {e}", instance.tag());
            }
        }
        self.bdm_save(ctx, &new).await
    }

    /// Nova's `_prep_block_device` for a build: every volume the server boots with is
    /// created (from its image or snapshot, or blank) and waited for, reserved, connected to
    /// this host and completed; answers the mappings with their connection info for spawn.
    /// Failures are `BuildAbortException`s (no other host would do better).
    pub(crate) async fn prep_block_device(&self, ctx: &Context, instance: &InstanceRecord, guest: &InstanceRef) -> Result<Vec<BlockDeviceMapping>, Failure> {
        let mut bdms = self.bdms(ctx, &instance.uuid).await?;
        if !bdms.iter().any(BlockDeviceMapping::is_volume) {
            return Ok(bdms);
        }
        let auth = self.volume_auth(ctx).await.map_err(|e| volume_failure(&e))?;
        let zone = instance.availability_zone.clone();
        let mut used: Vec<String> = bdms.iter().filter_map(|b| b.device_name.clone()).collect();
        used.push("/dev/vda".into());
        for bdm in bdms.iter_mut().filter(|b| b.is_volume()) {
            if bdm.volume_id.is_none() {
                let volume_id = self.create_volume(&auth, instance, bdm, zone.as_deref()).await?;
                bdm.volume_id = Some(volume_id);
                self.bdm_save(ctx, bdm).await?;
            }
            let volume_id = bdm.volume_id.clone().unwrap_or_default();
            if bdm.attachment_id.is_none() {
                let attachment = cinder::attachment_create(self.volume.as_ref(), &auth, &volume_id, &instance.uuid, None).await.map_err(|e| volume_failure(&e))?;
                bdm.attachment_id = attachment["id"].as_str().map(str::to_string);
                self.bdm_save(ctx, bdm).await?;
            }
            if bdm.device_name.is_none() {
                let name = if bdm.boot_index == Some(0) { "/dev/vda".to_string() } else { next_free_device(&used) };
                used.push(name.clone());
                bdm.device_name = Some(name);
            }
            let connected = self.connect(&auth, guest, bdm).await?;
            cinder::attachment_complete(self.volume.as_ref(), &auth, bdm.attachment_id.as_deref().unwrap_or_default()).await.map_err(|e| volume_failure(&e))?;
            *bdm = connected;
            self.bdm_save(ctx, bdm).await?;
            tracing::info!("{}Volume {volume_id} attached at build as {}", instance.tag(), bdm.device_name.as_deref().unwrap_or("-"));
        }
        Ok(bdms)
    }

    /// A volume for a mapping that has none yet (Nova's `DriverImageBlockDevice`,
    /// `DriverSnapshotBlockDevice`, `DriverBlankBlockDevice`), once it is `available`.
    async fn create_volume(&self, auth: &NetAuth, instance: &InstanceRecord, bdm: &BlockDeviceMapping, zone: Option<&str>) -> Result<String, Failure> {
        let mut body = json!({"size": bdm.volume_size.unwrap_or(1), "name": "", "description": ""});
        match bdm.source_type.as_str() {
            "image" => body["imageRef"] = json!(bdm.image_id),
            "snapshot" => body["snapshot_id"] = json!(bdm.snapshot_id),
            _ => body["name"] = json!(format!("{}-blank-vol", instance.uuid)),
        }
        if bdm.source_type == "snapshot" && bdm.volume_size.is_none() {
            if let Some(map) = body.as_object_mut() {
                map.remove("size");
            }
        }
        if let Some(t) = &bdm.volume_type {
            body["volume_type"] = json!(t);
        }
        if let Some(z) = zone {
            body["availability_zone"] = json!(z);
        }
        let volume = cinder::create_volume(self.volume.as_ref(), auth, body).await.map_err(|e| volume_failure(&e))?;
        let id = volume["id"].as_str().unwrap_or_default().to_string();
        tracing::info!("{}Creating volume {id} ({} source) for the build", instance.tag(), bdm.source_type);
        let status = cinder::await_volume_created(self.volume.as_ref(), auth, &id, ALLOCATE_TRIES, ALLOCATE_INTERVAL).await.map_err(|e| volume_failure(&e))?;
        if status != "available" {
            let waited = ALLOCATE_INTERVAL.as_secs_f64() * f64::from(ALLOCATE_TRIES);
            return Err(Failure::Error(format!(
                "Volume {id} did not finish being created even after we waited {waited:.0} seconds or {ALLOCATE_TRIES} attempts. And its status is {status}."
            )));
        }
        Ok(id)
    }

    /// The volumes of an instance that goes (Nova's `_shutdown_instance` + `_cleanup_volumes`):
    /// each attachment is deleted, then the `delete_on_termination` volumes. Failures are
    /// logged: the server goes anyway.
    pub(crate) async fn cleanup_volumes(&self, ctx: &Context, instance: &InstanceRecord, bdms: &[BlockDeviceMapping]) {
        let vols: Vec<&BlockDeviceMapping> = bdms.iter().filter(|b| b.is_volume() && b.volume_id.is_some()).collect();
        if vols.is_empty() {
            return;
        }
        let auth = match self.volume_auth(ctx).await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!("{}volumes not released: {e}", instance.tag());
                return;
            }
        };
        for bdm in vols {
            let volume_id = bdm.volume_id.clone().unwrap_or_default();
            if let Some(att) = &bdm.attachment_id {
                match self.delete_attachment(ctx, &auth, att).await {
                    Ok(()) | Err(VolumeError::NotFound(_)) => {}
                    Err(e) => tracing::warn!("{}attachment {att} of volume {volume_id} not deleted: {e}", instance.tag()),
                }
            }
            if bdm.delete_on_termination {
                tracing::info!("{}Deleting volume {volume_id} (delete_on_termination)", instance.tag());
                match cinder::delete_volume(self.volume.as_ref(), &auth, &volume_id).await {
                    Ok(()) | Err(VolumeError::NotFound(_)) => {}
                    Err(e) => tracing::warn!("{}volume {volume_id} not deleted: {e}", instance.tag()),
                }
            }
        }
    }

    /// Nova's `_terminate_volume_connections` of a shelve offload: each connected volume gets
    /// a fresh reservation for the server (no connector) and its connected attachment goes,
    /// so the volume stays the server's (`reserved`) while no host holds it.
    pub(crate) async fn terminate_volume_connections(&self, ctx: &Context, instance: &InstanceRecord) {
        let Ok(bdms) = self.bdms(ctx, &instance.uuid).await else { return };
        let Ok(auth) = self.volume_auth(ctx).await else { return };
        for mut bdm in bdms.into_iter().filter(|b| b.is_volume() && b.connection_info.is_some()) {
            let volume_id = bdm.volume_id.clone().unwrap_or_default();
            match cinder::attachment_create(self.volume.as_ref(), &auth, &volume_id, &instance.uuid, None).await {
                Ok(a) => {
                    if let Some(old) = &bdm.attachment_id {
                        let _ = self.delete_attachment(ctx, &auth, old).await;
                    }
                    bdm.attachment_id = a["id"].as_str().map(str::to_string);
                }
                Err(e) => tracing::warn!("{}volume {volume_id} not reserved for the offloaded server: {e}", instance.tag()),
            }
            bdm.connection_info = None;
            let _ = self.bdm_save(ctx, &bdm).await;
        }
    }

    /// The volumes of a server arriving on this host without connections (an unshelve):
    /// each one gets a device if it has none, its attachment this host's connector, and
    /// `os-complete`; answers the mappings for spawn.
    pub(crate) async fn connect_volumes(&self, ctx: &Context, instance: &InstanceRecord, guest: &InstanceRef) -> Result<Vec<BlockDeviceMapping>, Failure> {
        let mut bdms = self.bdms(ctx, &instance.uuid).await?;
        if !bdms.iter().any(|b| b.is_volume() && b.connection_info.is_none()) {
            return Ok(bdms);
        }
        let auth = self.volume_auth(ctx).await.map_err(|e| volume_failure(&e))?;
        let mut used: Vec<String> = bdms.iter().filter_map(|b| b.device_name.clone()).collect();
        used.push("/dev/vda".into());
        for bdm in bdms.iter_mut().filter(|b| b.is_volume() && b.connection_info.is_none() && b.volume_id.is_some()) {
            let volume_id = bdm.volume_id.clone().unwrap_or_default();
            if bdm.attachment_id.is_none() {
                let a = cinder::attachment_create(self.volume.as_ref(), &auth, &volume_id, &instance.uuid, None).await.map_err(|e| volume_failure(&e))?;
                bdm.attachment_id = a["id"].as_str().map(str::to_string);
            }
            if bdm.device_name.is_none() {
                let name = if bdm.boot_index == Some(0) { "/dev/vda".to_string() } else { next_free_device(&used) };
                used.push(name.clone());
                bdm.device_name = Some(name);
            }
            let connected = self.connect(&auth, guest, bdm).await?;
            cinder::attachment_complete(self.volume.as_ref(), &auth, bdm.attachment_id.as_deref().unwrap_or_default()).await.map_err(|e| volume_failure(&e))?;
            *bdm = connected;
            self.bdm_save(ctx, bdm).await?;
            tracing::info!("{}Volume {volume_id} connected on this host as {}", instance.tag(), bdm.device_name.as_deref().unwrap_or("-"));
        }
        Ok(bdms)
    }

    /// A build given back for another host: the attachments made here are replaced by new
    /// reservations (Nova deletes them on the failed host and creates fresh ones), so the
    /// next host connects its own.
    pub(crate) async fn reset_attachments(&self, ctx: &Context, instance: &InstanceRecord) {
        let Ok(bdms) = self.bdms(ctx, &instance.uuid).await else { return };
        let Ok(auth) = self.volume_auth(ctx).await else { return };
        for mut bdm in bdms.into_iter().filter(|b| b.is_volume() && b.connection_info.is_some()) {
            let volume_id = bdm.volume_id.clone().unwrap_or_default();
            if let Some(att) = &bdm.attachment_id {
                let _ = self.delete_attachment(ctx, &auth, att).await;
            }
            bdm.attachment_id = match cinder::attachment_create(self.volume.as_ref(), &auth, &volume_id, &instance.uuid, None).await {
                Ok(a) => a["id"].as_str().map(str::to_string),
                Err(e) => {
                    tracing::warn!("{}volume {volume_id} not reserved again: {e}", instance.tag());
                    None
                }
            };
            bdm.connection_info = None;
            let _ = self.bdm_save(ctx, &bdm).await;
        }
    }
}

/// A device for a non-root volume of a build that named none: the first `vdX` not in use.
fn next_free_device(used: &[String]) -> String {
    (b'b'..=b'z').map(|c| format!("/dev/vd{}", char::from(c))).find(|n| !used.contains(n)).unwrap_or_else(|| "/dev/vdz".into())
}
