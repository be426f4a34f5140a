//! Moving servers: resize and cold migration (the conductor's `migrate_server`), confirming or
//! reverting a resize, live migration, and evacuation from a failed host.

use super::checks::{self, Precondition};
use super::{cast_to_conductor, cast_to_host, errors, record_action, service_group, ApiResult};
use crate::context::RequestContext;
use crate::db::flavor_snapshot::{self, InstanceFlavor};
use crate::db::instance_actions::names;
use crate::db::instances::{self, Changes, Instance};
use crate::db::instance_metadata::{self, Kind};
use crate::db::request_specs;
use crate::request_spec::SpecDestination;
use crate::rpc::compute::{ComputeRequest, ResizeDecision};
use crate::rpc::conductor::{ComputeTaskRequest, LiveMigrateInstance, MigrateServer, RebuildInstance};
use crate::states::{task, vm};
use crate::ComputeService;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::RowExt;

/// Nova's `check_instance_host(check_is_up=True)`.
async fn require_host_up(svc: &ComputeService, instance: &Instance) -> ApiResult<String> {
    let host = instance.host.clone().ok_or_else(|| errors::not_ready(&instance.uuid))?;
    if service_group::compute_service_up(&svc.db, &svc.config, &host).await? != Some(true) {
        return Err(ApiError::conflict("Service is unavailable at this time."));
    }
    Ok(host)
}

/// A compute node of `host`: (host, node); 400 when there is none.
async fn compute_node(svc: &ComputeService, host: &str) -> ApiResult<(String, String)> {
    match crate::db::compute_nodes::by_host(&svc.db, host).await?.into_iter().next() {
        Some(node) => Ok((node.host, node.hypervisor_hostname)),
        None => Err(ApiError::bad_request(format!("Compute host {host} could not be found."))),
    }
}

/// `resize` (with a flavor) or `migrate` (without, to `host` when an admin names one).
pub async fn resize(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, flavor_id: Option<&str>, host: Option<&str>, auto_disk_config: Option<bool>) -> ApiResult<()> {
    let action = if flavor_id.is_some() { "resize" } else { "migrate" };
    let p = Precondition::new(action, &[vm::ACTIVE, vm::STOPPED]);
    checks::check(ctx, instance, &p)?;
    let source = require_host_up(svc, instance).await?;
    let destination = match host {
        Some(h) if h == source => return Err(ApiError::bad_request("Cannot migrate to the host where the server exists.")),
        Some(h) => Some(compute_node(svc, h).await?),
        None => None,
    };
    let current = instance.flavor.clone();
    let new_flavor = match flavor_id {
        None => current.clone(),
        Some(id) => load_new_flavor(svc, ctx, instance, id).await?,
    };
    let same = new_flavor.id == current.id;
    if same && flavor_id.is_some() {
        return Err(ApiError::bad_request("When resizing, instances must change flavor!"));
    }
    if flavor_id.is_some() {
        check_upsize(svc, instance, &current, &new_flavor).await?;
        check_image_fits(svc, instance, &new_flavor).await?;
    }
    let mut spec = request_specs::get(&svc.db, &instance.uuid).await?.unwrap_or_default();
    spec.ignore_hosts = if svc.config.compute.allow_resize_to_same_host { Vec::new() } else { vec![source] };
    spec.requested_destination = destination.map(|(host, node)| SpecDestination { host, node: Some(node) });
    request_specs::save(&svc.db, &instance.uuid, &spec).await?;
    let changes = Changes::new().set("progress", 0_i64).set("auto_disk_config", auto_disk_config.unwrap_or(false));
    let action_name = if flavor_id.is_some() { names::RESIZE } else { names::MIGRATE };
    checks::begin(svc, ctx, instance, &p, task::RESIZE_PREP, changes, Some(action_name)).await?;
    let request = MigrateServer {
        instance_uuid: instance.uuid.clone(),
        flavor: flavor_id.map(|_| new_flavor),
        clean_shutdown: true,
        requested_destination: spec.requested_destination.clone(),
    };
    cast_to_conductor(svc, ctx, ComputeTaskRequest::MigrateServer(request)).await;
    Ok(())
}

async fn load_new_flavor(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, id: &str) -> ApiResult<InstanceFlavor> {
    let not_found = || ApiError::bad_request(format!("Flavor {id} could not be found."));
    let flavor = flavor_snapshot::load_accessible(&svc.db, id, ctx.project_id(), ctx.is_admin).await?.ok_or_else(not_found)?;
    if flavor.disabled && flavor.id != instance.flavor.id {
        return Err(not_found());
    }
    if flavor.root_gb == 0 && instance.flavor.root_gb != 0 {
        let bdms = crate::db::block_device_mappings::list(&svc.db, &instance.uuid).await?;
        if !bdms.iter().any(|b| b.is_volume_root()) {
            return Err(ApiError::bad_request("Server disk was unable to be resized because: Resize to zero disk flavor is not allowed."));
        }
    }
    Ok(flavor)
}

/// The project (and user, when limited) must have room for a bigger flavor (Nova's
/// `_check_quota_for_upsize`; the message is Nova's TooManyInstances).
async fn check_upsize(svc: &ComputeService, instance: &Instance, from: &InstanceFlavor, to: &InstanceFlavor) -> ApiResult<()> {
    let deltas = [("cores", to.vcpus - from.vcpus), ("ram", to.memory_mb - from.memory_mb)];
    if deltas.iter().all(|(_, d)| *d <= 0) {
        return Ok(());
    }
    let limits = crate::quota::project_limits(svc, &instance.project_id).await?;
    let usage = crate::quota::usage(svc, &instance.project_id, None).await?;
    let overs: Vec<Over> = deltas
        .iter()
        .filter(|(r, d)| *d > 0 && limits[*r] != crate::quota::UNLIMITED && usage.of(r) + d > limits[*r])
        .map(|(r, d)| Over { resource: r, requested: *d, used: usage.of(r), limit: limits[*r] })
        .collect();
    if overs.is_empty() {
        return Ok(());
    }
    let join = |f: fn(&Over) -> String| overs.iter().map(f).collect::<Vec<_>>().join(", ");
    let names = join(|o| o.resource.to_string());
    Err(ApiError::forbidden(format!(
        "Quota exceeded for {names}: Requested {}, but already used {} of {} {names}",
        join(|o| o.requested.to_string()),
        join(|o| o.used.to_string()),
        join(|o| o.limit.to_string()),
    )))
}

/// A resource a resize would take over its limit.
struct Over {
    resource: &'static str,
    requested: i64,
    used: i64,
    limit: i64,
}

/// The boot image's minimums (kept in system metadata) against the new flavor.
async fn check_image_fits(svc: &ComputeService, instance: &Instance, flavor: &InstanceFlavor) -> ApiResult<()> {
    let sys = instance_metadata::get(&svc.db, Kind::System, &instance.uuid).await?;
    let number = |k: &str| sys.get(k).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    if flavor.memory_mb < number("image_min_ram") {
        return Err(ApiError::bad_request("Flavor's memory is too small for requested image."));
    }
    let min_disk = number("image_min_disk") << 30;
    let flavor_disk = flavor.root_gb << 30;
    if flavor_disk != 0 && min_disk > flavor_disk {
        return Err(ApiError::bad_request(format!(
            "Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is {flavor_disk} bytes, minimum size is {min_disk} bytes."
        )));
    }
    Ok(())
}

/// The `finished` migration of a resized server (400 "Instance has not been resized.").
async fn finished_migration(svc: &ComputeService, uuid: &str) -> ApiResult<(i64, Option<String>, Option<String>)> {
    let db = &svc.db;
    let sql = "SELECT id, source_compute, dest_compute FROM migrations WHERE instance_uuid = ? AND status = 'finished' AND deleted = 0 ORDER BY id DESC";
    let row = sqlx::query(&db.sql(sql)).bind(uuid).fetch_optional(&db.pool).await?.ok_or_else(|| ApiError::bad_request("Instance has not been resized."))?;
    Ok((row.int("id")?, row.opt_text("source_compute")?, row.opt_text("dest_compute")?))
}

async fn set_migration_status(svc: &ComputeService, id: i64, status: &str) -> ApiResult<()> {
    let db = &svc.db;
    sqlx::query(&db.sql("UPDATE migrations SET status = ?, updated_at = ? WHERE id = ?")).bind(status).bind(now_micros()).bind(id).execute(&db.pool).await?;
    Ok(())
}

pub async fn confirm_resize(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    checks::check(ctx, instance, &Precondition::new("confirmResize", &[vm::RESIZED]))?;
    let (id, source, _) = finished_migration(svc, &instance.uuid).await?;
    let source = source.unwrap_or_default();
    if service_group::compute_service_up(&svc.db, &svc.config, &source).await? != Some(true) {
        return Err(ApiError::conflict("Service is unavailable at this time."));
    }
    set_migration_status(svc, id, "confirming").await?;
    record_action(svc, ctx, &instance.uuid, names::CONFIRM_RESIZE).await?;
    let request = ResizeDecision { instance_uuid: instance.uuid.clone(), migration_id: id };
    cast_to_host(svc, ctx, &source, ComputeRequest::ConfirmResize(request)).await;
    Ok(())
}

pub async fn revert_resize(svc: &ComputeService, ctx: &RequestContext, instance: &Instance) -> ApiResult<()> {
    let p = Precondition::new("revertResize", &[vm::RESIZED]);
    checks::check(ctx, instance, &p)?;
    let (id, _, dest) = finished_migration(svc, &instance.uuid).await?;
    if let Some(old) = &instance.old_flavor {
        check_upsize(svc, instance, &instance.flavor, old).await?;
    }
    checks::begin(svc, ctx, instance, &p, task::RESIZE_REVERTING, Changes::new(), None).await?;
    set_migration_status(svc, id, "reverting").await?;
    record_action(svc, ctx, &instance.uuid, names::REVERT_RESIZE).await?;
    let request = ResizeDecision { instance_uuid: instance.uuid.clone(), migration_id: id };
    cast_to_host(svc, ctx, &dest.unwrap_or_default(), ComputeRequest::RevertResize(request)).await;
    Ok(())
}

/// `os-migrateLive`: `force` false with a host lets the scheduler validate the host (2.30).
pub async fn live_migrate(
    svc: &ComputeService,
    ctx: &RequestContext,
    instance: &Instance,
    host: Option<&str>,
    block_migration: Option<bool>,
    disk_over_commit: Option<bool>,
    force: Option<bool>,
) -> ApiResult<()> {
    let p = Precondition::new("os-migrateLive", &[vm::ACTIVE, vm::PAUSED]);
    checks::check(ctx, instance, &p)?;
    let node = match host {
        Some(h) => Some(compute_node(svc, h).await?),
        None => None,
    };
    let mut forced_host = host.map(str::to_string);
    if force == Some(false) {
        if let Some((h, n)) = node {
            let mut spec = request_specs::get(&svc.db, &instance.uuid).await?.unwrap_or_default();
            spec.requested_destination = Some(SpecDestination { host: h, node: Some(n) });
            request_specs::save(&svc.db, &instance.uuid, &spec).await?;
            forced_host = None;
        }
    }
    checks::begin(svc, ctx, instance, &p, task::MIGRATING, Changes::new(), Some(names::LIVE_MIGRATION)).await?;
    let request = LiveMigrateInstance { instance_uuid: instance.uuid.clone(), host: forced_host, block_migration, disk_over_commit };
    cast_to_conductor(svc, ctx, ComputeTaskRequest::LiveMigrateInstance(request)).await;
    Ok(())
}

/// What an evacuation asks for.
#[derive(Debug, Clone, Default)]
pub struct Evacuation {
    pub host: Option<String>,
    pub on_shared_storage: Option<bool>,
    pub admin_password: Option<String>,
    pub force: Option<bool>,
    /// 2.95: evacuated servers end STOPPED.
    pub target_state: Option<String>,
}

/// `evacuate`: rebuild elsewhere a server whose host's compute service is down.
pub async fn evacuate(svc: &ComputeService, ctx: &RequestContext, instance: &Instance, e: Evacuation) -> ApiResult<()> {
    let p = Precondition::new("evacuate", &[vm::ACTIVE, vm::STOPPED, vm::ERROR]).task_states(None).lock(false);
    checks::check(ctx, instance, &p)?;
    let source = instance.host.clone().ok_or_else(|| errors::not_ready(&instance.uuid))?;
    if service_group::compute_service_up(&svc.db, &svc.config, &source).await? == Some(true) {
        return Err(ApiError::bad_request(format!("Compute service of {source} is still in use.")));
    }
    let mut host = e.host.clone();
    if let (Some(false), Some(h)) = (e.force, &e.host) {
        let (h, n) = compute_node(svc, h).await?;
        let mut spec = request_specs::get(&svc.db, &instance.uuid).await?.unwrap_or_default();
        spec.requested_destination = Some(SpecDestination { host: h, node: Some(n) });
        request_specs::save(&svc.db, &instance.uuid, &spec).await?;
        host = None;
    }
    instances::update(&svc.db, &instance.uuid, &Changes::new().set("task_state", task::REBUILDING), None).await?;
    record_action(svc, ctx, &instance.uuid, names::EVACUATE).await?;
    record_evacuation(svc, instance, e.host.as_deref()).await?;
    let request = RebuildInstance {
        instance_uuid: instance.uuid.clone(),
        new_pass: e.admin_password,
        image_ref: None,
        orig_image_ref: None,
        injected_files: Vec::new(),
        preserve_ephemeral: false,
        recreate: true,
        on_shared_storage: e.on_shared_storage,
        host,
        target_state: e.target_state,
    };
    cast_to_conductor(svc, ctx, ComputeTaskRequest::RebuildInstance(request)).await;
    Ok(())
}

/// The evacuation's migration record (status `accepted`), the tombstone the source host
/// cleans up when it comes back.
async fn record_evacuation(svc: &ComputeService, instance: &Instance, dest: Option<&str>) -> ApiResult<()> {
    let db = &svc.db;
    let sql = db.sql("INSERT INTO migrations (id, uuid, instance_uuid, source_compute, source_node, dest_compute, status, migration_type, hidden, project_id, user_id, created_at, deleted) VALUES (?, ?, ?, ?, ?, ?, 'accepted', 'evacuation', 0, ?, ?, ?, 0)");
    let now = now_micros();
    crate::db::ids::insert_with_next_id(db, "migrations", |id| {
        let q = sqlx::query(&sql)
            .bind(id)
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(instance.uuid.clone())
            .bind(instance.host.clone())
            .bind(instance.node.clone())
            .bind(dest.map(str::to_string))
            .bind(instance.project_id.clone())
            .bind(instance.user_id.clone())
            .bind(now);
        async move { q.execute(&db.pool).await.map(|_| ()) }
    })
    .await?;
    Ok(())
}
