//! `POST /volumes/{id}/action`: os-extend, os-retype, os-set_bootable, the image metadata
//! actions (os-set/unset/show_image_metadata), os-update_readonly_flag, the
//! admin actions os-reset_status and os-force_delete, and the legacy attach actions
//! (os-reserve, os-unreserve, os-begin_detaching, os-roll_detaching, os-attach, os-detach,
//! os-initialize_connection and os-terminate_connection, the last two answered by the
//! volume's manager through its driver).

use super::input;
use super::{ApiResult, Caller, State};
use crate::db::metadata::{self, Table};
use crate::db::volumes::{self, Volume};
use crate::states;
use crate::volume_api::attachments as attach_api;
use crate::volume_api::volumes as api;
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use monostack_common::json::Json as Body;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub fn routes() -> Router<State> {
    Router::new().route("/v3/volumes/{id}/action", post(action))
}

async fn action(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: super::Microversion,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Response> {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("Malformed request body"))?;
    let Some((name, args)) = obj.iter().next().filter(|_| obj.len() == 1) else {
        return Err(ApiError::bad_request(
            "Malformed request body: exactly one action is expected.",
        ));
    };
    let empty = Map::new();
    let args_obj = args.as_object().unwrap_or(&empty);
    let v = api::find(&state, &ctx, &id).await?;
    let target = api::target(&v);
    match name.as_str() {
        "os-extend" => {
            state.authorize("volume:extend", &target, &ctx)?;
            let new_size = match args_obj.get("new_size") {
                Some(n) => input::integer("new_size", n)?,
                None => return Err(ApiError::bad_request(
                    "Invalid input for field/attribute new_size. 'new_size' is a required property",
                )),
            };
            if new_size < 1 {
                return Err(ApiError::bad_request(format!("Invalid input for field/attribute new_size. Value: {new_size}. {new_size} is less than the minimum of 1")));
            }
            api::extend(&state, &ctx, &v, new_size).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        "os-set_bootable" => {
            state.authorize("volume:update", &target, &ctx)?;
            let bootable = match args_obj.get("bootable") {
                Some(b) => input::boolean("bootable", b)?,
                None => return Err(ApiError::bad_request("Must specify bootable in request.")),
            };
            volumes::update_if(
                &state.db,
                &v.id,
                &[],
                &volumes::Changes {
                    bootable: Some(bootable),
                    ..Default::default()
                },
            )
            .await?;
            Ok(StatusCode::OK.into_response())
        }
        "os-update_readonly_flag" => {
            state.authorize("volume:update_readonly_flag", &target, &ctx)?;
            let readonly = match args_obj.get("readonly") {
                Some(b) => input::boolean("readonly", b)?,
                None => return Err(ApiError::bad_request("Must specify readonly in request.")),
            };
            if v.status != states::volume::AVAILABLE {
                return Err(ApiError::bad_request(format!(
                    "Invalid volume: Volume {} status must be available to update readonly flag, but current status is: {}.",
                    v.id, v.status
                )));
            }
            let flag = BTreeMap::from([(
                "readonly".to_string(),
                if readonly { "True" } else { "False" }.to_string(),
            )]);
            metadata::set(&state.db, Table::VolumeAdmin, &v.id, &flag, false).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        "os-retype" => {
            state.authorize("volume:retype", &target, &ctx)?;
            let new_type = match args_obj.get("new_type") {
                Some(Value::String(t)) if !t.is_empty() && t.len() <= 255 => t.clone(),
                Some(other) => return Err(ApiError::bad_request(format!("Invalid input for field/attribute new_type. Value: {other}. is not a valid name"))),
                None => return Err(ApiError::bad_request("Invalid input for field/attribute new_type. 'new_type' is a required property")),
            };
            let policy = match args_obj.get("migration_policy") {
                None | Some(Value::Null) => "never".to_string(),
                Some(Value::String(p)) => p.clone(),
                Some(other) => return Err(ApiError::bad_request(format!("Invalid input for field/attribute migration_policy. Value: {other}. is not of type 'string'"))),
            };
            api::retype(&state, &ctx, &v, &new_type, &policy).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        "os-set_image_metadata" => {
            state.authorize("volume_extension:volume_image_metadata:set", &target, &ctx)?;
            let meta = match args_obj.get("metadata") {
                Some(m) => input::string_map("metadata", m)?,
                None => return Err(ApiError::bad_request("Malformed request body.")),
            };
            metadata::set(&state.db, Table::VolumeImage, &v.id, &meta, false).await?;
            let all = metadata::get(&state.db, Table::VolumeImage, &v.id).await?;
            Ok(Json(json!({ "metadata": all })).into_response())
        }
        "os-unset_image_metadata" => {
            state.authorize(
                "volume_extension:volume_image_metadata:remove",
                &target,
                &ctx,
            )?;
            let key = match args_obj.get("key") {
                Some(Value::String(k)) if !k.is_empty() => k.clone(),
                _ => return Err(ApiError::bad_request("Malformed request body.")),
            };
            if !metadata::delete(&state.db, Table::VolumeImage, &v.id, &key).await? {
                return Err(ApiError::not_found(format!(
                    "Glance metadata for volume/snapshot {} cannot be found.",
                    v.id
                )));
            }
            Ok(StatusCode::OK.into_response())
        }
        "os-show_image_metadata" => {
            state.authorize("volume_extension:volume_image_metadata:show", &target, &ctx)?;
            let all = metadata::get(&state.db, Table::VolumeImage, &v.id).await?;
            Ok(Json(json!({ "metadata": all })).into_response())
        }
        "os-volume_upload_image" => {
            let req = upload_request(args, mv)?;
            state.authorize("volume_extension:volume_actions:upload_image", &target, &ctx)?;
            if req.visibility.as_deref() == Some("public") {
                state.authorize("volume_extension:volume_actions:upload_public", &target, &ctx)?;
            }
            let body = api::copy_volume_to_image(&state, &ctx, &v, req).await?;
            Ok((StatusCode::ACCEPTED, Json(json!({"os-volume_upload_image": body}))).into_response())
        }
        "os-reset_status" => {
            state.authorize(
                "volume_extension:volume_admin_actions:reset_status",
                &target,
                &ctx,
            )?;
            reset_status(&state, &v, args_obj).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        "os-force_delete" => {
            state.authorize(
                "volume_extension:volume_admin_actions:force_delete",
                &target,
                &ctx,
            )?;
            api::delete(&state, &ctx, &v, false, true).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        "os-force_detach" => {
            state.authorize(
                "volume_extension:volume_admin_actions:force_detach",
                &target,
                &ctx,
            )?;
            let attachment_id = match args {
                Value::Null => None,
                Value::Object(o) => match o.get("attachment_id") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(other) => return Err(ApiError::bad_request(format!("Invalid input for field/attribute attachment_id. Value: {other}. {other} is not of type 'string', 'null'"))),
                },
                other => return Err(ApiError::bad_request(format!("Invalid input for field/attribute os-force_detach. Value: {other}. {other} is not of type 'object'"))),
            };
            attach_api::force_detach(&state, &ctx, &v, attachment_id.as_deref()).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        "os-initialize_connection" => {
            let connector = match args_obj.get("connector") {
                Some(Value::String(s)) => serde_json::from_str(s).map_err(|_| ApiError::bad_request("Invalid input received: connector is not a JSON object"))?,
                _ => connector_of(args_obj)?,
            };
            let info = attach_api::initialize_connection(&state, &ctx, &v, connector).await?;
            Ok(Json(json!({"connection_info": info})).into_response())
        }
        "os-terminate_connection" => {
            let connector = match args_obj.get("connector") {
                Some(Value::Null) => json!({}),
                Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_else(|_| json!({})),
                _ => connector_of(args_obj)?,
            };
            attach_api::terminate_connection(&state, &ctx, &v, connector).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        "os-reserve" => {
            attach_api::reserve(&state, &ctx, &v).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        "os-unreserve" => {
            attach_api::unreserve(&state, &ctx, &v).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        "os-begin_detaching" => {
            attach_api::begin_detaching(&state, &ctx, &v).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        "os-roll_detaching" => {
            attach_api::roll_detaching(&state, &ctx, &v).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        "os-attach" => {
            let req = attach_request(args)?;
            attach_api::attach(&state, &ctx, &v, &req).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        "os-detach" => {
            let attachment_id = match args {
                Value::Null => None,
                Value::Object(o) => {
                    if let Some(k) = o.keys().find(|k| *k != "attachment_id") {
                        return Err(ApiError::bad_request(format!("Invalid input for field/attribute os-detach. Additional properties are not allowed ('{k}' was unexpected)")));
                    }
                    match o.get("attachment_id") {
                        None | Some(Value::Null) => None,
                        Some(Value::String(s)) if uuid::Uuid::parse_str(s).is_ok() => Some(s.clone()),
                        Some(other) => return Err(ApiError::bad_request(format!("Invalid input for field/attribute attachment_id. Value: {other}. {other} is not a 'uuid'"))),
                    }
                }
                other => return Err(ApiError::bad_request(format!("Invalid input for field/attribute os-detach. Value: {other}. {other} is not of type 'object', 'null'"))),
            };
            attach_api::detach(&state, &ctx, &v, attachment_id.as_deref()).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        other => Err(ApiError::bad_request(format!(
            "There is no such action: {other}"
        ))),
    }
}

fn connector_of(args: &Map<String, Value>) -> ApiResult<Value> {
    match args.get("connector") {
        Some(c @ Value::Object(_)) => Ok(c.clone()),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid input for field/attribute connector. Value: {other}. is not of type 'object'"
        ))),
        None => Err(ApiError::bad_request(
            "Invalid input for field/attribute connector. 'connector' is a required property",
        )),
    }
}

/// The body of `os-attach`: a mountpoint, a server (`instance_uuid`) or a `host_name`, and
/// the mode (`rw` by default, or `ro`).
fn attach_request(args: &Value) -> ApiResult<attach_api::AttachRequest> {
    let field = |f: &str, v: &Value, why: &str| ApiError::bad_request(format!("Invalid input for field/attribute {f}. Value: {v}. {why}"));
    let Value::Object(o) = args else {
        return Err(field("os-attach", args, "is not of type 'object'"));
    };
    if let Some(k) = o.keys().find(|k| !matches!(k.as_str(), "instance_uuid" | "mountpoint" | "host_name" | "mode")) {
        return Err(ApiError::bad_request(format!("Invalid input for field/attribute os-attach. Additional properties are not allowed ('{k}' was unexpected)")));
    }
    let mountpoint = match o.get("mountpoint") {
        Some(Value::String(m)) if !m.is_empty() && m.chars().count() <= 255 => m.clone(),
        Some(other) => return Err(field("mountpoint", other, "is not a string of 1 to 255 characters")),
        None => return Err(ApiError::bad_request("Invalid input for field/attribute os-attach. 'mountpoint' is a required property")),
    };
    let instance_uuid = match o.get("instance_uuid") {
        None => None,
        Some(Value::String(s)) if uuid::Uuid::parse_str(s).is_ok() => Some(s.clone()),
        Some(other) => return Err(field("instance_uuid", other, &format!("{other} is not a 'uuid'"))),
    };
    let host_name = match o.get("host_name") {
        None => None,
        Some(Value::String(s)) if s.chars().count() <= 255 => Some(s.clone()),
        Some(other) => return Err(field("host_name", other, "is not a string of at most 255 characters")),
    };
    if instance_uuid.is_none() && host_name.is_none() {
        return Err(field("os-attach", args, "is not valid under any of the given schemas"));
    }
    let mode = match o.get("mode") {
        None => "rw".to_string(),
        Some(Value::String(m)) if m == "rw" || m == "ro" => m.clone(),
        Some(other) => return Err(field("mode", other, &format!("{other} is not one of ['rw', 'ro']"))),
    };
    Ok(attach_api::AttachRequest { instance_uuid, host_name, mountpoint, mode })
}

/// os-reset_status: sets status, attach_status and migration_status as an admin says, with
/// no check of the volume's state (the point of the action).
async fn reset_status(state: &State, v: &Volume, args: &Map<String, Value>) -> ApiResult<()> {
    let text = |k: &str| -> ApiResult<Option<String>> {
        match args.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.to_lowercase())),
            Some(other) => Err(ApiError::bad_request(format!(
                "Invalid input for field/attribute {k}. Value: {other}. is not of type 'string'"
            ))),
        }
    };
    let status = text("status")?;
    let attach_status = text("attach_status")?;
    let migration_status = text("migration_status")?;
    if status.is_none() && attach_status.is_none() && migration_status.is_none() {
        return Err(ApiError::bad_request(
            "Must specify 'status', 'attach_status' or 'migration_status' for update.",
        ));
    }
    if let Some(s) = &status {
        if !states::volume::ALL.contains(&s.as_str()) {
            return Err(ApiError::bad_request(format!(
                "Invalid input received: Must specify a valid status ({s})"
            )));
        }
    }
    if let Some(a) = &attach_status {
        if !matches!(a.as_str(), "attached" | "detached") {
            return Err(ApiError::bad_request(format!(
                "Invalid input received: Must specify a valid attach status ({a})"
            )));
        }
    }
    if let Some(m) = &migration_status {
        if !matches!(
            m.as_str(),
            "migrating" | "error" | "success" | "completing" | "none" | "starting"
        ) {
            return Err(ApiError::bad_request(format!(
                "Invalid input received: Must specify a valid migration status ({m})"
            )));
        }
    }
    let changes = volumes::Changes {
        status: status.clone(),
        attach_status,
        ..Default::default()
    };
    volumes::update_if(&state.db, &v.id, &[], &changes).await?;
    if let Some(m) = migration_status {
        volumes::set_migration_status(&state.db, &v.id, if m == "none" { None } else { Some(m) })
            .await?;
    }
    tracing::info!("Volume {} status reset to {:?}", v.id, status);
    Ok(())
}

/// The body of `os-volume_upload_image`, checked as Cinder's schema does (`visibility` and
/// `protected` from 3.1).
fn upload_request(args: &Value, mv: super::Microversion) -> ApiResult<api::UploadRequest> {
    let field = "os-volume_upload_image";
    let obj = args.as_object().ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid input for field/attribute {field}. Value: {args}. {args} is not of type 'object'"
        ))
    })?;
    let mut known = vec!["image_name", "force", "disk_format", "container_format"];
    if mv.at_least(1) {
        known.extend(["visibility", "protected"]);
    }
    if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "Invalid input for field/attribute {field}. Additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    let image_name = match obj.get("image_name") {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= 255 => s.clone(),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid input for field/attribute image_name. Value: {other}. {other} is not a valid image name (a string of 1 to 255 characters)"
            )))
        }
        None => {
            return Err(ApiError::bad_request(format!(
                "Invalid input for field/attribute {field}. Value: {args}. 'image_name' is a required property"
            )))
        }
    };
    let force = match obj.get("force") {
        None => false,
        Some(v) => input::boolean("force", v)?,
    };
    let disk_format = match obj.get("disk_format") {
        None => "raw".to_string(),
        Some(Value::String(s))
            if ["raw", "vmdk", "vdi", "qcow2", "vhd", "vhdx", "ploop"].contains(&s.as_str()) =>
        {
            s.clone()
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid input for field/attribute disk_format. Value: {other}. {other} is not one of ['raw', 'vmdk', 'vdi', 'qcow2', 'vhd', 'vhdx', 'ploop']"
            )))
        }
    };
    let container_format = match obj.get("container_format") {
        None => "bare".to_string(),
        Some(Value::String(s)) if s.chars().count() <= 255 => s.clone(),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid input for field/attribute container_format. Value: {other}. {other} is not a valid description"
            )))
        }
    };
    let (visibility, protected) = if mv.at_least(1) {
        let visibility = match obj.get("visibility") {
            None => "private".to_string(),
            Some(Value::String(s)) if ["community", "public", "private", "shared"].contains(&s.as_str()) => s.clone(),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid input for field/attribute visibility. Value: {other}. {other} is not one of ['community', 'public', 'private', 'shared']"
                )))
            }
        };
        let protected = match obj.get("protected") {
            None => false,
            Some(v) => input::boolean("protected", v)?,
        };
        (Some(visibility), Some(protected))
    } else {
        (None, None)
    };
    Ok(api::UploadRequest {
        image_name,
        force,
        disk_format,
        container_format,
        visibility,
        protected,
    })
}
