//! Nova's preconditions of instance operations: `check_instance_lock`,
//! `check_instance_host` and `check_instance_state`, applied in that order, and the start of
//! an operation: the task state compare-and-set plus the instance action.

use super::{errors, record_action, ApiResult};
use crate::context::RequestContext;
use crate::db::instances::{self, Changes, Instance};
use crate::ComputeService;

/// What an operation requires of the instance.
#[derive(Debug, Clone, Copy)]
pub struct Precondition<'a> {
    /// The action's API name, used in messages ("stop", "reboot", "createImage").
    pub action: &'a str,
    /// Allowed vm states; None allows any.
    pub vm_states: Option<&'a [&'a str]>,
    /// Allowed task states (None in the list is "no task"); None allows any.
    pub task_states: Option<&'a [Option<&'a str>]>,
    /// The instance must have been launched once (Nova's `must_have_launched`).
    pub must_have_launched: bool,
    /// Locked instances refuse the operation to non-admins.
    pub check_lock: bool,
    /// The instance must have a host.
    pub needs_host: bool,
}

/// No task in progress.
pub const NO_TASK: &[Option<&str>] = &[None];

impl<'a> Precondition<'a> {
    /// Nova's `check_instance_lock` + `check_instance_state(vm_state=vm_states)`.
    pub const fn new(action: &'a str, vm_states: &'a [&'a str]) -> Self {
        Precondition { action, vm_states: Some(vm_states), task_states: Some(NO_TASK), must_have_launched: true, check_lock: true, needs_host: false }
    }

    pub const fn any_vm_state(mut self) -> Self {
        self.vm_states = None;
        self
    }

    pub const fn task_states(mut self, states: Option<&'a [Option<&'a str>]>) -> Self {
        self.task_states = states;
        self
    }

    pub const fn launched(mut self, must: bool) -> Self {
        self.must_have_launched = must;
        self
    }

    pub const fn lock(mut self, check: bool) -> Self {
        self.check_lock = check;
        self
    }

    pub const fn host(mut self, needs: bool) -> Self {
        self.needs_host = needs;
        self
    }
}

/// 409 unless `instance` meets `p`.
pub fn check(ctx: &RequestContext, instance: &Instance, p: &Precondition<'_>) -> ApiResult<()> {
    if p.check_lock && instance.locked && !ctx.is_admin {
        return Err(errors::locked(&instance.uuid));
    }
    if p.needs_host && instance.host.is_none() {
        return Err(errors::not_ready(&instance.uuid));
    }
    check_state(instance, p)
}

/// Only the vm/task state part of [`check`].
pub fn check_state(instance: &Instance, p: &Precondition<'_>) -> ApiResult<()> {
    if let Some(allowed) = p.vm_states {
        if !allowed.contains(&instance.vm_state.as_str()) {
            return Err(errors::invalid_state(p.action, &instance.uuid, "vm_state", Some(&instance.vm_state)));
        }
    }
    if let Some(allowed) = p.task_states {
        if !allowed.contains(&instance.task_state.as_deref()) {
            return Err(errors::invalid_state(p.action, &instance.uuid, "task_state", instance.task_state.as_deref()));
        }
    }
    if p.must_have_launched && instance.launched_at.is_none() {
        return Err(errors::invalid_state(p.action, &instance.uuid, "launched_at", None));
    }
    Ok(())
}

/// Starts an operation: checks `p`, sets `task_state` (plus `extra` changes) only if no
/// other task started meanwhile, and records `action` when given.
pub async fn begin(
    svc: &ComputeService,
    ctx: &RequestContext,
    instance: &Instance,
    p: &Precondition<'_>,
    task_state: &str,
    extra: Changes,
    action: Option<&str>,
) -> ApiResult<()> {
    check(ctx, instance, p)?;
    let changes = extra.set("task_state", task_state);
    let expected: Vec<Option<&str>> = vec![instance.task_state.as_deref()];
    if !instances::update(&svc.db, &instance.uuid, &changes, Some(&expected)).await? {
        return Err(errors::unexpected_task_state(&instance.uuid));
    }
    if let Some(action) = action {
        record_action(svc, ctx, &instance.uuid, action).await?;
    }
    Ok(())
}
