//! `/servers/{id}/os-interface` (Nova's attach_interfaces): the server's ports as interface
//! attachments; attach a port, or a new port on a network (with a fixed IP); detach one.

use super::caller::Caller;
use super::input;
use super::{validation, ApiResult, Microversion, State};
use crate::compute_api::{self, interfaces};
use crate::context::RequestContext;
use crate::db::instances::Instance;
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/servers/{id}/os-interface", get(index).post(create))
        .route(
            "/v2.1/servers/{id}/os-interface/{port_id}",
            get(show).delete(delete),
        )
}

async fn authorized(
    state: &State,
    ctx: &RequestContext,
    id: &str,
    action: &str,
) -> ApiResult<Instance> {
    let instance = compute_api::get_instance(state, ctx, id).await?;
    state.authorize(
        &format!("os_compute_api:os-attach-interfaces:{action}"),
        &json!({"project_id": instance.project_id}),
        &ctx.auth,
    )?;
    Ok(instance)
}

/// The tag of a port, shown from 2.70. Nova reads it from its virtual interface records,
/// which monostack does not keep: it is null.
fn tag_of(mv: Microversion, _port: &Value) -> Option<Option<String>> {
    mv.at_least(70).then_some(None)
}

async fn index(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let instance = authorized(&state, &ctx, &id, "list").await?;
    let ports = interfaces::list_ports(&state, &ctx, &instance).await?;
    let views: Vec<Value> = ports
        .iter()
        .map(|p| interfaces::attachment_view(p, tag_of(mv, p)))
        .collect();
    Ok(Json(json!({"interfaceAttachments": views})))
}

async fn show(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Path((id, port_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let instance = authorized(&state, &ctx, &id, "show").await?;
    let port = interfaces::show_port(&state, &ctx, &instance, &port_id).await?;
    Ok(Json(
        json!({"interfaceAttachment": interfaces::attachment_view(&port, tag_of(mv, &port))}),
    ))
}

/// The create body (Nova's schema; `tag` from 2.49): (net_id, port_id, fixed ip, tag).
type AttachRequest = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn parse(body: &Value, mv: Microversion) -> ApiResult<AttachRequest> {
    let top = input::object(body, "body")?;
    input::only(top, &["interfaceAttachment"], None)?;
    let Some(attachment) = top.get("interfaceAttachment") else {
        return Ok((None, None, None, None));
    };
    let obj = input::object(attachment, "interfaceAttachment")?;
    let mut allowed = vec!["net_id", "port_id", "fixed_ips"];
    if mv.at_least(49) {
        allowed.push("tag");
    }
    input::only(obj, &allowed, Some("interfaceAttachment"))?;
    let net_id = obj
        .get("net_id")
        .map(|v| validation::uuid("net_id", v))
        .transpose()?;
    let port_id = obj
        .get("port_id")
        .map(|v| validation::uuid("port_id", v))
        .transpose()?;
    let tag = obj
        .get("tag")
        .map(|v| validation::tag("tag", v))
        .transpose()?;
    let fixed_ip = match obj.get("fixed_ips") {
        None => None,
        Some(v) => {
            let items = validation::array("fixed_ips", v, Some(1))?;
            let first = items
                .first()
                .ok_or_else(|| input::invalid("fixed_ips", v, "[] is too short"))?;
            let ip = input::object(first, "fixed_ips")?;
            input::only(ip, &["ip_address"], Some("fixed_ips"))?;
            input::required(ip, &["ip_address"], "fixed_ips")?;
            Some(validation::ip_address("ip_address", &ip["ip_address"])?)
        }
    };
    Ok((net_id, port_id, fixed_ip, tag))
}

async fn create(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Path(id): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let body = if bytes.is_empty() {
        json!({})
    } else {
        input::parse(&bytes)?
    };
    let (net_id, port_id, fixed_ip, tag) = parse(&body, mv)?;
    let instance = authorized(&state, &ctx, &id, "create").await?;
    if net_id.is_some() && port_id.is_some() {
        return Err(ApiError::bad_request(
            "Must not input both network_id and port_id",
        ));
    }
    if fixed_ip.is_some() && net_id.is_none() {
        return Err(ApiError::bad_request(
            "Must input network_id when request IP address",
        ));
    }
    let attached = interfaces::attach(
        &state,
        &ctx,
        &instance,
        net_id,
        port_id,
        fixed_ip,
        tag.clone(),
    )
    .await?;
    let port = interfaces::show_port(&state, &ctx, &instance, &attached).await?;
    let shown_tag = mv.at_least(70).then_some(tag);
    Ok(Json(
        json!({"interfaceAttachment": interfaces::attachment_view(&port, shown_tag)}),
    ))
}

async fn delete(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path((id, port_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let instance = authorized(&state, &ctx, &id, "delete").await?;
    interfaces::detach(&state, &ctx, &instance, &port_id).await?;
    Ok(StatusCode::ACCEPTED)
}
