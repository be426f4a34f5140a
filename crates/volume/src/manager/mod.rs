//! The volume manager (cinder-volume): one per enabled backend of this node, registered as
//! service `cinder-volume` on host `host@backend`, consuming `cinder-volume.host@backend`.
//! It runs the backend's side of every flow through its driver ([`create`], [`ops`]),
//! reports the backend's pools and capacity to the schedulers every `periodic_interval`
//! (through the database), heartbeats every `report_interval`, and on start finishes or
//! fails what a crash interrupted ([`init_host`]).

mod attachments;
mod create;
mod images;
mod init_host;
mod ops;

use crate::context::request_span;
use crate::db::{pools, services, volumes};
use crate::drivers::{self, VolumeDriver};
use crate::rpc::{self, VolumeRequest};
use crate::VolumeService;
use monostack_bus::{Context, Message, Reply};
use monostack_common::config::VolumeBackendSection;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tracing::Instrument;

pub struct VolumeManager {
    pub service: Arc<VolumeService>,
    /// `host@backend`: the service's host and the bus server name.
    pub backend: String,
    /// The backend's section name in [volume] enabled_backends.
    pub name: String,
    /// What volume types select it by (`volume_backend_name`).
    pub backend_name: String,
    pub availability_zone: String,
    pub settings: VolumeBackendSection,
    pub driver: Arc<dyn VolumeDriver>,
}

/// A running manager: its consumer, heartbeat and capacity reports.
pub struct ManagerHandle {
    pub manager: Arc<VolumeManager>,
    tasks: Vec<JoinHandle<()>>,
}

impl ManagerHandle {
    pub fn stop(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Drop for ManagerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts a manager for every backend in `[volume] enabled_backends`. A backend whose driver
/// cannot work here (no qemu-img, no volume group) is reported and left out, so the others
/// still serve.
pub async fn start_all(service: Arc<VolumeService>) -> anyhow::Result<Vec<ManagerHandle>> {
    let mut handles = Vec::new();
    for name in service.config.volume.enabled_backends.clone() {
        let driver = match drivers::from_config(&service.config, &name) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!("Volume backend {name} not started: {e}");
                continue;
            }
        };
        match start(service.clone(), &name, driver).await {
            Ok(h) => handles.push(h),
            Err(e) => tracing::error!("Volume backend {name} not started: {e:#}"),
        }
    }
    Ok(handles)
}

/// Starts the manager of backend `name` with `driver`.
pub async fn start(
    service: Arc<VolumeService>,
    name: &str,
    driver: Arc<dyn VolumeDriver>,
) -> anyhow::Result<ManagerHandle> {
    driver
        .setup()
        .await
        .map_err(|e| anyhow::anyhow!("{} driver setup: {e}", driver.driver_name()))?;
    let settings = service.config.volume_backend(name);
    let backend = format!("{}@{name}", crate::host_name(&service.config));
    let zone = settings
        .backend_availability_zone
        .clone()
        .unwrap_or_else(|| service.config.volume.storage_availability_zone.clone());
    let backend_name = settings
        .volume_backend_name
        .clone()
        .unwrap_or_else(|| name.to_string());
    let manager = Arc::new(VolumeManager {
        service,
        backend,
        name: name.to_string(),
        backend_name,
        availability_zone: zone.clone(),
        settings,
        driver,
    });
    services::register(
        &manager.service.db,
        &manager.backend,
        "cinder-volume",
        rpc::VOLUME_TOPIC,
        &zone,
    )
    .await
    .map_err(|e| anyhow::anyhow!("registering cinder-volume: {}", e.message))?;
    init_host::run(&manager).await;
    manager.report_capacity().await;
    let heartbeat = heartbeat_task(
        manager.service.clone(),
        manager.backend.clone(),
        "cinder-volume",
        rpc::VOLUME_TOPIC,
        zone,
    );
    let me = manager.clone();
    let reports = tokio::spawn(async move {
        let interval = Duration::from_secs(me.service.config.volume.periodic_interval.max(1));
        loop {
            tokio::time::sleep(interval).await;
            me.report_capacity().await;
        }
    });
    let listener = manager
        .service
        .bus
        .listen(rpc::VOLUME_TOPIC, &manager.backend)
        .await?;
    let me = manager.clone();
    let consumer = monostack_bus::serve(listener, move |msg| me.clone().handle(msg));
    tracing::info!(
        "Volume service {} started ({} driver, backend name {})",
        manager.backend,
        manager.driver.driver_name(),
        manager.backend_name
    );
    Ok(ManagerHandle {
        manager,
        tasks: vec![consumer, heartbeat, reports],
    })
}

/// The heartbeat of a service every `[volume] report_interval`; a deleted record registers
/// again.
pub(crate) fn heartbeat_task(
    service: Arc<VolumeService>,
    host: String,
    binary: &'static str,
    topic: &'static str,
    zone: String,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let interval = Duration::from_secs(service.config.volume.report_interval.max(1));
        loop {
            tokio::time::sleep(interval).await;
            match services::heartbeat(&service.db, &host, binary).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::info!("Service {binary} on {host} was deleted; registering again");
                    if let Err(e) =
                        services::register(&service.db, &host, binary, topic, &zone).await
                    {
                        tracing::error!(
                            "Service {binary} on {host} could not register again: {}",
                            e.message
                        );
                    }
                }
                Err(e) => tracing::warn!(
                    "Heartbeat of {binary} on {host} not recorded: {}",
                    e.message
                ),
            }
        }
    })
}

impl VolumeManager {
    async fn handle(self: Arc<Self>, msg: Message) -> Reply {
        let span = request_span(&msg.context);
        async move {
            let request = rpc::decode::<VolumeRequest>(&msg)
                .map_err(|e| format!("unknown volume method {}: {e}", msg.method))?;
            self.dispatch(&msg.context, request).await
        }
        .instrument(span)
        .await
    }

    async fn dispatch(&self, ctx: &Context, request: VolumeRequest) -> Reply {
        match request {
            VolumeRequest::CreateVolume {
                volume_id,
                image_id,
                backup_id,
            } => {
                self.create_volume(ctx, &volume_id, image_id.as_deref(), backup_id.as_deref())
                    .await;
                Ok(Value::Null)
            }
            VolumeRequest::CopyVolumeToImage {
                volume_id,
                image_id,
                disk_format,
            } => {
                self.copy_volume_to_image(ctx, &volume_id, &image_id, &disk_format)
                    .await;
                Ok(Value::Null)
            }
            VolumeRequest::DeleteVolume { volume_id, cascade } => {
                self.delete_volume(&volume_id, cascade).await;
                Ok(Value::Null)
            }
            VolumeRequest::ExtendVolume {
                volume_id,
                new_size,
            } => {
                self.extend_volume(&volume_id, new_size).await;
                Ok(Value::Null)
            }
            VolumeRequest::RetypeVolume {
                volume_id,
                new_type_id,
            } => {
                self.retype_volume(&volume_id, &new_type_id).await;
                Ok(Value::Null)
            }
            VolumeRequest::CreateSnapshot { snapshot_id } => {
                self.create_snapshot(&snapshot_id).await;
                Ok(Value::Null)
            }
            VolumeRequest::DeleteSnapshot { snapshot_id } => {
                self.delete_snapshot(&snapshot_id).await;
                Ok(Value::Null)
            }
            VolumeRequest::InitializeConnection {
                volume_id,
                connector,
            } => self.initialize_connection(&volume_id, &connector).await,
            VolumeRequest::TerminateConnection {
                volume_id,
                connector,
                force,
            } => {
                self.terminate_connection(&volume_id, &connector, force)
                    .await
            }
            VolumeRequest::InitializeConnectionSnapshot {
                snapshot_id,
                connector,
            } => {
                self.initialize_connection_snapshot(&snapshot_id, &connector)
                    .await
            }
            VolumeRequest::AttachmentUpdate {
                volume_id,
                attachment_id,
                connector,
            } => {
                self.attachment_update(&volume_id, &attachment_id, connector)
                    .await
            }
            VolumeRequest::AttachmentDelete {
                volume_id,
                attachment_id,
            } => self.attachment_delete(&volume_id, &attachment_id).await,
        }
    }

    /// Reports the backend's pools (Cinder's `_report_driver_status` +
    /// `update_service_capabilities`): the driver's stats, with what this service knows
    /// (zone, GiB allocated to volumes).
    pub async fn report_capacity(&self) {
        let stats = match self.driver.stats().await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("Failed to get the driver status of {}: {e}", self.backend);
                return;
            }
        };
        let allocated: i64 = match volumes::on_backend(&self.service.db, &self.backend).await {
            Ok(vs) => vs.iter().map(|v| v.size).sum(),
            Err(e) => {
                tracing::warn!(
                    "Allocated capacity of {} unknown: {}",
                    self.backend,
                    e.message
                );
                0
            }
        };
        let mut pools_out = Vec::new();
        for pool in &stats.pools {
            let mut caps = serde_json::to_value(pool).unwrap_or_else(|_| json!({}));
            if let Some(obj) = caps.as_object_mut() {
                obj.insert(
                    "volume_backend_name".into(),
                    json!(stats.volume_backend_name),
                );
                obj.insert("vendor_name".into(), json!(stats.vendor_name));
                obj.insert("driver_version".into(), json!(stats.driver_version));
                obj.insert("storage_protocol".into(), json!(stats.storage_protocol));
                obj.insert(
                    "backend_availability_zone".into(),
                    json!(self.availability_zone),
                );
                obj.insert("allocated_capacity_gb".into(), json!(allocated));
                obj.insert(
                    "timestamp".into(),
                    json!(monostack_common::time::iso_micros(
                        monostack_common::time::now_micros()
                    )),
                );
            }
            pools_out.push((format!("{}#{}", self.backend, pool.pool_name), caps));
        }
        tracing::debug!(
            "Capacity of {}: {:?}",
            self.backend,
            stats
                .pools
                .iter()
                .map(|p| (&p.pool_name, p.total_capacity_gb, p.free_capacity_gb))
                .collect::<Vec<_>>()
        );
        if let Err(e) = pools::report(&self.service.db, &self.backend, &pools_out).await {
            tracing::warn!(
                "Capacity report of {} not recorded: {}",
                self.backend,
                e.message
            );
        }
    }
}
