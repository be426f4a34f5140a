//! The simple server actions: power (stop, start, reboot, pause, suspend and their reverses),
//! rescue, password, crash dump, network info injection, and the admin state reset. Each one
//! checks Nova's preconditions, sets its task state, records the action and casts to the
//! instance's compute agent.

use super::checks::{self, Precondition};
use super::{cast_to_host, call_failed, errors, record_action, ApiResult};
use crate::context::RequestContext;
use crate::db::instance_actions::{self, names};
use crate::db::instances::{self, Changes, Instance};
use crate::rpc::compute::{self, ComputeRequest, InstanceRef, RebootInstance, RemoteFault, RescueInstance, SetAdminPassword, StopInstance};
use crate::states::{task, vm};
use crate::ComputeService;
use monostack_common::ApiError;
use std::time::Duration;

fn target(instance: &Instance) -> InstanceRef {
    InstanceRef { instance_uuid: instance.uuid.clone() }
}

fn host_of(instance: &Instance) -> ApiResult<String> {
    instance.host.clone().ok_or_else(|| errors::not_ready(&instance.uuid))
}

/// Starts `task_state` under `p`, records `action` and casts `request` to the host.
async fn run(
    svc: &ComputeService,
    ctx: &RequestContext,
    instance: &Instance,
    p: Precondition<'_>,
    task_state: &str,
    action: &str,
    request: ComputeRequest,
) -> ApiResult<()> {
    checks::check(ctx, instance, &p)?;
    let host = host_of(instance)?;
    checks::begin(svc, ctx, instance, &p, task_state, Changes::new(), Some(action)).await?;
    cast_to_host(svc, ctx, &host, request).await;
    Ok(())
}

pub async fn stop(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    let p = Precondition::new("stop", &[vm::ACTIVE, vm::ERROR]).host(true);
    let request = ComputeRequest::StopInstance(StopInstance { instance_uuid: instance.uuid.clone(), clean_shutdown: true });
    checks::check(ctx, instance, &p)?;
    let host = host_of(instance)?;
    checks::begin(svc, ctx, instance, &p, task::POWERING_OFF, Changes::new().set("progress", 0_i64), Some(names::STOP)).await?;
    cast_to_host(svc, ctx, &host, request).await;
    Ok(())
}

pub async fn start(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    let p = Precondition::new("start", &[vm::STOPPED]).host(true);
    run(svc, ctx, instance, p, task::POWERING_ON, names::START, ComputeRequest::StartInstance(target(instance))).await
}

/// `reboot`: SOFT from ACTIVE with no task; HARD also from STOPPED, PAUSED, SUSPENDED, ERROR
/// and over a reboot or power transition in progress.
pub async fn reboot(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, hard: bool) -> ApiResult<()> {
    const HARD_TASKS: &[Option<&str>] = &[
        None,
        Some(task::REBOOTING),
        Some(task::REBOOT_PENDING),
        Some(task::REBOOT_STARTED),
        Some(task::RESUMING),
        Some(task::REBOOTING_HARD),
        Some(task::UNPAUSING),
        Some(task::PAUSING),
        Some(task::SUSPENDING),
    ];
    let (p, task_state) = if hard {
        (Precondition::new("reboot", vm::ALLOW_HARD_REBOOT).task_states(Some(HARD_TASKS)), task::REBOOTING_HARD)
    } else {
        (Precondition::new("reboot", vm::ALLOW_SOFT_REBOOT), task::REBOOTING)
    };
    let reboot_type = if hard { "HARD" } else { "SOFT" };
    let request = ComputeRequest::RebootInstance(RebootInstance { instance_uuid: instance.uuid.clone(), reboot_type: reboot_type.into() });
    run(svc, ctx, instance, p, task_state, names::REBOOT, request).await
}

pub async fn pause(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    let p = Precondition::new("pause", &[vm::ACTIVE]);
    run(svc, ctx, instance, p, task::PAUSING, names::PAUSE, ComputeRequest::PauseInstance(target(instance))).await
}

pub async fn unpause(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    let p = Precondition::new("unpause", &[vm::PAUSED]);
    run(svc, ctx, instance, p, task::UNPAUSING, names::UNPAUSE, ComputeRequest::UnpauseInstance(target(instance))).await
}

pub async fn suspend(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    let p = Precondition::new("suspend", &[vm::ACTIVE]);
    run(svc, ctx, instance, p, task::SUSPENDING, names::SUSPEND, ComputeRequest::SuspendInstance(target(instance))).await
}

pub async fn resume(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    let p = Precondition::new("resume", &[vm::SUSPENDED]);
    run(svc, ctx, instance, p, task::RESUMING, names::RESUME, ComputeRequest::ResumeInstance(target(instance))).await
}

/// `trigger_crash_dump` (2.17): no task state, just the action and the cast.
pub async fn trigger_crash_dump(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    let p = Precondition::new("trigger_crash_dump", vm::ALLOW_TRIGGER_CRASH_DUMP).host(true);
    checks::check(ctx, instance, &p)?;
    let host = host_of(instance)?;
    record_action(svc, ctx, &instance.uuid, names::TRIGGER_CRASH_DUMP).await?;
    cast_to_host(svc, ctx, &host, ComputeRequest::TriggerCrashDump(target(instance))).await;
    Ok(())
}

/// `rescue`: boots the rescue image (the server's own image unless `rescue_image_ref`). A
/// volume-backed server is rescued only from 2.87 (`allow_bfv_rescue`) with a rescue image
/// naming `hw_rescue_device` and `hw_rescue_bus` (stable device rescue), as Nova.
pub async fn rescue(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, password: String, rescue_image_ref: Option<String>, allow_bfv_rescue: bool) -> ApiResult<()> {
    let p = Precondition::new("rescue", &[vm::ACTIVE, vm::STOPPED, vm::ERROR]);
    checks::check(ctx, instance, &p)?;
    let mut stable_rescue = false;
    if let Some(image) = &rescue_image_ref {
        let meta = super::create::image::get(svc, ctx, image).await.map_err(|_| ApiError::bad_request(format!("Requested rescue image '{image}' is not supported")))?;
        if meta.properties.contains_key("img_block_device_mapping") {
            return Err(ApiError::bad_request(format!("Requested rescue image '{image}' is not supported")));
        }
        stable_rescue = meta.properties.contains_key("hw_rescue_device") && meta.properties.contains_key("hw_rescue_bus");
    }
    let bdms = crate::db::block_device_mappings::list(&svc.db, &instance.uuid).await?;
    if bdms.iter().any(|b| b.is_volume_root()) && !(allow_bfv_rescue && stable_rescue) {
        return Err(ApiError::bad_request(format!("Instance {} cannot be rescued: Cannot rescue a volume-backed instance", instance.uuid)));
    }
    let host = host_of(instance)?;
    checks::begin(svc, ctx, instance, &p, task::RESCUING, Changes::new(), Some(names::RESCUE)).await?;
    let request = RescueInstance { instance_uuid: instance.uuid.clone(), rescue_password: password, rescue_image_ref, clean_shutdown: true };
    cast_to_host(svc, ctx, &host, ComputeRequest::RescueInstance(request)).await;
    Ok(())
}

pub async fn unrescue(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    let p = Precondition::new("unrescue", &[vm::RESCUED]);
    run(svc, ctx, instance, p, task::UNRESCUING, names::UNRESCUE, ComputeRequest::UnrescueInstance(target(instance))).await
}

/// `changePassword`: a call to the agent, which answers once the guest took the password.
pub async fn change_password(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, password: String) -> ApiResult<()> {
    let p = Precondition::new("changePassword", &[vm::ACTIVE]);
    checks::check(ctx, instance, &p)?;
    let host = host_of(instance)?;
    checks::begin(svc, ctx, instance, &p, task::UPDATING_PASSWORD, Changes::new(), Some(names::CHANGE_PASSWORD)).await?;
    let request = ComputeRequest::SetAdminPassword(SetAdminPassword { instance_uuid: instance.uuid.clone(), new_pass: password });
    let timeout = Duration::from_secs(svc.config.bus.rpc_response_timeout);
    let outcome = compute::call(svc.bus.as_ref(), ctx, &host, request, timeout).await;
    if let Err(e) = outcome {
        // The agent never took the task: clear it so the server is usable again.
        let clear = Changes::new().set("task_state", None::<String>);
        instances::update(&svc.db, &instance.uuid, &clear, Some(&[Some(task::UPDATING_PASSWORD)])).await?;
        return Err(match RemoteFault::parse(&e) {
            Some(f) if f.kind == "NotImplemented" => ApiError::not_implemented("Unable to set password on instance"),
            Some(f) => ApiError::conflict(f.message),
            None => call_failed("changePassword", &e),
        });
    }
    Ok(())
}

/// `injectNetworkInfo` (admin): refresh the guest's network configuration.
pub async fn inject_network_info(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    if instance.locked && !ctx.is_admin {
        return Err(errors::locked(&instance.uuid));
    }
    let host = host_of(instance)?;
    cast_to_host(svc, ctx, &host, ComputeRequest::InjectNetworkInfo(target(instance))).await;
    Ok(())
}

/// `os-resetState` (admin): force the vm state to active or error and clear the task.
pub async fn reset_state(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, state: &str) -> ApiResult<()> {
    let uuid = &instance.uuid;
    record_action(svc, ctx, uuid, names::RESET_STATE).await?;
    let changes = Changes::new().set("vm_state", state).set("task_state", None::<String>);
    instances::update(&svc.db, uuid, &changes, None).await?;
    instance_actions::action_finish(&svc.db, uuid, &ctx.request_id).await?;
    Ok(())
}

/// The states a reset may set.
pub const RESET_STATES: &[(&str, &str)] = &[("active", vm::ACTIVE), ("error", vm::ERROR)];
