//! Running image imports in the background. The image is `importing` while the data moves;
//! success makes it `active`; failure puts it back to `queued` with
//! `os_glance_failed_import` naming the stores that failed and `os_glance_import_error` saying
//! why, so the caller sees the outcome on the image itself.

use crate::api::data::ingest;
use crate::db::images as image_db;
use crate::db::tasks::{self, Task};
use crate::ImageService;
use futures::StreamExt;
use monostack_common::ApiError;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// Data staged with `PUT …/stage`.
    GlanceDirect,
    /// Data fetched from a URL.
    WebDownload(String),
    /// Data copied to further stores.
    CopyImage,
}

impl Method {
    pub fn name(&self) -> &'static str {
        match self {
            Method::GlanceDirect => "glance-direct",
            Method::WebDownload(_) => "web-download",
            Method::CopyImage => "copy-image",
        }
    }
}

/// Starts the import of image `id` (already `importing`) into `stores`, recorded as `task`.
pub async fn spawn(state: Arc<ImageService>, id: String, method: Method, stores: Vec<String>, task: Task) -> Result<(), ApiError> {
    tasks::insert(&state.db, &task).await?;
    tasks::set_image(&state.db, &task.id, &id).await?;
    tokio::spawn(async move {
        let name = method.name();
        tracing::info!("image {id}: {name} import to {} started (task {})", stores.join(","), task.id);
        let mut result = serde_json::Map::new();
        let outcome = run(&state, &id, method).await;
        let recorded = match &outcome {
            Ok(()) => {
                tracing::info!("image {id}: {name} import finished");
                result.insert("image_id".into(), id.clone().into());
                tasks::finish(&state.db, &task.id, "success", &result, "").await
            }
            Err(e) => {
                tracing::warn!("image {id}: {name} import failed: {}", e.message);
                if let Err(e) = record_failure(&state, &id, &stores, &e.message).await {
                    tracing::error!("image {id}: could not record the failed import: {e}");
                }
                tasks::finish(&state.db, &task.id, "failure", &result, &e.message).await
            }
        };
        if let Err(e) = recorded {
            tracing::error!("task {}: could not record its end: {e}", task.id);
        }
    });
    Ok(())
}

async fn run(state: &Arc<ImageService>, id: &str, method: Method) -> Result<(), ApiError> {
    let cap = state.config.image.image_size_cap;
    match method {
        Method::GlanceDirect => {
            let staged = state.staging.read(id, None).await.map_err(|e| ApiError::bad_request(format!("staged data unavailable: {e}")))?;
            let result = ingest(state, id, staged, cap, "importing").await;
            let _ = state.staging.delete(id).await;
            result
        }
        Method::WebDownload(uri) => {
            let response = match state.http.get(&uri).send().await.and_then(|r| r.error_for_status()) {
                Ok(r) => r,
                Err(e) => {
                    image_db::transition(&state.db, id, &["importing"], "queued").await?;
                    return Err(ApiError::bad_request(format!("web-download of {uri} failed: {e}")));
                }
            };
            let stream = response.bytes_stream().map(|r| r.map_err(|e| e.to_string()));
            ingest(state, id, stream, cap, "importing").await
        }
        // With one store the image is always already everywhere it can be; the API refuses
        // the request before getting here.
        Method::CopyImage => Ok(()),
    }
}

async fn record_failure(state: &ImageService, id: &str, stores: &[String], message: &str) -> Result<(), ApiError> {
    let Some(mut img) = image_db::get(&state.db, id).await? else { return Ok(()) };
    let status = img.status.clone();
    img.properties.insert("os_glance_failed_import".into(), stores.join(","));
    img.properties.insert("os_glance_import_error".into(), message.chars().take(1000).collect());
    img.properties.insert("os_glance_importing_to_stores".into(), String::new());
    image_db::save(&state.db, &img, &status).await?;
    Ok(())
}

/// After a restart: an import that was running goes back to where it can be retried —
/// staged again if its staged data survived, queued otherwise.
pub async fn interrupted(state: &ImageService, id: &str) -> Result<(), ApiError> {
    let staged = state.staging.size(id).await.map_err(ApiError::internal)?.is_some();
    let to = if staged { "uploading" } else { "queued" };
    image_db::transition(&state.db, id, &["importing"], to).await?;
    record_failure(state, id, &[state.store.id().to_string()], "interrupted by a restart").await?;
    tracing::warn!("image {id}: import interrupted by a restart; status {to}");
    Ok(())
}
