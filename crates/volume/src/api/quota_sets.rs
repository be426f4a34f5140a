//! `os-quota-sets` (per-project limits, with usage), `os-quota-class-sets` (the `default`
//! class) and `/limits` (absolute limits and what the caller's project uses).

use super::{own_target, ApiResult, Caller, State};
use crate::db::quotas;
use crate::quota;
use axum::extract::{OriginalUri, Path, State as S};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::json::Json as Body;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub fn routes() -> Router<State> {
    Router::new()
        .route(
            "/v3/os-quota-sets/{project}",
            get(show).put(update).delete(delete),
        )
        .route("/v3/os-quota-sets/{project}/defaults", get(defaults))
        .route(
            "/v3/os-quota-class-sets/{class}",
            get(class_show).put(class_update),
        )
        .route("/v3/limits", get(limits))
}

async fn show(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(project): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:quotas:show",
        &json!({"project_id": project}),
        &ctx,
    )?;
    let pairs = super::query::pairs(uri.query());
    let with_usage = super::query::get(&pairs, "usage")
        .map(|v| super::query::parse_bool("usage", v))
        .transpose()?
        .unwrap_or(false);
    let limits = quota::limits(&state, &project).await?;
    let mut set = Map::new();
    set.insert("id".into(), json!(project));
    if with_usage {
        let usage = quota::usage(&state, &project).await?;
        for (k, l) in &limits {
            set.insert(
                k.clone(),
                json!({"limit": l, "in_use": usage.get(k).copied().unwrap_or(0), "reserved": 0}),
            );
        }
    } else {
        for (k, l) in &limits {
            set.insert(k.clone(), json!(l));
        }
    }
    Ok(Json(json!({"quota_set": set})))
}

async fn defaults(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(project): Path<String>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:quotas:show",
        &json!({"project_id": project}),
        &ctx,
    )?;
    let mut set: Map<String, Value> = quota::defaults(&state)
        .await?
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    set.insert("id".into(), json!(project));
    Ok(Json(json!({"quota_set": set})))
}

/// The limits of a PUT body: known resources, integers of at least -1.
async fn parse_limits(state: &State, body: &Value, key: &str) -> ApiResult<BTreeMap<String, i64>> {
    let obj = super::input::object(body, key)?;
    let known = quota::defaults(state).await?;
    let mut bad = Vec::new();
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        if k == "id" || k == "tenant_id" || k == "class_name" {
            continue;
        }
        if !known.contains_key(k) {
            bad.push(k.clone());
            continue;
        }
        let n = super::input::integer(k, v)?;
        if n < -1 {
            return Err(ApiError::bad_request(format!("Invalid input for field/attribute {k}. Value: {n}. {n} is less than the minimum of -1")));
        }
        out.insert(k.clone(), n);
    }
    if !bad.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Invalid input received: Bad key(s) in quota set: {}",
            bad.join(", ")
        )));
    }
    Ok(out)
}

async fn update(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(project): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:quotas:update",
        &json!({"project_id": project}),
        &ctx,
    )?;
    let new = parse_limits(&state, &body, "quota_set").await?;
    let usage = quota::usage(&state, &project).await?;
    for (k, v) in &new {
        let used = usage.get(k).copied().unwrap_or(0);
        if *v >= 0 && *v < used {
            return Err(ApiError::bad_request(format!("Invalid input received: Quota {k} limit must be equal or greater than existing resources. Current usage is {used} and the requested limit is {v}.")));
        }
    }
    quotas::set_project(&state.db, &project, &new).await?;
    let set: Map<String, Value> = quota::limits(&state, &project)
        .await?
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    Ok(Json(json!({"quota_set": set})))
}

async fn delete(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(project): Path<String>,
) -> ApiResult<StatusCode> {
    state.authorize(
        "volume_extension:quotas:delete",
        &json!({"project_id": project}),
        &ctx,
    )?;
    quotas::delete_project(&state.db, &project).await?;
    Ok(StatusCode::OK)
}

async fn class_show(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(class): Path<String>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:quota_classes:get",
        &own_target(&ctx),
        &ctx,
    )?;
    let mut set: Map<String, Value> = quota::defaults(&state)
        .await?
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    if class != "default" {
        for (k, v) in quotas::class_limits(&state.db, &class).await? {
            set.insert(k, json!(v));
        }
    }
    set.insert("id".into(), json!(class));
    Ok(Json(json!({"quota_class_set": set})))
}

async fn class_update(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(class): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:quota_classes:update",
        &own_target(&ctx),
        &ctx,
    )?;
    let new = parse_limits(&state, &body, "quota_class_set").await?;
    quotas::set_class(&state.db, &class, &new).await?;
    let mut set: Map<String, Value> = quota::defaults(&state)
        .await?
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    for (k, v) in quotas::class_limits(&state.db, &class).await? {
        set.insert(k, json!(v));
    }
    Ok(Json(json!({"quota_class_set": set})))
}

async fn limits(S(state): S<State>, Caller(ctx): Caller) -> ApiResult<Json<Value>> {
    let project = ctx.project_id().to_string();
    let l = quota::limits(&state, &project).await?;
    let get = |k: &str| l.get(k).copied().unwrap_or(-1);
    let mut absolute = json!({
        "maxTotalVolumes": get("volumes"),
        "maxTotalSnapshots": get("snapshots"),
        "maxTotalVolumeGigabytes": get("gigabytes"),
        "maxTotalBackups": get("backups"),
        "maxTotalBackupGigabytes": get("backup_gigabytes"),
    });
    if state.allowed("limits_extension:used_limits", &own_target(&ctx), &ctx) {
        let u = quota::usage(&state, &project).await?;
        let used = |k: &str| u.get(k).copied().unwrap_or(0);
        absolute["totalVolumesUsed"] = json!(used("volumes"));
        absolute["totalGigabytesUsed"] = json!(used("gigabytes"));
        absolute["totalSnapshotsUsed"] = json!(used("snapshots"));
        absolute["totalBackupsUsed"] = json!(used("backups"));
        absolute["totalBackupGigabytesUsed"] = json!(used("backup_gigabytes"));
    }
    Ok(Json(json!({"limits": {"rate": [], "absolute": absolute}})))
}
