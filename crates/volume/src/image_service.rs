//! The image service as block storage sees it (Cinder's `image/glance.py`): Glance v2 over
//! HTTP, found in the service catalog (type `image`, public interface), else at
//! `http://<public_host>:<[image] port>`.
//!
//! Who asks: the API looks images up with the caller's own token (a user makes volumes only
//! of the images the image service lets them see) and creates the image of an upload as the
//! caller (so it belongs to the caller's project); the volume manager moves the data with the
//! `cinder` service user's token ([`ServiceToken`]), which outlives the caller's for long
//! copies, and falls back to the caller's token when this node has no service credentials.
//!
//! Data goes through files: a download is streamed into a file, an upload streamed from one,
//! so an image never sits in memory.

use monostack_auth::service_token::ServiceToken;
use monostack_common::config::Config;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Why the image service said no.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("Image {0} could not be found.")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("image service unavailable: {0}")]
    Unavailable(String),
}

/// Who a request is made as.
#[derive(Debug, Clone)]
pub struct ImageAuth {
    pub token: String,
    pub request_id: String,
}

/// Glance v2 for the block storage service.
pub struct Glance {
    client: reqwest::Client,
    /// Identity endpoint ending in `/v3`, for the catalog.
    auth_url: String,
    /// Where the image API is when the catalog does not say.
    fallback_url: String,
    /// The catalog's image endpoint, once found.
    endpoint: tokio::sync::OnceCell<String>,
    service: ServiceToken,
}

/// Attributes of a Glance image that are not custom properties.
pub const CORE_ATTRIBUTES: &[&str] = &[
    "id", "name", "status", "visibility", "owner", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
    "disk_format", "container_format", "min_disk", "min_ram", "protected", "os_hidden", "tags", "created_at", "updated_at",
    "self", "file", "schema", "locations", "direct_url", "stores",
];

/// An image id that can go in a URL path as it is (anything else names no image).
fn plain_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

impl Glance {
    pub fn from_config(config: &Config) -> Self {
        let auth_url = config
            .keystone_authtoken
            .auth_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:{}/v3", config.public_host(), config.identity.port));
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Glance {
            client,
            auth_url: auth_url.trim_end_matches('/').to_string(),
            fallback_url: format!("http://{}:{}", config.public_host(), config.image.port),
            endpoint: tokio::sync::OnceCell::new(),
            service: ServiceToken::from_config(config, "cinder"),
        }
    }

    /// The image API's base URL (without `/v2`): the catalog's public `image` endpoint (kept
    /// once found), else the configured one (the catalog is asked again next time).
    pub async fn base_url(&self) -> String {
        if let Some(url) = self.endpoint.get() {
            return url.clone();
        }
        match self.catalog_endpoint().await {
            Some(url) => self.endpoint.get_or_init(|| async { url }).await.clone(),
            None => self.fallback_url.clone(),
        }
    }

    async fn catalog_endpoint(&self) -> Option<String> {
        let token = self.service.get(false).await.ok()?;
        let resp = self
            .client
            .get(format!("{}/auth/catalog", self.auth_url))
            .header("x-auth-token", token)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let body: Value = resp.json().await.ok()?;
        let entry = body["catalog"].as_array()?.iter().find(|e| e["type"] == "image")?;
        let url = entry["endpoints"]
            .as_array()?
            .iter()
            .find(|e| e["interface"] == "public")?["url"]
            .as_str()?
            .trim_end_matches('/')
            .trim_end_matches("/v2")
            .to_string();
        tracing::debug!("Image service endpoint from the catalog: {url}");
        Some(url)
    }

    /// The `cinder` service user's credentials, else `fallback` (the caller's).
    pub async fn service_auth(&self, fallback: &ImageAuth) -> ImageAuth {
        match self.service.get(false).await {
            Ok(token) => ImageAuth { token, request_id: fallback.request_id.clone() },
            Err(e) => {
                tracing::debug!("No service token for the image service ({e}); using the caller's");
                fallback.clone()
            }
        }
    }

    async fn request(&self, method: reqwest::Method, path: &str, auth: &ImageAuth) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base_url().await))
            .header("x-auth-token", &auth.token)
            .header("x-openstack-request-id", &auth.request_id)
    }

    async fn error_of(resp: reqwest::Response, id: &str) -> ImageError {
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let message = body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| text.trim().chars().take(300).collect());
        match status {
            404 => ImageError::NotFound(id.to_string()),
            401 | 403 => ImageError::Forbidden(message),
            400 | 409 | 413 => ImageError::BadRequest(message),
            _ => ImageError::Unavailable(format!("{status}: {message}")),
        }
    }

    /// An image's record (`GET /v2/images/{id}`).
    pub async fn show(&self, auth: &ImageAuth, id: &str) -> Result<Value, ImageError> {
        if !plain_id(id) {
            return Err(ImageError::NotFound(id.to_string()));
        }
        let resp = self
            .request(reqwest::Method::GET, &format!("/v2/images/{id}"), auth)
            .await
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| ImageError::Unavailable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(Self::error_of(resp, id).await);
        }
        resp.json().await.map_err(|e| ImageError::Unavailable(e.to_string()))
    }

    /// The images the caller sees named `name` (at most two: enough to tell ambiguity).
    pub async fn by_name(&self, auth: &ImageAuth, name: &str) -> Result<Vec<Value>, ImageError> {
        let resp = self
            .request(reqwest::Method::GET, "/v2/images", auth)
            .await
            .query(&[("name", name), ("limit", "2")])
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| ImageError::Unavailable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(Self::error_of(resp, name).await);
        }
        let body: Value = resp.json().await.map_err(|e| ImageError::Unavailable(e.to_string()))?;
        Ok(body["images"].as_array().cloned().unwrap_or_default())
    }

    /// Creates an image record (`POST /v2/images`, status `queued`).
    pub async fn create(&self, auth: &ImageAuth, body: &Value) -> Result<Value, ImageError> {
        let resp = self
            .request(reqwest::Method::POST, "/v2/images", auth)
            .await
            .json(body)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| ImageError::Unavailable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(Self::error_of(resp, "").await);
        }
        resp.json().await.map_err(|e| ImageError::Unavailable(e.to_string()))
    }

    /// Deletes an image.
    pub async fn delete(&self, auth: &ImageAuth, id: &str) -> Result<(), ImageError> {
        if !plain_id(id) {
            return Err(ImageError::NotFound(id.to_string()));
        }
        let resp = self
            .request(reqwest::Method::DELETE, &format!("/v2/images/{id}"), auth)
            .await
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| ImageError::Unavailable(e.to_string()))?;
        if !resp.status().is_success() && resp.status().as_u16() != 404 {
            return Err(Self::error_of(resp, id).await);
        }
        Ok(())
    }

    /// Streams the image's data into a new file `dest`; answers the bytes written.
    pub async fn download(&self, auth: &ImageAuth, id: &str, dest: &Path) -> Result<u64, ImageError> {
        if !plain_id(id) {
            return Err(ImageError::NotFound(id.to_string()));
        }
        let mut resp = self
            .request(reqwest::Method::GET, &format!("/v2/images/{id}/file"), auth)
            .await
            .send()
            .await
            .map_err(|e| ImageError::Unavailable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(Self::error_of(resp, id).await);
        }
        let io = |e: std::io::Error| ImageError::Unavailable(format!("{}: {e}", dest.display()));
        let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
        let mut written = 0u64;
        while let Some(chunk) = resp.chunk().await.map_err(|e| ImageError::Unavailable(e.to_string()))? {
            file.write_all(&chunk).await.map_err(io)?;
            written += chunk.len() as u64;
        }
        file.sync_all().await.map_err(io)?;
        Ok(written)
    }

    /// Streams file `src` as the data of image `id` (`PUT /v2/images/{id}/file`).
    pub async fn upload(&self, auth: &ImageAuth, id: &str, src: &Path) -> Result<(), ImageError> {
        if !plain_id(id) {
            return Err(ImageError::NotFound(id.to_string()));
        }
        let file = tokio::fs::File::open(src)
            .await
            .map_err(|e| ImageError::Unavailable(format!("{}: {e}", src.display())))?;
        let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(file, 1 << 20));
        let resp = self
            .request(reqwest::Method::PUT, &format!("/v2/images/{id}/file"), auth)
            .await
            .header("content-type", "application/octet-stream")
            .header("content-length", len)
            .body(body)
            .send()
            .await
            .map_err(|e| ImageError::Unavailable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(Self::error_of(resp, id).await);
        }
        Ok(())
    }
}

/// The name qemu-img gives an image service disk format (`vhd` is qemu's `vpc`; formats
/// that hold a plain disk — ami, iso… — are raw); None for formats it cannot read.
pub fn qemu_format(disk_format: &str) -> Option<&'static str> {
    Some(match disk_format {
        "raw" | "ami" | "ari" | "aki" | "iso" => "raw",
        "qcow2" => "qcow2",
        "vmdk" => "vmdk",
        "vdi" => "vdi",
        "vhd" => "vpc",
        "vhdx" => "vhdx",
        "ploop" => "parallels",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_formats_map_to_qemu_names() {
        assert_eq!(qemu_format("vhd"), Some("vpc"));
        assert_eq!(qemu_format("iso"), Some("raw"));
        assert_eq!(qemu_format("qcow2"), Some("qcow2"));
        assert_eq!(qemu_format("docker"), None);
        assert!(plain_id("0b1d-x_y.z"));
        assert!(!plain_id("../x"));
    }
}
