//! Issuing and validating Fernet tokens.
//!
//! Validation decrypts the token, checks expiry and revocation events, then resolves the user,
//! scope and roles from the database. The result is cached per token and tagged with the
//! identity generation: any identity write bumps the generation, so a cached result is never
//! used after a change that could alter it (role removal, disabling, revocation…).

use super::payload::{Payload, Scope};
use crate::store::{self, projects::Project, revocations::TokenFacts};
use crate::Identity;
use monostack_auth::{AuthContext, RoleRef};
use monostack_common::time::iso_micros;
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::sync::Arc;

/// Why a token is not valid. Callers map these to 401 (X-Auth-Token) or 404 (X-Subject-Token).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("The request you have made requires authentication.")]
    Invalid,
    #[error("{0}")]
    Internal(ApiError),
}

impl From<ApiError> for TokenError {
    fn from(e: ApiError) -> Self {
        TokenError::Internal(e)
    }
}

/// A validated token: who it stands for, and its response body (without catalog).
#[derive(Debug)]
pub struct ValidatedToken {
    pub payload: Payload,
    pub context: Arc<AuthContext>,
    /// The serialized `{"token": {...}}` body without the catalog (spliced in when asked for).
    pub rendered: bytes::Bytes,
    /// Obtained through an application credential that is not `unrestricted`.
    pub restricted: bool,
}

/// The token-independent part of a validated token: a user in a scope.
pub struct Subject {
    context: AuthContext,
    body: serde_json::Map<String, Value>,
    /// When the application credential or trust behind the token expires.
    valid_until: Option<i64>,
    restricted: bool,
    /// For trust-scoped tokens: the trust's project and trustor, for revocation matching.
    trust_project_id: Option<String>,
    trustor_user_id: Option<String>,
}

/// Entries kept before the cache is cleared wholesale (a bound, not a tuning knob).
const CACHE_LIMIT: usize = 10_000;

impl Identity {
    /// Encrypts a payload into a token string with the primary key.
    pub fn encode_token(&self, payload: &Payload) -> String {
        let keys = self.keys();
        let seconds = u64::try_from(payload.issued_at / 1_000_000).unwrap_or(0);
        crate::fernet::encrypt(keys.primary(), &payload.encode(), seconds)
    }

    /// Issues a token for `payload`, validating it (so scope and roles are checked) and
    /// priming the cache.
    pub async fn issue_token(&self, payload: Payload) -> Result<(String, Arc<ValidatedToken>), TokenError> {
        let token = self.encode_token(&payload);
        let trust_id = match &payload.scope {
            Scope::Trust { trust_id } => Some(trust_id.clone()),
            _ => None,
        };
        let resolved = self.resolve(payload).await?;
        // A trust use is spent only once the token is known to be good.
        if let Some(trust_id) = trust_id {
            if !store::trusts::consume_use(self, &trust_id).await? {
                return Err(TokenError::Invalid);
            }
        }
        self.cache_put(&token, &resolved);
        Ok((token, resolved.token))
    }

    /// Validates a token. `allow_expired` accepts tokens up to `allow_expired_window` past expiry.
    pub async fn validate_token(&self, token: &str, allow_expired: bool) -> Result<Arc<ValidatedToken>, TokenError> {
        let generation = self.generation();
        if let Some(hit) = self.token_cache.get(token) {
            let (gen, validated) = hit.value();
            if *gen == generation {
                self.check_expiry(&validated.payload, allow_expired)?;
                return Ok(validated.clone());
            }
        }
        let payload = {
            let keys = self.keys();
            let (plain, _) = crate::fernet::decrypt(keys.all(), token).map_err(|_| TokenError::Invalid)?;
            Payload::decode(&plain).map_err(|_| TokenError::Invalid)?
        };
        self.check_expiry(&payload, allow_expired)?;
        let resolved = self.resolve(payload).await?;
        self.cache_put(token, &resolved);
        Ok(resolved.token)
    }

    fn check_expiry(&self, payload: &Payload, allow_expired: bool) -> Result<(), TokenError> {
        let now = monostack_common::time::now_micros();
        let grace = if allow_expired { self.config.identity.allow_expired_window * 1_000_000 } else { 0 };
        if payload.expires_at + grace <= now {
            return Err(TokenError::Invalid);
        }
        Ok(())
    }

    /// Caches under the generation read *before* resolving, so a write that raced with the
    /// resolution leaves the entry already stale.
    fn cache_put(&self, token: &str, resolved: &Resolved) {
        if self.token_cache.len() >= CACHE_LIMIT {
            self.token_cache.clear();
        }
        self.token_cache.insert(token.to_string(), (resolved.generation, resolved.token.clone()));
    }

    /// Turns a payload into a validated token: checks user, scope, roles and revocation.
    async fn resolve(&self, payload: Payload) -> Result<Resolved, TokenError> {
        let generation = self.generation();
        let subject = self.subject(&payload.user_id, &payload.scope, generation).await?;
        if subject.valid_until.is_some_and(|e| e <= monostack_common::time::now_micros()) {
            return Err(TokenError::Invalid);
        }
        let mut ctx = subject.context.clone();
        ctx.methods = payload.methods.clone();
        ctx.audit_ids = payload.audit_ids.clone();
        ctx.expires_at = payload.expires_at;
        ctx.issued_at = payload.issued_at;
        let facts = TokenFacts {
            payload: &payload,
            user_domain_id: &ctx.user_domain_id,
            project_domain_id: ctx.project_domain_id.as_deref(),
            trust_project_id: subject.trust_project_id.as_deref(),
            trustor_user_id: subject.trustor_user_id.as_deref(),
        };
        if self.revocation_events().await?.iter().any(|e| e.matches(&facts)) {
            return Err(TokenError::Invalid);
        }
        let mut body = subject.body.clone();
        body.insert("methods".into(), json!(payload.methods));
        body.insert("audit_ids".into(), json!(payload.audit_ids));
        body.insert("expires_at".into(), json!(iso_micros(payload.expires_at)));
        body.insert("issued_at".into(), json!(iso_micros(payload.issued_at)));
        Ok(Resolved {
            generation,
            token: Arc::new(ValidatedToken {
                payload,
                context: Arc::new(ctx),
                rendered: bytes::Bytes::from(json!({ "token": body }).to_string()),
                restricted: subject.restricted,
            }),
        })
    }

    /// Who a (user, scope) pair is — names, roles, scope — cached until the next write, so
    /// issuing and validating many tokens for the same subject costs no database work.
    async fn subject(&self, user_id: &str, scope: &Scope, generation: u64) -> Result<Arc<Subject>, TokenError> {
        let key = (user_id.to_string(), scope.clone());
        if let Some(hit) = self.subjects.get(&key) {
            if hit.0 == generation {
                return Ok(hit.1.clone());
            }
        }
        let subject = Arc::new(self.load_subject(user_id, scope).await?);
        if self.subjects.len() >= CACHE_LIMIT {
            self.subjects.clear();
        }
        self.subjects.insert(key, (generation, subject.clone()));
        Ok(subject)
    }

    async fn load_subject(&self, user_id: &str, scope: &Scope) -> Result<Subject, TokenError> {
        let trust = match scope {
            Scope::Trust { trust_id } => Some(self.trust_for(user_id, trust_id).await?),
            _ => None,
        };
        // An impersonating trust token stands for the trustor.
        let shown_user_id = match &trust {
            Some(t) if t.impersonation => t.trustor_user_id.as_str(),
            _ => user_id,
        };
        let user = store::users::get(self, shown_user_id).await?.ok_or(TokenError::Invalid)?;
        if !user.enabled {
            return Err(TokenError::Invalid);
        }
        let user_domain = self.enabled_domain(&user.domain_id).await?;
        let mut ctx = AuthContext {
            user_id: user.id.clone(),
            user_name: user.name.clone(),
            user_domain_id: user_domain.id.clone(),
            user_domain_name: user_domain.name.clone(),
            is_admin_project: true,
            ..Default::default()
        };
        let mut body = serde_json::Map::new();
        body.insert("user".into(), json!({"id": user.id, "name": user.name,
                     "domain": {"id": user_domain.id, "name": user_domain.name},
                     "password_expires_at": user.password_expires_at.map(iso_micros)}));
        let mut role_ids = match scope {
            Scope::Unscoped => Vec::new(),
            Scope::System => {
                ctx.system_scope = true;
                body.insert("system".into(), json!({"all": true}));
                self.effective_role_ids(&user.id, &[store::assignments::SYSTEM_TARGET.to_string()], &[]).await?
            }
            Scope::Domain(domain_id) => {
                let domain = self.enabled_domain(domain_id).await?;
                ctx.domain_id = Some(domain.id.clone());
                ctx.domain_name = Some(domain.name.clone());
                body.insert("domain".into(), json!({"id": domain.id, "name": domain.name}));
                self.effective_role_ids(&user.id, std::slice::from_ref(&domain.id), &[]).await?
            }
            Scope::Project(project_id) | Scope::ApplicationCredential { project_id, .. } => {
                let (project, domain) = self.enabled_project(project_id).await?;
                scope_to_project(&mut ctx, &mut body, &project, &domain);
                body.insert("is_domain".into(), json!(false));
                self.project_role_ids(&user.id, &project).await?
            }
            Scope::Trust { .. } => {
                let trust = trust.as_ref().ok_or(TokenError::Invalid)?;
                body.insert("OS-TRUST:trust".into(), json!({
                    "id": trust.id, "impersonation": trust.impersonation,
                    "trustee_user": {"id": trust.trustee_user_id}, "trustor_user": {"id": trust.trustor_user_id},
                }));
                match &trust.project_id {
                    Some(project_id) => {
                        let (project, domain) = self.enabled_project(project_id).await?;
                        scope_to_project(&mut ctx, &mut body, &project, &domain);
                        self.trust_role_ids(trust, &project).await?
                    }
                    None => Vec::new(),
                }
            }
        };
        let mut valid_until = trust.as_ref().and_then(|t| t.expires_at);
        let mut restricted = false;
        if let Scope::ApplicationCredential { app_cred_id, .. } = scope {
            let cred = store::app_creds::get(self, app_cred_id).await?.ok_or(TokenError::Invalid)?;
            if cred.user_id != user.id {
                return Err(TokenError::Invalid);
            }
            valid_until = cred.expires_at;
            restricted = !cred.unrestricted;
            role_ids.retain(|r| cred.role_ids.contains(r));
            ctx.app_cred_id = Some(cred.id.clone());
            body.insert("application_credential".into(), json!({"id": cred.id, "name": cred.name, "restricted": !cred.unrestricted}));
        }
        let projectless_trust = trust.as_ref().is_some_and(|t| t.project_id.is_none());
        if *scope != Scope::Unscoped && !projectless_trust && role_ids.is_empty() {
            return Err(TokenError::Invalid);
        }
        let roles = self.role_refs(&role_ids).await?;
        if *scope != Scope::Unscoped {
            body.insert("roles".into(), json!(roles.iter().map(|r| json!({"id": r.id, "name": r.name})).collect::<Vec<_>>()));
        }
        ctx.roles = roles;
        Ok(Subject {
            context: ctx,
            body,
            valid_until,
            restricted,
            trust_project_id: trust.as_ref().and_then(|t| t.project_id.clone()),
            trustor_user_id: trust.map(|t| t.trustor_user_id),
        })
    }

    /// The trust behind a trust-scoped token of `trustee_id`: it exists, `trustee_id` is its
    /// trustee, and trustor and trustee are both enabled in enabled domains. Expiry is checked
    /// per token (the result is cached); used-up trusts still back the tokens they issued.
    async fn trust_for(&self, trustee_id: &str, trust_id: &str) -> Result<store::trusts::Trust, TokenError> {
        let trust = store::trusts::get(self, trust_id).await?.ok_or(TokenError::Invalid)?;
        if trust.trustee_user_id != trustee_id {
            return Err(TokenError::Invalid);
        }
        for id in [&trust.trustor_user_id, &trust.trustee_user_id] {
            let user = store::users::get(self, id).await?.ok_or(TokenError::Invalid)?;
            if !user.enabled {
                return Err(TokenError::Invalid);
            }
            self.enabled_domain(&user.domain_id).await?;
        }
        Ok(trust)
    }

    /// The roles a trust grants on its project: the delegated roles and those they imply,
    /// every one still held by the trustor (else the trust grants nothing: Keystone's rule).
    async fn trust_role_ids(&self, trust: &store::trusts::Trust, project: &Project) -> Result<Vec<String>, TokenError> {
        let held = self.project_role_ids(&trust.trustor_user_id, project).await?;
        let implications = store::roles::implications(self).await?;
        let mut out = Vec::new();
        for id in store::roles::expand_implied(&trust.role_ids, &implications) {
            match store::roles::get(self, &id).await? {
                Some(r) if r.domain_id.is_some() => continue,
                Some(_) if held.contains(&id) => out.push(id),
                _ => return Err(TokenError::Invalid),
            }
        }
        Ok(out)
    }

    /// Roles a user holds on a project: directly, through groups, inherited from its ancestors
    /// and domain, or implied (global roles only).
    pub async fn project_role_ids(&self, user_id: &str, project: &Project) -> Result<Vec<String>, ApiError> {
        let mut inheriting: Vec<String> = store::projects::ancestors(self, project).await?.into_iter().map(|p| p.id).collect();
        inheriting.push(project.domain_id.clone());
        self.effective_role_ids(user_id, std::slice::from_ref(&project.id), &inheriting).await
    }

    async fn enabled_domain(&self, id: &str) -> Result<Project, TokenError> {
        match store::projects::get(self, id).await? {
            Some(d) if d.is_domain && d.enabled => Ok(d),
            _ => Err(TokenError::Invalid),
        }
    }

    /// The project and its domain, both enabled (and every ancestor enabled).
    async fn enabled_project(&self, id: &str) -> Result<(Project, Project), TokenError> {
        let project = match store::projects::get(self, id).await? {
            Some(p) if !p.is_domain && p.enabled => p,
            _ => return Err(TokenError::Invalid),
        };
        let domain = self.enabled_domain(&project.domain_id).await?;
        Ok((project, domain))
    }

    /// Roles a user holds on the targets (directly, through groups, inherited, implied).
    pub async fn effective_role_ids(&self, user_id: &str, direct: &[String], inheriting: &[String]) -> Result<Vec<String>, ApiError> {
        let mut actors = store::users::group_ids(self, user_id).await?;
        actors.push(user_id.to_string());
        let held = store::assignments::role_ids_for(self, &actors, direct, inheriting).await?;
        if held.is_empty() {
            return Ok(held);
        }
        let implications = store::roles::implications(self).await?;
        // Domain-specific roles never appear in tokens; only the global roles they imply do.
        let mut out = Vec::new();
        for id in store::roles::expand_implied(&held, &implications) {
            if store::roles::get(self, &id).await?.is_some_and(|r| r.domain_id.is_none()) {
                out.push(id);
            }
        }
        Ok(out)
    }

    async fn role_refs(&self, ids: &[String]) -> Result<Vec<RoleRef>, ApiError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(r) = store::roles::get(self, id).await? {
                out.push(RoleRef { id: r.id, name: r.name });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

/// A resolved token with the generation it was computed at.
pub(crate) struct Resolved {
    generation: u64,
    token: Arc<ValidatedToken>,
}

/// Fills the project part of a token's context and body.
fn scope_to_project(ctx: &mut AuthContext, body: &mut serde_json::Map<String, Value>, project: &Project, domain: &Project) {
    ctx.project_id = Some(project.id.clone());
    ctx.project_name = Some(project.name.clone());
    ctx.project_domain_id = Some(domain.id.clone());
    ctx.project_domain_name = Some(domain.name.clone());
    body.insert(
        "project".into(),
        json!({"id": project.id, "name": project.name, "domain": {"id": domain.id, "name": domain.name}}),
    );
}
