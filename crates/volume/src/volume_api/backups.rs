//! Backups: Cinder's `backup/api.py` — create (full or incremental, from a volume or one of
//! its snapshots, `force` for in-use volumes), delete (refused while incrementals depend on
//! the backup), restore to a new or an existing volume, export and import of records, and the
//! admin resets. The API casts straight to a backup service (`cinder-backup`); the volume is
//! `backing-up` or `restoring-backup` meanwhile.

use crate::backup::{posix, status};
use crate::context::RequestContext;
use crate::db::backups::{self, Backup};
use crate::db::{services, snapshots, volumes};
use crate::rpc::{self, BackupRequest};
use crate::states::{snapshot as snap_states, volume as vol_states};
use crate::volume_api::volumes as vol_api;
use crate::VolumeService;
use base64::Engine;
use http::StatusCode;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Backup {id} could not be found."))
}

fn invalid_backup(reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("Invalid backup: {reason}"))
}

fn invalid_volume(reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("Invalid volume: {reason}"))
}

/// The policy target of a backup.
pub fn target(b: &Backup) -> Value {
    json!({"project_id": b.project_id, "user_id": b.user_id, "id": b.id})
}

/// The backup `id` if the caller may see it (admins see every project's), else 404.
pub async fn find(state: &VolumeService, ctx: &RequestContext, id: &str) -> Result<Backup, ApiError> {
    let b = backups::get(&state.db, id).await?.ok_or_else(|| not_found(id))?;
    if !ctx.is_admin && b.project_id != ctx.project_id() {
        return Err(not_found(id));
    }
    Ok(b)
}

/// A backup service that is up and enabled: the one of `preferred` when it is, else any in
/// `zone` (when given), else 503.
pub async fn backup_host(state: &VolumeService, preferred: Option<&str>, zone: Option<&str>) -> Result<String, ApiError> {
    let down_after = state.config.volume.service_down_time;
    let up: Vec<_> = services::list(&state.db)
        .await?
        .into_iter()
        .filter(|s| s.binary == "cinder-backup" && !s.disabled && s.is_up(down_after))
        .collect();
    if let Some(p) = preferred {
        if up.iter().any(|s| s.host == p) {
            return Ok(p.to_string());
        }
    }
    up.iter()
        .find(|s| zone.is_none_or(|z| s.availability_zone == z))
        .map(|s| s.host.clone())
        .ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Service cinder-backup could not be found."))
}

/// What a create asks for.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    pub volume_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub container: Option<String>,
    pub incremental: bool,
    pub force: bool,
    pub snapshot_id: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub availability_zone: Option<String>,
}

/// Cinder's backup `create`: checks, quota, the record (status `creating`), the volume (or
/// snapshot) `backing-up`, and the cast to a backup service.
pub async fn create(state: &VolumeService, ctx: &RequestContext, req: CreateRequest) -> Result<Backup, ApiError> {
    let volume = vol_api::find(state, ctx, &req.volume_id).await?;
    state.authorize("backup:create", &vol_api::target(&volume), ctx)?;
    if let Some(c) = &req.container {
        if !posix::valid_container(c) {
            return Err(ApiError::bad_request(format!(
                "Invalid input received: container '{c}' must be a relative path of letters, digits, '-', '_' and '.'"
            )));
        }
    }
    let snapshot = match &req.snapshot_id {
        Some(id) => {
            let s = super::snapshots::find(state, ctx, id).await?;
            if s.volume_id != volume.id {
                return Err(invalid_volume(format!(
                    "Volume {} does not match with snapshot.volume_id {}.",
                    volume.id, s.volume_id
                )));
            }
            if s.status != snap_states::AVAILABLE {
                return Err(ApiError::bad_request(format!(
                    "Invalid snapshot: Snapshot to be backed up must be available, but the current status is \"{}\".",
                    s.status
                )));
            }
            Some(s)
        }
        None => {
            if volume.status != vol_states::AVAILABLE && volume.status != vol_states::IN_USE {
                return Err(invalid_volume(format!(
                    "Volume to be backed up must be available or in-use, but the current status is \"{}\".",
                    volume.status
                )));
            }
            if volume.status == vol_states::IN_USE && !req.force {
                return Err(invalid_volume("Backing up an in-use volume must use the force flag."));
            }
            None
        }
    };
    let host = backup_host(state, None, req.availability_zone.as_deref()).await?;
    let _guard = state.quota_lock.lock().await;
    crate::quota::check_backup(state, &volume.project_id, volume.size).await?;
    let parent = if req.incremental {
        let latest = backups::of_volume(&state.db, &volume.id)
            .await?
            .into_iter()
            .filter(|b| b.status == status::AVAILABLE)
            .filter(|b| snapshot.as_ref().is_none_or(|s| b.data_timestamp.unwrap_or(b.created_at) < s.created_at))
            .max_by_key(|b| (b.data_timestamp.unwrap_or(b.created_at), b.created_at));
        match latest {
            Some(b) => Some(b),
            None => return Err(invalid_backup("No backups available to do an incremental backup.")),
        }
    } else {
        None
    };
    let now = now_micros();
    let id = crate::db::new_id();
    let backup = Backup {
        id: id.clone(),
        project_id: ctx.project_id().to_string(),
        user_id: ctx.user_id().to_string(),
        volume_id: volume.id.clone(),
        display_name: req.name.clone(),
        display_description: req.description.clone(),
        status: status::CREATING.into(),
        size: volume.size,
        availability_zone: req.availability_zone.clone().or_else(|| volume.availability_zone.clone()),
        container: Some(req.container.clone().unwrap_or_else(|| posix::default_container(&id))),
        service: Some(posix::SERVICE_NAME.into()),
        host: Some(host.clone()),
        parent_id: parent.as_ref().map(|p| p.id.clone()),
        snapshot_id: snapshot.as_ref().map(|s| s.id.clone()),
        data_timestamp: Some(snapshot.as_ref().map_or(now, |s| s.created_at)),
        metadata: req.metadata.clone(),
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    match &snapshot {
        Some(s) => {
            if !snapshots::update_if(&state.db, &s.id, &[snap_states::AVAILABLE], snap_states::BACKING_UP, None, None).await? {
                return Err(ApiError::bad_request("Invalid snapshot: Snapshot to be backed up must be available."));
            }
        }
        None => {
            let changes = volumes::Changes {
                status: Some(vol_states::BACKING_UP.into()),
                previous_status: Some(Some(volume.status.clone())),
                ..Default::default()
            };
            if !volumes::update_if(&state.db, &volume.id, &[&volume.status], &changes).await? {
                return Err(invalid_volume("Volume to be backed up must be available or in-use."));
            }
        }
    }
    backups::insert(&state.db, &backup).await?;
    drop(_guard);
    let cast = rpc::cast_backup(
        state.bus.as_ref(),
        ctx.bus_context(),
        &host,
        &BackupRequest::CreateBackup { backup_id: id.clone() },
    )
    .await;
    if let Err(e) = cast {
        tracing::error!("Backup {id}: the backup service of {host} is unreachable ({e})");
        backups::set_status(&state.db, &id, &[status::CREATING], status::ERROR, Some("the backup service is unreachable")).await?;
        let back = volumes::Changes {
            status: Some(volume.status.clone()),
            previous_status: Some(None),
            ..Default::default()
        };
        volumes::update_if(&state.db, &volume.id, &[vol_states::BACKING_UP], &back).await?;
        if let Some(s) = &snapshot {
            snapshots::update_if(&state.db, &s.id, &[snap_states::BACKING_UP], snap_states::AVAILABLE, None, None).await?;
        }
    }
    tracing::info!("Create backup request issued successfully. backup_id: {id} volume_id: {}", volume.id);
    Ok(backup)
}

/// Cinder's backup `delete`: available or error backups (any status with `force`), without
/// dependent incrementals.
pub async fn delete(state: &VolumeService, ctx: &RequestContext, b: &Backup, force: bool) -> Result<(), ApiError> {
    if !force {
        state.authorize("backup:delete", &target(b), ctx)?;
    }
    if !force && b.status != status::AVAILABLE && b.status != status::ERROR {
        return Err(invalid_backup("Backup status must be available or error"));
    }
    let dependents = backups::list(&state.db, None)
        .await?
        .into_iter()
        .any(|x| x.parent_id.as_deref() == Some(b.id.as_str()));
    if dependents {
        return Err(invalid_backup("Incremental backups exist for this backup."));
    }
    let host = backup_host(state, b.host.as_deref(), b.availability_zone.as_deref()).await?;
    let mut updated = b.clone();
    updated.status = status::DELETING.into();
    updated.host = Some(host.clone());
    let expected: &[&str] = if force { &[] } else { &[status::AVAILABLE, status::ERROR] };
    if !backups::save_if(&state.db, &updated, expected).await? {
        return Err(invalid_backup("Backup status must be available or error"));
    }
    if let Err(e) = rpc::cast_backup(
        state.bus.as_ref(),
        ctx.bus_context(),
        &host,
        &BackupRequest::DeleteBackup { backup_id: b.id.clone() },
    )
    .await
    {
        tracing::error!("Backup {}: the backup service of {host} is unreachable ({e})", b.id);
        backups::set_status(
            &state.db,
            &b.id,
            &[status::DELETING],
            status::ERROR_DELETING,
            Some("the backup service is unreachable"),
        )
        .await?;
    }
    tracing::info!("Delete backup request issued successfully. backup_id: {}", b.id);
    Ok(())
}

/// What a restore answers.
#[derive(Debug, Clone)]
pub struct Restore {
    pub backup_id: String,
    pub volume_id: String,
    pub volume_name: Option<String>,
}

/// Cinder's backup `restore`: into volume `volume_id`, or into a new volume of the backup's
/// size (named `restore_backup_<id>` unless `name` says otherwise) once it is created.
pub async fn restore(state: &VolumeService, ctx: &RequestContext, b: &Backup, volume_id: Option<&str>, name: Option<String>) -> Result<Restore, ApiError> {
    state.authorize("backup:restore", &target(b), ctx)?;
    if b.status != status::AVAILABLE {
        return Err(invalid_backup("Backup status must be available"));
    }
    let host = backup_host(state, b.host.as_deref(), b.availability_zone.as_deref()).await?;
    let volume = match volume_id {
        Some(id) => vol_api::find(state, ctx, id).await?,
        None => {
            let name = name.unwrap_or_else(|| format!("restore_backup_{}", b.id));
            tracing::info!("Creating volume of {} GB for restore of backup {}.", b.size, b.id);
            let req = vol_api::CreateRequest {
                name: Some(name),
                description: Some("auto-created_from_restore_from_backup".into()),
                size: Some(b.size),
                ..Default::default()
            };
            let created = vol_api::create(state, ctx, req).await?;
            let deadline = std::time::Instant::now() + state.rpc_timeout();
            let mut v = created;
            while v.status == vol_states::CREATING && std::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                v = volumes::get(&state.db, &v.id).await?.ok_or_else(|| vol_api::not_found(&v.id))?;
            }
            if v.status == vol_states::ERROR || v.status == vol_states::CREATING {
                return Err(invalid_volume(format!("Error while creating volume {} for restoring backup {}.", v.id, b.id)));
            }
            v
        }
    };
    if volume.status != vol_states::AVAILABLE {
        return Err(invalid_volume("Volume to be restored to must be available"));
    }
    if b.size > volume.size {
        return Err(invalid_volume(format!(
            "volume size {} is too small to restore backup of size {}.",
            volume.size, b.size
        )));
    }
    tracing::info!("Overwriting volume {} with restore of backup {}", volume.id, b.id);
    let mut updated = b.clone();
    updated.status = status::RESTORING.into();
    updated.host = Some(host.clone());
    updated.restore_volume_id = Some(volume.id.clone());
    if !backups::save_if(&state.db, &updated, &[status::AVAILABLE]).await? {
        return Err(invalid_backup("Backup status must be available"));
    }
    if !volumes::update_if(
        &state.db,
        &volume.id,
        &[vol_states::AVAILABLE],
        &volumes::Changes::status(vol_states::RESTORING_BACKUP),
    )
    .await?
    {
        backups::set_status(&state.db, &b.id, &[status::RESTORING], status::AVAILABLE, None).await?;
        return Err(invalid_volume("Volume to be restored to must be available"));
    }
    let request = BackupRequest::RestoreBackup {
        backup_id: b.id.clone(),
        volume_id: volume.id.clone(),
    };
    if let Err(e) = rpc::cast_backup(state.bus.as_ref(), ctx.bus_context(), &host, &request).await {
        tracing::error!("Backup {}: the backup service of {host} is unreachable ({e})", b.id);
        backups::set_status(&state.db, &b.id, &[status::RESTORING], status::AVAILABLE, None).await?;
        volumes::update_if(
            &state.db,
            &volume.id,
            &[vol_states::RESTORING_BACKUP],
            &volumes::Changes::status(vol_states::ERROR_RESTORING),
        )
        .await?;
    }
    Ok(Restore {
        backup_id: b.id.clone(),
        volume_id: volume.id.clone(),
        volume_name: volume.display_name.clone(),
    })
}

/// `export_record`: the backup's driver and its record, base64-encoded JSON.
pub async fn export_record(state: &VolumeService, ctx: &RequestContext, b: &Backup) -> Result<(String, String), ApiError> {
    state.authorize("backup:export-import", &target(b), ctx)?;
    if b.status != status::AVAILABLE {
        return Err(invalid_backup(format!("Backup status must be available and not {}.", b.status)));
    }
    let record = serde_json::to_vec(&backups::to_record(b)).map_err(ApiError::internal)?;
    let url = base64::engine::general_purpose::STANDARD.encode(record);
    tracing::info!("Export record of backup {} finished.", b.id);
    Ok((b.service.clone().unwrap_or_else(|| posix::SERVICE_NAME.into()), url))
}

/// `import_record`: a backup record exported elsewhere (or before the backup was deleted)
/// becomes a backup of the caller's project once a backup service finds its data.
pub async fn import_record(state: &VolumeService, ctx: &RequestContext, service: &str, url: &str) -> Result<Backup, ApiError> {
    state.authorize("backup:backup-import", &crate::api::own_target(ctx), ctx)?;
    let bad = |why: &str| ApiError::bad_request(format!("Invalid input received: {why}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(url.trim())
        .map_err(|_| bad("Can't parse backup record."))?;
    let record: Value = serde_json::from_slice(&bytes).map_err(|_| bad("Can't parse backup record."))?;
    let id = record
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("Provided backup record is missing an id"))?
        .to_string();
    if record.get("size").and_then(Value::as_i64).is_none() {
        return Err(bad("Provided backup record is missing size attribute"));
    }
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(bad("Provided backup record has an invalid id"));
    }
    if service != posix::SERVICE_NAME {
        return Err(ApiError::not_found(format!("Service {service} could not be found.")));
    }
    let mut backup: Backup = serde_json::from_value(record).map_err(|e| bad(&format!("Can't parse backup record: {e}")))?;
    if backups::get(&state.db, &id).await?.is_some() {
        return Err(invalid_backup("Backup already exists in database."));
    }
    if let Some(c) = &backup.container {
        if !posix::valid_container(c) {
            return Err(bad("Provided backup record has an invalid container"));
        }
    }
    let was_deleted = backups::exists_deleted(&state.db, &id).await?;
    let host = backup_host(state, backup.host.as_deref(), backup.availability_zone.as_deref()).await?;
    let now = now_micros();
    backup.project_id = ctx.project_id().to_string();
    backup.user_id = ctx.user_id().to_string();
    backup.status = status::CREATING.into();
    backup.host = Some(host.clone());
    backup.restore_volume_id = None;
    backup.deleted = false;
    backup.num_dependent_backups = 0;
    backup.updated_at = now;
    backups::insert(&state.db, &backup).await?;
    tracing::info!(
        "Import record of backup {id} issued (record {}).",
        if was_deleted { "of a deleted backup" } else { "new" }
    );
    if let Err(e) = rpc::cast_backup(
        state.bus.as_ref(),
        ctx.bus_context(),
        &host,
        &BackupRequest::ImportRecord { backup_id: id.clone() },
    )
    .await
    {
        tracing::error!("Backup {id}: the backup service of {host} is unreachable ({e})");
        backups::set_status(&state.db, &id, &[status::CREATING], status::ERROR, Some("the backup service is unreachable")).await?;
    }
    Ok(backup)
}

/// `os-reset_status` (admins): the status an admin says, available or error.
pub async fn reset_status(state: &VolumeService, ctx: &RequestContext, b: &Backup, new_status: &str) -> Result<(), ApiError> {
    state.authorize("volume_extension:backup_admin_actions:reset_status", &target(b), ctx)?;
    if !status::RESETTABLE.contains(&new_status) {
        return Err(ApiError::bad_request(format!(
            "Invalid input for field/attribute status. Value: {new_status}. '{new_status}' is not one of ['available', 'error']"
        )));
    }
    backups::set_status(&state.db, &b.id, &[], new_status, None).await?;
    tracing::info!("Backup {} status reset to {new_status}", b.id);
    Ok(())
}
