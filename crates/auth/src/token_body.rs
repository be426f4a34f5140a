//! Reading an Identity v3 token body (`{"token": {...}}`) into an [`AuthContext`], for
//! services that validate tokens remotely.

use crate::context::{AuthContext, RoleRef};
use serde_json::Value;

fn s(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str().map(str::to_string)
}

fn micros(v: &Value, key: &str) -> i64 {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_micros())
        .unwrap_or(0)
}

impl AuthContext {
    /// Builds the context from a validated token body; None when required fields are missing.
    pub fn from_token_body(body: &Value) -> Option<Self> {
        let t = body.get("token")?;
        let strings = |key: &str| -> Vec<String> {
            t.get(key)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let roles = t
            .get("roles")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|r| Some(RoleRef { id: s(r, &["id"])?, name: s(r, &["name"])? }))
                    .collect()
            })
            .unwrap_or_default();
        Some(AuthContext {
            user_id: s(t, &["user", "id"])?,
            user_name: s(t, &["user", "name"]).unwrap_or_default(),
            user_domain_id: s(t, &["user", "domain", "id"]).unwrap_or_default(),
            user_domain_name: s(t, &["user", "domain", "name"]).unwrap_or_default(),
            project_id: s(t, &["project", "id"]),
            project_name: s(t, &["project", "name"]),
            project_domain_id: s(t, &["project", "domain", "id"]),
            project_domain_name: s(t, &["project", "domain", "name"]),
            domain_id: s(t, &["domain", "id"]),
            domain_name: s(t, &["domain", "name"]),
            system_scope: t.pointer("/system/all").and_then(Value::as_bool).unwrap_or(false),
            roles,
            methods: strings("methods"),
            audit_ids: strings("audit_ids"),
            expires_at: micros(t, "expires_at"),
            issued_at: micros(t, "issued_at"),
            app_cred_id: s(t, &["application_credential", "id"]),
            is_admin_project: t.get("is_admin_project").and_then(Value::as_bool).unwrap_or(true),
            ..Default::default()
        })
    }
}
