//! Volumes: Cinder's `volume/api.py` for create (the `volume_create_api` flow), delete,
//! extend, status resets and lookups.

use crate::context::RequestContext;
use crate::db::metadata::{self, Table};
use crate::db::types::VolumeType;
use crate::db::{services, snapshots, volumes, volumes::Volume};
use crate::flow::Flow;
use crate::image_service::{ImageAuth, ImageError};
use crate::rpc::{self, CreateVolumeSpec, SchedulerRequest, TypeSpec, VolumeRequest};
use crate::states::{attach, snapshot as snap_states, volume as vol_states};
use crate::volume_api::types as types_api;
use crate::VolumeService;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Volume {id} could not be found."))
}

/// The policy target of a volume.
pub fn target(v: &Volume) -> Value {
    json!({"project_id": v.project_id, "user_id": v.user_id, "id": v.id})
}

/// The volume `id` if the caller may see it (admins see every project's), else 404.
pub async fn find(
    state: &VolumeService,
    ctx: &RequestContext,
    id: &str,
) -> Result<Volume, ApiError> {
    let v = volumes::get(&state.db, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if !ctx.is_admin && v.project_id != ctx.project_id() {
        return Err(not_found(id));
    }
    Ok(v)
}

/// What a create asks for.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub size: Option<i64>,
    pub volume_type: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub snapshot_id: Option<String>,
    pub source_volid: Option<String>,
    pub availability_zone: Option<String>,
    /// `imageRef`: an image id, an image URL ending in its id, or an image name.
    pub image_ref: Option<String>,
    /// The backup to restore into the new volume (3.47).
    pub backup_id: Option<String>,
}

/// The availability zones volumes may be created in: the zones of the enabled volume
/// services, and the configured one.
pub async fn zones(state: &VolumeService) -> Result<Vec<String>, ApiError> {
    let mut zones = vec![state.config.volume.storage_availability_zone.clone()];
    for s in services::list(&state.db).await? {
        if s.binary == "cinder-volume" && !s.disabled && !zones.contains(&s.availability_zone) {
            zones.push(s.availability_zone);
        }
    }
    Ok(zones)
}

/// What ExtractVolumeRequestTask settles.
struct Extracted {
    size: i64,
    volume_type: VolumeType,
    availability_zone: String,
    snapshot: Option<snapshots::Snapshot>,
    source: Option<Volume>,
    /// The image's record, as the image service shows it to the caller.
    image: Option<Value>,
    backup: Option<crate::db::backups::Backup>,
}

const GIB: i64 = 1 << 30;

/// Cinder's `_image_uuid_from_ref`: the image an `imageRef` names (an id, a URL ending in an
/// id, or a unique name), as the caller sees it; 400 when there is none, 409 when a name is
/// ambiguous.
async fn find_image(state: &VolumeService, ctx: &RequestContext, image_ref: &str) -> Result<Value, ApiError> {
    let auth = ImageAuth {
        token: ctx.token.clone(),
        request_id: ctx.request_id.clone(),
    };
    let last = image_ref.rsplit('/').next().unwrap_or(image_ref);
    if uuid::Uuid::parse_str(last).is_ok() {
        match state.images.show(&auth, last).await {
            Ok(image) if image.get("id").is_some() => return Ok(image),
            Ok(_) | Err(ImageError::NotFound(_)) | Err(ImageError::Forbidden(_)) => {}
            Err(e) => tracing::warn!("Image {last} could not be looked up: {e}"),
        }
    }
    match state.images.by_name(&auth, image_ref).await {
        Ok(found) if found.len() > 1 => {
            return Err(ApiError::new(
                http::StatusCode::CONFLICT,
                format!("Multiple matches found for '{image_ref}', use an ID to be more specific."),
            ))
        }
        Ok(found) => {
            if let Some(image) = found.into_iter().next() {
                return Ok(image);
            }
        }
        Err(e) => tracing::warn!("Images named {image_ref} could not be listed: {e}"),
    }
    Err(ApiError::bad_request(
        "Invalid image identifier or unable to access requested image.",
    ))
}

/// Cinder's `check_image_metadata`: an active image that fits a volume of `size` GiB.
fn check_image(image: &Value, size: i64) -> Result<(), ApiError> {
    let id = image["id"].as_str().unwrap_or_default();
    if image["status"] != "active" {
        return Err(ApiError::bad_request(format!(
            "Invalid input received: Image {id} is not active."
        )));
    }
    let image_gb = (image["size"].as_i64().unwrap_or(0) + GIB - 1) / GIB;
    if image_gb > size {
        return Err(ApiError::bad_request(format!(
            "Invalid input received: Size of specified image {image_gb}GB is larger than volume size {size}GB."
        )));
    }
    let min_disk = image["min_disk"].as_i64().unwrap_or(0);
    if size < min_disk {
        return Err(ApiError::bad_request(format!(
            "Invalid input received: Volume size {size}GB cannot be smaller than the image minDisk size {min_disk}GB."
        )));
    }
    if let Some(virtual_size) = image["virtual_size"].as_i64().filter(|v| *v > 0) {
        let virtual_gb = (virtual_size + GIB - 1) / GIB;
        if virtual_gb > size {
            return Err(ApiError::bad_request(format!(
                "Image {id} is unacceptable: Image virtual size is {virtual_gb}GB and doesn't fit in a volume of size {size}GB."
            )));
        }
    }
    Ok(())
}

async fn extract(
    state: &VolumeService,
    ctx: &RequestContext,
    req: &CreateRequest,
) -> Result<Extracted, ApiError> {
    let snapshot = match &req.snapshot_id {
        Some(id) => {
            let s = super::snapshots::find(state, ctx, id).await?;
            if s.status != snap_states::AVAILABLE {
                return Err(ApiError::bad_request("Invalid snapshot: Originating snapshot status must be one of 'available' values"));
            }
            Some(s)
        }
        None => None,
    };
    let source = match &req.source_volid {
        Some(id) => {
            let v = find(state, ctx, id).await?;
            if v.status != vol_states::AVAILABLE && v.status != vol_states::IN_USE {
                return Err(ApiError::bad_request("Invalid volume: Originating source volume status must be one of 'available, in-use' values"));
            }
            Some(v)
        }
        None => None,
    };
    let backup = match &req.backup_id {
        Some(id) => {
            let b = super::backups::find(state, ctx, id).await?;
            if b.status != crate::backup::status::AVAILABLE {
                return Err(ApiError::bad_request("Invalid backup: Originating backup status must be one of 'available' values"));
            }
            Some(b)
        }
        None => None,
    };
    let size = req
        .size
        .or(snapshot.as_ref().map(|s| s.volume_size))
        .or(source.as_ref().map(|v| v.size))
        .or(backup.as_ref().map(|b| b.size));
    let size = match size {
        Some(n) if n > 0 => n,
        other => {
            let shown = other
                .map(|n| n.to_string())
                .unwrap_or_else(|| "None".into());
            return Err(ApiError::bad_request(format!("Invalid input received: Volume size '{shown}' must be an integer and greater than 0")));
        }
    };
    if let Some(v) = &source {
        if size < v.size {
            return Err(ApiError::bad_request(format!(
                "Invalid input received: Volume size '{size}'GB cannot be smaller than original volume size  {}GB. They must be >= original volume size.",
                v.size
            )));
        }
    } else if let Some(s) = &snapshot {
        if size < s.volume_size {
            return Err(ApiError::bad_request(format!(
                "Invalid input received: Volume size '{size}'GB cannot be smaller than the snapshot size {}GB. They must be >= original snapshot size.",
                s.volume_size
            )));
        }
    } else if let Some(b) = &backup {
        if size < b.size {
            return Err(ApiError::bad_request(format!(
                "Invalid input received: Volume size {size}GB cannot be smaller than the backup size {}GB. It must be >= backup size.",
                b.size
            )));
        }
    }
    let image = match &req.image_ref {
        Some(r) => {
            let image = find_image(state, ctx, r).await?;
            check_image(&image, size)?;
            Some(image)
        }
        None => None,
    };
    let inherited = source
        .as_ref()
        .map(|v| v.volume_type_id.clone())
        .or_else(|| snapshot.as_ref().and_then(|s| s.volume_type_id.clone()));
    let volume_type = match (&req.volume_type, inherited) {
        (Some(name), _) => types_api::find_by_name_or_id(state, ctx, name).await?,
        (None, Some(id)) => match crate::db::types::get(&state.db, &id).await? {
            Some(t) => t,
            None => types_api::default_type(state).await?,
        },
        (None, None) => types_api::default_type(state).await?,
    };
    let source_zone = match (&source, &snapshot) {
        (Some(v), _) => v.availability_zone.clone(),
        (None, Some(s)) => volumes::get(&state.db, &s.volume_id)
            .await?
            .and_then(|v| v.availability_zone),
        _ => None,
    };
    let cfg = &state.config.volume;
    let default_zone = cfg
        .default_availability_zone
        .clone()
        .unwrap_or_else(|| cfg.storage_availability_zone.clone());
    let mut zone = req
        .availability_zone
        .clone()
        .or_else(|| source_zone.clone())
        .unwrap_or_else(|| default_zone.clone());
    if !zones(state).await?.contains(&zone) {
        if cfg.allow_availability_zone_fallback {
            tracing::warn!("Availability zone '{zone}' is invalid; falling back to {default_zone}");
            zone = default_zone;
        } else {
            return Err(ApiError::bad_request(format!(
                "Availability zone '{zone}' is invalid."
            )));
        }
    }
    if let Some(src_zone) = source_zone {
        if src_zone != zone {
            let what = if source.is_some() {
                "source volume"
            } else {
                "snapshot"
            };
            return Err(ApiError::bad_request(format!("Invalid input received: Volume must be in the same availability zone as the {what}")));
        }
    }
    Ok(Extracted {
        size,
        volume_type,
        availability_zone: zone,
        snapshot,
        source,
        image,
        backup,
    })
}

/// Cinder's `volume_create_api` flow: checks, quota, the record (status `creating`), and the
/// cast to the scheduler. Returns the new volume.
pub async fn create(
    state: &VolumeService,
    ctx: &RequestContext,
    req: CreateRequest,
) -> Result<Volume, ApiError> {
    let mut flow = Flow::start("volume_create_api", "new volume");
    let x = flow
        .task("ExtractVolumeRequestTask", extract(state, ctx, &req))
        .await?;
    let _guard = state.quota_lock.lock().await;
    flow.task(
        "QuotaReserveTask",
        crate::quota::check(state, ctx.project_id(), &x.volume_type, 1, x.size, false),
    )
    .await?;
    let now = now_micros();
    let volume = Volume {
        id: crate::db::new_id(),
        project_id: ctx.project_id().to_string(),
        user_id: ctx.user_id().to_string(),
        display_name: req.name.clone(),
        display_description: req.description.clone(),
        size: x.size,
        status: vol_states::CREATING.into(),
        attach_status: attach::DETACHED.into(),
        availability_zone: Some(x.availability_zone.clone()),
        volume_type_id: x.volume_type.id.clone(),
        snapshot_id: x.snapshot.as_ref().map(|s| s.id.clone()),
        source_volid: x.source.as_ref().map(|v| v.id.clone()),
        multiattach: x
            .volume_type
            .extra_specs
            .get("multiattach")
            .is_some_and(|v| v == "<is> True"),
        use_quota: true,
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    flow.task("EntryCreateTask", async {
        volumes::insert(&state.db, &volume).await?;
        if !req.metadata.is_empty() {
            metadata::set(&state.db, Table::Volume, &volume.id, &req.metadata, true).await?;
        }
        Ok::<_, ApiError>(())
    })
    .await?;
    drop(_guard);
    let _ = flow
        .task("QuotaCommitTask", async { Ok::<_, ApiError>(()) })
        .await;
    // A copy stays where the data is: on the source's backend.
    let backend = match (&x.source, &x.snapshot) {
        (Some(v), _) => v.backend().map(str::to_string),
        (None, Some(s)) => volumes::get(&state.db, &s.volume_id)
            .await?
            .and_then(|v| v.backend().map(str::to_string)),
        _ => None,
    };
    let spec = CreateVolumeSpec {
        volume_id: volume.id.clone(),
        size: x.size,
        volume_type: TypeSpec {
            id: x.volume_type.id.clone(),
            name: x.volume_type.name.clone(),
            extra_specs: x.volume_type.extra_specs.clone(),
        },
        availability_zone: Some(x.availability_zone.clone()),
        snapshot_id: volume.snapshot_id.clone(),
        source_volid: volume.source_volid.clone(),
        backend,
        image_id: x
            .image
            .as_ref()
            .and_then(|i| i["id"].as_str())
            .map(str::to_string),
        backup_id: x.backup.as_ref().map(|b| b.id.clone()),
    };
    let cast = flow
        .task(
            "VolumeCastTask",
            rpc::cast_scheduler(
                state.bus.as_ref(),
                ctx.bus_context(),
                &SchedulerRequest::CreateVolume(spec),
            ),
        )
        .await;
    if let Err(e) = cast {
        tracing::error!(
            "Volume {}: no volume scheduler answered ({e}); setting it to error",
            volume.id
        );
        volumes::update_if(
            &state.db,
            &volume.id,
            &[vol_states::CREATING],
            &volumes::Changes::status(vol_states::ERROR),
        )
        .await?;
        return volumes::get(&state.db, &volume.id)
            .await?
            .ok_or_else(|| not_found(&volume.id));
    }
    tracing::info!(
        "Create volume request issued successfully. volume_id: {}",
        volume.id
    );
    // The record as created, as Cinder answers (the flow may already be further along).
    Ok(volume)
}

/// Deletes a volume (Cinder's `delete`): refused while attached, migrating, in a group or
/// with snapshots (unless `cascade`), or — without `force` — in a busy status.
pub async fn delete(
    state: &VolumeService,
    ctx: &RequestContext,
    volume: &Volume,
    cascade: bool,
    force: bool,
) -> Result<(), ApiError> {
    let db = &state.db;
    if volume.host.is_none() {
        // Never scheduled: nothing exists on a backend.
        volumes::destroy(db, &volume.id).await?;
        tracing::info!(
            "Delete volume request issued successfully. volume_id: {} (never scheduled)",
            volume.id
        );
        return Ok(());
    }
    let allowed: &[&str] = &[
        vol_states::AVAILABLE,
        vol_states::ERROR,
        vol_states::ERROR_RESTORING,
        vol_states::ERROR_EXTENDING,
        vol_states::ERROR_MANAGING,
    ];
    let snaps = snapshots::of_volume(db, &volume.id).await?;
    let snapshots_ok = if cascade {
        force
            || snaps.iter().all(|s| {
                matches!(
                    s.status.as_str(),
                    snap_states::AVAILABLE | snap_states::ERROR | snap_states::DELETING
                )
            })
    } else {
        snaps.is_empty()
    } && (ctx.is_admin
        || snaps.iter().all(|s| s.project_id == volume.project_id));
    let blocked = volume.attach_status == attach::ATTACHED
        || volume
            .migration_status
            .as_deref()
            .is_some_and(|m| !matches!(m, "success" | "error"))
        || volume.group_id.is_some()
        || !snapshots_ok
        || (!force && !allowed.contains(&volume.status.as_str()));
    let expected: &[&str] = if force { &[] } else { allowed };
    let changes = volumes::Changes {
        status: Some(vol_states::DELETING.into()),
        terminated_at: Some(now_micros()),
        ..Default::default()
    };
    if blocked || !volumes::update_if(db, &volume.id, expected, &changes).await? {
        let status = if force {
            String::new()
        } else {
            format!("status must be {} and ", allowed.join(" or "))
        };
        return Err(ApiError::bad_request(format!(
            "Invalid volume: Volume {status}must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer."
        )));
    }
    if cascade {
        for s in &snaps {
            snapshots::update_if(db, &s.id, &[], snap_states::DELETING, None, None).await?;
        }
    }
    let backend = volume.backend().unwrap_or_default().to_string();
    if let Err(e) = rpc::cast_volume(
        state.bus.as_ref(),
        ctx.bus_context(),
        &backend,
        &VolumeRequest::DeleteVolume {
            volume_id: volume.id.clone(),
            cascade,
        },
    )
    .await
    {
        tracing::error!(
            "Volume {}: the volume service of {backend} is unreachable ({e})",
            volume.id
        );
        volumes::update_if(
            db,
            &volume.id,
            &[vol_states::DELETING],
            &volumes::Changes::status(vol_states::ERROR_DELETING),
        )
        .await?;
    }
    tracing::info!(
        "Delete volume request issued successfully. volume_id: {}",
        volume.id
    );
    Ok(())
}

/// Grows an `available` volume (Cinder's `extend`).
pub async fn extend(
    state: &VolumeService,
    ctx: &RequestContext,
    volume: &Volume,
    new_size: i64,
) -> Result<(), ApiError> {
    if new_size <= volume.size {
        return Err(ApiError::bad_request(format!(
            "Invalid input received: New size for extend must be greater than current size. (current: {}, extended: {new_size}).",
            volume.size
        )));
    }
    if volume.status != vol_states::AVAILABLE {
        return Err(ApiError::bad_request(format!(
            "Invalid volume: Volume {} status must be '{{'status': 'available'}}' to extend, currently {}.",
            volume.id, volume.status
        )));
    }
    let t = crate::db::types::get(&state.db, &volume.volume_type_id)
        .await?
        .unwrap_or_default();
    {
        let _guard = state.quota_lock.lock().await;
        let limits = crate::quota::limits(state, &volume.project_id).await?;
        let per_volume = limits.get("per_volume_gigabytes").copied().unwrap_or(-1);
        if per_volume >= 0 && new_size > per_volume {
            return Err(ApiError::new(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                format!("Requested volume size {new_size}G is larger than maximum allowed limit {per_volume}G."),
            ));
        }
        crate::quota::check(
            state,
            &volume.project_id,
            &t,
            0,
            new_size - volume.size,
            false,
        )
        .await?;
        let changes = volumes::Changes {
            status: Some(vol_states::EXTENDING.into()),
            previous_status: Some(Some(volume.status.clone())),
            ..Default::default()
        };
        if !volumes::update_if(&state.db, &volume.id, &[vol_states::AVAILABLE], &changes).await? {
            return Err(ApiError::bad_request(format!(
                "Invalid volume: Volume {} status must be '{{'status': 'available'}}' to extend.",
                volume.id
            )));
        }
    }
    let backend = volume.backend().unwrap_or_default().to_string();
    if let Err(e) = rpc::cast_volume(
        state.bus.as_ref(),
        ctx.bus_context(),
        &backend,
        &VolumeRequest::ExtendVolume {
            volume_id: volume.id.clone(),
            new_size,
        },
    )
    .await
    {
        tracing::error!(
            "Volume {}: the volume service of {backend} is unreachable ({e})",
            volume.id
        );
        volumes::update_if(
            &state.db,
            &volume.id,
            &[vol_states::EXTENDING],
            &volumes::Changes::status(vol_states::ERROR_EXTENDING),
        )
        .await?;
    }
    Ok(())
}

/// Changes a volume's type (Cinder's `retype`): the scheduler checks that the volume's
/// backend suits the new type and its manager applies it; a change of backend (a migration)
/// is not done, so such a retype leaves the volume as it was.
pub async fn retype(
    state: &VolumeService,
    ctx: &RequestContext,
    volume: &Volume,
    new_type: &str,
    migration_policy: &str,
) -> Result<(), ApiError> {
    if !matches!(migration_policy, "never" | "on-demand") {
        return Err(ApiError::bad_request(format!(
            "Invalid input for field/attribute migration_policy. Value: {migration_policy}. '{migration_policy}' is not one of ['on-demand', 'never']"
        )));
    }
    let t = types_api::find_by_name_or_id(state, ctx, new_type)
        .await
        .map_err(|e| {
            if e.status == http::StatusCode::NOT_FOUND {
                ApiError::bad_request(format!(
                    "Invalid input received: Invalid volume_type passed: {new_type}."
                ))
            } else {
                e
            }
        })?;
    let refused = || {
        ApiError::bad_request(
            "Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.",
        )
    };
    if t.id == volume.volume_type_id
        || volume
            .migration_status
            .as_deref()
            .is_some_and(|m| !matches!(m, "success" | "error"))
        || volume.group_id.is_some()
    {
        return Err(refused());
    }
    {
        let _guard = state.quota_lock.lock().await;
        crate::quota::check_type(state, &volume.project_id, &t, 1, volume.size).await?;
        let changes = volumes::Changes {
            status: Some(vol_states::RETYPING.into()),
            previous_status: Some(Some(volume.status.clone())),
            ..Default::default()
        };
        if !volumes::update_if(
            &state.db,
            &volume.id,
            &[vol_states::AVAILABLE, vol_states::IN_USE],
            &changes,
        )
        .await?
        {
            return Err(refused());
        }
    }
    let request = SchedulerRequest::RetypeVolume {
        volume_id: volume.id.clone(),
        new_type: TypeSpec {
            id: t.id.clone(),
            name: t.name.clone(),
            extra_specs: t.extra_specs.clone(),
        },
        migration_policy: migration_policy.to_string(),
    };
    if let Err(e) = rpc::cast_scheduler(state.bus.as_ref(), ctx.bus_context(), &request).await {
        tracing::error!("Volume {}: no volume scheduler answered ({e})", volume.id);
        let back = volumes::Changes {
            status: Some(volume.status.clone()),
            previous_status: Some(None),
            ..Default::default()
        };
        volumes::update_if(&state.db, &volume.id, &[vol_states::RETYPING], &back).await?;
    }
    Ok(())
}

/// What an upload to the image service asks for (`os-volume_upload_image`).
#[derive(Debug, Clone)]
pub struct UploadRequest {
    pub image_name: String,
    pub force: bool,
    pub disk_format: String,
    pub container_format: String,
    /// 3.1+: `visibility` and `protected` for the new image.
    pub visibility: Option<String>,
    pub protected: Option<bool>,
}

/// Cinder's `copy_volume_to_image`: the volume (`available`, or `in-use` with `force`) goes
/// `uploading`, the image is created in the image service as the caller (with the volume's
/// image properties), and the volume's manager writes the data. Answers Cinder's response.
pub async fn copy_volume_to_image(
    state: &VolumeService,
    ctx: &RequestContext,
    volume: &Volume,
    req: UploadRequest,
) -> Result<Value, ApiError> {
    let expected: &[&str] = if req.force {
        &[vol_states::AVAILABLE, vol_states::IN_USE]
    } else {
        &[vol_states::AVAILABLE]
    };
    let changes = volumes::Changes {
        status: Some(vol_states::UPLOADING.into()),
        previous_status: Some(Some(volume.status.clone())),
        ..Default::default()
    };
    if !volumes::update_if(&state.db, &volume.id, expected, &changes).await? {
        let statuses = if req.force {
            "available or in-use"
        } else {
            "available"
        };
        return Err(ApiError::bad_request(format!(
            "Invalid volume: Volume {} status must be {statuses}",
            volume.id
        )));
    }
    let roll_back = || async {
        let back = volumes::Changes {
            status: Some(volume.status.clone()),
            previous_status: Some(None),
            ..Default::default()
        };
        let _ = volumes::update_if(&state.db, &volume.id, &[vol_states::UPLOADING], &back).await;
    };
    // Cinder's _merge_volume_image_meta: the volume's image properties go to the new image
    // (not the fields describing the old image's data).
    let mut body = json!({
        "name": req.image_name,
        "disk_format": req.disk_format,
        "container_format": req.container_format,
    });
    if let Some(v) = &req.visibility {
        body["visibility"] = json!(v);
    }
    if let Some(p) = req.protected {
        body["protected"] = json!(p);
    }
    let image_meta = metadata::get(&state.db, Table::VolumeImage, &volume.id).await?;
    for (k, v) in &image_meta {
        let reserved = matches!(
            k.as_str(),
            "image_id" | "image_name" | "checksum" | "size" | "disk_format" | "container_format" | "min_disk" | "min_ram"
        ) || crate::image_service::CORE_ATTRIBUTES.contains(&k.as_str())
            || k.starts_with("os_glance")
            || k.starts_with("signature_verified");
        if !reserved {
            body[k] = json!(v);
        }
    }
    if let Some(min_disk) = image_meta.get("min_disk").and_then(|v| v.parse::<i64>().ok()) {
        body["min_disk"] = json!(min_disk);
    }
    if let Some(min_ram) = image_meta.get("min_ram").and_then(|v| v.parse::<i64>().ok()) {
        body["min_ram"] = json!(min_ram);
    }
    let auth = ImageAuth {
        token: ctx.token.clone(),
        request_id: ctx.request_id.clone(),
    };
    let image = match state.images.create(&auth, &body).await {
        Ok(i) => i,
        Err(e) => {
            roll_back().await;
            return Err(match e {
                ImageError::Unavailable(m) => {
                    tracing::error!("Upload of volume {}: image service unavailable: {m}", volume.id);
                    ApiError::bad_request("Image service unavailable: the image could not be created.")
                }
                other => ApiError::bad_request(other.to_string()),
            });
        }
    };
    let image_id = image["id"].as_str().unwrap_or_default().to_string();
    let backend = volume.backend().unwrap_or_default().to_string();
    let request = VolumeRequest::CopyVolumeToImage {
        volume_id: volume.id.clone(),
        image_id: image_id.clone(),
        disk_format: req.disk_format.clone(),
    };
    if let Err(e) = rpc::cast_volume(state.bus.as_ref(), ctx.bus_context(), &backend, &request).await {
        tracing::error!("Volume {}: the volume service of {backend} is unreachable ({e})", volume.id);
        let _ = state.images.delete(&auth, &image_id).await;
        roll_back().await;
        return Err(ApiError::bad_request(format!(
            "Invalid volume: the volume service of {backend} is unreachable"
        )));
    }
    let volume_type = match crate::db::types::get(&state.db, &volume.volume_type_id).await? {
        Some(t) => json!({
            "id": t.id,
            "name": t.name,
            "description": t.description,
            "is_public": t.is_public,
            "extra_specs": t.extra_specs,
            "qos_specs_id": t.qos_specs_id,
            "created_at": crate::api::view::ts(t.created_at),
            "updated_at": crate::api::view::ts(t.updated_at),
            "deleted": false,
            "deleted_at": null,
        }),
        None => Value::Null,
    };
    let mut response = json!({
        "id": volume.id,
        "updated_at": crate::api::view::ts(volume.updated_at),
        "status": vol_states::UPLOADING,
        "display_description": volume.display_description,
        "size": volume.size,
        "volume_type": volume_type,
        "image_id": image_id,
        "container_format": image["container_format"],
        "disk_format": image["disk_format"],
        "image_name": image["name"],
    });
    if let Some(p) = image.get("protected") {
        response["protected"] = p.clone();
    }
    if let Some(v) = image.get("visibility") {
        response["visibility"] = v.clone();
    }
    tracing::info!("Copy volume to image issued. volume {} image {image_id}", volume.id);
    Ok(response)
}
