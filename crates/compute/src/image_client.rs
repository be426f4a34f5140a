//! The image service as compute sees it: image metadata for boot checks, and image records
//! for snapshots, backups and shelving. Nova asks Glance with the caller's own token, so what
//! a user may boot is exactly what the image service lets them see.
//!
//! The endpoint: tokens validated by this service carry no catalog ([`AuthContext`] has none),
//! so the base URL comes from configuration: `http://<public_host>:<[image] port>`
//! ([`HttpImageApi::from_config`]).
//!
//! [`AuthContext`]: monostack_auth::AuthContext

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Who asks: the caller's token and the request id to pass along.
#[derive(Debug, Clone, Copy)]
pub struct ImageAuth<'a> {
    pub token: &'a str,
    pub request_id: &'a str,
}

/// An image's metadata as Glance v2 shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageMeta {
    pub id: String,
    pub name: Option<String>,
    pub status: String,
    /// GiB.
    pub min_disk: i64,
    /// MiB.
    pub min_ram: i64,
    /// Bytes; 0 while no data was uploaded.
    pub size: i64,
    pub disk_format: Option<String>,
    pub container_format: Option<String>,
    pub visibility: Option<String>,
    pub owner: Option<String>,
    /// Custom properties (`hw_*`, `os_*`, `img_*` ...), values as strings.
    pub properties: BTreeMap<String, String>,
}

/// A new image record (its data is uploaded later, by whoever produces it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewImage {
    pub name: String,
    pub disk_format: Option<String>,
    pub container_format: Option<String>,
    pub visibility: Option<String>,
    pub min_disk: Option<i64>,
    pub min_ram: Option<i64>,
    pub properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("Image {0} could not be found.")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    OverLimit(String),
    #[error("image service unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait ImageApi: Send + Sync + 'static {
    /// An image the caller may see.
    async fn get(&self, auth: ImageAuth<'_>, id: &str) -> Result<ImageMeta, ImageError>;
    /// Creates an image record (status `queued`).
    async fn create(&self, auth: ImageAuth<'_>, image: &NewImage) -> Result<ImageMeta, ImageError>;
    /// Uploads an image's data.
    async fn upload(&self, auth: ImageAuth<'_>, id: &str, data: bytes::Bytes) -> Result<(), ImageError>;
    /// Deletes an image.
    async fn delete(&self, auth: ImageAuth<'_>, id: &str) -> Result<(), ImageError>;
}

/// Glance v2 over HTTP.
pub struct HttpImageApi {
    base_url: String,
    client: reqwest::Client,
}

/// Attributes Glance shows at the top level that are not custom properties.
const CORE_ATTRIBUTES: &[&str] = &[
    "id", "name", "status", "visibility", "owner", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
    "disk_format", "container_format", "min_disk", "min_ram", "protected", "os_hidden", "tags", "created_at", "updated_at",
    "self", "file", "schema", "locations", "direct_url", "stores",
];

impl HttpImageApi {
    /// A client of the image API at `base_url` (without `/v2`).
    pub fn new(base_url: impl Into<String>) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().connect_timeout(Duration::from_secs(10)).timeout(Duration::from_secs(60)).build()?;
        Ok(HttpImageApi { base_url: base_url.into().trim_end_matches('/').to_string(), client })
    }

    /// The image API of this deployment: `http://<public_host>:<[image] port>`.
    pub fn from_config(config: &monostack_common::config::Config) -> anyhow::Result<Self> {
        Self::new(format!("http://{}:{}", config.public_host(), config.image.port))
    }

    fn request(&self, method: reqwest::Method, path: &str, auth: ImageAuth<'_>) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base_url))
            .header("x-auth-token", auth.token)
            .header("x-openstack-request-id", auth.request_id)
    }
}

/// Parses a Glance v2 image document.
pub fn image_from_json(doc: &Value) -> ImageMeta {
    let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
    let int = |k: &str| doc.get(k).and_then(Value::as_i64).unwrap_or(0);
    let mut properties = BTreeMap::new();
    if let Some(obj) = doc.as_object() {
        for (k, v) in obj {
            if CORE_ATTRIBUTES.contains(&k.as_str()) || v.is_null() {
                continue;
            }
            let value = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
            properties.insert(k.clone(), value);
        }
    }
    ImageMeta {
        id: text("id").unwrap_or_default(),
        name: text("name"),
        status: text("status").unwrap_or_default(),
        min_disk: int("min_disk"),
        min_ram: int("min_ram"),
        size: int("size"),
        disk_format: text("disk_format"),
        container_format: text("container_format"),
        visibility: text("visibility"),
        owner: text("owner"),
        properties,
    }
}

async fn error_of(resp: reqwest::Response, id: &str) -> ImageError {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let message = body.pointer("/error/message").and_then(Value::as_str).unwrap_or("").to_string();
    match status {
        404 => ImageError::NotFound(id.to_string()),
        403 => ImageError::Forbidden(message),
        400 | 409 => ImageError::BadRequest(message),
        413 => ImageError::OverLimit(message),
        s => ImageError::Unavailable(format!("image service answered {s}: {message}")),
    }
}

fn unavailable(e: reqwest::Error) -> ImageError {
    ImageError::Unavailable(e.to_string())
}

#[async_trait]
impl ImageApi for HttpImageApi {
    async fn get(&self, auth: ImageAuth<'_>, id: &str) -> Result<ImageMeta, ImageError> {
        if id.is_empty() || id.contains('/') {
            return Err(ImageError::NotFound(id.to_string()));
        }
        let resp = self.request(reqwest::Method::GET, &format!("/v2/images/{id}"), auth).send().await.map_err(unavailable)?;
        if !resp.status().is_success() {
            return Err(error_of(resp, id).await);
        }
        let doc: Value = resp.json().await.map_err(unavailable)?;
        Ok(image_from_json(&doc))
    }

    async fn create(&self, auth: ImageAuth<'_>, image: &NewImage) -> Result<ImageMeta, ImageError> {
        let mut body = Map::new();
        body.insert("name".into(), json!(image.name));
        for (k, v) in [("disk_format", &image.disk_format), ("container_format", &image.container_format), ("visibility", &image.visibility)] {
            if let Some(v) = v {
                body.insert(k.into(), json!(v));
            }
        }
        for (k, v) in [("min_disk", image.min_disk), ("min_ram", image.min_ram)] {
            if let Some(v) = v {
                body.insert(k.into(), json!(v));
            }
        }
        for (k, v) in &image.properties {
            body.entry(k.clone()).or_insert_with(|| json!(v));
        }
        let resp = self.request(reqwest::Method::POST, "/v2/images", auth).json(&Value::Object(body)).send().await.map_err(unavailable)?;
        if !resp.status().is_success() {
            return Err(error_of(resp, "").await);
        }
        let doc: Value = resp.json().await.map_err(unavailable)?;
        Ok(image_from_json(&doc))
    }

    async fn upload(&self, auth: ImageAuth<'_>, id: &str, data: bytes::Bytes) -> Result<(), ImageError> {
        let resp = self
            .request(reqwest::Method::PUT, &format!("/v2/images/{id}/file"), auth)
            .header("content-type", "application/octet-stream")
            .body(data)
            .send()
            .await
            .map_err(unavailable)?;
        if !resp.status().is_success() {
            return Err(error_of(resp, id).await);
        }
        Ok(())
    }

    async fn delete(&self, auth: ImageAuth<'_>, id: &str) -> Result<(), ImageError> {
        let resp = self.request(reqwest::Method::DELETE, &format!("/v2/images/{id}"), auth).send().await.map_err(unavailable)?;
        if !resp.status().is_success() {
            return Err(error_of(resp, id).await);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_properties_are_separated_from_core_attributes() {
        let doc = json!({"id": "i", "name": "cirros", "status": "active", "min_ram": 64, "min_disk": 1, "size": 100,
            "disk_format": "qcow2", "hw_architecture": "x86_64", "tags": [], "os_distro": "cirros", "kernel_id": null});
        let meta = image_from_json(&doc);
        assert_eq!(meta.min_ram, 64);
        assert_eq!(meta.properties.get("hw_architecture").map(String::as_str), Some("x86_64"));
        assert!(!meta.properties.contains_key("tags") && !meta.properties.contains_key("kernel_id"));
    }
}
