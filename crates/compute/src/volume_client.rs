//! The block storage service as compute sees it (Cinder v3 over HTTP), as Nova's
//! `nova.volume.cinder` client does: volumes and snapshots read, volumes created and deleted,
//! and the attachments flow (3.44: create without a connector to reserve, update with the
//! host's connector for the connection info, complete, delete). Asked with the caller's token
//! (the volume is the user's), or the `nova` service user's when the request carries none (a
//! clean-up after a restart) — [`VolumeApi::service_auth`].
//!
//! The endpoint: `http://<public_host>:<[volume] port>/v3` (the project segment may be left
//! out from 3.67; every call names its microversion).

use crate::network_client::NetAuth;
use async_trait::async_trait;
use monostack_auth::service_token::ServiceToken;
use serde_json::{json, Value};
use std::time::Duration;

/// The microversion compute speaks: 3.44 brings `os-complete` of attachments, 3.48 the
/// `shared_targets` flag, and the project-less URLs come with 3.67.
pub const MICROVERSION: &str = "3.67";

/// What Cinder answered when it refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VolumeError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    OverQuota(String),
    /// Unreachable, a 5xx, or an answer that is not Cinder's.
    #[error("block storage service unavailable: {0}")]
    Unavailable(String),
}

impl VolumeError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, VolumeError::NotFound(_))
    }

    /// Cinder's message.
    pub fn message(&self) -> String {
        match self {
            VolumeError::NotFound(m)
            | VolumeError::BadRequest(m)
            | VolumeError::Conflict(m)
            | VolumeError::Forbidden(m)
            | VolumeError::OverQuota(m)
            | VolumeError::Unavailable(m) => m.clone(),
        }
    }
}

/// Cinder v3 as a JSON API; the typed helpers below build on [`VolumeApi::request`].
#[async_trait]
pub trait VolumeApi: Send + Sync + 'static {
    /// `method path` (under `/v3`, with its query) with an optional JSON body; answers the
    /// JSON body (Null for an empty answer).
    async fn request(&self, auth: &NetAuth, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<Value, VolumeError>;
    /// The `nova` service user's credentials, refreshed when `refresh`.
    async fn service_auth(&self, request_id: &str, refresh: bool) -> Result<NetAuth, VolumeError>;
}

/// Cinder over HTTP.
pub struct HttpVolumeApi {
    base_url: String,
    client: reqwest::Client,
    service: ServiceToken,
}

impl HttpVolumeApi {
    /// A client of the block storage API at `base_url` (without `/v3`).
    pub fn new(base_url: impl Into<String>, service: ServiceToken) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().connect_timeout(Duration::from_secs(10)).timeout(Duration::from_secs(60)).build()?;
        Ok(HttpVolumeApi { base_url: base_url.into().trim_end_matches('/').to_string(), client, service })
    }

    /// The block storage API of this deployment: `http://<public_host>:<[volume] port>`, with
    /// the `nova` service user.
    pub fn from_config(config: &monostack_common::config::Config) -> anyhow::Result<Self> {
        Self::new(format!("http://{}:{}", config.public_host(), config.volume.port), ServiceToken::from_config(config, "nova"))
    }
}

/// Cinder's fault body: `{"<kind>": {"code": .., "message": ".."}}`.
fn message_of(body: &Value) -> String {
    body.as_object()
        .and_then(|m| m.values().next())
        .and_then(|f| f.get("message"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[async_trait]
impl VolumeApi for HttpVolumeApi {
    async fn request(&self, auth: &NetAuth, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<Value, VolumeError> {
        let mut req = self
            .client
            .request(method, format!("{}/v3{path}", self.base_url))
            .header("x-auth-token", &auth.token)
            .header("x-openstack-request-id", &auth.request_id)
            .header("openstack-api-version", format!("volume {MICROVERSION}"));
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| VolumeError::Unavailable(e.to_string()))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| VolumeError::Unavailable(e.to_string()))?;
        let doc: Value = if text.trim().is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
        match status {
            200..=299 => Ok(doc),
            404 => Err(VolumeError::NotFound(message_of(&doc))),
            400 => Err(VolumeError::BadRequest(message_of(&doc))),
            409 => Err(VolumeError::Conflict(message_of(&doc))),
            401 | 403 => Err(VolumeError::Forbidden(message_of(&doc))),
            413 => Err(VolumeError::OverQuota(message_of(&doc))),
            s => Err(VolumeError::Unavailable(format!("block storage service answered {s}: {}", message_of(&doc)))),
        }
    }

    async fn service_auth(&self, request_id: &str, refresh: bool) -> Result<NetAuth, VolumeError> {
        let token = self.service.get(refresh).await.map_err(|e| VolumeError::Unavailable(e.to_string()))?;
        Ok(NetAuth::new(token, request_id))
    }
}

fn enc(s: &str) -> String {
    crate::network_client::enc(s)
}

fn take(doc: Value, key: &str) -> Value {
    match doc {
        Value::Object(mut m) => m.remove(key).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// `GET /volumes/{id}`.
pub async fn get_volume(api: &dyn VolumeApi, auth: &NetAuth, id: &str) -> Result<Value, VolumeError> {
    Ok(take(api.request(auth, reqwest::Method::GET, &format!("/volumes/{}", enc(id)), None).await?, "volume"))
}

/// `GET /snapshots/{id}`.
pub async fn get_snapshot(api: &dyn VolumeApi, auth: &NetAuth, id: &str) -> Result<Value, VolumeError> {
    Ok(take(api.request(auth, reqwest::Method::GET, &format!("/snapshots/{}", enc(id)), None).await?, "snapshot"))
}

/// `POST /volumes` with the `volume` body given; answers the new volume.
pub async fn create_volume(api: &dyn VolumeApi, auth: &NetAuth, volume: Value) -> Result<Value, VolumeError> {
    Ok(take(api.request(auth, reqwest::Method::POST, "/volumes", Some(&json!({ "volume": volume }))).await?, "volume"))
}

/// `DELETE /volumes/{id}`.
pub async fn delete_volume(api: &dyn VolumeApi, auth: &NetAuth, id: &str) -> Result<(), VolumeError> {
    api.request(auth, reqwest::Method::DELETE, &format!("/volumes/{}", enc(id)), None).await.map(|_| ())
}

/// A legacy volume action (`os-begin_detaching`, `os-roll_detaching`…) with its body.
pub async fn volume_action(api: &dyn VolumeApi, auth: &NetAuth, id: &str, action: &str, args: Value) -> Result<(), VolumeError> {
    api.request(auth, reqwest::Method::POST, &format!("/volumes/{}/action", enc(id)), Some(&json!({ action: args }))).await.map(|_| ())
}

/// `POST /attachments`: reserves the volume for `instance_uuid` (no connector) or connects it
/// (with one); answers the attachment.
pub async fn attachment_create(api: &dyn VolumeApi, auth: &NetAuth, volume_id: &str, instance_uuid: &str, connector: Option<&Value>) -> Result<Value, VolumeError> {
    let mut body = json!({"volume_uuid": volume_id, "instance_uuid": instance_uuid});
    if let Some(c) = connector {
        body["connector"] = c.clone();
    }
    Ok(take(api.request(auth, reqwest::Method::POST, "/attachments", Some(&json!({ "attachment": body }))).await?, "attachment"))
}

/// `PUT /attachments/{id}` with the host's connector: answers the attachment, whose
/// `connection_info` says how to reach the volume.
pub async fn attachment_update(api: &dyn VolumeApi, auth: &NetAuth, attachment_id: &str, connector: &Value) -> Result<Value, VolumeError> {
    let body = json!({"attachment": {"connector": connector}});
    Ok(take(api.request(auth, reqwest::Method::PUT, &format!("/attachments/{}", enc(attachment_id)), Some(&body)).await?, "attachment"))
}

/// `POST /attachments/{id}/action` `os-complete`: the volume becomes `in-use`.
pub async fn attachment_complete(api: &dyn VolumeApi, auth: &NetAuth, attachment_id: &str) -> Result<(), VolumeError> {
    let body = json!({"os-complete": null});
    api.request(auth, reqwest::Method::POST, &format!("/attachments/{}/action", enc(attachment_id)), Some(&body)).await.map(|_| ())
}

/// `DELETE /attachments/{id}`: the volume goes back to what its other attachments leave.
pub async fn attachment_delete(api: &dyn VolumeApi, auth: &NetAuth, attachment_id: &str) -> Result<(), VolumeError> {
    api.request(auth, reqwest::Method::DELETE, &format!("/attachments/{}", enc(attachment_id)), None).await.map(|_| ())
}

/// Nova's `_get_volume_create_az_value` and friends are not needed: the volume is made in
/// the default zone. Polls the volume until it leaves `creating`/`downloading` (Nova's
/// `_await_block_device_map_created`: `block_device_allocate_retries` tries,
/// `interval` apart); answers its final status.
pub async fn await_volume_created(api: &dyn VolumeApi, auth: &NetAuth, id: &str, tries: u32, interval: Duration) -> Result<String, VolumeError> {
    let mut status = String::new();
    for attempt in 0..tries.max(1) {
        let v = get_volume(api, auth, id).await?;
        status = v["status"].as_str().unwrap_or_default().to_string();
        if status != "creating" && status != "downloading" {
            return Ok(status);
        }
        if attempt + 1 < tries {
            tokio::time::sleep(interval).await;
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_messages_are_read_from_any_kind() {
        assert_eq!(message_of(&json!({"itemNotFound": {"code": 404, "message": "Volume x could not be found."}})), "Volume x could not be found.");
        assert_eq!(message_of(&Value::Null), "");
    }
}
