//! Volume types as callers see them: public types, private types shared with their project,
//! every type for admins.

use crate::context::RequestContext;
use crate::db::types::{self as db, VolumeType};
use crate::VolumeService;
use monostack_common::ApiError;

pub fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Volume type {id} could not be found."))
}

/// Whether the caller may see (and use) `t`.
pub async fn visible(
    state: &VolumeService,
    ctx: &RequestContext,
    t: &VolumeType,
) -> Result<bool, ApiError> {
    Ok(t.is_public || ctx.is_admin || db::has_access(&state.db, &t.id, ctx.project_id()).await?)
}

/// The type `id` if the caller may see it, else 404.
pub async fn find(
    state: &VolumeService,
    ctx: &RequestContext,
    id: &str,
) -> Result<VolumeType, ApiError> {
    let t = db::get(&state.db, id).await?.ok_or_else(|| not_found(id))?;
    if !visible(state, ctx, &t).await? {
        return Err(not_found(id));
    }
    Ok(t)
}

/// The type named or identified by `name_or_id` (how volume create names a type).
pub async fn find_by_name_or_id(
    state: &VolumeService,
    ctx: &RequestContext,
    name_or_id: &str,
) -> Result<VolumeType, ApiError> {
    let t = match db::get(&state.db, name_or_id).await? {
        Some(t) => Some(t),
        None => db::get_by_name(&state.db, name_or_id).await?,
    };
    let missing = || {
        ApiError::not_found(format!(
            "Volume type with name {name_or_id} could not be found."
        ))
    };
    let t = t.ok_or_else(missing)?;
    if !visible(state, ctx, &t).await? {
        return Err(missing());
    }
    Ok(t)
}

/// The default type (`[volume] default_volume_type`).
pub async fn default_type(state: &VolumeService) -> Result<VolumeType, ApiError> {
    let name = &state.config.volume.default_volume_type;
    db::get_by_name(&state.db, name).await?.ok_or_else(|| {
        ApiError::internal(format!(
            "The request cannot be fulfilled as the default volume type {name} cannot be found."
        ))
    })
}
