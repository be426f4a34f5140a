//! `/flavors`: list (brief and detail, with Nova's filters, sorting and paging), show, create,
//! update of the description (2.55) and delete.

use super::query::{marker_not_found, Query};
use super::{input, view, ApiResult, Microversion, State};
use crate::db::flavors::{self as flavor_db, CreateError, Flavor, ListFilter, Visibility};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as S};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/flavors", get(index).post(create))
        .route("/v2.1/flavors/detail", get(detail))
        .route("/v2.1/flavors/{id}", get(show).put(update).delete(delete))
}

/// Nova's largest integer column value, the bound of flavor sizes.
const MAX_INT: i64 = 0x7FFF_FFFF;
/// The largest single-precision float (Nova's bound of `rxtx_factor`).
const MAX_RXTX: f64 = 3.40282e38;

/// Which flavors `ctx` may see (admins all, others public and shared with their project).
pub fn visibility(state: &State, ctx: &AuthContext) -> Visibility {
    if state.is_admin(ctx) {
        Visibility::All
    } else {
        Visibility::Project(ctx.project_id.clone())
    }
}

/// The flavor `id` if the caller may see it, else Nova's 404.
pub async fn find(state: &State, ctx: &AuthContext, id: &str) -> ApiResult<Flavor> {
    flavor_db::get(&state.db, id, &visibility(state, ctx)).await?.ok_or_else(|| not_found(id))
}

pub fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Flavor {id} could not be found."))
}

/// Whether flavor views include `extra_specs` (2.61, for callers allowed to read them).
fn shows_extra_specs(state: &State, ctx: &AuthContext, mv: Microversion) -> bool {
    let target = json!({"project_id": ctx.project_id, "user_id": ctx.user_id});
    mv.at_least(61) && state.policy.enforce("os_compute_api:os-flavor-extra-specs:index", &target, ctx.policy_creds())
}

/// The brief view: id, name, links (and the description from 2.55).
fn brief(state: &State, f: &Flavor, mv: Microversion) -> Value {
    let mut v = json!({"id": f.flavorid, "name": f.name, "links": view::links(state, "flavors", &f.flavorid)});
    if mv.at_least(55) {
        v["description"] = json!(f.description);
    }
    v
}

/// The full view, with Nova's quirks: `swap` and `rxtx_factor` are "" when zero before 2.75.
pub fn full(state: &State, f: &Flavor, mv: Microversion, extra_specs: bool) -> Value {
    let mut v = brief(state, f, mv);
    let empty_swap = if f.swap == 0 && !mv.at_least(75) { json!("") } else { json!(f.swap) };
    let rxtx = if f.rxtx_factor == 0.0 { json!("") } else { json!(f.rxtx_factor) };
    let extra: Map<String, Value> = Map::from_iter([
        ("ram".to_string(), json!(f.memory_mb)),
        ("disk".to_string(), json!(f.root_gb)),
        ("swap".to_string(), empty_swap),
        ("OS-FLV-EXT-DATA:ephemeral".to_string(), json!(f.ephemeral_gb)),
        ("OS-FLV-DISABLED:disabled".to_string(), json!(f.disabled)),
        ("vcpus".to_string(), json!(f.vcpus)),
        ("os-flavor-access:is_public".to_string(), json!(f.is_public)),
        ("rxtx_factor".to_string(), rxtx),
    ]);
    if let Value::Object(map) = &mut v {
        map.extend(extra);
        if extra_specs {
            map.insert("extra_specs".into(), json!(f.extra_specs));
        }
    }
    v
}

const LIST_PARAMS: &[&str] = &["limit", "marker", "is_public", "minRam", "minDisk", "sort_key", "sort_dir"];

/// Nova's flavor list: filters, order and page from the query string.
async fn list_flavors(state: &State, ctx: &AuthContext, query: &Query, mv: Microversion) -> ApiResult<Vec<Flavor>> {
    if mv.at_least(75) {
        query.only(LIST_PARAMS)?;
    }
    let page = query.page()?;
    let sort_key = match query.get("sort_key") {
        None | Some("") => "flavorid",
        Some(k) => flavor_db::SORT_KEYS.iter().find(|s| **s == k).copied().ok_or_else(|| bad_query("sort_key", k))?,
    };
    let descending = match query.get("sort_dir") {
        None | Some("") | Some("asc") => false,
        Some("desc") => true,
        Some(d) => return Err(bad_query("sort_dir", d)),
    };
    let admin = state.is_admin(ctx);
    let (is_public, disabled) = if admin { (parse_is_public(query.get("is_public"))?, None) } else { (Some(true), Some(false)) };
    let filter = ListFilter {
        visibility: visibility(state, ctx),
        project_id: ctx.project_id.clone(),
        is_public,
        disabled,
        min_memory_mb: int_filter(query, "minRam")?,
        min_root_gb: int_filter(query, "minDisk")?,
        sort_key,
        descending,
    };
    let flavors = flavor_db::list(&state.db, &filter).await?;
    if let Some(m) = &page.marker {
        // Nova finds the marker among every flavor the caller sees, filters aside.
        if !flavors.iter().any(|f| &f.flavorid == m) && flavor_db::get(&state.db, m, &filter.visibility).await?.is_none() {
            return Err(marker_not_found(m));
        }
    }
    let start = page.marker.as_ref().and_then(|m| flavors.iter().position(|f| &f.flavorid == m)).map_or(0, |p| p + 1);
    Ok(flavors.into_iter().skip(start).take(page.limit).collect())
}

fn bad_query(param: &str, value: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid input for query parameters {param}. Value: {value}. '{value}' is not one of the allowed values"))
}

/// Admins' `is_public`: absent means public only, `none` means all, else a boolean.
fn parse_is_public(value: Option<&str>) -> ApiResult<Option<bool>> {
    match value {
        None => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("none") => Ok(None),
        Some(v) => input::parse_bool(v).map(Some).ok_or_else(|| ApiError::bad_request(format!("Invalid is_public filter [{v}]"))),
    }
}

fn int_filter(query: &Query, name: &str) -> ApiResult<Option<i64>> {
    query
        .get(name)
        .map(|v| v.trim().parse::<i64>().map_err(|_| ApiError::bad_request(format!("Invalid {name} filter [{v}]"))))
        .transpose()
}

fn list_body(state: &State, query: &Query, flavors: &[Flavor], items: Vec<Value>, collection: &str) -> Value {
    let mut body = json!({"flavors": items});
    if let Some(links) = view::next_links(state, collection, query, flavors.len(), flavors.last().map(|f| f.flavorid.as_str())) {
        body["flavors_links"] = links;
    }
    body
}

async fn index(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let query = Query::parse(raw.as_deref());
    let flavors = list_flavors(&state, &ctx, &query, mv).await?;
    let items = flavors.iter().map(|f| brief(&state, f, mv)).collect();
    Ok(Json(list_body(&state, &query, &flavors, items, "flavors")))
}

async fn detail(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let query = Query::parse(raw.as_deref());
    let flavors = list_flavors(&state, &ctx, &query, mv).await?;
    let specs = shows_extra_specs(&state, &ctx, mv);
    let items = flavors.iter().map(|f| full(&state, f, mv, specs)).collect();
    Ok(Json(list_body(&state, &query, &flavors, items, "flavors/detail")))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let flavor = find(&state, &ctx, &id).await?;
    Ok(Json(json!({"flavor": full(&state, &flavor, mv, shows_extra_specs(&state, &ctx, mv))})))
}

async fn create(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, body: Bytes) -> ApiResult<Json<Value>> {
    let mut flavor = parse_create(&input::parse(&body)?, mv)?;
    state.authorize("os_compute_api:os-flavor-manage:create", &json!({}), &ctx)?;
    flavor.id = match flavor_db::create(&state.db, &flavor).await? {
        Ok(id) => id,
        Err(CreateError::NameExists) => return Err(ApiError::conflict(format!("Flavor with name {} already exists.", flavor.name))),
        Err(CreateError::IdExists) => return Err(ApiError::conflict(format!("Flavor with ID {} already exists.", flavor.flavorid))),
    };
    tracing::info!("flavor {} ({}) created", flavor.flavorid, flavor.name);
    Ok(Json(json!({"flavor": full(&state, &flavor, mv, shows_extra_specs(&state, &ctx, mv))})))
}

/// The create body, checked as Nova's schema checks it.
fn parse_create(body: &Value, mv: Microversion) -> ApiResult<Flavor> {
    let f = input::root(body, "flavor")?;
    let mut allowed = vec!["name", "id", "ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral", "swap", "rxtx_factor", "os-flavor-access:is_public"];
    if mv.at_least(55) {
        allowed.push("description");
    }
    input::only(f, &allowed, Some("flavor"))?;
    input::required(f, &["name", "ram", "vcpus", "disk"], "flavor")?;
    let name = input::name(&f["name"], "name")?.trim();
    let flavorid = match f.get("id") {
        None | Some(Value::Null) => uuid::Uuid::new_v4().to_string(),
        Some(v) => flavor_id(v)?,
    };
    let size = |key: &str, min: i64| -> ApiResult<i64> {
        match f.get(key) {
            Some(v) => input::integer(v, key, min, MAX_INT),
            None => Ok(0),
        }
    };
    let mut flavor = Flavor::new(&flavorid, name, size("ram", 1)?, size("vcpus", 1)?, size("disk", 0)?);
    flavor.ephemeral_gb = size("OS-FLV-EXT-DATA:ephemeral", 0)?;
    flavor.swap = size("swap", 0)?;
    if let Some(v) = f.get("rxtx_factor") {
        flavor.rxtx_factor = rxtx_factor(v)?;
    }
    if let Some(v) = f.get("os-flavor-access:is_public") {
        flavor.is_public = input::boolean(v, "os-flavor-access:is_public")?;
    }
    if let Some(v) = f.get("description") {
        flavor.description = input::description(v, "description", 65535)?;
    }
    Ok(flavor)
}

/// A requested flavor id: a number, or 1–255 of `[a-zA-Z0-9. _-]` not starting or ending
/// with a space.
fn flavor_id(v: &Value) -> ApiResult<String> {
    match v {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => {
            input::string(v, "id", 1, 255)?;
            let ok = s.chars().all(|c| c.is_ascii_alphanumeric() || ". _-".contains(c)) && !s.starts_with(' ') && !s.ends_with(' ');
            if ok {
                Ok(s.clone())
            } else {
                Err(input::invalid("id", v, format!("'{s}' does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'")))
            }
        }
        other => Err(input::invalid("id", other, format!("{other} is not of type 'string', 'number', 'null'"))),
    }
}

/// `rxtx_factor`: a positive number (or its decimal text) up to a single-precision float's max.
fn rxtx_factor(v: &Value) -> ApiResult<f64> {
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if is_decimal(s) => s.parse::<f64>().ok(),
        _ => None,
    };
    match n {
        Some(x) if x > 0.0 && x <= MAX_RXTX => Ok(x),
        Some(x) if x <= 0.0 => Err(input::invalid("rxtx_factor", v, format!("{x} is less than or equal to the minimum of 0"))),
        Some(x) => Err(input::invalid("rxtx_factor", v, format!("{x} is greater than the maximum of {MAX_RXTX}"))),
        None => Err(input::invalid("rxtx_factor", v, "is not a positive number")),
    }
}

/// `^[0-9]+(\.[0-9]+)?$`
fn is_decimal(s: &str) -> bool {
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(s),
    }
}

async fn update(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    if !mv.at_least(55) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    let body = input::parse(&body)?;
    let f = input::root(&body, "flavor")?;
    input::only(f, &["description"], Some("flavor"))?;
    input::required(f, &["description"], "flavor")?;
    let description = input::description(&f["description"], "description", 65535)?;
    state.authorize("os_compute_api:os-flavor-manage:update", &json!({}), &ctx)?;
    let mut flavor = find(&state, &ctx, &id).await?;
    flavor_db::set_description(&state.db, flavor.id, description.as_deref()).await?;
    flavor.description = description;
    Ok(Json(json!({"flavor": full(&state, &flavor, mv, shows_extra_specs(&state, &ctx, mv))})))
}

async fn delete(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.authorize("os_compute_api:os-flavor-manage:delete", &json!({}), &ctx)?;
    if !flavor_db::delete(&state.db, &id).await? {
        return Err(not_found(&id));
    }
    tracing::info!("flavor {id} deleted");
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use monostack_common::microversion::Version;

    #[test]
    fn create_bodies_are_checked() {
        let mv = Microversion(Version::new(2, 1));
        let ok = parse_create(&json!({"flavor": {"name": "f", "ram": "512", "vcpus": 1, "disk": 0, "id": 10}}), mv);
        assert_eq!(ok.map(|f| (f.flavorid, f.memory_mb)).ok(), Some(("10".to_string(), 512)));
        for bad in [
            json!({"flavor": {"name": "f", "ram": 0, "vcpus": 1, "disk": 0}}),
            json!({"flavor": {"name": "f", "ram": 1, "vcpus": 1}}),
            json!({"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": -1}}),
            json!({"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "id": " x"}}),
            json!({"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": 0}}),
            json!({"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "description": "d"}}),
            json!({"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "os-flavor-access:is_public": "maybe"}}),
            json!({"flavor": {"name": "f", "ram": 2147483648_i64, "vcpus": 1, "disk": 0}}),
            json!({"flavour": {}}),
        ] {
            assert!(parse_create(&bad, mv).is_err(), "{bad}");
        }
        let v255 = Microversion(Version::new(2, 55));
        assert!(parse_create(&json!({"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0, "description": "d"}}), v255).is_ok());
    }

    #[test]
    fn is_public_filter_forms() {
        assert_eq!(parse_is_public(None).ok(), Some(Some(true)));
        assert_eq!(parse_is_public(Some("None")).ok(), Some(None));
        assert_eq!(parse_is_public(Some("false")).ok(), Some(Some(false)));
        assert!(parse_is_public(Some("maybe")).is_err());
    }
}
