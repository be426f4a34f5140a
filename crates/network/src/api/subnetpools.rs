//! `/v2.0/subnetpools`: list, show, create, update (prefixes only grow), delete.

use super::body::{self, Attrs};
use super::networks::owner;
use super::query::ListQuery;
use super::{json, root::base_url, State};
use crate::db::{self, Bind};
use crate::error::{NeutronError, NeutronResult};
use crate::service::subnetpools::{self as svc, SubnetPool};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.0/subnetpools", get(list).post(create))
        .route(
            "/v2.0/subnetpools/{id}",
            get(show).put(update).delete(remove),
        )
}

pub fn view(p: &SubnetPool, tags: &[String]) -> Map<String, Value> {
    let v = json!({
        "id": p.id, "name": p.name, "description": p.description, "tenant_id": p.project_id, "project_id": p.project_id,
        "ip_version": p.ip_version, "prefixes": p.prefixes, "default_prefixlen": p.default_prefixlen,
        "min_prefixlen": p.min_prefixlen, "max_prefixlen": p.max_prefixlen, "shared": p.shared, "is_default": p.is_default,
        "default_quota": p.default_quota, "address_scope_id": p.address_scope_id, "tags": tags,
        "created_at": monostack_common::time::iso_seconds(p.created_at), "updated_at": monostack_common::time::iso_seconds(p.updated_at),
        "revision_number": p.revision_number,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn target(p: &SubnetPool) -> Value {
    json!({"id": p.id, "project_id": p.project_id, "tenant_id": p.project_id, "shared": p.shared, "is_default": p.is_default})
}

/// The pool if the caller may see it (own, shared, or admin), else 404.
pub async fn visible_pool(
    state: &State,
    ctx: &AuthContext,
    id: &str,
) -> NeutronResult<(SubnetPool, Value)> {
    let mut tx = db::read(&state.db).await?;
    let p = svc::must_get(&mut tx, id).await?;
    let t = target(&p);
    if !state.allowed(ctx, "get_subnetpool", &t) {
        return Err(svc::not_found(id));
    }
    Ok((p, t))
}

async fn with_tags(
    state: &State,
    pools: Vec<SubnetPool>,
) -> NeutronResult<Vec<Map<String, Value>>> {
    let ids: Vec<String> = pools.iter().map(|p| p.id.clone()).collect();
    let tags = crate::db::tags::for_resources(&state.db, "subnetpools", &ids).await?;
    Ok(pools
        .iter()
        .map(|p| view(p, tags.get(&p.id).map(Vec::as_slice).unwrap_or(&[])))
        .collect())
}

async fn list(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> NeutronResult<Response> {
    let q = ListQuery::parse(raw.as_deref())?;
    let mut tx = db::read(&state.db).await?;
    let project = ctx.project_id.clone().unwrap_or_default();
    let pools = if state.is_admin(&ctx) {
        svc::load(&mut tx, None, &[]).await?
    } else {
        svc::load(
            &mut tx,
            Some("project_id = ? OR shared = 1"),
            &[Bind::Text(&project)],
        )
        .await?
    };
    let visible: Vec<SubnetPool> = pools
        .into_iter()
        .filter(|p| state.allowed(&ctx, "get_subnetpool", &target(p)))
        .collect();
    let views = with_tags(&state, visible).await?;
    let url = format!("{}/v2.0/subnetpools", base_url(&headers, &state));
    let (page, links) = q.apply(views, &url)?;
    let mut body = json!({ "subnetpools": page });
    if !links.is_empty() {
        body["subnetpools_links"] = Value::Array(links);
    }
    Ok(json(StatusCode::OK, body))
}

async fn show(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> NeutronResult<Response> {
    let q = ListQuery::parse(raw.as_deref())?;
    let (p, _) = visible_pool(&state, &ctx, &id).await?;
    let mut v = with_tags(&state, vec![p]).await?.pop().unwrap_or_default();
    q.select_fields(&mut v);
    Ok(json(StatusCode::OK, json!({ "subnetpool": v })))
}

/// `address_scope_id`: absent, null (no scope) or a UUID; anything else is 400 as Neutron's
/// uuid_or_none validator words it.
fn scope_id(attrs: &Attrs) -> NeutronResult<Option<Option<String>>> {
    match attrs.raw("address_scope_id") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) if body::is_uuid(s) => Ok(Some(Some(s.to_lowercase()))),
        Some(v) => Err(NeutronError::http_bad_request(format!(
            "Invalid input for address_scope_id. Reason: '{}' is not a valid UUID.",
            body::show(v)
        ))),
    }
}

fn int(attrs: &Attrs, key: &str) -> NeutronResult<Option<i64>> {
    Ok(attrs.nullable_int(key)?.flatten())
}

async fn create(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let (mut items, _) = body::resources(&bytes, "subnetpool", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    attrs.check(
        &[
            "name",
            "description",
            "prefixes",
            "default_prefixlen",
            "min_prefixlen",
            "max_prefixlen",
            "shared",
            "is_default",
            "default_quota",
            "address_scope_id",
            "tenant_id",
            "project_id",
        ],
        &[
            "id",
            "ip_version",
            "created_at",
            "updated_at",
            "revision_number",
            "tags",
        ],
        true,
    )?;
    let name = attrs.string("name", 255)?.ok_or_else(|| {
        NeutronError::http_bad_request(
            "Failed to parse request. Required attribute 'name' not specified",
        )
    })?;
    let prefixes = attrs.string_list("prefixes")?.ok_or_else(|| {
        NeutronError::http_bad_request(
            "Failed to parse request. Required attribute 'prefixes' not specified",
        )
    })?;
    let address_scope_id = scope_id(&attrs)?.flatten();
    let (ip_version, prefixes, default, min, max) = svc::check(
        &prefixes,
        None,
        int(&attrs, "default_prefixlen")?,
        int(&attrs, "min_prefixlen")?,
        int(&attrs, "max_prefixlen")?,
    )?;
    let project_id = owner(&state, &ctx, &attrs)?;
    let now = monostack_common::time::now_micros();
    let pool = SubnetPool {
        id: uuid::Uuid::new_v4().to_string(),
        project_id,
        name,
        description: attrs.string("description", 255)?.unwrap_or_default(),
        ip_version,
        prefixes,
        default_prefixlen: default,
        min_prefixlen: min,
        max_prefixlen: max,
        shared: attrs.bool("shared")?.unwrap_or(false),
        is_default: attrs.bool("is_default")?.unwrap_or(false),
        default_quota: int(&attrs, "default_quota")?,
        address_scope_id,
        created_at: now,
        updated_at: now,
        revision_number: 0,
    };
    let mut set = Vec::new();
    if pool.shared {
        set.push("shared");
    }
    if pool.is_default {
        set.push("is_default");
    }
    state.authorize(&ctx, "create_subnetpool", &target(&pool), &set)?;
    let project = ctx.project_id.clone().unwrap_or_default();
    let caller = svc::Caller { project: &project, admin: state.is_admin(&ctx) };
    let p = svc::insert(&state, pool, caller).await?;
    Ok(json(
        StatusCode::CREATED,
        json!({ "subnetpool": view(&p, &[]) }),
    ))
}

async fn update(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let if_match = body::if_match_revision(&headers)?;
    let (mut items, _) = body::resources(&bytes, "subnetpool", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    attrs.check(
        &[
            "name",
            "description",
            "prefixes",
            "default_prefixlen",
            "min_prefixlen",
            "max_prefixlen",
            "is_default",
            "default_quota",
            "address_scope_id",
        ],
        &[
            "id",
            "ip_version",
            "shared",
            "tenant_id",
            "project_id",
            "created_at",
            "updated_at",
            "revision_number",
            "tags",
        ],
        false,
    )?;
    let (current, t) = visible_pool(&state, &ctx, &id).await?;
    state.authorize(&ctx, "update_subnetpool", &t, &attrs.keys())?;
    let name = attrs.string("name", 255)?;
    let description = attrs.string("description", 255)?;
    let prefixes = attrs.string_list("prefixes")?;
    let (default, min, max) = (
        int(&attrs, "default_prefixlen")?,
        int(&attrs, "min_prefixlen")?,
        int(&attrs, "max_prefixlen")?,
    );
    let is_default = attrs.bool("is_default")?;
    let quota = attrs.nullable_int("default_quota")?;
    let scope = scope_id(&attrs)?;
    let change = move |p: &mut SubnetPool| -> NeutronResult<()> {
        body::check_revision(if_match, p.revision_number)?;
        let all = prefixes.clone().unwrap_or_else(|| p.prefixes.clone());
        let (_, all, d, mi, ma) = svc::check(
            &all,
            Some(p.ip_version),
            default.or(Some(p.default_prefixlen)),
            min.or(Some(p.min_prefixlen)),
            max.or(Some(p.max_prefixlen)),
        )?;
        (
            p.prefixes,
            p.default_prefixlen,
            p.min_prefixlen,
            p.max_prefixlen,
        ) = (all, d, mi, ma);
        if let Some(n) = &name {
            p.name = n.clone();
        }
        if let Some(d) = &description {
            p.description = d.clone();
        }
        if let Some(v) = is_default {
            p.is_default = v;
        }
        if let Some(q) = quota {
            p.default_quota = q;
        }
        if let Some(s) = &scope {
            p.address_scope_id = s.clone();
        }
        Ok(())
    };
    let _ = current;
    let project = ctx.project_id.clone().unwrap_or_default();
    let caller = svc::Caller { project: &project, admin: state.is_admin(&ctx) };
    let p = svc::save(&state, &id, caller, &change).await?;
    let v = with_tags(&state, vec![p]).await?.pop().unwrap_or_default();
    Ok(json(StatusCode::OK, json!({ "subnetpool": v })))
}

async fn remove(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
) -> NeutronResult<Response> {
    let (_, t) = visible_pool(&state, &ctx, &id).await?;
    state.authorize(&ctx, "delete_subnetpool", &t, &[])?;
    svc::delete(&state, &id, &|_| Ok(())).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
