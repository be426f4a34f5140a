//! Server metadata changes: allowed while the server is ACTIVE, PAUSED, SUSPENDED or STOPPED
//! with no task, not locked, and within the `metadata_items` quota.

use super::checks::{self, Precondition};
use super::ApiResult;
use crate::context::RequestContext;
use crate::db::instance_metadata::{self, Kind};
use crate::db::instances::Instance;
use crate::states::vm;
use crate::ComputeService;
use monostack_common::ApiError;
use std::collections::BTreeMap;

const STATES: &[&str] = &[vm::ACTIVE, vm::PAUSED, vm::SUSPENDED, vm::STOPPED];

/// Sets `items` (all of them replacing the old ones when `replace`); returns the result.
pub async fn update(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, items: BTreeMap<String, String>, replace: bool) -> ApiResult<BTreeMap<String, String>> {
    checks::check(ctx, instance, &Precondition::new("update metadata", STATES))?;
    let mut all = if replace { BTreeMap::new() } else { instance_metadata::get(&svc.db, Kind::User, &instance.uuid).await? };
    all.extend(items);
    super::create::check_metadata_quota(svc, ctx, &all).await?;
    instance_metadata::replace(&svc.db, Kind::User, &instance.uuid, &all).await?;
    Ok(all)
}

/// Removes one item (404 "Metadata item was not found" when absent).
pub async fn delete(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, key: &str) -> ApiResult<()> {
    let current = instance_metadata::get(&svc.db, Kind::User, &instance.uuid).await?;
    if !current.contains_key(key) {
        return Err(ApiError::not_found("Metadata item was not found"));
    }
    checks::check(ctx, instance, &Precondition::new("delete metadata", STATES))?;
    instance_metadata::delete(&svc.db, Kind::User, &instance.uuid, key).await?;
    Ok(())
}
