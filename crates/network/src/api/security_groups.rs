//! `/v2.0/security-groups` and `/v2.0/security-group-rules`.

use super::body::{self, Attrs};
use super::networks::owner;
use super::query::ListQuery;
use super::{json, root::base_url, State};
use crate::db::security_groups::{self as sgdb, Rule, SecurityGroup};
use crate::db::{self, Bind};
use crate::error::{NeutronError, NeutronResult};
use crate::service::security_groups::{self as svc, convert_protocol, normalized_cidr, RuleSpec};
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
        .route("/v2.0/security-groups", get(list).post(create))
        .route(
            "/v2.0/security-groups/{id}",
            get(show).put(update).delete(remove),
        )
        .route(
            "/v2.0/security-group-rules",
            get(list_rules).post(create_rule),
        )
        .route(
            "/v2.0/security-group-rules/{id}",
            get(show_rule).delete(remove_rule),
        )
}

pub fn rule_view(r: &Rule, default_group: bool) -> Map<String, Value> {
    let v = json!({
        "id": r.id,
        "tenant_id": r.project_id,
        "project_id": r.project_id,
        "security_group_id": r.security_group_id,
        "direction": r.direction,
        "ethertype": r.ethertype,
        "protocol": r.protocol,
        "port_range_min": r.port_range_min,
        "port_range_max": r.port_range_max,
        "remote_ip_prefix": r.remote_ip_prefix,
        "normalized_cidr": r.remote_ip_prefix.as_deref().and_then(normalized_cidr),
        "remote_group_id": r.remote_group_id,
        "remote_address_group_id": null,
        "belongs_to_default_sg": default_group,
        "description": r.description,
        "created_at": monostack_common::time::iso_seconds(r.created_at),
        "updated_at": monostack_common::time::iso_seconds(r.updated_at),
        "revision_number": r.revision_number,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub fn view(g: &SecurityGroup) -> Map<String, Value> {
    let v = json!({
        "id": g.id,
        "name": g.name,
        "description": g.description,
        "tenant_id": g.project_id,
        "project_id": g.project_id,
        "stateful": g.stateful,
        "shared": false,
        "security_group_rules": g.rules.iter().map(|r| Value::Object(rule_view(r, g.is_default))).collect::<Vec<_>>(),
        "tags": g.tags,
        "created_at": monostack_common::time::iso_seconds(g.created_at),
        "updated_at": monostack_common::time::iso_seconds(g.updated_at),
        "revision_number": g.revision_number,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn group_target(g: &SecurityGroup) -> Value {
    json!({"id": g.id, "project_id": g.project_id, "tenant_id": g.project_id, "shared": false, "name": g.name})
}

/// The group and its policy target if the caller may see it, else 404.
pub async fn visible_group(
    state: &State,
    ctx: &AuthContext,
    id: &str,
) -> NeutronResult<(SecurityGroup, Value)> {
    let mut tx = db::read(&state.db).await?;
    let g = sgdb::must_get(&mut tx, id).await?;
    let t = group_target(&g);
    if !state.allowed(ctx, "get_security_group", &t) {
        return Err(sgdb::not_found(id));
    }
    Ok((g, t))
}

async fn list(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> NeutronResult<Response> {
    let q = ListQuery::parse(raw.as_deref())?;
    if let Some(p) = &ctx.project_id {
        svc::ensure_default_now(&state, p).await?;
    }
    let mut tx = db::read(&state.db).await?;
    let project = ctx.project_id.clone().unwrap_or_default();
    let groups = if state.is_admin(&ctx) {
        sgdb::load(&mut tx, None, &[]).await?
    } else {
        sgdb::load(&mut tx, Some("project_id = ?"), &[Bind::Text(&project)]).await?
    };
    let views: Vec<_> = groups
        .iter()
        .filter(|g| state.allowed(&ctx, "get_security_group", &group_target(g)))
        .map(view)
        .collect();
    let url = format!("{}/v2.0/security-groups", base_url(&headers, &state));
    let (page, links) = q.apply(views, &url)?;
    let mut body = json!({ "security_groups": page });
    if !links.is_empty() {
        body["security_groups_links"] = Value::Array(links);
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
    let (g, _) = visible_group(&state, &ctx, &id).await?;
    let mut v = view(&g);
    q.select_fields(&mut v);
    Ok(json(StatusCode::OK, json!({ "security_group": v })))
}

fn name_not_default(name: &Option<String>) -> NeutronResult<()> {
    if name
        .as_deref()
        .is_some_and(|n| n.eq_ignore_ascii_case("default"))
    {
        return Err(NeutronError::conflict(
            "SecurityGroupDefaultAlreadyExists",
            "Default security group already exists.",
        ));
    }
    Ok(())
}

async fn create(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let (items, bulk) = body::resources(&bytes, "security_group", Some("security_groups"))?;
    let mut created = Vec::new();
    for map in items {
        let attrs = Attrs::new(map);
        attrs.check(
            &[
                "name",
                "description",
                "stateful",
                "tenant_id",
                "project_id",
                "tags",
            ],
            &[
                "id",
                "security_group_rules",
                "shared",
                "created_at",
                "updated_at",
                "revision_number",
            ],
            true,
        )?;
        let project = owner(&state, &ctx, &attrs)?;
        let name = attrs.string("name", 255)?;
        name_not_default(&name)?;
        let tags = attrs.string_list("tags")?.unwrap_or_default();
        for t in &tags {
            super::tags::validate_tag(t)?;
        }
        let t = json!({"project_id": project, "tenant_id": project});
        state.authorize(
            &ctx,
            "create_security_group",
            &t,
            if tags.is_empty() { &[] } else { &["tags"] },
        )?;
        let g = svc::create(
            &state,
            &project,
            &name.unwrap_or_default(),
            &attrs.string("description", 255)?.unwrap_or_default(),
            attrs.bool("stateful")?.unwrap_or(true),
            &tags,
        )
        .await?;
        created.push(Value::Object(view(&g)));
    }
    let body = if bulk {
        json!({ "security_groups": created })
    } else {
        json!({ "security_group": created.pop().unwrap_or(Value::Null) })
    };
    Ok(json(StatusCode::CREATED, body))
}

fn group_check<'a>(
    state: &'a State,
    ctx: &'a AuthContext,
    action: &'a str,
    if_match: Option<i64>,
) -> impl Fn(&SecurityGroup) -> NeutronResult<()> + Sync + 'a {
    move |g: &SecurityGroup| {
        let t = group_target(g);
        if !state.allowed(ctx, "get_security_group", &t) {
            return Err(sgdb::not_found(&g.id));
        }
        state.authorize(ctx, action, &t, &[])?;
        body::check_revision(if_match, g.revision_number)?;
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
    let (mut items, _) = body::resources(&bytes, "security_group", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    attrs.check(
        &["name", "description", "stateful"],
        &[
            "id",
            "tenant_id",
            "project_id",
            "security_group_rules",
            "shared",
            "created_at",
            "updated_at",
            "revision_number",
            "tags",
        ],
        false,
    )?;
    let name = attrs.string("name", 255)?;
    // Neutron's name_not_default validator runs on updates too: no group becomes "default".
    name_not_default(&name)?;
    let check = group_check(&state, &ctx, "update_security_group", if_match);
    let g = svc::update(
        &state,
        &id,
        name,
        attrs.string("description", 255)?,
        attrs.bool("stateful")?,
        &check,
    )
    .await?;
    Ok(json(StatusCode::OK, json!({ "security_group": view(&g) })))
}

async fn remove(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> NeutronResult<Response> {
    let if_match = body::if_match_revision(&headers)?;
    let check = group_check(&state, &ctx, "delete_security_group", if_match);
    svc::delete(&state, &id, state.is_admin(&ctx), &check).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn rule_target(r_project: &str, group: &SecurityGroup) -> Value {
    json!({"project_id": r_project, "tenant_id": r_project, "security_group_id": group.id, "security_group:project_id": group.project_id})
}

async fn visible_rule(
    state: &State,
    ctx: &AuthContext,
    id: &str,
) -> NeutronResult<(Rule, SecurityGroup)> {
    let mut tx = db::read(&state.db).await?;
    let r = sgdb::must_get_rule(&mut tx, id).await?;
    let g = sgdb::must_get(&mut tx, &r.security_group_id).await?;
    if !state.allowed(
        ctx,
        "get_security_group_rule",
        &rule_target(&r.project_id, &g),
    ) {
        return Err(NeutronError::not_found(
            "SecurityGroupRuleNotFound",
            format!("Security group rule {id} does not exist"),
        ));
    }
    Ok((r, g))
}

async fn list_rules(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> NeutronResult<Response> {
    let q = ListQuery::parse(raw.as_deref())?;
    if let Some(p) = &ctx.project_id {
        svc::ensure_default_now(&state, p).await?;
    }
    let mut tx = db::read(&state.db).await?;
    let project = ctx.project_id.clone().unwrap_or_default();
    let groups = if state.is_admin(&ctx) {
        sgdb::load(&mut tx, None, &[]).await?
    } else {
        sgdb::load(&mut tx, Some("project_id = ? OR id IN (SELECT security_group_id FROM security_group_rules WHERE project_id = ?)"), &[Bind::Text(&project), Bind::Text(&project)]).await?
    };
    let mut views = Vec::new();
    for g in &groups {
        for r in &g.rules {
            if state.allowed(
                &ctx,
                "get_security_group_rule",
                &rule_target(&r.project_id, g),
            ) {
                views.push(rule_view(r, g.is_default));
            }
        }
    }
    let url = format!("{}/v2.0/security-group-rules", base_url(&headers, &state));
    let (page, links) = q.apply(views, &url)?;
    let mut body = json!({ "security_group_rules": page });
    if !links.is_empty() {
        body["security_group_rules_links"] = Value::Array(links);
    }
    Ok(json(StatusCode::OK, body))
}

async fn show_rule(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> NeutronResult<Response> {
    let q = ListQuery::parse(raw.as_deref())?;
    let (r, g) = visible_rule(&state, &ctx, &id).await?;
    let mut v = rule_view(&r, g.is_default);
    q.select_fields(&mut v);
    Ok(json(StatusCode::OK, json!({ "security_group_rule": v })))
}

fn port_value(attrs: &Attrs, key: &str) -> NeutronResult<Option<i64>> {
    match attrs.raw(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match body::to_int(v) {
            Some(n) if (0..=65535).contains(&n) => Ok(Some(n)),
            _ => Err(NeutronError::invalid_input(format!(
                "Invalid value for port {}",
                body::show(v)
            ))),
        },
    }
}

async fn create_rule(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    bytes: Bytes,
) -> NeutronResult<Response> {
    let (items, bulk) =
        body::resources(&bytes, "security_group_rule", Some("security_group_rules"))?;
    let mut specs = Vec::new();
    for map in items {
        let attrs = Attrs::new(map);
        attrs.check(
            &[
                "security_group_id",
                "direction",
                "ethertype",
                "protocol",
                "port_range_min",
                "port_range_max",
                "remote_ip_prefix",
                "remote_group_id",
                "remote_address_group_id",
                "description",
                "tenant_id",
                "project_id",
            ],
            &[
                "id",
                "normalized_cidr",
                "belongs_to_default_sg",
                "created_at",
                "updated_at",
                "revision_number",
            ],
            true,
        )?;
        let group_id = attrs.uuid("security_group_id")?.ok_or_else(|| {
            NeutronError::http_bad_request(
                "Failed to parse request. Required attribute 'security_group_id' not specified",
            )
        })?;
        let direction = match attrs.string("direction", 16)?.as_deref() {
            Some(d @ ("ingress" | "egress")) => d.to_string(),
            Some(d) => {
                return Err(NeutronError::http_bad_request(format!(
                    "Invalid input for direction. Reason: '{d}' is not in ['ingress', 'egress']."
                )))
            }
            None => {
                return Err(NeutronError::http_bad_request(
                    "Failed to parse request. Required attribute 'direction' not specified",
                ))
            }
        };
        let ethertype = match attrs.raw("ethertype") {
            None | Some(Value::Null) => "IPv4".to_string(),
            Some(Value::String(e)) if e.eq_ignore_ascii_case("ipv4") => "IPv4".into(),
            Some(Value::String(e)) if e.eq_ignore_ascii_case("ipv6") => "IPv6".into(),
            Some(v) => {
                return Err(NeutronError::invalid_input(format!("Security group rule for ethertype '{}' not supported. Allowed values are ['IPv4', 'IPv6']", body::show(v))));
            }
        };
        let protocol = match attrs.raw("protocol") {
            None | Some(Value::Null) => None,
            Some(v) => convert_protocol(&body::show(v))?,
        };
        if attrs
            .raw("remote_address_group_id")
            .is_some_and(|v| !v.is_null())
        {
            return Err(NeutronError::not_found(
                "AddressGroupNotFound",
                "Address groups are not supported by this cloud",
            ));
        }
        let remote_ip_prefix = match attrs.nullable_string("remote_ip_prefix", 64)?.flatten() {
            Some(p) => Some(normalized_cidr(&p).map(|_| p.clone()).ok_or_else(|| {
                NeutronError::bad(
                    "InvalidCIDR",
                    format!("Invalid CIDR {p} given as IP prefix."),
                )
            })?),
            None => None,
        };
        let remote_group_id = match attrs.raw("remote_group_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if body::is_uuid(s) => Some(s.to_ascii_lowercase()),
            Some(v) => return Err(sgdb::not_found(&body::show(v))),
        };
        let (group, _) = visible_group(&state, &ctx, &group_id).await?;
        let project = if attrs.has("project_id") || attrs.has("tenant_id") {
            owner(&state, &ctx, &attrs)?
        } else {
            group.project_id.clone()
        };
        if let Some(remote) = &remote_group_id {
            visible_group(&state, &ctx, remote).await?;
        }
        state.authorize(
            &ctx,
            "create_security_group_rule",
            &rule_target(&project, &group),
            &[],
        )?;
        specs.push((
            RuleSpec {
                project_id: project,
                security_group_id: group_id,
                direction,
                ethertype,
                protocol,
                port_range_min: port_value(&attrs, "port_range_min")?,
                port_range_max: port_value(&attrs, "port_range_max")?,
                remote_ip_prefix,
                remote_group_id,
                description: attrs.string("description", 255)?.unwrap_or_default(),
            },
            group.is_default,
        ));
    }
    if bulk {
        let mut keys = std::collections::HashSet::new();
        for (s, _) in &specs {
            let (_, key) = svc::normalize(s.clone())?;
            if !keys.insert((s.security_group_id.clone(), key)) {
                return Err(NeutronError::conflict(
                    "DuplicateSecurityGroupRuleInPost",
                    "Duplicate Security Group Rule in POST.",
                ));
            }
        }
    }
    let mut created = Vec::new();
    for (spec, default_group) in specs {
        let r = svc::create_rule(&state, spec).await?;
        created.push(Value::Object(rule_view(&r, default_group)));
    }
    let body = if bulk {
        json!({ "security_group_rules": created })
    } else {
        json!({ "security_group_rule": created.pop().unwrap_or(Value::Null) })
    };
    Ok(json(StatusCode::CREATED, body))
}

async fn remove_rule(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
) -> NeutronResult<Response> {
    let (_, g) = visible_rule(&state, &ctx, &id).await?;
    let check = |r: &Rule| {
        state.authorize(
            &ctx,
            "delete_security_group_rule",
            &rule_target(&r.project_id, &g),
            &[],
        )
    };
    svc::delete_rule(&state, &id, &check).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
