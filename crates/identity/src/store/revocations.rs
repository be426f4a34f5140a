//! Revocation events: what makes still-unexpired tokens invalid (Keystone's revoke model).
//! A token is revoked when an event matches it on every attribute the event names and the
//! token was issued no later than the event's `issued_before`.

use super::{new_id, RowExt};
use crate::token::payload::{Payload, Scope};
use crate::Identity;
use monostack_common::ApiError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationEvent {
    pub user_id: Option<String>,
    pub project_id: Option<String>,
    /// Matches tokens scoped to the domain, of users in it, or scoped to projects in it.
    pub domain_id: Option<String>,
    pub audit_id: Option<String>,
    pub app_cred_id: Option<String>,
    /// Matches tokens scoped through the trust.
    pub trust_id: Option<String>,
    pub issued_before: i64,
}

/// What a token exposes to matching beyond its payload.
pub struct TokenFacts<'a> {
    pub payload: &'a Payload,
    pub user_domain_id: &'a str,
    pub project_domain_id: Option<&'a str>,
    /// For trust-scoped tokens: the trust's project and trustor (the payload's user is the
    /// trustee; a user event matches either of them).
    pub trust_project_id: Option<&'a str>,
    pub trustor_user_id: Option<&'a str>,
}

impl RevocationEvent {
    pub fn matches(&self, t: &TokenFacts<'_>) -> bool {
        let p = t.payload;
        if p.issued_at > self.issued_before {
            return false;
        }
        let (project, domain, app_cred, trust) = match &p.scope {
            Scope::Project(id) => (Some(id.as_str()), None, None, None),
            Scope::Domain(id) => (None, Some(id.as_str()), None, None),
            Scope::ApplicationCredential { project_id, app_cred_id } => {
                (Some(project_id.as_str()), None, Some(app_cred_id.as_str()), None)
            }
            Scope::Trust { trust_id } => (t.trust_project_id, None, None, Some(trust_id.as_str())),
            Scope::Unscoped | Scope::System => (None, None, None, None),
        };
        let field_ok = |want: &Option<String>, have: Option<&str>| want.as_deref().is_none_or(|w| Some(w) == have);
        self.user_id.as_deref().is_none_or(|u| u == p.user_id || t.trustor_user_id == Some(u))
            && field_ok(&self.project_id, project)
            && field_ok(&self.trust_id, trust)
            && field_ok(&self.app_cred_id, app_cred)
            && field_ok(&self.audit_id, p.audit_ids.first().map(String::as_str))
            && self.domain_id.as_deref().is_none_or(|d| {
                domain == Some(d) || t.user_domain_id == d || t.project_domain_id == Some(d)
            })
    }
}

pub async fn list(state: &Identity) -> Result<Vec<RevocationEvent>, ApiError> {
    let rows = sqlx::query("SELECT user_id, project_id, domain_id, audit_id, app_cred_id, trust_id, issued_before FROM revocation_events")
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(RevocationEvent {
                user_id: r.opt_text("user_id")?,
                project_id: r.opt_text("project_id")?,
                domain_id: r.opt_text("domain_id")?,
                audit_id: r.opt_text("audit_id")?,
                app_cred_id: r.opt_text("app_cred_id")?,
                trust_id: r.opt_text("trust_id")?,
                issued_before: r.int("issued_before")?,
            })
        })
        .collect()
}

/// Records an event (issued_before = now when zero) and drops events older than any token
/// that could still be validated.
pub async fn record(state: &Identity, mut e: RevocationEvent) -> Result<(), ApiError> {
    let now = monostack_common::time::now_micros();
    if e.issued_before == 0 {
        e.issued_before = now;
    }
    sqlx::query(&state.db.sql(
        "INSERT INTO revocation_events (id, user_id, project_id, domain_id, audit_id, app_cred_id, trust_id, issued_before, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ))
    .bind(new_id())
    .bind(&e.user_id)
    .bind(&e.project_id)
    .bind(&e.domain_id)
    .bind(&e.audit_id)
    .bind(&e.app_cred_id)
    .bind(&e.trust_id)
    .bind(e.issued_before)
    .bind(now)
    .execute(&state.db.pool)
    .await?;
    let horizon = (state.config.identity.token_expiration + state.config.identity.allow_expired_window) * 1_000_000;
    sqlx::query(&state.db.sql("DELETE FROM revocation_events WHERE revoked_at < ?"))
        .bind(now - horizon)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    state.announce_revocation();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_tokens_match_trust_trustor_and_project_events() {
        let payload = Payload {
            user_id: "trustee".into(),
            methods: vec!["password".into()],
            scope: Scope::Trust { trust_id: "t1".into() },
            expires_at: 2_000,
            issued_at: 1_000,
            audit_ids: vec!["a".into()],
        };
        let facts = TokenFacts {
            payload: &payload,
            user_domain_id: "default",
            project_domain_id: Some("default"),
            trust_project_id: Some("p1"),
            trustor_user_id: Some("trustor"),
        };
        let at = |e: RevocationEvent| RevocationEvent { issued_before: 1_500, ..e };
        assert!(at(RevocationEvent { trust_id: Some("t1".into()), ..Default::default() }).matches(&facts));
        assert!(!at(RevocationEvent { trust_id: Some("t2".into()), ..Default::default() }).matches(&facts));
        assert!(at(RevocationEvent { user_id: Some("trustor".into()), ..Default::default() }).matches(&facts));
        assert!(at(RevocationEvent { user_id: Some("trustee".into()), ..Default::default() }).matches(&facts));
        assert!(!at(RevocationEvent { user_id: Some("other".into()), ..Default::default() }).matches(&facts));
        assert!(at(RevocationEvent { project_id: Some("p1".into()), ..Default::default() }).matches(&facts));
        assert!(!RevocationEvent { trust_id: Some("t1".into()), issued_before: 999, ..Default::default() }.matches(&facts));
    }
}
