//! Who is calling: the validated token as every service sees it.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::OnceLock;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RoleRef {
    pub id: String,
    pub name: String,
}

/// The authenticated caller of a request, from a validated token.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuthContext {
    pub user_id: String,
    pub user_name: String,
    pub user_domain_id: String,
    pub user_domain_name: String,
    pub project_id: Option<String>,
    pub project_name: Option<String>,
    pub project_domain_id: Option<String>,
    pub project_domain_name: Option<String>,
    /// Set for domain-scoped tokens.
    pub domain_id: Option<String>,
    pub domain_name: Option<String>,
    /// Set for system-scoped tokens (`system: {all: true}`).
    pub system_scope: bool,
    pub roles: Vec<RoleRef>,
    pub methods: Vec<String>,
    pub audit_ids: Vec<String>,
    /// Epoch microseconds.
    pub expires_at: i64,
    pub issued_at: i64,
    pub app_cred_id: Option<String>,
    /// Keystone's is_admin_project: true when scoped to the admin project.
    pub is_admin_project: bool,
    #[serde(skip)]
    /// Cache of [`Self::policy_creds`], filled on first use; leave it default.
    pub creds_cache: OnceLock<Value>,
}

impl AuthContext {
    pub fn has_role(&self, name: &str) -> bool {
        self.roles.iter().any(|r| r.name.eq_ignore_ascii_case(name))
    }

    pub fn role_names(&self) -> Vec<String> {
        self.roles.iter().map(|r| r.name.clone()).collect()
    }

    /// The oslo.policy credentials dict of this caller, built once.
    pub fn policy_creds(&self) -> &Value {
        self.creds_cache.get_or_init(|| {
            json!({
                "user_id": self.user_id,
                "user_domain_id": self.user_domain_id,
                "project_id": self.project_id,
                "project_domain_id": self.project_domain_id,
                "domain_id": self.domain_id,
                "system_scope": if self.system_scope { Some("all") } else { None },
                "roles": self.role_names(),
                "is_admin_project": self.is_admin_project,
                "token": {
                    "domain": {"id": self.domain_id},
                    "project": {"domain": {"id": self.project_domain_id}},
                },
            })
        })
    }

    /// The scope kind as policy `scope_types` name it.
    pub fn scope_type(&self) -> Option<&'static str> {
        if self.system_scope {
            Some("system")
        } else if self.domain_id.is_some() {
            Some("domain")
        } else if self.project_id.is_some() {
            Some("project")
        } else {
            None
        }
    }
}
