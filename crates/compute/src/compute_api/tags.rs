//! Server tag changes (2.26): only while the server is ACTIVE, PAUSED, SUSPENDED or STOPPED,
//! at most 50 tags. Nova does not check locks for tags.

use super::{errors, ApiResult};
use crate::db::instance_tags::{self, MAX_TAGS};
use crate::db::instances::Instance;
use crate::states::vm;
use crate::ComputeService;
use monostack_common::ApiError;

fn check_state(instance: &Instance, action: &str) -> ApiResult<()> {
    if [vm::ACTIVE, vm::PAUSED, vm::SUSPENDED, vm::STOPPED].contains(&instance.vm_state.as_str()) {
        Ok(())
    } else {
        Err(errors::invalid_state(action, &instance.uuid, "vm_state", Some(&instance.vm_state)))
    }
}

fn too_many() -> ApiError {
    ApiError::bad_request(format!("The number of tags exceeded the per-server limit {MAX_TAGS}"))
}

/// Adds `tag`; true when it was new.
pub async fn add(svc: &ComputeService, instance: &Instance, tag: &str) -> ApiResult<bool> {
    check_state(instance, "update tag")?;
    let tags = instance_tags::list(&svc.db, &instance.uuid).await?;
    if tags.len() >= MAX_TAGS {
        return Err(too_many());
    }
    if tags.iter().any(|t| t == tag) {
        return Ok(false);
    }
    instance_tags::add(&svc.db, &instance.uuid, tag).await
}

/// Replaces every tag.
pub async fn replace(svc: &ComputeService, instance: &Instance, tags: &[String]) -> ApiResult<Vec<String>> {
    check_state(instance, "update tags")?;
    instance_tags::replace(&svc.db, &instance.uuid, tags).await?;
    instance_tags::list(&svc.db, &instance.uuid).await
}

/// Removes `tag` (404 when the server does not have it).
pub async fn delete(svc: &ComputeService, instance: &Instance, tag: &str) -> ApiResult<()> {
    check_state(instance, "delete tag")?;
    if !instance_tags::delete(&svc.db, &instance.uuid, tag).await? {
        return Err(ApiError::not_found(format!("Instance {} has no tag '{tag}'", instance.uuid)));
    }
    Ok(())
}

/// Removes every tag.
pub async fn delete_all(svc: &ComputeService, instance: &Instance) -> ApiResult<()> {
    check_state(instance, "delete tags")?;
    instance_tags::replace(&svc.db, &instance.uuid, &[]).await
}
