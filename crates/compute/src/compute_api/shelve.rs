//! Shelving: `shelve` stops the server and snapshots it, `shelveOffload` frees its host,
//! `unshelve` brings it back (to a zone, 2.77, or a host, 2.91, when offloaded).

use super::checks::{self, Precondition};
use super::{cast_to_conductor, cast_to_host, errors, ApiResult};
use crate::context::RequestContext;
use crate::db::instance_actions::names;
use crate::db::instance_metadata::{self, Kind};
use crate::db::instances::{self, Changes, Instance};
use crate::db::request_specs;
use crate::image_client::ImageAuth;
use crate::request_spec::SpecDestination;
use crate::rpc::compute::{ComputeRequest, ShelveInstance, ShelveOffloadInstance};
use crate::rpc::conductor::{ComputeTaskRequest, UnshelveInstance};
use crate::states::{task, vm};
use crate::ComputeService;
use monostack_common::ApiError;
use std::collections::BTreeMap;

pub async fn shelve(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    let p = Precondition::new("shelve", &[vm::ACTIVE, vm::STOPPED, vm::PAUSED, vm::SUSPENDED]);
    checks::check(ctx, instance, &p)?;
    let host = instance.host.clone().ok_or_else(|| errors::not_ready(&instance.uuid))?;
    checks::begin(svc, ctx, instance, &p, task::SHELVING, Changes::new(), Some(names::SHELVE)).await?;
    let base = BTreeMap::from([("image_base_image_ref".to_string(), instance.image_ref.clone().unwrap_or_default())]);
    instance_metadata::set(&svc.db, Kind::System, &instance.uuid, &base).await?;
    let bdms = crate::db::block_device_mappings::list(&svc.db, &instance.uuid).await?;
    if bdms.iter().any(|b| b.is_volume_root()) {
        let request = ShelveOffloadInstance { instance_uuid: instance.uuid.clone(), clean_shutdown: true };
        cast_to_host(svc, ctx, &host, ComputeRequest::ShelveOffloadInstance(request)).await;
        return Ok(());
    }
    let name = format!("{}-shelved", instance.display_name.clone().unwrap_or_default());
    let image = match super::snapshot::create_image_record(svc, ctx, instance, &name, "snapshot", BTreeMap::new()).await {
        Ok(image) => image,
        Err(e) => {
            let clear = Changes::new().set("task_state", None::<String>);
            instances::update(&svc.db, &instance.uuid, &clear, Some(&[Some(task::SHELVING)])).await?;
            return Err(e);
        }
    };
    let shelved = BTreeMap::from([("shelved_image_id".to_string(), image.id.clone())]);
    instance_metadata::set(&svc.db, Kind::System, &instance.uuid, &shelved).await?;
    let request = ShelveInstance { instance_uuid: instance.uuid.clone(), image_id: image.id, clean_shutdown: true };
    cast_to_host(svc, ctx, &host, ComputeRequest::ShelveInstance(request)).await;
    Ok(())
}

pub async fn shelve_offload(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    let p = Precondition::new("shelveOffload", &[vm::SHELVED]);
    checks::check(ctx, instance, &p)?;
    let host = instance.host.clone().ok_or_else(|| errors::not_ready(&instance.uuid))?;
    checks::begin(svc, ctx, instance, &p, task::SHELVING_OFFLOADING, Changes::new(), Some(names::SHELVE_OFFLOAD)).await?;
    let request = ShelveOffloadInstance { instance_uuid: instance.uuid.clone(), clean_shutdown: true };
    cast_to_host(svc, ctx, &host, ComputeRequest::ShelveOffloadInstance(request)).await;
    Ok(())
}

/// Where an unshelve goes: `zone` is None when not given, Some(None) to unpin (2.91).
#[derive(Debug, Clone, Default)]
pub struct UnshelveTarget {
    pub zone: Option<Option<String>>,
    pub host: Option<String>,
}

pub async fn unshelve(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, target: UnshelveTarget) -> ApiResult<()> {
    let p = Precondition::new("unshelve", &[vm::SHELVED, vm::SHELVED_OFFLOADED]);
    checks::check(ctx, instance, &p)?;
    let mut spec = request_specs::get(&svc.db, &instance.uuid).await?.unwrap_or_default();
    if (target.zone.is_some() || target.host.is_some()) && instance.vm_state != vm::SHELVED_OFFLOADED {
        return Err(ApiError::conflict(format!(
            "Specifying an availability zone or a host when unshelving server \"{}\" with status \"{}\" is not supported. The server status must be SHELVED_OFFLOADED.",
            instance.uuid, instance.vm_state
        )));
    }
    if let Some(Some(zone)) = &target.zone {
        if !super::zones::available(&svc.db, &svc.config).await?.contains(zone) {
            return Err(ApiError::bad_request("The requested availability zone is not available"));
        }
    }
    let expected_zone = match &target.zone {
        Some(zone) => zone.clone(),
        None => spec.availability_zone.clone(),
    };
    if let Some(host) = &target.host {
        check_host_in_zone(svc, host, expected_zone.as_deref()).await?;
        spec.requested_destination = Some(SpecDestination { host: host.clone(), node: None });
    }
    spec.availability_zone = expected_zone;
    request_specs::save(&svc.db, &instance.uuid, &spec).await?;
    checks::begin(svc, ctx, instance, &p, task::UNSHELVING, Changes::new(), Some(names::UNSHELVE)).await?;
    cast_to_conductor(svc, ctx, ComputeTaskRequest::UnshelveInstance(UnshelveInstance { instance_uuid: instance.uuid.clone() })).await;
    Ok(())
}

async fn check_host_in_zone(svc: &ComputeService, host: &str, zone: Option<&str>) -> ApiResult<()> {
    let db = &svc.db;
    if crate::db::compute_nodes::by_host(db, host).await?.is_empty() {
        return Err(ApiError::bad_request(format!("Compute host {host} could not be found.")));
    }
    if let Some(zone) = zone {
        if super::zones::host_zone(db, &svc.config, host).await? != zone {
            return Err(ApiError::conflict(format!("Host \"{host}\" is not in the availability zone \"{zone}\".")));
        }
    }
    Ok(())
}

/// Deletes the snapshot a shelved server keeps (best effort, as Nova).
pub async fn delete_shelved_image(svc: &ComputeService, ctx: &RequestContext, uuid: &str) {
    let sys = match instance_metadata::get(&svc.db, Kind::System, uuid).await {
        Ok(sys) => sys,
        Err(e) => return tracing::warn!("server {uuid}: shelved image unknown: {}", e.message),
    };
    if let Some(image_id) = sys.get("shelved_image_id") {
        if let Err(e) = svc.images.delete(ImageAuth { token: &ctx.token, request_id: &ctx.request_id }, image_id).await {
            tracing::warn!("server {uuid}: failed to delete snapshot {image_id} of the shelved server: {e}");
        }
    }
}
