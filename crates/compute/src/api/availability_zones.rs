//! `/os-availability-zone`: the zones users may choose (those of enabled services, the
//! internal one hidden) and, for admins, each zone's hosts with their services' state.
//! A compute host's zone comes from the `availability_zone` metadata of its aggregates, else
//! `[compute] default_availability_zone`; other services live in
//! `internal_service_availability_zone`.

use super::{view, ApiResult, State};
use crate::db::aggregates as aggregate_db;
use crate::db::services::{self as service_db, Service};
use crate::ComputeService;
use axum::extract::State as S;
use axum::routing::get;
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/os-availability-zone", get(index))
        .route("/v2.1/os-availability-zone/detail", get(detail))
}

/// Each service with its availability zone, as Nova's `set_availability_zones` assigns them.
pub async fn with_zones(svc: &ComputeService, services: Vec<Service>) -> Result<Vec<(Service, String)>, ApiError> {
    let host_zones = aggregate_db::host_zones(&svc.db).await?;
    let cfg = &svc.config.compute;
    Ok(services
        .into_iter()
        .map(|s| {
            let zone = if !s.is_compute() {
                cfg.internal_service_availability_zone.clone()
            } else {
                match host_zones.get(&s.host) {
                    Some(zones) if !zones.is_empty() => zones.iter().cloned().collect::<Vec<_>>().join(","),
                    _ => cfg.default_availability_zone.clone(),
                }
            };
            (s, zone)
        })
        .collect())
}

/// (zones with an enabled service, zones whose services are all disabled), each sorted.
fn split_zones(services: &[(Service, String)]) -> (BTreeSet<String>, BTreeSet<String>) {
    let available: BTreeSet<String> = services.iter().filter(|(s, _)| !s.disabled).map(|(_, z)| z.clone()).collect();
    let unavailable = services.iter().filter(|(s, _)| s.disabled).map(|(_, z)| z.clone()).filter(|z| !available.contains(z)).collect();
    (available, unavailable)
}

async fn index(S(state): S<State>, Authenticated(ctx): Authenticated) -> ApiResult<Json<Value>> {
    state.authorize("os_compute_api:os-availability-zone:list", &json!({}), &ctx)?;
    let services = with_zones(&state, service_db::list(&state.db, None, None).await?).await?;
    let (available, unavailable) = split_zones(&services);
    let internal = &state.config.compute.internal_service_availability_zone;
    let entry = |zone: &String, up: bool| json!({"zoneName": zone, "zoneState": {"available": up}, "hosts": null});
    let info: Vec<Value> = available
        .iter()
        .filter(|z| *z != internal)
        .map(|z| entry(z, true))
        .chain(unavailable.iter().filter(|z| *z != internal).map(|z| entry(z, false)))
        .collect();
    Ok(Json(json!({"availabilityZoneInfo": info})))
}

async fn detail(S(state): S<State>, Authenticated(ctx): Authenticated) -> ApiResult<Json<Value>> {
    state.authorize("os_compute_api:os-availability-zone:detail", &json!({}), &ctx)?;
    let services = with_zones(&state, service_db::list(&state.db, None, None).await?).await?;
    let (available, unavailable) = split_zones(&services);
    let down_time = state.config.compute.service_down_time;
    let now = now_micros();
    // zone → host → binary → state, from enabled services only.
    let mut hosts: BTreeMap<&str, BTreeMap<&str, Map<String, Value>>> = BTreeMap::new();
    for (s, zone) in services.iter().filter(|(s, _)| !s.disabled) {
        let state_of = json!({
            "available": service_db::is_up(s, down_time, now),
            "active": !s.disabled,
            "updated_at": view::opt_timestamp(s.updated_at),
        });
        hosts.entry(zone.as_str()).or_default().entry(s.host.as_str()).or_default().insert(s.binary.clone(), state_of);
    }
    let mut info: Vec<Value> = available
        .iter()
        .map(|z| json!({"zoneName": z, "zoneState": {"available": true}, "hosts": hosts.get(z.as_str()).cloned().unwrap_or_default()}))
        .collect();
    info.extend(unavailable.iter().map(|z| json!({"zoneName": z, "zoneState": {"available": false}, "hosts": null})));
    Ok(Json(json!({"availabilityZoneInfo": info})))
}
