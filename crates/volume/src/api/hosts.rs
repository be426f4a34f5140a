//! `os-hosts` (Cinder's deprecated but still served Host API): the enabled services as hosts,
//! and the volume and snapshot usage of one volume host, in total and per project.

use super::{own_target, ApiResult, Caller, State};
use crate::db::{services, snapshots, volumes};
use crate::rpc::VOLUME_TOPIC;
use axum::extract::{OriginalUri, Path, State as S};
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/os-hosts", get(index))
        .route("/v3/os-hosts/{host}", get(show))
}

async fn index(S(state): S<State>, Caller(ctx): Caller, OriginalUri(uri): OriginalUri) -> ApiResult<Json<Value>> {
    state.authorize("volume_extension:hosts", &own_target(&ctx), &ctx)?;
    let pairs = super::query::pairs(uri.query());
    let zone = super::query::get(&pairs, "zone").filter(|z| !z.is_empty());
    let down_time = state.config.volume.service_down_time;
    let hosts: Vec<Value> = services::list(&state.db)
        .await?
        .iter()
        .filter(|s| !s.disabled && zone.is_none_or(|z| s.availability_zone == z))
        .map(|s| {
            json!({
                "host_name": s.host,
                "service": s.topic,
                "zone": s.availability_zone,
                "service-status": if s.is_up(down_time) { "available" } else { "unavailable" },
                "service-state": "enabled",
                "last-update": super::view::ts(s.updated_at),
            })
        })
        .collect();
    Ok(Json(json!({"hosts": hosts})))
}

/// `(count, GiB)` as the strings Cinder shows.
fn usage(sizes: impl Iterator<Item = i64>) -> (String, String) {
    let (count, total) = sizes.fold((0_i64, 0_i64), |(n, sum), size| (n + 1, sum + size));
    (count.to_string(), total.to_string())
}

fn resource(host: &str, project: &str, volumes: (String, String), snapshots: (String, String)) -> Value {
    json!({"resource": {
        "host": host,
        "project": project,
        "volume_count": volumes.0,
        "total_volume_gb": volumes.1,
        "snapshot_count": snapshots.0,
        "total_snapshot_gb": snapshots.1,
    }})
}

async fn show(S(state): S<State>, Caller(ctx): Caller, Path(host): Path<String>) -> ApiResult<Json<Value>> {
    state.authorize("volume_extension:hosts", &own_target(&ctx), &ctx)?;
    let known = services::list(&state.db).await?.into_iter().any(|s| !s.disabled && s.host == host && s.topic == VOLUME_TOPIC);
    if !known {
        return Err(ApiError::not_found(format!("Host {host} could not be found.")));
    }
    let vols: Vec<_> = volumes::list(&state.db, None)
        .await?
        .into_iter()
        .filter(|v| v.host.as_deref().is_some_and(|h| super::services::host_matches(&host, h)))
        .collect();
    let on_this_host: BTreeSet<&str> = vols.iter().map(|v| v.id.as_str()).collect();
    let snaps: Vec<_> = snapshots::list(&state.db, None).await?.into_iter().filter(|s| on_this_host.contains(s.volume_id.as_str())).collect();
    let projects: BTreeSet<&str> = vols.iter().map(|v| v.project_id.as_str()).collect();
    let mut resources = vec![resource(&host, "(total)", usage(vols.iter().map(|v| v.size)), usage(snaps.iter().map(|s| s.volume_size)))];
    for project in projects {
        resources.push(resource(
            &host,
            project,
            usage(vols.iter().filter(|v| v.project_id == project).map(|v| v.size)),
            usage(snaps.iter().filter(|s| s.project_id == project).map(|s| s.volume_size)),
        ));
    }
    Ok(Json(json!({"host": resources})))
}

#[cfg(test)]
mod tests {
    use super::super::services::host_matches;

    #[test]
    fn volume_hosts_match_with_backend_and_pool() {
        assert!(host_matches("node@file-1", "node@file-1#file-1"));
        assert!(host_matches("node@file-1", "node@file-1"));
        assert!(host_matches("node", "node@file-1#pool"));
        assert!(!host_matches("node@file-1", "node@file-2#pool"));
        assert!(!host_matches("node", "node2@file-1"));
    }
}
