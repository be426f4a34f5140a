//! `/v2.0/routers`: list, show, create, update (If-Match), delete; `add_router_interface` /
//! `remove_router_interface`; `add_extraroutes` / `remove_extraroutes`.

use super::body::{self, Attrs};
use super::networks::owner;
use super::query::ListQuery;
use super::{json, root::base_url, State};
use crate::db::routers::{self as rdb, Router as RouterRow};
use crate::db::{self, Bind};
use crate::error::{NeutronError, NeutronResult};
use crate::ipam;
use crate::service::ports::FixedIpRequest;
use crate::service::routers::{
    self as svc, bad_router, GatewayRequest, Interface, InterfaceInfo, RouterCreate, RouterUpdate,
};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.0/routers", get(list).post(create))
        .route("/v2.0/routers/{id}", get(show).put(update).delete(remove))
        .route(
            "/v2.0/routers/{id}/add_router_interface",
            put(add_interface),
        )
        .route(
            "/v2.0/routers/{id}/remove_router_interface",
            put(remove_interface),
        )
        .route("/v2.0/routers/{id}/add_extraroutes", put(add_routes))
        .route("/v2.0/routers/{id}/remove_extraroutes", put(remove_routes))
}

const POST_ATTRS: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "external_gateway_info",
    "availability_zone_hints",
    "distributed",
    "ha",
    "flavor_id",
    "tenant_id",
    "project_id",
    "tags",
];
const PUT_ATTRS: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "external_gateway_info",
    "routes",
    "distributed",
    "ha",
];
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "tenant_id",
    "project_id",
    "routes",
    "flavor_id",
    "availability_zone_hints",
    "availability_zones",
    "created_at",
    "updated_at",
    "revision_number",
    "tags",
];

/// A router as Neutron shows it; `gw_ips` are its gateway port's addresses, `zones` those of
/// the L3 agents hosting it.
pub fn view(r: &RouterRow, gw_ips: &[(String, String)], zones: &[String]) -> Map<String, Value> {
    let gateway = match &r.gw_network_id {
        Some(net) => json!({
            "network_id": net,
            "enable_snat": r.enable_snat,
            "external_fixed_ips": gw_ips.iter().map(|(s, ip)| json!({"subnet_id": s, "ip_address": ip})).collect::<Vec<_>>(),
        }),
        None => Value::Null,
    };
    let v = json!({
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "tenant_id": r.project_id,
        "project_id": r.project_id,
        "status": r.status,
        "admin_state_up": r.admin_state_up,
        "external_gateway_info": gateway,
        "routes": r.routes.iter().map(|(d, n)| json!({"destination": d, "nexthop": n})).collect::<Vec<_>>(),
        "availability_zone_hints": r.availability_zone_hints,
        "availability_zones": zones,
        "distributed": false,
        "ha": false,
        "flavor_id": Value::Null,
        "tags": r.tags,
        "created_at": monostack_common::time::iso_seconds(r.created_at),
        "updated_at": monostack_common::time::iso_seconds(r.updated_at),
        "revision_number": r.revision_number,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub async fn full_view(state: &State, r: &RouterRow) -> NeutronResult<Map<String, Value>> {
    let mut tx = db::read(&state.db).await?;
    let ips = svc::gateway_ips(&mut tx, r).await?;
    let zones = crate::service::agents::router_zones(&mut tx, &r.id).await?;
    Ok(view(r, &ips, &zones))
}

/// The policy target of a router: its attributes.
pub fn target(r: &RouterRow) -> Value {
    Value::Object(view(r, &[], &[]))
}

/// The router and its policy target if the caller may see it, else 404.
pub async fn visible_router(
    state: &State,
    ctx: &AuthContext,
    id: &str,
) -> NeutronResult<(RouterRow, Value)> {
    let mut tx = db::read(&state.db).await?;
    let r = rdb::must_get(&mut tx, id).await?;
    let t = target(&r);
    if !state.allowed(ctx, "get_router", &t) {
        return Err(rdb::not_found(id));
    }
    Ok((r, t))
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
        rdb::load(&mut tx, None, &[]).await?
    } else {
        rdb::load(&mut tx, Some("project_id = ?"), &[Bind::Text(&project)]).await?
    };
    let mut views = Vec::new();
    for r in all {
        let t = target(&r);
        if state.allowed(&ctx, "get_router", &t) {
            let ips = svc::gateway_ips(&mut tx, &r).await?;
            let zones = crate::service::agents::router_zones(&mut tx, &r.id).await?;
            let mut v = view(&r, &ips, &zones);
            state.hide_attributes(&ctx, "router", &t, &mut v);
            views.push(v);
        }
    }
    let url = format!("{}/v2.0/routers", base_url(&headers, &state));
    let (page, links) = q.apply(views, &url)?;
    let mut body = json!({ "routers": page });
    if !links.is_empty() {
        body["routers_links"] = Value::Array(links);
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
    let (r, t) = visible_router(&state, &ctx, &id).await?;
    let mut v = full_view(&state, &r).await?;
    state.hide_attributes(&ctx, "router", &t, &mut v);
    q.select_fields(&mut v);
    Ok(json(StatusCode::OK, json!({ "router": v })))
}

fn invalid(attr: &str, reason: impl AsRef<str>) -> NeutronError {
    NeutronError::http_bad_request(format!(
        "Invalid input for {attr}. Reason: {}.",
        reason.as_ref().trim_end_matches('.')
    ))
}

/// `external_gateway_info`: None when absent, Some(None) when null or without a network.
fn gateway(attrs: &Attrs) -> NeutronResult<Option<Option<GatewayRequest>>> {
    const ATTR: &str = "external_gateway_info";
    let o = match attrs.raw(ATTR) {
        None => return Ok(None),
        Some(Value::Null) => return Ok(Some(None)),
        Some(Value::Object(o)) if o.is_empty() => return Ok(Some(None)),
        Some(Value::Object(o)) => o,
        Some(v) => {
            return Err(invalid(
                ATTR,
                format!("'{}' is not a dictionary", body::show(v)),
            ))
        }
    };
    if let Some(k) = o
        .keys()
        .find(|k| !["network_id", "enable_snat", "external_fixed_ips"].contains(&k.as_str()))
    {
        return Err(invalid(ATTR, format!("Unexpected keys supplied: {k}")));
    }
    let sub = Attrs::new(o.clone());
    let network_id = match sub.raw("network_id") {
        None => {
            return Err(invalid(
                ATTR,
                "Validation of dictionary's keys failed. Expected keys: {'network_id'}",
            ))
        }
        Some(Value::String(s)) if body::is_uuid(s) => s.to_ascii_lowercase(),
        Some(v) => {
            return Err(invalid(
                ATTR,
                format!("'{}' is not a valid UUID", body::show(v)),
            ))
        }
    };
    let enable_snat = match sub.raw("enable_snat") {
        None => None,
        Some(v) => Some(body::to_bool(v).ok_or_else(|| {
            invalid(
                ATTR,
                format!("'{}' cannot be converted to boolean", body::show(v)),
            )
        })?),
    };
    let external_fixed_ips = match sub.raw("external_fixed_ips") {
        None => None,
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for item in items {
                let Value::Object(f) = item else {
                    return Err(invalid(
                        ATTR,
                        format!("Invalid data format for fixed IP: '{}'", body::show(item)),
                    ));
                };
                let subnet_id = match f.get("subnet_id") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) if body::is_uuid(s) => Some(s.to_ascii_lowercase()),
                    Some(v) => {
                        return Err(invalid(
                            ATTR,
                            format!("'{}' is not a valid UUID", body::show(v)),
                        ))
                    }
                };
                let ip_address = match f.get("ip_address") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) if ipam::parse_ip(s).is_some() => Some(s.clone()),
                    Some(v) => {
                        return Err(invalid(
                            ATTR,
                            format!("'{}' is not a valid IP address", body::show(v)),
                        ))
                    }
                };
                if subnet_id.is_none() && ip_address.is_none() {
                    return Err(NeutronError::invalid_input(
                        "IP allocation requires subnet_id or ip_address",
                    ));
                }
                out.push(FixedIpRequest {
                    subnet_id,
                    ip_address,
                });
            }
            Some(out)
        }
        Some(v) => return Err(invalid(ATTR, format!("'{}' is not a list", body::show(v)))),
    };
    Ok(Some(Some(GatewayRequest {
        network_id,
        enable_snat,
        external_fixed_ips,
    })))
}

/// The attribute rules a request touches (gateway sub-attributes, ha, distributed).
fn rules_for(attrs: &Attrs) -> Vec<&'static str> {
    let mut rules = Vec::new();
    if let Some(Value::Object(o)) = attrs.raw("external_gateway_info") {
        rules.push("external_gateway_info");
        for (k, rule) in [
            ("network_id", "external_gateway_info:network_id"),
            ("enable_snat", "external_gateway_info:enable_snat"),
            (
                "external_fixed_ips",
                "external_gateway_info:external_fixed_ips",
            ),
        ] {
            if o.contains_key(k) {
                rules.push(rule);
            }
        }
    } else if attrs.has("external_gateway_info") {
        rules.push("external_gateway_info");
    }
    if attrs.has("distributed") {
        rules.push("distributed");
    }
    if attrs.has("ha") {
        rules.push("ha");
    }
    rules
}

/// The gateway's network must be one the caller may see (else NetworkNotFound, never
/// revealing another project's network).
async fn gateway_visible(
    state: &State,
    ctx: &AuthContext,
    gw: Option<&GatewayRequest>,
) -> NeutronResult<()> {
    if let Some(g) = gw {
        super::networks::visible_network(state, ctx, &g.network_id).await?;
    }
    Ok(())
}

/// The single-node L3 provider serves neither distributed nor HA routers.
fn check_provider(attrs: &Attrs) -> NeutronResult<()> {
    for key in ["distributed", "ha"] {
        if attrs.bool(key)? == Some(true) {
            return Err(NeutronError::invalid_input(format!(
                "Provider single_node does not support {key}=True"
            )));
        }
    }
    Ok(())
}

/// `routes` as sent: a list of {destination, nexthop}, each valid, none repeated.
fn routes_attr(v: &Value) -> NeutronResult<Vec<(String, String)>> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => {
            return Err(invalid(
                "routes",
                format!("'{}' is not a list", body::show(other)),
            ))
        }
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for item in items {
        let o = item.as_object().ok_or_else(|| {
            invalid(
                "routes",
                format!("Invalid data format for hostroute: '{}'", body::show(item)),
            )
        })?;
        if o.len() != 2 || !o.contains_key("destination") || !o.contains_key("nexthop") {
            return Err(invalid(
                "routes",
                format!("Invalid data format for hostroute: '{}'", body::show(item)),
            ));
        }
        let dest = o.get("destination").and_then(Value::as_str).unwrap_or("");
        let hop = o.get("nexthop").and_then(Value::as_str).unwrap_or("");
        let cidr = ipam::Cidr::parse(dest)
            .map_err(|_| invalid("routes", format!("'{dest}' is not a valid IP subnet")))?;
        if cidr.to_string() != dest {
            return Err(invalid(
                "routes",
                format!("'{dest}' isn't a recognized IP subnet cidr, '{cidr}' is recommended"),
            ));
        }
        let hop = ipam::canonical_ip(hop)
            .ok_or_else(|| invalid("routes", format!("'{hop}' is not a valid IP address")))?;
        let route = (dest.to_string(), hop);
        if out.contains(&route) {
            return Err(invalid(
                "routes",
                format!("Duplicate hostroute '{}'", body::show(item)),
            ));
        }
        out.push(route);
    }
    Ok(out)
}

async fn create(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let (mut items, _) = body::resources(&bytes, "router", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    attrs.check(POST_ATTRS, READ_ONLY, true)?;
    let project_id = owner(&state, &ctx, &attrs)?;
    let hints = attrs
        .string_list("availability_zone_hints")?
        .unwrap_or_default();
    let known = crate::api::availability_zones::zone_names(&state);
    for h in &hints {
        if !known.contains(h) {
            return Err(NeutronError::not_found(
                "AvailabilityZoneNotFound",
                format!("AvailabilityZone {h} could not be found."),
            ));
        }
    }
    let tags = attrs.string_list("tags")?.unwrap_or_default();
    for t in &tags {
        super::tags::validate_tag(t)?;
    }
    let req = RouterCreate {
        project_id: project_id.clone(),
        name: attrs.string("name", 255)?.unwrap_or_default(),
        description: attrs.string("description", 255)?.unwrap_or_default(),
        admin_state_up: attrs.bool("admin_state_up")?.unwrap_or(true),
        gateway: gateway(&attrs)?.flatten(),
        availability_zone_hints: hints,
        tags,
    };
    attrs.bool("distributed")?;
    attrs.bool("ha")?;
    let t = json!({"project_id": project_id, "tenant_id": project_id});
    state.authorize(&ctx, "create_router", &t, &rules_for(&attrs))?;
    check_provider(&attrs)?;
    gateway_visible(&state, &ctx, req.gateway.as_ref()).await?;
    match attrs.raw("flavor_id") {
        None | Some(Value::Null) => {}
        Some(v) => {
            return Err(NeutronError::not_found(
                "FlavorNotFound",
                format!("Flavor {} could not be found.", body::show(v)),
            ))
        }
    }
    let r = svc::create(&state, req).await?;
    let mut v = full_view(&state, &r).await?;
    state.hide_attributes(&ctx, "router", &target(&r), &mut v);
    Ok(json(StatusCode::CREATED, json!({ "router": v })))
}

/// Visible (404), allowed with `rules` (403), at the `If-Match` revision (412).
fn write_check<'a>(
    state: &'a State,
    ctx: &'a AuthContext,
    action: &'a str,
    rules: Vec<&'a str>,
    if_match: Option<i64>,
) -> impl Fn(&RouterRow) -> NeutronResult<()> + Sync + 'a {
    move |r: &RouterRow| {
        let t = target(r);
        if !state.allowed(ctx, "get_router", &t) {
            return Err(rdb::not_found(&r.id));
        }
        state.authorize(ctx, action, &t, &rules)?;
        body::check_revision(if_match, r.revision_number)?;
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
    let (mut items, _) = body::resources(&bytes, "router", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    attrs.check(PUT_ATTRS, READ_ONLY, false)?;
    let req = RouterUpdate {
        name: attrs.string("name", 255)?,
        description: attrs.string("description", 255)?,
        admin_state_up: attrs.bool("admin_state_up")?,
        gateway: gateway(&attrs)?,
        routes: attrs.raw("routes").map(routes_attr).transpose()?,
    };
    attrs.bool("distributed")?;
    attrs.bool("ha")?;
    {
        // Policy before the provider's refusal: members get 403 for ha/distributed.
        let (r, _) = visible_router(&state, &ctx, &id).await?;
        state.authorize(&ctx, "update_router", &target(&r), &rules_for(&attrs))?;
        check_provider(&attrs)?;
        gateway_visible(&state, &ctx, req.gateway.as_ref().and_then(Option::as_ref)).await?;
    }
    let check = write_check(&state, &ctx, "update_router", rules_for(&attrs), if_match);
    let r = svc::update(&state, &id, req, &check).await?;
    let mut v = full_view(&state, &r).await?;
    state.hide_attributes(&ctx, "router", &target(&r), &mut v);
    Ok(json(StatusCode::OK, json!({ "router": v })))
}

async fn remove(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> NeutronResult<Response> {
    let if_match = body::if_match_revision(&headers)?;
    let check = write_check(&state, &ctx, "delete_router", Vec::new(), if_match);
    svc::delete(&state, &id, &check).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn info_view(i: &InterfaceInfo) -> Value {
    json!({
        "id": i.router_id,
        "tenant_id": i.project_id,
        "project_id": i.project_id,
        "port_id": i.port_id,
        "network_id": i.network_id,
        "subnet_id": i.subnet_ids.first(),
        "subnet_ids": i.subnet_ids,
    })
}

/// The body of the interface actions: `subnet_id` and/or `port_id`.
fn interface_body(bytes: &Bytes) -> NeutronResult<(Option<String>, Option<String>)> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|_| NeutronError::http_bad_request("Malformed request body: not valid JSON"))?;
    let Value::Object(o) = v else {
        return Err(NeutronError::http_bad_request(
            "Malformed request body: a JSON object is expected",
        ));
    };
    let a = Attrs::new(o);
    Ok((a.uuid("subnet_id")?, a.uuid("port_id")?))
}

async fn add_interface(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let (subnet_id, port_id) = interface_body(&bytes)?;
    let (r, t) = visible_router(&state, &ctx, &id).await?;
    state.authorize(&ctx, "add_router_interface", &t, &[])?;
    let which = match (subnet_id, port_id) {
        (Some(_), Some(_)) => return Err(bad_router("Cannot specify both subnet-id and port-id")),
        (None, None) => return Err(bad_router("Either subnet_id or port_id must be specified")),
        (Some(sid), None) => {
            super::subnets::visible_subnet(&state, &ctx, &sid).await?;
            Interface::Subnet(sid)
        }
        (None, Some(pid)) => {
            super::ports::visible_port(&state, &ctx, &pid).await?;
            Interface::Port(pid)
        }
    };
    let check = write_check(&state, &ctx, "add_router_interface", Vec::new(), None);
    let i = svc::add_interface(&state, &r.id, which, &check).await?;
    Ok(json(StatusCode::OK, info_view(&i)))
}

async fn remove_interface(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let (subnet_id, port_id) = interface_body(&bytes)?;
    let (r, t) = visible_router(&state, &ctx, &id).await?;
    state.authorize(&ctx, "remove_router_interface", &t, &[])?;
    let check = write_check(&state, &ctx, "remove_router_interface", Vec::new(), None);
    let i = svc::remove_interface(&state, &r.id, port_id, subnet_id, &check).await?;
    Ok(json(StatusCode::OK, info_view(&i)))
}

async fn change_routes(
    state: State,
    ctx: std::sync::Arc<AuthContext>,
    id: String,
    bytes: Bytes,
    add: bool,
) -> NeutronResult<Response> {
    let (mut items, _) = body::resources(&bytes, "router", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    attrs.check(&["routes"], &[], false)?;
    let routes = routes_attr(attrs.raw("routes").unwrap_or(&Value::Null))?;
    let action = if add {
        "add_extraroutes"
    } else {
        "remove_extraroutes"
    };
    let check = write_check(&state, &ctx, action, Vec::new(), None);
    let r = svc::change_routes(&state, &id, routes, add, &check).await?;
    let mut v = full_view(&state, &r).await?;
    state.hide_attributes(&ctx, "router", &target(&r), &mut v);
    Ok(json(StatusCode::OK, json!({ "router": v })))
}

async fn add_routes(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    bytes: Bytes,
) -> NeutronResult<Response> {
    change_routes(state, ctx, id, bytes, true).await
}

async fn remove_routes(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    bytes: Bytes,
) -> NeutronResult<Response> {
    change_routes(state, ctx, id, bytes, false).await
}
