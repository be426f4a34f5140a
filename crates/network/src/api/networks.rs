//! `/v2.0/networks`: list (filters, fields, sorting, paging), show, create (one or bulk, with
//! provider attributes or `segments`), update (If-Match), delete.

use super::body::{self, Attrs};
use super::query::ListQuery;
use super::{json, root::base_url, State};
use crate::db::networks::{self, Network};
use crate::db::{self, Bind};
use crate::error::{NeutronError, NeutronResult};
use crate::ml2::{Segment, SegmentRequest};
use crate::service::networks::{self as svc, NetworkCreate, NetworkUpdate};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.0/networks", get(list).post(create))
        .route("/v2.0/networks/{id}", get(show).put(update).delete(remove))
}

const PROVIDER: [&str; 3] = [
    "provider:network_type",
    "provider:physical_network",
    "provider:segmentation_id",
];
const POST_ATTRS: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "shared",
    "router:external",
    "is_default",
    "port_security_enabled",
    "mtu",
    "availability_zone_hints",
    "dns_domain",
    "provider:network_type",
    "provider:physical_network",
    "provider:segmentation_id",
    "segments",
    "tenant_id",
    "project_id",
    "tags",
];
const PUT_ATTRS: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "shared",
    "router:external",
    "is_default",
    "port_security_enabled",
    "mtu",
    "dns_domain",
    "provider:network_type",
    "provider:physical_network",
    "provider:segmentation_id",
    "segments",
];
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "subnets",
    "created_at",
    "updated_at",
    "revision_number",
    "availability_zones",
    "availability_zone_hints",
    "ipv4_address_scope",
    "ipv6_address_scope",
    "l2_adjacency",
    "tenant_id",
    "project_id",
    "tags",
];

fn segment_view(s: &crate::db::segments::SegmentRow) -> Value {
    json!({
        "provider:network_type": s.network_type,
        "provider:physical_network": s.physical_network,
        "provider:segmentation_id": s.segmentation_id,
    })
}

/// A network as Neutron shows it (before attributes hidden by policy are dropped).
pub fn view(state: &State, n: &Network) -> Map<String, Value> {
    let zones = if n.availability_zone_hints.is_empty() {
        state.config.network.default_availability_zones.clone()
    } else {
        n.availability_zone_hints.clone()
    };
    let mut v = json!({
        "id": n.id,
        "name": n.name,
        "tenant_id": n.project_id,
        "project_id": n.project_id,
        "admin_state_up": n.admin_state_up,
        "status": n.status,
        "subnets": n.subnets,
        "shared": n.shared,
        "mtu": n.mtu,
        "availability_zone_hints": n.availability_zone_hints,
        "availability_zones": zones,
        "ipv4_address_scope": n.ipv4_address_scope,
        "ipv6_address_scope": n.ipv6_address_scope,
        "router:external": n.router_external,
        "is_default": n.is_default,
        "port_security_enabled": n.port_security_enabled,
        "description": n.description,
        "dns_domain": n.dns_domain,
        "l2_adjacency": true,
        "tags": n.tags,
        "created_at": monostack_common::time::iso_seconds(n.created_at),
        "updated_at": monostack_common::time::iso_seconds(n.updated_at),
        "revision_number": n.revision_number,
    });
    if let (Some(obj), [one]) = (v.as_object_mut(), n.segments.as_slice()) {
        if let Some(seg) = segment_view(one).as_object() {
            obj.extend(seg.clone());
        }
    } else if let Some(obj) = v.as_object_mut() {
        obj.insert(
            "segments".into(),
            Value::Array(n.segments.iter().map(segment_view).collect()),
        );
    }
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The policy target of a network: its attributes.
pub fn target(view: &Map<String, Value>) -> Value {
    Value::Object(view.clone())
}

/// The networks the caller may list: all for admins, else their own, shared and external
/// ones (policy then decides each).
async fn visible(state: &State, ctx: &AuthContext, q: &ListQuery) -> NeutronResult<Vec<Network>> {
    let mut tx = db::read(&state.db).await?;
    let admin = state.is_admin(ctx);
    let project = ctx.project_id.clone().unwrap_or_default();
    match (admin, q.single("id")) {
        (_, Some(id)) => Ok(networks::get(&mut tx, id).await?.into_iter().collect()),
        (true, None) => networks::load(&mut tx, None, &[]).await,
        (false, None) => {
            networks::load(
                &mut tx,
                Some("project_id = ? OR shared = 1 OR router_external = 1"),
                &[Bind::Text(&project)],
            )
            .await
        }
    }
}

async fn list(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> NeutronResult<Response> {
    let q = ListQuery::parse(raw.as_deref())?;
    let mut views = Vec::new();
    for n in visible(&state, &ctx, &q).await? {
        let mut v = view(&state, &n);
        let t = target(&v);
        if state.allowed(&ctx, "get_network", &t) {
            state.hide_attributes(&ctx, "network", &t, &mut v);
            views.push(v);
        }
    }
    let url = format!("{}/v2.0/networks", base_url(&headers, &state));
    let (page, links) = q.apply(views, &url)?;
    let mut body = json!({ "networks": page });
    if !links.is_empty() {
        body["networks_links"] = Value::Array(links);
    }
    Ok(json(StatusCode::OK, body))
}

/// The network if the caller may see it, else 404 (never revealing that it exists).
pub async fn visible_network(
    state: &State,
    ctx: &AuthContext,
    id: &str,
) -> NeutronResult<(Network, Map<String, Value>)> {
    let mut tx = db::read(&state.db).await?;
    let n = networks::must_get(&mut tx, id).await?;
    let v = view(state, &n);
    if !state.allowed(ctx, "get_network", &target(&v)) {
        return Err(NeutronError::network_not_found(id));
    }
    Ok((n, v))
}

async fn show(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> NeutronResult<Response> {
    let q = ListQuery::parse(raw.as_deref())?;
    let (_, mut v) = visible_network(&state, &ctx, &id).await?;
    let t = target(&v);
    state.hide_attributes(&ctx, "network", &t, &mut v);
    q.select_fields(&mut v);
    Ok(json(StatusCode::OK, json!({ "network": v })))
}

/// The project a new resource belongs to: the caller's, or (admins only) the one asked for.
pub fn owner(state: &State, ctx: &AuthContext, attrs: &Attrs) -> NeutronResult<String> {
    let project = attrs.string("project_id", 255)?;
    let tenant = attrs.string("tenant_id", 255)?;
    if let (Some(p), Some(t)) = (&project, &tenant) {
        if p != t {
            return Err(NeutronError::http_bad_request(
                "Both tenant_id and project_id passed as filters.",
            ));
        }
    }
    let asked = project.or(tenant);
    match (asked, &ctx.project_id) {
        (Some(p), Some(own)) if &p != own && !state.is_admin(ctx) => Err(NeutronError::http_bad_request(
            "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges",
        )),
        (Some(p), _) => Ok(p),
        (None, Some(own)) => Ok(own.clone()),
        (None, None) => Err(NeutronError::http_bad_request("Running without keystone AuthN requires that tenant_id is specified")),
    }
}

fn provider_request(attrs: &Attrs, obj: &Map<String, Value>) -> NeutronResult<SegmentRequest> {
    let sub = Attrs::new(obj.clone());
    let _ = attrs;
    Ok(SegmentRequest {
        network_type: sub.nullable_string("provider:network_type", 255)?.flatten(),
        physical_network: sub
            .nullable_string("provider:physical_network", 64)?
            .flatten(),
        segmentation_id: sub.nullable_int("provider:segmentation_id")?.flatten(),
    })
}

/// Provider segments asked for: the `provider:*` attributes or the `segments` list.
fn requested_segments(state: &State, attrs: &Attrs) -> NeutronResult<Vec<Segment>> {
    let provider_set = PROVIDER
        .iter()
        .any(|k| attrs.raw(k).is_some_and(|v| !v.is_null()));
    let segments = attrs.raw("segments").filter(|v| !v.is_null());
    match (provider_set, segments) {
        (true, Some(_)) => Err(NeutronError::invalid_input(
            "Segments and provider values cannot both be set",
        )),
        (true, None) => Ok(vec![state
            .ml2
            .validate_provider_segment(&provider_request(attrs, &attrs.map)?)?]),
        (false, Some(Value::Array(list))) => {
            let mut out: Vec<Segment> = Vec::new();
            for item in list {
                let Value::Object(obj) = item else {
                    return Err(NeutronError::invalid_input(
                        "segments must be a list of objects",
                    ));
                };
                let seg = state
                    .ml2
                    .validate_provider_segment(&provider_request(attrs, obj)?)?;
                if out.contains(&seg) {
                    return Err(NeutronError::invalid_input(
                        "Duplicate segment entry in request",
                    ));
                }
                out.push(seg);
            }
            Ok(out)
        }
        (false, Some(_)) => Err(NeutronError::invalid_input(
            "segments must be a list of objects",
        )),
        (false, None) => Ok(Vec::new()),
    }
}

fn tag_list(attrs: &Attrs) -> NeutronResult<Vec<String>> {
    let tags = attrs.string_list("tags")?.unwrap_or_default();
    for t in &tags {
        super::tags::validate_tag(t)?;
    }
    Ok(tags)
}

fn parse_create(
    state: &State,
    ctx: &AuthContext,
    map: Map<String, Value>,
) -> NeutronResult<(NetworkCreate, Vec<&'static str>)> {
    let attrs = Attrs::new(map);
    attrs.check(POST_ATTRS, READ_ONLY, true)?;
    let project_id = owner(state, ctx, &attrs)?;
    let hints = attrs
        .string_list("availability_zone_hints")?
        .unwrap_or_default();
    let known = crate::api::availability_zones::zone_names(state);
    for h in &hints {
        if !known.contains(h) {
            return Err(NeutronError::not_found(
                "AvailabilityZoneNotFound",
                format!("AvailabilityZone {h} could not be found."),
            ));
        }
    }
    let req = NetworkCreate {
        project_id,
        name: attrs.string("name", 255)?.unwrap_or_default(),
        description: attrs.string("description", 255)?.unwrap_or_default(),
        admin_state_up: attrs.bool("admin_state_up")?.unwrap_or(true),
        shared: attrs.bool("shared")?.unwrap_or(false),
        router_external: attrs.bool("router:external")?.unwrap_or(false),
        is_default: attrs.bool("is_default")?.unwrap_or(false),
        port_security_enabled: attrs.bool("port_security_enabled")?.unwrap_or(true),
        mtu: attrs.nullable_int("mtu")?.flatten(),
        availability_zone_hints: hints,
        dns_domain: attrs.string("dns_domain", 255)?.unwrap_or_default(),
        segments: requested_segments(state, &attrs)?,
        tags: tag_list(&attrs)?,
    };
    // Attribute rules apply to attributes set to something other than their default.
    let mut set = Vec::new();
    if req.shared {
        set.push("shared");
    }
    if req.router_external {
        set.push("router:external");
    }
    if req.is_default {
        set.push("is_default");
    }
    for k in PROVIDER {
        if attrs.raw(k).is_some_and(|v| !v.is_null()) {
            set.push(k);
        }
    }
    if attrs.raw("segments").is_some_and(|v| !v.is_null()) {
        set.push("segments");
    }
    if attrs.has("port_security_enabled") {
        set.push("port_security_enabled");
    }
    if !req.tags.is_empty() {
        set.push("tags");
    }
    Ok((req, set))
}

fn create_target(req: &NetworkCreate) -> Value {
    json!({"project_id": req.project_id, "tenant_id": req.project_id, "shared": req.shared, "router:external": req.router_external, "name": req.name})
}

async fn create(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    headers: HeaderMap,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let _ = headers;
    let (items, bulk) = body::resources(&bytes, "network", Some("networks"))?;
    let mut parsed = Vec::new();
    for map in items {
        let (req, set) = parse_create(&state, &ctx, map)?;
        state.authorize(&ctx, "create_network", &create_target(&req), &set)?;
        parsed.push(req);
    }
    let mut created = Vec::new();
    for req in parsed {
        let n = svc::create(&state, req).await?;
        let mut v = view(&state, &n);
        let t = target(&v);
        state.hide_attributes(&ctx, "network", &t, &mut v);
        created.push(Value::Object(v));
    }
    let body = if bulk {
        json!({ "networks": created })
    } else {
        json!({ "network": created.pop().unwrap_or(Value::Null) })
    };
    Ok(json(StatusCode::CREATED, body))
}

/// The check run on the current record of a write: visible (else 404), allowed (else 403,
/// with the attribute rules of `attrs`), and at the revision of `If-Match` (else 412).
pub fn write_check<'a>(
    state: &'a State,
    ctx: &'a AuthContext,
    action: &'a str,
    attrs: Vec<&'a str>,
    if_match: Option<i64>,
) -> impl Fn(&Network) -> NeutronResult<()> + Sync + 'a {
    move |n: &Network| {
        let t = target(&view(state, n));
        if !state.allowed(ctx, "get_network", &t) {
            return Err(NeutronError::network_not_found(&n.id));
        }
        state.authorize(ctx, action, &t, &attrs)?;
        body::check_revision(if_match, n.revision_number)?;
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
    let (mut items, _) = body::resources(&bytes, "network", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    attrs.check(PUT_ATTRS, READ_ONLY, false)?;
    let req = NetworkUpdate {
        name: attrs.string("name", 255)?,
        description: attrs.string("description", 255)?,
        admin_state_up: attrs.bool("admin_state_up")?,
        shared: attrs.bool("shared")?,
        router_external: attrs.bool("router:external")?,
        is_default: attrs.bool("is_default")?,
        port_security_enabled: attrs.bool("port_security_enabled")?,
        mtu: attrs.nullable_int("mtu")?.flatten(),
        dns_domain: attrs.string("dns_domain", 255)?,
    };
    let keys: Vec<&str> = attrs.keys();
    let check = write_check(&state, &ctx, "update_network", keys, if_match);
    let provider_change = PROVIDER.iter().any(|k| attrs.has(k)) || attrs.has("segments");
    let n = if provider_change {
        // Policy first (members get 403), then the refusal of what ML2 cannot change.
        let mut tx = db::read(&state.db).await?;
        let n = networks::must_get(&mut tx, &id).await?;
        check(&n)?;
        return Err(NeutronError::invalid_input(
            "Plugin does not support updating provider attributes",
        ));
    } else {
        svc::update(&state, &id, req, &check).await?
    };
    let mut v = view(&state, &n);
    let t = target(&v);
    state.hide_attributes(&ctx, "network", &t, &mut v);
    Ok(json(StatusCode::OK, json!({ "network": v })))
}

async fn remove(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> NeutronResult<Response> {
    let if_match = body::if_match_revision(&headers)?;
    let check = write_check(&state, &ctx, "delete_network", Vec::new(), if_match);
    svc::delete(&state, &id, &check).await?;
    Ok(axum::response::IntoResponse::into_response(
        StatusCode::NO_CONTENT,
    ))
}
