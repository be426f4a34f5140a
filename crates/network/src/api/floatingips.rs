//! `/v2.0/floatingips`: list, show, create, update (associate/disassociate, If-Match),
//! delete; `port_details` of the associated port (fip-port-details).

use super::body::{self, Attrs};
use super::networks::owner;
use super::query::ListQuery;
use super::{json, root::base_url, State};
use crate::db::floatingips::{self as fdb, FloatingIp};
use crate::db::{self, ports, Bind};
use crate::error::{NeutronError, NeutronResult};
use crate::ipam;
use crate::service::floatingips::{self as svc, FipCreate, FipUpdate};
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
        .route("/v2.0/floatingips", get(list).post(create))
        .route(
            "/v2.0/floatingips/{id}",
            get(show).put(update).delete(remove),
        )
}

const POST_ATTRS: &[&str] = &[
    "floating_network_id",
    "floating_ip_address",
    "subnet_id",
    "port_id",
    "fixed_ip_address",
    "description",
    "tenant_id",
    "project_id",
    "tags",
];
const PUT_ATTRS: &[&str] = &["port_id", "fixed_ip_address", "description"];
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "router_id",
    "floating_network_id",
    "floating_ip_address",
    "subnet_id",
    "tenant_id",
    "project_id",
    "port_details",
    "created_at",
    "updated_at",
    "revision_number",
    "tags",
];

/// A floating IP as Neutron shows it; `port` is the associated port's details, if any.
pub fn view(f: &FloatingIp, port: Option<&ports::Port>) -> Map<String, Value> {
    let details = match port {
        Some(p) => json!({
            "name": p.name,
            "network_id": p.network_id,
            "mac_address": p.mac_address,
            "admin_state_up": p.admin_state_up,
            "status": p.status,
            "device_id": p.device_id,
            "device_owner": p.device_owner,
        }),
        None => Value::Null,
    };
    let v = json!({
        "id": f.id,
        "tenant_id": f.project_id,
        "project_id": f.project_id,
        "description": f.description,
        "floating_ip_address": f.floating_ip_address,
        "floating_network_id": f.floating_network_id,
        "router_id": f.router_id,
        "port_id": f.fixed_port_id,
        "fixed_ip_address": f.fixed_ip_address,
        "status": f.status,
        "port_details": details,
        "tags": f.tags,
        "created_at": monostack_common::time::iso_seconds(f.created_at),
        "updated_at": monostack_common::time::iso_seconds(f.updated_at),
        "revision_number": f.revision_number,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

async fn full_view(tx: &mut db::Tx, f: &FloatingIp) -> NeutronResult<Map<String, Value>> {
    let port = match &f.fixed_port_id {
        Some(pid) => ports::get(tx, pid).await?,
        None => None,
    };
    Ok(view(f, port.as_ref()))
}

/// The policy target of a floating IP: its attributes.
pub fn target(f: &FloatingIp) -> Value {
    Value::Object(view(f, None))
}

/// The floating IP and its policy target if the caller may see it, else 404.
pub async fn visible_fip(
    state: &State,
    ctx: &AuthContext,
    id: &str,
) -> NeutronResult<(FloatingIp, Value)> {
    let mut tx = db::read(&state.db).await?;
    let f = fdb::must_get(&mut tx, id).await?;
    let t = target(&f);
    if !state.allowed(ctx, "get_floatingip", &t) {
        return Err(fdb::not_found(id));
    }
    Ok((f, t))
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
    let all = if state.is_admin(&ctx) {
        fdb::load(&mut tx, None, &[]).await?
    } else {
        fdb::load(&mut tx, Some("project_id = ?"), &[Bind::Text(&project)]).await?
    };
    let mut views = Vec::new();
    for f in all {
        let t = target(&f);
        if state.allowed(&ctx, "get_floatingip", &t) {
            let mut v = full_view(&mut tx, &f).await?;
            state.hide_attributes(&ctx, "floatingip", &t, &mut v);
            views.push(v);
        }
    }
    let url = format!("{}/v2.0/floatingips", base_url(&headers, &state));
    let (page, links) = q.apply(views, &url)?;
    let mut body = json!({ "floatingips": page });
    if !links.is_empty() {
        body["floatingips_links"] = Value::Array(links);
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
    let (f, t) = visible_fip(&state, &ctx, &id).await?;
    let mut tx = db::read(&state.db).await?;
    let mut v = full_view(&mut tx, &f).await?;
    state.hide_attributes(&ctx, "floatingip", &t, &mut v);
    q.select_fields(&mut v);
    Ok(json(StatusCode::OK, json!({ "floatingip": v })))
}

fn ip_attr(attrs: &Attrs, key: &str) -> NeutronResult<Option<String>> {
    match attrs.raw(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if ipam::parse_ip(s).is_some() => Ok(Some(s.clone())),
        Some(v) => Err(NeutronError::http_bad_request(format!(
            "Invalid input for {key}. Reason: '{}' is not a valid IP address.",
            body::show(v)
        ))),
    }
}

/// A UUID attribute where `null` means unset.
fn nullable_uuid(attrs: &Attrs, key: &str) -> NeutronResult<Option<Option<String>>> {
    match attrs.raw(key) {
        Some(Value::Null) => Ok(Some(None)),
        _ => Ok(attrs.uuid(key)?.map(Some)),
    }
}

async fn create(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let (mut items, _) = body::resources(&bytes, "floatingip", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    attrs.check(POST_ATTRS, READ_ONLY, true)?;
    let network_id = attrs.uuid("floating_network_id")?.ok_or_else(|| {
        NeutronError::http_bad_request(
            "Failed to parse request. Required attribute 'floating_network_id' not specified",
        )
    })?;
    let project_id = owner(&state, &ctx, &attrs)?;
    let tags = attrs.string_list("tags")?.unwrap_or_default();
    for t in &tags {
        super::tags::validate_tag(t)?;
    }
    let req = FipCreate {
        project_id: project_id.clone(),
        floating_network_id: network_id.clone(),
        floating_ip_address: ip_attr(&attrs, "floating_ip_address")?,
        subnet_id: nullable_uuid(&attrs, "subnet_id")?.flatten(),
        port_id: nullable_uuid(&attrs, "port_id")?.flatten(),
        fixed_ip_address: ip_attr(&attrs, "fixed_ip_address")?,
        description: attrs.string("description", 255)?.unwrap_or_default(),
        tags,
    };
    let mut rules = Vec::new();
    if req.floating_ip_address.is_some() {
        rules.push("floating_ip_address");
    }
    let t = json!({"project_id": project_id, "tenant_id": project_id});
    state.authorize(&ctx, "create_floatingip", &t, &rules)?;
    super::networks::visible_network(&state, &ctx, &network_id).await?;
    if let Some(pid) = &req.port_id {
        super::ports::visible_port(&state, &ctx, pid).await?;
    } else if req.fixed_ip_address.is_some() {
        return Err(svc::bad_fip(
            "fixed_ip_address cannot be specified without a port_id",
        ));
    }
    let f = svc::create(&state, req, state.is_admin(&ctx)).await?;
    let mut tx = db::read(&state.db).await?;
    let mut v = full_view(&mut tx, &f).await?;
    state.hide_attributes(&ctx, "floatingip", &target(&f), &mut v);
    Ok(json(StatusCode::CREATED, json!({ "floatingip": v })))
}

/// Visible (404), allowed (403), at the `If-Match` revision (412).
fn write_check<'a>(
    state: &'a State,
    ctx: &'a AuthContext,
    action: &'a str,
    if_match: Option<i64>,
) -> impl Fn(&FloatingIp) -> NeutronResult<()> + Sync + 'a {
    move |f: &FloatingIp| {
        let t = target(f);
        if !state.allowed(ctx, "get_floatingip", &t) {
            return Err(fdb::not_found(&f.id));
        }
        state.authorize(ctx, action, &t, &[])?;
        body::check_revision(if_match, f.revision_number)?;
        Ok(())
    }
}

async fn update(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let if_match = body::if_match_revision(&headers)?;
    let (mut items, _) = body::resources(&bytes, "floatingip", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    attrs.check(PUT_ATTRS, READ_ONLY, false)?;
    let req = FipUpdate {
        port_id: nullable_uuid(&attrs, "port_id")?,
        fixed_ip_address: ip_attr(&attrs, "fixed_ip_address")?,
        description: attrs.string("description", 255)?,
    };
    let (f, t) = visible_fip(&state, &ctx, &id).await?;
    state.authorize(&ctx, "update_floatingip", &t, &[])?;
    if let Some(Some(pid)) = &req.port_id {
        super::ports::visible_port(&state, &ctx, pid).await?;
    }
    let check = write_check(&state, &ctx, "update_floatingip", if_match);
    let f = svc::update(&state, &f.id, req, state.is_admin(&ctx), &check).await?;
    let mut tx = db::read(&state.db).await?;
    let mut v = full_view(&mut tx, &f).await?;
    state.hide_attributes(&ctx, "floatingip", &target(&f), &mut v);
    Ok(json(StatusCode::OK, json!({ "floatingip": v })))
}

async fn remove(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> NeutronResult<Response> {
    let if_match = body::if_match_revision(&headers)?;
    let check = write_check(&state, &ctx, "delete_floatingip", if_match);
    svc::delete(&state, &id, &check).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
