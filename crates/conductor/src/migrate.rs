//! Cold migration and resize (Nova's `migrate_server` with `live=False`, its MigrationTask):
//! a migration record, the source allocations moved to it, the destination scheduled with the
//! new flavor and claimed for the instance, then `prep_resize` cast to the destination. A
//! destination that refuses ([`Conductor::resize_failed`]) is replaced by the next alternate;
//! when none is left the move is rolled back: allocations back to the instance, migration
//! `error`, instance in its original state with a fault.

use crate::agent_api::client::cast_to_compute;
use crate::agent_api::compute::{ComputeTask, PrepResize};
use crate::agent_api::conductor::ResizeFailed;
use crate::agent_api::records::{migration_types, FaultInfo, MigrationRecord};
use crate::allocations::{self, claim, release_logged};
use crate::db::migrations::{self, NewMigration};
use crate::schedule::Retry;
use crate::Conductor;
use monostack_bus::Context;
use monostack_compute::db::flavor_snapshot::InstanceFlavor;
use monostack_compute::db::instance_metadata::{self, Kind};
use monostack_compute::db::instances::{self, Changes, Instance};
use monostack_compute::db::request_specs;
use monostack_compute::request_spec::{RequestSpec, SpecFlavor};
use monostack_compute::rpc::conductor::MigrateServer;
use monostack_scheduler::HostChoice;
use std::collections::BTreeMap;

const EVENT: &str = "conductor_migrate_server";

/// One cold migration or resize in progress.
#[derive(Clone, Copy)]
struct Resize<'a> {
    instance: &'a Instance,
    migration: &'a MigrationRecord,
    flavor: &'a InstanceFlavor,
    clean_shutdown: bool,
}

/// The spec of a move of `instance` with `flavor`: one instance, no retries yet.
pub(crate) async fn move_spec(conductor: &Conductor, instance: &Instance, flavor: &InstanceFlavor) -> RequestSpec {
    let mut spec = request_specs::get(&conductor.compute.db, &instance.uuid).await.ok().flatten().unwrap_or_default();
    spec.instance_uuids = vec![instance.uuid.clone()];
    spec.num_instances = 1;
    spec.instance_uuid = Some(instance.uuid.clone());
    spec.project_id = instance.project_id.clone();
    spec.user_id = instance.user_id.clone();
    spec.flavor = SpecFlavor::from_instance_flavor(flavor);
    spec.retry = None;
    spec.force_hosts.clear();
    spec.force_nodes.clear();
    spec
}

impl Conductor {
    pub(crate) async fn migrate_server(&self, ctx: &Context, request: MigrateServer) {
        let uuid = request.instance_uuid.clone();
        let db = &self.compute.db;
        let instance = match instances::get(db, &uuid).await {
            Ok(Some(i)) => i,
            Ok(None) => return tracing::info!("[instance: {uuid}] deleted before its migration started"),
            Err(e) => return tracing::error!("[instance: {uuid}] migration failed: {}", e.message),
        };
        self.event_start(ctx, &uuid, EVENT).await;
        let new_flavor = request.flavor.clone().unwrap_or_else(|| instance.flavor.clone());
        let kind = if request.flavor.is_some() { migration_types::RESIZE } else { migration_types::MIGRATION };
        let new = NewMigration {
            instance_uuid: uuid.clone(),
            source_compute: instance.host.clone(),
            source_node: instance.node.clone(),
            old_instance_type_id: Some(instance.flavor.id),
            new_instance_type_id: Some(new_flavor.id),
            status: "pre-migrating".into(),
            migration_type: kind.into(),
            project_id: Some(instance.project_id.clone()),
            user_id: Some(instance.user_id.clone()),
        };
        let migration = match migrations::create(db, &new).await {
            Ok(m) => m,
            Err(e) => return self.abort_move(ctx, &instance, None, &format!("Migration record not created: {}", e.message), EVENT).await,
        };
        let old_state = BTreeMap::from([("old_vm_state".to_string(), instance.vm_state.clone())]);
        if let Err(e) = instance_metadata::set(db, Kind::System, &uuid, &old_state).await {
            tracing::warn!("[instance: {uuid}] old_vm_state not saved: {}", e.message);
        }
        let flavors = Changes::new().set_flavor("old_flavor", Some(&instance.flavor)).and_then(|c| c.set_flavor("new_flavor", Some(&new_flavor)));
        match flavors {
            Ok(changes) => self.update_logged(&uuid, changes).await,
            Err(e) => tracing::error!("[instance: {uuid}] flavors of the resize not saved: {}", e.message),
        }
        if let Err(e) = allocations::move_to_migration(self.placement.as_ref(), &uuid, &migration.uuid, &instance.project_id, &instance.user_id).await {
            return self.abort_move(ctx, &instance, Some(&migration), &format!("Source allocations not moved to the migration: {e}"), EVENT).await;
        }
        let mut spec = move_spec(self, &instance, &new_flavor).await;
        spec.requested_destination = request.requested_destination.clone().or(spec.requested_destination);
        let selection = match self.select(&spec, std::slice::from_ref(&uuid)).await {
            Ok(Ok(mut selections)) if !selections.is_empty() => selections.remove(0),
            Ok(Ok(_)) => return self.abort_move(ctx, &instance, Some(&migration), "No valid host was found. ", EVENT).await,
            Ok(Err(no_valid_host)) => return self.abort_move(ctx, &instance, Some(&migration), &no_valid_host.to_string(), EVENT).await,
            Err(e) => return self.abort_move(ctx, &instance, Some(&migration), &format!("No valid host was found. {}", e.message), EVENT).await,
        };
        let mut retry = Retry { alternates: selection.alternates.clone(), ..Retry::default() };
        retry.attempt(&selection.chosen);
        let resize = Resize { instance: &instance, migration: &migration, flavor: &new_flavor, clean_shutdown: request.clean_shutdown };
        self.send_prep_resize(ctx, &resize, &selection.chosen, retry).await;
        self.event_finish(ctx, &uuid, EVENT, None).await;
    }

    /// Points the migration at `choice`, remembers the retry state and casts `prep_resize`.
    async fn send_prep_resize(&self, ctx: &Context, resize: &Resize<'_>, choice: &HostChoice, retry: Retry) {
        let Resize { instance, migration, flavor, clean_shutdown } = *resize;
        let db = &self.compute.db;
        let uuid = &instance.uuid;
        if let Err(e) = migrations::set_destination(db, migration.id, &choice.host, &choice.nodename).await {
            tracing::error!("[instance: {uuid}] migration destination not saved: {}", e.message);
        }
        if let Ok(Some(mut spec)) = request_specs::get(db, uuid).await {
            retry.store(&mut spec);
            let _ = request_specs::save(db, uuid, &spec).await;
        }
        tracing::info!("[instance: {uuid}] Migrating to host {} (node {})", choice.host, choice.nodename);
        let task = ComputeTask::PrepResize(PrepResize {
            instance_uuid: uuid.clone(),
            migration_id: migration.id,
            new_flavor: flavor.clone(),
            node: choice.nodename.clone(),
            clean_shutdown,
        });
        if let Err(e) = cast_to_compute(self.bus.as_ref(), &choice.host, &task, ctx).await {
            let failed = ResizeFailed {
                instance_uuid: uuid.clone(),
                migration_id: migration.id,
                host: choice.host.clone(),
                node: choice.nodename.clone(),
                fault: FaultInfo::internal(format!("Compute host {} could not be reached: {e}", choice.host)),
                reschedule: true,
            };
            Box::pin(self.resize_failed(ctx, failed)).await;
        }
    }

    /// `prep_resize` failed on a destination: free its claim and try the next alternate, or
    /// roll the move back.
    pub(crate) async fn resize_failed(&self, ctx: &Context, failed: ResizeFailed) {
        let uuid = failed.instance_uuid.clone();
        let db = &self.compute.db;
        release_logged(self.placement.as_ref(), &uuid).await;
        let migration = migrations::get(db, failed.migration_id).await.ok().flatten();
        let instance = match instances::get(db, &uuid).await {
            Ok(Some(i)) => i,
            _ => {
                if let Some(m) = &migration {
                    release_logged(self.placement.as_ref(), &m.uuid).await;
                }
                return tracing::info!("[instance: {uuid}] deleted during its migration");
            }
        };
        let Some(migration) = migration else {
            return self.abort_move(ctx, &instance, None, &failed.fault.message, EVENT).await;
        };
        let new_flavor = instance.new_flavor.clone().unwrap_or_else(|| instance.flavor.clone());
        let spec = request_specs::get(db, &uuid).await.ok().flatten().unwrap_or_default();
        let mut retry = Retry::of(&spec);
        while failed.reschedule && retry.num_attempts < self.scheduler.max_attempts() && !retry.alternates.is_empty() {
            let choice = retry.alternates.remove(0);
            let claimed = match &choice.allocation_request {
                Some(request) => claim(self.placement.as_ref(), &uuid, request, &instance.project_id, &instance.user_id).await,
                None => true,
            };
            if claimed {
                tracing::info!("[instance: {uuid}] Rescheduling the migration from {} to alternate host {}", failed.host, choice.host);
                retry.attempt(&choice);
                let resize = Resize { instance: &instance, migration: &migration, flavor: &new_flavor, clean_shutdown: true };
                return self.send_prep_resize(ctx, &resize, &choice, retry).await;
            }
        }
        let message = if failed.reschedule {
            format!("Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance {uuid}. Last failure: {}", failed.fault.message)
        } else {
            failed.fault.message.clone()
        };
        self.event_start(ctx, &uuid, EVENT).await;
        self.abort_move(ctx, &instance, Some(&migration), &message, EVENT).await;
    }

    /// Rolls a move back before any host changed anything: the instance gets its source
    /// allocations back, the migration goes to `error`, the instance keeps its vm state with
    /// no task and a fault; `event` is the conductor event that failed.
    pub(crate) async fn abort_move(&self, ctx: &Context, instance: &Instance, migration: Option<&MigrationRecord>, message: &str, event: &str) {
        let uuid = &instance.uuid;
        if let Some(m) = migration {
            if let Err(e) = allocations::revert_from_migration(self.placement.as_ref(), uuid, &m.uuid).await {
                tracing::error!("[instance: {uuid}] allocations not reverted from migration {}: {e}", m.uuid);
            }
            if let Err(e) = migrations::set_status(&self.compute.db, m.id, "error").await {
                tracing::error!("[instance: {uuid}] migration {} not marked error: {}", m.id, e.message);
            }
        }
        let clear = Changes::new().set("old_flavor", None::<String>).set("new_flavor", None::<String>);
        self.update_logged(uuid, clear).await;
        self.move_failed(uuid, &instance.vm_state, message).await;
        self.event_finish(ctx, uuid, event, Some(message)).await;
    }
}
