//! Snapshots: lookups, create (force for in-use volumes; always allowed from 3.66) and
//! delete.

use crate::context::RequestContext;
use crate::db::metadata::{self, Table};
use crate::db::snapshots::{self, Snapshot};
use crate::db::volumes::{self, Volume};
use crate::rpc::{self, VolumeRequest};
use crate::states::{snapshot as snap_states, volume as vol_states};
use crate::VolumeService;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Snapshot {id} could not be found."))
}

pub fn target(s: &Snapshot) -> Value {
    json!({"project_id": s.project_id, "user_id": s.user_id, "id": s.id})
}

/// The snapshot `id` if the caller may see it, else 404.
pub async fn find(
    state: &VolumeService,
    ctx: &RequestContext,
    id: &str,
) -> Result<Snapshot, ApiError> {
    let s = snapshots::get(&state.db, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if !ctx.is_admin && s.project_id != ctx.project_id() {
        return Err(not_found(id));
    }
    Ok(s)
}

/// Creates a snapshot of `volume` (Cinder's `_create_snapshot`).
pub async fn create(
    state: &VolumeService,
    ctx: &RequestContext,
    volume: &Volume,
    name: Option<String>,
    description: Option<String>,
    meta: BTreeMap<String, String>,
    allow_in_use: bool,
) -> Result<Snapshot, ApiError> {
    if volume.status == vol_states::ERROR {
        return Err(ApiError::bad_request(
            "Invalid volume: The snapshot cannot be created when the volume is in error status.",
        ));
    }
    if volume.status == vol_states::MAINTENANCE {
        return Err(ApiError::bad_request("Invalid volume: The snapshot cannot be created when the volume is in maintenance mode."));
    }
    let valid: &[&str] = if allow_in_use {
        &[vol_states::AVAILABLE, vol_states::IN_USE]
    } else {
        &[vol_states::AVAILABLE]
    };
    if !valid.contains(&volume.status.as_str()) {
        return Err(ApiError::bad_request(format!(
            "Invalid volume: Volume {} status must be {}, but current status is: {}.",
            volume.id,
            valid.join(", "),
            volume.status
        )));
    }
    if volume.host.is_none() {
        return Err(ApiError::bad_request(format!(
            "Invalid volume: Volume {} is not on any backend.",
            volume.id
        )));
    }
    let t = crate::db::types::get(&state.db, &volume.volume_type_id)
        .await?
        .unwrap_or_default();
    let _guard = state.quota_lock.lock().await;
    crate::quota::check(state, ctx.project_id(), &t, 1, volume.size, true).await?;
    let now = now_micros();
    let snap = Snapshot {
        id: crate::db::new_id(),
        volume_id: volume.id.clone(),
        project_id: ctx.project_id().to_string(),
        user_id: ctx.user_id().to_string(),
        display_name: name,
        display_description: description,
        status: snap_states::CREATING.into(),
        progress: Some("0%".into()),
        volume_size: volume.size,
        volume_type_id: Some(volume.volume_type_id.clone()),
        use_quota: true,
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    // The volume must still be in a status that allows it now.
    let statuses: &[&str] = if allow_in_use {
        &[vol_states::AVAILABLE, vol_states::IN_USE]
    } else {
        &[vol_states::AVAILABLE]
    };
    if !volumes::update_if(
        &state.db,
        &volume.id,
        statuses,
        &volumes::Changes::default(),
    )
    .await?
    {
        return Err(ApiError::bad_request(format!(
            "Invalid volume: Volume {} changed status.",
            volume.id
        )));
    }
    snapshots::insert(&state.db, &snap).await?;
    if !meta.is_empty() {
        metadata::set(&state.db, Table::Snapshot, &snap.id, &meta, true).await?;
    }
    drop(_guard);
    let backend = volume.backend().unwrap_or_default().to_string();
    if let Err(e) = rpc::cast_volume(
        state.bus.as_ref(),
        ctx.bus_context(),
        &backend,
        &VolumeRequest::CreateSnapshot {
            snapshot_id: snap.id.clone(),
        },
    )
    .await
    {
        tracing::error!(
            "Snapshot {}: the volume service of {backend} is unreachable ({e})",
            snap.id
        );
        snapshots::update_if(
            &state.db,
            &snap.id,
            &[snap_states::CREATING],
            snap_states::ERROR,
            None,
            None,
        )
        .await?;
        return snapshots::get(&state.db, &snap.id)
            .await?
            .ok_or_else(|| not_found(&snap.id));
    }
    // The record as created, as Cinder answers.
    Ok(snap)
}

/// Deletes a snapshot: it must be `available` or `error` unless `force`.
pub async fn delete(
    state: &VolumeService,
    ctx: &RequestContext,
    snap: &Snapshot,
    force: bool,
) -> Result<(), ApiError> {
    let expected: &[&str] = if force {
        &[]
    } else {
        &[snap_states::AVAILABLE, snap_states::ERROR]
    };
    if !snapshots::update_if(
        &state.db,
        &snap.id,
        expected,
        snap_states::DELETING,
        None,
        None,
    )
    .await?
    {
        let status = if force {
            String::new()
        } else {
            "status must be available or error and ".to_string()
        };
        return Err(ApiError::bad_request(format!(
            "Invalid snapshot: Snapshot {status}must not be part of a group."
        )));
    }
    let backend = volumes::get(&state.db, &snap.volume_id)
        .await?
        .and_then(|v| v.backend().map(str::to_string));
    let Some(backend) = backend else {
        snapshots::destroy(&state.db, &snap.id).await?;
        return Ok(());
    };
    if let Err(e) = rpc::cast_volume(
        state.bus.as_ref(),
        ctx.bus_context(),
        &backend,
        &VolumeRequest::DeleteSnapshot {
            snapshot_id: snap.id.clone(),
        },
    )
    .await
    {
        tracing::error!(
            "Snapshot {}: the volume service of {backend} is unreachable ({e})",
            snap.id
        );
        snapshots::update_if(
            &state.db,
            &snap.id,
            &[snap_states::DELETING],
            snap_states::ERROR_DELETING,
            None,
            None,
        )
        .await?;
    }
    Ok(())
}
