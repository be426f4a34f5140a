//! A server as the API shows it, attribute by attribute as Nova's view builder adds them per
//! microversion and policy. The related rows of a whole page are loaded in one go
//! ([`Related::load`]).

use super::super::view::{links, opt_timestamp};
use super::super::{Microversion, State};
use crate::compute_api::service_group;
use crate::compute_api::zones;
use crate::context::RequestContext;
use crate::db::block_device_mappings::{self as bdm_db, BlockDeviceMapping};
use crate::db::instance_faults::{self, InstanceFault};
use crate::db::instance_metadata::{self, Kind};
use crate::db::instances::Instance;
use crate::db::{info_caches, instance_tags, request_specs};
use crate::states;
use monostack_common::time::iso_seconds;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha224};
use std::collections::{BTreeMap, HashMap};

/// Which optional parts a view shows (Nova's `show()` flags).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub mv: Microversion,
    /// AZ, config drive, usage times, extended status and volumes, extended addresses.
    pub full: bool,
    pub keypair: bool,
    /// `OS-EXT-SRV-ATTR:*` (admin by policy).
    pub extended_attr: bool,
    /// `host_status` (2.16): None hides it, Some(true) shows only UNKNOWN.
    pub host_status: Option<bool>,
    /// `server_groups` (2.71; shown by show, update and rebuild).
    pub server_groups: bool,
    /// `OS-EXT-SRV-ATTR:user_data` (not in rebuild answers, which add it themselves).
    pub user_data: bool,
    /// The flavor's extra specs (2.47, by policy).
    pub extra_specs: bool,
    /// Fault details of 500 faults are for admins.
    pub is_admin: bool,
}

impl Options {
    /// The flags of `GET /servers/{id}` and `/servers/detail`, decided by policy for `ctx`.
    pub fn detailed(state: &State, ctx: &RequestContext, mv: Microversion, project_id: Option<&str>) -> Options {
        let target = json!({"project_id": project_id.unwrap_or(ctx.project_id())});
        let can = |rule: &str| state.policy.enforce(rule, &target, ctx.auth.policy_creds());
        let host_status = if !mv.at_least(16) {
            None
        } else if can("os_compute_api:servers:show:host_status") {
            Some(false)
        } else if can("os_compute_api:servers:show:host_status:unknown-only") {
            Some(true)
        } else {
            None
        };
        Options {
            mv,
            full: true,
            keypair: true,
            extended_attr: can("os_compute_api:os-extended-server-attributes"),
            host_status,
            server_groups: false,
            user_data: true,
            extra_specs: mv.at_least(47) && can("os_compute_api:servers:show:flavor-extra-specs"),
            is_admin: ctx.is_admin,
        }
    }

    /// The flags of update and rebuild answers: everything from 2.75, a reduced view before.
    pub fn after_change(state: &State, ctx: &RequestContext, mv: Microversion, project_id: &str) -> Options {
        let mut o = Options::detailed(state, ctx, mv, Some(project_id));
        o.server_groups = mv.at_least(71);
        if !mv.at_least(75) {
            o.full = false;
            o.extended_attr = false;
            o.host_status = None;
            o.keypair = false;
        }
        o
    }
}

/// The rows related to the instances of one answer.
#[derive(Debug, Default)]
pub struct Related {
    metadata: HashMap<String, BTreeMap<String, String>>,
    tags: HashMap<String, Vec<String>>,
    bdms: HashMap<String, Vec<BlockDeviceMapping>>,
    faults: HashMap<String, InstanceFault>,
    caches: HashMap<String, Value>,
    pinned_zones: HashMap<String, Option<String>>,
    groups: HashMap<String, String>,
    host_status: HashMap<String, String>,
    zones: HashMap<String, String>,
}

impl Related {
    pub async fn load(state: &State, instances: &[Instance], opts: &Options) -> Result<Related, ApiError> {
        let db = &state.db;
        let uuids: Vec<String> = instances.iter().map(|i| i.uuid.clone()).collect();
        let mut r = Related {
            metadata: instance_metadata::get_many(db, Kind::User, &uuids).await?,
            faults: instance_faults::latest_many(db, &uuids).await?,
            caches: info_caches::get_many(db, &uuids).await?,
            ..Related::default()
        };
        if opts.mv.at_least(26) {
            r.tags = instance_tags::list_many(db, &uuids).await?;
        }
        if opts.full {
            r.bdms = bdm_db::list_many(db, &uuids).await?;
        }
        if opts.full && opts.mv.at_least(96) {
            let specs = request_specs::get_many(db, &uuids).await?;
            r.pinned_zones = specs.into_iter().map(|(k, s)| (k, s.availability_zone)).collect();
        }
        if opts.server_groups {
            r.groups = group_of(state, &uuids).await?;
        }
        for host in instances.iter().filter_map(|i| i.host.clone()) {
            if opts.full && !r.zones.contains_key(&host) {
                r.zones.insert(host.clone(), zones::host_zone(db, &state.config, &host).await?);
            }
            if opts.host_status.is_some() && !r.host_status.contains_key(&host) {
                r.host_status.insert(host.clone(), service_group::host_status(db, &state.config, Some(&host)).await?);
            }
        }
        Ok(r)
    }
}

async fn group_of(state: &State, uuids: &[String]) -> Result<HashMap<String, String>, ApiError> {
    let mut out = HashMap::new();
    for uuid in uuids {
        if let Some(group) = crate::db::server_groups::of_instance(&state.db, uuid).await? {
            out.insert(uuid.clone(), group.uuid);
        }
    }
    Ok(out)
}

/// Nova's hostId: sha224 of project id and host, "" without a host.
pub fn host_id(project_id: &str, host: Option<&str>) -> String {
    match host {
        Some(h) if !h.is_empty() => format!("{:x}", Sha224::digest(format!("{project_id}{h}").as_bytes())),
        _ => String::new(),
    }
}

/// `addresses` from the cached network info: per network label, fixed then floating IPs.
pub fn addresses(network_info: Option<&Value>, extended: bool) -> Value {
    let mut out = Map::new();
    for vif in network_info.and_then(Value::as_array).into_iter().flatten() {
        let label = vif.pointer("/network/label").and_then(Value::as_str).unwrap_or_default().to_string();
        let mac = vif.get("address").cloned().unwrap_or(Value::Null);
        let entry = out.entry(label).or_insert_with(|| json!([]));
        let mut fixed = Vec::new();
        let mut floating = Vec::new();
        for subnet in vif.pointer("/network/subnets").and_then(Value::as_array).into_iter().flatten() {
            for ip in subnet.get("ips").and_then(Value::as_array).into_iter().flatten() {
                fixed.push(ip.clone());
                floating.extend(ip.get("floating_ips").and_then(Value::as_array).cloned().unwrap_or_default());
            }
        }
        for (ip, kind) in fixed.iter().map(|i| (i, "fixed")).chain(floating.iter().map(|i| (i, "floating"))) {
            let addr = ip.get("address").cloned().unwrap_or(Value::Null);
            let version = ip.get("version").cloned().unwrap_or_else(|| json!(if addr.as_str().is_some_and(|a| a.contains(':')) { 6 } else { 4 }));
            let mut a = json!({"version": version, "addr": addr});
            if extended {
                a["OS-EXT-IPS:type"] = json!(ip.get("type").and_then(Value::as_str).unwrap_or(kind));
                a["OS-EXT-IPS-MAC:mac_addr"] = mac.clone();
            }
            if let Some(list) = entry.as_array_mut() {
                list.push(a);
            }
        }
    }
    Value::Object(out)
}

/// The names of the security groups on the server's ports (from the network info cache, which
/// records them per VIF), each once.
pub fn security_groups(network_info: Option<&Value>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for vif in network_info.and_then(Value::as_array).into_iter().flatten() {
        for g in vif.pointer("/meta/security_groups").and_then(Value::as_array).into_iter().flatten() {
            if let Some(name) = g.get("name").and_then(Value::as_str) {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
            }
        }
    }
    names
}

fn flavor(state: &State, i: &Instance, opts: &Options) -> Value {
    let f = &i.flavor;
    if opts.mv.at_least(47) {
        let mut v = json!({"vcpus": f.vcpus, "ram": f.memory_mb, "disk": f.root_gb, "ephemeral": f.ephemeral_gb, "swap": f.swap, "original_name": f.name});
        if opts.extra_specs {
            v["extra_specs"] = json!(f.extra_specs);
        }
        return v;
    }
    json!({"id": f.flavorid, "links": [{"rel": "bookmark", "href": format!("{}/flavors/{}", state.public_url, f.flavorid)}]})
}

fn image(state: &State, i: &Instance) -> Value {
    match i.image_ref.as_deref().filter(|r| !r.is_empty()) {
        Some(id) => json!({"id": id, "links": [{"rel": "bookmark", "href": format!("{}/images/{id}", state.public_url)}]}),
        None => json!(""),
    }
}

fn fault(i: &Instance, related: &Related, is_admin: bool) -> Option<Value> {
    let f = related.faults.get(&i.uuid)?;
    let mut v = json!({"code": f.code, "created": iso_seconds(f.created_at), "message": f.message});
    if let Some(details) = f.details.as_ref().filter(|d| !d.is_empty()) {
        if is_admin || f.code != 500 {
            v["details"] = json!(details);
        }
    }
    Some(v)
}

fn volumes_attached(i: &Instance, related: &Related, mv: Microversion) -> Value {
    let list: Vec<Value> = related
        .bdms
        .get(&i.uuid)
        .into_iter()
        .flatten()
        .filter_map(|b| {
            let id = b.volume_id.as_ref()?;
            Some(if mv.at_least(3) { json!({"id": id, "delete_on_termination": b.delete_on_termination}) } else { json!({"id": id}) })
        })
        .collect();
    Value::Array(list)
}

/// The availability zone shown for an instance: its host's, else the one it asked for.
fn zone(i: &Instance, related: &Related) -> String {
    match &i.host {
        Some(h) => related.zones.get(h).cloned().unwrap_or_default(),
        None => i.availability_zone.clone().unwrap_or_default(),
    }
}

fn extended_attributes(s: &mut Map<String, Value>, i: &Instance, opts: &Options) {
    s.insert("OS-EXT-SRV-ATTR:host".into(), json!(i.host));
    s.insert("OS-EXT-SRV-ATTR:instance_name".into(), json!(i.name()));
    s.insert("OS-EXT-SRV-ATTR:hypervisor_hostname".into(), json!(i.node));
    if opts.mv.at_least(3) {
        s.insert("OS-EXT-SRV-ATTR:hostname".into(), json!(i.hostname));
        s.insert("OS-EXT-SRV-ATTR:kernel_id".into(), json!(""));
        s.insert("OS-EXT-SRV-ATTR:launch_index".into(), json!(i.launch_index));
        s.insert("OS-EXT-SRV-ATTR:ramdisk_id".into(), json!(""));
        s.insert("OS-EXT-SRV-ATTR:reservation_id".into(), json!(i.reservation_id));
        s.insert("OS-EXT-SRV-ATTR:root_device_name".into(), json!(i.root_device_name));
        if opts.user_data {
            s.insert("OS-EXT-SRV-ATTR:user_data".into(), json!(i.user_data));
        }
    }
}

fn full_attributes(s: &mut Map<String, Value>, i: &Instance, related: &Related, opts: &Options) {
    s.insert("OS-EXT-AZ:availability_zone".into(), json!(zone(i, related)));
    s.insert("config_drive".into(), json!(i.config_drive.clone().unwrap_or_default()));
    s.insert("OS-SRV-USG:launched_at".into(), opt_timestamp(i.launched_at));
    s.insert("OS-SRV-USG:terminated_at".into(), opt_timestamp(i.terminated_at));
    s.insert("OS-EXT-STS:task_state".into(), json!(i.task_state));
    s.insert("OS-EXT-STS:vm_state".into(), json!(i.vm_state));
    s.insert("OS-EXT-STS:power_state".into(), json!(i.power_state));
    s.insert("os-extended-volumes:volumes_attached".into(), volumes_attached(i, related, opts.mv));
}

fn versioned_attributes(s: &mut Map<String, Value>, i: &Instance, related: &Related, opts: &Options) {
    let mv = opts.mv;
    if mv.at_least(9) {
        s.insert("locked".into(), json!(i.locked_by.is_some() || i.locked));
    }
    if let (Some(unknown_only), true) = (opts.host_status, mv.at_least(16)) {
        let status = i.host.as_ref().and_then(|h| related.host_status.get(h)).cloned().unwrap_or_default();
        if !unknown_only || status == "UNKNOWN" {
            s.insert("host_status".into(), json!(status));
        }
    }
    if mv.at_least(19) {
        s.insert("description".into(), json!(i.display_description));
    }
    if mv.at_least(26) {
        s.insert("tags".into(), json!(related.tags.get(&i.uuid).cloned().unwrap_or_default()));
    }
    if mv.at_least(63) {
        s.insert("trusted_image_certificates".into(), json!(i.trusted_certs));
    }
    if opts.server_groups {
        s.insert("server_groups".into(), json!(related.groups.get(&i.uuid).into_iter().collect::<Vec<_>>()));
    }
    if mv.at_least(73) {
        s.insert("locked_reason".into(), json!(i.locked_reason));
    }
    if mv.at_least(90) && !opts.extended_attr {
        s.insert("OS-EXT-SRV-ATTR:hostname".into(), json!(i.hostname));
    }
    if opts.full && mv.at_least(96) {
        s.insert("pinned_availability_zone".into(), json!(related.pinned_zones.get(&i.uuid).cloned().flatten()));
    }
}

/// The detailed view of one server.
pub fn show(state: &State, i: &Instance, related: &Related, opts: &Options) -> Value {
    let status = if i.deleted { "DELETED" } else { states::status(&i.vm_state, i.task_state.as_deref()) };
    let building = i.vm_state == states::vm::BUILDING;
    let network_info = if building { None } else { related.caches.get(&i.uuid) };
    let mut s = Map::new();
    s.insert("accessIPv4".into(), json!(i.access_ip_v4.clone().unwrap_or_default()));
    s.insert("accessIPv6".into(), json!(i.access_ip_v6.clone().unwrap_or_default()));
    s.insert("addresses".into(), addresses(network_info, opts.full));
    s.insert("created".into(), json!(iso_seconds(i.created_at)));
    s.insert("flavor".into(), flavor(state, i, opts));
    s.insert("hostId".into(), json!(host_id(&i.project_id, i.host.as_deref())));
    s.insert("id".into(), json!(i.uuid));
    s.insert("image".into(), image(state, i));
    s.insert("links".into(), links(state, "servers", &i.uuid));
    s.insert("metadata".into(), json!(related.metadata.get(&i.uuid).cloned().unwrap_or_default()));
    s.insert("name".into(), json!(i.display_name));
    s.insert("status".into(), json!(status));
    s.insert("tenant_id".into(), json!(i.project_id));
    s.insert("user_id".into(), json!(i.user_id));
    s.insert("updated".into(), json!(iso_seconds(i.updated_at.unwrap_or(i.created_at))));
    s.insert("OS-DCF:diskConfig".into(), json!(if i.auto_disk_config { "AUTO" } else { "MANUAL" }));
    if ["ERROR", "DELETED"].contains(&status) {
        if let Some(f) = fault(i, related, opts.is_admin) {
            s.insert("fault".into(), f);
        }
    }
    if ["ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"].contains(&status) {
        s.insert("progress".into(), json!(i.progress.unwrap_or(0)));
    }
    if opts.full {
        full_attributes(&mut s, i, related, opts);
        let groups = security_groups(related.caches.get(&i.uuid));
        if !groups.is_empty() {
            s.insert("security_groups".into(), json!(groups.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()));
        }
    }
    if opts.keypair {
        s.insert("key_name".into(), json!(i.key_name));
    }
    if opts.extended_attr {
        extended_attributes(&mut s, i, opts);
    }
    versioned_attributes(&mut s, i, related, opts);
    Value::Object(s)
}

/// The short view of a listing.
pub fn basic(state: &State, i: &Instance) -> Value {
    json!({"id": i.uuid, "name": i.display_name, "links": links(state, "servers", &i.uuid)})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_id_is_nova_sha224() {
        assert_eq!(host_id("p", None), "");
        assert_eq!(host_id("p", Some("h")).len(), 56);
        assert_ne!(host_id("p1", Some("h")), host_id("p2", Some("h")));
    }

    #[test]
    fn addresses_group_fixed_and_floating_by_label() {
        let info = json!([{"address": "fa:16:3e:00:00:01", "network": {"label": "private", "subnets": [
            {"ips": [{"address": "10.0.0.5", "type": "fixed", "version": 4,
                      "floating_ips": [{"address": "172.24.4.9", "type": "floating", "version": 4}]}]}]}}]);
        let a = addresses(Some(&info), true);
        assert_eq!(a["private"][0]["addr"], "10.0.0.5");
        assert_eq!(a["private"][1]["OS-EXT-IPS:type"], "floating");
        assert_eq!(a["private"][1]["OS-EXT-IPS-MAC:mac_addr"], "fa:16:3e:00:00:01");
        assert!(addresses(Some(&info), false)["private"][0].get("OS-EXT-IPS:type").is_none());
    }
}
