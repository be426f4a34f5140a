//! Whether a host's compute service is up (Nova's servicegroup API), from the services the
//! conductor registers: delete, resize, confirm and evacuate depend on it.

use crate::db::services::{self as service_db, COMPUTE_BINARY};
use monostack_common::config::Config;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::Database;

/// None when the host has no compute service, else whether it is up.
pub async fn compute_service_up(db: &Database, config: &Config, host: &str) -> Result<Option<bool>, ApiError> {
    let service = service_db::by_host_and_binary(db, host, COMPUTE_BINARY).await?;
    Ok(service.map(|s| service_db::is_up(&s, config.compute.service_down_time, now_micros())))
}

/// A host's state for `host_status` (2.16), as Nova derives it: DOWN when forced down,
/// MAINTENANCE when disabled, UP when reporting, UNKNOWN when silent; "" without a host or
/// compute service.
pub async fn host_status(db: &Database, config: &Config, host: Option<&str>) -> Result<String, ApiError> {
    let Some(host) = host else { return Ok(String::new()) };
    let Some(service) = service_db::by_host_and_binary(db, host, COMPUTE_BINARY).await? else {
        return Ok(String::new());
    };
    let status = if service.forced_down {
        "DOWN"
    } else if service.disabled {
        "MAINTENANCE"
    } else if service_db::is_up(&service, config.compute.service_down_time, now_micros()) {
        "UP"
    } else {
        "UNKNOWN"
    };
    Ok(status.into())
}
