//! Security groups through compute (Nova's proxies to the networking service, with the
//! caller's token): `/os-security-groups` and `/os-security-group-rules` (gone from 2.36,
//! 404), and `/servers/{id}/os-security-groups` (all versions). Groups and rules are shown in
//! Nova's format: ingress rules only, `ip_protocol`, `from_port`/`to_port`, `ip_range` or
//! `group`.

use super::caller::Caller;
use super::input;
use super::{ApiResult, Microversion, State};
use crate::compute_api::{self, interfaces};
use crate::context::RequestContext;
use crate::network_client::{self as net, NetAuth, NetworkError};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as S};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/os-security-groups", get(index).post(create))
        .route(
            "/v2.1/os-security-groups/{id}",
            get(show).put(update).delete(remove),
        )
        .route(
            "/v2.1/os-security-group-rules",
            axum::routing::post(create_rule),
        )
        .route("/v2.1/os-security-group-rules/{id}", delete(delete_rule))
        .route("/v2.1/servers/{id}/os-security-groups", get(server_index))
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Nova's `_format_security_group_rule`.
fn rule_view(rule: &Value, names: &HashMap<String, (String, String)>) -> Value {
    let mut group = json!({});
    let mut ip_range = json!({});
    if let Some(remote) = rule.get("remote_group_id").and_then(Value::as_str) {
        let (name, tenant) = names.get(remote).cloned().unwrap_or_default();
        group = json!({"name": name, "tenant_id": tenant});
    } else {
        let cidr = rule
            .get("remote_ip_prefix")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                if text(rule, "ethertype") == "IPv6" {
                    "::/0".into()
                } else {
                    "0.0.0.0/0".into()
                }
            });
        ip_range = json!({"cidr": cidr});
    }
    let protocol = rule.get("protocol").cloned().unwrap_or(Value::Null);
    let icmp = matches!(protocol.as_str(), Some("icmp" | "ipv6-icmp" | "icmpv6"));
    let port = |k: &str| {
        rule.get(k)
            .cloned()
            .filter(|v| !v.is_null())
            .unwrap_or_else(|| {
                if protocol.is_null() {
                    Value::Null
                } else if icmp {
                    json!(-1)
                } else {
                    json!(1)
                }
            })
    };
    let mut from_port = port("port_range_min");
    let mut to_port = port("port_range_max");
    if !protocol.is_null() && !icmp && rule.get("port_range_min").is_none_or(Value::is_null) {
        from_port = json!(1);
        to_port = json!(65535);
    }
    json!({
        "id": rule.get("id").cloned().unwrap_or(Value::Null),
        "parent_group_id": rule.get("security_group_id").cloned().unwrap_or(Value::Null),
        "ip_protocol": protocol,
        "from_port": from_port,
        "to_port": to_port,
        "group": group,
        "ip_range": ip_range,
    })
}

/// Nova's view of a Neutron group (`_convert_to_nova_security_group_format`).
fn group_view(g: &Value, names: &HashMap<String, (String, String)>) -> Value {
    let rules: Vec<Value> = g
        .get("security_group_rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| text(r, "direction") == "ingress")
        .map(|r| rule_view(r, names))
        .collect();
    json!({
        "id": g.get("id").cloned().unwrap_or(Value::Null),
        "name": g.get("name").cloned().unwrap_or(Value::Null),
        "description": g.get("description").cloned().unwrap_or_else(|| json!("")),
        "tenant_id": g.get("project_id").or_else(|| g.get("tenant_id")).cloned().unwrap_or(Value::Null),
        "rules": rules,
    })
}

fn names_of(groups: &[Value]) -> HashMap<String, (String, String)> {
    groups
        .iter()
        .map(|g| {
            (
                text(g, "id").to_string(),
                (
                    text(g, "name").to_string(),
                    text(g, "project_id").to_string(),
                ),
            )
        })
        .collect()
}

fn auth(ctx: &RequestContext) -> NetAuth {
    interfaces::caller_auth(ctx)
}

/// Nova's answers to Neutron's refusals of security group calls.
fn failure(e: NetworkError) -> ApiError {
    match e {
        NetworkError::NotFound { message, .. } => ApiError::not_found(message),
        NetworkError::BadRequest { message, .. } => ApiError::bad_request(message),
        NetworkError::Conflict { kind, message } if kind == "SecurityGroupRuleExists" => {
            ApiError::bad_request(message)
        }
        NetworkError::Conflict { message, .. } => ApiError::conflict(message),
        NetworkError::OverQuota { .. } => {
            ApiError::forbidden("Quota exceeded, too many security groups.")
        }
        other => interfaces::network_failure(other),
    }
}

/// The proxies answer 404 from 2.36; then policy with the caller's project as target.
fn proxy_allowed(
    state: &State,
    ctx: &RequestContext,
    mv: Microversion,
    action: &str,
) -> ApiResult<()> {
    if mv.at_least(36) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    state.authorize(
        &format!("os_compute_api:os-security-groups:{action}"),
        &json!({"project_id": ctx.project_id()}),
        &ctx.auth,
    )
}

async fn index(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    proxy_allowed(&state, &ctx, mv, "get")?;
    let all_tenants = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .any(|(k, v)| k == "all_tenants" && v != "0" && v != "false");
    let mut filters: Vec<(&str, &str)> = Vec::new();
    let project = ctx.project_id().to_string();
    if !(all_tenants && ctx.is_admin) {
        filters.push(("project_id", &project));
    }
    let groups = net::list(
        state.network.as_ref(),
        &auth(&ctx),
        "security_groups",
        &filters,
    )
    .await
    .map_err(failure)?;
    let names = names_of(&groups);
    Ok(Json(
        json!({"security_groups": groups.iter().map(|g| group_view(g, &names)).collect::<Vec<_>>()}),
    ))
}

async fn show_group(state: &State, ctx: &RequestContext, id: &str) -> ApiResult<Value> {
    let g = match net::show(state.network.as_ref(), &auth(ctx), "security_groups", id).await {
        Ok(g) => g,
        Err(e) if e.is_not_found() => {
            return Err(ApiError::not_found(format!(
                "Security group {id} not found."
            )))
        }
        Err(e) => return Err(failure(e)),
    };
    let names = names_of(std::slice::from_ref(&g));
    Ok(group_view(&g, &names))
}

async fn show(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    proxy_allowed(&state, &ctx, mv, "show")?;
    Ok(Json(
        json!({"security_group": show_group(&state, &ctx, &id).await?}),
    ))
}

/// `{"security_group": {"name", "description"}}`, both required strings (Nova's schema).
fn group_body(bytes: &Bytes) -> ApiResult<(String, String)> {
    let body = input::parse(bytes)?;
    let obj = input::root(&body, "security_group")?;
    let name = obj
        .get("name")
        .ok_or_else(|| ApiError::bad_request("Security group name is missing"))?;
    let description = obj
        .get("description")
        .ok_or_else(|| ApiError::bad_request("Security group description is missing"))?;
    let name = input::string(name, "name", 1, 255)?.trim().to_string();
    let description = input::string(description, "description", 0, 255)?.to_string();
    if name.is_empty() {
        return Err(ApiError::bad_request(
            "Security group name cannot be empty.",
        ));
    }
    Ok((name, description))
}

async fn create(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    proxy_allowed(&state, &ctx, mv, "create")?;
    let (name, description) = group_body(&bytes)?;
    let g = net::create(
        state.network.as_ref(),
        &auth(&ctx),
        "security_groups",
        json!({"name": name, "description": description}),
    )
    .await
    .map_err(failure)?;
    let names = names_of(std::slice::from_ref(&g));
    Ok(Json(json!({"security_group": group_view(&g, &names)})))
}

async fn update(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    proxy_allowed(&state, &ctx, mv, "update")?;
    let (name, description) = group_body(&bytes)?;
    let g = net::update(
        state.network.as_ref(),
        &auth(&ctx),
        "security_groups",
        &id,
        json!({"name": name, "description": description}),
    )
    .await
    .map_err(|e| match e {
        e if e.is_not_found() => ApiError::not_found(format!("Security group {id} not found.")),
        other => failure(other),
    })?;
    let names = names_of(std::slice::from_ref(&g));
    Ok(Json(json!({"security_group": group_view(&g, &names)})))
}

async fn remove(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    proxy_allowed(&state, &ctx, mv, "delete")?;
    net::delete(state.network.as_ref(), &auth(&ctx), "security_groups", &id)
        .await
        .map_err(|e| match e {
            e if e.is_not_found() => ApiError::not_found(format!("Security group {id} not found.")),
            NetworkError::Conflict { message, .. } => ApiError::bad_request(message),
            other => failure(other),
        })?;
    Ok(StatusCode::ACCEPTED)
}

/// Nova's rule body: `parent_group_id`, `ip_protocol`, `from_port`, `to_port`, `cidr` or
/// `group_id`, turned into a Neutron ingress rule.
fn rule_body(bytes: &Bytes) -> ApiResult<Value> {
    let body = input::parse(bytes)?;
    let obj = input::root(&body, "security_group_rule")?;
    let parent = obj.get("parent_group_id").and_then(|v| {
        v.as_str()
            .map(str::to_string)
            .or_else(|| v.as_i64().map(|i| i.to_string()))
    });
    let parent = parent.ok_or_else(|| ApiError::bad_request("Bad parent_group_id"))?;
    let protocol = obj
        .get("ip_protocol")
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let port = |k: &str| -> ApiResult<Option<i64>> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .map(Some)
                .ok_or_else(|| ApiError::bad_request(format!("Invalid port range {k}: {v}."))),
        }
    };
    let (from, to) = (port("from_port")?, port("to_port")?);
    let mut rule =
        json!({"security_group_id": parent, "direction": "ingress", "ethertype": "IPv4"});
    match protocol.as_deref() {
        None => {}
        Some(p @ ("tcp" | "udp")) => {
            let (lo, hi) = (from.unwrap_or(1), to.unwrap_or(65535));
            if !(1..=65535).contains(&lo) || !(1..=65535).contains(&hi) || lo > hi {
                return Err(ApiError::bad_request(format!(
                    "Invalid port range {lo}:{hi}. Valid TCP ports should be between 1-65535"
                )));
            }
            rule["protocol"] = json!(p);
            rule["port_range_min"] = json!(lo);
            rule["port_range_max"] = json!(hi);
        }
        Some("icmp") => {
            rule["protocol"] = json!("icmp");
            if let Some(t) = from.filter(|t| *t != -1) {
                rule["port_range_min"] = json!(t);
            }
            if let Some(c) = to.filter(|c| *c != -1) {
                rule["port_range_max"] = json!(c);
            }
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid IP protocol {other}."
            )))
        }
    }
    match (
        obj.get("cidr").and_then(Value::as_str),
        obj.get("group_id").and_then(Value::as_str),
    ) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "Not enough parameters to build a valid rule.",
            ))
        }
        (Some(cidr), None) => {
            if cidr.contains(':') {
                rule["ethertype"] = json!("IPv6");
            }
            rule["remote_ip_prefix"] = json!(cidr);
        }
        (None, Some(group)) => rule["remote_group_id"] = json!(group),
        (None, None) => rule["remote_ip_prefix"] = json!("0.0.0.0/0"),
    }
    Ok(rule)
}

async fn create_rule(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    proxy_allowed(&state, &ctx, mv, "rule:create")?;
    let rule = rule_body(&bytes)?;
    let parent = rule["security_group_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    show_group(&state, &ctx, &parent).await?;
    let created = net::create(
        state.network.as_ref(),
        &auth(&ctx),
        "security_group_rules",
        rule,
    )
    .await
    .map_err(failure)?;
    let mut names = HashMap::new();
    if let Some(remote) = created.get("remote_group_id").and_then(Value::as_str) {
        if let Ok(g) = net::show(
            state.network.as_ref(),
            &auth(&ctx),
            "security_groups",
            remote,
        )
        .await
        {
            names = names_of(std::slice::from_ref(&g));
        }
    }
    Ok(Json(
        json!({"security_group_rule": rule_view(&created, &names)}),
    ))
}

async fn delete_rule(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    proxy_allowed(&state, &ctx, mv, "rule:delete")?;
    net::delete(
        state.network.as_ref(),
        &auth(&ctx),
        "security_group_rules",
        &id,
    )
    .await
    .map_err(|e| match e {
        e if e.is_not_found() => {
            ApiError::not_found(format!("Security group rule {id} could not be found."))
        }
        other => failure(other),
    })?;
    Ok(StatusCode::ACCEPTED)
}

async fn server_index(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let instance = compute_api::get_instance(&state, &ctx, &id).await?;
    state.authorize(
        "os_compute_api:os-security-groups:list",
        &json!({"project_id": instance.project_id}),
        &ctx.auth,
    )?;
    let groups = interfaces::server_security_groups(&state, &ctx, &instance).await?;
    let names = names_of(&groups);
    Ok(Json(
        json!({"security_groups": groups.iter().map(|g| group_view(g, &names)).collect::<Vec<_>>()}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_show_as_nova_does() {
        let names: HashMap<String, (String, String)> =
            [("g1".to_string(), ("default".to_string(), "p".to_string()))]
                .into_iter()
                .collect();
        let group = json!({"id": "g1", "name": "default", "project_id": "p", "security_group_rules": [
            {"id": "r1", "direction": "egress", "ethertype": "IPv4", "security_group_id": "g1"},
            {"id": "r2", "direction": "ingress", "ethertype": "IPv4", "remote_group_id": "g1", "security_group_id": "g1"},
            {"id": "r3", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "10.0.0.0/8", "security_group_id": "g1"},
        ]});
        let v = group_view(&group, &names);
        assert_eq!(v["rules"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["rules"][0]["group"]["name"], "default");
        assert_eq!(v["rules"][1]["ip_range"]["cidr"], "10.0.0.0/8");
        assert_eq!(v["rules"][1]["from_port"], 22);
        assert_eq!(v["tenant_id"], "p");
    }

    #[test]
    fn nova_rule_bodies_become_neutron_rules() {
        let r = rule_body(&Bytes::from(r#"{"security_group_rule": {"parent_group_id": "g", "ip_protocol": "tcp", "from_port": 80, "to_port": 81, "cidr": "10.0.0.0/24"}}"#)).expect("rule");
        assert_eq!(
            (
                r["protocol"].as_str(),
                r["port_range_min"].as_i64(),
                r["remote_ip_prefix"].as_str()
            ),
            (Some("tcp"), Some(80), Some("10.0.0.0/24"))
        );
        assert!(rule_body(&Bytes::from(r#"{"security_group_rule": {"parent_group_id": "g", "ip_protocol": "tcp", "from_port": 0, "to_port": 81}}"#)).is_err());
        assert!(rule_body(&Bytes::from(
            r#"{"security_group_rule": {"parent_group_id": "g", "ip_protocol": "gre"}}"#
        ))
        .is_err());
    }
}
