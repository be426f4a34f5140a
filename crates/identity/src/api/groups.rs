//! `/v3/groups`: groups and their members.

use super::body::{extra_of, merge_extra, object, opt_str};
use super::query::{from_uri, validate_name};
use super::users::default_domain;
use super::{collection_links, created, enforce, links, no_content, not_found, ok, ApiResult, Caller, State};
use crate::store::{self, groups::Group, revocations::RevocationEvent, users::User};
use crate::Identity;
use axum::extract::{Path, State as S};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_common::json::Json;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/groups", get(list).post(create))
        .route("/v3/groups/{group_id}", get(show).patch(update).delete(delete))
        .route("/v3/groups/{group_id}/users", get(list_members))
        .route("/v3/groups/{group_id}/users/{user_id}", get(check_member).put(add_member).delete(remove_member))
}

const MAX_NAME: usize = 255;
const KNOWN: &[&str] = &["id", "name", "domain_id", "description", "links"];

pub fn view(state: &Identity, g: &Group) -> Value {
    let mut v = json!({
        "id": g.id, "name": g.name, "domain_id": g.domain_id, "description": g.description,
        "links": links(state, &format!("groups/{}", g.id)),
    });
    merge_extra(&mut v, &g.extra);
    v
}

fn group_target(g: &Group) -> Value {
    json!({"id": g.id, "domain_id": g.domain_id, "name": g.name})
}

/// The policy target for a group (when it exists).
fn target(id: &str, g: Option<&Group>) -> Value {
    match g {
        Some(g) => json!({"group_id": id, "target": {"group": group_target(g)}}),
        None => json!({"group_id": id}),
    }
}

/// The policy target for a membership: the group and the user, each when it exists.
fn member_target(group_id: &str, g: Option<&Group>, user_id: &str, u: Option<&User>) -> Value {
    let mut inner = Map::new();
    if let Some(g) = g {
        inner.insert("group".into(), group_target(g));
    }
    if let Some(u) = u {
        inner.insert("user".into(), json!({"id": u.id, "domain_id": u.domain_id, "name": u.name}));
    }
    json!({"group_id": group_id, "user_id": user_id, "target": inner})
}

fn conflict(name: &str, domain_id: &str) -> ApiError {
    ApiError::conflict(format!(
        "Conflict occurred attempting to store group - Duplicate entry found with name {name} at domain ID {domain_id}."
    ))
}

fn parse_name(obj: &Map<String, Value>) -> ApiResult<String> {
    Ok(validate_name("group", opt_str(obj, "name")?, MAX_NAME)?.trim().to_string())
}

async fn create(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    let obj = object(&body, "group")?;
    let name = parse_name(obj)?;
    let domain_id = match opt_str(obj, "domain_id")? {
        Some(d) if !d.is_empty() => d.to_string(),
        _ => default_domain(&caller),
    };
    let mut group = Group::new(&name, &domain_id);
    group.description = opt_str(obj, "description")?.unwrap_or_default().to_string();
    group.extra = extra_of(obj, KNOWN);
    enforce(&state, &caller, "identity:create_group", &target(&group.id, Some(&group)))?;
    match store::projects::get(&state, &domain_id).await? {
        Some(d) if d.is_domain => {}
        _ => return Err(not_found("domain", &domain_id)),
    }
    if store::groups::get_by_name(&state, &domain_id, &name).await?.is_some() {
        return Err(conflict(&name, &domain_id));
    }
    store::groups::insert(&state, &group).await?;
    tracing::info!("created group {} ({})", group.id, group.name);
    Ok(created(json!({"group": view(&state, &group)})))
}

async fn list(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    let q = from_uri(&uri);
    let scope_domain = caller.ctx().domain_id.clone();
    let t = match &scope_domain {
        Some(d) => json!({"target": {"group": {"domain_id": d}}}),
        None => json!({}),
    };
    enforce(&state, &caller, "identity:list_groups", &t)?;
    let groups: Vec<Value> = store::groups::list(&state)
        .await?
        .into_iter()
        .filter(|g| scope_domain.as_ref().is_none_or(|d| *d == g.domain_id))
        .filter(|g| q.matches_text("name", Some(&g.name)))
        .filter(|g| q.matches_text("domain_id", Some(&g.domain_id)))
        .map(|g| view(&state, &g))
        .collect();
    Ok(ok(json!({"groups": groups, "links": collection_links(&state, "groups", uri.query())})))
}

async fn show(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let group = store::groups::get(&state, &id).await?;
    enforce(&state, &caller, "identity:get_group", &target(&id, group.as_ref()))?;
    let group = group.ok_or_else(|| not_found("group", &id))?;
    Ok(ok(json!({"group": view(&state, &group)})))
}

async fn update(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    let group = store::groups::get(&state, &id).await?;
    enforce(&state, &caller, "identity:update_group", &target(&id, group.as_ref()))?;
    let mut group = group.ok_or_else(|| not_found("group", &id))?;
    let obj = object(&body, "group")?;
    if obj.is_empty() {
        return Err(ApiError::bad_request("Invalid input for field 'group': at least one attribute is required"));
    }
    if opt_str(obj, "id")?.is_some_and(|given| given != id) {
        return Err(ApiError::bad_request("Cannot change ID"));
    }
    if opt_str(obj, "domain_id")?.is_some_and(|d| d != group.domain_id) {
        return Err(ApiError::bad_request("Cannot change Domain ID"));
    }
    if obj.contains_key("name") {
        let name = parse_name(obj)?;
        if name != group.name && store::groups::get_by_name(&state, &group.domain_id, &name).await?.is_some() {
            return Err(conflict(&name, &group.domain_id));
        }
        group.name = name;
    }
    if obj.contains_key("description") {
        group.description = opt_str(obj, "description")?.unwrap_or_default().to_string();
    }
    for (k, v) in extra_of(obj, KNOWN) {
        group.extra.insert(k, v);
    }
    store::groups::update(&state, &group).await?;
    Ok(ok(json!({"group": view(&state, &group)})))
}

async fn delete(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let group = store::groups::get(&state, &id).await?;
    enforce(&state, &caller, "identity:delete_group", &target(&id, group.as_ref()))?;
    if group.is_none() {
        return Err(not_found("group", &id));
    }
    // Members lose whatever the group's roles gave them: revoke their tokens, as Keystone does.
    let revoke = if store::groups::has_assignments(&state, &id).await? {
        store::groups::member_ids(&state, &id).await?
    } else {
        Vec::new()
    };
    store::groups::delete(&state, &id).await?;
    for user_id in revoke {
        store::revocations::record(&state, RevocationEvent { user_id: Some(user_id), ..Default::default() }).await?;
    }
    tracing::info!("deleted group {id}");
    Ok(no_content())
}

async fn list_members(S(state): S<State>, caller: Caller, Path(id): Path<String>, uri: Uri) -> ApiResult<Response> {
    let group = store::groups::get(&state, &id).await?;
    enforce(&state, &caller, "identity:list_users_in_group", &target(&id, group.as_ref()))?;
    if group.is_none() {
        return Err(not_found("group", &id));
    }
    let q = from_uri(&uri);
    let scope_domain = caller.ctx().domain_id.clone();
    let users: Vec<Value> = store::users::list_in_group(&state, &id)
        .await?
        .into_iter()
        .filter(|u| scope_domain.as_ref().is_none_or(|d| *d == u.domain_id))
        .filter(|u| super::users::matches_filters(&q, u))
        .map(|u| super::users::view(&state, &u))
        .collect();
    let path = format!("groups/{id}/users");
    Ok(ok(json!({"users": users, "links": collection_links(&state, &path, uri.query())})))
}

/// Loads both ends of a membership and checks `action`; 404 for whichever is missing.
async fn membership(state: &Identity, caller: &Caller, action: &str, group_id: &str, user_id: &str) -> ApiResult<()> {
    let group = store::groups::get(state, group_id).await?;
    let user = store::users::get(state, user_id).await?;
    enforce(state, caller, action, &member_target(group_id, group.as_ref(), user_id, user.as_ref()))?;
    if group.is_none() {
        return Err(not_found("group", group_id));
    }
    if user.is_none() {
        return Err(not_found("user", user_id));
    }
    Ok(())
}

fn not_member(group_id: &str, user_id: &str) -> ApiError {
    ApiError::not_found(format!("User '{user_id}' not found in group '{group_id}'"))
}

async fn check_member(S(state): S<State>, caller: Caller, Path((group_id, user_id)): Path<(String, String)>) -> ApiResult<Response> {
    membership(&state, &caller, "identity:check_user_in_group", &group_id, &user_id).await?;
    if !store::groups::is_member(&state, &group_id, &user_id).await? {
        return Err(not_member(&group_id, &user_id));
    }
    Ok(no_content())
}

async fn add_member(S(state): S<State>, caller: Caller, Path((group_id, user_id)): Path<(String, String)>) -> ApiResult<Response> {
    membership(&state, &caller, "identity:add_user_to_group", &group_id, &user_id).await?;
    store::groups::add_member(&state, &group_id, &user_id).await?;
    tracing::info!("added user {user_id} to group {group_id}");
    Ok(no_content())
}

async fn remove_member(S(state): S<State>, caller: Caller, Path((group_id, user_id)): Path<(String, String)>) -> ApiResult<Response> {
    membership(&state, &caller, "identity:remove_user_from_group", &group_id, &user_id).await?;
    if !store::groups::remove_member(&state, &group_id, &user_id).await? {
        return Err(not_member(&group_id, &user_id));
    }
    // The user's roles through the group are gone: revoke their tokens, as Keystone does.
    store::revocations::record(&state, RevocationEvent { user_id: Some(user_id.clone()), ..Default::default() }).await?;
    tracing::info!("removed user {user_id} from group {group_id}");
    Ok(no_content())
}
