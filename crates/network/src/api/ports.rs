//! `/v2.0/ports`: list, show, create (one or bulk), update (If-Match), delete.

use super::body::{self, Attrs};
use super::networks::{owner, visible_network};
use super::query::ListQuery;
use super::{json, root::base_url, State};
use crate::db::networks::Network;
use crate::db::ports::{self, Port};
use crate::db::{self, Bind};
use crate::error::{NeutronError, NeutronResult};
use crate::ipam;
use crate::service::ports::{
    self as svc, canonical_mac, FixedIpRequest, PortCreate, PortUpdate, VNIC_TYPES,
};
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
        .route("/v2.0/ports", get(list).post(create))
        .route("/v2.0/ports/{id}", get(show).put(update).delete(remove))
}

const POST_ATTRS: &[&str] = &[
    "name",
    "description",
    "network_id",
    "admin_state_up",
    "mac_address",
    "fixed_ips",
    "device_id",
    "device_owner",
    "port_security_enabled",
    "security_groups",
    "allowed_address_pairs",
    "extra_dhcp_opts",
    "dns_name",
    "binding:host_id",
    "binding:profile",
    "binding:vnic_type",
    "tenant_id",
    "project_id",
    "tags",
];
const PUT_ATTRS: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "mac_address",
    "fixed_ips",
    "device_id",
    "device_owner",
    "port_security_enabled",
    "security_groups",
    "allowed_address_pairs",
    "extra_dhcp_opts",
    "dns_name",
    "binding:host_id",
    "binding:profile",
    "binding:vnic_type",
];
const READ_ONLY: &[&str] = &[
    "id",
    "network_id",
    "status",
    "tenant_id",
    "project_id",
    "created_at",
    "updated_at",
    "revision_number",
    "binding:vif_type",
    "binding:vif_details",
    "dns_assignment",
    "tags",
];

/// A port as Neutron shows it (before attributes hidden by policy are dropped).
pub fn view(state: &State, p: &Port) -> Map<String, Value> {
    let domain = state.config.network.dns_domain.trim_end_matches('.');
    let dns_assignment: Vec<Value> = p
        .fixed_ips
        .iter()
        .map(|(_, ip)| {
            let host = if p.dns_name.is_empty() {
                format!("host-{}", ip.replace(['.', ':'], "-"))
            } else {
                p.dns_name.clone()
            };
            json!({"hostname": host, "ip_address": ip, "fqdn": format!("{host}.{domain}.")})
        })
        .collect();
    let v = json!({
        "id": p.id,
        "name": p.name,
        "network_id": p.network_id,
        "tenant_id": p.project_id,
        "project_id": p.project_id,
        "mac_address": p.mac_address,
        "admin_state_up": p.admin_state_up,
        "status": p.status,
        "device_id": p.device_id,
        "device_owner": p.device_owner,
        "fixed_ips": p.fixed_ips.iter().map(|(s, ip)| json!({"subnet_id": s, "ip_address": ip})).collect::<Vec<_>>(),
        "allowed_address_pairs": p.allowed_address_pairs,
        "extra_dhcp_opts": p.extra_dhcp_opts,
        "security_groups": p.security_groups,
        "port_security_enabled": p.port_security_enabled,
        "binding:host_id": p.binding_host_id,
        "binding:vif_type": p.binding_vif_type,
        "binding:vif_details": p.binding_vif_details,
        "binding:vnic_type": p.binding_vnic_type,
        "binding:profile": p.binding_profile,
        "dns_name": p.dns_name,
        "dns_assignment": dns_assignment,
        "description": p.description,
        "tags": p.tags,
        "created_at": monostack_common::time::iso_seconds(p.created_at),
        "updated_at": monostack_common::time::iso_seconds(p.updated_at),
        "revision_number": p.revision_number,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn owner_prefix(device_owner: &str) -> &'static str {
    if device_owner.starts_with("network:") {
        "network:"
    } else {
        ""
    }
}

/// The policy target of a port: its attributes and its network's owner and sharing.
pub fn target(view: &Map<String, Value>, net: &Network) -> Value {
    let mut t = view.clone();
    let owner = view
        .get("device_owner")
        .and_then(Value::as_str)
        .unwrap_or("");
    t.insert("device_owner_prefix".into(), json!(owner_prefix(owner)));
    t.insert("network:project_id".into(), json!(net.project_id));
    t.insert("shared".into(), json!(net.shared));
    t.insert("router:external".into(), json!(net.router_external));
    Value::Object(t)
}

/// The port and its policy target if the caller may see it, else 404.
pub async fn visible_port(
    state: &State,
    ctx: &AuthContext,
    id: &str,
) -> NeutronResult<(Port, Value)> {
    let mut tx = db::read(&state.db).await?;
    let p = ports::must_get(&mut tx, id).await?;
    let net = crate::db::networks::must_get(&mut tx, &p.network_id).await?;
    let t = target(&view(state, &p), &net);
    if !state.allowed(ctx, "get_port", &t) {
        return Err(NeutronError::port_not_found(id));
    }
    Ok((p, t))
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
    let mut clauses: Vec<&str> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    if !state.is_admin(&ctx) {
        clauses.push(
            "(project_id = ? OR network_id IN (SELECT id FROM networks WHERE project_id = ?))",
        );
        binds.push(Bind::Text(&project));
        binds.push(Bind::Text(&project));
    }
    for key in ["network_id", "device_id", "id"] {
        if let Some(v) = q.single(key) {
            clauses.push(match key {
                "network_id" => "network_id = ?",
                "device_id" => "device_id = ?",
                _ => "id = ?",
            });
            binds.push(Bind::Text(v));
        }
    }
    let filter = clauses.join(" AND ");
    let all = ports::load(
        &mut tx,
        if filter.is_empty() {
            None
        } else {
            Some(&filter)
        },
        &binds,
    )
    .await?;
    let mut nets: std::collections::HashMap<String, Network> = std::collections::HashMap::new();
    let mut views = Vec::new();
    for p in all {
        if !nets.contains_key(&p.network_id) {
            if let Some(n) = crate::db::networks::get(&mut tx, &p.network_id).await? {
                nets.insert(n.id.clone(), n);
            }
        }
        let Some(net) = nets.get(&p.network_id) else {
            continue;
        };
        let mut v = view(&state, &p);
        let t = target(&v, net);
        if state.allowed(&ctx, "get_port", &t) {
            state.hide_attributes(&ctx, "port", &t, &mut v);
            views.push(v);
        }
    }
    let url = format!("{}/v2.0/ports", base_url(&headers, &state));
    let (page, links) = q.apply(views, &url)?;
    let mut body = json!({ "ports": page });
    if !links.is_empty() {
        body["ports_links"] = Value::Array(links);
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
    let (p, t) = visible_port(&state, &ctx, &id).await?;
    let mut v = view(&state, &p);
    state.hide_attributes(&ctx, "port", &t, &mut v);
    q.select_fields(&mut v);
    Ok(json(StatusCode::OK, json!({ "port": v })))
}

fn invalid(attr: &str, reason: impl AsRef<str>) -> NeutronError {
    NeutronError::http_bad_request(format!(
        "Invalid input for {attr}. Reason: {}.",
        reason.as_ref().trim_end_matches('.')
    ))
}

fn fixed_ips(attrs: &Attrs) -> NeutronResult<Option<Vec<FixedIpRequest>>> {
    let Some(v) = attrs.raw("fixed_ips") else {
        return Ok(None);
    };
    let Value::Array(items) = v else {
        return Err(invalid(
            "fixed_ips",
            format!("Invalid data format for fixed IP: '{}'", body::show(v)),
        ));
    };
    let mut out = Vec::new();
    for item in items {
        let Value::Object(o) = item else {
            return Err(invalid(
                "fixed_ips",
                format!("Invalid data format for fixed IP: '{}'", body::show(item)),
            ));
        };
        if let Some(k) = o.keys().find(|k| *k != "subnet_id" && *k != "ip_address") {
            return Err(invalid(
                "fixed_ips",
                format!("Unrecognized attribute '{k}' in fixed IP"),
            ));
        }
        let subnet_id = match o.get("subnet_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if body::is_uuid(s) => Some(s.to_ascii_lowercase()),
            Some(other) => {
                return Err(invalid(
                    "fixed_ips",
                    format!("'{}' is not a valid UUID", body::show(other)),
                ))
            }
        };
        let ip_address = match o.get("ip_address") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if ipam::parse_ip(s).is_some() => Some(s.clone()),
            Some(other) => {
                return Err(invalid(
                    "fixed_ips",
                    format!("'{}' is not a valid IP address", body::show(other)),
                ))
            }
        };
        if subnet_id.is_none() && ip_address.is_none() {
            return Err(NeutronError::invalid_input(
                "IP allocation requires subnet_id or ip_address",
            ));
        }
        let req = FixedIpRequest {
            subnet_id,
            ip_address,
        };
        if out.contains(&req) && req.ip_address.is_some() {
            return Err(invalid("fixed_ips", "Duplicate IP address"));
        }
        out.push(req);
    }
    Ok(Some(out))
}

fn address_pairs(state: &State, attrs: &Attrs) -> NeutronResult<Option<Value>> {
    let Some(v) = attrs.raw("allowed_address_pairs") else {
        return Ok(None);
    };
    if v.is_null() {
        return Ok(Some(json!([])));
    }
    let Value::Array(items) = v else {
        return Err(invalid(
            "allowed_address_pairs",
            format!("'{}' is not a list", body::show(v)),
        ));
    };
    let max = state.config.network.max_allowed_address_pair as usize;
    if items.len() > max {
        return Err(NeutronError::bad(
            "AllowedAddressPairExhausted",
            format!("The number of allowed address pair exceeds the maximum {max}."),
        ));
    }
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        let o = item.as_object().ok_or_else(|| {
            invalid(
                "allowed_address_pairs",
                "Allowed address pairs must be a list of dictionaries",
            )
        })?;
        if let Some(k) = o.keys().find(|k| *k != "ip_address" && *k != "mac_address") {
            return Err(invalid(
                "allowed_address_pairs",
                format!("Unrecognized attribute(s) '{k}'"),
            ));
        }
        let ip = o.get("ip_address").and_then(Value::as_str).ok_or_else(|| {
            NeutronError::bad(
                "AllowedAddressPairsMissingIP",
                "AllowedAddressPair must contain ip_address",
            )
        })?;
        let ip = match ipam::canonical_ip(ip) {
            Some(c) => c,
            None => ipam::Cidr::parse(ip)
                .map(|c| {
                    if c.prefix == if c.version == 4 { 32 } else { 128 } {
                        ipam::format_ip(c.version, c.network)
                    } else {
                        c.to_string()
                    }
                })
                .map_err(|_| {
                    invalid(
                        "allowed_address_pairs",
                        format!("'{ip}' is not a valid IP address"),
                    )
                })?,
        };
        let mac = match o.get("mac_address") {
            None | Some(Value::Null) => Value::Null,
            Some(Value::String(m)) => json!(canonical_mac(m).ok_or_else(|| invalid(
                "allowed_address_pairs",
                format!("'{m}' is not a valid MAC address")
            ))?),
            Some(other) => {
                return Err(invalid(
                    "allowed_address_pairs",
                    format!("'{}' is not a valid MAC address", body::show(other)),
                ))
            }
        };
        let pair = json!({"ip_address": ip, "mac_address": mac});
        if out.contains(&pair) {
            return Err(NeutronError::bad(
                "DuplicateAddressPairInRequest",
                format!(
                    "Request contains duplicate address pair: mac_address {} ip_address {ip}.",
                    body::show(&mac)
                ),
            ));
        }
        out.push(pair);
    }
    Ok(Some(Value::Array(out)))
}

fn dhcp_opts(attrs: &Attrs) -> NeutronResult<Option<Value>> {
    let Some(v) = attrs.raw("extra_dhcp_opts") else {
        return Ok(None);
    };
    if v.is_null() {
        return Ok(Some(json!([])));
    }
    let items = v.as_array().ok_or_else(|| {
        invalid(
            "extra_dhcp_opts",
            format!("'{}' is not a list", body::show(v)),
        )
    })?;
    let mut out = Vec::new();
    for item in items {
        let o = item
            .as_object()
            .ok_or_else(|| invalid("extra_dhcp_opts", "extra DHCP options must be dictionaries"))?;
        let name = o
            .get("opt_name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| invalid("extra_dhcp_opts", "opt_name is required"))?;
        let value = match o.get("opt_value") {
            None | Some(Value::Null) => Value::Null,
            Some(Value::String(s)) => json!(s),
            Some(other) => json!(body::show(other)),
        };
        let version = match o.get("ip_version").map(body::to_int) {
            None => 4,
            Some(Some(v @ (4 | 6))) => v,
            Some(_) => return Err(invalid("extra_dhcp_opts", "ip_version must be 4 or 6")),
        };
        out.push(json!({"opt_name": name, "opt_value": value, "ip_version": version}));
    }
    Ok(Some(Value::Array(out)))
}

fn dns_name(attrs: &Attrs) -> NeutronResult<Option<String>> {
    let Some(name) = attrs.string("dns_name", 255)? else {
        return Ok(None);
    };
    let ok = name.split('.').filter(|l| !l.is_empty()).all(|l| {
        l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    });
    if !ok {
        return Err(invalid(
            "dns_name",
            format!("'{name}' not a valid PQDN or FQDN"),
        ));
    }
    Ok(Some(name.to_ascii_lowercase()))
}

fn security_groups(attrs: &Attrs) -> NeutronResult<Option<Vec<String>>> {
    let groups = match attrs.raw("security_groups") {
        Some(Value::Null) => Some(Vec::new()),
        _ => attrs.string_list("security_groups")?,
    };
    if let Some(g) = &groups {
        for id in g {
            if !body::is_uuid(id) {
                return Err(invalid(
                    "security_groups",
                    format!("'{id}' is not a valid UUID"),
                ));
            }
        }
    }
    Ok(groups.map(|mut g| {
        g.dedup();
        g
    }))
}

fn profile(attrs: &Attrs) -> NeutronResult<Option<Value>> {
    match attrs.raw("binding:profile") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(json!({}))),
        Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
        Some(v) => Err(invalid(
            "binding:profile",
            format!("'{}' is not a dictionary", body::show(v)),
        )),
    }
}

fn vnic_type(attrs: &Attrs) -> NeutronResult<Option<String>> {
    match attrs.string("binding:vnic_type", 64)? {
        Some(t) if !VNIC_TYPES.contains(&t.as_str()) => Err(invalid(
            "binding:vnic_type",
            format!("'{t}' is not in {VNIC_TYPES:?}"),
        )),
        other => Ok(other),
    }
}

fn mac(attrs: &Attrs) -> NeutronResult<Option<String>> {
    match attrs.string("mac_address", 32)? {
        Some(m) => canonical_mac(&m)
            .map(Some)
            .ok_or_else(|| invalid("mac_address", format!("'{m}' is not a valid MAC address"))),
        None => Ok(None),
    }
}

/// The attribute rules that apply: attributes set to something other than their default,
/// with the sub-rules of fixed IPs and address pairs.
fn rules_for(attrs: &Attrs, fixed: Option<&[FixedIpRequest]>) -> Vec<&'static str> {
    let mut set = Vec::new();
    let non_empty = |k: &str| {
        attrs
            .raw(k)
            .is_some_and(|v| !v.is_null() && v != "" && v != &json!({}) && v != &json!([]))
    };
    for (k, rule) in [
        ("device_id", "device_id"),
        ("device_owner", "device_owner"),
        ("mac_address", "mac_address"),
        ("binding:host_id", "binding:host_id"),
        ("binding:profile", "binding:profile"),
        ("binding:vnic_type", "binding:vnic_type"),
        ("allowed_address_pairs", "allowed_address_pairs"),
        ("tags", "tags"),
    ] {
        if non_empty(k) {
            set.push(rule);
        }
    }
    if attrs.has("port_security_enabled") {
        set.push("port_security_enabled");
    }
    if let Some(list) = fixed {
        set.push("fixed_ips");
        if list.iter().any(|f| f.ip_address.is_some()) {
            set.push("fixed_ips:ip_address");
        }
        if list.iter().any(|f| f.subnet_id.is_some()) {
            set.push("fixed_ips:subnet_id");
        }
    }
    if non_empty("allowed_address_pairs") {
        set.push("allowed_address_pairs:ip_address");
        if attrs
            .raw("allowed_address_pairs")
            .and_then(Value::as_array)
            .is_some_and(|a| {
                a.iter()
                    .any(|p| p.get("mac_address").is_some_and(|m| !m.is_null()))
            })
        {
            set.push("allowed_address_pairs:mac_address");
        }
    }
    set
}

async fn parse_create(
    state: &State,
    ctx: &AuthContext,
    map: Map<String, Value>,
) -> NeutronResult<(PortCreate, Value, Vec<&'static str>)> {
    let attrs = Attrs::new(map);
    attrs.check(POST_ATTRS, READ_ONLY, true)?;
    let network_id = attrs.uuid("network_id")?.ok_or_else(|| {
        NeutronError::http_bad_request(
            "Failed to parse request. Required attribute 'network_id' not specified",
        )
    })?;
    let project_id = owner(state, ctx, &attrs)?;
    let fixed = fixed_ips(&attrs)?;
    let tags = attrs.string_list("tags")?.unwrap_or_default();
    for t in &tags {
        super::tags::validate_tag(t)?;
    }
    let req = PortCreate {
        project_id,
        network_id: network_id.clone(),
        name: attrs.string("name", 255)?.unwrap_or_default(),
        description: attrs.string("description", 255)?.unwrap_or_default(),
        mac_address: mac(&attrs)?,
        admin_state_up: attrs.bool("admin_state_up")?.unwrap_or(true),
        device_id: attrs.string("device_id", 255)?.unwrap_or_default(),
        device_owner: attrs.string("device_owner", 255)?.unwrap_or_default(),
        port_security_enabled: attrs.bool("port_security_enabled")?,
        dns_name: dns_name(&attrs)?.unwrap_or_default(),
        binding_host_id: attrs.string("binding:host_id", 255)?.unwrap_or_default(),
        binding_vnic_type: vnic_type(&attrs)?.unwrap_or_else(|| "normal".into()),
        binding_profile: profile(&attrs)?.unwrap_or_else(|| json!({})),
        allowed_address_pairs: address_pairs(state, &attrs)?.unwrap_or_else(|| json!([])),
        extra_dhcp_opts: dhcp_opts(&attrs)?.unwrap_or_else(|| json!([])),
        security_groups: security_groups(&attrs)?,
        fixed_ips: fixed.clone(),
        tags,
    };
    let (net, _) = visible_network(state, ctx, &network_id).await?;
    let set = rules_for(&attrs, fixed.as_deref());
    let t = json!({
        "project_id": req.project_id, "tenant_id": req.project_id, "network_id": network_id,
        "device_owner": req.device_owner, "device_owner_prefix": owner_prefix(&req.device_owner),
        "network:project_id": net.project_id, "shared": net.shared, "router:external": net.router_external,
    });
    Ok((req, t, set))
}

async fn create(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let (items, bulk) = body::resources(&bytes, "port", Some("ports"))?;
    let mut parsed = Vec::new();
    for map in items {
        let (req, t, set) = parse_create(&state, &ctx, map).await?;
        state.authorize(&ctx, "create_port", &t, &set)?;
        parsed.push((req, t));
    }
    let mut created = Vec::new();
    for (req, t) in parsed {
        let p = svc::create(&state, req).await?;
        let mut v = view(&state, &p);
        state.hide_attributes(&ctx, "port", &t, &mut v);
        created.push(Value::Object(v));
    }
    let body = if bulk {
        json!({ "ports": created })
    } else {
        json!({ "port": created.pop().unwrap_or(Value::Null) })
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
) -> impl Fn(&Port) -> NeutronResult<()> + Sync + 'a {
    move |p: &Port| {
        let t = target(&view(state, p), net);
        if !state.allowed(ctx, "get_port", &t) {
            return Err(NeutronError::port_not_found(&p.id));
        }
        state.authorize(ctx, action, &t, &attrs)?;
        body::check_revision(if_match, p.revision_number)?;
        Ok(())
    }
}

async fn network_of(state: &State, id: &str) -> NeutronResult<Network> {
    let mut tx = db::read(&state.db).await?;
    let p = ports::must_get(&mut tx, id).await?;
    crate::db::networks::must_get(&mut tx, &p.network_id).await
}

async fn update(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let if_match = body::if_match_revision(&headers)?;
    let (mut items, _) = body::resources(&bytes, "port", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    attrs.check(PUT_ATTRS, READ_ONLY, false)?;
    let fixed = fixed_ips(&attrs)?;
    let req = PortUpdate {
        name: attrs.string("name", 255)?,
        description: attrs.string("description", 255)?,
        mac_address: mac(&attrs)?,
        admin_state_up: attrs.bool("admin_state_up")?,
        device_id: attrs.string("device_id", 255)?,
        device_owner: attrs.string("device_owner", 255)?,
        port_security_enabled: attrs.bool("port_security_enabled")?,
        dns_name: dns_name(&attrs)?,
        binding_host_id: attrs
            .nullable_string("binding:host_id", 255)?
            .map(Option::unwrap_or_default),
        binding_vnic_type: vnic_type(&attrs)?,
        binding_profile: profile(&attrs)?,
        allowed_address_pairs: address_pairs(&state, &attrs)?,
        extra_dhcp_opts: dhcp_opts(&attrs)?,
        security_groups: security_groups(&attrs)?,
        fixed_ips: fixed.clone(),
    };
    let net = network_of(&state, &id).await?;
    let mut rules = rules_for(&attrs, fixed.as_deref());
    for k in [
        "name",
        "description",
        "admin_state_up",
        "dns_name",
        "security_groups",
        "extra_dhcp_opts",
    ] {
        if attrs.has(k) {
            rules.push(k);
        }
    }
    if attrs.has("binding:host_id") && !rules.contains(&"binding:host_id") {
        rules.push("binding:host_id");
    }
    let check = write_check(&state, &ctx, "update_port", rules, if_match, &net);
    let p = svc::update(&state, &id, req, &check).await?;
    let mut v = view(&state, &p);
    state.hide_attributes(&ctx, "port", &target(&v, &net), &mut v);
    Ok(json(StatusCode::OK, json!({ "port": v })))
}

async fn remove(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> NeutronResult<Response> {
    let if_match = body::if_match_revision(&headers)?;
    let net = network_of(&state, &id).await?;
    let check = write_check(&state, &ctx, "delete_port", Vec::new(), if_match, &net);
    svc::delete(&state, &id, &check).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
