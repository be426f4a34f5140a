//! `/os-aggregates`: host aggregates, their hosts and metadata. Setting `availability_zone`
//! (at create, update or through metadata) makes the aggregate a zone; Nova's rules keep a
//! host in one zone only, and keep hosts with servers from changing zone.

use super::{input, view, ApiResult, Microversion, State};
use crate::db::aggregates::{self as aggregate_db, Aggregate, AZ_KEY};
use crate::db::services::{self as service_db, COMPUTE_BINARY};
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/os-aggregates", get(index).post(create))
        .route("/v2.1/os-aggregates/{id}", get(show).put(update).delete(delete))
        .route("/v2.1/os-aggregates/{id}/action", post(action))
        .route("/v2.1/os-aggregates/{id}/images", post(images))
}

/// Which check of an availability zone change is failing, for Nova's wording.
#[derive(Clone, Copy)]
enum Change {
    AddHost,
    RemoveHost,
    Update,
    UpdateMetadata,
}

fn refused(change: Change, id: i64, reason: &str) -> ApiError {
    let (status, text) = match change {
        Change::AddHost => (StatusCode::CONFLICT, format!("Cannot add host to aggregate {id}. Reason: {reason}.")),
        Change::RemoveHost => (StatusCode::CONFLICT, format!("Cannot remove host from aggregate {id}. Reason: {reason}.")),
        Change::Update => (StatusCode::BAD_REQUEST, format!("Cannot update aggregate {id}. Reason: {reason}.")),
        Change::UpdateMetadata => (StatusCode::BAD_REQUEST, format!("Cannot update metadata of aggregate {id}. Reason: {reason}.")),
    };
    ApiError::new(status, text)
}

fn parse_id(id: &str) -> ApiResult<i64> {
    id.trim().parse::<i64>().map_err(|_| ApiError::bad_request("Invalid input received: id must be an integer"))
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("Aggregate {id} could not be found."))
}

async fn find(state: &State, id: i64) -> ApiResult<Aggregate> {
    aggregate_db::get(&state.db, id).await?.ok_or_else(|| not_found(id))
}

/// Nova's aggregate view (`uuid` from 2.41); `brief` leaves hosts and metadata out, as create does.
fn render(a: &Aggregate, mv: Microversion, brief: bool) -> Value {
    let mut v = json!({
        "id": a.id,
        "name": a.name,
        "availability_zone": a.availability_zone(),
        "created_at": view::timestamp(a.created_at),
        "updated_at": view::opt_timestamp(a.updated_at),
        "deleted_at": null,
        "deleted": false,
    });
    if !brief {
        v["hosts"] = json!(a.hosts);
        v["metadata"] = json!(a.metadata);
    }
    if mv.at_least(41) {
        v["uuid"] = json!(a.uuid);
    }
    json!({"aggregate": v})
}

fn authorize(state: &State, ctx: &AuthContext, action: &str) -> ApiResult<()> {
    state.authorize(&format!("os_compute_api:os-aggregates:{action}"), &json!({}), ctx)
}

/// Nova's `is_safe_to_update_az`: a new zone must be named, must not pull any of `hosts` out
/// of another aggregate's zone, and (when `check_instances`) must not move servers.
async fn check_zone(state: &State, agg: &Aggregate, zone: Option<&str>, hosts: &[String], change: Change, check_instances: bool) -> ApiResult<()> {
    let Some(zone) = zone.filter(|z| !z.is_empty()) else {
        return Err(refused(change, agg.id, &format!("Aggregate {} does not support empty named availability zone", agg.name)));
    };
    let mut conflicting: Vec<String> = Vec::new();
    for other in aggregate_db::list(&state.db).await? {
        let Some(other_zone) = other.availability_zone() else { continue };
        if other.id != agg.id && other_zone != zone && hosts.iter().any(|h| other.hosts.contains(h)) {
            conflicting.push(format!("'{other_zone}'"));
        }
    }
    if !conflicting.is_empty() {
        return Err(refused(change, agg.id, &format!("One or more hosts already in availability zone(s) [{}]", conflicting.join(", "))));
    }
    if check_instances && agg.availability_zone() != Some(zone) && service_db::instances_on_hosts(&state.db, hosts).await? > 0 {
        return Err(refused(change, agg.id, "One or more hosts contain instances in this zone"));
    }
    Ok(())
}

async fn index(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion) -> ApiResult<Json<Value>> {
    authorize(&state, &ctx, "index")?;
    let all = aggregate_db::list(&state.db).await?;
    Ok(Json(json!({"aggregates": all.iter().map(|a| render(a, mv, false)["aggregate"].clone()).collect::<Vec<_>>()})))
}

async fn create(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, body: Bytes) -> ApiResult<Json<Value>> {
    let body = input::parse(&body)?;
    let agg = input::root(&body, "aggregate")?;
    input::only(agg, &["name", "availability_zone"], Some("aggregate"))?;
    input::required(agg, &["name"], "aggregate")?;
    let name = input::name(&agg["name"], "name")?.to_string();
    let zone = match agg.get("availability_zone") {
        None | Some(Value::Null) => None,
        Some(v) => Some(input::az_name(v, "availability_zone")?.to_string()),
    };
    authorize(&state, &ctx, "create")?;
    let created = aggregate_db::create(&state.db, &name, zone.as_deref()).await?;
    let created = created.ok_or_else(|| ApiError::conflict(format!("Aggregate {name} already exists.")))?;
    tracing::info!("aggregate {} ({name}) created", created.id);
    Ok(Json(render(&created, mv, true)))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    authorize(&state, &ctx, "show")?;
    let agg = find(&state, parse_id(&id)?).await?;
    Ok(Json(render(&agg, mv, false)))
}

async fn update(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    let body = input::parse(&body)?;
    let fields = input::root(&body, "aggregate")?;
    input::only(fields, &["name", "availability_zone"], Some("aggregate"))?;
    if !fields.contains_key("name") && !fields.contains_key("availability_zone") {
        return Err(input::invalid("aggregate", &Value::Object(fields.clone()), "'name' is a required property"));
    }
    let name = fields.get("name").map(|v| input::name_with_spaces(v, "name").map(|n| n.trim().to_string())).transpose()?;
    let zone = match fields.get("availability_zone") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => Some(Some(input::az_name(v, "availability_zone")?.to_string())),
    };
    authorize(&state, &ctx, "update")?;
    let id = parse_id(&id)?;
    let agg = find(&state, id).await?;
    if let Some(name) = &name {
        if !aggregate_db::rename(&state.db, id, name).await? {
            return Err(ApiError::conflict(format!("Aggregate {name} already exists.")));
        }
    }
    if let Some(zone) = zone {
        let hosts: Vec<String> = agg.hosts.iter().cloned().collect();
        check_zone(&state, &agg, zone.as_deref(), &hosts, Change::Update, true).await?;
        aggregate_db::set_metadata(&state.db, id, &[(AZ_KEY.to_string(), zone)]).await?;
    }
    Ok(Json(render(&find(&state, id).await?, mv, false)))
}

async fn delete(S(state): S<State>, Authenticated(ctx): Authenticated, Path(id): Path<String>) -> ApiResult<()> {
    authorize(&state, &ctx, "delete")?;
    let id = parse_id(&id)?;
    let agg = find(&state, id).await?;
    if !agg.hosts.is_empty() {
        return Err(ApiError::bad_request(format!("Cannot remove host from aggregate {id}. Reason: Host aggregate is not empty.")));
    }
    aggregate_db::delete(&state.db, id).await?;
    tracing::info!("aggregate {id} deleted");
    Ok(())
}

async fn action(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    let body = input::parse(&body)?;
    let name = body.as_object().and_then(|o| o.keys().next().cloned()).unwrap_or_default();
    let agg = match name.as_str() {
        "add_host" => add_host(&state, &ctx, &id, &body).await?,
        "remove_host" => remove_host(&state, &ctx, &id, &body).await?,
        "set_metadata" => set_metadata(&state, &ctx, &id, &body).await?,
        other => return Err(ApiError::bad_request(format!("There is no such action: {other}"))),
    };
    Ok(Json(render(&agg, mv, false)))
}

/// The `host` of an add_host/remove_host body (Nova's fqdn: `[a-zA-Z0-9-._]`, 1–255).
fn host_arg(body: &Value, action: &str) -> ApiResult<String> {
    let args = input::root(body, action)?;
    input::only(args, &["host"], Some(action))?;
    input::required(args, &["host"], action)?;
    let host = input::string(&args["host"], "host", 1, 255)?;
    if !host.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)) {
        return Err(input::invalid("host", &args["host"], format!("'{host}' does not match '^[a-zA-Z0-9-._]*$'")));
    }
    Ok(host.to_string())
}

async fn add_host(state: &State, ctx: &AuthContext, id: &str, body: &Value) -> ApiResult<Aggregate> {
    let host = host_arg(body, "add_host")?;
    authorize(state, ctx, "add_host")?;
    let id = parse_id(id)?;
    if service_db::by_host_and_binary(&state.db, &host, COMPUTE_BINARY).await?.is_none() {
        return Err(ApiError::not_found(format!("Compute host {host} could not be found.")));
    }
    let agg = find(state, id).await?;
    if agg.metadata.contains_key(AZ_KEY) {
        check_zone(state, &agg, agg.availability_zone(), std::slice::from_ref(&host), Change::AddHost, false).await?;
    }
    check_host_keeps_zone(state, &agg, &host, true).await?;
    if !aggregate_db::add_host(&state.db, id, &host).await? {
        return Err(ApiError::conflict(format!("Aggregate {id} already has host {host}.")));
    }
    find(state, id).await
}

/// A host with servers may not change zone by joining or leaving an aggregate.
async fn check_host_keeps_zone(state: &State, agg: &Aggregate, host: &str, joining: bool) -> ApiResult<()> {
    let Some(agg_zone) = agg.availability_zone() else { return Ok(()) };
    let instances = service_db::instances_on_hosts(&state.db, &[host.to_string()]).await?;
    if instances == 0 {
        return Ok(());
    }
    let others: Vec<String> = aggregate_db::by_host(&state.db, host)
        .await?
        .iter()
        .filter(|a| a.id != agg.id)
        .filter_map(|a| a.availability_zone().map(str::to_string))
        .collect();
    let current = others.first().map(String::as_str);
    let (from, to) = if joining { (current, Some(agg_zone)) } else { (Some(agg_zone), current) };
    if from == to {
        return Ok(());
    }
    let quote = |z: Option<&str>| z.map_or("None".to_string(), str::to_string);
    let reason = format!(
        "The host cannot be {} the aggregate as the availability zone of the host would change from '{}' to '{}' but the host already has {instances} instance(s). Changing the AZ of an existing instance is not supported by this action. Move the instances away from this host then try again. If you need to move the instances between AZs then you can use shelve_offload and unshelve to achieve this",
        if joining { "added to" } else { "removed from" },
        quote(from),
        quote(to),
    );
    Err(refused(if joining { Change::AddHost } else { Change::RemoveHost }, agg.id, &reason))
}

async fn remove_host(state: &State, ctx: &AuthContext, id: &str, body: &Value) -> ApiResult<Aggregate> {
    let host = host_arg(body, "remove_host")?;
    authorize(state, ctx, "remove_host")?;
    let id_num = parse_id(id)?;
    let missing = || ApiError::not_found(format!("Cannot remove host {host} in aggregate {id}"));
    if service_db::by_host_and_binary(&state.db, &host, COMPUTE_BINARY).await?.is_none() {
        return Err(missing());
    }
    let agg = aggregate_db::get(&state.db, id_num).await?.ok_or_else(missing)?;
    if !agg.hosts.contains(&host) {
        return Err(missing());
    }
    check_host_keeps_zone(state, &agg, &host, false).await?;
    aggregate_db::remove_host(&state.db, id_num, &host).await?;
    find(state, id_num).await
}

async fn set_metadata(state: &State, ctx: &AuthContext, id: &str, body: &Value) -> ApiResult<Aggregate> {
    let args = input::root(body, "set_metadata")?;
    input::only(args, &["metadata"], Some("set_metadata"))?;
    input::required(args, &["metadata"], "set_metadata")?;
    let changes = input::metadata(&args["metadata"], "metadata", true, false)?;
    authorize(state, ctx, "set_metadata")?;
    let id = parse_id(id)?;
    let agg = find(state, id).await?;
    if let Some((_, zone)) = changes.iter().find(|(k, _)| k == AZ_KEY) {
        let hosts: Vec<String> = agg.hosts.iter().cloned().collect();
        check_zone(state, &agg, zone.as_deref(), &hosts, Change::UpdateMetadata, true).await?;
    }
    aggregate_db::set_metadata(&state.db, id, &changes).await?;
    find(state, id).await
}

/// `POST /os-aggregates/{id}/images` (2.81) asks the aggregate's hosts to pre-cache images.
/// The request is checked as Nova checks it; the compute agents have no image cache to fill
/// yet, so the answer is a clean 501 rather than a promise nobody keeps.
async fn images(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(id): Path<String>, body: Bytes) -> ApiResult<StatusCode> {
    if !mv.at_least(81) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    let body = input::parse(&body)?;
    let top = body.as_object().ok_or_else(|| ApiError::bad_request(format!("{body} is not of type 'object'")))?;
    input::only(top, &["cache"], None)?;
    let entries = top.get("cache").and_then(Value::as_array).ok_or_else(|| ApiError::bad_request("'cache' is a required property"))?;
    if entries.is_empty() {
        return Err(ApiError::bad_request("[] should be non-empty"));
    }
    let mut ids = Vec::new();
    for entry in entries {
        let obj = input::object(entry, "cache")?;
        input::only(obj, &["id"], Some("cache"))?;
        input::required(obj, &["id"], "cache")?;
        let image = input::string(&obj["id"], "id", 1, 36)?;
        uuid::Uuid::parse_str(image).map_err(|_| input::invalid("id", &obj["id"], format!("'{image}' is not a 'uuid'")))?;
        ids.push(image.to_string());
    }
    state.authorize("compute:aggregates:images", &json!({}), &ctx)?;
    let id = parse_id(&id)?;
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    if unique.len() != ids.len() {
        return Err(ApiError::bad_request("Duplicate images in request"));
    }
    find(&state, id).await?;
    Err(ApiError::not_implemented("Image pre-caching is not supported by the compute hosts of this cloud."))
}
