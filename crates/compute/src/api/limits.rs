//! `GET /limits`: the caller's project limits and usage under Nova's absolute-limit names
//! (admins may ask for another project with `tenant_id`). Nova-network limits go at 2.36,
//! `maxImageMeta` at 2.39, the personality limits at 2.57.

use super::query::Query;
use super::{ApiResult, Microversion, State};
use crate::quota;
use axum::extract::{RawQuery, State as S};
use axum::routing::get;
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new().route("/v2.1/limits", get(index))
}

/// (quota resource, the absolute limits that show it).
const LIMIT_NAMES: &[(&str, &[&str])] = &[
    ("ram", &["maxTotalRAMSize"]),
    ("instances", &["maxTotalInstances"]),
    ("cores", &["maxTotalCores"]),
    ("key_pairs", &["maxTotalKeypairs"]),
    ("floating_ips", &["maxTotalFloatingIps"]),
    ("metadata_items", &["maxServerMeta", "maxImageMeta"]),
    ("injected_files", &["maxPersonality"]),
    ("injected_file_content_bytes", &["maxPersonalitySize"]),
    ("security_groups", &["maxSecurityGroups"]),
    ("security_group_rules", &["maxSecurityGroupRules"]),
    ("server_groups", &["maxServerGroups"]),
    ("server_group_members", &["maxServerGroupMembers"]),
];

/// (usage name, quota resource).
const USED_NAMES: &[(&str, &str)] = &[
    ("totalRAMUsed", "ram"),
    ("totalCoresUsed", "cores"),
    ("totalInstancesUsed", "instances"),
    ("totalFloatingIpsUsed", "floating_ips"),
    ("totalSecurityGroupsUsed", "security_groups"),
    ("totalServerGroupsUsed", "server_groups"),
];

fn filtered(mv: Microversion) -> &'static [&'static str] {
    if mv.at_least(57) {
        &["floating_ips", "security_groups", "security_group_rules", "injected_files", "injected_file_content_bytes"]
    } else if mv.at_least(36) {
        &["floating_ips", "security_groups", "security_group_rules"]
    } else {
        &[]
    }
}

async fn index(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let query = Query::parse(raw.as_deref());
    if mv.at_least(75) {
        query.only(&["tenant_id"])?;
    }
    state.authorize("os_compute_api:limits", &json!({}), &ctx)?;
    let mut project_id = ctx.project_id.clone().unwrap_or_default();
    if let Some(tenant) = query.get("tenant_id") {
        state.authorize("os_compute_api:limits:other_project", &json!({"project_id": ctx.project_id, "user_id": ctx.user_id}), &ctx)?;
        project_id = tenant.to_string();
    }
    let limits = quota::project_limits(&state, &project_id).await?;
    let usage = quota::usage(&state, &project_id, None).await?;
    let skip = filtered(mv);
    let mut absolute = Map::new();
    for (resource, names) in LIMIT_NAMES.iter().filter(|(r, _)| !skip.contains(r)) {
        for name in names.iter().filter(|n| !(mv.at_least(39) && **n == "maxImageMeta")) {
            absolute.insert(name.to_string(), json!(limits[resource]));
        }
    }
    for (name, resource) in USED_NAMES.iter().filter(|(_, r)| !skip.contains(r)) {
        absolute.insert(name.to_string(), json!(usage.of(resource)));
    }
    Ok(Json(json!({"limits": {"rate": [], "absolute": absolute}})))
}
