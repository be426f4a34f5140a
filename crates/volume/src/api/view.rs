//! How volumes and snapshots are shown: Cinder's view builders, field for field, per
//! microversion and per caller (admin-only attributes).

use super::{Microversion, State};
use crate::context::RequestContext;
use crate::db::snapshots::Snapshot;
use crate::db::types::VolumeType;
use crate::db::volumes::Volume;
use monostack_common::time::to_datetime;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Cinder's timestamps: `2026-12-07T10:00:00.000000` (no zone).
pub fn ts(micros: i64) -> String {
    to_datetime(micros)
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

pub fn opt_ts(micros: Option<i64>) -> Value {
    micros.map(|m| json!(ts(m))).unwrap_or(Value::Null)
}

tokio::task_local! {
    /// Whether the request being served named its project in the URL (`/v3/{project_id}/…`);
    /// set around every request by the router, read by the link builders below.
    pub static URL_NAMES_PROJECT: bool;
}

/// `/{project_id}` when the request's URL named the project, else nothing: Cinder's links
/// follow the form of the request (project ids are optional in v3 URLs since 3.67). Outside a
/// request the project is named.
fn project_segment(ctx: &RequestContext) -> String {
    if URL_NAMES_PROJECT.try_with(|named| *named).unwrap_or(true) {
        format!("/{}", ctx.project_id())
    } else {
        String::new()
    }
}

/// The URL of a collection (`volumes/detail`, `types`, …) for its `next` links.
pub fn collection_url(state: &State, ctx: &RequestContext, collection: &str) -> String {
    format!("{}/v3{}/{collection}", state.public_url, project_segment(ctx))
}

/// `self` and `bookmark` links of a resource.
pub fn links(state: &State, ctx: &RequestContext, collection: &str, id: &str) -> Value {
    let project = project_segment(ctx);
    json!([
        {"rel": "self", "href": format!("{}/v3{project}/{collection}/{id}", state.public_url)},
        {"rel": "bookmark", "href": format!("{}{project}/{collection}/{id}", state.public_url)},
    ])
}

/// What a volume's view needs besides the volume.
pub struct VolumeExtras<'a> {
    pub volume_type: Option<&'a VolumeType>,
    pub metadata: &'a BTreeMap<String, String>,
    pub image_metadata: Option<&'a BTreeMap<String, String>>,
    pub attachments: Vec<Value>,
}

fn status_shown(status: &str) -> &str {
    match status {
        "managing" => "creating",
        "error_managing" => "error",
        "error_managing_deleting" => "deleting",
        s => s,
    }
}

/// The summary view (`GET /volumes`).
pub fn volume_summary(state: &State, ctx: &RequestContext, v: &Volume) -> Value {
    json!({"id": v.id, "name": v.display_name, "links": links(state, ctx, "volumes", &v.id)})
}

/// The detailed view (show, `GET /volumes/detail`, create, update).
pub fn volume_detail(
    state: &State,
    ctx: &RequestContext,
    mv: Microversion,
    v: &Volume,
    x: &VolumeExtras,
) -> Value {
    let type_name = x.volume_type.map(|t| t.name.clone());
    let volume_type = if mv.at_least(63) {
        json!(type_name)
    } else {
        json!(type_name.unwrap_or_else(|| v.volume_type_id.clone()))
    };
    let mut m = Map::new();
    let mut put = |k: &str, val: Value| {
        m.insert(k.to_string(), val);
    };
    put("id", json!(v.id));
    put("status", json!(status_shown(&v.status)));
    put("size", json!(v.size));
    put("availability_zone", json!(v.availability_zone));
    put("created_at", json!(ts(v.created_at)));
    put("updated_at", json!(ts(v.updated_at)));
    put("name", json!(v.display_name));
    put("description", json!(v.display_description));
    put("volume_type", volume_type);
    put("snapshot_id", json!(v.snapshot_id));
    put("source_volid", json!(v.source_volid));
    put("metadata", json!(x.metadata));
    put("links", links(state, ctx, "volumes", &v.id));
    put("user_id", json!(v.user_id));
    put("bootable", json!(if v.bootable { "true" } else { "false" }));
    put("encrypted", json!(v.encryption_key_id.is_some()));
    put("replication_status", json!(v.replication_status));
    put("consistencygroup_id", Value::Null);
    put("multiattach", json!(v.multiattach));
    put("attachments", Value::Array(x.attachments.clone()));
    if ctx.is_admin {
        put("migration_status", json!(v.migration_status));
    }
    if mv.at_least(13) {
        put("group_id", json!(v.group_id));
    }
    if ctx.is_admin && mv.at_least(21) {
        put("provider_id", json!(v.provider_id));
    }
    if mv.at_least(48) {
        put("shared_targets", json!(false));
        put("service_uuid", json!(v.service_uuid));
    }
    if ctx.is_admin && mv.at_least(61) {
        put("cluster_name", Value::Null);
    }
    if mv.at_least(63) {
        put("volume_type_id", json!(v.volume_type_id));
    }
    if mv.at_least(64) {
        if let Some(k) = &v.encryption_key_id {
            put("encryption_key_id", json!(k));
        }
    }
    if mv.at_least(65) {
        put("consumes_quota", json!(v.use_quota));
    }
    // Extension attributes, each behind its own policy.
    let target = crate::volume_api::volumes::target(v);
    if state.allowed("volume_extension:volume_host_attribute", &target, ctx) {
        put("os-vol-host-attr:host", json!(v.host));
    }
    if state.allowed("volume_extension:volume_tenant_attribute", &target, ctx) {
        put("os-vol-tenant-attr:tenant_id", json!(v.project_id));
    }
    if state.allowed("volume_extension:volume_mig_status_attribute", &target, ctx) {
        put("os-vol-mig-status-attr:migstat", json!(v.migration_status));
        put("os-vol-mig-status-attr:name_id", Value::Null);
    }
    if let Some(img) = x.image_metadata {
        if !img.is_empty()
            && state.allowed("volume_extension:volume_image_metadata:show", &target, ctx)
        {
            put("volume_image_metadata", json!(img));
        }
    }
    Value::Object(m)
}

/// The snapshot view without the extended attributes (`os-extended-snapshot-attributes:*`):
/// the list without detail, create and update.
pub fn snapshot_summary(
    state: &State,
    ctx: &RequestContext,
    mv: Microversion,
    s: &Snapshot,
    metadata: &BTreeMap<String, String>,
) -> Value {
    let mut view = snapshot_detail(state, ctx, mv, s, metadata);
    if let Some(m) = view.as_object_mut() {
        m.retain(|k, _| !k.starts_with("os-extended-snapshot-attributes:"));
    }
    view
}

/// The snapshot view: show and the detailed list.
pub fn snapshot_detail(
    state: &State,
    ctx: &RequestContext,
    mv: Microversion,
    s: &Snapshot,
    metadata: &BTreeMap<String, String>,
) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(s.id));
    m.insert("created_at".into(), json!(ts(s.created_at)));
    m.insert("updated_at".into(), json!(ts(s.updated_at)));
    m.insert("name".into(), json!(s.display_name));
    m.insert("description".into(), json!(s.display_description));
    m.insert("volume_id".into(), json!(s.volume_id));
    m.insert("status".into(), json!(s.status));
    m.insert("size".into(), json!(s.volume_size));
    m.insert("metadata".into(), json!(metadata));
    if mv.at_least(14) {
        m.insert("group_snapshot_id".into(), json!(s.group_snapshot_id));
    }
    if mv.at_least(41) {
        m.insert("user_id".into(), json!(s.user_id));
    }
    if mv.at_least(65) {
        m.insert("consumes_quota".into(), json!(s.use_quota));
    }
    let target = crate::volume_api::snapshots::target(s);
    if state.allowed(
        "volume_extension:extended_snapshot_attributes",
        &target,
        ctx,
    ) {
        m.insert(
            "os-extended-snapshot-attributes:progress".into(),
            json!(s.progress),
        );
        m.insert(
            "os-extended-snapshot-attributes:project_id".into(),
            json!(s.project_id),
        );
    }
    Value::Object(m)
}
