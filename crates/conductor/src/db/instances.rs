//! Instance reads the compute database module does not offer: instances by host, and the
//! agent's view of an instance (with its metadata).

use crate::agent_api::records::{InstanceField, InstanceRecord};
use monostack_common::ApiError;
use monostack_compute::db::instance_metadata::{self, Kind};
use monostack_compute::db::instances::{self, Changes, Instance};
use monostack_db::Database;
use std::collections::BTreeMap;

/// The live instances whose host is `host`.
pub async fn on_host(db: &Database, host: &str) -> Result<Vec<Instance>, ApiError> {
    let sql = format!("SELECT {} FROM instances WHERE host = ? AND deleted = 0 ORDER BY id", instances::COLUMNS);
    sqlx::query(&db.sql(&sql)).bind(host.to_string()).fetch_all(&db.pool).await?.iter().map(instances::from_row).collect()
}

/// The live instances on one node of `host`, by id.
pub async fn on_node(db: &Database, host: &str, node: &str) -> Result<Vec<Instance>, ApiError> {
    let sql = format!("SELECT {} FROM instances WHERE host = ? AND node = ? AND deleted = 0 ORDER BY id", instances::COLUMNS);
    sqlx::query(&db.sql(&sql)).bind(host.to_string()).bind(node.to_string()).fetch_all(&db.pool).await?.iter().map(instances::from_row).collect()
}

/// The agent's view of `instance`, with its user and system metadata.
pub async fn record(db: &Database, instance: &Instance) -> Result<InstanceRecord, ApiError> {
    let metadata = instance_metadata::get(db, Kind::User, &instance.uuid).await?;
    let system_metadata = instance_metadata::get(db, Kind::System, &instance.uuid).await?;
    Ok(record_with(instance, metadata, system_metadata))
}

/// Many instances' views, with two metadata queries in all.
pub async fn records(db: &Database, list: &[Instance]) -> Result<Vec<InstanceRecord>, ApiError> {
    let uuids: Vec<String> = list.iter().map(|i| i.uuid.clone()).collect();
    let mut user = instance_metadata::get_many(db, Kind::User, &uuids).await?;
    let mut system = instance_metadata::get_many(db, Kind::System, &uuids).await?;
    Ok(list.iter().map(|i| record_with(i, user.remove(&i.uuid).unwrap_or_default(), system.remove(&i.uuid).unwrap_or_default())).collect())
}

fn record_with(i: &Instance, metadata: BTreeMap<String, String>, system_metadata: BTreeMap<String, String>) -> InstanceRecord {
    InstanceRecord {
        uuid: i.uuid.clone(),
        id: i.id,
        display_name: i.display_name.clone(),
        hostname: i.hostname.clone(),
        project_id: i.project_id.clone(),
        user_id: i.user_id.clone(),
        image_ref: i.image_ref.clone(),
        flavor: i.flavor.clone(),
        old_flavor: i.old_flavor.clone(),
        new_flavor: i.new_flavor.clone(),
        vm_state: i.vm_state.clone(),
        task_state: i.task_state.clone(),
        power_state: i.power_state,
        host: i.host.clone(),
        node: i.node.clone(),
        launched_on: i.launched_on.clone(),
        availability_zone: i.availability_zone.clone(),
        key_data: i.key_data.clone(),
        user_data: i.user_data.clone(),
        launched_at: i.launched_at,
        terminated_at: i.terminated_at,
        updated_at: i.updated_at,
        deleted: i.deleted,
        metadata,
        system_metadata,
    }
}

/// The database changes of an agent's field updates.
pub fn changes_of(fields: &[InstanceField]) -> Result<Changes, ApiError> {
    let mut changes = Changes::new();
    for field in fields {
        changes = match field {
            InstanceField::VmState(v) => changes.set("vm_state", v.clone()),
            InstanceField::TaskState(v) => changes.set("task_state", v.clone()),
            InstanceField::PowerState(v) => changes.set("power_state", *v),
            InstanceField::Host(v) => changes.set("host", v.clone()),
            InstanceField::Node(v) => changes.set("node", v.clone()),
            InstanceField::LaunchedOn(v) => changes.set("launched_on", v.clone()),
            InstanceField::LaunchedAt(v) => changes.set("launched_at", *v),
            InstanceField::TerminatedAt(v) => changes.set("terminated_at", *v),
            InstanceField::Progress(v) => changes.set("progress", *v),
            InstanceField::ImageRef(v) => changes.set("image_ref", v.clone()),
            InstanceField::AvailabilityZone(v) => changes.set("availability_zone", v.clone()),
            InstanceField::Flavor(f) => changes.set_flavor("flavor", Some(f))?.set("instance_type_id", f.id),
            InstanceField::OldFlavor(f) => changes.set_flavor("old_flavor", f.as_ref())?,
            InstanceField::NewFlavor(f) => changes.set_flavor("new_flavor", f.as_ref())?,
        };
    }
    Ok(changes)
}
