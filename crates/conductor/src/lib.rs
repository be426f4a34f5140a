//! The conductor (nova-conductor): it runs the compute flows that need more than one host or
//! the scheduler (boot, reschedule, cold and live migration, resize, rebuild, evacuation,
//! unshelve), and it is the compute agents' only way to the database and to placement (the
//! database proxy), so a compromised compute node cannot reach either.
//!
//! It listens on the bus topic `conductor`: the API's [`ComputeTaskRequest`] casts and the
//! agents' [`agent_api::conductor::ConductorRequest`]s. The scheduler runs inside it as a
//! library ([`monostack_scheduler::FilterScheduler`]), fed with host states built from the
//! compute database and placement's allocation candidates.
//!
//! [`ComputeTaskRequest`]: monostack_compute::rpc::conductor::ComputeTaskRequest

pub mod agent_api;
mod allocations;
mod build;
mod db;
mod failures;
mod host_cache;
mod live_migrate;
mod migrate;
mod proxy;
mod rebuild;
mod schedule;
mod service;
mod unshelve;

use agent_api::client::fault_reply;
use agent_api::conductor::ConductorRequest;
use monostack_bus::{Bus, Context, Message, Reply};
use monostack_compute::rpc::conductor::ComputeTaskRequest;
use monostack_compute::ComputeService;
use monostack_placement::client::PlacementClient;
use monostack_scheduler::{FilterScheduler, SchedulerConfig};
use serde_json::Value;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// The conductor's shared state.
pub struct Conductor {
    pub(crate) compute: Arc<ComputeService>,
    pub(crate) placement: Arc<dyn PlacementClient>,
    pub(crate) bus: Arc<dyn Bus>,
    pub(crate) scheduler: FilterScheduler,
    /// The compute nodes as the scheduler last read them (a cache; the database decides).
    pub(crate) nodes: host_cache::NodeCache,
    /// The host this conductor registers its services under.
    pub(crate) host: String,
}

/// A running conductor: its bus consumer and heartbeat.
pub struct ConductorHandle {
    pub conductor: Arc<Conductor>,
    tasks: Vec<JoinHandle<()>>,
}

impl ConductorHandle {
    /// Stops consuming and heartbeating (in-flight flows finish on their own tasks).
    pub fn stop(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The name this process registers under: `[compute] host`, else the machine's host name.
pub fn host_name(config: &monostack_common::config::Config) -> String {
    if let Some(host) = &config.compute.host {
        return host.clone();
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

impl Conductor {
    /// Starts a conductor consuming topic `conductor` as this host, with its `nova-conductor`
    /// and `nova-scheduler` services registered and heartbeating every `report_interval`.
    pub async fn start(compute: Arc<ComputeService>, placement: Arc<dyn PlacementClient>, bus: Arc<dyn Bus>) -> anyhow::Result<ConductorHandle> {
        let scheduler = FilterScheduler::new(&SchedulerConfig::from_config(&compute.config))?;
        let host = host_name(&compute.config);
        let conductor = Arc::new(Conductor { compute, placement, bus, scheduler, nodes: host_cache::NodeCache::default(), host });
        let heartbeat = service::start_heartbeat(conductor.clone()).await?;
        let listener = conductor.bus.listen(agent_api::conductor::TOPIC, &conductor.host).await?;
        let me = conductor.clone();
        let consumer = monostack_bus::serve(listener, move |msg| me.clone().handle(msg));
        tracing::info!("Conductor started on host {} with filters {:?}", conductor.host, conductor.scheduler.filter_names());
        Ok(ConductorHandle { conductor, tasks: vec![consumer, heartbeat] })
    }

    async fn handle(self: Arc<Self>, msg: Message) -> Reply {
        let span = agent_api::request_span(&msg.context);
        async move {
            if let Ok(task) = monostack_compute::rpc::decode::<ComputeTaskRequest>(&msg) {
                self.run_task(&msg.context, task).await;
                return Ok(Value::Null);
            }
            match monostack_compute::rpc::decode::<ConductorRequest>(&msg) {
                Ok(request) => self.proxy(&msg.context, request).await,
                Err(e) => Err(fault_reply("Internal", format!("unknown conductor method {}: {e}", msg.method))),
            }
        }
        .instrument(span)
        .await
    }

    async fn run_task(&self, ctx: &Context, task: ComputeTaskRequest) {
        match task {
            ComputeTaskRequest::BuildInstances(b) | ComputeTaskRequest::ScheduleAndBuildInstances(b) => self.build_instances(ctx, b).await,
            ComputeTaskRequest::MigrateServer(m) => self.migrate_server(ctx, m).await,
            ComputeTaskRequest::LiveMigrateInstance(l) => self.live_migrate_instance(ctx, l).await,
            ComputeTaskRequest::RebuildInstance(r) => self.rebuild_instance(ctx, r).await,
            ComputeTaskRequest::UnshelveInstance(u) => self.unshelve_instance(ctx, u).await,
            ComputeTaskRequest::DeleteAllocations(d) => allocations::release_logged(self.placement.as_ref(), &d.instance_uuid).await,
        }
    }

    /// `[bus] rpc_response_timeout`.
    pub(crate) fn rpc_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.compute.config.bus.rpc_response_timeout)
    }
}
