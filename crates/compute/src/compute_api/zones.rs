//! Availability zones as Nova derives them: a compute host's zone is the `availability_zone`
//! of its aggregates, else `[compute] default_availability_zone`; the zones a user may ask for
//! are those of enabled compute services.

use crate::db::aggregates as aggregate_db;
use crate::db::services::{self as service_db, COMPUTE_BINARY};
use monostack_common::config::Config;
use monostack_common::ApiError;
use monostack_db::Database;

/// The zone of `host` set by its aggregates, if any sets one.
pub async fn aggregate_zone(db: &Database, host: &str) -> Result<Option<String>, ApiError> {
    let zones = aggregate_db::host_zones(db).await?;
    Ok(zones.get(host).filter(|z| !z.is_empty()).map(|z| z.iter().cloned().collect::<Vec<_>>().join(",")))
}

/// The zone of `host`.
pub async fn host_zone(db: &Database, config: &Config, host: &str) -> Result<String, ApiError> {
    Ok(aggregate_zone(db, host).await?.unwrap_or_else(|| config.compute.default_availability_zone.clone()))
}

/// The zones of enabled compute services (Nova's `get_availability_zones(get_only_available=True)`).
pub async fn available(db: &Database, config: &Config) -> Result<Vec<String>, ApiError> {
    let host_zones = aggregate_db::host_zones(db).await?;
    let mut zones: Vec<String> = Vec::new();
    for service in service_db::list(db, None, Some(COMPUTE_BINARY)).await?.into_iter().filter(|s| !s.disabled) {
        let zone = match host_zones.get(&service.host) {
            Some(z) if !z.is_empty() => z.iter().cloned().collect::<Vec<_>>().join(","),
            _ => config.compute.default_availability_zone.clone(),
        };
        if !zones.contains(&zone) {
            zones.push(zone);
        }
    }
    Ok(zones)
}
