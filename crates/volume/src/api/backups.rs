//! Backups (`/backups`): create (202), list (summary and detail, filters name, status and
//! volume_id, sorting, paging and `with_count`), show, update (3.9), delete (202), restore
//! (`/backups/{id}/restore`), `export_record` / `import_record`, and the admin actions
//! os-reset_status and os-force_delete.

use super::input;
use super::query::{self, Paging};
use super::view::{self, links, opt_ts, ts};
use super::{own_target, ApiResult, Caller, Microversion, State};
use crate::context::RequestContext;
use crate::db::backups::{self, Backup};
use crate::volume_api::backups as api;
use axum::extract::{OriginalUri, Path, State as S};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use monostack_common::json::Json as Body;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};
use std::cmp::Ordering;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/backups", get(index).post(create))
        .route("/v3/backups/detail", get(detail))
        .route("/v3/backups/import_record", post(import_record))
        .route("/v3/backups/{id}", get(show).put(update).delete(delete))
        .route("/v3/backups/{id}/restore", post(restore))
        .route("/v3/backups/{id}/export_record", get(export_record))
        .route("/v3/backups/{id}/action", post(action))
}

/// Cinder's summary view.
pub fn summary(state: &State, ctx: &RequestContext, b: &Backup) -> Value {
    json!({"id": b.id, "name": b.display_name, "links": links(state, ctx, "backups", &b.id)})
}

/// Cinder's detail view, per microversion and caller.
pub fn detail_view(state: &State, ctx: &RequestContext, mv: Microversion, b: &Backup) -> Value {
    let mut v = json!({
        "id": b.id,
        "status": b.status,
        "size": b.size,
        "object_count": b.object_count,
        "availability_zone": b.availability_zone,
        "container": b.container,
        "created_at": ts(b.created_at),
        "updated_at": ts(b.updated_at),
        "name": b.display_name,
        "description": b.display_description,
        "fail_reason": b.fail_reason,
        "volume_id": b.volume_id,
        "links": links(state, ctx, "backups", &b.id),
        "is_incremental": b.is_incremental(),
        "has_dependent_backups": b.num_dependent_backups > 0,
        "snapshot_id": b.snapshot_id,
        "data_timestamp": opt_ts(b.data_timestamp),
    });
    if mv.at_least(18) && state.allowed("backup:backup_project_attribute", &api::target(b), ctx) {
        v["os-backup-project-attr:project_id"] = json!(b.project_id);
    }
    if mv.at_least(43) {
        v["metadata"] = json!(b.metadata);
    }
    if mv.at_least(56) {
        v["user_id"] = json!(b.user_id);
    }
    v
}

fn invalid(field: &str, value: &Value, reason: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid input for field/attribute {field}. Value: {value}. {reason}"))
}

/// The object under `key`, with no other top-level key and only `allowed` fields.
fn body_object<'a>(body: &'a Value, key: &str, allowed: &[&str]) -> ApiResult<&'a Map<String, Value>> {
    let obj = input::object(body, key)?;
    if let Some(k) = body.as_object().and_then(|t| t.keys().find(|k| *k != key)) {
        return Err(ApiError::bad_request(format!(
            "Invalid input for field/attribute {k}. Additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "Invalid input for field/attribute {key}. Additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    Ok(obj)
}

fn opt_uuid(obj: &Map<String, Value>, field: &str) -> ApiResult<Option<String>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if uuid::Uuid::parse_str(s).is_ok() => Ok(Some(s.clone())),
        Some(other) => Err(invalid(field, other, &format!("{other} is not a 'uuid'"))),
    }
}

fn opt_bool(obj: &Map<String, Value>, field: &str) -> ApiResult<bool> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(v) => input::boolean(field, v),
    }
}

async fn create(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Body(body): Body<Value>) -> ApiResult<Response> {
    let mut allowed = vec!["volume_id", "container", "description", "incremental", "force", "name", "snapshot_id"];
    if mv.at_least(43) {
        allowed.push("metadata");
    }
    if mv.at_least(51) {
        allowed.push("availability_zone");
    }
    let obj = body_object(&body, "backup", &allowed)?;
    let volume_id =
        opt_uuid(obj, "volume_id")?.ok_or_else(|| ApiError::bad_request("Invalid input for field/attribute backup. 'volume_id' is a required property"))?;
    let text = |f: &str| -> ApiResult<Option<String>> { Ok(input::opt_string(obj, f, 255, true)?.flatten()) };
    let req = api::CreateRequest {
        volume_id,
        name: text("name")?,
        description: text("description")?,
        container: text("container")?.filter(|c| !c.is_empty()),
        incremental: opt_bool(obj, "incremental")?,
        force: opt_bool(obj, "force")?,
        snapshot_id: opt_uuid(obj, "snapshot_id")?,
        metadata: super::volumes::metadata_of("metadata", obj.get("metadata"))?,
        availability_zone: text("availability_zone")?,
    };
    let b = api::create(&state, &ctx, req).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"backup": summary(&state, &ctx, &b)}))).into_response())
}

const USER_FILTERS: &[&str] = &["name", "status", "volume_id"];
const ADMIN_FILTERS: &[&str] = &["all_tenants", "project_id"];
const SORT_KEYS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "display_name",
    "status",
    "size",
    "container",
    "volume_id",
    "availability_zone",
];

fn compare(a: &Backup, b: &Backup, key: &str) -> Ordering {
    match key {
        "id" => a.id.cmp(&b.id),
        "updated_at" => a.updated_at.cmp(&b.updated_at),
        "display_name" => a.display_name.cmp(&b.display_name),
        "status" => a.status.cmp(&b.status),
        "size" => a.size.cmp(&b.size),
        "container" => a.container.cmp(&b.container),
        "volume_id" => a.volume_id.cmp(&b.volume_id),
        "availability_zone" => a.availability_zone.cmp(&b.availability_zone),
        _ => a.created_at.cmp(&b.created_at),
    }
}

async fn listing(state: State, ctx: RequestContext, mv: Microversion, uri: &http::Uri, detailed: bool) -> ApiResult<Json<Value>> {
    state.authorize("backup:get_all", &own_target(&ctx), &ctx)?;
    let pairs = query::pairs(uri.query());
    let paging = Paging::from_pairs(&pairs, state.config.volume.osapi_max_limit, SORT_KEYS, "created_at")?;
    let with_count = mv.at_least(45)
        && query::get(&pairs, "with_count")
            .map(|v| query::parse_bool("with_count", v))
            .transpose()?
            .unwrap_or(false);
    let invalid: Vec<&str> = pairs
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !(query::PAGING_KEYS.contains(k) || USER_FILTERS.contains(k) || (ctx.is_admin && ADMIN_FILTERS.contains(k))))
        .collect();
    if !invalid.is_empty() && mv.at_least(31) {
        return Err(ApiError::bad_request(format!(
            "Invalid filters {} are found in query options.",
            invalid.join(",")
        )));
    }
    let all_tenants = query::all_tenants(&ctx, &pairs);
    let project = match query::get(&pairs, "project_id") {
        Some(p) if ctx.is_admin => Some(p.to_string()),
        _ if all_tenants => None,
        _ => Some(ctx.project_id().to_string()),
    };
    let mut items = backups::list(&state.db, project.as_deref()).await?;
    for (k, want) in &pairs {
        match k.as_str() {
            "name" => items.retain(|b| b.display_name.as_deref() == Some(want.as_str())),
            "status" => items.retain(|b| b.status == *want),
            "volume_id" => items.retain(|b| b.volume_id == *want),
            _ => {}
        }
    }
    let page = paging.page(items, |b| &b.id, compare)?;
    let list: Vec<Value> = page
        .items
        .iter()
        .map(|b| {
            if detailed {
                detail_view(&state, &ctx, mv, b)
            } else {
                summary(&state, &ctx, b)
            }
        })
        .collect();
    let path = if detailed { "backups/detail" } else { "backups" };
    Ok(Json(query::list_body(
        "backups",
        &view::collection_url(&state, &ctx, path),
        &pairs,
        list,
        page.items.last().map(|b| b.id.as_str()),
        page.more,
        with_count.then_some(page.count),
    )))
}

async fn index(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, OriginalUri(uri): OriginalUri) -> ApiResult<Json<Value>> {
    listing(state, ctx, mv, &uri, false).await
}

async fn detail(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, OriginalUri(uri): OriginalUri) -> ApiResult<Json<Value>> {
    listing(state, ctx, mv, &uri, true).await
}

async fn show(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let b = api::find(&state, &ctx, &id).await?;
    state.authorize("backup:get", &api::target(&b), &ctx)?;
    Ok(Json(json!({"backup": detail_view(&state, &ctx, mv, &b)})))
}

async fn update(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>, Body(body): Body<Value>) -> ApiResult<Json<Value>> {
    if !mv.at_least(9) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    let allowed: &[&str] = if mv.at_least(43) {
        &["name", "description", "metadata"]
    } else {
        &["name", "description"]
    };
    let obj = body_object(&body, "backup", allowed)?;
    let mut b = api::find(&state, &ctx, &id).await?;
    state.authorize("backup:update", &api::target(&b), &ctx)?;
    if let Some(n) = input::opt_string(obj, "name", 255, true)? {
        b.display_name = n;
    }
    if let Some(d) = input::opt_string(obj, "description", 255, true)? {
        b.display_description = d;
    }
    if obj.contains_key("metadata") {
        b.metadata = super::volumes::metadata_of("metadata", obj.get("metadata"))?;
    }
    backups::save_if(&state.db, &b, &[]).await?;
    Ok(Json(json!({"backup": summary(&state, &ctx, &b)})))
}

async fn delete(S(state): S<State>, Caller(ctx): Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let b = api::find(&state, &ctx, &id).await?;
    api::delete(&state, &ctx, &b, false).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn restore(S(state): S<State>, Caller(ctx): Caller, Path(id): Path<String>, Body(body): Body<Value>) -> ApiResult<Response> {
    let obj = body_object(&body, "restore", &["volume_id", "name"])?;
    let volume_id = opt_uuid(obj, "volume_id")?;
    let name = input::opt_string(obj, "name", 255, true)?.flatten();
    let b = api::find(&state, &ctx, &id).await?;
    let r = api::restore(&state, &ctx, &b, volume_id.as_deref(), name).await?;
    let body = json!({"restore": {"backup_id": r.backup_id, "volume_id": r.volume_id, "volume_name": r.volume_name}});
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

async fn export_record(S(state): S<State>, Caller(ctx): Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let b = api::find(&state, &ctx, &id).await?;
    let (service, url) = api::export_record(&state, &ctx, &b).await?;
    Ok(Json(json!({"backup-record": {"backup_service": service, "backup_url": url}})))
}

async fn import_record(S(state): S<State>, Caller(ctx): Caller, Body(body): Body<Value>) -> ApiResult<Response> {
    let obj = body_object(&body, "backup-record", &["backup_service", "backup_url"])?;
    let field = |f: &str| -> ApiResult<String> {
        match obj.get(f) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(other) => Err(invalid(f, other, "is not a non-empty string")),
            None => Err(ApiError::bad_request(format!(
                "Invalid input for field/attribute backup-record. '{f}' is a required property"
            ))),
        }
    };
    let (service, url) = (field("backup_service")?, field("backup_url")?);
    let b = api::import_record(&state, &ctx, &service, &url).await?;
    Ok((StatusCode::CREATED, Json(json!({"backup": summary(&state, &ctx, &b)}))).into_response())
}

async fn action(S(state): S<State>, Caller(ctx): Caller, Path(id): Path<String>, Body(body): Body<Value>) -> ApiResult<StatusCode> {
    let obj = body.as_object().ok_or_else(|| ApiError::bad_request("Malformed request body"))?;
    let Some((name, args)) = obj.iter().next().filter(|_| obj.len() == 1) else {
        return Err(ApiError::bad_request("Malformed request body: exactly one action is expected."));
    };
    let b = api::find(&state, &ctx, &id).await?;
    match name.as_str() {
        "os-reset_status" => {
            let status = match args.get("status") {
                Some(Value::String(s)) => s.to_lowercase(),
                Some(other) => return Err(invalid("status", other, "is not of type 'string'")),
                None => {
                    return Err(ApiError::bad_request(
                        "Invalid input for field/attribute os-reset_status. 'status' is a required property",
                    ))
                }
            };
            api::reset_status(&state, &ctx, &b, &status).await?;
            Ok(StatusCode::ACCEPTED)
        }
        "os-force_delete" => {
            state.authorize("volume_extension:backup_admin_actions:force_delete", &api::target(&b), &ctx)?;
            api::delete(&state, &ctx, &b, true).await?;
            Ok(StatusCode::ACCEPTED)
        }
        other => Err(ApiError::bad_request(format!("There is no such action: {other}"))),
    }
}
