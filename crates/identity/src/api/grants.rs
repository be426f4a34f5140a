//! Role grants: a user or group holds a role on a project, a domain or the system,
//! optionally inherited to the projects below (OS-INHERIT).
//!
//! `/v3/{projects|domains}/{id}/{users|groups}/{id}/roles[/{role_id}]`,
//! `/v3/system/{users|groups}/{id}/roles[/{role_id}]` and
//! `/v3/OS-INHERIT/{domains|projects}/{id}/{users|groups}/{id}/roles[/{role_id}]/inherited_to_projects`.
//!
//! Policy runs before existence checks (a missing entity leaves its part of the target
//! empty), so callers who may not see a resource learn nothing about it; once the policy
//! passed, missing entities are 404s.

use super::{collection_links, enforce, no_content, not_found, ok, ApiResult, Caller, State};
use crate::store::{self, assignments::{Assignment, Kind, SYSTEM_TARGET}, projects::Project, roles::Role};
use crate::Identity;
use axum::extract::{Path, State as S};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_common::ApiError;
use serde_json::{json, Map};

pub fn routes() -> Router<State> {
    Router::new()
        // Projects.
        .route("/v3/projects/{project_id}/users/{user_id}/roles", get(project_user_list))
        .route(
            "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}",
            get(project_user_check).put(project_user_grant).delete(project_user_revoke),
        )
        .route("/v3/projects/{project_id}/groups/{group_id}/roles", get(project_group_list))
        .route(
            "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}",
            get(project_group_check).put(project_group_grant).delete(project_group_revoke),
        )
        // Domains.
        .route("/v3/domains/{domain_id}/users/{user_id}/roles", get(domain_user_list))
        .route(
            "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}",
            get(domain_user_check).put(domain_user_grant).delete(domain_user_revoke),
        )
        .route("/v3/domains/{domain_id}/groups/{group_id}/roles", get(domain_group_list))
        .route(
            "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}",
            get(domain_group_check).put(domain_group_grant).delete(domain_group_revoke),
        )
        // System.
        .route("/v3/system/users/{user_id}/roles", get(system_user_list))
        .route(
            "/v3/system/users/{user_id}/roles/{role_id}",
            get(system_user_check).put(system_user_grant).delete(system_user_revoke),
        )
        .route("/v3/system/groups/{group_id}/roles", get(system_group_list))
        .route(
            "/v3/system/groups/{group_id}/roles/{role_id}",
            get(system_group_check).put(system_group_grant).delete(system_group_revoke),
        )
        // OS-INHERIT.
        .route("/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/inherited_to_projects", get(inherit_domain_user_list))
        .route(
            "/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects",
            get(inherit_domain_user_check).put(inherit_domain_user_grant).delete(inherit_domain_user_revoke),
        )
        .route("/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/inherited_to_projects", get(inherit_domain_group_list))
        .route(
            "/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects",
            get(inherit_domain_group_check).put(inherit_domain_group_grant).delete(inherit_domain_group_revoke),
        )
        .route(
            "/v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects",
            get(inherit_project_user_check).put(inherit_project_user_grant).delete(inherit_project_user_revoke),
        )
        .route(
            "/v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects",
            get(inherit_project_group_check).put(inherit_project_group_grant).delete(inherit_project_group_revoke),
        )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    User,
    Group,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum On {
    Project,
    Domain,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Check,
    Grant,
    Revoke,
    List,
}

/// One grant path: who, on what, and whether it is inherited to projects.
struct Spec {
    actor: Actor,
    actor_id: String,
    on: On,
    target_id: String,
    inherited: bool,
}

impl Spec {
    fn kind(&self) -> Kind {
        match (self.actor, self.on) {
            (Actor::User, On::Project) => Kind::UserProject,
            (Actor::Group, On::Project) => Kind::GroupProject,
            (Actor::User, On::Domain) => Kind::UserDomain,
            (Actor::Group, On::Domain) => Kind::GroupDomain,
            (Actor::User, On::System) => Kind::UserSystem,
            (Actor::Group, On::System) => Kind::GroupSystem,
        }
    }

    fn assignment(&self, role_id: &str) -> Assignment {
        Assignment {
            kind: self.kind(),
            actor_id: self.actor_id.clone(),
            target_id: self.target_id.clone(),
            role_id: role_id.to_string(),
            inherited: self.inherited,
        }
    }

    fn action(&self, op: Op) -> &'static str {
        match (self.on, self.actor, op) {
            (On::System, Actor::User, Op::Check) => "identity:check_system_grant_for_user",
            (On::System, Actor::User, Op::Grant) => "identity:create_system_grant_for_user",
            (On::System, Actor::User, Op::Revoke) => "identity:revoke_system_grant_for_user",
            (On::System, Actor::User, Op::List) => "identity:list_system_grants_for_user",
            (On::System, Actor::Group, Op::Check) => "identity:check_system_grant_for_group",
            (On::System, Actor::Group, Op::Grant) => "identity:create_system_grant_for_group",
            (On::System, Actor::Group, Op::Revoke) => "identity:revoke_system_grant_for_group",
            (On::System, Actor::Group, Op::List) => "identity:list_system_grants_for_group",
            (_, _, Op::Check) => "identity:check_grant",
            (_, _, Op::Grant) => "identity:create_grant",
            (_, _, Op::Revoke) => "identity:revoke_grant",
            (_, _, Op::List) => "identity:list_grants",
        }
    }

    /// The URL path of the role list for this actor/target (for `links.self`).
    fn list_path(&self) -> String {
        let actor = match self.actor {
            Actor::User => "users",
            Actor::Group => "groups",
        };
        match (self.on, self.inherited) {
            (On::System, _) => format!("system/{actor}/{}/roles", self.actor_id),
            (On::Project, false) => format!("projects/{}/{actor}/{}/roles", self.target_id, self.actor_id),
            (On::Domain, false) => format!("domains/{}/{actor}/{}/roles", self.target_id, self.actor_id),
            (On::Project, true) => format!("OS-INHERIT/projects/{}/{actor}/{}/roles/inherited_to_projects", self.target_id, self.actor_id),
            (On::Domain, true) => format!("OS-INHERIT/domains/{}/{actor}/{}/roles/inherited_to_projects", self.target_id, self.actor_id),
        }
    }
}

/// What a grant path names, looked up (None when missing).
struct Resolved {
    role: Option<Role>,
    actor_found: bool,
    /// The project, or the domain, the grant is on (None for the system or when missing).
    target: Option<Project>,
}

/// Looks up the entities, enforces the policy with whatever was found, and returns them.
async fn resolve(state: &Identity, caller: &Caller, spec: &Spec, role_id: Option<&str>, op: Op) -> ApiResult<Resolved> {
    let mut t = Map::new();
    let role = match role_id {
        Some(id) => store::roles::get(state, id).await?,
        None => None,
    };
    if role_id.is_some() {
        t.insert("role".into(), role.as_ref().map(super::roles::target_view).unwrap_or_else(|| json!({})));
    }
    let actor_found = match spec.actor {
        Actor::User => {
            let user = store::users::get(state, &spec.actor_id).await?;
            let view = user.as_ref().map(|u| json!({"id": u.id, "domain_id": u.domain_id, "name": u.name}));
            t.insert("user".into(), view.unwrap_or_else(|| json!({})));
            user.is_some()
        }
        Actor::Group => {
            let group = store::groups::get(state, &spec.actor_id).await?;
            let view = group.as_ref().map(|g| json!({"id": g.id, "domain_id": g.domain_id, "name": g.name}));
            t.insert("group".into(), view.unwrap_or_else(|| json!({})));
            group.is_some()
        }
    };
    let target = match spec.on {
        On::System => None,
        On::Project => {
            let p = store::projects::get(state, &spec.target_id).await?.filter(|p| !p.is_domain);
            let view = p.as_ref().map(|p| json!({"id": p.id, "domain_id": p.domain_id, "name": p.name}));
            t.insert("project".into(), view.unwrap_or_else(|| json!({})));
            p
        }
        On::Domain => {
            let d = store::projects::get(state, &spec.target_id).await?.filter(|d| d.is_domain);
            let view = d.as_ref().map(|d| json!({"id": d.id, "name": d.name}));
            t.insert("domain".into(), view.unwrap_or_else(|| json!({})));
            d
        }
    };
    enforce(state, caller, spec.action(op), &json!({ "target": t }))?;
    Ok(Resolved { role, actor_found, target })
}

fn actor_missing(spec: &Spec) -> ApiError {
    match spec.actor {
        Actor::User => not_found("user", &spec.actor_id),
        Actor::Group => not_found("group", &spec.actor_id),
    }
}

fn target_missing(spec: &Spec) -> Option<ApiError> {
    match spec.on {
        On::Project => Some(not_found("project", &spec.target_id)),
        On::Domain => Some(not_found("domain", &spec.target_id)),
        On::System => None,
    }
}

fn check_target(spec: &Spec, r: &Resolved) -> ApiResult<()> {
    match (r.target.is_some(), target_missing(spec)) {
        (false, Some(e)) => Err(e),
        _ => Ok(()),
    }
}

fn assignment_missing(spec: &Spec, role_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Could not find role assignment with role: {role_id}, user or group: {}, project, domain, or system: {}.",
        spec.actor_id, spec.target_id
    ))
}

async fn check(state: &Identity, caller: &Caller, spec: Spec, role_id: &str) -> ApiResult<Response> {
    let r = resolve(state, caller, &spec, Some(role_id), Op::Check).await?;
    if r.role.is_none() {
        return Err(not_found("role", role_id));
    }
    if !r.actor_found {
        return Err(actor_missing(&spec));
    }
    check_target(&spec, &r)?;
    if !store::assignments::exists(state, &spec.assignment(role_id)).await? {
        return Err(assignment_missing(&spec, role_id));
    }
    Ok(no_content())
}

async fn grant(state: &Identity, caller: &Caller, spec: Spec, role_id: &str) -> ApiResult<Response> {
    let r = resolve(state, caller, &spec, Some(role_id), Op::Grant).await?;
    let role = r.role.as_ref().ok_or_else(|| not_found("role", role_id))?;
    if !r.actor_found {
        return Err(actor_missing(&spec));
    }
    check_target(&spec, &r)?;
    if let Some(role_domain) = &role.domain_id {
        match (spec.on, &r.target) {
            (On::System, _) => {
                return Err(ApiError::bad_request(format!(
                    "Role {role_id} is a domain-specific role. Unable to use a domain-specific role in a system assignment."
                )))
            }
            (On::Project, Some(p)) if &p.domain_id != role_domain => {
                return Err(ApiError::forbidden(format!(
                    "Project {} must be in the same domain as the role {role_id} being assigned.",
                    p.id
                )))
            }
            (On::Domain, Some(d)) if &d.id != role_domain => {
                return Err(ApiError::forbidden(format!(
                    "Domain {} must be the domain of the role {role_id} being assigned.",
                    d.id
                )))
            }
            _ => {}
        }
    }
    store::assignments::grant(state, &spec.assignment(role_id)).await?;
    tracing::info!(
        "granted role {role_id} to {:?} {} on {:?} {} (inherited: {})",
        spec.actor,
        spec.actor_id,
        spec.on,
        spec.target_id,
        spec.inherited
    );
    Ok(no_content())
}

async fn revoke(state: &Identity, caller: &Caller, spec: Spec, role_id: &str) -> ApiResult<Response> {
    let r = resolve(state, caller, &spec, Some(role_id), Op::Revoke).await?;
    if r.role.is_none() {
        return Err(not_found("role", role_id));
    }
    // The actor may be gone: revoking what is left of its grants is allowed.
    let assignment = spec.assignment(role_id);
    if !store::assignments::exists(state, &assignment).await? {
        return Err(assignment_missing(&spec, role_id));
    }
    check_target(&spec, &r)?;
    store::assignments::revoke(state, &assignment).await?;
    // Tokens are re-resolved after every write (their roles recomputed, a scoped token left
    // without roles stops validating); other services' token caches are told as well.
    state.announce_revocation();
    tracing::info!(
        "revoked role {role_id} from {:?} {} on {:?} {} (inherited: {})",
        spec.actor,
        spec.actor_id,
        spec.on,
        spec.target_id,
        spec.inherited
    );
    Ok(no_content())
}

async fn list(state: &Identity, caller: &Caller, spec: Spec) -> ApiResult<Response> {
    let r = resolve(state, caller, &spec, None, Op::List).await?;
    if !r.actor_found {
        return Err(actor_missing(&spec));
    }
    check_target(&spec, &r)?;
    let kind = spec.kind();
    let role_ids: Vec<String> = store::assignments::list_all(state)
        .await?
        .into_iter()
        .filter(|a| a.kind == kind && a.actor_id == spec.actor_id && a.target_id == spec.target_id && a.inherited == spec.inherited)
        .map(|a| a.role_id)
        .collect();
    let mut roles = Vec::with_capacity(role_ids.len());
    for id in &role_ids {
        if let Some(role) = store::roles::get(state, id).await? {
            roles.push(super::roles::view(state, &role));
        }
    }
    Ok(ok(json!({"roles": roles, "links": collection_links(state, &spec.list_path(), None)})))
}

fn spec(actor: Actor, actor_id: String, on: On, target_id: String, inherited: bool) -> Spec {
    Spec { actor, actor_id, on, target_id, inherited }
}

/// Handlers for one (actor, target, inherited) family of grant paths: the path carries
/// the target id first (none for the system), then the actor id, then the role id.
macro_rules! grant_handlers {
    ($check:ident, $grant:ident, $revoke:ident, $actor:expr, $on:expr, $inherited:expr) => {
        async fn $check(S(state): S<State>, caller: Caller, Path((target, actor, role)): Path<(String, String, String)>) -> ApiResult<Response> {
            check(&state, &caller, spec($actor, actor, $on, target, $inherited), &role).await
        }
        async fn $grant(S(state): S<State>, caller: Caller, Path((target, actor, role)): Path<(String, String, String)>) -> ApiResult<Response> {
            grant(&state, &caller, spec($actor, actor, $on, target, $inherited), &role).await
        }
        async fn $revoke(S(state): S<State>, caller: Caller, Path((target, actor, role)): Path<(String, String, String)>) -> ApiResult<Response> {
            revoke(&state, &caller, spec($actor, actor, $on, target, $inherited), &role).await
        }
    };
}

macro_rules! list_handler {
    ($list:ident, $actor:expr, $on:expr, $inherited:expr) => {
        async fn $list(S(state): S<State>, caller: Caller, Path((target, actor)): Path<(String, String)>) -> ApiResult<Response> {
            list(&state, &caller, spec($actor, actor, $on, target, $inherited)).await
        }
    };
}

macro_rules! system_handlers {
    ($check:ident, $grant:ident, $revoke:ident, $list:ident, $actor:expr) => {
        async fn $check(S(state): S<State>, caller: Caller, Path((actor, role)): Path<(String, String)>) -> ApiResult<Response> {
            check(&state, &caller, spec($actor, actor, On::System, SYSTEM_TARGET.into(), false), &role).await
        }
        async fn $grant(S(state): S<State>, caller: Caller, Path((actor, role)): Path<(String, String)>) -> ApiResult<Response> {
            grant(&state, &caller, spec($actor, actor, On::System, SYSTEM_TARGET.into(), false), &role).await
        }
        async fn $revoke(S(state): S<State>, caller: Caller, Path((actor, role)): Path<(String, String)>) -> ApiResult<Response> {
            revoke(&state, &caller, spec($actor, actor, On::System, SYSTEM_TARGET.into(), false), &role).await
        }
        async fn $list(S(state): S<State>, caller: Caller, Path(actor): Path<String>) -> ApiResult<Response> {
            list(&state, &caller, spec($actor, actor, On::System, SYSTEM_TARGET.into(), false)).await
        }
    };
}

grant_handlers!(project_user_check, project_user_grant, project_user_revoke, Actor::User, On::Project, false);
grant_handlers!(project_group_check, project_group_grant, project_group_revoke, Actor::Group, On::Project, false);
grant_handlers!(domain_user_check, domain_user_grant, domain_user_revoke, Actor::User, On::Domain, false);
grant_handlers!(domain_group_check, domain_group_grant, domain_group_revoke, Actor::Group, On::Domain, false);
grant_handlers!(inherit_domain_user_check, inherit_domain_user_grant, inherit_domain_user_revoke, Actor::User, On::Domain, true);
grant_handlers!(inherit_domain_group_check, inherit_domain_group_grant, inherit_domain_group_revoke, Actor::Group, On::Domain, true);
grant_handlers!(inherit_project_user_check, inherit_project_user_grant, inherit_project_user_revoke, Actor::User, On::Project, true);
grant_handlers!(inherit_project_group_check, inherit_project_group_grant, inherit_project_group_revoke, Actor::Group, On::Project, true);
list_handler!(project_user_list, Actor::User, On::Project, false);
list_handler!(project_group_list, Actor::Group, On::Project, false);
list_handler!(domain_user_list, Actor::User, On::Domain, false);
list_handler!(domain_group_list, Actor::Group, On::Domain, false);
list_handler!(inherit_domain_user_list, Actor::User, On::Domain, true);
list_handler!(inherit_domain_group_list, Actor::Group, On::Domain, true);
system_handlers!(system_user_check, system_user_grant, system_user_revoke, system_user_list, Actor::User);
system_handlers!(system_group_check, system_group_grant, system_group_revoke, system_group_list, Actor::Group);
