//! The networking service as compute sees it (Neutron v2.0 over HTTP), as Nova's
//! `nova.network.neutron` client does: networks, subnets, ports, security groups, floating
//! IPs and auto-allocated topologies, asked with the caller's own token (so a user boots only
//! on what Neutron lets them see), and the port binding (`binding:host_id`, admin-only in
//! Neutron) with the `nova` service user's token ([`ServiceToken`]).
//!
//! The endpoint: `http://<public_host>:<[network] port>` ([`HttpNetworkApi::from_config`]),
//! as the image client's comes from `[image] port`.
//!
//! [`ServiceToken`]: monostack_auth::service_token::ServiceToken

use async_trait::async_trait;
use monostack_auth::service_token::ServiceToken;
use serde_json::{json, Value};
use std::time::Duration;

/// Who asks: a token (the caller's, or the service's from [`NetworkApi::service_auth`]) and
/// the request id to pass along.
#[derive(Debug, Clone)]
pub struct NetAuth {
    pub token: String,
    pub request_id: String,
}

impl NetAuth {
    pub fn new(token: impl Into<String>, request_id: impl Into<String>) -> Self {
        NetAuth {
            token: token.into(),
            request_id: request_id.into(),
        }
    }
}

/// What Neutron answered when it refused, with its `NeutronError` type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// 404, with Neutron's error type (`NetworkNotFound`, `PortNotFound`…).
    #[error("{message}")]
    NotFound { kind: String, message: String },
    /// 409 (`PortInUse`, `IpAddressAlreadyAllocated`, `AutoAllocationFailure`…).
    #[error("{message}")]
    Conflict { kind: String, message: String },
    /// 400.
    #[error("{message}")]
    BadRequest { kind: String, message: String },
    /// 401/403 (`PolicyNotAuthorized`…).
    #[error("{message}")]
    Forbidden { kind: String, message: String },
    /// 413 or a quota type (`OverQuota`).
    #[error("{message}")]
    OverQuota { kind: String, message: String },
    /// Unreachable, a 5xx, or an answer that is not Neutron's.
    #[error("network service unavailable: {0}")]
    Unavailable(String),
}

impl NetworkError {
    /// Neutron's error type ("" when unavailable).
    pub fn kind(&self) -> &str {
        match self {
            NetworkError::NotFound { kind, .. }
            | NetworkError::Conflict { kind, .. }
            | NetworkError::BadRequest { kind, .. }
            | NetworkError::Forbidden { kind, .. }
            | NetworkError::OverQuota { kind, .. } => kind,
            NetworkError::Unavailable(_) => "",
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, NetworkError::NotFound { .. })
    }
}

/// Neutron v2.0 as a JSON API. The typed helpers below build on [`NetworkApi::request`].
#[async_trait]
pub trait NetworkApi: Send + Sync + 'static {
    /// `method path` (path under the endpoint, with its query, e.g. `/v2.0/ports?device_id=x`)
    /// with an optional JSON body; answers the JSON body (Null for 204).
    async fn request(
        &self,
        auth: &NetAuth,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, NetworkError>;
    /// The `nova` service user's credentials for admin-only calls (port binding), refreshed
    /// when `refresh` (the previous token was refused).
    async fn service_auth(&self, request_id: &str, refresh: bool) -> Result<NetAuth, NetworkError>;
}

/// Neutron over HTTP.
pub struct HttpNetworkApi {
    base_url: String,
    client: reqwest::Client,
    service: ServiceToken,
}

impl HttpNetworkApi {
    /// A client of the networking API at `base_url` (without `/v2.0`), binding ports as the
    /// service user of `service`.
    pub fn new(base_url: impl Into<String>, service: ServiceToken) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(HttpNetworkApi {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            client,
            service,
        })
    }

    /// The networking API of this deployment: `http://<public_host>:<[network] port>`, with
    /// the `nova` service user.
    pub fn from_config(config: &monostack_common::config::Config) -> anyhow::Result<Self> {
        Self::new(
            format!("http://{}:{}", config.public_host(), config.network.port),
            ServiceToken::from_config(config, "nova"),
        )
    }
}

async fn error_of(resp: reqwest::Response) -> NetworkError {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let kind = body
        .pointer("/NeutronError/type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let message = body
        .pointer("/NeutronError/message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match status {
        404 => NetworkError::NotFound { kind, message },
        409 if kind == "OverQuota" => NetworkError::OverQuota { kind, message },
        409 => NetworkError::Conflict { kind, message },
        400 => NetworkError::BadRequest { kind, message },
        401 | 403 => NetworkError::Forbidden { kind, message },
        413 => NetworkError::OverQuota { kind, message },
        s => NetworkError::Unavailable(format!("network service answered {s}: {message}")),
    }
}

#[async_trait]
impl NetworkApi for HttpNetworkApi {
    async fn request(
        &self,
        auth: &NetAuth,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, NetworkError> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .header("x-auth-token", &auth.token)
            .header("x-openstack-request-id", &auth.request_id);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| NetworkError::Unavailable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(error_of(resp).await);
        }
        if resp.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        resp.json()
            .await
            .map_err(|e| NetworkError::Unavailable(e.to_string()))
    }

    async fn service_auth(&self, request_id: &str, refresh: bool) -> Result<NetAuth, NetworkError> {
        let token = self
            .service
            .get(refresh)
            .await
            .map_err(|e| NetworkError::Unavailable(e.to_string()))?;
        Ok(NetAuth::new(token, request_id))
    }
}

/// A path segment or query value, percent-encoded.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A query string from pairs (repeated keys for lists, as Neutron takes them).
pub fn query(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    format!("?{}", s.finish())
}

/// Calls as the service user, authenticating again once if the token was refused.
pub async fn as_service(
    api: &dyn NetworkApi,
    request_id: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, NetworkError> {
    let auth = api.service_auth(request_id, false).await?;
    match api.request(&auth, method.clone(), path, body).await {
        Err(NetworkError::Forbidden { .. }) => {
            let auth = api.service_auth(request_id, true).await?;
            api.request(&auth, method, path, body).await
        }
        other => other,
    }
}

fn list_of(doc: Value, key: &str) -> Vec<Value> {
    match doc {
        Value::Object(mut m) => match m.remove(key) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn one_of(doc: Value, key: &str) -> Value {
    match doc {
        Value::Object(mut m) => m.remove(key).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// The URL path of a collection (`security_groups` is `/v2.0/security-groups`).
fn path_of(collection: &str) -> String {
    format!("/v2.0/{}", collection.replace('_', "-"))
}

/// A resource-type's helpers: list, show, create, update, delete of `/v2.0/<collection>`
/// (`collection` as the body key names it: `ports`, `security_groups`…).
pub async fn list(
    api: &dyn NetworkApi,
    auth: &NetAuth,
    collection: &str,
    filters: &[(&str, &str)],
) -> Result<Vec<Value>, NetworkError> {
    let doc = api
        .request(
            auth,
            reqwest::Method::GET,
            &format!("{}{}", path_of(collection), query(filters)),
            None,
        )
        .await?;
    Ok(list_of(doc, collection))
}

pub async fn show(
    api: &dyn NetworkApi,
    auth: &NetAuth,
    collection: &str,
    id: &str,
) -> Result<Value, NetworkError> {
    let doc = api
        .request(
            auth,
            reqwest::Method::GET,
            &format!("{}/{}", path_of(collection), enc(id)),
            None,
        )
        .await?;
    Ok(one_of(doc, collection.trim_end_matches('s')))
}

pub async fn create(
    api: &dyn NetworkApi,
    auth: &NetAuth,
    collection: &str,
    body: Value,
) -> Result<Value, NetworkError> {
    let singular = collection.trim_end_matches('s');
    let doc = api
        .request(
            auth,
            reqwest::Method::POST,
            &path_of(collection),
            Some(&json!({ singular: body })),
        )
        .await?;
    Ok(one_of(doc, singular))
}

pub async fn update(
    api: &dyn NetworkApi,
    auth: &NetAuth,
    collection: &str,
    id: &str,
    body: Value,
) -> Result<Value, NetworkError> {
    let singular = collection.trim_end_matches('s');
    let doc = api
        .request(
            auth,
            reqwest::Method::PUT,
            &format!("{}/{}", path_of(collection), enc(id)),
            Some(&json!({ singular: body })),
        )
        .await?;
    Ok(one_of(doc, singular))
}

pub async fn delete(
    api: &dyn NetworkApi,
    auth: &NetAuth,
    collection: &str,
    id: &str,
) -> Result<(), NetworkError> {
    api.request(
        auth,
        reqwest::Method::DELETE,
        &format!("{}/{}", path_of(collection), enc(id)),
        None,
    )
    .await
    .map(|_| ())
}

/// `GET /v2.0/auto-allocated-topology/{project_id}` (`dry_run` checks the requirements only):
/// the network id.
pub async fn auto_allocated_topology(
    api: &dyn NetworkApi,
    auth: &NetAuth,
    project_id: &str,
    dry_run: bool,
) -> Result<Option<String>, NetworkError> {
    let q = if dry_run { "?fields=dry-run" } else { "" };
    let doc = api
        .request(
            auth,
            reqwest::Method::GET,
            &format!("/v2.0/auto-allocated-topology/{}{q}", enc(project_id)),
            None,
        )
        .await?;
    Ok(doc
        .pointer("/auto_allocated_topology/id")
        .and_then(Value::as_str)
        .map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_repeat_keys_and_encode() {
        assert_eq!(query(&[]), "");
        assert_eq!(
            query(&[
                ("id", "a"),
                ("id", "b c"),
                ("fixed_ips", "ip_address=10.0.0.5")
            ]),
            "?id=a&id=b+c&fixed_ips=ip_address%3D10.0.0.5"
        );
        assert_eq!(enc("a/b"), "a%2Fb");
    }

    #[test]
    fn documents_unwrap() {
        assert_eq!(
            list_of(json!({"ports": [{"id": "p"}]}), "ports"),
            vec![json!({"id": "p"})]
        );
        assert!(list_of(json!({}), "ports").is_empty());
        assert_eq!(
            one_of(json!({"port": {"id": "p"}}), "port"),
            json!({"id": "p"})
        );
    }
}
