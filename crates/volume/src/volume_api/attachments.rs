//! Attachments: Cinder's `attachment_*` methods (the v3 attachments API, 3.27+) and the legacy
//! volume actions (os-reserve, os-unreserve, os-begin_detaching, os-roll_detaching, os-attach,
//! os-detach, os-terminate_connection), with Cinder's transitions:
//!
//! ```text
//! available ─reserve/attachment create─▶ reserved ─connector─▶ attaching ─complete/os-attach─▶ in-use
//! in-use ─begin_detaching─▶ detaching ─detach/attachment delete─▶ available (or in-use while others remain)
//! ```
//!
//! The volume's status and attach_status after a detach follow its remaining attachments
//! ([`attachments::volume_status_after`]). Connections (connector → connection info) are made
//! by the volume's manager through its driver ([`VolumeRequest::AttachmentUpdate`]).

use crate::context::RequestContext;
use crate::db::attachments::{self, Attachment};
use crate::db::metadata::{self, Table};
use crate::db::volumes::{self, Volume};
use crate::rpc::{self, VolumeRequest};
use crate::states::{attach, volume as vol_states};
use crate::volume_api::volumes as vol_api;
use crate::VolumeService;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Volume attachment could not be found with filter: attachment_id = {id}."))
}

/// A 500 with Cinder's message (the cause is logged by the caller).
fn server_error(message: impl Into<String>) -> ApiError {
    ApiError::new(http::StatusCode::INTERNAL_SERVER_ERROR, message)
}

fn invalid_volume(reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("Invalid volume: {reason}"))
}

/// Cinder's `build_or_str`: `a`, `a or b`, `a, b or c`.
fn or_str(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The policy target of an attachment: its volume's project.
pub fn target(v: &Volume) -> Value {
    vol_api::target(v)
}

/// The attachment `id` and its volume, if the caller may see the volume; else 404.
pub async fn find(state: &VolumeService, ctx: &RequestContext, id: &str) -> Result<(Attachment, Volume), ApiError> {
    let a = attachments::get(&state.db, id).await?.ok_or_else(|| not_found(id))?;
    let v = volumes::get(&state.db, &a.volume_id).await?.ok_or_else(|| not_found(id))?;
    if !ctx.is_admin && v.project_id != ctx.project_id() {
        return Err(not_found(id));
    }
    Ok((a, v))
}

/// Whether the caller is a service (a token with the `service` role, as Nova sends).
fn is_service(ctx: &RequestContext) -> bool {
    ctx.auth.role_names().iter().any(|r| r == "service")
}

/// Marks the volume reserved for a new attachment and records it (Cinder's
/// `_attachment_reserve`): a volume that is not multiattach must be available (or
/// downloading); a multiattach one may also be in-use. Re-reserving for the same server (a
/// migration) is allowed.
async fn reserve_attachment(state: &VolumeService, ctx: &RequestContext, v: &Volume, instance_uuid: Option<&str>) -> Result<Attachment, ApiError> {
    if v.multiattach && v.status == vol_states::IN_USE && v.bootable {
        state.authorize("volume:multiattach_bootable_volume", &vol_api::target(v), ctx)?;
    }
    let expected: &[&str] = if v.multiattach {
        &[vol_states::AVAILABLE, vol_states::IN_USE, vol_states::DOWNLOADING]
    } else {
        &[vol_states::AVAILABLE, vol_states::DOWNLOADING]
    };
    let reserved = volumes::update_if(&state.db, &v.id, expected, &volumes::Changes::status(vol_states::RESERVED)).await?;
    if !reserved {
        let current = volumes::get(&state.db, &v.id).await?.ok_or_else(|| vol_api::not_found(&v.id))?;
        let same_server = match instance_uuid {
            Some(i) if matches!(current.status.as_str(), vol_states::IN_USE | vol_states::RESERVED) => attachments::of_volume(&state.db, &v.id)
                .await?
                .iter()
                .any(|a| a.instance_uuid.as_deref() == Some(i)),
            _ => false,
        };
        if !same_server {
            return Err(invalid_volume(format!(
                "Volume {} status must be {} to reserve, but the current status is {}.",
                v.id,
                or_str(expected),
                current.status
            )));
        }
    }
    let now = now_micros();
    let a = Attachment {
        id: crate::db::new_id(),
        volume_id: v.id.clone(),
        instance_uuid: instance_uuid.map(str::to_string),
        attach_status: attach::RESERVED.into(),
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    attachments::insert(&state.db, &a).await?;
    Ok(a)
}

/// Cinder's `attachment_create`: reserves the volume for `instance_uuid` and, with a
/// connector, connects it at once (status `attaching`). `mode` is the 3.54 `mode` argument
/// (None before 3.54: Cinder's `null`).
pub async fn create(
    state: &VolumeService,
    ctx: &RequestContext,
    v: &Volume,
    instance_uuid: Option<&str>,
    connector: Option<Value>,
    mode: Option<&str>,
) -> Result<Attachment, ApiError> {
    state.authorize("volume:attachment_create", &vol_api::target(v), ctx)?;
    if v.status.contains("error") {
        return Err(invalid_volume(format!(
            "Volume attachments can not be created if the volume is in an error state. The Volume {} currently has a status of: {} ",
            v.id, v.status
        )));
    }
    let mut a = reserve_attachment(state, ctx, v, instance_uuid).await?;
    let admin = metadata::get(&state.db, Table::VolumeAdmin, &v.id).await?;
    let readonly = admin.get("readonly").is_some_and(|r| r.eq_ignore_ascii_case("true"));
    a.attach_mode = Some(if readonly { "ro" } else { mode.unwrap_or("null") }.to_string());
    attachments::save(&state.db, &a).await?;
    if let Some(connector) = connector.filter(|c| c.as_object().is_some_and(|o| !o.is_empty())) {
        match connect(state, ctx, v, &a, connector).await {
            Ok(updated) => a = updated,
            Err(e) => {
                // Cinder leaves the reservation; the caller deletes the attachment.
                tracing::error!("Attachment {} of volume {} not connected: {}", a.id, v.id, e.message);
                return Err(if e.status.is_server_error() {
                    server_error(format!("Unable to create attachment for volume ({}).", e.message))
                } else {
                    e
                });
            }
        }
    } else {
        a.connection_info = Some(json!({}));
    }
    tracing::info!("Attachment {} of volume {} created ({})", a.id, v.id, a.attach_status);
    Ok(a)
}

/// Asks the volume's manager to connect the attachment for `connector`; returns the
/// attachment as the manager left it (attaching, with its connection info).
async fn connect(state: &VolumeService, ctx: &RequestContext, v: &Volume, a: &Attachment, connector: Value) -> Result<Attachment, ApiError> {
    let Some(backend) = v.backend() else {
        return Err(ApiError::bad_request(format!("Invalid volume: Volume {} is not on any backend.", v.id)));
    };
    let request = VolumeRequest::AttachmentUpdate {
        volume_id: v.id.clone(),
        attachment_id: a.id.clone(),
        connector,
    };
    rpc::call_volume(state.bus.as_ref(), ctx.bus_context(), backend, &request, state.rpc_timeout())
        .await
        .map_err(|e| server_error(e.to_string()))?;
    attachments::get(&state.db, &a.id).await?.ok_or_else(|| not_found(&a.id))
}

/// Cinder's `attachment_update`: connects a reserved attachment for `connector`.
pub async fn update(state: &VolumeService, ctx: &RequestContext, a: &Attachment, v: &Volume, connector: Value) -> Result<Attachment, ApiError> {
    state.authorize("volume:attachment_update", &vol_api::target(v), ctx)?;
    if v.status.contains("error") {
        return Err(ApiError::conflict(format!(
            "Resource conflict: Volume attachments can not be updated if the volume is in an error state. The Volume {} currently has a status of: {} ",
            v.id, v.status
        )));
    }
    let all = attachments::of_volume(&state.db, &v.id).await?;
    if all.len() > 1
        && !v.multiattach
        && all
            .iter()
            .any(|x| x.connection_info.as_ref().is_some_and(|c| c.as_object().is_some_and(|o| !o.is_empty())))
    {
        return Err(ApiError::conflict(format!(
            "Resource conflict: duplicate connectors detected on volume {}",
            v.id
        )));
    }
    connect(state, ctx, v, a, connector).await.map_err(|e| {
        tracing::error!("Attachment {} of volume {} not updated: {}", a.id, v.id, e.message);
        if e.status.is_server_error() {
            server_error(format!("Unable to update attachment ({}).", e.message))
        } else {
            e
        }
    })
}

/// `os-complete` (3.44): the consumer finished connecting; the attachment is attached and the
/// volume in-use.
pub async fn complete(state: &VolumeService, ctx: &RequestContext, a: &Attachment, v: &Volume) -> Result<(), ApiError> {
    state.authorize("volume:attachment_complete", &vol_api::target(v), ctx)?;
    let mut a = a.clone();
    a.attach_status = attach::ATTACHED.into();
    attachments::save(&state.db, &a).await?;
    let changes = volumes::Changes {
        status: Some(vol_states::IN_USE.into()),
        attach_status: Some(attach::ATTACHED.into()),
        ..Default::default()
    };
    volumes::update_if(&state.db, &v.id, &[], &changes).await?;
    tracing::info!("Attachment {} of volume {} completed", a.id, v.id);
    Ok(())
}

/// Cinder's `attachment_deletion_allowed`. Cinder asks Nova whether a server still uses a
/// connected attachment; monostack's volume service has no compute client, so a connected
/// attachment is released as Cinder does when Nova does not know the server, with a warning.
fn deletion_allowed(ctx: &RequestContext, a: &Attachment) {
    if is_service(ctx) || a.instance_uuid.is_none() || a.connection_info.as_ref().is_none_or(|c| c.as_object().is_none_or(|o| o.is_empty())) {
        return;
    }
    tracing::warn!(
        "Attachment {} is connected to server {}; deleting it locally may leave devices on its compute host",
        a.id,
        a.instance_uuid.as_deref().unwrap_or_default()
    );
}

/// Removes the attachment and sets the volume's statuses from those that remain (Cinder's
/// `volume_detached`): a volume that is migrating or uploading keeps its status when it
/// ends up detached.
pub async fn finish_detach(state: &VolumeService, volume_id: &str, attachment_id: &str) -> Result<Vec<Attachment>, ApiError> {
    attachments::destroy(&state.db, attachment_id).await?;
    metadata::delete(&state.db, Table::VolumeAdmin, volume_id, "attached_mode").await?;
    let remaining = attachments::of_volume(&state.db, volume_id).await?;
    let Some(v) = volumes::get(&state.db, volume_id).await? else {
        return Ok(remaining);
    };
    let (status, attach_status) = attachments::volume_status_after(&remaining);
    let keep_status = attach_status == attach::DETACHED
        && (v.migration_status.as_deref().is_some_and(|m| !matches!(m, "success" | "error"))
            || (v.migration_status.is_none() && v.status == vol_states::UPLOADING));
    let changes = volumes::Changes {
        status: (!keep_status).then_some(status),
        attach_status: Some(attach_status),
        ..Default::default()
    };
    volumes::update_if(&state.db, volume_id, &[], &changes).await?;
    Ok(remaining)
}

/// Asks the volume's manager to end the attachment's connection (when it has one).
async fn disconnect(state: &VolumeService, ctx: &RequestContext, v: &Volume, a: &Attachment) -> Result<(), ApiError> {
    let Some(backend) = v.backend() else {
        return Ok(());
    };
    let request = VolumeRequest::AttachmentDelete {
        volume_id: v.id.clone(),
        attachment_id: a.id.clone(),
    };
    rpc::call_volume(state.bus.as_ref(), ctx.bus_context(), backend, &request, state.rpc_timeout())
        .await
        .map_err(|e| {
            tracing::error!("Attachment {} of volume {}: terminate connection failed: {e}", a.id, v.id);
            server_error("Unable to terminate volume connection from backend.")
        })?;
    Ok(())
}

/// Cinder's `attachment_delete`: ends the connection on the backend, removes the attachment
/// and returns the volume's remaining attachments.
pub async fn delete(state: &VolumeService, ctx: &RequestContext, a: &Attachment, v: &Volume) -> Result<Vec<Attachment>, ApiError> {
    state.authorize("volume:attachment_delete", &vol_api::target(v), ctx)?;
    deletion_allowed(ctx, a);
    if a.attach_status != attach::RESERVED {
        disconnect(state, ctx, v, a).await?;
    }
    let remaining = finish_detach(state, &v.id, &a.id).await?;
    tracing::info!("Attachment {} of volume {} deleted", a.id, v.id);
    Ok(remaining)
}

/// `os-reserve`: available (or in-use, multiattach) → attaching.
pub async fn reserve(state: &VolumeService, ctx: &RequestContext, v: &Volume) -> Result<(), ApiError> {
    state.authorize("volume_extension:volume_actions:reserve", &vol_api::target(v), ctx)?;
    let expected: &[&str] = if v.multiattach {
        &[vol_states::AVAILABLE, vol_states::IN_USE]
    } else {
        &[vol_states::AVAILABLE]
    };
    if !volumes::update_if(&state.db, &v.id, expected, &volumes::Changes::status(vol_states::ATTACHING)).await? {
        return Err(invalid_volume(format!(
            "Volume status must be {} to reserve, but the status is {}.",
            or_str(expected),
            v.status
        )));
    }
    tracing::info!("Reserve volume completed successfully. volume_id: {}", v.id);
    Ok(())
}

/// `os-unreserve`: attaching → in-use when it has attachments, else available; nothing to
/// do when it is not attaching.
pub async fn unreserve(state: &VolumeService, ctx: &RequestContext, v: &Volume) -> Result<(), ApiError> {
    state.authorize("volume_extension:volume_actions:unreserve", &vol_api::target(v), ctx)?;
    let has = !attachments::of_volume(&state.db, &v.id).await?.is_empty();
    let status = if has { vol_states::IN_USE } else { vol_states::AVAILABLE };
    if volumes::update_if(&state.db, &v.id, &[vol_states::ATTACHING], &volumes::Changes::status(status)).await? {
        tracing::info!("Unreserve volume completed successfully. volume_id: {}", v.id);
    } else {
        tracing::debug!("Attempted to unreserve volume {} that was not reserved, nothing to do.", v.id);
    }
    Ok(())
}

/// `os-begin_detaching`: in-use and attached (not migrating) → detaching.
pub async fn begin_detaching(state: &VolumeService, ctx: &RequestContext, v: &Volume) -> Result<(), ApiError> {
    state.authorize("volume_extension:volume_actions:begin_detaching", &vol_api::target(v), ctx)?;
    let migrating = v.migration_status.as_deref().is_some_and(|m| !matches!(m, "success" | "error"));
    let ok = !migrating
        && v.attach_status == attach::ATTACHED
        && volumes::update_if(&state.db, &v.id, &[vol_states::IN_USE], &volumes::Changes::status(vol_states::DETACHING)).await?;
    if !ok && !migrating {
        return Err(invalid_volume(
            "Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.",
        ));
    }
    tracing::info!("Begin detaching volume completed successfully. volume_id: {}", v.id);
    Ok(())
}

/// `os-roll_detaching`: detaching → in-use.
pub async fn roll_detaching(state: &VolumeService, ctx: &RequestContext, v: &Volume) -> Result<(), ApiError> {
    state.authorize("volume_extension:volume_actions:roll_detaching", &vol_api::target(v), ctx)?;
    volumes::update_if(&state.db, &v.id, &[vol_states::DETACHING], &volumes::Changes::status(vol_states::IN_USE)).await?;
    tracing::info!("Roll detaching of volume completed successfully. volume_id: {}", v.id);
    Ok(())
}

/// What `os-attach` asks.
#[derive(Debug, Clone, Default)]
pub struct AttachRequest {
    pub instance_uuid: Option<String>,
    pub host_name: Option<String>,
    pub mountpoint: String,
    pub mode: String,
}

fn attach_error(kind: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("Error attaching volume - {kind}: {message}"))
}

/// `os-attach` (Cinder's `attach` and the manager's `attach_volume`): records the volume
/// attached to a server or host at `mountpoint` (status in-use, attach_status attached).
pub async fn attach(state: &VolumeService, ctx: &RequestContext, v: &Volume, req: &AttachRequest) -> Result<(), ApiError> {
    state.authorize("volume_extension:volume_actions:attach", &vol_api::target(v), ctx)?;
    if v.status == vol_states::MAINTENANCE {
        return Err(invalid_volume("The volume cannot be attached in maintenance mode."));
    }
    let db = &state.db;
    let mut admin = metadata::get(db, Table::VolumeAdmin, &v.id).await?;
    if !admin.contains_key("readonly") {
        let flag = BTreeMap::from([("readonly".to_string(), "False".to_string())]);
        metadata::set(db, Table::VolumeAdmin, &v.id, &flag, false).await?;
        admin.extend(flag);
    }
    let readonly = admin.get("readonly").is_some_and(|r| r == "True");
    if readonly && req.mode != "ro" {
        return Err(ApiError::bad_request(format!("Invalid attaching mode '{}' for volume {}.", req.mode, v.id)));
    }
    if v.status == vol_states::ATTACHING && admin.get("attached_mode").is_some_and(|m| *m != req.mode) {
        return Err(attach_error("InvalidVolume", "Invalid volume: being attached by different mode"));
    }
    let host = req.host_name.as_deref().map(sanitize_hostname);
    let existing = attachments::of_volume(db, &v.id).await?;
    let same = existing.iter().find(|a| match &req.instance_uuid {
        Some(i) => a.instance_uuid.as_deref() == Some(i.as_str()),
        None => a.attached_host.is_some() && a.attached_host == host,
    });
    if same.is_some() {
        volumes::update_if(db, &v.id, &[], &volumes::Changes::status(vol_states::IN_USE)).await?;
        return Ok(());
    }
    if v.status == vol_states::IN_USE && !v.multiattach && v.migration_status.is_none() {
        return Err(attach_error(
            "InvalidVolume",
            "Invalid volume: volume is already attached and multiple attachments are not enabled",
        ));
    }
    let now = now_micros();
    let mut a = Attachment {
        id: crate::db::new_id(),
        volume_id: v.id.clone(),
        attach_status: attach::ATTACHING.into(),
        attach_mode: Some(req.mode.clone()),
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    attachments::insert(db, &a).await?;
    let mode = BTreeMap::from([("attached_mode".to_string(), req.mode.clone())]);
    metadata::set(db, Table::VolumeAdmin, &v.id, &mode, false).await?;
    volumes::update_if(
        db,
        &v.id,
        &[],
        &volumes::Changes {
            attach_status: Some(attach::ATTACHING.into()),
            ..Default::default()
        },
    )
    .await?;
    if let Some(i) = &req.instance_uuid {
        if uuid::Uuid::parse_str(i).is_err() {
            a.attach_status = attach::ERROR_ATTACHING.into();
            attachments::save(db, &a).await?;
            return Err(attach_error("InvalidUUID", format!("Expected a UUID but received {i}.")));
        }
    }
    a.instance_uuid = req.instance_uuid.clone();
    a.attached_host = host;
    a.mountpoint = Some(req.mountpoint.clone());
    a.attach_time = Some(now_micros());
    a.attach_status = attach::ATTACHED.into();
    attachments::save(db, &a).await?;
    let changes = volumes::Changes {
        status: Some(vol_states::IN_USE.into()),
        attach_status: Some(attach::ATTACHED.into()),
        ..Default::default()
    };
    volumes::update_if(db, &v.id, &[], &changes).await?;
    tracing::info!(
        "Attach volume completed successfully. volume_id: {}, instance {:?}, mountpoint {}",
        v.id,
        a.instance_uuid,
        req.mountpoint
    );
    Ok(())
}

/// Cinder's `sanitize_hostname`: letters, digits, `-` and `.`, lower case, without leading
/// or trailing `-`/`.`.
fn sanitize_hostname(name: &str) -> String {
    let s: String = name
        .replace([' ', '_'], "-")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .collect();
    s.trim_matches(|c| c == '-' || c == '.').to_lowercase()
}

/// `os-detach` (Cinder's `detach` and the manager's `detach_volume`): removes one attachment
/// (the only one when none is named).
pub async fn detach(state: &VolumeService, ctx: &RequestContext, v: &Volume, attachment_id: Option<&str>) -> Result<(), ApiError> {
    state.authorize("volume_extension:volume_actions:detach", &vol_api::target(v), ctx)?;
    let db = &state.db;
    let existing = attachments::of_volume(db, &v.id).await?;
    if let Some(id) = attachment_id {
        if let Some(a) = existing.iter().find(|a| a.id == id) {
            deletion_allowed(ctx, a);
        } else if attachments::get(db, id).await?.is_some() {
            return Err(ApiError::bad_request("Invalid input received: Mismatched volume and attachment"));
        }
    } else if let [only] = existing.as_slice() {
        deletion_allowed(ctx, only);
    }
    if v.status == vol_states::MAINTENANCE {
        return Err(invalid_volume("The volume cannot be detached in maintenance mode."));
    }
    let attachment =
        match attachment_id {
            Some(id) => match existing.iter().find(|a| a.id == id) {
                Some(a) => a.clone(),
                None => {
                    tracing::info!("Volume detach called, but volume not attached. volume_id: {}", v.id);
                    finish_detach(state, &v.id, id).await?;
                    return Ok(());
                }
            },
            None => match existing.as_slice() {
                [] => {
                    tracing::info!("Volume detach called, but volume not attached. volume_id: {}", v.id);
                    let changes = volumes::Changes {
                        status: Some(vol_states::AVAILABLE.into()),
                        attach_status: Some(attach::DETACHED.into()),
                        ..Default::default()
                    };
                    volumes::update_if(db, &v.id, &[], &changes).await?;
                    return Ok(());
                }
                [only] => only.clone(),
                _ => return Err(ApiError::bad_request(
                    "Error detaching volume - InvalidVolume: Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.",
                )),
            },
        };
    finish_detach(state, &v.id, &attachment.id).await?;
    tracing::info!("Detach volume completed successfully. volume_id: {}", v.id);
    Ok(())
}

/// `os-initialize_connection`: the connection info of the volume for `connector`, from its
/// manager's driver.
pub async fn initialize_connection(state: &VolumeService, ctx: &RequestContext, v: &Volume, connector: Value) -> Result<Value, ApiError> {
    state.authorize("volume_extension:volume_actions:initialize_connection", &vol_api::target(v), ctx)?;
    if v.status == vol_states::MAINTENANCE {
        return Err(invalid_volume("The volume connection cannot be initialized in maintenance mode."));
    }
    let Some(backend) = v.backend() else {
        return Err(invalid_volume(format!("Volume {} is not on any backend.", v.id)));
    };
    let enforce = connector.get("enforce_multipath").cloned().unwrap_or(json!(false));
    let request = VolumeRequest::InitializeConnection {
        volume_id: v.id.clone(),
        connector,
    };
    let mut info = rpc::call_volume(state.bus.as_ref(), ctx.bus_context(), backend, &request, state.rpc_timeout())
        .await
        .map_err(|e| {
            tracing::error!("Initialize connection of volume {} failed: {e}", v.id);
            server_error("Unable to fetch connection information from backend.")
        })?;
    if let Some(o) = info.as_object_mut() {
        o.insert("enforce_multipath".into(), enforce);
    }
    tracing::info!("Initialize volume connection completed successfully. volume_id: {}", v.id);
    Ok(info)
}

/// `os-terminate_connection`: ends the connection for `connector`, then unreserves.
pub async fn terminate_connection(state: &VolumeService, ctx: &RequestContext, v: &Volume, connector: Value) -> Result<(), ApiError> {
    state.authorize("volume_extension:volume_actions:terminate_connection", &vol_api::target(v), ctx)?;
    if let [only] = attachments::of_volume(&state.db, &v.id).await?.as_slice() {
        deletion_allowed(ctx, only);
    }
    if let Some(backend) = v.backend() {
        let request = VolumeRequest::TerminateConnection {
            volume_id: v.id.clone(),
            connector,
            force: false,
        };
        rpc::call_volume(state.bus.as_ref(), ctx.bus_context(), backend, &request, state.rpc_timeout())
            .await
            .map_err(|e| {
                tracing::error!("Terminate connection of volume {} failed: {e}", v.id);
                server_error("Unable to terminate volume connection from backend.")
            })?;
    }
    tracing::info!("Terminate volume connection completed successfully. volume_id: {}", v.id);
    unreserve(state, ctx, v).await
}

/// The `attachments` list of a volume's view: its attached attachments (host names for
/// admins and services only).
pub fn volume_view_entries(ctx: &RequestContext, list: &[Attachment]) -> Vec<Value> {
    let show_host = ctx.is_admin || is_service(ctx);
    list.iter()
        .filter(|a| a.attach_status == attach::ATTACHED)
        .map(|a| {
            json!({
                "id": a.volume_id,
                "attachment_id": a.id,
                "volume_id": a.volume_id,
                "server_id": a.instance_uuid,
                "host_name": if show_host { json!(a.attached_host) } else { Value::Null },
                "device": a.mountpoint,
                "attached_at": a.attach_time.map(crate::api::view::ts),
            })
        })
        .collect()
}

/// `os-force_detach` (admins): ends the named attachment (or the volume's only one) whatever
/// the volume's status — its backend connection first when it has a connector — and puts the
/// volume's status back from what is left. A volume without attachments becomes `available`.
pub async fn force_detach(state: &VolumeService, ctx: &RequestContext, v: &Volume, attachment_id: Option<&str>) -> Result<(), ApiError> {
    let existing = attachments::of_volume(&state.db, &v.id).await?;
    let chosen = match attachment_id {
        Some(id) => match existing.iter().find(|a| a.id == id) {
            Some(a) => Some(a.clone()),
            None if attachments::get(&state.db, id).await?.is_some() => {
                return Err(ApiError::bad_request("Invalid input received: Mismatched volume and attachment"));
            }
            None => {
                return Err(ApiError::not_found(format!(
                    "Volume attachment could not be found with filter: attachment_id = {id}."
                )))
            }
        },
        None => match existing.as_slice() {
            [] => None,
            [only] => Some(only.clone()),
            _ => {
                return Err(ApiError::bad_request(
                    "Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.",
                ))
            }
        },
    };
    match chosen {
        Some(a) => {
            deletion_allowed(ctx, &a);
            if a.connector.as_ref().is_some_and(|c| c.as_object().is_some_and(|o| !o.is_empty())) {
                disconnect(state, ctx, v, &a).await?;
            }
            finish_detach(state, &v.id, &a.id).await?;
            tracing::info!("Force detached attachment {} of volume {}", a.id, v.id);
        }
        None => {
            let changes = volumes::Changes {
                status: Some(vol_states::AVAILABLE.into()),
                attach_status: Some(attach::DETACHED.into()),
                ..Default::default()
            };
            volumes::update_if(&state.db, &v.id, &[], &changes).await?;
            tracing::info!("Force detach of volume {}: it had no attachments", v.id);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn or_str_and_hostnames() {
        assert_eq!(super::or_str(&["available"]), "available");
        assert_eq!(super::or_str(&["available", "in-use", "downloading"]), "available, in-use or downloading");
        assert_eq!(super::sanitize_hostname("My_Host.example "), "my-host.example");
    }
}
