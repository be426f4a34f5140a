//! `/v2.0/subnets`: list, show, create (one or bulk), update (If-Match), delete.

use super::body::{self, Attrs};
use super::networks::{owner, visible_network};
use super::query::ListQuery;
use super::{json, root::base_url, State};
use crate::db::networks::Network;
use crate::db::subnets::{self, Subnet};
use crate::db::{self, Bind};
use crate::error::{NeutronError, NeutronResult};
use crate::ipam::Cidr;
use crate::service::subnets::{self as svc, Gateway, SubnetCreate, SubnetUpdate};
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
        .route("/v2.0/subnets", get(list).post(create))
        .route("/v2.0/subnets/{id}", get(show).put(update).delete(remove))
}

const POST_ATTRS: &[&str] = &[
    "name",
    "description",
    "network_id",
    "ip_version",
    "cidr",
    "gateway_ip",
    "allocation_pools",
    "dns_nameservers",
    "host_routes",
    "enable_dhcp",
    "ipv6_ra_mode",
    "ipv6_address_mode",
    "subnetpool_id",
    "use_default_subnetpool",
    "prefixlen",
    "segment_id",
    "service_types",
    "dns_publish_fixed_ip",
    "tenant_id",
    "project_id",
    "tags",
];
const PUT_ATTRS: &[&str] = &[
    "name",
    "description",
    "gateway_ip",
    "allocation_pools",
    "dns_nameservers",
    "host_routes",
    "enable_dhcp",
    "service_types",
    "dns_publish_fixed_ip",
    "segment_id",
];
const READ_ONLY: &[&str] = &[
    "id",
    "network_id",
    "ip_version",
    "cidr",
    "ipv6_ra_mode",
    "ipv6_address_mode",
    "subnetpool_id",
    "tenant_id",
    "project_id",
    "created_at",
    "updated_at",
    "revision_number",
    "tags",
    "router:external",
];

/// A subnet as Neutron shows it; the handlers add `router:external`, its network's flag
/// (the subnet-external-network extension), where they hold the network.
pub fn view(s: &Subnet) -> Map<String, Value> {
    let v = json!({
        "id": s.id,
        "name": s.name,
        "network_id": s.network_id,
        "tenant_id": s.project_id,
        "project_id": s.project_id,
        "ip_version": s.ip_version,
        "cidr": s.cidr,
        "gateway_ip": s.gateway_ip,
        "allocation_pools": s.allocation_pools.iter().map(|(a, b)| json!({"start": a, "end": b})).collect::<Vec<_>>(),
        "dns_nameservers": s.dns_nameservers,
        "host_routes": s.host_routes.iter().map(|(d, n)| json!({"destination": d, "nexthop": n})).collect::<Vec<_>>(),
        "enable_dhcp": s.enable_dhcp,
        "ipv6_ra_mode": s.ipv6_ra_mode,
        "ipv6_address_mode": s.ipv6_address_mode,
        "subnetpool_id": s.subnetpool_id,
        "segment_id": null,
        "service_types": s.service_types,
        "dns_publish_fixed_ip": s.dns_publish_fixed_ip,
        "description": s.description,
        "tags": s.tags,
        "created_at": monostack_common::time::iso_seconds(s.created_at),
        "updated_at": monostack_common::time::iso_seconds(s.updated_at),
        "revision_number": s.revision_number,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The policy target of a subnet: its attributes and its network's owner and sharing.
pub fn target(view: &Map<String, Value>, net: &Network) -> Value {
    let mut t = view.clone();
    t.insert("network:project_id".into(), json!(net.project_id));
    t.insert("shared".into(), json!(net.shared));
    t.insert("router:external".into(), json!(net.router_external));
    Value::Object(t)
}

/// The subnet and its policy target if the caller may see it, else 404.
pub async fn visible_subnet(
    state: &State,
    ctx: &AuthContext,
    id: &str,
) -> NeutronResult<(Subnet, Value)> {
    let mut tx = db::read(&state.db).await?;
    let s = subnets::must_get(&mut tx, id).await?;
    let net = crate::db::networks::must_get(&mut tx, &s.network_id).await?;
    let t = target(&view(&s), &net);
    if !state.allowed(ctx, "get_subnet", &t) {
        return Err(NeutronError::subnet_not_found(id));
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
    let all = match (state.is_admin(&ctx), q.single("network_id")) {
        (true, Some(n)) => subnets::load(&mut tx, Some("network_id = ?"), &[Bind::Text(n)]).await?,
        (true, None) => subnets::load(&mut tx, None, &[]).await?,
        (false, _) => {
            subnets::load(
                &mut tx,
                Some("project_id = ? OR network_id IN (SELECT id FROM networks WHERE project_id = ? OR shared = 1 OR router_external = 1)"),
                &[Bind::Text(&project), Bind::Text(&project)],
            )
            .await?
        }
    };
    let mut nets: std::collections::HashMap<String, Network> = std::collections::HashMap::new();
    let mut views = Vec::new();
    for s in all {
        if !nets.contains_key(&s.network_id) {
            if let Some(n) = crate::db::networks::get(&mut tx, &s.network_id).await? {
                nets.insert(n.id.clone(), n);
            }
        }
        let Some(net) = nets.get(&s.network_id) else {
            continue;
        };
        let mut v = view(&s);
        v.insert("router:external".into(), json!(net.router_external));
        let t = target(&v, net);
        if state.allowed(&ctx, "get_subnet", &t) {
            state.hide_attributes(&ctx, "subnet", &t, &mut v);
            views.push(v);
        }
    }
    let url = format!("{}/v2.0/subnets", base_url(&headers, &state));
    let (page, links) = q.apply(views, &url)?;
    let mut body = json!({ "subnets": page });
    if !links.is_empty() {
        body["subnets_links"] = Value::Array(links);
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
    let (s, t) = visible_subnet(&state, &ctx, &id).await?;
    let mut v = view(&s);
    v.insert("router:external".into(), t["router:external"].clone());
    state.hide_attributes(&ctx, "subnet", &t, &mut v);
    q.select_fields(&mut v);
    Ok(json(StatusCode::OK, json!({ "subnet": v })))
}

fn required<T>(v: Option<T>, name: &str) -> NeutronResult<T> {
    v.ok_or_else(|| {
        NeutronError::http_bad_request(format!(
            "Failed to parse request. Required attribute '{name}' not specified"
        ))
    })
}

/// `[{"a": …, "b": …}]` as pairs of strings.
pub fn pairs(
    attrs: &Attrs,
    key: &str,
    a: &str,
    b: &str,
) -> NeutronResult<Option<Vec<(String, String)>>> {
    let Some(v) = attrs.raw(key) else {
        return Ok(None);
    };
    if v.is_null() {
        return Ok(Some(Vec::new()));
    }
    let bad = || {
        NeutronError::http_bad_request(format!(
            "Invalid input for {key}. Reason: Invalid data format for {key}: '{}'.",
            body::show(v)
        ))
    };
    let items = v.as_array().ok_or_else(bad)?;
    items
        .iter()
        .map(|i| {
            let o = i.as_object().ok_or_else(bad)?;
            let x = o.get(a).and_then(Value::as_str).ok_or_else(bad)?;
            let y = o.get(b).and_then(Value::as_str).ok_or_else(bad)?;
            Ok((x.to_string(), y.to_string()))
        })
        .collect::<NeutronResult<Vec<_>>>()
        .map(Some)
}

fn gateway(attrs: &Attrs) -> NeutronResult<Option<Gateway>> {
    Ok(match attrs.nullable_string("gateway_ip", 64)? {
        None => None,
        Some(None) => Some(Gateway::NoGateway),
        Some(Some(ip)) => Some(Gateway::Ip(ip)),
    })
}

async fn parse_create(
    state: &State,
    ctx: &AuthContext,
    map: Map<String, Value>,
) -> NeutronResult<(SubnetCreate, Value, Vec<&'static str>)> {
    let attrs = Attrs::new(map);
    attrs.check(POST_ATTRS, READ_ONLY, true)?;
    let network_id = required(attrs.uuid("network_id")?, "network_id")?;
    let ip_version = match attrs.nullable_int("ip_version")? {
        None => {
            return Err(NeutronError::http_bad_request(
                "Failed to parse request. Required attribute 'ip_version' not specified",
            ))
        }
        Some(Some(v @ (4 | 6))) => v,
        Some(other) => {
            let shown = other
                .map(|v| v.to_string())
                .unwrap_or_else(|| "None".into());
            return Err(NeutronError::http_bad_request(format!(
                "Invalid input for ip_version. Reason: {shown} is not in [4, 6]."
            )));
        }
    };
    let pool_id = match attrs.raw("subnetpool_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if body::is_uuid(p) => Some(p.to_ascii_lowercase()),
        Some(v) => return Err(crate::service::subnetpools::not_found(&body::show(v))),
    };
    let use_default = attrs.bool("use_default_subnetpool")?.unwrap_or(false);
    if pool_id.is_some() && use_default {
        return Err(NeutronError::bad_request(
            "subnets",
            "subnetpool_id and use_default_subnetpool cannot both be specified",
        ));
    }
    let prefixlen = match attrs.nullable_int("prefixlen")?.flatten() {
        None => None,
        Some(n) => Some(u8::try_from(n).ok().filter(|n| *n <= 128).ok_or_else(|| {
            NeutronError::http_bad_request(format!(
                "Invalid input for prefixlen. Reason: '{n}' is not a valid prefix length."
            ))
        })?),
    };
    let cidr = match attrs.nullable_string("cidr", 64)?.flatten() {
        Some(text) => {
            let c = Cidr::parse(&text).map_err(|reason| {
                NeutronError::http_bad_request(format!("Invalid input for cidr. Reason: {reason}."))
            })?;
            if c.prefix == 0 {
                return Err(NeutronError::invalid_input(
                    "0 is not allowed as CIDR prefix length",
                ));
            }
            Some(c)
        }
        None => None,
    };
    if cidr.is_some() && prefixlen.is_some() {
        return Err(NeutronError::bad_request(
            "subnets",
            "cidr and prefixlen must not be supplied together",
        ));
    }
    let pool = match (pool_id, use_default) {
        (Some(id), _) => Some(
            super::subnetpools::visible_pool(state, ctx, &id)
                .await?
                .0
                .id,
        ),
        (None, true) => {
            let mut tx = crate::db::read(&state.db).await?;
            let found = crate::service::subnetpools::load(
                &mut tx,
                Some("is_default = 1 AND ip_version = ?"),
                &[Bind::Int(ip_version)],
            )
            .await?;
            Some(found.into_iter().next().map(|p| p.id).ok_or_else(|| {
                NeutronError::bad_request(
                    "subnets",
                    format!("No default subnetpool found for IPv{ip_version}"),
                )
            })?)
        }
        (None, false) => None,
    };
    if pool.is_none() && cidr.is_none() {
        return Err(NeutronError::bad_request(
            "subnets",
            if prefixlen.is_some() {
                "a subnetpool must be specified in the absence of a cidr"
            } else {
                "A cidr must be specified in the absence of a subnet pool"
            },
        ));
    }
    let mode = |key: &str| -> NeutronResult<Option<String>> {
        Ok(attrs.nullable_string(key, 16)?.flatten())
    };
    let project_id = owner(state, ctx, &attrs)?;
    let tags = attrs.string_list("tags")?.unwrap_or_default();
    for t in &tags {
        super::tags::validate_tag(t)?;
    }
    let req = SubnetCreate {
        project_id,
        network_id: network_id.clone(),
        name: attrs.string("name", 255)?.unwrap_or_default(),
        description: attrs.string("description", 255)?.unwrap_or_default(),
        ip_version,
        cidr,
        subnetpool: pool.map(|p| (p, prefixlen)),
        gateway: gateway(&attrs)?.unwrap_or(Gateway::Default),
        allocation_pools: pairs(&attrs, "allocation_pools", "start", "end")?.filter(|p| {
            !p.is_empty() || attrs.raw("allocation_pools").is_some_and(|v| !v.is_null())
        }),
        dns_nameservers: attrs.string_list("dns_nameservers")?.unwrap_or_default(),
        host_routes: pairs(&attrs, "host_routes", "destination", "nexthop")?.unwrap_or_default(),
        enable_dhcp: attrs.bool("enable_dhcp")?.unwrap_or(true),
        ipv6_ra_mode: mode("ipv6_ra_mode")?,
        ipv6_address_mode: mode("ipv6_address_mode")?,
        service_types: attrs.string_list("service_types")?.unwrap_or_default(),
        dns_publish_fixed_ip: attrs.bool("dns_publish_fixed_ip")?.unwrap_or(false),
        tags,
    };
    let (net, _) = visible_network(state, ctx, &network_id).await?;
    let mut set = Vec::new();
    if attrs.raw("segment_id").is_some_and(|v| !v.is_null()) {
        set.push("segment_id");
    }
    if !req.service_types.is_empty() {
        set.push("service_types");
    }
    if !req.tags.is_empty() {
        set.push("tags");
    }
    let t = json!({"project_id": req.project_id, "tenant_id": req.project_id, "network_id": network_id, "network:project_id": net.project_id, "shared": net.shared, "router:external": net.router_external});
    Ok((req, t, set))
}

async fn create(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let (items, bulk) = body::resources(&bytes, "subnet", Some("subnets"))?;
    let mut parsed = Vec::new();
    for map in items {
        let (req, t, set) = parse_create(&state, &ctx, map).await?;
        state.authorize(&ctx, "create_subnet", &t, &set)?;
        parsed.push((req, t));
    }
    let mut created = Vec::new();
    for (req, t) in parsed {
        let s = svc::create(&state, req).await?;
        let mut v = view(&s);
        v.insert("router:external".into(), t["router:external"].clone());
        state.hide_attributes(&ctx, "subnet", &t, &mut v);
        created.push(Value::Object(v));
    }
    let body = if bulk {
        json!({ "subnets": created })
    } else {
        json!({ "subnet": created.pop().unwrap_or(Value::Null) })
    };
    Ok(json(StatusCode::CREATED, body))
}

/// Visible (404), allowed with `attrs`' rules (403), at the `If-Match` revision (412).
fn write_check<'a>(
    state: &'a State,
    ctx: &'a AuthContext,
    action: &'a str,
    attrs: Vec<&'a str>,
    if_match: Option<i64>,
    net: &'a Network,
) -> impl Fn(&Subnet) -> NeutronResult<()> + Sync + 'a {
    move |s: &Subnet| {
        let t = target(&view(s), net);
        if !state.allowed(ctx, "get_subnet", &t) {
            return Err(NeutronError::subnet_not_found(&s.id));
        }
        state.authorize(ctx, action, &t, &attrs)?;
        body::check_revision(if_match, s.revision_number)?;
        Ok(())
    }
}

async fn network_of(state: &State, id: &str) -> NeutronResult<Network> {
    let mut tx = db::read(&state.db).await?;
    let s = subnets::must_get(&mut tx, id).await?;
    crate::db::networks::must_get(&mut tx, &s.network_id).await
}

async fn update(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let if_match = body::if_match_revision(&headers)?;
    let (mut items, _) = body::resources(&bytes, "subnet", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    attrs.check(PUT_ATTRS, READ_ONLY, false)?;
    let req = SubnetUpdate {
        name: attrs.string("name", 255)?,
        description: attrs.string("description", 255)?,
        gateway: gateway(&attrs)?,
        allocation_pools: pairs(&attrs, "allocation_pools", "start", "end")?,
        dns_nameservers: match attrs.raw("dns_nameservers") {
            Some(Value::Null) => Some(Vec::new()),
            _ => attrs.string_list("dns_nameservers")?,
        },
        host_routes: pairs(&attrs, "host_routes", "destination", "nexthop")?,
        enable_dhcp: attrs.bool("enable_dhcp")?,
        service_types: attrs.string_list("service_types")?,
        dns_publish_fixed_ip: attrs.bool("dns_publish_fixed_ip")?,
    };
    let net = network_of(&state, &id).await?;
    let check = write_check(&state, &ctx, "update_subnet", attrs.keys(), if_match, &net);
    let s = svc::update(&state, &id, req, &check).await?;
    let mut v = view(&s);
    v.insert("router:external".into(), json!(net.router_external));
    state.hide_attributes(&ctx, "subnet", &target(&v, &net), &mut v);
    Ok(json(StatusCode::OK, json!({ "subnet": v })))
}

async fn remove(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> NeutronResult<Response> {
    let if_match = body::if_match_revision(&headers)?;
    let net = network_of(&state, &id).await?;
    let check = write_check(&state, &ctx, "delete_subnet", Vec::new(), if_match, &net);
    svc::delete(&state, &id, &check).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
