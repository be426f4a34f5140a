//! `/v2.0/address-scopes`: list, show, create, update (name, shared), delete.

use super::body::{self, Attrs};
use super::networks::owner;
use super::query::ListQuery;
use super::{json, root::base_url, State};
use crate::db::{self, Bind};
use crate::error::{NeutronError, NeutronResult};
use crate::service::address_scopes::{self as svc, AddressScope};
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
        .route("/v2.0/address-scopes", get(list).post(create))
        .route("/v2.0/address-scopes/{id}", get(show).put(update).delete(remove))
}

pub fn view(s: &AddressScope) -> Map<String, Value> {
    let v = json!({
        "id": s.id, "name": s.name, "tenant_id": s.project_id, "project_id": s.project_id,
        "ip_version": s.ip_version, "shared": s.shared,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn target(s: &AddressScope) -> Value {
    json!({"id": s.id, "project_id": s.project_id, "tenant_id": s.project_id, "shared": s.shared})
}

/// The scope if the caller may see it (own, shared, or admin), else 404.
pub async fn visible_scope(state: &State, ctx: &AuthContext, id: &str) -> NeutronResult<(AddressScope, Value)> {
    let mut tx = db::read(&state.db).await?;
    let s = svc::must_get(&mut tx, id).await?;
    let t = target(&s);
    if !state.allowed(ctx, "get_address_scope", &t) {
        return Err(svc::not_found(id));
    }
    Ok((s, t))
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
    let scopes = if state.is_admin(&ctx) {
        svc::load(&mut tx, None, &[]).await?
    } else {
        svc::load(&mut tx, Some("project_id = ? OR shared = 1"), &[Bind::Text(&project)]).await?
    };
    let views: Vec<Map<String, Value>> = scopes
        .iter()
        .filter(|s| state.allowed(&ctx, "get_address_scope", &target(s)))
        .map(view)
        .collect();
    let url = format!("{}/v2.0/address-scopes", base_url(&headers, &state));
    let (page, links) = q.apply(views, &url)?;
    let mut body = json!({ "address_scopes": page });
    if !links.is_empty() {
        body["address_scopes_links"] = Value::Array(links);
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
    let (s, _) = visible_scope(&state, &ctx, &id).await?;
    let mut v = view(&s);
    q.select_fields(&mut v);
    Ok(json(StatusCode::OK, json!({ "address_scope": v })))
}

/// Neutron's ip_version: 4 or 6, as a number or a numeric string.
fn ip_version(attrs: &Attrs) -> NeutronResult<i64> {
    let raw = attrs
        .raw("ip_version")
        .ok_or_else(|| NeutronError::http_bad_request("Failed to parse request. Required attribute 'ip_version' not specified"))?;
    match body::to_int(raw) {
        Some(v @ (4 | 6)) => Ok(v),
        Some(v) => Err(NeutronError::http_bad_request(format!(
            "Invalid input for ip_version. Reason: {v} is not in [4, 6].",
        ))),
        None => Err(NeutronError::http_bad_request(format!(
            "Invalid input for ip_version. Reason: '{}' is not an integer.",
            body::show(raw)
        ))),
    }
}

async fn create(axum::extract::State(state): axum::extract::State<State>, Authenticated(ctx): Authenticated, bytes: Bytes) -> NeutronResult<Response> {
    let (mut items, _) = body::resources(&bytes, "address_scope", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    attrs.check(&["name", "ip_version", "shared", "tenant_id", "project_id"], &["id"], true)?;
    let name = attrs
        .string("name", 255)?
        .ok_or_else(|| NeutronError::http_bad_request("Failed to parse request. Required attribute 'name' not specified"))?;
    let ip_version = ip_version(&attrs)?;
    let scope = AddressScope {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: owner(&state, &ctx, &attrs)?,
        name,
        ip_version,
        shared: attrs.bool("shared")?.unwrap_or(false),
    };
    let set: &[&str] = if scope.shared { &["shared"] } else { &[] };
    state.authorize(&ctx, "create_address_scope", &target(&scope), set)?;
    let s = svc::insert(&state, scope).await?;
    Ok(json(StatusCode::CREATED, json!({ "address_scope": view(&s) })))
}

async fn update(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let (mut items, _) = body::resources(&bytes, "address_scope", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    attrs.check(&["name", "shared"], &["id", "ip_version", "tenant_id", "project_id"], false)?;
    let name = attrs.string("name", 255)?;
    let shared = attrs.bool("shared")?;
    let (_, t) = visible_scope(&state, &ctx, &id).await?;
    state.authorize(&ctx, "update_address_scope", &t, &attrs.keys())?;
    let s = svc::update(&state, &id, name.as_deref(), shared).await?;
    Ok(json(StatusCode::OK, json!({ "address_scope": view(&s) })))
}

async fn remove(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
) -> NeutronResult<Response> {
    let (_, t) = visible_scope(&state, &ctx, &id).await?;
    state.authorize(&ctx, "delete_address_scope", &t, &[])?;
    svc::delete(&state, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
