//! The image service as the compute agent uses it (Glance v2 over HTTP, with the caller's own
//! token, as nova-compute does): uploading a snapshot into the image record the API created,
//! finding a server's backups to rotate, and deleting images (rotated backups, the snapshot
//! of an unshelved server).

use crate::virt::SnapshotImage;
use futures::StreamExt;
use monostack_bus::Context;
use monostack_compute::image_client::{HttpImageApi, ImageApi, ImageAuth, ImageQuery};
use monostack_conductor::agent_api;
use serde_json::json;
use std::time::Duration;

pub struct ImageService {
    base_url: String,
    client: reqwest::Client,
    /// The compute API's client of the image service, for listing.
    glance: HttpImageApi,
}

/// Who asks: the token the API passed along, and the request id.
struct Caller<'a> {
    token: &'a str,
    request_id: &'a str,
}

fn caller(ctx: &Context) -> Result<Caller<'_>, String> {
    let token = agent_api::auth_token(ctx).ok_or("the request carries no token to reach the image service with")?;
    Ok(Caller { token, request_id: ctx.request_id.as_deref().unwrap_or("-") })
}

impl ImageService {
    /// The image API at `base_url` (without `/v2`).
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().connect_timeout(Duration::from_secs(10)).timeout(Duration::from_secs(600)).build()?;
        Ok(ImageService { base_url: base_url.trim_end_matches('/').to_string(), client, glance: HttpImageApi::new(base_url)? })
    }

    fn request(&self, method: reqwest::Method, path: &str, who: &Caller<'_>) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base_url))
            .header("x-auth-token", who.token)
            .header("x-openstack-request-id", who.request_id)
    }

    /// Uploads `snapshot` as the data of image `image_id`, after setting the image's disk and
    /// container formats to the snapshot's (Glance takes data only once they are set).
    pub async fn upload_snapshot(&self, ctx: &Context, image_id: &str, snapshot: SnapshotImage) -> Result<(), String> {
        let who = caller(ctx)?;
        let patch = json!([
            {"op": "replace", "path": "/disk_format", "value": snapshot.disk_format},
            {"op": "replace", "path": "/container_format", "value": snapshot.container_format},
        ]);
        let resp = self
            .request(reqwest::Method::PATCH, &format!("/v2/images/{image_id}"), &who)
            .header("content-type", "application/openstack-images-v2.1-json-patch")
            .body(patch.to_string())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("image {image_id} could not be prepared for upload: {}", resp.status()));
        }
        let mut data = Vec::with_capacity(snapshot.size.and_then(|s| usize::try_from(s).ok()).unwrap_or(0));
        let mut chunks = snapshot.data;
        while let Some(chunk) = chunks.next().await {
            data.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
        }
        let resp = self
            .request(reqwest::Method::PUT, &format!("/v2/images/{image_id}/file"), &who)
            .header("content-type", "application/octet-stream")
            .body(data)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("upload of image {image_id} refused: {}", resp.status()));
        }
        Ok(())
    }

    /// The ids of the backups of type `backup_type` of server `instance_uuid` (images with
    /// the properties `image_type=backup`, `backup_type` and `instance_uuid`), newest first.
    pub async fn backups(&self, ctx: &Context, instance_uuid: &str, backup_type: &str) -> Result<Vec<String>, String> {
        let who = caller(ctx)?;
        let query = ImageQuery {
            filters: vec![("image_type".into(), "backup".into()), ("backup_type".into(), backup_type.into()), ("instance_uuid".into(), instance_uuid.into())],
            sort_key: Some("created_at".into()),
            sort_dir: Some("desc".into()),
            ..ImageQuery::default()
        };
        let images = self.glance.list(ImageAuth { token: who.token, request_id: who.request_id }, &query).await.map_err(|e| e.to_string())?;
        Ok(images.into_iter().map(|i| i.id).collect())
    }

    /// Deletes image `image_id` (a 404 counts as done).
    pub async fn delete(&self, ctx: &Context, image_id: &str) -> Result<(), String> {
        let who = caller(ctx)?;
        let resp = self.request(reqwest::Method::DELETE, &format!("/v2/images/{image_id}"), &who).send().await.map_err(|e| e.to_string())?;
        if resp.status().is_success() || resp.status() == reqwest::StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(format!("image {image_id} not deleted: {}", resp.status()))
        }
    }
}
