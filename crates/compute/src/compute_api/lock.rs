//! Locking servers: a locked server refuses changes from non-admins. Who locked it matters:
//! an admin's lock can only be lifted by an admin (`unlock_override`), the owner's by the
//! owner or an admin.

use super::{actor, ApiResult};
use crate::context::RequestContext;
use crate::db::instance_actions::{self, names, EventResult};
use crate::db::instances::{self, Changes, Instance};
use crate::ComputeService;

/// "owner" when the caller's project owns the server, else "admin".
fn locker(ctx: &RequestContext, instance: &Instance) -> &'static str {
    if instance.project_id == ctx.project_id() {
        "owner"
    } else {
        "admin"
    }
}

/// Nova's `is_expected_locked_by`: the caller is of the kind that locked it (or it is unlocked).
pub fn is_expected_locked_by(ctx: &RequestContext, instance: &Instance) -> bool {
    match instance.locked_by.as_deref() {
        Some(by) => by == locker(ctx, instance),
        None => true,
    }
}

/// Locks the server (a no-op when the owner locks an already locked server), recording the
/// `lock` action with its `api_lock` event.
pub async fn lock(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, reason: Option<String>) -> ApiResult<()> {
    let by = locker(ctx, instance);
    if instance.locked && by == "owner" {
        return Ok(());
    }
    let mut changes = Changes::new().set("locked", true).set("locked_by", by);
    if reason.is_some() {
        changes = changes.set("locked_reason", reason);
    }
    with_event(svc, ctx, &instance.uuid, names::LOCK, "api_lock", changes).await
}

/// Unlocks the server (the caller's right to do so is checked by the API's policy).
pub async fn unlock(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    let changes = Changes::new().set("locked", false).set("locked_by", None::<String>).set("locked_reason", None::<String>);
    with_event(svc, ctx, &instance.uuid, names::UNLOCK, "api_unlock", changes).await
}

/// Records `action` with one `event` around applying `changes` (Nova's `wrap_instance_event`).
async fn with_event(svc: &ComputeService, ctx: &RequestContext, uuid: &str, action: &str, event: &str, changes: Changes) -> ApiResult<()> {
    instance_actions::action_start(&svc.db, uuid, action, actor(ctx)).await?;
    instance_actions::event_start(&svc.db, uuid, &ctx.request_id, event, None).await?;
    let outcome = instances::update(&svc.db, uuid, &changes, None).await;
    let result = if outcome.is_ok() { EventResult::Success } else { EventResult::Error };
    instance_actions::event_finish(&svc.db, uuid, &ctx.request_id, event, result, None, None).await?;
    outcome.map(|_| ())
}
