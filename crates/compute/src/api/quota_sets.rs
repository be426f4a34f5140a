//! `/os-quota-sets/{project_id}`: a project's (or, with `user_id`, a user's) limits, their
//! usage (`/detail`), the defaults, updates (checked against usage unless forced) and reverting
//! to the defaults (DELETE). The nova-network resources disappear at 2.36, the injected-file
//! ones at 2.57.
//!
//! Nova asks Keystone whether the project exists; this API takes the id as given.

use super::query::Query;
use super::{input, ApiResult, Microversion, State};
use crate::db::quotas as quota_db;
use crate::quota::{self, Limits, UNLIMITED};
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
        .route("/v2.1/os-quota-sets/{id}", get(show).put(update).delete(delete))
        .route("/v2.1/os-quota-sets/{id}/detail", get(detail))
        .route("/v2.1/os-quota-sets/{id}/defaults", get(defaults))
}

const NOVA_NETWORK: &[&str] = &["fixed_ips", "floating_ips", "security_groups", "security_group_rules"];
const INJECTED_FILES: &[&str] = &["injected_files", "injected_file_content_bytes", "injected_file_path_bytes"];

/// The resources a response (or an update) at `mv` carries; nova-network ones go at
/// `network_cutoff` (2.36 for quota sets, 2.50 for classes), injected files at 2.57.
pub fn shown(mv: Microversion, network_cutoff: u16) -> Vec<&'static str> {
    quota::RESOURCES
        .iter()
        .copied()
        .filter(|r| !(mv.at_least(network_cutoff) && NOVA_NETWORK.contains(r)))
        .filter(|r| !(mv.at_least(57) && INJECTED_FILES.contains(r)))
        .collect()
}

fn render(limits: &Limits, resources: &[&'static str], id: Option<&str>) -> Value {
    let mut set: Map<String, Value> = resources.iter().map(|r| (r.to_string(), json!(limits[r]))).collect();
    if let Some(id) = id {
        set.insert("id".into(), json!(id));
    }
    json!({"quota_set": set})
}

/// The limits that apply to the project, or to `user_id` in it.
async fn limits_for(state: &State, project_id: &str, user_id: Option<&str>) -> ApiResult<Limits> {
    match user_id {
        Some(u) => quota::user_limits(state, project_id, u).await,
        None => quota::project_limits(state, project_id).await,
    }
}

/// `user_id` from the query, after refusing other parameters from 2.75.
fn query_user(query: &Query, mv: Microversion) -> ApiResult<Option<String>> {
    if mv.at_least(75) {
        query.only(&["user_id"])?;
    }
    Ok(query.get("user_id").map(str::to_string))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let user_id = query_user(&Query::parse(raw.as_deref()), mv)?;
    state.authorize("os_compute_api:os-quota-sets:show", &json!({"project_id": id}), &ctx)?;
    let limits = limits_for(&state, &id, user_id.as_deref()).await?;
    Ok(Json(render(&limits, &shown(mv, 36), Some(&id))))
}

async fn detail(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let user_id = query_user(&Query::parse(raw.as_deref()), mv)?;
    state.authorize("os_compute_api:os-quota-sets:detail", &json!({"project_id": id}), &ctx)?;
    let limits = limits_for(&state, &id, user_id.as_deref()).await?;
    let usage = quota::usage(&state, &id, user_id.as_deref()).await?;
    let mut set: Map<String, Value> =
        shown(mv, 36).iter().map(|r| (r.to_string(), json!({"limit": limits[r], "in_use": usage.of(r), "reserved": 0}))).collect();
    set.insert("id".into(), json!(id));
    Ok(Json(json!({"quota_set": set})))
}

async fn defaults(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    state.authorize("os_compute_api:os-quota-sets:defaults", &json!({"project_id": id}), &ctx)?;
    let limits = quota::defaults(&state).await?;
    Ok(Json(render(&limits, &shown(mv, 36), Some(&id))))
}

/// Nova's quota values: an integer (or its text) from -1 (unlimited) to 2^31-1.
pub fn quota_value(v: &Value, field: &str) -> ApiResult<i64> {
    input::integer(v, field, -1, 0x7FFF_FFFF)
}

/// The requested limits of an update body (`key` is `quota_set` or `quota_class_set`) and
/// whether it is forced.
pub fn parse_limits(body: &Value, key: &str, allowed: &[&'static str], with_force: bool) -> ApiResult<(Vec<(String, i64)>, bool)> {
    let set = input::root(body, key)?;
    let mut names: Vec<&str> = allowed.to_vec();
    if with_force {
        names.push("force");
    }
    input::only(set, &names, Some(key))?;
    let force = match set.get("force") {
        Some(v) if with_force => input::boolean(v, "force")?,
        _ => false,
    };
    let mut limits = Vec::new();
    for (name, value) in set {
        if name == "force" {
            continue;
        }
        limits.push((name.clone(), quota_value(value, name)?));
    }
    Ok((limits, force))
}

/// The range a new limit must fall in (Nova's settable quotas): at least what is used (and,
/// for a project, what its users' own limits add up to); for a user at most what the project
/// leaves (its limit less its users' limits, plus this user's current one).
async fn settable(state: &State, project_id: &str, user_id: Option<&str>) -> ApiResult<Vec<(&'static str, i64, i64)>> {
    let project = quota::project_limits(state, project_id).await?;
    let user_sums = quota_db::user_limit_sums(&state.db, project_id).await?;
    let remains = |r: &str| -> i64 {
        let limit = project[r];
        if limit == UNLIMITED {
            return UNLIMITED;
        }
        limit - user_sums.get(r).copied().unwrap_or(0)
    };
    let usage = quota::usage(state, project_id, user_id).await?;
    let mut out = Vec::new();
    for r in quota::RESOURCES {
        let range = match user_id {
            Some(u) => {
                let own = quota_db::user_limits(&state.db, project_id, u).await?.get(*r).copied().unwrap_or(0);
                let max = if remains(r) == UNLIMITED || own == UNLIMITED { UNLIMITED } else { remains(r) + own };
                (usage.of(r), max)
            }
            None => {
                let claimed = if remains(r) == UNLIMITED { 0 } else { project[r] - remains(r) };
                (claimed.max(usage.of(r)), UNLIMITED)
            }
        };
        out.push((*r, range.0, range.1));
    }
    Ok(out)
}

fn check_range(resource: &str, limit: i64, minimum: i64, maximum: i64) -> ApiResult<()> {
    let inf = |v: i64| if v == UNLIMITED { f64::INFINITY } else { v as f64 };
    if inf(limit) < inf(minimum) {
        return Err(ApiError::bad_request(format!(
            "Quota limit {limit} for {resource} must be greater than or equal to already used and reserved {minimum}."
        )));
    }
    if inf(limit) > inf(maximum) {
        return Err(ApiError::bad_request(format!("Quota limit {limit} for {resource} must be less than or equal to {maximum}.")));
    }
    Ok(())
}

async fn update(
    S(state): S<State>,
    Authenticated(ctx): Authenticated,
    mv: Microversion,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let resources = shown(mv, 36);
    let (requested, force) = parse_limits(&input::parse(&body)?, "quota_set", &resources, true)?;
    let user_id = query_user(&Query::parse(raw.as_deref()), mv)?;
    state.authorize("os_compute_api:os-quota-sets:update", &json!({"project_id": id}), &ctx)?;
    if !force {
        let ranges = settable(&state, &id, user_id.as_deref()).await?;
        for (resource, limit) in &requested {
            if let Some((_, min, max)) = ranges.iter().find(|(r, _, _)| r == resource) {
                check_range(resource, *limit, *min, *max)?;
            }
        }
    }
    quota_db::set_limits(&state.db, &id, user_id.as_deref().unwrap_or(""), &requested).await?;
    tracing::info!("quotas of project {id} (user {user_id:?}) set: {requested:?}");
    let limits = limits_for(&state, &id, user_id.as_deref()).await?;
    Ok(Json(render(&limits, &resources, None)))
}

async fn delete(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<StatusCode> {
    let user_id = query_user(&Query::parse(raw.as_deref()), mv)?;
    state.authorize("os_compute_api:os-quota-sets:delete", &json!({"project_id": id}), &ctx)?;
    match user_id {
        Some(u) => quota_db::delete_user(&state.db, &id, &u).await?,
        None => quota_db::delete_project(&state.db, &id).await?,
    }
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use monostack_common::microversion::Version;

    #[test]
    fn resources_shrink_with_the_microversion() {
        let at = |m| Microversion(Version::new(2, m));
        assert_eq!(shown(at(1), 36).len(), 14);
        assert!(!shown(at(36), 36).contains(&"floating_ips"));
        assert!(shown(at(36), 36).contains(&"injected_files"));
        assert_eq!(shown(at(57), 36).len(), 7);
        assert!(shown(at(49), 50).contains(&"fixed_ips"));
    }

    #[test]
    fn ranges_treat_minus_one_as_infinite() {
        assert!(check_range("cores", -1, 5, -1).is_ok());
        assert!(check_range("cores", 4, 5, -1).is_err());
        assert!(check_range("cores", 10, 0, 8).is_err());
        assert!(check_range("cores", 8, 0, 8).is_ok());
    }
}
