//! Live migration, as Nova splits it between the two hosts: the destination's checks (which
//! ask the source's in turn), `pre_live_migration` on the destination, the move itself on the
//! source (task `migrating`), then `post_live_migration_at_destination`, where the instance
//! takes its new host and node and stays ACTIVE (or PAUSED). The source allocations the
//! migration held are dropped; a failed move is rolled back on the destination and the
//! instance keeps its source host and allocations.

use super::instance::driver_ref;
use super::op::{Failure, OpResult};
use super::ComputeManager;
use crate::virt::{BlockDeviceInfo, LiveMigrateData, LiveMigrationCheck};
use monostack_bus::{Context, Reply};
use monostack_compute::states::{power, task, vm};
use monostack_conductor::agent_api::client::{call_compute, cast_to_compute, fault_reply};
use monostack_conductor::agent_api::compute::*;
use monostack_conductor::agent_api::conductor::{ConductorRequest, MigrationAllocations};
use monostack_conductor::agent_api::records::{InstanceField, InstanceRecord, MigrationRecord};
use serde_json::Value;

fn data_of(value: &Value) -> Result<LiveMigrateData, String> {
    serde_json::from_value(value.clone()).map_err(|e| format!("undecodable live migration data: {e}"))
}

fn json(data: &LiveMigrateData) -> Value {
    serde_json::to_value(data).unwrap_or(Value::Null)
}

impl ComputeManager {
    /// Loads an instance for a call that answers with a fault when it is gone.
    async fn instance_for_call(&self, ctx: &Context, uuid: &str) -> Result<InstanceRecord, String> {
        match self.conductor.instance_get(ctx, uuid).await {
            Ok(Some(i)) => Ok(i),
            Ok(None) => Err(fault_reply("InstanceNotFound", format!("Instance {uuid} could not be found."))),
            Err(e) => Err(fault_reply("Internal", e.to_string())),
        }
    }

    /// A call on the destination: the driver's checks here, then the source's.
    pub(crate) async fn check_can_live_migrate_destination(&self, ctx: &Context, t: CheckCanLiveMigrateDestination) -> Reply {
        let instance = self.instance_for_call(ctx, &t.instance_uuid).await?;
        const EVENT: &str = "compute_check_can_live_migrate_destination";
        let _ = self.conductor.event_start(ctx, &instance.uuid, EVENT, &self.host).await;
        let outcome = self.check_destination(ctx, &instance, &t).await;
        let _ = self.conductor.event_finish(ctx, &instance.uuid, EVENT, outcome.as_ref().err().map(String::as_str)).await;
        match outcome {
            Ok(data) => Ok(json(&data)),
            Err(message) => Err(fault_reply("MigrationPreCheckError", message)),
        }
    }

    async fn check_destination(&self, ctx: &Context, instance: &InstanceRecord, t: &CheckCanLiveMigrateDestination) -> Result<LiveMigrateData, String> {
        if !self.owns_node(&t.dest_node) {
            return Err(format!("Compute host {} does not manage node {}", self.host, t.dest_node));
        }
        let source_host = instance.host.clone().unwrap_or_default();
        let check = LiveMigrationCheck {
            source_host: source_host.clone(),
            source_node: instance.node.clone().unwrap_or_default(),
            dest_host: self.host.clone(),
            dest_node: t.dest_node.clone(),
            block_migration: t.block_migration,
            disk_over_commit: t.disk_over_commit,
        };
        let guest = driver_ref(instance, &self.host, Some(&t.dest_node));
        let data = self.driver.check_can_live_migrate_destination(&guest, &check).await.map_err(|e| e.to_string())?;
        let ask = ComputeTask::CheckCanLiveMigrateSource(CheckCanLiveMigrateSource { instance_uuid: instance.uuid.clone(), data: json(&data) });
        let timeout = std::time::Duration::from_secs(self.config.bus.rpc_response_timeout);
        let answer = call_compute(self.bus.as_ref(), &source_host, &ask, ctx, timeout).await.map_err(|e| match e {
            monostack_conductor::agent_api::RpcError::Fault(f) => f.message,
            other => format!("source host {source_host} did not answer: {other}"),
        })?;
        data_of(&answer)
    }

    /// A call on the source: can the instance leave?
    pub(crate) async fn check_can_live_migrate_source(&self, ctx: &Context, t: CheckCanLiveMigrateSource) -> Reply {
        let instance = self.instance_for_call(ctx, &t.instance_uuid).await?;
        let data = data_of(&t.data).map_err(|m| fault_reply("MigrationPreCheckError", m))?;
        let guest = driver_ref(&instance, &self.host, Some(&data.source_node));
        match self.driver.check_can_live_migrate_source(&guest, &data).await {
            Ok(data) => Ok(json(&data)),
            Err(e) => Err(fault_reply("MigrationPreCheckError", e.to_string())),
        }
    }

    /// A call on the destination: prepare to receive the guest.
    pub(crate) async fn pre_live_migration(&self, ctx: &Context, t: PreLiveMigration) -> Reply {
        let instance = self.instance_for_call(ctx, &t.instance_uuid).await?;
        const EVENT: &str = "compute_pre_live_migration";
        let _ = self.conductor.event_start(ctx, &instance.uuid, EVENT, &self.host).await;
        let outcome = async {
            let data = data_of(&t.data)?;
            let guest = driver_ref(&instance, &self.host, Some(&data.dest_node));
            let network_info = self.network_info(ctx, &instance.uuid).await;
            self.driver.pre_live_migration(&guest, &data, &network_info, &BlockDeviceInfo::default()).await.map_err(|e| e.to_string())
        }
        .await;
        let _ = self.conductor.event_finish(ctx, &instance.uuid, EVENT, outcome.as_ref().err().map(String::as_str)).await;
        match outcome {
            Ok(data) => Ok(json(&data)),
            Err(message) => Err(fault_reply("MigrationError", message)),
        }
    }

    /// The move itself, on the source.
    pub(crate) async fn live_migration(&self, ctx: &Context, t: LiveMigration) {
        let Some(op) = self.begin(ctx, &t.instance_uuid, "compute_live_migration").await else { return };
        let instance = op.instance.clone();
        let migration = self.conductor.migration_get(ctx, t.migration_id).await.ok().flatten();
        let result = match (&migration, data_of(&t.data)) {
            (Some(m), Ok(data)) => self.migrate_live(ctx, &instance, m, data).await,
            (None, _) => Err(Failure::Recoverable(format!("Migration {} could not be found.", t.migration_id))),
            (_, Err(message)) => Err(Failure::Recoverable(message)),
        };
        if let (Err(failure), Some(m)) = (&result, &migration) {
            if !matches!(failure, Failure::Abandoned(_)) {
                self.roll_back_live(ctx, &instance, m, &t.data).await;
            }
        }
        self.end(ctx, op, result).await;
        if let Some(node) = instance.node.clone() {
            self.update_node_resources(ctx, &node).await;
        }
    }

    async fn migrate_live(&self, ctx: &Context, instance: &InstanceRecord, migration: &MigrationRecord, data: LiveMigrateData) -> OpResult {
        let uuid = &instance.uuid;
        let dest = data.dest_host.clone();
        let timeout = std::time::Duration::from_secs(self.config.bus.rpc_response_timeout);
        self.conductor.migration_set_status(ctx, migration.id, "preparing").await?;
        let prepare = ComputeTask::PreLiveMigration(PreLiveMigration { instance_uuid: uuid.clone(), data: json(&data) });
        let prepared = call_compute(self.bus.as_ref(), &dest, &prepare, ctx, timeout).await.map_err(|e| Failure::Recoverable(e.to_string()))?;
        let data = data_of(&prepared).map_err(Failure::Recoverable)?;
        self.conductor.migration_set_status(ctx, migration.id, "running").await?;
        tracing::info!("{}Live migrating to {} (node {})", instance.tag(), dest, data.dest_node);
        let source = driver_ref(instance, &self.host, Some(&data.source_node));
        self.driver.live_migration(&source, &data).await?;
        self.driver.post_live_migration(&source, &data, &BlockDeviceInfo::default()).await?;
        let post = ComputeTask::PostLiveMigrationAtDestination(PostLiveMigrationAtDestination { instance_uuid: uuid.clone(), migration_id: migration.id, data: json(&data) });
        call_compute(self.bus.as_ref(), &dest, &post, ctx, timeout).await.map_err(|e| Failure::Error(format!("post live migration at {dest} failed: {e}")))?;
        let drop = MigrationAllocations { instance_uuid: uuid.clone(), migration_uuid: migration.uuid.clone() };
        self.conductor.run(ctx, ConductorRequest::MigrationAllocationsDrop(drop)).await?;
        self.conductor.migration_set_status(ctx, migration.id, "completed").await?;
        tracing::info!("{}Migrating instance to {dest} finished successfully.", instance.tag());
        Ok(())
    }

    /// The move failed with the guest still on the source: undo the destination, give the
    /// instance its source allocations back.
    async fn roll_back_live(&self, ctx: &Context, instance: &InstanceRecord, migration: &MigrationRecord, data: &Value) {
        if let Some(dest) = &migration.dest_compute {
            let rollback = ComputeTask::RollbackLiveMigrationAtDestination(RollbackLiveMigrationAtDestination { instance_uuid: instance.uuid.clone(), data: data.clone() });
            if let Err(e) = cast_to_compute(self.bus.as_ref(), dest, &rollback, ctx).await {
                tracing::warn!("{}rollback not sent to {dest}: {e}", instance.tag());
            }
        }
        let revert = MigrationAllocations { instance_uuid: instance.uuid.clone(), migration_uuid: migration.uuid.clone() };
        if let Err(e) = self.conductor.run(ctx, ConductorRequest::MigrationAllocationsRevert(revert)).await {
            tracing::error!("{}allocations not reverted after the failed live migration: {e}", instance.tag());
        }
        let _ = self.conductor.migration_set_status(ctx, migration.id, "error").await;
    }

    /// A call on the destination after the move: the instance lives here now.
    pub(crate) async fn post_live_migration_at_destination(&self, ctx: &Context, t: PostLiveMigrationAtDestination) -> Reply {
        let instance = self.instance_for_call(ctx, &t.instance_uuid).await?;
        const EVENT: &str = "compute_post_live_migration_at_destination";
        let _ = self.conductor.event_start(ctx, &instance.uuid, EVENT, &self.host).await;
        let outcome = self.settle_incoming(ctx, &instance, &t).await;
        let _ = self.conductor.event_finish(ctx, &instance.uuid, EVENT, outcome.as_ref().err().map(String::as_str)).await;
        if let Ok(data) = data_of(&t.data) {
            self.update_node_resources(ctx, &data.dest_node).await;
        }
        outcome.map(|()| Value::Null).map_err(|m| fault_reply("MigrationError", m))
    }

    async fn settle_incoming(&self, ctx: &Context, instance: &InstanceRecord, t: &PostLiveMigrationAtDestination) -> Result<(), String> {
        let data = data_of(&t.data)?;
        let guest = driver_ref(instance, &self.host, Some(&data.dest_node));
        let network_info = self.bind_network_here(ctx, &instance.uuid).await;
        self.driver.post_live_migration_at_destination(&guest, &data, &network_info, &BlockDeviceInfo::default()).await.map_err(|e| e.to_string())?;
        let state = self.power_state(&guest).await;
        let vm_state = if state == power::PAUSED { vm::PAUSED } else { vm::ACTIVE };
        let here = vec![
            InstanceField::Host(Some(self.host.clone())),
            InstanceField::Node(Some(data.dest_node.clone())),
            InstanceField::PowerState(state),
            InstanceField::VmState(vm_state.into()),
            InstanceField::TaskState(None),
        ];
        self.save(ctx, &instance.uuid, here, Some(&[Some(task::MIGRATING)])).await.map_err(|f| f.message().to_string())?;
        tracing::info!("{}Instance is now on {} (node {})", instance.tag(), self.host, data.dest_node);
        Ok(())
    }

    /// On the destination after a failed move.
    pub(crate) async fn rollback_live_migration_at_destination(&self, ctx: &Context, t: RollbackLiveMigrationAtDestination) {
        let Ok(instance) = self.instance_for_call(ctx, &t.instance_uuid).await else { return };
        let Ok(data) = data_of(&t.data) else { return };
        let guest = driver_ref(&instance, &self.host, Some(&data.dest_node));
        if let Err(e) = self.driver.rollback_live_migration_at_destination(&guest, &data, &[], &BlockDeviceInfo::default(), true).await {
            tracing::warn!("{}rollback at destination failed: {e}", instance.tag());
        }
        self.update_node_resources(ctx, &data.dest_node).await;
    }
}
