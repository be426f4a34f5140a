//! `/v2.0/agents` (list, show, update admin_state_up/description, delete) and the agent
//! schedulers: `/agents/{id}/dhcp-networks` with `/networks/{id}/dhcp-agents`, and
//! `/agents/{id}/l3-routers` with `/routers/{id}/l3-agents`. Admins only, as in Neutron.

use super::body::{self, Attrs};
use super::query::ListQuery;
use super::{json, root::base_url, State};
use crate::db::agents::{self as adb, Agent, Binding};
use crate::db::{self};
use crate::error::{NeutronError, NeutronResult};
use crate::service::agents::{self as svc, AgentUpdate};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.0/agents", get(list))
        .route("/v2.0/agents/{id}", get(show).put(update).delete(remove))
        .route(
            "/v2.0/agents/{id}/dhcp-networks",
            get(dhcp_networks).post(add_dhcp_network),
        )
        .route(
            "/v2.0/agents/{id}/dhcp-networks/{network_id}",
            delete(remove_dhcp_network),
        )
        .route("/v2.0/networks/{id}/dhcp-agents", get(dhcp_agents))
        .route(
            "/v2.0/agents/{id}/l3-routers",
            get(l3_routers).post(add_l3_router),
        )
        .route(
            "/v2.0/agents/{id}/l3-routers/{router_id}",
            delete(remove_l3_router),
        )
        .route("/v2.0/routers/{id}/l3-agents", get(l3_agents))
}

const PUT_ATTRS: &[&str] = &["admin_state_up", "description"];
const READ_ONLY: &[&str] = &[
    "id",
    "agent_type",
    "binary",
    "topic",
    "host",
    "alive",
    "availability_zone",
    "configurations",
    "created_at",
    "started_at",
    "heartbeat_timestamp",
    "resources_synced",
    "resource_versions",
];

/// Agent times as Neutron shows them (`YYYY-MM-DD HH:MM:SS`, UTC).
fn agent_time(micros: i64) -> String {
    monostack_common::time::to_datetime(micros)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

pub fn view(state: &State, a: &Agent) -> Map<String, Value> {
    let now = monostack_common::time::now_micros();
    let v = json!({
        "id": a.id,
        "agent_type": a.agent_type,
        "binary": a.binary,
        "topic": a.topic,
        "host": a.host,
        "admin_state_up": a.admin_state_up,
        "alive": svc::is_alive(state.config.network.agent_down_time, a, now),
        "availability_zone": a.availability_zone,
        "description": a.description,
        "configurations": a.configurations,
        "created_at": agent_time(a.created_at),
        "started_at": agent_time(a.started_at),
        "heartbeat_timestamp": agent_time(a.heartbeat_timestamp),
        "resources_synced": Value::Null,
        "resource_versions": {},
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// 403 unless policy allows the (admin-only) action.
fn allow(state: &State, ctx: &AuthContext, action: &str) -> NeutronResult<()> {
    state.authorize(ctx, action, &json!({}), &[])
}

async fn list(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> NeutronResult<Response> {
    let q = ListQuery::parse(raw.as_deref())?;
    // As Neutron lists: the agents get_agent does not allow are left out, so a caller who
    // may see none gets an empty list (200), not a 403.
    let views: Vec<Map<String, Value>> = if allow(&state, &ctx, "get_agent").is_ok() {
        let mut tx = db::read(&state.db).await?;
        adb::load(&mut tx, None, &[]).await?.iter().map(|a| view(&state, a)).collect()
    } else {
        Vec::new()
    };
    let url = format!("{}/v2.0/agents", base_url(&headers, &state));
    let (page, links) = q.apply(views, &url)?;
    let mut body = json!({ "agents": page });
    if !links.is_empty() {
        body["agents_links"] = Value::Array(links);
    }
    Ok(json(StatusCode::OK, body))
}

async fn show(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> NeutronResult<Response> {
    allow(&state, &ctx, "get_agent")?;
    let q = ListQuery::parse(raw.as_deref())?;
    let mut tx = db::read(&state.db).await?;
    let mut v = view(&state, &adb::must_get(&mut tx, &id).await?);
    q.select_fields(&mut v);
    Ok(json(StatusCode::OK, json!({ "agent": v })))
}

async fn update(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    bytes: Bytes,
) -> NeutronResult<Response> {
    allow(&state, &ctx, "update_agent")?;
    let (mut items, _) = body::resources(&bytes, "agent", None)?;
    let attrs = Attrs::new(items.pop().unwrap_or_default());
    attrs.check(PUT_ATTRS, READ_ONLY, false)?;
    let req = AgentUpdate {
        admin_state_up: attrs.bool("admin_state_up")?,
        description: attrs.string("description", 255)?,
    };
    let a = svc::update(&state, &id, req).await?;
    Ok(json(StatusCode::OK, json!({ "agent": view(&state, &a) })))
}

async fn remove(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
) -> NeutronResult<Response> {
    allow(&state, &ctx, "delete_agent")?;
    svc::delete(&state, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The id named in a scheduler POST body (`{"network_id": …}` or `{"router_id": …}`).
fn body_id(bytes: &Bytes, key: &str) -> NeutronResult<String> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|_| NeutronError::http_bad_request("Malformed request body: not valid JSON"))?;
    let Value::Object(o) = v else {
        return Err(NeutronError::http_bad_request(
            "Malformed request body: a JSON object is expected",
        ));
    };
    Attrs::new(o).uuid(key)?.ok_or_else(|| {
        NeutronError::http_bad_request(format!(
            "Failed to parse request. Required attribute '{key}' not specified"
        ))
    })
}

async fn agent_views(state: &State, ids: &[String]) -> NeutronResult<Vec<Value>> {
    let mut tx = db::read(&state.db).await?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(a) = adb::get(&mut tx, id).await? {
            out.push(Value::Object(view(state, &a)));
        }
    }
    Ok(out)
}

async fn dhcp_networks(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
) -> NeutronResult<Response> {
    allow(&state, &ctx, "get_dhcp-networks")?;
    let mut tx = db::read(&state.db).await?;
    adb::must_get(&mut tx, &id).await?;
    let mut nets = Vec::new();
    for nid in adb::resources_of(&mut tx, Binding::DhcpNetwork, &id).await? {
        if let Some(n) = crate::db::networks::get(&mut tx, &nid).await? {
            nets.push(Value::Object(super::networks::view(&state, &n)));
        }
    }
    Ok(json(StatusCode::OK, json!({ "networks": nets })))
}

async fn add_dhcp_network(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    bytes: Bytes,
) -> NeutronResult<Response> {
    allow(&state, &ctx, "create_dhcp-network")?;
    let network_id = body_id(&bytes, "network_id")?;
    svc::schedule(&state, Binding::DhcpNetwork, &id, &network_id).await?;
    Ok(json(StatusCode::CREATED, Value::Null))
}

async fn remove_dhcp_network(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path((id, network_id)): Path<(String, String)>,
) -> NeutronResult<Response> {
    allow(&state, &ctx, "delete_dhcp-network")?;
    svc::unschedule(&state, Binding::DhcpNetwork, &id, &network_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn dhcp_agents(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
) -> NeutronResult<Response> {
    allow(&state, &ctx, "get_dhcp-agents")?;
    let ids = {
        let mut tx = db::read(&state.db).await?;
        crate::db::networks::must_get(&mut tx, &id).await?;
        adb::agents_of(&mut tx, Binding::DhcpNetwork, &id).await?
    };
    let agents = agent_views(&state, &ids).await?;
    Ok(json(StatusCode::OK, json!({ "agents": agents })))
}

async fn l3_routers(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
) -> NeutronResult<Response> {
    allow(&state, &ctx, "get_l3-routers")?;
    let mut tx = db::read(&state.db).await?;
    adb::must_get(&mut tx, &id).await?;
    let mut routers = Vec::new();
    for rid in adb::resources_of(&mut tx, Binding::L3Router, &id).await? {
        if let Some(r) = crate::db::routers::get(&mut tx, &rid).await? {
            routers.push(Value::Object(super::routers::full_view(&state, &r).await?));
        }
    }
    Ok(json(StatusCode::OK, json!({ "routers": routers })))
}

async fn add_l3_router(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    bytes: Bytes,
) -> NeutronResult<Response> {
    allow(&state, &ctx, "create_l3-router")?;
    let router_id = body_id(&bytes, "router_id")?;
    svc::schedule(&state, Binding::L3Router, &id, &router_id).await?;
    Ok(json(StatusCode::CREATED, Value::Null))
}

async fn remove_l3_router(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path((id, router_id)): Path<(String, String)>,
) -> NeutronResult<Response> {
    allow(&state, &ctx, "delete_l3-router")?;
    svc::unschedule(&state, Binding::L3Router, &id, &router_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn l3_agents(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
) -> NeutronResult<Response> {
    allow(&state, &ctx, "get_l3-agents")?;
    let ids = {
        let mut tx = db::read(&state.db).await?;
        crate::db::routers::must_get(&mut tx, &id).await?;
        adb::agents_of(&mut tx, Binding::L3Router, &id).await?
    };
    let agents = agent_views(&state, &ids).await?;
    Ok(json(StatusCode::OK, json!({ "agents": agents })))
}
