//! `GET /v3/role_assignments`: the assignments, filtered, optionally *effective* (group
//! memberships, inheritance and implied roles expanded, as tokens see them), with names.

use super::query::{from_uri, Query};
use super::{collection_links, enforce, not_found, ok, ApiResult, Caller, State};
use crate::store::{self, assignments::{Assignment, Kind}, projects::Project, roles::Role};
use crate::Identity;
use axum::extract::State as S;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

pub fn routes() -> Router<State> {
    Router::new().route("/v3/role_assignments", get(list))
}

const FILTERS: &[&str] = &["group.id", "role.id", "scope.domain.id", "scope.project.id", "scope.OS-INHERIT:inherited_to", "user.id", "scope.system"];
const INHERITED_TO: &str = "scope.OS-INHERIT:inherited_to";

/// One (possibly derived) assignment, as Keystone's assignment manager models it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    user_id: Option<String>,
    group_id: Option<String>,
    project_id: Option<String>,
    domain_id: Option<String>,
    system: bool,
    role_id: String,
    /// A stored inherited (`inherited_to_projects`) assignment, not yet expanded.
    inherited: bool,
    /// Where a derived entry came from: the group membership, the inheriting project or
    /// domain, the prior role.
    via_group: Option<String>,
    via_project: Option<String>,
    via_domain: Option<String>,
    via_role: Option<String>,
}

impl Entry {
    fn from_assignment(a: &Assignment) -> Self {
        let mut e = Entry {
            user_id: None,
            group_id: None,
            project_id: None,
            domain_id: None,
            system: false,
            role_id: a.role_id.clone(),
            inherited: a.inherited,
            via_group: None,
            via_project: None,
            via_domain: None,
            via_role: None,
        };
        if a.kind.is_group() {
            e.group_id = Some(a.actor_id.clone());
        } else {
            e.user_id = Some(a.actor_id.clone());
        }
        match a.kind {
            Kind::UserProject | Kind::GroupProject => e.project_id = Some(a.target_id.clone()),
            Kind::UserDomain | Kind::GroupDomain => e.domain_id = Some(a.target_id.clone()),
            Kind::UserSystem | Kind::GroupSystem => e.system = true,
        }
        e
    }
}

fn is_system(k: Kind) -> bool {
    matches!(k, Kind::UserSystem | Kind::GroupSystem)
}

fn is_project(k: Kind) -> bool {
    matches!(k, Kind::UserProject | Kind::GroupProject)
}

fn is_domain(k: Kind) -> bool {
    matches!(k, Kind::UserDomain | Kind::GroupDomain)
}

/// Keystone's key-only boolean: present and not "0".
fn is_true(q: &Query, key: &str) -> bool {
    q.get(key).is_some_and(|v| v != "0")
}

/// A non-empty filter value.
fn filter<'a>(q: &'a Query, key: &str) -> Option<&'a str> {
    q.get(key).filter(|v| !v.is_empty())
}

/// Keystone's `id_string`: 1-64 characters of letters, digits and dashes.
fn validate_ids(q: &Query) -> ApiResult<()> {
    for key in ["group.id", "role.id", "scope.domain.id", "scope.project.id"] {
        if let Some(v) = q.get(key) {
            if v.is_empty() || v.len() > 64 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(ApiError::bad_request(format!(
                    "Invalid input for field '{key}': must be 1 to 64 letters, digits or dashes"
                )));
            }
        }
    }
    Ok(())
}

/// Every filter value given, as flat target keys (Keystone adds them to the policy target).
fn policy_target(q: &Query, target: Map<String, Value>) -> Value {
    let mut t = Map::new();
    for f in FILTERS {
        if let Some(v) = q.get(f) {
            t.insert((*f).to_string(), json!(v));
        }
    }
    t.insert("target".into(), Value::Object(target));
    Value::Object(t)
}

async fn list(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    let q = from_uri(&uri);
    validate_ids(&q)?;
    let include_subtree = is_true(&q, "include_subtree");
    let caller_domain = caller.ctx().domain_id.clone();
    if include_subtree {
        let project_id = filter(&q, "scope.project.id");
        let project = match project_id {
            Some(p) => store::projects::get(&state, p).await?.filter(|p| !p.is_domain),
            None => None,
        };
        let mut target = Map::new();
        if let Some(p) = &project {
            target.insert("project".into(), json!({"id": p.id, "domain_id": p.domain_id, "name": p.name}));
            target.insert("domain_id".into(), json!(p.domain_id));
        }
        enforce(&state, &caller, "identity:list_role_assignments_for_tree", &policy_target(&q, target))?;
        let Some(project_id) = project_id else {
            return Err(ApiError::bad_request("scope.project.id must be specified if include_subtree is also specified"));
        };
        if project.is_none() {
            return Err(not_found("project", project_id));
        }
        let entries = build(&state, &q, true).await?;
        return Ok(ok(json!({"role_assignments": entries, "links": collection_links(&state, "role_assignments", uri.query())})));
    }
    let mut target = Map::new();
    if let Some(d) = &caller_domain {
        target.insert("domain_id".into(), json!(d));
    }
    enforce(&state, &caller, "identity:list_role_assignments", &policy_target(&q, target))?;
    let mut entries = build(&state, &q, false).await?;
    if let Some(d) = &caller_domain {
        // A domain-scoped caller sees the assignments on its domain and its projects only.
        let mut owner: HashMap<String, bool> = HashMap::new();
        let mut kept = Vec::with_capacity(entries.len());
        for e in entries {
            let scope = &e["scope"];
            let keep = if scope["domain"]["id"].as_str() == Some(d.as_str()) {
                true
            } else if let Some(p) = scope["project"]["id"].as_str() {
                match owner.get(p) {
                    Some(v) => *v,
                    None => {
                        let v = store::projects::get(&state, p).await?.is_some_and(|p| &p.domain_id == d);
                        owner.insert(p.to_string(), v);
                        v
                    }
                }
            } else {
                false
            };
            if keep {
                kept.push(e);
            }
        }
        entries = kept;
    }
    Ok(ok(json!({"role_assignments": entries, "links": collection_links(&state, "role_assignments", uri.query())})))
}

/// Lists, expands and formats the assignments the query asks for.
async fn build(state: &Identity, q: &Query, include_subtree: bool) -> ApiResult<Vec<Value>> {
    let domain = filter(q, "scope.domain.id");
    let project = filter(q, "scope.project.id");
    let system = filter(q, "scope.system");
    let user = filter(q, "user.id");
    let group = filter(q, "group.id");
    if domain.is_some() && project.is_some() {
        return Err(ApiError::bad_request("Specify a domain or project, not both"));
    }
    if domain.is_some() && system.is_some() {
        return Err(ApiError::bad_request("Specify system or domain, not both"));
    }
    if project.is_some() && system.is_some() {
        return Err(ApiError::bad_request("Specify system or project, not both"));
    }
    if user.is_some() && group.is_some() {
        return Err(ApiError::bad_request("Specify a user or group, not both"));
    }
    let effective = is_true(q, "effective");
    let inherited = q.get(INHERITED_TO).map(|v| v == "projects");
    if effective {
        if group.is_some() {
            return Err(ApiError::bad_request("Combining effective and group filter will always result in an empty list."));
        }
        if inherited == Some(true) && domain.is_some() {
            return Err(ApiError::bad_request(
                "Combining effective, domain and inherited filters will always result in an empty list.",
            ));
        }
    }
    let filters = Filters {
        role: filter(q, "role.id").map(str::to_string),
        user: user.map(str::to_string),
        group: group.map(str::to_string),
        domain: domain.map(str::to_string),
        project: project.map(str::to_string),
        system: system == Some("all"),
        inherited,
    };
    let mut ctx = Ctx::load(state).await?;
    let subtree = match (&filters.project, include_subtree) {
        (Some(p), true) => ctx.descendants(p),
        _ => Vec::new(),
    };
    let entries = if effective {
        effective_entries(state, &ctx, &filters, &subtree).await?
    } else {
        direct_entries(&ctx, &filters, &subtree)
    };
    let include_names = is_true(q, "include_names");
    if include_names {
        ctx.load_names(state).await?;
    }
    Ok(entries.iter().map(|e| render(state, &ctx, e, include_names)).collect())
}

struct Filters {
    role: Option<String>,
    user: Option<String>,
    group: Option<String>,
    domain: Option<String>,
    project: Option<String>,
    system: bool,
    inherited: Option<bool>,
}

/// The data the listing works on, loaded once per request.
struct Ctx {
    assignments: Vec<Assignment>,
    projects: HashMap<String, Project>,
    roles: HashMap<String, Role>,
    implications: HashMap<String, Vec<String>>,
    /// Filled for include_names: id → (name, domain id).
    users: HashMap<String, (String, String)>,
    groups: HashMap<String, (String, String)>,
    domains: HashMap<String, String>,
}

impl Ctx {
    async fn load(state: &Identity) -> ApiResult<Self> {
        let mut implications: HashMap<String, Vec<String>> = HashMap::new();
        for (prior, implied) in store::roles::implications(state).await? {
            implications.entry(prior).or_default().push(implied);
        }
        Ok(Ctx {
            assignments: store::assignments::list_all(state).await?,
            projects: store::projects::list(state, false).await?.into_iter().map(|p| (p.id.clone(), p)).collect(),
            roles: store::roles::list(state).await?.into_iter().map(|r| (r.id.clone(), r)).collect(),
            implications,
            users: HashMap::new(),
            groups: HashMap::new(),
            domains: HashMap::new(),
        })
    }

    async fn load_names(&mut self, state: &Identity) -> ApiResult<()> {
        self.users = store::users::list(state).await?.into_iter().map(|u| (u.id, (u.name, u.domain_id))).collect();
        self.groups = store::groups::list(state).await?.into_iter().map(|g| (g.id, (g.name, g.domain_id))).collect();
        self.domains = store::projects::list(state, true).await?.into_iter().map(|d| (d.id, d.name)).collect();
        Ok(())
    }

    /// Every project below `id` (not including it).
    fn descendants(&self, id: &str) -> Vec<String> {
        let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
        for p in self.projects.values() {
            if let Some(parent) = &p.parent_id {
                children.entry(parent.as_str()).or_default().push(p.id.as_str());
            }
        }
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut stack = vec![id];
        while let Some(next) = stack.pop() {
            for c in children.get(next).map(Vec::as_slice).unwrap_or_default() {
                if seen.insert(*c) {
                    out.push((*c).to_string());
                    stack.push(c);
                }
            }
        }
        out.sort();
        out
    }

    /// The parents of a project, up to (not including) its domain.
    fn ancestors(&self, id: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut next = self.projects.get(id).and_then(|p| p.parent_id.clone());
        while let Some(pid) = next {
            match self.projects.get(&pid) {
                Some(p) if !out.contains(&p.id) => {
                    out.push(p.id.clone());
                    next = p.parent_id.clone();
                }
                _ => break,
            }
        }
        out
    }

    fn projects_in_domain(&self, domain_id: &str) -> Vec<String> {
        let mut ids: Vec<String> = self.projects.values().filter(|p| p.domain_id == domain_id).map(|p| p.id.clone()).collect();
        ids.sort();
        ids
    }
}

/// Assignments as stored, filtered (no expansion).
fn direct_entries(ctx: &Ctx, f: &Filters, subtree: &[String]) -> Vec<Entry> {
    let mut interest: Vec<&str> = Vec::new();
    if let Some(p) = &f.project {
        interest.push(p);
        interest.extend(subtree.iter().map(String::as_str));
    }
    let actor_ok = |a: &Assignment| {
        f.user.as_ref().is_none_or(|u| !a.kind.is_group() && &a.actor_id == u)
            && f.group.as_ref().is_none_or(|g| a.kind.is_group() && &a.actor_id == g)
    };
    let role_ok = |a: &Assignment| f.role.as_ref().is_none_or(|r| &a.role_id == r);
    let mut out = Vec::new();
    if !f.system {
        for a in ctx.assignments.iter().filter(|a| !is_system(a.kind)) {
            let target_ok = match (&f.domain, &f.project) {
                (Some(d), _) => is_domain(a.kind) && &a.target_id == d,
                (None, Some(_)) => is_project(a.kind) && interest.contains(&a.target_id.as_str()),
                (None, None) => true,
            };
            if target_ok && actor_ok(a) && role_ok(a) && f.inherited.is_none_or(|i| a.inherited == i) {
                out.push(Entry::from_assignment(a));
            }
        }
    }
    if f.system || (f.project.is_none() && f.domain.is_none()) {
        for a in ctx.assignments.iter().filter(|a| is_system(a.kind)) {
            if actor_ok(a) && role_ok(a) {
                out.push(Entry::from_assignment(a));
            }
        }
    }
    out
}

/// Assignments as they take effect: group assignments become their members', inherited
/// ones land on the projects below, implied roles are added, domain-specific roles dropped.
async fn effective_entries(state: &Identity, ctx: &Ctx, f: &Filters, subtree: &[String]) -> ApiResult<Vec<Entry>> {
    // Domains inherit nothing: with a domain filter only direct assignments count.
    let inherited = if f.domain.is_some() { Some(false) } else { f.inherited };
    let user_groups: Option<Vec<String>> = match &f.user {
        Some(u) => Some(store::users::group_ids(state, u).await?),
        None => None,
    };
    let actor_ok = |a: &Assignment| match (&f.user, &user_groups) {
        (Some(u), Some(groups)) => if a.kind.is_group() { groups.contains(&a.actor_id) } else { &a.actor_id == u },
        _ => true,
    };
    let mut interest: Vec<String> = Vec::new();
    let mut inheriting_projects: Vec<String> = Vec::new();
    let mut project_domain: Option<String> = None;
    if let Some(p) = &f.project {
        interest.push(p.clone());
        interest.extend(subtree.iter().cloned());
        if inherited != Some(false) {
            let project = ctx.projects.get(p).ok_or_else(|| not_found("project", p))?;
            project_domain = Some(project.domain_id.clone());
            inheriting_projects = ctx.ancestors(p);
            if !subtree.is_empty() {
                inheriting_projects.extend(interest.iter().cloned());
            }
        }
    }
    let mut refs: Vec<Entry> = Vec::new();
    for a in &ctx.assignments {
        if !actor_ok(a) {
            continue;
        }
        if is_system(a.kind) {
            // System assignments only when the system is asked for.
            if f.system {
                refs.push(Entry::from_assignment(a));
            }
            continue;
        }
        if f.system {
            continue;
        }
        let wanted = if !a.inherited {
            inherited != Some(true)
                && match (&f.domain, &f.project) {
                    (Some(d), _) => is_domain(a.kind) && &a.target_id == d,
                    (None, Some(_)) => is_project(a.kind) && interest.contains(&a.target_id),
                    (None, None) => true,
                }
        } else {
            inherited != Some(false)
                && match &f.project {
                    Some(_) => {
                        (is_domain(a.kind) && project_domain.as_deref() == Some(a.target_id.as_str()))
                            || (is_project(a.kind) && inheriting_projects.contains(&a.target_id))
                    }
                    None => true,
                }
        };
        if wanted {
            refs.push(Entry::from_assignment(a));
        }
    }

    let mut members: HashMap<String, Vec<String>> = HashMap::new();
    let mut expanded = Vec::new();
    for r in refs {
        let users: Vec<String> = match (&r.group_id, &f.user) {
            (Some(_), Some(u)) => vec![u.clone()],
            (Some(g), None) => {
                if !members.contains_key(g) {
                    members.insert(g.clone(), store::groups::member_ids(state, g).await?);
                }
                members.get(g).cloned().unwrap_or_default()
            }
            (None, _) => Vec::new(),
        };
        let as_users = |base: &Entry| -> Vec<Entry> {
            match &base.group_id {
                Some(g) => users
                    .iter()
                    .map(|u| {
                        let mut e = base.clone();
                        e.user_id = Some(u.clone());
                        e.group_id = None;
                        e.via_group = Some(g.clone());
                        e
                    })
                    .collect(),
                None => vec![base.clone()],
            }
        };
        if r.inherited {
            let projects: Vec<String> = match &f.project {
                Some(p) => {
                    let mut ids = vec![p.clone()];
                    if !subtree.is_empty() {
                        ids.extend(subtree.iter().cloned());
                        if let Some(src) = &r.project_id {
                            if ids.contains(src) {
                                ids = ctx.descendants(src);
                            }
                        }
                    }
                    ids
                }
                None => match (&r.domain_id, &r.project_id) {
                    (Some(d), _) => ctx.projects_in_domain(d),
                    (None, Some(p)) => ctx.descendants(p),
                    (None, None) => Vec::new(),
                },
            };
            for base in as_users(&r) {
                for p in &projects {
                    let mut e = base.clone();
                    if let Some(src) = e.project_id.take() {
                        e.via_project = Some(src);
                    } else {
                        e.via_domain = e.domain_id.take();
                    }
                    e.project_id = Some(p.clone());
                    e.inherited = false;
                    expanded.push(e);
                }
            }
        } else {
            expanded.extend(as_users(&r));
        }
    }

    // Implied roles, following chains (a ref already examined is not examined again).
    let mut results = expanded.clone();
    let mut to_check = expanded;
    let mut checked: Vec<Entry> = Vec::new();
    while let Some(next) = to_check.pop() {
        checked.push(next.clone());
        for implied in ctx.implications.get(&next.role_id).cloned().unwrap_or_default() {
            let mut e = next.clone();
            e.via_role = Some(next.role_id.clone());
            e.role_id = implied;
            if checked.contains(&e) {
                continue;
            }
            results.push(e.clone());
            to_check.push(e);
        }
        if results.len() > 100_000 {
            break;
        }
    }
    let global = |id: &str| ctx.roles.get(id).is_some_and(|r| r.domain_id.is_none());
    Ok(results
        .into_iter()
        .filter(|e| global(&e.role_id))
        .filter(|e| f.role.as_ref().is_none_or(|r| &e.role_id == r))
        .collect())
}

/// Keystone's API shape of an assignment, with its `links`.
fn render(state: &Identity, ctx: &Ctx, e: &Entry, names: bool) -> Value {
    let base = format!("{}/v3", state.public_url);
    let domain_ref = |id: &str| json!({"id": id, "name": ctx.domains.get(id).cloned().unwrap_or_default()});
    let mut out = Map::new();
    let mut link_path;
    let mut inherited = e.inherited;
    let mut scope = Map::new();
    if let Some(p) = &e.project_id {
        let project = if names {
            let (name, domain) = ctx.projects.get(p).map(|p| (p.name.clone(), p.domain_id.clone())).unwrap_or_default();
            json!({"id": p, "name": name, "domain": domain_ref(&domain)})
        } else {
            json!({"id": p})
        };
        scope.insert("project".into(), project);
        if let Some(d) = &e.via_domain {
            inherited = true;
            link_path = format!("/domains/{d}");
        } else if let Some(src) = &e.via_project {
            inherited = true;
            link_path = format!("/projects/{src}");
        } else {
            link_path = format!("/projects/{p}");
        }
    } else if let Some(d) = &e.domain_id {
        scope.insert("domain".into(), if names { domain_ref(d) } else { json!({"id": d}) });
        link_path = format!("/domains/{d}");
    } else {
        scope.insert("system".into(), json!({"all": true}));
        link_path = "/system".to_string();
    }
    let mut links = Map::new();
    let actor_ref = |id: &str, known: Option<&(String, String)>| {
        if names {
            let (name, domain) = known.cloned().unwrap_or_default();
            json!({"id": id, "name": name, "domain": {"id": domain, "name": ctx.domains.get(&domain).cloned().unwrap_or_default()}})
        } else {
            json!({"id": id})
        }
    };
    if let Some(u) = &e.user_id {
        out.insert("user".into(), actor_ref(u, ctx.users.get(u)));
        if let Some(g) = &e.via_group {
            links.insert("membership".into(), json!(format!("{base}/groups/{g}/users/{u}")));
            link_path.push_str(&format!("/groups/{g}"));
        } else {
            link_path.push_str(&format!("/users/{u}"));
        }
    } else if let Some(g) = &e.group_id {
        out.insert("group".into(), actor_ref(g, ctx.groups.get(g)));
        link_path.push_str(&format!("/groups/{g}"));
    }
    let mut role = json!({"id": e.role_id});
    if names {
        if let Some(r) = ctx.roles.get(&e.role_id) {
            role["name"] = json!(r.name);
            if let Some(d) = &r.domain_id {
                role["domain"] = domain_ref(d);
            }
        }
    }
    out.insert("role".into(), role);
    let mut prior_link = None;
    if let Some(prior) = &e.via_role {
        link_path.push_str(&format!("/roles/{prior}"));
        // Keystone's own (odd) spelling of this link, kept for compatibility.
        prior_link = Some(format!("{base}/prior_role/{}/implies/{prior}", e.role_id));
    } else {
        link_path.push_str(&format!("/roles/{}", e.role_id));
    }
    if inherited {
        scope.insert("OS-INHERIT:inherited_to".into(), json!("projects"));
        link_path = format!("/OS-INHERIT{link_path}/inherited_to_projects");
    }
    links.insert("assignment".into(), json!(format!("{base}{link_path}")));
    if let Some(p) = prior_link {
        links.insert("prior_role".into(), json!(p));
    }
    out.insert("scope".into(), Value::Object(scope));
    out.insert("links".into(), Value::Object(links));
    Value::Object(out)
}
