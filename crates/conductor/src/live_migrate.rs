//! Live migration (Nova's LiveMigrationTask): a migration record, the source allocations moved
//! to it, the destination forced by an admin or chosen by the scheduler (never the source) and
//! claimed for the instance, the destination's (and through it the source's) checks, then the
//! cast of `live_migration` to the source, which runs the move. A destination whose checks
//! fail is replaced by the next alternate; a forced one ends the request.

use crate::agent_api::client::{call_compute, cast_to_compute};
use crate::agent_api::compute::{CheckCanLiveMigrateDestination, ComputeTask, LiveMigration};
use crate::agent_api::records::{migration_types, MigrationRecord};
use crate::allocations::{self, claim, release_logged};
use crate::db::migrations::{self, NewMigration};
use crate::migrate::move_spec;
use crate::Conductor;
use monostack_bus::Context;
use monostack_compute::db::instances::{self, Instance};
use monostack_compute::rpc::conductor::LiveMigrateInstance;
use monostack_scheduler::HostChoice;

const EVENT: &str = "conductor_live_migrate_instance";

impl Conductor {
    pub(crate) async fn live_migrate_instance(&self, ctx: &Context, request: LiveMigrateInstance) {
        let uuid = request.instance_uuid.clone();
        let db = &self.compute.db;
        let instance = match instances::get(db, &uuid).await {
            Ok(Some(i)) => i,
            _ => return tracing::info!("[instance: {uuid}] gone before its live migration started"),
        };
        self.event_start(ctx, &uuid, EVENT).await;
        let (Some(source), Some(source_node)) = (instance.host.clone(), instance.node.clone()) else {
            return self.abort_move(ctx, &instance, None, "Instance has no host to migrate from.", EVENT).await;
        };
        if request.host.as_deref() == Some(source.as_str()) {
            let message = format!("Unable to migrate instance ({uuid}) to current host ({source}).");
            return self.abort_move(ctx, &instance, None, &message, EVENT).await;
        }
        let new = NewMigration {
            instance_uuid: uuid.clone(),
            source_compute: Some(source.clone()),
            source_node: Some(source_node),
            old_instance_type_id: Some(instance.flavor.id),
            new_instance_type_id: Some(instance.flavor.id),
            status: "accepted".into(),
            migration_type: migration_types::LIVE_MIGRATION.into(),
            project_id: Some(instance.project_id.clone()),
            user_id: Some(instance.user_id.clone()),
        };
        let migration = match migrations::create(db, &new).await {
            Ok(m) => m,
            Err(e) => return self.abort_move(ctx, &instance, None, &format!("Migration record not created: {}", e.message), EVENT).await,
        };
        if let Err(e) = allocations::move_to_migration(self.placement.as_ref(), &uuid, &migration.uuid, &instance.project_id, &instance.user_id).await {
            return self.abort_move(ctx, &instance, Some(&migration), &format!("Source allocations not moved to the migration: {e}"), EVENT).await;
        }
        let mut spec = move_spec(self, &instance, &instance.flavor).await;
        spec.ignore_hosts = vec![source.clone()];
        let (first, mut alternates) = match &request.host {
            Some(host) => match self.claim_on_host(&spec, host).await {
                Ok(Some(choice)) => (choice, Vec::new()),
                Ok(None) => {
                    let message = format!("No valid host was found. Host {host} cannot take instance {uuid}.");
                    return self.abort_move(ctx, &instance, Some(&migration), &message, EVENT).await;
                }
                Err(e) => return self.abort_move(ctx, &instance, Some(&migration), &e.message, EVENT).await,
            },
            None => match self.select(&spec, std::slice::from_ref(&uuid)).await {
                Ok(Ok(mut selections)) if !selections.is_empty() => {
                    let s = selections.remove(0);
                    (s.chosen, s.alternates)
                }
                Ok(Err(no_valid_host)) => return self.abort_move(ctx, &instance, Some(&migration), &no_valid_host.to_string(), EVENT).await,
                Ok(Ok(_)) => return self.abort_move(ctx, &instance, Some(&migration), "No valid host was found. ", EVENT).await,
                Err(e) => return self.abort_move(ctx, &instance, Some(&migration), &e.message, EVENT).await,
            },
        };
        let mut choice = first;
        loop {
            match self.check_destination(ctx, &instance, &migration, &choice, &request).await {
                Ok(data) => {
                    let task = ComputeTask::LiveMigration(LiveMigration { instance_uuid: uuid.clone(), migration_id: migration.id, data });
                    if let Err(e) = cast_to_compute(self.bus.as_ref(), &source, &task, ctx).await {
                        release_logged(self.placement.as_ref(), &uuid).await;
                        let message = format!("Source host {source} could not be reached: {e}");
                        return self.abort_move(ctx, &instance, Some(&migration), &message, EVENT).await;
                    }
                    return self.event_finish(ctx, &uuid, EVENT, None).await;
                }
                Err(message) => {
                    tracing::warn!("[instance: {uuid}] destination {} refused the live migration: {message}", choice.host);
                    release_logged(self.placement.as_ref(), &uuid).await;
                    match self.next_alternate(&instance, &mut alternates).await {
                        Some(next) => choice = next,
                        None => return self.abort_move(ctx, &instance, Some(&migration), &message, EVENT).await,
                    }
                }
            }
        }
    }

    /// Asks the destination whether it can take the instance; the agreed data on success.
    async fn check_destination(&self, ctx: &Context, instance: &Instance, migration: &MigrationRecord, choice: &HostChoice, request: &LiveMigrateInstance) -> Result<serde_json::Value, String> {
        migrations::set_destination(&self.compute.db, migration.id, &choice.host, &choice.nodename).await.map_err(|e| e.message)?;
        let check = ComputeTask::CheckCanLiveMigrateDestination(CheckCanLiveMigrateDestination {
            instance_uuid: instance.uuid.clone(),
            dest_node: choice.nodename.clone(),
            block_migration: request.block_migration,
            disk_over_commit: request.disk_over_commit.unwrap_or(false),
        });
        call_compute(self.bus.as_ref(), &choice.host, &check, ctx, self.rpc_timeout()).await.map_err(|e| match e {
            crate::agent_api::RpcError::Fault(f) => f.message,
            other => format!("Compute host {} did not answer: {other}", choice.host),
        })
    }

    /// Claims the next alternate that still fits.
    async fn next_alternate(&self, instance: &Instance, alternates: &mut Vec<HostChoice>) -> Option<HostChoice> {
        while !alternates.is_empty() {
            let choice = alternates.remove(0);
            let claimed = match &choice.allocation_request {
                Some(request) => claim(self.placement.as_ref(), &instance.uuid, request, &instance.project_id, &instance.user_id).await,
                None => true,
            };
            if claimed {
                return Some(choice);
            }
        }
        None
    }
}
