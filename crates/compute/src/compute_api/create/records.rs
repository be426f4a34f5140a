//! The records of a create, written in one transaction per request: the instances (with
//! their names, hostnames and launch indexes), metadata, system metadata, tags, block device
//! mappings, request specs, network info caches, the `create` actions, and the server group
//! memberships.

use super::super::{actor, ApiResult};
use super::{Created, CreateRequest};
use crate::context::RequestContext;
use crate::db::block_device_mappings::{self as bdm_db, BlockDeviceMapping};
use crate::db::flavor_snapshot::InstanceFlavor;
use crate::db::instance_actions::{self, names};
use crate::db::instance_metadata::{self, Kind};
use crate::db::instances::{self, Instance};
use crate::db::{compute_nodes, info_caches, instance_tags, request_specs, server_groups};
use crate::image_client::ImageMeta;
use crate::request_spec::{RequestSpec, SpecDestination, SpecFlavor, SpecGroup, SpecImage};
use crate::states::{power, task, vm};
use crate::ComputeService;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Everything validated, ready to be written.
pub struct Plan<'a> {
    pub req: &'a CreateRequest,
    pub flavor: &'a InstanceFlavor,
    pub image: Option<&'a ImageMeta>,
    pub image_ref: Option<String>,
    /// (name, public key).
    pub key: Option<(String, String)>,
    pub auto_disk_config: bool,
    pub bdms: Vec<BlockDeviceMapping>,
    pub group: Option<Group>,
}

/// The server group named by the `group` scheduler hint.
#[derive(Debug, Clone)]
pub struct Group {
    pub spec: SpecGroup,
}

/// The group of the `group` hint; 400 when it does not exist.
pub async fn requested_group(svc: &ComputeService, _ctx: &RequestContext, hints: &Map<String, Value>) -> ApiResult<Option<Group>> {
    let uuid = match hints.get("group") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => match items.first().and_then(Value::as_str) {
            Some(s) => s.to_string(),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    let Some(group) = server_groups::get(&svc.db, &uuid).await? else {
        return Err(ApiError::bad_request(format!("Instance group {uuid} could not be found.")));
    };
    let members = instances::get_many(&svc.db, &group.members).await?;
    let mut hosts: Vec<String> = Vec::new();
    for host in members.iter().filter_map(|i| i.host.clone()) {
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    let max_server_per_host = group.rules.get("max_server_per_host").and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())));
    let spec = SpecGroup {
        uuid: group.uuid,
        policy: group.policy,
        max_server_per_host: max_server_per_host.and_then(|n| u32::try_from(n).ok()),
        hosts,
        members: members.into_iter().map(|i| i.uuid).collect(),
    };
    Ok(Some(Group { spec }))
}

/// 2.74: a requested host or node must exist ("Compute host X could not be found.").
pub async fn check_requested_destination(svc: &ComputeService, req: &CreateRequest) -> ApiResult<()> {
    let db = &svc.db;
    let found = match (&req.requested_host, &req.requested_node) {
        (Some(host), Some(node)) => compute_nodes::by_host_and_node(db, host, node).await?.is_some(),
        (Some(host), None) => !compute_nodes::by_host(db, host).await?.is_empty(),
        (None, Some(node)) => compute_nodes::list(db).await?.iter().any(|n| &n.hypervisor_hostname == node),
        (None, None) => true,
    };
    if !found {
        let name = req.requested_host.as_ref().or(req.requested_node.as_ref()).cloned().unwrap_or_default();
        return Err(ApiError::bad_request(format!("Compute host {name} could not be found.")));
    }
    Ok(())
}

/// Nova's `sanitize_hostname`: latin-1 only, at most 63 characters, `[ _.]` as `-`, other
/// punctuation dropped, lower case, no leading or trailing `.`/`-`.
pub fn sanitize_hostname(name: &str) -> String {
    let latin1: String = name.chars().filter(|c| u32::from(*c) <= 0xff).take(63).collect();
    let dashed: String = latin1.chars().map(|c| if matches!(c, ' ' | '_' | '.') { '-' } else { c }).collect();
    let kept: String = dashed.chars().filter(|c| c.is_alphanumeric() || matches!(c, '-' | '.')).collect();
    kept.to_lowercase().trim_matches(|c| c == '.' || c == '-').to_string()
}

/// Nova's `_populate_instance_names`: (display name, hostname) of instance `index` of `count`.
fn names_of(req: &CreateRequest, uuid: &str, index: u32, count: u32) -> (String, String) {
    let hostname = match &req.hostname {
        Some(h) => h.clone(),
        None => {
            let base = sanitize_hostname(&req.name);
            if base.is_empty() {
                format!("Server-{uuid}")
            } else if count > 1 {
                format!("{base}-{}", index + 1)
            } else {
                base
            }
        }
    };
    let display = if count > 1 { format!("{}-{}", req.name, index + 1) } else { req.name.clone() };
    (display, hostname)
}

/// The scheduler hints as lists of strings (objects such as `query` kept as JSON text);
/// Nova drops hints starting with `_nova`.
fn hints(raw: &Map<String, Value>) -> BTreeMap<String, Vec<String>> {
    let text = |v: &Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    raw.iter()
        .filter(|(k, _)| !k.starts_with("_nova"))
        .map(|(k, v)| {
            let values = match v {
                Value::Array(items) => items.iter().map(text).collect(),
                other => vec![text(other)],
            };
            (k.clone(), values)
        })
        .collect()
}

fn spec_image(image: Option<&ImageMeta>) -> SpecImage {
    match image {
        Some(i) => SpecImage {
            id: Some(i.id.clone()),
            properties: i.properties.clone(),
            name: i.name.clone(),
            min_ram: i.min_ram,
            min_disk: i.min_disk,
            size: i.size,
            disk_format: i.disk_format.clone(),
            container_format: i.container_format.clone(),
        },
        None => SpecImage::default(),
    }
}

fn request_spec(plan: &Plan<'_>, ctx: &RequestContext, uuids: &[String], uuid: &str) -> RequestSpec {
    let req = plan.req;
    let mut group = plan.group.as_ref().map(|g| g.spec.clone());
    if let Some(g) = group.as_mut() {
        g.members.extend(uuids.iter().cloned());
    }
    RequestSpec {
        instance_uuids: uuids.to_vec(),
        num_instances: u32::try_from(uuids.len()).unwrap_or(u32::MAX),
        instance_uuid: Some(uuid.to_string()),
        project_id: ctx.project_id().to_string(),
        user_id: ctx.user_id().to_string(),
        flavor: SpecFlavor::from_instance_flavor(plan.flavor),
        image: spec_image(plan.image),
        boot_from_volume: plan.bdms.iter().any(BlockDeviceMapping::is_volume_root),
        availability_zone: req.availability_zone.clone(),
        force_hosts: req.forced_host.iter().cloned().collect(),
        force_nodes: req.forced_node.iter().cloned().collect(),
        requested_destination: req.requested_host.clone().or(req.requested_node.clone()).map(|_| SpecDestination {
            host: req.requested_host.clone().unwrap_or_default(),
            node: req.requested_node.clone(),
        }),
        scheduler_hints: hints(&req.scheduler_hints),
        instance_group: group,
        security_groups: if req.security_groups.is_empty() { vec!["default".into()] } else { req.security_groups.clone() },
        requested_networks: req.networks.requests(),
        ..RequestSpec::default()
    }
}

/// Nova's image properties in system metadata (`image_<property>`), plus the owner's names.
fn system_metadata(plan: &Plan<'_>, ctx: &RequestContext) -> BTreeMap<String, String> {
    let mut sys = BTreeMap::new();
    if let Some(image) = plan.image {
        for (k, v) in &image.properties {
            sys.insert(format!("image_{k}"), v.clone());
        }
        sys.insert("image_min_ram".into(), image.min_ram.to_string());
        sys.insert("image_min_disk".into(), image.min_disk.max(plan.flavor.root_gb).to_string());
        if let Some(f) = &image.disk_format {
            sys.insert("image_disk_format".into(), f.clone());
        }
        if let Some(f) = &image.container_format {
            sys.insert("image_container_format".into(), f.clone());
        }
    }
    sys.insert("image_base_image_ref".into(), plan.image_ref.clone().unwrap_or_default());
    sys.insert("owner_user_name".into(), ctx.auth.user_name.clone());
    sys.insert("owner_project_name".into(), ctx.auth.project_name.clone().unwrap_or_default());
    sys
}

fn new_instance(plan: &Plan<'_>, ctx: &RequestContext, uuid: &str, id: i64, index: u32, count: u32, reservation_id: &str) -> Instance {
    let req = plan.req;
    let (display_name, hostname) = names_of(req, uuid, index, count);
    let now = now_micros();
    let root_device = plan.bdms.iter().find(|b| b.boot_index == Some(0)).and_then(|b| b.device_name.clone());
    Instance {
        uuid: uuid.to_string(),
        id,
        display_name: Some(display_name),
        display_description: req.description.clone(),
        hostname: Some(hostname),
        project_id: ctx.project_id().to_string(),
        user_id: ctx.user_id().to_string(),
        image_ref: plan.image_ref.clone(),
        flavor: plan.flavor.clone(),
        old_flavor: None,
        new_flavor: None,
        vm_state: vm::BUILDING.into(),
        task_state: Some(task::SCHEDULING.into()),
        power_state: power::NOSTATE,
        host: None,
        node: None,
        launched_on: None,
        availability_zone: req.availability_zone.clone(),
        key_name: plan.key.as_ref().map(|k| k.0.clone()),
        key_data: plan.key.as_ref().map(|k| k.1.clone()),
        user_data: req.user_data.clone(),
        config_drive: Some(if req.config_drive { "True".into() } else { String::new() }),
        locked: false,
        locked_by: None,
        locked_reason: None,
        access_ip_v4: req.access_ip_v4.clone(),
        access_ip_v6: req.access_ip_v6.clone(),
        progress: Some(0),
        launch_index: Some(i64::from(index)),
        reservation_id: Some(reservation_id.to_string()),
        root_device_name: Some(format!("/dev/{}", strip(root_device.as_deref().unwrap_or("vda")))),
        auto_disk_config: plan.auto_disk_config,
        trusted_certs: req.trusted_certs.clone(),
        created_at: now,
        updated_at: Some(now),
        launched_at: None,
        terminated_at: None,
        deleted: false,
        deleted_at: None,
    }
}

fn strip(name: &str) -> &str {
    name.strip_prefix("/dev/").unwrap_or(name)
}

/// Nova's reservation ids: `r-` and 8 random characters.
fn reservation_id() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..8).map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())])).collect();
    format!("r-{tail}")
}

/// Writes `count` instances; retried when a concurrent create took the same integer ids.
pub async fn insert(svc: &ComputeService, ctx: &RequestContext, plan: &Plan<'_>, count: u32) -> ApiResult<Created> {
    let created = insert_instances(svc, ctx, plan, count).await?;
    if let Some(group) = &plan.group {
        let uuids: Vec<String> = created.instances.iter().map(|i| i.uuid.clone()).collect();
        if let Err(e) = server_groups::add_members(svc, &group.spec.uuid, &uuids, ctx.project_id(), ctx.user_id()).await {
            // Nova's `_cleanup_build_artifacts`: servers that cannot join their group go.
            for uuid in &uuids {
                instances::destroy(&svc.db, uuid).await?;
            }
            return Err(e);
        }
    }
    Ok(created)
}

async fn insert_instances(svc: &ComputeService, ctx: &RequestContext, plan: &Plan<'_>, count: u32) -> ApiResult<Created> {
    let reservation_id = reservation_id();
    let uuids: Vec<String> = (0..count).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let mut last = None;
    for _ in 0..5 {
        match insert_once(svc, ctx, plan, &uuids, &reservation_id).await {
            Ok(instances) => return Ok(Created { instances, reservation_id }),
            // A unique violation: a concurrent create took the same integer ids.
            Err(e) if e.status == http::StatusCode::CONFLICT => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| ApiError::internal("instance ids kept colliding")))
}

async fn insert_once(svc: &ComputeService, ctx: &RequestContext, plan: &Plan<'_>, uuids: &[String], reservation_id: &str) -> ApiResult<Vec<Instance>> {
    let db = &svc.db;
    let count = u32::try_from(uuids.len()).unwrap_or(u32::MAX);
    let sys = system_metadata(plan, ctx);
    let mut tx = db.begin_write().await?;
    let mut created = Vec::new();
    let first_id = crate::db::next_id(db, &mut *tx, "instances").await?;
    for (index, uuid) in (0_u32..).zip(uuids) {
        let instance = new_instance(plan, ctx, uuid, first_id + i64::from(index), index, count, reservation_id);
        let bdms: Vec<BlockDeviceMapping> = plan
            .bdms
            .iter()
            .map(|b| BlockDeviceMapping { uuid: uuid::Uuid::new_v4().to_string(), instance_uuid: uuid.clone(), ..b.clone() })
            .collect();
        write_one(svc, ctx, &mut tx, plan, &instance, &sys, &bdms, &request_spec(plan, ctx, uuids, uuid)).await?;
        created.push(instance);
    }
    tx.commit().await?;
    Ok(created)
}

#[allow(clippy::too_many_arguments)]
async fn write_one(
    svc: &ComputeService,
    ctx: &RequestContext,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    plan: &Plan<'_>,
    instance: &Instance,
    sys: &BTreeMap<String, String>,
    bdms: &[BlockDeviceMapping],
    spec: &RequestSpec,
) -> ApiResult<()> {
    let db = &svc.db;
    instances::insert(db, tx, instance).await?;
    instance_metadata::insert_all(db, tx, Kind::User, &instance.uuid, &plan.req.metadata).await?;
    instance_metadata::insert_all(db, tx, Kind::System, &instance.uuid, sys).await?;
    instance_tags::insert_all(db, tx, &instance.uuid, &plan.req.tags).await?;
    bdm_db::insert_all(db, tx, bdms).await?;
    request_specs::insert(db, tx, &instance.uuid, spec).await?;
    info_caches::insert_empty(db, tx, &instance.uuid).await?;
    instance_actions::action_start_in(db, tx, &instance.uuid, names::CREATE, actor(ctx)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::sanitize_hostname;

    #[test]
    fn hostnames_are_sanitized_as_nova_does() {
        assert_eq!(sanitize_hostname("My Server_1.example"), "my-server-1-example");
        assert_eq!(sanitize_hostname("--web!!--"), "web");
        assert_eq!(sanitize_hostname("日本"), "");
        assert_eq!(sanitize_hostname(&"a".repeat(80)).len(), 63);
    }
}
