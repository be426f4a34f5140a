//! What the scheduler knows of each pool: the last report of its volume manager (from the
//! database), the GiB already provisioned there (also from the database, so volumes
//! scheduled since the last report count at once), and its service's zone and health.

use crate::db::{pools, services, volumes};
use crate::VolumeService;
use monostack_common::ApiError;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct PoolState {
    /// `host@backend#pool`.
    pub name: String,
    /// `host@backend`.
    pub backend: String,
    pub availability_zone: String,
    pub volume_backend_name: String,
    pub total_capacity_gb: f64,
    pub free_capacity_gb: f64,
    pub provisioned_capacity_gb: f64,
    pub reserved_percentage: f64,
    pub max_over_subscription_ratio: f64,
    pub thin_provisioning_support: bool,
    /// The whole report, for CapabilitiesFilter.
    pub capabilities: Value,
}

/// The pools of every volume service that is up and enabled.
pub async fn pool_states(service: &VolumeService) -> Result<Vec<PoolState>, ApiError> {
    let down_time = service.config.volume.service_down_time;
    let live: Vec<services::Service> = services::list(&service.db)
        .await?
        .into_iter()
        .filter(|s| s.binary == "cinder-volume" && !s.disabled && s.is_up(down_time))
        .collect();
    let allocated = volumes::allocated_per_pool(&service.db).await?;
    let mut out = Vec::new();
    for pool in pools::list(&service.db).await? {
        let Some(svc) = live.iter().find(|s| s.host == pool.backend) else {
            continue;
        };
        let caps = &pool.capabilities;
        let num = |k: &str, default: f64| caps.get(k).and_then(Value::as_f64).unwrap_or(default);
        out.push(PoolState {
            availability_zone: caps
                .get("backend_availability_zone")
                .and_then(Value::as_str)
                .unwrap_or(&svc.availability_zone)
                .to_string(),
            volume_backend_name: caps
                .get("volume_backend_name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            total_capacity_gb: num("total_capacity_gb", 0.0),
            free_capacity_gb: num("free_capacity_gb", 0.0),
            provisioned_capacity_gb: allocated.get(&pool.name).copied().unwrap_or(0) as f64,
            reserved_percentage: num("reserved_percentage", 0.0),
            max_over_subscription_ratio: num("max_over_subscription_ratio", 1.0),
            thin_provisioning_support: caps
                .get("thin_provisioning_support")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            capabilities: pool.capabilities.clone(),
            backend: pool.backend,
            name: pool.name,
        });
    }
    Ok(out)
}

/// Cinder's capacity factors: (total available, virtual free) GiB of a pool for a thin or
/// thick volume (`sched_utils.calculate_capacity_factors`).
pub fn capacity_factors(pool: &PoolState, thin: bool) -> (f64, f64) {
    let total = pool.total_capacity_gb;
    let reserved_capacity = (total * pool.reserved_percentage / 100.0).floor();
    let total_reserved_available = total - reserved_capacity;
    if thin && pool.thin_provisioning_support {
        let total_available = total_reserved_available * pool.max_over_subscription_ratio;
        (
            total_available,
            total_available - pool.provisioned_capacity_gb,
        )
    } else {
        let calculated_free = total_reserved_available - pool.provisioned_capacity_gb;
        (
            total_reserved_available,
            calculated_free.min(pool.free_capacity_gb),
        )
    }
}
