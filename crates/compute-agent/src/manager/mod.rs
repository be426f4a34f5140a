//! The compute manager (nova-compute's `ComputeManager`): it consumes `compute.<host>` for the
//! API's requests and the conductor's and other agents' tasks, drives the virt driver, and
//! records every step (task states, instance action events, faults) through the conductor;
//! it never touches the database. Beside requests it runs the service heartbeat, the resource
//! tracker, the power-state sync and the other periodic tasks, and settles at start-up what a
//! previous run left half done.
//!
//! One file per family of operations: [`build`], [`power`], [`lifecycle`] (rescue, delete,
//! password, …), [`snapshot`], [`shelve`], [`rebuild`], [`migrate`] (cold migration and
//! resize), [`live_migrate`], [`consoles`], [`diagnostics`], [`host`] (`os-hosts`); and the
//! machinery: [`op`] (how an operation records its start, end and failure),
//! [`resource_tracker`], [`periodic`], [`init_host`], [`images`] (the image service),
//! [`setup`] (one manager per simulated host).

mod build;
mod consoles;
mod diagnostics;
mod host;
pub mod images;
mod init_host;
mod instance;
mod interfaces;
mod lifecycle;
mod live_migrate;
mod locks;
mod migrate;
mod network;
mod op;
mod periodic;
mod power;
mod rebuild;
pub mod resource_tracker;
pub mod setup;
mod shelve;
mod snapshot;
mod volumes;

pub use setup::{start_all, ManagerSetup};

use crate::virt::VirtDriver;
use monostack_bus::{Bus, Context, Message, Reply};
use monostack_common::config::Config;
use monostack_compute::rpc::compute::ComputeRequest;
use monostack_conductor::agent_api::client::fault_reply;
use monostack_conductor::agent_api::compute::ComputeTask;
use monostack_conductor::agent_api::{self, ConductorClient};
use serde_json::Value;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// The binary name compute services register under.
pub const BINARY: &str = "nova-compute";
/// The service version this agent reports.
pub const SERVICE_VERSION: i64 = 1;

/// One compute host's manager.
pub struct ComputeManager {
    /// The compute service's host name (`compute.<host>` on the bus).
    pub host: String,
    /// The hypervisor nodes of this host.
    pub nodes: Vec<String>,
    pub(crate) driver: Arc<dyn VirtDriver>,
    pub(crate) conductor: ConductorClient,
    pub(crate) bus: Arc<dyn Bus>,
    pub(crate) config: Arc<Config>,
    pub(crate) images: images::ImageService,
    /// The networking service (`[network] port`): the caller's token for what the user asks,
    /// the `nova` service user's for port bindings.
    pub(crate) network: Arc<dyn monostack_compute::network_client::NetworkApi>,
    /// The block storage service (`[volume] port`): the caller's token, else the `nova`
    /// service user's.
    pub(crate) volume: Arc<dyn monostack_compute::volume_client::VolumeApi>,
    pub(crate) locks: locks::InstanceLocks,
    pub(crate) tracker: resource_tracker::ResourceTracker,
    /// The services row id (0 until registered).
    service_id: AtomicI64,
}

/// A running manager: its bus consumer and periodic tasks.
pub struct ComputeManagerHandle {
    pub manager: Arc<ComputeManager>,
    tasks: Vec<JoinHandle<()>>,
}

impl ComputeManagerHandle {
    /// Stops consuming and all periodic tasks (the guests keep running in the driver).
    pub fn stop(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl ComputeManager {
    /// Starts the manager of `setup.host`: the driver's host init, the service registration,
    /// the start-up reconciliation, a first resource report, then the bus consumer and the
    /// periodic tasks.
    pub async fn start(setup: ManagerSetup) -> anyhow::Result<ComputeManagerHandle> {
        let nodes = match setup.nodes {
            Some(nodes) => nodes,
            None => setup.driver.get_available_nodes().await?,
        };
        let timeout = std::time::Duration::from_secs(setup.config.bus.rpc_response_timeout);
        let network: Arc<dyn monostack_compute::network_client::NetworkApi> = Arc::new(monostack_compute::network_client::HttpNetworkApi::from_config(&setup.config)?);
        let volume: Arc<dyn monostack_compute::volume_client::VolumeApi> = Arc::new(monostack_compute::volume_client::HttpVolumeApi::from_config(&setup.config)?);
        let image_url = setup.image_url.unwrap_or_else(|| format!("http://{}:{}", setup.config.public_host(), setup.config.image.port));
        let manager = Arc::new(ComputeManager {
            host: setup.host,
            nodes,
            driver: setup.driver,
            conductor: ConductorClient::new(setup.bus.clone(), timeout),
            bus: setup.bus,
            config: setup.config,
            images: images::ImageService::new(&image_url)?,
            network,
            volume,
            locks: locks::InstanceLocks::default(),
            tracker: resource_tracker::ResourceTracker::default(),
            service_id: AtomicI64::new(0),
        });
        manager.driver.init_host(&manager.host).await?;
        let ctx = agent_api::internal_context();
        manager.register(&ctx).await?;
        manager.init_host(&ctx).await;
        manager.update_available_resource(&ctx).await;
        let listener = manager.bus.listen(monostack_compute::rpc::compute::TOPIC, &manager.host).await?;
        let me = manager.clone();
        let mut tasks = vec![monostack_bus::serve(listener, move |msg| me.clone().handle(msg))];
        tasks.extend(periodic::start(manager.clone()));
        tracing::info!("Compute service of host {} started with nodes {:?}", manager.host, manager.nodes);
        Ok(ComputeManagerHandle { manager, tasks })
    }

    /// Registers (or finds) this host's `nova-compute` service.
    async fn register(&self, ctx: &Context) -> anyhow::Result<()> {
        use monostack_conductor::agent_api::conductor::{ConductorRequest, ServiceRegister};
        use monostack_conductor::agent_api::records::ServiceRecord;
        let request = ServiceRegister { host: self.host.clone(), binary: BINARY.into(), topic: monostack_compute::rpc::compute::TOPIC.into(), version: SERVICE_VERSION };
        let service: ServiceRecord = self.conductor.call(ctx, ConductorRequest::ServiceRegister(request)).await?;
        self.service_id.store(service.id, Ordering::Relaxed);
        Ok(())
    }

    pub(crate) fn service_id(&self) -> Option<i64> {
        Some(self.service_id.load(Ordering::Relaxed)).filter(|id| *id > 0)
    }

    /// Whether `node` is one of this host's.
    pub(crate) fn owns_node(&self, node: &str) -> bool {
        self.nodes.iter().any(|n| n == node)
    }

    async fn handle(self: Arc<Self>, msg: Message) -> Reply {
        let span = agent_api::request_span(&msg.context);
        async move {
            if let Ok(request) = monostack_compute::rpc::decode::<ComputeRequest>(&msg) {
                return self.dispatch_request(&msg.context, request).await;
            }
            match monostack_compute::rpc::decode::<ComputeTask>(&msg) {
                Ok(task) => self.dispatch_task(&msg.context, task).await,
                Err(e) => Err(fault_reply("NotImplemented", format!("unknown compute method {}: {e}", msg.method))),
            }
        }
        .instrument(span)
        .await
    }

    /// The API's requests (casts answer null).
    async fn dispatch_request(&self, ctx: &Context, request: ComputeRequest) -> Reply {
        match request {
            ComputeRequest::StopInstance(r) => self.stop_instance(ctx, &r.instance_uuid, r.clean_shutdown).await,
            ComputeRequest::StartInstance(r) => self.start_instance(ctx, &r.instance_uuid).await,
            ComputeRequest::RebootInstance(r) => self.reboot_instance(ctx, &r.instance_uuid, &r.reboot_type).await,
            ComputeRequest::PauseInstance(r) => self.pause_instance(ctx, &r.instance_uuid).await,
            ComputeRequest::UnpauseInstance(r) => self.unpause_instance(ctx, &r.instance_uuid).await,
            ComputeRequest::SuspendInstance(r) => self.suspend_instance(ctx, &r.instance_uuid).await,
            ComputeRequest::ResumeInstance(r) => self.resume_instance(ctx, &r.instance_uuid).await,
            ComputeRequest::RescueInstance(r) => self.rescue_instance(ctx, r).await,
            ComputeRequest::UnrescueInstance(r) => self.unrescue_instance(ctx, &r.instance_uuid).await,
            ComputeRequest::SnapshotInstance(r) => self.snapshot_instance(ctx, &r.instance_uuid, &r.image_id, None).await,
            ComputeRequest::BackupInstance(r) => self.snapshot_instance(ctx, &r.instance_uuid, &r.image_id, Some((r.backup_type.clone(), r.rotation))).await,
            ComputeRequest::ShelveInstance(r) => self.shelve_instance(ctx, &r.instance_uuid, &r.image_id, r.clean_shutdown).await,
            ComputeRequest::ShelveOffloadInstance(r) => self.shelve_offload_instance(ctx, &r.instance_uuid, r.clean_shutdown).await,
            ComputeRequest::SetAdminPassword(r) => return self.set_admin_password(ctx, &r.instance_uuid, &r.new_pass).await,
            ComputeRequest::TriggerCrashDump(r) => self.trigger_crash_dump(ctx, &r.instance_uuid).await,
            ComputeRequest::InjectNetworkInfo(r) => self.inject_network_info(ctx, &r.instance_uuid).await,
            ComputeRequest::TerminateInstance(r) => self.terminate_instance(ctx, &r.instance_uuid).await,
            ComputeRequest::SoftDeleteInstance(r) => self.soft_delete_instance(ctx, &r.instance_uuid).await,
            ComputeRequest::RestoreInstance(r) => self.restore_instance(ctx, &r.instance_uuid).await,
            ComputeRequest::ConfirmResize(r) => self.confirm_resize(ctx, &r.instance_uuid, r.migration_id).await,
            ComputeRequest::RevertResize(r) => self.revert_resize(ctx, &r.instance_uuid, r.migration_id).await,
            ComputeRequest::GetConsoleOutput(r) => return self.console_output(ctx, &r.instance_uuid, r.tail_length).await,
            ComputeRequest::GetVncConsole(r) => return self.remote_console(ctx, &r.instance_uuid, "vnc", &r.console_type).await,
            ComputeRequest::GetSpiceConsole(r) => return self.remote_console(ctx, &r.instance_uuid, "spice", &r.console_type).await,
            ComputeRequest::GetSerialConsole(r) => return self.remote_console(ctx, &r.instance_uuid, "serial", &r.console_type).await,
            ComputeRequest::GetMksConsole(r) => return self.remote_console(ctx, &r.instance_uuid, "mks", &r.console_type).await,
            ComputeRequest::GetDiagnostics(r) => return self.diagnostics(ctx, &r.instance_uuid, false).await,
            ComputeRequest::GetInstanceDiagnostics(r) => return self.diagnostics(ctx, &r.instance_uuid, true).await,
            ComputeRequest::SetHostEnabled(r) => return self.set_host_enabled(r.enabled),
            ComputeRequest::HostMaintenanceMode(r) => return self.host_maintenance_mode(&r.host, r.mode).await,
            ComputeRequest::HostPowerAction(r) => return self.host_power_action(&r.action).await,
            ComputeRequest::ExternalInstanceEvent(r) => self.external_instance_event(ctx, &r.events).await,
            ComputeRequest::AttachInterface(r) => return self.attach_interface(ctx, r).await,
            ComputeRequest::DetachInterface(r) => return self.detach_interface(ctx, r).await,
            ComputeRequest::AttachVolume(r) => self.attach_volume(ctx, r).await,
            ComputeRequest::DetachVolume(r) => self.detach_volume(ctx, r).await,
            ComputeRequest::SwapVolume(r) => self.swap_volume(ctx, r).await,
        }
        Ok(Value::Null)
    }

    /// The conductor's and other agents' tasks.
    async fn dispatch_task(&self, ctx: &Context, task: ComputeTask) -> Reply {
        match task {
            ComputeTask::BuildAndRunInstance(t) => self.build_and_run_instance(ctx, t).await,
            ComputeTask::PrepResize(t) => self.prep_resize(ctx, t).await,
            ComputeTask::ResizeInstance(t) => self.resize_instance(ctx, t).await,
            ComputeTask::FinishResize(t) => self.finish_resize(ctx, t).await,
            ComputeTask::FinishRevertResize(t) => self.finish_revert_resize(ctx, &t.instance_uuid, t.migration_id).await,
            ComputeTask::CheckCanLiveMigrateDestination(t) => return self.check_can_live_migrate_destination(ctx, t).await,
            ComputeTask::CheckCanLiveMigrateSource(t) => return self.check_can_live_migrate_source(ctx, t).await,
            ComputeTask::LiveMigration(t) => self.live_migration(ctx, t).await,
            ComputeTask::PreLiveMigration(t) => return self.pre_live_migration(ctx, t).await,
            ComputeTask::PostLiveMigrationAtDestination(t) => return self.post_live_migration_at_destination(ctx, t).await,
            ComputeTask::RollbackLiveMigrationAtDestination(t) => self.rollback_live_migration_at_destination(ctx, t).await,
            ComputeTask::RebuildInstance(t) => self.rebuild_instance(ctx, t).await,
            ComputeTask::UnshelveInstance(t) => self.unshelve_instance(ctx, t).await,
        }
        Ok(Value::Null)
    }
}
