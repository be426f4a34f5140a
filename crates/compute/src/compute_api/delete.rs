//! Deleting servers (Nova's `delete`, `soft_delete`, `force_delete`, `restore`): a server that
//! never reached a host, or whose host is down, is deleted in the database at once; otherwise
//! it goes to task state `deleting` and its compute agent is told to terminate it.

use super::checks::{self, Precondition};
use super::{cast_to_host, errors, get_instance, record_action, ApiResult};
use crate::context::RequestContext;
use crate::db::instance_actions::names;
use crate::db::instances::{self, Changes, Instance};
use crate::rpc::compute::{ComputeRequest, InstanceRef};
use crate::rpc::conductor::{ComputeTaskRequest, DeleteAllocations};
use crate::states::{task, vm};
use crate::ComputeService;
use monostack_common::time::now_micros;

/// `DELETE /servers/{id}`: soft delete when `reclaim_instance_interval` is set (and the server
/// ever ran), else delete.
pub async fn delete(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    if svc.config.compute.reclaim_instance_interval > 0 && instance.launched_at.is_some() {
        let p = Precondition::new("delete", &[]).any_vm_state().task_states(None);
        checks::check(ctx, instance, &p)?;
        return terminate(svc, ctx, instance, Kind::Soft).await;
    }
    let p = Precondition::new("delete", &[]).any_vm_state().task_states(None).launched(false);
    checks::check(ctx, instance, &p)?;
    terminate(svc, ctx, instance, Kind::Hard).await
}

/// `forceDelete`: delete now even when soft deletes are configured.
pub async fn force_delete(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    let p = Precondition::new("forceDelete", &[]).any_vm_state().task_states(None).launched(false);
    checks::check(ctx, instance, &p)?;
    terminate(svc, ctx, instance, Kind::Hard).await
}

/// `restore`: bring back a SOFT_DELETED server (counted against the quota again).
pub async fn restore(svc: &ComputeService, ctx: &RequestContext, uuid: &str) -> ApiResult<()> {
    let instance = get_instance(svc, ctx, uuid).await?;
    checks::check(ctx, &instance, &Precondition::new("restore", &[vm::SOFT_DELETED]))?;
    let grant = crate::quota::check_instances(svc, &instance.project_id, &instance.user_id, 1, 1, instance.flavor.vcpus, instance.flavor.memory_mb).await?;
    record_action(svc, ctx, uuid, names::RESTORE).await?;
    let (changes, host) = match &instance.host {
        Some(host) => (Changes::new().set("task_state", task::RESTORING).set("deleted_at", None::<i64>), Some(host.clone())),
        None => (Changes::new().set("vm_state", vm::ACTIVE).set("task_state", None::<String>).set("deleted_at", None::<i64>), None),
    };
    if !instances::update(&svc.db, uuid, &changes, Some(checks::NO_TASK)).await? {
        return Err(errors::unexpected_task_state(uuid));
    }
    drop(grant);
    if let Some(host) = host {
        cast_to_host(svc, ctx, &host, ComputeRequest::RestoreInstance(InstanceRef { instance_uuid: uuid.to_string() })).await;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hard,
    Soft,
}

/// Nova's `_delete`.
async fn terminate(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, kind: Kind) -> ApiResult<()> {
    let uuid = &instance.uuid;
    let may_have_resources = [vm::SHELVED_OFFLOADED, vm::ERROR].contains(&instance.vm_state.as_str());
    if instance.host.is_none() && !may_have_resources {
        // Never scheduled: nothing runs anywhere, the records just go (and the volumes
        // reserved for it are let go).
        release_volumes(svc, ctx, uuid).await;
        instances::destroy(&svc.db, uuid).await?;
        record_action(svc, ctx, uuid, names::DELETE).await?;
        tracing::info!("server {uuid} deleted before it was scheduled");
        return Ok(());
    }
    if [vm::SHELVED, vm::SHELVED_OFFLOADED].contains(&instance.vm_state.as_str()) {
        super::shelve::delete_shelved_image(svc, ctx, uuid).await;
    }
    let (task_state, deleted_at) = match kind {
        Kind::Hard => (task::DELETING, None),
        Kind::Soft => (task::SOFT_DELETING, Some(now_micros())),
    };
    let mut changes = Changes::new().set("task_state", task_state).set("progress", 0_i64);
    if let Some(at) = deleted_at {
        changes = changes.set("deleted_at", at);
    }
    instances::update(&svc.db, uuid, &changes, None).await?;
    let host_up = match &instance.host {
        Some(host) => super::service_group::compute_service_up(&svc.db, &svc.config, host).await? == Some(true),
        None => false,
    };
    let already = matches!(instance.task_state.as_deref(), Some(task::DELETING) | Some(task::SOFT_DELETING));
    match (&instance.host, host_up) {
        (Some(host), true) => {
            if already {
                tracing::info!("server {uuid} is already being deleted; ignoring this request");
                return Ok(());
            }
            record_action(svc, ctx, uuid, names::DELETE).await?;
            let target = InstanceRef { instance_uuid: uuid.clone() };
            let request = match kind {
                Kind::Hard => ComputeRequest::TerminateInstance(target),
                Kind::Soft => ComputeRequest::SoftDeleteInstance(target),
            };
            cast_to_host(svc, ctx, host, request).await;
        }
        _ => local_delete(svc, ctx, instance, kind).await?,
    }
    Ok(())
}

/// The host is down (or the server is offloaded): delete in the database, as Nova's
/// `_local_delete` does, letting go of the server's volumes and ports here and of its
/// placement allocations through the conductor.
async fn local_delete(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, kind: Kind) -> ApiResult<()> {
    let uuid = &instance.uuid;
    tracing::warn!("server {uuid}: host {:?} is down or gone, deleting from the database", instance.host);
    match kind {
        Kind::Hard => {
            release_volumes(svc, ctx, uuid).await;
            release_ports(svc, ctx, uuid).await;
            instances::destroy(&svc.db, uuid).await?;
            let request = ComputeTaskRequest::DeleteAllocations(DeleteAllocations { instance_uuid: uuid.clone() });
            if let Err(e) = crate::rpc::conductor::cast(svc.bus.as_ref(), ctx, request).await {
                tracing::warn!("[instance: {uuid}] allocations not released: {e}");
            }
        }
        Kind::Soft => {
            let changes = Changes::new().set("vm_state", vm::SOFT_DELETED).set("task_state", None::<String>).set("terminated_at", now_micros());
            instances::update(&svc.db, uuid, &changes, None).await?;
        }
    }
    record_action(svc, ctx, uuid, names::DELETE).await?;
    Ok(())
}

/// Nova's `deallocate_for_instance` from the API: the ports compute created are deleted, the
/// user's unbound. A failure is logged; the server goes anyway, as in Nova.
async fn release_ports(svc: &ComputeService, ctx: &RequestContext, uuid: &str) {
    let info = match crate::db::info_caches::get_many(&svc.db, &[uuid.to_string()]).await {
        Ok(mut caches) => caches.remove(uuid).unwrap_or(serde_json::Value::Null),
        Err(e) => {
            tracing::warn!("[instance: {uuid}] ports not released: {}", e.message);
            return;
        }
    };
    match crate::network_api::allocate::deallocate_for_instance(svc.network.as_ref(), &ctx.request_id, uuid, &info).await {
        Ok(n) => tracing::info!("[instance: {uuid}] released {n} port(s)"),
        Err(e) => tracing::warn!("[instance: {uuid}] ports not released: {e}"),
    }
}

/// Nova's `_local_cleanup_bdm_volumes` for a server deleted in the database only.
async fn release_volumes(svc: &ComputeService, ctx: &RequestContext, uuid: &str) {
    match crate::db::block_device_mappings::list(&svc.db, uuid).await {
        Ok(bdms) => super::volumes::local_cleanup(svc, &super::interfaces::caller_auth(ctx), &bdms).await,
        Err(e) => tracing::warn!("[instance: {uuid}] volumes not released: {}", e.message),
    }
}
