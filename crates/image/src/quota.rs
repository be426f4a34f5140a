//! Per-project image quotas from unified limits, as Glance enforces them with oslo.limit:
//! image_count_total, image_count_uploading, image_size_total and image_stage_total (MiB).

use crate::db::images;
use crate::ImageService;
use axum::http::StatusCode;
use monostack_auth::AuthError;
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::collections::HashMap;

pub const COUNT_TOTAL: &str = "image_count_total";
pub const COUNT_UPLOADING: &str = "image_count_uploading";
pub const SIZE_TOTAL: &str = "image_size_total";
pub const STAGE_TOTAL: &str = "image_stage_total";

const MIB: i64 = 1 << 20;

/// Statuses during which an image counts as uploading.
const UPLOADING: &[&str] = &["saving", "uploading", "importing"];

async fn limits_of(service: &ImageService, project: &str) -> Result<HashMap<String, i64>, ApiError> {
    let Some(source) = &service.limits else { return Ok(HashMap::new()) };
    source.project_limits("image", project).await.map_err(|e| match e {
        AuthError::Unavailable(m) | AuthError::Unauthorized(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("Quota limits unavailable: {m}")),
    })
}

fn over_quota(resource: &str, limit: i64, usage: i64, delta: i64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("Quota exceeded for {resource}: limit {limit}, usage {usage}, requested {delta}"),
    )
}

/// What `project` uses of `resource`: images for the counts, bytes for the sizes.
async fn usage(service: &ImageService, project: &str, resource: &str) -> Result<i64, ApiError> {
    match resource {
        COUNT_TOTAL => images::count_owned(&service.db, project, None).await,
        COUNT_UPLOADING => images::count_owned(&service.db, project, Some(UPLOADING)).await,
        SIZE_TOTAL => images::bytes_owned(&service.db, project).await,
        _ => staged_bytes(service, project).await,
    }
}

/// Before creating an image for `project`.
pub async fn check_create(service: &ImageService, project: &str) -> Result<(), ApiError> {
    let limits = limits_of(service, project).await?;
    if let Some(&limit) = limits.get(COUNT_TOTAL) {
        let used = usage(service, project, COUNT_TOTAL).await?;
        if used + 1 > limit {
            return Err(over_quota(COUNT_TOTAL, limit, used, 1));
        }
    }
    Ok(())
}

/// Before data is uploaded (or staged, when `staging`) for `project`: returns the most bytes
/// the upload may bring, if limited.
pub async fn check_upload(service: &ImageService, project: &str, staging: bool, known_size: Option<u64>) -> Result<Option<u64>, ApiError> {
    let limits = limits_of(service, project).await?;
    if let Some(&limit) = limits.get(COUNT_UPLOADING) {
        let used = usage(service, project, COUNT_UPLOADING).await?;
        // The image being uploaded is already counted when it is saving.
        if used > limit {
            return Err(over_quota(COUNT_UPLOADING, limit, used, 1));
        }
    }
    let resource = if staging { STAGE_TOTAL } else { SIZE_TOTAL };
    let Some(&limit_mib) = limits.get(resource) else { return Ok(None) };
    let used = usage(service, project, resource).await?;
    let limit = limit_mib.saturating_mul(MIB);
    let delta = known_size.map(|s| i64::try_from(s).unwrap_or(i64::MAX)).unwrap_or(0);
    if used.saturating_add(delta) > limit {
        return Err(over_quota(resource, limit_mib, used / MIB, (delta + MIB - 1) / MIB));
    }
    Ok(Some(u64::try_from(limit - used).unwrap_or(0)))
}

/// `/v2/info/usage`: each resource's limit (-1 when unlimited) and usage, sizes in MiB.
pub async fn report(service: &ImageService, project: &str) -> Result<Value, ApiError> {
    let limits = limits_of(service, project).await?;
    let mut out = serde_json::Map::new();
    for resource in [SIZE_TOTAL, STAGE_TOTAL, COUNT_TOTAL, COUNT_UPLOADING] {
        let mut used = usage(service, project, resource).await?;
        if matches!(resource, SIZE_TOTAL | STAGE_TOTAL) {
            used /= MIB;
        }
        out.insert(resource.into(), json!({"limit": limits.get(resource).copied().unwrap_or(-1), "usage": used}));
    }
    Ok(Value::Object(out))
}

/// Bytes `project` has staged and not yet imported.
async fn staged_bytes(service: &ImageService, project: &str) -> Result<i64, ApiError> {
    let mut total = 0i64;
    for id in images::ids_owned(&service.db, project, &["uploading", "importing"]).await? {
        let size = service.staging.size(&id).await.map_err(ApiError::internal)?.unwrap_or(0);
        total = total.saturating_add(i64::try_from(size).unwrap_or(i64::MAX));
    }
    Ok(total)
}
