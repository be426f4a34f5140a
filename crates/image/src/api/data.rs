//! Image data: `PUT/GET /v2/images/{id}/file` and `PUT /v2/images/{id}/stage`.

use super::{ApiResult, State};
use crate::db::images as image_db;
use crate::inspect::recorded_virtual_size;
use crate::quota;
use crate::store::{ByteRange, StoreError};
use crate::upload::{self, UploadError};
use crate::ImageService;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State as S};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use futures::{Stream, StreamExt};
use monostack_auth::middleware::Authenticated;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use std::sync::Arc;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2/images/{id}/file", get(download).put(upload))
        .route("/v2/images/{id}/stage", put(stage))
}

/// Glance takes image data only as `application/octet-stream` (a missing type is tolerated).
fn check_octet_stream(headers: &HeaderMap) -> ApiResult<()> {
    match headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        None => Ok(()),
        Some(ct) if ct.split(';').next().map(str::trim) == Some("application/octet-stream") => Ok(()),
        Some(ct) => Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("Content type '{ct}' is not supported; use application/octet-stream"))),
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

async fn upload(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>, headers: HeaderMap, body: Body) -> ApiResult<StatusCode> {
    check_octet_stream(&headers)?;
    let found = state.find(&id, &ctx).await?;
    state.authorize_on("upload_image", &found, &ctx)?;
    let img = &found.image;
    if img.disk_format.is_none() || img.container_format.is_none() {
        return Err(ApiError::bad_request("Properties disk_format, container_format must be set prior to saving data."));
    }
    if !image_db::transition(&state.db, &id, &["queued"], "saving").await? {
        return Err(ApiError::conflict(format!("Image status transition from {} to saving is not allowed", img.status)));
    }
    let limit = match upload_limit(&state, img.owner.as_deref(), false, content_length(&headers)).await {
        Ok(limit) => limit,
        Err(e) => {
            image_db::transition(&state.db, &id, &["saving"], "queued").await?;
            return Err(e);
        }
    };
    // The upload runs in its own task: if the client goes away and the request future is
    // dropped, the task still sees the broken body and records the image as killed.
    let task_state = state.clone();
    let stream = body.into_data_stream();
    tokio::spawn(async move { ingest(&task_state, &id, stream, limit, "saving").await })
        .await
        .map_err(ApiError::internal)??;
    Ok(StatusCode::NO_CONTENT)
}

/// Most bytes an upload may bring: the size cap, lowered by the owner's quota.
async fn upload_limit(state: &ImageService, owner: Option<&str>, staging: bool, known: Option<u64>) -> ApiResult<u64> {
    let cap = state.config.image.image_size_cap;
    if known.is_some_and(|n| n > cap) {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("Image exceeds the storage limit of {cap} bytes")));
    }
    let quota = match owner {
        Some(owner) => quota::check_upload(state, owner, staging, known).await?,
        None => None,
    };
    Ok(quota.map_or(cap, |q| q.min(cap)))
}

/// Streams data into the store for an image in status `during` (saving, or importing), and
/// records the result: active with its hashes and sizes, back to queued when the data was
/// refused, killed when the transfer failed.
pub async fn ingest<S, E>(state: &ImageService, id: &str, data: S, max_bytes: u64, during: &str) -> ApiResult<()>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin + Send,
    E: std::fmt::Display,
{
    let writer = state.store.begin(id).await.map_err(ApiError::internal)?;
    let declared = image_db::get(&state.db, id).await?.and_then(|i| i.disk_format).unwrap_or_default();
    let outcome = upload::receive(data, writer, &declared, max_bytes).await;
    let received = match outcome {
        Ok(r) => r,
        Err(e) => {
            let (next, error) = match &e {
                UploadError::Refused(m) => ("queued", ApiError::bad_request(m.clone())),
                UploadError::TooLarge(m) => ("queued", ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, m.clone())),
                UploadError::Failed(m) => ("killed", ApiError::bad_request(format!("Image data could not be stored: {m}"))),
            };
            let next = if during == "importing" { "queued" } else { next };
            image_db::transition(&state.db, id, &[during], next).await?;
            tracing::warn!("image {id}: data not stored ({e}); status {next}");
            return Err(error);
        }
    };
    let Some(mut img) = image_db::get(&state.db, id).await? else {
        let _ = state.store.delete(id).await;
        return Err(super::not_found(id));
    };
    let declared = img.disk_format.clone().unwrap_or_default();
    img.size = Some(i64::try_from(received.size).unwrap_or(i64::MAX));
    img.virtual_size = Some(i64::try_from(recorded_virtual_size(&declared, &received.inspection, received.size)).unwrap_or(i64::MAX));
    img.checksum = Some(received.md5);
    img.os_hash_algo = Some("sha512".into());
    img.os_hash_value = Some(received.sha512);
    img.location = Some(received.location);
    img.stores = Some(state.store.id().to_string());
    img.status = "active".into();
    img.updated_at = now_micros();
    if img.properties.contains_key("os_glance_importing_to_stores") {
        img.properties.insert("os_glance_importing_to_stores".into(), String::new());
    }
    if !image_db::save(&state.db, &img, during).await? {
        // Deleted (or otherwise changed) while the data was arriving: do not keep the data.
        let _ = state.store.delete(id).await;
        return Err(ApiError::conflict(format!("Image {id} changed while its data was being stored")));
    }
    tracing::info!("image {id} active: {} bytes, virtual size {:?}", received.size, img.virtual_size);
    Ok(())
}

async fn stage(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>, headers: HeaderMap, body: Body) -> ApiResult<StatusCode> {
    check_octet_stream(&headers)?;
    if !state.config.image.enabled_import_methods.iter().any(|m| m == "glance-direct") {
        return Err(ApiError::not_found("The glance-direct import method is not enabled"));
    }
    let found = state.find(&id, &ctx).await?;
    state.authorize_on("modify_image", &found, &ctx)?;
    if !image_db::transition(&state.db, &id, &["queued"], "uploading").await? {
        return Err(ApiError::conflict(format!("Image status transition from {} to uploading is not allowed", found.image.status)));
    }
    let max = match upload_limit(&state, found.image.owner.as_deref(), true, content_length(&headers)).await {
        Ok(max) => max,
        Err(e) => {
            image_db::transition(&state.db, &id, &["uploading"], "queued").await?;
            return Err(e);
        }
    };
    let task_state = state.clone();
    let stream = body.into_data_stream();
    tokio::spawn(async move { stage_data(&task_state, &id, stream, max).await }).await.map_err(ApiError::internal)??;
    Ok(StatusCode::NO_CONTENT)
}

/// Copies staged data to the staging store; on failure the image goes back to queued.
async fn stage_data<S, E>(state: &Arc<ImageService>, id: &str, mut data: S, max: u64) -> ApiResult<()>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut writer = state.staging.begin(id).await.map_err(ApiError::internal)?;
    let mut size = 0u64;
    let failure = loop {
        match data.next().await {
            Some(Ok(chunk)) => {
                size += chunk.len() as u64;
                if size > max {
                    break ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("Image exceeds the staging limit of {max} bytes"));
                }
                if let Err(e) = writer.write(chunk).await {
                    break ApiError::internal(e);
                }
            }
            Some(Err(e)) => break ApiError::bad_request(format!("Image data transfer failed: {e}")),
            None => match writer.commit().await {
                Ok(_) => return Ok(()),
                Err(e) => {
                    image_db::transition(&state.db, id, &["uploading"], "queued").await?;
                    return Err(ApiError::internal(e));
                }
            },
        }
    };
    writer.abort().await;
    image_db::transition(&state.db, id, &["uploading"], "queued").await?;
    Err(failure)
}

async fn download(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    let found = state.find(&id, &ctx).await?;
    state.authorize_on("download_image", &found, &ctx)?;
    let img = &found.image;
    if img.status == "deactivated" && !state.is_admin(&ctx) {
        return Err(ApiError::forbidden("The requested image has been deactivated. Image data download is forbidden."));
    }
    let (Some(size), true) = (img.size, img.location.is_some()) else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let size = u64::try_from(size).unwrap_or(0);
    let range = requested_range(&headers, size)?;
    let stream = match state.store.read(&id, range).await {
        Ok(s) => s,
        Err(StoreError::NotFound(_)) => return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("Data of image {id} is missing from the store"))),
        Err(e) => return Err(ApiError::internal(e)),
    };
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let length = range.map_or(size, |r| r.byte_count());
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    match range {
        Some(r) => {
            *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {}-{}/{size}", r.first, r.last)) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
        }
        None => {
            if let Some(Ok(v)) = img.checksum.as_deref().map(HeaderValue::from_str) {
                resp.headers_mut().insert("content-md5", v);
            }
        }
    }
    Ok(resp)
}

/// The byte range of a `Range: bytes=…` request (or Glance's legacy `Content-Range: bytes a-b/*`);
/// 416 when it cannot be satisfied. Multi-range requests get the whole image.
fn requested_range(headers: &HeaderMap, size: u64) -> ApiResult<Option<ByteRange>> {
    let unsatisfiable = || ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, format!("Requested range not satisfiable; the image has {size} bytes"));
    let (spec, legacy) = if let Some(v) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        (v.trim().strip_prefix("bytes=").ok_or_else(unsatisfiable)?.to_string(), false)
    } else if let Some(v) = headers.get(header::CONTENT_RANGE).and_then(|v| v.to_str().ok()) {
        let v = v.trim().strip_prefix("bytes ").ok_or_else(unsatisfiable)?;
        (v.split('/').next().unwrap_or("").to_string(), true)
    } else {
        return Ok(None);
    };
    if spec.contains(',') && !legacy {
        return Ok(None);
    }
    let (first, last) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let parse = |s: &str| s.trim().parse::<u64>().map_err(|_| unsatisfiable());
    let range = match (first.trim(), last.trim()) {
        ("", suffix) => {
            let n = parse(suffix)?.min(size);
            if n == 0 {
                return Err(unsatisfiable());
            }
            ByteRange { first: size - n, last: size - 1 }
        }
        (f, "") => ByteRange { first: parse(f)?, last: size.saturating_sub(1) },
        (f, l) => ByteRange { first: parse(f)?, last: parse(l)?.min(size.saturating_sub(1)) },
    };
    if size == 0 || range.first > range.last || range.first >= size {
        return Err(unsatisfiable());
    }
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(header_name: header::HeaderName, value: &str, size: u64) -> Result<Option<(u64, u64)>, u16> {
        let mut h = HeaderMap::new();
        h.insert(header_name, value.parse().unwrap());
        requested_range(&h, size).map(|r| r.map(|r| (r.first, r.last))).map_err(|e| e.status.as_u16())
    }

    #[test]
    fn ranges() {
        assert_eq!(range(header::RANGE, "bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(range(header::RANGE, "bytes=90-", 100), Ok(Some((90, 99))));
        assert_eq!(range(header::RANGE, "bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(range(header::RANGE, "bytes=50-500", 100), Ok(Some((50, 99))));
        assert_eq!(range(header::CONTENT_RANGE, "bytes 1-2/*", 100), Ok(Some((1, 2))));
        assert_eq!(range(header::RANGE, "bytes=100-", 100), Err(416));
        assert_eq!(range(header::RANGE, "bytes=5-2", 100), Err(416));
        assert_eq!(range(header::RANGE, "items=1-2", 100), Err(416));
        assert_eq!(range(header::RANGE, "bytes=0-1,5-6", 100), Ok(None));
    }
}
