//! The volume scheduler (cinder-scheduler): it takes `create_volume` casts from the API,
//! filters the pools the volume managers report ([`filters`]), weighs the survivors
//! ([`weigh`]), records the chosen `host@backend#pool` on the volume and casts the create to
//! that backend's manager. A volume no pool can take ends in `error`.

pub mod filters;
pub mod host_state;

use crate::context::request_span;
use crate::db::{services, volumes};
use crate::flow::Flow;
use crate::rpc::{self, CreateVolumeSpec, SchedulerRequest, VolumeRequest};
use crate::states;
use crate::VolumeService;
use filters::Filter;
use host_state::{capacity_factors, PoolState};
use monostack_bus::{Context, Message, Reply};
use serde_json::Value;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// One weigher, by Cinder's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weigher {
    /// Most virtual free capacity wins (spreading, with a positive multiplier).
    Capacity,
    /// Least provisioned capacity wins.
    AllocatedCapacity,
}

impl Weigher {
    pub fn from_name(name: &str) -> Option<Weigher> {
        match name {
            "CapacityWeigher" => Some(Weigher::Capacity),
            "AllocatedCapacityWeigher" => Some(Weigher::AllocatedCapacity),
            _ => None,
        }
    }

    fn raw(self, pool: &PoolState, spec: &CreateVolumeSpec) -> f64 {
        match self {
            Weigher::Capacity => capacity_factors(pool, filters::wants_thin(spec)).1,
            Weigher::AllocatedCapacity => -pool.provisioned_capacity_gb,
        }
    }
}

pub struct VolumeScheduler {
    pub service: Arc<VolumeService>,
    pub host: String,
    filters: Vec<Filter>,
    weighers: Vec<Weigher>,
}

/// A running scheduler: its bus consumer and heartbeat.
pub struct SchedulerHandle {
    pub scheduler: Arc<VolumeScheduler>,
    tasks: Vec<JoinHandle<()>>,
}

impl SchedulerHandle {
    pub fn stop(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Drop for SchedulerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

impl VolumeScheduler {
    /// A scheduler with the configured filters and weighers; an unknown name is an error.
    pub fn new(service: Arc<VolumeService>) -> anyhow::Result<VolumeScheduler> {
        let cfg = &service.config.volume;
        let filters = cfg
            .scheduler_default_filters
            .iter()
            .map(|n| {
                Filter::from_name(n).ok_or_else(|| {
                    anyhow::anyhow!("[volume] scheduler_default_filters: unknown filter {n}")
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let weighers = cfg
            .scheduler_default_weighers
            .iter()
            .map(|n| {
                Weigher::from_name(n).ok_or_else(|| {
                    anyhow::anyhow!("[volume] scheduler_default_weighers: unknown weigher {n}")
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let host = crate::host_name(&service.config);
        Ok(VolumeScheduler {
            service,
            host,
            filters,
            weighers,
        })
    }

    /// Starts consuming `cinder-scheduler` as this host, with the `cinder-scheduler` service
    /// registered and heartbeating.
    pub async fn start(service: Arc<VolumeService>) -> anyhow::Result<SchedulerHandle> {
        let scheduler = Arc::new(VolumeScheduler::new(service)?);
        let zone = scheduler
            .service
            .config
            .volume
            .storage_availability_zone
            .clone();
        services::register(
            &scheduler.service.db,
            &scheduler.host,
            "cinder-scheduler",
            rpc::SCHEDULER_TOPIC,
            &zone,
        )
        .await
        .map_err(|e| anyhow::anyhow!("registering cinder-scheduler: {}", e.message))?;
        let heartbeat = crate::manager::heartbeat_task(
            scheduler.service.clone(),
            scheduler.host.clone(),
            "cinder-scheduler",
            rpc::SCHEDULER_TOPIC,
            zone,
        );
        let listener = scheduler
            .service
            .bus
            .listen(rpc::SCHEDULER_TOPIC, &scheduler.host)
            .await?;
        let me = scheduler.clone();
        let consumer = monostack_bus::serve(listener, move |msg| me.clone().handle(msg));
        tracing::info!(
            "Volume scheduler started on host {} with filters {:?} and weighers {:?}",
            scheduler.host,
            scheduler.filters,
            scheduler.weighers
        );
        Ok(SchedulerHandle {
            scheduler,
            tasks: vec![consumer, heartbeat],
        })
    }

    async fn handle(self: Arc<Self>, msg: Message) -> Reply {
        let span = request_span(&msg.context);
        async move {
            match rpc::decode::<SchedulerRequest>(&msg) {
                Ok(SchedulerRequest::CreateVolume(spec)) => {
                    self.create_volume(&msg.context, spec).await;
                    Ok(Value::Null)
                }
                Ok(SchedulerRequest::RetypeVolume {
                    volume_id,
                    new_type,
                    migration_policy,
                }) => {
                    self.retype(&msg.context, &volume_id, new_type, &migration_policy)
                        .await;
                    Ok(Value::Null)
                }
                Err(e) => Err(format!("unknown scheduler method {}: {e}", msg.method)),
            }
        }
        .instrument(span)
        .await
    }

    /// The pools that pass every filter, best first.
    pub async fn candidates(&self, spec: &CreateVolumeSpec) -> Result<Vec<PoolState>, String> {
        let mut pools = host_state::pool_states(&self.service)
            .await
            .map_err(|e| e.message)?;
        if let Some(backend) = &spec.backend {
            pools.retain(|p| &p.backend == backend);
        }
        if pools.is_empty() {
            return Err("No weighed backends available".into());
        }
        for filter in &self.filters {
            let before = pools.len();
            pools.retain(|p| filter.passes(p, spec));
            tracing::debug!(
                "Filter {} returned {} of {before} backends",
                filter.name(),
                pools.len()
            );
            if pools.is_empty() {
                return Err(format!("Filter {} returned 0 backends", filter.name()));
            }
        }
        Ok(self.weigh(pools, spec))
    }

    /// Orders pools by weight, highest first: each weigher's weights are normalised to 0..1
    /// and scaled by its multiplier, as Cinder's weighers are.
    fn weigh(&self, mut pools: Vec<PoolState>, spec: &CreateVolumeSpec) -> Vec<PoolState> {
        pools.sort_by(|a, b| a.name.cmp(&b.name));
        let mut totals = vec![0.0; pools.len()];
        for w in &self.weighers {
            let raw: Vec<f64> = pools.iter().map(|p| w.raw(p, spec)).collect();
            let (min, max) = raw
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                    (lo.min(*x), hi.max(*x))
                });
            let multiplier = match w {
                Weigher::Capacity => self.service.config.volume.capacity_weight_multiplier,
                Weigher::AllocatedCapacity => 1.0,
            };
            for (t, r) in totals.iter_mut().zip(raw) {
                let norm = if max > min {
                    (r - min) / (max - min)
                } else {
                    0.0
                };
                *t += norm * multiplier;
            }
        }
        let mut weighed: Vec<(f64, PoolState)> = totals.into_iter().zip(pools).collect();
        weighed.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
        weighed.into_iter().map(|(_, p)| p).collect()
    }

    /// Cinder's `volume_create_scheduler` flow.
    async fn create_volume(&self, ctx: &Context, spec: CreateVolumeSpec) {
        let mut flow = Flow::start("volume_create_scheduler", &spec.volume_id);
        let db = &self.service.db;
        let extracted = flow
            .task("ExtractSchedulerSpecTask", async {
                match volumes::get(db, &spec.volume_id).await {
                    Ok(Some(v)) if v.status == states::volume::CREATING && v.host.is_none() => {
                        Ok(v)
                    }
                    Ok(Some(v)) => Err(format!(
                        "volume {} is {} on {:?}; not scheduling it again",
                        v.id, v.status, v.host
                    )),
                    Ok(None) => Err(format!("volume {} is gone", spec.volume_id)),
                    Err(e) => Err(e.message),
                }
            })
            .await;
        if extracted.is_err() {
            return;
        }
        let chosen = flow
            .task("ScheduleCreateVolumeTask", self.place(ctx, &spec))
            .await;
        if let Err(reason) = chosen {
            tracing::error!("Failed to run task cinder.scheduler.flows.create_volume.ScheduleCreateVolumeTask;volume:create: No valid backend was found. {reason}");
            let _ = volumes::update_if(
                db,
                &spec.volume_id,
                &[states::volume::CREATING],
                &volumes::Changes::status(states::volume::ERROR),
            )
            .await;
        }
    }

    async fn place(&self, ctx: &Context, spec: &CreateVolumeSpec) -> Result<(), String> {
        let pools = self.candidates(spec).await?;
        let Some(best) = pools.first() else {
            return Err("No weighed backends available".into());
        };
        let changes = volumes::Changes {
            host: Some(Some(best.name.clone())),
            availability_zone: Some(best.availability_zone.clone()),
            ..Default::default()
        };
        if !volumes::update_if(
            &self.service.db,
            &spec.volume_id,
            &[states::volume::CREATING],
            &changes,
        )
        .await
        .map_err(|e| e.message)?
        {
            return Err(format!(
                "volume {} changed while it was scheduled",
                spec.volume_id
            ));
        }
        tracing::info!("Volume {} scheduled to {}", spec.volume_id, best.name);
        rpc::cast_volume(
            self.service.bus.as_ref(),
            ctx.clone(),
            &best.backend,
            &VolumeRequest::CreateVolume {
                volume_id: spec.volume_id.clone(),
                image_id: spec.image_id.clone(),
                backup_id: spec.backup_id.clone(),
            },
        )
        .await
        .map_err(|e| format!("cannot reach the volume service of {}: {e}", best.backend))
    }
}

impl VolumeScheduler {
    /// Cinder's `retype` in the scheduler: the volume's own pool must pass the filters for the
    /// new type (its capacity is already there); then its manager retypes it in place.
    async fn retype(
        &self,
        ctx: &Context,
        volume_id: &str,
        new_type: rpc::TypeSpec,
        migration_policy: &str,
    ) {
        let db = &self.service.db;
        let volume = match volumes::get(db, volume_id).await {
            Ok(Some(v)) if v.status == states::volume::RETYPING => v,
            Ok(_) => return tracing::warn!("Volume {volume_id} is no longer retyping"),
            Err(e) => return tracing::error!("Volume {volume_id}: {}", e.message),
        };
        let back = volume
            .previous_status
            .clone()
            .unwrap_or_else(|| states::volume::AVAILABLE.into());
        let restore = || async {
            let changes = volumes::Changes {
                status: Some(back.clone()),
                previous_status: Some(None),
                ..Default::default()
            };
            let _ = volumes::update_if(db, volume_id, &[states::volume::RETYPING], &changes).await;
        };
        let spec = CreateVolumeSpec {
            volume_id: volume_id.to_string(),
            size: 0,
            volume_type: new_type.clone(),
            availability_zone: None,
            snapshot_id: None,
            source_volid: None,
            backend: volume.backend().map(str::to_string),
            ..Default::default()
        };
        let fits = match self.candidates(&spec).await {
            Ok(pools) => pools
                .iter()
                .any(|p| volume.host.as_deref() == Some(p.name.as_str())),
            Err(_) => false,
        };
        if !fits {
            if migration_policy == "on-demand" {
                tracing::error!("Retype of volume {volume_id} to {} needs a migration to another backend, which this cloud does not do yet", new_type.name);
            } else {
                tracing::error!("Retype of volume {volume_id} to {}: Retype requires migration but is not allowed.", new_type.name);
            }
            return restore().await;
        }
        let Some(backend) = volume.backend() else {
            return restore().await;
        };
        let request = VolumeRequest::RetypeVolume {
            volume_id: volume_id.to_string(),
            new_type_id: new_type.id.clone(),
        };
        if let Err(e) =
            rpc::cast_volume(self.service.bus.as_ref(), ctx.clone(), backend, &request).await
        {
            tracing::error!("Retype of volume {volume_id}: the volume service of {backend} is unreachable ({e})");
            restore().await;
        }
    }
}
