//! `/os-server-groups`: scheduling groups. `policies: [one]` until 2.63, `policy` with `rules`
//! (anti-affinity's `max_server_per_host`) from 2.64; soft policies from 2.15; owner ids shown
//! from 2.13. Admins list every project's groups with `all_projects`. Creating counts against
//! the `server_groups` quota.

use super::query::Query;
use super::{input, ApiResult, Microversion, State};
use crate::db::server_groups::{self as group_db, ServerGroup};
use crate::quota;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as S};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/os-server-groups", get(index).post(create))
        .route("/v2.1/os-server-groups/{id}", get(show).delete(delete))
}

const HARD: &[&str] = &["anti-affinity", "affinity"];
const ALL: &[&str] = &["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"];

async fn render(state: &State, g: &ServerGroup, mv: Microversion) -> ApiResult<Value> {
    let members = group_db::live_members(&state.db, &g.members).await?;
    let mut v = json!({"id": g.uuid, "name": g.name, "members": members});
    if mv.at_least(64) {
        v["policy"] = json!(g.policy);
        v["rules"] = Value::Object(g.rules.clone());
    } else {
        v["policies"] = json!([g.policy]);
        v["metadata"] = json!({});
    }
    if mv.at_least(13) {
        v["project_id"] = json!(g.project_id);
        v["user_id"] = json!(g.user_id);
    }
    Ok(v)
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Instance group {id} could not be found."))
}

/// The create body: (name, policy, rules).
fn parse_create(body: &Value, mv: Microversion) -> ApiResult<(String, String, Map<String, Value>)> {
    let g = input::root(body, "server_group")?;
    let choices = if mv.at_least(15) { ALL } else { HARD };
    let listed = || format!("[{}]", choices.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", "));
    if mv.at_least(64) {
        input::only(g, &["name", "policy", "rules"], Some("server_group"))?;
        input::required(g, &["name", "policy"], "server_group")?;
        let name = input::name(&g["name"], "name")?.to_string();
        let policy = g["policy"].as_str().filter(|p| choices.contains(p)).ok_or_else(|| input::invalid("policy", &g["policy"], format!("{} is not one of {}", g["policy"], listed())))?;
        let mut rules = Map::new();
        if let Some(r) = g.get("rules") {
            let obj = input::object(r, "rules")?;
            input::only(obj, &["max_server_per_host"], Some("rules"))?;
            if let Some(n) = obj.get("max_server_per_host") {
                rules.insert("max_server_per_host".into(), json!(input::integer(n, "max_server_per_host", 1, i64::MAX)?));
            }
        }
        if policy != "anti-affinity" && !rules.is_empty() {
            return Err(ApiError::bad_request("Only anti-affinity policy supports rules."));
        }
        return Ok((name, policy.to_string(), rules));
    }
    input::only(g, &["name", "policies"], Some("server_group"))?;
    input::required(g, &["name", "policies"], "server_group")?;
    let name = input::name(&g["name"], "name")?.to_string();
    let policies = g["policies"].as_array().ok_or_else(|| input::invalid("policies", &g["policies"], format!("{} is not of type 'array'", g["policies"])))?;
    let [only] = policies.as_slice() else {
        let reason = if policies.is_empty() { "is too short" } else { "is too long" };
        return Err(input::invalid("policies", &g["policies"], format!("{} {reason}", g["policies"])));
    };
    let policy = only.as_str().filter(|p| choices.contains(p)).ok_or_else(|| input::invalid("policies", only, format!("{only} is not one of {}", listed())))?;
    Ok((name, policy.to_string(), Map::new()))
}

async fn create(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, body: Bytes) -> ApiResult<Json<Value>> {
    let (name, policy, rules) = parse_create(&input::parse(&body)?, mv)?;
    let project_id = ctx.project_id.clone().unwrap_or_default();
    state.authorize("os_compute_api:os-server-groups:create", &json!({"project_id": project_id}), &ctx)?;
    let group = {
        let _lock = state.quota_locks.lock(&format!("project:{project_id}")).await;
        quota::check_server_groups(&state, &project_id, &ctx.user_id, 1).await?;
        group_db::create(&state.db, Some(&name), &project_id, &ctx.user_id, &policy, &rules).await?
    };
    tracing::info!("server group {} ({name}, {policy}) created", group.uuid);
    Ok(Json(json!({"server_group": render(&state, &group, mv).await?})))
}

async fn index(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let query = Query::parse(raw.as_deref());
    if mv.at_least(75) {
        query.only(&["all_projects", "limit", "offset"])?;
    }
    let limit = query.non_negative("limit")?;
    let offset = query.non_negative("offset")?.unwrap_or(0);
    let project_id = ctx.project_id.clone().unwrap_or_default();
    let target = json!({"project_id": project_id});
    state.authorize("os_compute_api:os-server-groups:index", &target, &ctx)?;
    let all_projects = query.has("all_projects") && state.is_admin(&ctx);
    let groups = if all_projects {
        state.authorize("os_compute_api:os-server-groups:index:all_projects", &target, &ctx)?;
        group_db::list(&state.db, None).await?
    } else {
        group_db::list(&state.db, Some(&project_id)).await?
    };
    // Nova's `limited`: offset, then at most limit (max_limit when absent or 0).
    let limit = limit.filter(|l| *l > 0).unwrap_or(super::query::MAX_LIMIT).min(super::query::MAX_LIMIT);
    let mut items = Vec::new();
    for g in groups.iter().skip(offset).take(limit) {
        items.push(render(&state, g, mv).await?);
    }
    Ok(Json(json!({"server_groups": items})))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let group = group_db::get(&state.db, &id).await?.ok_or_else(|| not_found(&id))?;
    state.authorize("os_compute_api:os-server-groups:show", &json!({"project_id": group.project_id}), &ctx)?;
    Ok(Json(json!({"server_group": render(&state, &group, mv).await?})))
}

async fn delete(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let group = group_db::get(&state.db, &id).await?.ok_or_else(|| not_found(&id))?;
    state.authorize("os_compute_api:os-server-groups:delete", &json!({"project_id": group.project_id}), &ctx)?;
    if !group_db::delete(&state.db, &id).await? {
        return Err(not_found(&id));
    }
    tracing::info!("server group {id} deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use monostack_common::microversion::Version;

    fn at(minor: u16) -> Microversion {
        Microversion(Version::new(2, minor))
    }

    #[test]
    fn policies_follow_the_microversion() {
        assert!(parse_create(&json!({"server_group": {"name": "g", "policies": ["affinity"]}}), at(1)).is_ok());
        assert!(parse_create(&json!({"server_group": {"name": "g", "policies": ["soft-affinity"]}}), at(14)).is_err());
        assert!(parse_create(&json!({"server_group": {"name": "g", "policies": ["soft-affinity"]}}), at(15)).is_ok());
        assert!(parse_create(&json!({"server_group": {"name": "g", "policies": ["affinity", "anti-affinity"]}}), at(15)).is_err());
        assert!(parse_create(&json!({"server_group": {"name": "g", "policies": ["affinity"]}}), at(64)).is_err());
        let rules = parse_create(&json!({"server_group": {"name": "g", "policy": "anti-affinity", "rules": {"max_server_per_host": "3"}}}), at(64));
        assert_eq!(rules.ok().map(|(_, _, r)| r), Some(Map::from_iter([("max_server_per_host".to_string(), json!(3))])));
        assert!(parse_create(&json!({"server_group": {"name": "g", "policy": "affinity", "rules": {"max_server_per_host": 2}}}), at(64)).is_err());
        assert!(parse_create(&json!({"server_group": {"name": "g", "policy": "anti-affinity", "rules": {"max_server_per_host": 0}}}), at(64)).is_err());
    }
}
