//! The image service as compute sees it: image metadata for boot checks, image records for
//! snapshots, backups and shelving, and what Nova's image proxy API (`/images`) lists, shows,
//! re-tags and deletes. Nova asks Glance with the caller's own token, so what
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
    /// ISO 8601 as Glance shows it (`2026-01-01T12:00:00Z`).
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// A Glance v2 list request: `filters` go as they are (attributes such as `name` or
/// `status`, custom properties, `updated_at=gte:<time>`), then the order and the page: at most
/// `limit` images (all when None) after the image `marker`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageQuery {
    pub filters: Vec<(String, String)>,
    pub sort_key: Option<String>,
    /// `asc` or `desc`.
    pub sort_dir: Option<String>,
    pub limit: Option<usize>,
    pub marker: Option<String>,
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
    /// The image API's base URL (without `/v2`), which Nova's `alternate` image links name.
    fn base_url(&self) -> &str;
    /// An image the caller may see.
    async fn get(&self, auth: ImageAuth<'_>, id: &str) -> Result<ImageMeta, ImageError>;
    /// Creates an image record (status `queued`).
    async fn create(&self, auth: ImageAuth<'_>, image: &NewImage) -> Result<ImageMeta, ImageError>;
    /// Uploads an image's data.
    async fn upload(&self, auth: ImageAuth<'_>, id: &str, data: bytes::Bytes) -> Result<(), ImageError>;
    /// Deletes an image.
    async fn delete(&self, auth: ImageAuth<'_>, id: &str) -> Result<(), ImageError>;
    /// The images the caller may see that match `query`, following the image service's pages.
    async fn list(&self, auth: ImageAuth<'_>, query: &ImageQuery) -> Result<Vec<ImageMeta>, ImageError>;
    /// Makes `wanted` the custom properties of `image` (adding, replacing and removing as
    /// needed); answers the updated image.
    async fn replace_properties(&self, auth: ImageAuth<'_>, image: &ImageMeta, wanted: &BTreeMap<String, String>) -> Result<ImageMeta, ImageError>;
}

/// Glance's largest page.
const PAGE_MAX: usize = 1000;

/// The JSON patch (RFC 6902, Glance's `application/openstack-images-v2.1-json-patch`) that
/// turns the properties `current` into `wanted`.
pub fn properties_patch(current: &BTreeMap<String, String>, wanted: &BTreeMap<String, String>) -> Vec<Value> {
    let pointer = |key: &str| format!("/{}", key.replace('~', "~0").replace('/', "~1"));
    let mut ops: Vec<Value> = current.keys().filter(|k| !wanted.contains_key(*k)).map(|k| json!({"op": "remove", "path": pointer(k)})).collect();
    for (k, v) in wanted {
        match current.get(k) {
            Some(old) if old == v => {}
            Some(_) => ops.push(json!({"op": "replace", "path": pointer(k), "value": v})),
            None => ops.push(json!({"op": "add", "path": pointer(k), "value": v})),
        }
    }
    ops
}

/// An image id that can be put in a URL path as it is (anything else matches no image).
fn plain_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
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
        created_at: text("created_at"),
        updated_at: text("updated_at"),
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
    fn base_url(&self) -> &str {
        &self.base_url
    }

    async fn get(&self, auth: ImageAuth<'_>, id: &str) -> Result<ImageMeta, ImageError> {
        if !plain_id(id) {
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
        if !plain_id(id) {
            return Err(ImageError::NotFound(id.to_string()));
        }
        let resp = self.request(reqwest::Method::DELETE, &format!("/v2/images/{id}"), auth).send().await.map_err(unavailable)?;
        if !resp.status().is_success() {
            return Err(error_of(resp, id).await);
        }
        Ok(())
    }
    async fn list(&self, auth: ImageAuth<'_>, query: &ImageQuery) -> Result<Vec<ImageMeta>, ImageError> {
        let mut pairs: Vec<(String, String)> = query.filters.clone();
        for (k, v) in [("sort_key", &query.sort_key), ("sort_dir", &query.sort_dir), ("marker", &query.marker)] {
            if let Some(v) = v {
                pairs.push((k.to_string(), v.clone()));
            }
        }
        let page = query.limit.map_or(PAGE_MAX, |l| l.clamp(1, PAGE_MAX));
        pairs.push(("limit".to_string(), page.to_string()));
        let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
        let mut next = Some(format!("/v2/images?{encoded}"));
        let mut images = Vec::new();
        while let Some(path) = next.take() {
            let resp = self.request(reqwest::Method::GET, &path, auth).send().await.map_err(unavailable)?;
            if !resp.status().is_success() {
                return Err(error_of(resp, query.marker.as_deref().unwrap_or("")).await);
            }
            let doc: Value = resp.json().await.map_err(unavailable)?;
            images.extend(doc["images"].as_array().into_iter().flatten().map(image_from_json));
            if let Some(limit) = query.limit.filter(|l| images.len() >= *l) {
                images.truncate(limit);
                break;
            }
            next = doc.get("next").and_then(Value::as_str).filter(|n| n.starts_with("/v2/images")).map(str::to_string);
        }
        Ok(images)
    }

    async fn replace_properties(&self, auth: ImageAuth<'_>, image: &ImageMeta, wanted: &BTreeMap<String, String>) -> Result<ImageMeta, ImageError> {
        let patch = properties_patch(&image.properties, wanted);
        if patch.is_empty() {
            return Ok(image.clone());
        }
        let resp = self
            .request(reqwest::Method::PATCH, &format!("/v2/images/{}", image.id), auth)
            .header("content-type", "application/openstack-images-v2.1-json-patch")
            .body(Value::Array(patch).to_string())
            .send()
            .await
            .map_err(unavailable)?;
        if !resp.status().is_success() {
            return Err(error_of(resp, &image.id).await);
        }
        let doc: Value = resp.json().await.map_err(unavailable)?;
        Ok(image_from_json(&doc))
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

    #[test]
    fn property_patches_add_replace_and_remove() {
        let map = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
        let patch = properties_patch(&map(&[("a", "1"), ("b", "2"), ("x/y", "3")]), &map(&[("a", "1"), ("b", "9"), ("c~", "4")]));
        assert_eq!(
            patch,
            vec![
                json!({"op": "remove", "path": "/x~1y"}),
                json!({"op": "replace", "path": "/b", "value": "9"}),
                json!({"op": "add", "path": "/c~0", "value": "4"}),
            ]
        );
        assert!(properties_patch(&map(&[("a", "1")]), &map(&[("a", "1")])).is_empty());
    }

    #[test]
    fn only_plain_ids_reach_a_url() {
        assert!(plain_id("0b4e8a9e-5c8f-4a4a-9d4e-6d3c0b1f2a3b"));
        assert!(!plain_id("") && !plain_id("a/b") && !plain_id("a?b") && !plain_id("a b"));
    }
}
