//! Rebuild and evacuation (Nova's `rebuild_instance`): a rebuild stays on the instance's host;
//! an evacuation (`recreate`) leaves a host whose compute service is down: the source
//! allocations move to the evacuation's migration record, a new host is scheduled (never the
//! source) or forced and claimed for the instance, and the rebuild is cast there.

use crate::agent_api::client::cast_to_compute;
use crate::agent_api::compute::{ComputeTask, RebuildInstance as RebuildTask};
use crate::agent_api::records::{migration_types, MigrationRecord};
use crate::allocations::{self, release_logged};
use crate::db::migrations::{self, NewMigration};
use crate::migrate::move_spec;
use crate::Conductor;
use monostack_bus::Context;
use monostack_compute::db::instances::{self, Instance};
use monostack_compute::rpc::conductor::RebuildInstance;
use monostack_scheduler::HostChoice;

const EVENT: &str = "conductor_rebuild_instance";

fn task_of(request: &RebuildInstance, instance: &Instance, migration_id: Option<i64>, node: Option<String>) -> ComputeTask {
    ComputeTask::RebuildInstance(RebuildTask {
        instance_uuid: instance.uuid.clone(),
        image_ref: request.image_ref.clone().or_else(|| instance.image_ref.clone()),
        orig_image_ref: request.orig_image_ref.clone().or_else(|| instance.image_ref.clone()),
        new_pass: request.new_pass.clone(),
        injected_files: request.injected_files.clone(),
        preserve_ephemeral: request.preserve_ephemeral,
        recreate: request.recreate,
        migration_id,
        node,
        target_state: request.target_state.clone(),
    })
}

impl Conductor {
    pub(crate) async fn rebuild_instance(&self, ctx: &Context, request: RebuildInstance) {
        let uuid = request.instance_uuid.clone();
        let instance = match instances::get(&self.compute.db, &uuid).await {
            Ok(Some(i)) => i,
            _ => return tracing::info!("[instance: {uuid}] gone before its rebuild started"),
        };
        self.event_start(ctx, &uuid, EVENT).await;
        if request.recreate {
            return self.evacuate(ctx, &instance, &request).await;
        }
        let Some(host) = instance.host.clone() else {
            return self.abort_move(ctx, &instance, None, "Instance has no host to be rebuilt on.", EVENT).await;
        };
        let task = task_of(&request, &instance, None, instance.node.clone());
        match cast_to_compute(self.bus.as_ref(), &host, &task, ctx).await {
            Ok(()) => self.event_finish(ctx, &uuid, EVENT, None).await,
            Err(e) => self.abort_move(ctx, &instance, None, &format!("Compute host {host} could not be reached: {e}"), EVENT).await,
        }
    }

    async fn evacuate(&self, ctx: &Context, instance: &Instance, request: &RebuildInstance) {
        let uuid = &instance.uuid;
        let db = &self.compute.db;
        let source = instance.host.clone().unwrap_or_default();
        let migration = match self.evacuation_record(instance).await {
            Ok(m) => m,
            Err(message) => return self.abort_move(ctx, instance, None, &message, EVENT).await,
        };
        if let Err(e) = allocations::move_to_migration(self.placement.as_ref(), uuid, &migration.uuid, &instance.project_id, &instance.user_id).await {
            return self.abort_move(ctx, instance, Some(&migration), &format!("Source allocations not moved to the migration: {e}"), EVENT).await;
        }
        let mut spec = move_spec(self, instance, &instance.flavor).await;
        spec.ignore_hosts = vec![source.clone()];
        let chosen: Result<HostChoice, String> = match &request.host {
            Some(host) => match self.claim_on_host(&spec, host).await {
                Ok(Some(choice)) => Ok(choice),
                Ok(None) => Err(format!("No valid host was found. Host {host} cannot take instance {uuid}.")),
                Err(e) => Err(e.message),
            },
            None => match self.select(&spec, std::slice::from_ref(uuid)).await {
                Ok(Ok(mut selections)) if !selections.is_empty() => Ok(selections.remove(0).chosen),
                Ok(Ok(_)) => Err("No valid host was found. ".into()),
                Ok(Err(no_valid_host)) => Err(no_valid_host.to_string()),
                Err(e) => Err(e.message),
            },
        };
        let choice = match chosen {
            Ok(choice) => choice,
            Err(message) => {
                // Nova's conductor leaves a server it found no host to evacuate to in ERROR.
                let failed = Instance { vm_state: monostack_compute::states::vm::ERROR.into(), ..instance.clone() };
                return self.abort_move(ctx, &failed, Some(&migration), &message, EVENT).await;
            }
        };
        if let Err(e) = migrations::set_destination(db, migration.id, &choice.host, &choice.nodename).await {
            tracing::error!("[instance: {uuid}] evacuation destination not saved: {}", e.message);
        }
        tracing::info!("[instance: {uuid}] Evacuating from {source} to host {} (node {})", choice.host, choice.nodename);
        let task = task_of(request, instance, Some(migration.id), Some(choice.nodename.clone()));
        match cast_to_compute(self.bus.as_ref(), &choice.host, &task, ctx).await {
            Ok(()) => self.event_finish(ctx, uuid, EVENT, None).await,
            Err(e) => {
                release_logged(self.placement.as_ref(), uuid).await;
                let message = format!("Compute host {} could not be reached: {e}", choice.host);
                self.abort_move(ctx, instance, Some(&migration), &message, EVENT).await;
            }
        }
    }

    /// The evacuation's migration record (the API's `accepted` one, else a new one).
    async fn evacuation_record(&self, instance: &Instance) -> Result<MigrationRecord, String> {
        let db = &self.compute.db;
        let existing = migrations::latest_of_instance(db, &instance.uuid, migration_types::EVACUATION, &["accepted"]).await.map_err(|e| e.message)?;
        if let Some(m) = existing {
            return Ok(m);
        }
        let new = NewMigration {
            instance_uuid: instance.uuid.clone(),
            source_compute: instance.host.clone(),
            source_node: instance.node.clone(),
            old_instance_type_id: Some(instance.flavor.id),
            new_instance_type_id: Some(instance.flavor.id),
            status: "accepted".into(),
            migration_type: migration_types::EVACUATION.into(),
            project_id: Some(instance.project_id.clone()),
            user_id: Some(instance.user_id.clone()),
        };
        migrations::create(db, &new).await.map_err(|e| e.message)
    }
}
