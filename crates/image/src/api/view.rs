//! Images and members as the API shows them.

use crate::db::{ImageRecord, Member};
use monostack_common::time::iso_seconds;
use serde_json::{json, Map, Value};

/// An image body: core attributes, custom properties at the top level, and links.
pub fn image(img: &ImageRecord) -> Value {
    let mut body = Map::new();
    for (k, v) in &img.properties {
        body.insert(k.clone(), Value::String(v.clone()));
    }
    let core = json!({
        "id": img.id,
        "name": img.name,
        "status": img.status,
        "visibility": img.visibility,
        "protected": img.protected,
        "os_hidden": img.os_hidden,
        "owner": img.owner,
        "checksum": img.checksum,
        "os_hash_algo": img.os_hash_algo,
        "os_hash_value": img.os_hash_value,
        "size": img.size,
        "virtual_size": img.virtual_size,
        "min_disk": img.min_disk,
        "min_ram": img.min_ram,
        "disk_format": img.disk_format,
        "container_format": img.container_format,
        "tags": img.tags.iter().collect::<Vec<_>>(),
        "created_at": iso_seconds(img.created_at),
        "updated_at": iso_seconds(img.updated_at),
        "self": format!("/v2/images/{}", img.id),
        "file": format!("/v2/images/{}/file", img.id),
        "schema": "/v2/schemas/image",
    });
    if let Value::Object(core) = core {
        body.extend(core);
    }
    if let Some(stores) = &img.stores {
        body.insert("stores".into(), json!(stores));
    }
    Value::Object(body)
}

pub fn member(m: &Member) -> Value {
    json!({
        "image_id": m.image_id,
        "member_id": m.member,
        "status": m.status,
        "created_at": iso_seconds(m.created_at),
        "updated_at": iso_seconds(m.updated_at),
        "schema": "/v2/schemas/member",
    })
}

pub fn task(t: &crate::db::tasks::Task) -> Value {
    json!({
        "id": t.id,
        "type": t.task_type,
        "status": t.status,
        "owner": t.owner,
        "image_id": t.image_id,
        "user_id": t.user_id,
        "request_id": t.request_id,
        "input": t.input,
        "result": if t.result.is_empty() { Value::Null } else { Value::Object(t.result.clone()) },
        "message": t.message,
        "created_at": iso_seconds(t.created_at),
        "updated_at": iso_seconds(t.updated_at),
        "expires_at": t.expires_at.map(iso_seconds),
        "self": format!("/v2/tasks/{}", t.id),
        "schema": "/v2/schemas/task",
    })
}
