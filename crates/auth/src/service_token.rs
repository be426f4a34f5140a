//! A service's own token, for the calls one OpenStack service makes to another as itself (Nova
//! binding ports in Neutron, Neutron telling Nova that a VIF was plugged), as keystoneauth's
//! password plugin does it: the service user of the bootstrap (`nova`, `neutron`…, project
//! `service`, roles `admin` and `service`) authenticates with `POST /v3/auth/tokens`, and the
//! token is kept until the service it was shown to refuses it.
//!
//! The credentials come from `<state_dir>/service-users.toml`, where bootstrap writes them.

use crate::remote::ServiceCredentials;
use monostack_common::config::Config;
use serde_json::json;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceTokenError {
    #[error("no credentials for service user {user}: {reason}")]
    NoCredentials { user: String, reason: String },
    #[error("identity service unavailable: {0}")]
    Unavailable(String),
    #[error("service user {0} could not authenticate: {1}")]
    Refused(String, String),
}

/// Reads the credentials of `user` from a `service-users.toml` (sections named after users).
pub fn credentials_from_file(
    path: &Path,
    user: &str,
) -> Result<ServiceCredentials, ServiceTokenError> {
    let missing = |reason: String| ServiceTokenError::NoCredentials {
        user: user.to_string(),
        reason,
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| missing(format!("{}: {e}", path.display())))?;
    let doc: toml::Table = text
        .parse()
        .map_err(|e| missing(format!("{}: {e}", path.display())))?;
    let section = doc
        .get(user)
        .and_then(toml::Value::as_table)
        .ok_or_else(|| missing(format!("no [{user}] in {}", path.display())))?;
    let text_of = |k: &str| {
        section
            .get(k)
            .and_then(toml::Value::as_str)
            .map(str::to_string)
    };
    Ok(ServiceCredentials {
        username: text_of("username").unwrap_or_else(|| user.to_string()),
        password: text_of("password")
            .ok_or_else(|| missing(format!("[{user}] has no password")))?,
        project_name: text_of("project_name").unwrap_or_else(|| "service".to_string()),
        domain_id: text_of("domain_id").unwrap_or_else(|| "default".to_string()),
    })
}

/// A service user's token, fetched on first use and again when refused.
pub struct ServiceToken {
    client: reqwest::Client,
    /// Identity endpoint ending in `/v3`.
    auth_url: String,
    user: String,
    /// Where the credentials are read (on each authentication, so a rewritten file is seen).
    credentials_file: std::path::PathBuf,
    token: tokio::sync::Mutex<Option<String>>,
}

impl ServiceToken {
    /// The token of service user `user` of this deployment: identity at
    /// `[keystone_authtoken] auth_url`, else `http://<public_host>:<[identity] port>/v3`.
    pub fn from_config(config: &Config, user: &str) -> Self {
        let auth_url = config
            .keystone_authtoken
            .auth_url
            .clone()
            .unwrap_or_else(|| {
                format!(
                    "http://{}:{}/v3",
                    config.public_host(),
                    config.identity.port
                )
            });
        Self::new(
            &auth_url,
            user,
            config.state_dir().join("service-users.toml"),
        )
    }

    pub fn new(auth_url: &str, user: &str, credentials_file: std::path::PathBuf) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        ServiceToken {
            client,
            auth_url: auth_url.trim_end_matches('/').to_string(),
            user: user.to_string(),
            credentials_file,
            token: tokio::sync::Mutex::new(None),
        }
    }

    /// The current token; `refresh` authenticates again (the previous one was refused).
    pub async fn get(&self, refresh: bool) -> Result<String, ServiceTokenError> {
        let mut guard = self.token.lock().await;
        if let (Some(t), false) = (guard.as_ref(), refresh) {
            return Ok(t.clone());
        }
        let c = credentials_from_file(&self.credentials_file, &self.user)?;
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {"name": c.username, "domain": {"id": c.domain_id}, "password": c.password}}},
            "scope": {"project": {"name": c.project_name, "domain": {"id": c.domain_id}}}}});
        let resp = self
            .client
            .post(format!("{}/auth/tokens?nocatalog", self.auth_url))
            .json(&body)
            .send()
            .await
            .map_err(|e| ServiceTokenError::Unavailable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(ServiceTokenError::Refused(
                self.user.clone(),
                resp.status().to_string(),
            ));
        }
        let token = resp
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ServiceTokenError::Unavailable("identity returned no token".into()))?
            .to_string();
        *guard = Some(token.clone());
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_read_per_user() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("service-users.toml");
        std::fs::write(&path, "[nova]\nusername = \"nova\"\npassword = \"n-pw\"\nproject_name = \"service\"\n\n[neutron]\nusername = \"neutron\"\npassword = \"q-pw\"\nproject_name = \"service\"\n").expect("write");
        let c = credentials_from_file(&path, "neutron").expect("neutron");
        assert_eq!(
            (
                c.username.as_str(),
                c.password.as_str(),
                c.project_name.as_str(),
                c.domain_id.as_str()
            ),
            ("neutron", "q-pw", "service", "default")
        );
        assert!(matches!(
            credentials_from_file(&path, "glance"),
            Err(ServiceTokenError::NoCredentials { .. })
        ));
        assert!(matches!(
            credentials_from_file(&dir.path().join("missing"), "nova"),
            Err(ServiceTokenError::NoCredentials { .. })
        ));
    }
}
