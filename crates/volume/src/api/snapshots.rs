//! Snapshots (`/snapshots`): list (summary and detail, filters, sorting, paging), show,
//! create (202; `force` for in-use volumes before 3.66), update, delete (202), metadata, and
//! the admin actions os-reset_status and os-force_delete.

use super::input;
use super::query::{self, Paging};
use super::view;
use super::volumes::metadata_of;
use super::{own_target, ApiResult, Caller, Microversion, State};
use crate::context::RequestContext;
use crate::db::metadata::{self, Table};
use crate::db::snapshots::{self, Snapshot};
use crate::states;
use crate::volume_api::{snapshots as api, volumes as volume_api};
use axum::extract::{OriginalUri, Path, State as S};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use monostack_common::json::Json as Body;
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::cmp::Ordering;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/snapshots", get(index).post(create))
        .route("/v3/snapshots/detail", get(detail))
        .route("/v3/snapshots/{id}", get(show).put(update).delete(delete))
        .route("/v3/snapshots/{id}/action", post(action))
        .route(
            "/v3/snapshots/{id}/metadata",
            get(meta_index).post(meta_create).put(meta_replace),
        )
        .route(
            "/v3/snapshots/{id}/metadata/{key}",
            get(meta_show).put(meta_update).delete(meta_delete),
        )
}

const SORT_KEYS: &[&str] = &[
    "id",
    "display_name",
    "display_description",
    "status",
    "volume_id",
    "created_at",
    "updated_at",
    "size",
];
const USER_FILTERS: &[&str] = &[
    "name",
    "status",
    "volume_id",
    "metadata",
    "availability_zone",
    "consumes_quota",
    "display_name",
];

fn compare(a: &Snapshot, b: &Snapshot, key: &str) -> Ordering {
    match key {
        "id" => a.id.cmp(&b.id),
        "display_name" => a.display_name.cmp(&b.display_name),
        "display_description" => a.display_description.cmp(&b.display_description),
        "status" => a.status.cmp(&b.status),
        "volume_id" => a.volume_id.cmp(&b.volume_id),
        "updated_at" => a.updated_at.cmp(&b.updated_at),
        "size" => a.volume_size.cmp(&b.volume_size),
        _ => a.created_at.cmp(&b.created_at),
    }
}

async fn listing(
    state: State,
    ctx: RequestContext,
    mv: Microversion,
    uri: &http::Uri,
    detailed: bool,
) -> ApiResult<Json<Value>> {
    state.authorize("volume:get_all_snapshots", &own_target(&ctx), &ctx)?;
    let pairs = query::pairs(uri.query());
    let paging = Paging::from_pairs(
        &pairs,
        state.config.volume.osapi_max_limit,
        SORT_KEYS,
        "created_at",
    )?;
    let all_tenants = ctx.is_admin && query::get(&pairs, "all_tenants").is_some();
    let project = match query::get(&pairs, "project_id") {
        Some(p) if ctx.is_admin => Some(p.to_string()),
        _ if all_tenants => None,
        _ => Some(ctx.project_id().to_string()),
    };
    let mut snaps = snapshots::list(&state.db, project.as_deref()).await?;
    let mut invalid = Vec::new();
    for (k, v) in &pairs {
        if query::PAGING_KEYS.contains(&k.as_str())
            || matches!(k.as_str(), "all_tenants" | "project_id")
        {
            continue;
        }
        if !USER_FILTERS.contains(&k.as_str()) {
            invalid.push(k.clone());
            continue;
        }
        match k.as_str() {
            "name" | "display_name" => snaps.retain(|s| s.display_name.as_deref() == Some(v)),
            "status" => snaps.retain(|s| s.status == *v),
            "volume_id" => snaps.retain(|s| s.volume_id == *v),
            "consumes_quota" => {
                let b = query::parse_bool("consumes_quota", v)?;
                snaps.retain(|s| s.use_quota == b);
            }
            "metadata" => {
                let wanted: Value = serde_json::from_str(&v.replace('\'', "\"")).map_err(|_| {
                    ApiError::bad_request(format!(
                        "Invalid input received: metadata filter {v} is not a dictionary"
                    ))
                })?;
                let wanted = input::string_map("metadata", &wanted)?;
                let ids: Vec<String> = snaps.iter().map(|s| s.id.clone()).collect();
                let meta = metadata::get_many(&state.db, Table::Snapshot, &ids).await?;
                snaps.retain(|s| {
                    wanted
                        .iter()
                        .all(|(wk, wv)| meta.get(&s.id).and_then(|m| m.get(wk)) == Some(wv))
                });
            }
            _ => {}
        }
    }
    if !invalid.is_empty() && mv.at_least(31) {
        return Err(ApiError::bad_request(format!(
            "Invalid filters {} are found in query options.",
            invalid.join(",")
        )));
    }
    let page = paging.page(snaps, |s| &s.id, compare)?;
    let ids: Vec<String> = page.items.iter().map(|s| s.id.clone()).collect();
    let meta = metadata::get_many(&state.db, Table::Snapshot, &ids).await?;
    let empty = Default::default();
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|s| {
            let meta = meta.get(&s.id).unwrap_or(&empty);
            if detailed {
                view::snapshot_detail(&state, &ctx, mv, s, meta)
            } else {
                view::snapshot_summary(&state, &ctx, mv, s, meta)
            }
        })
        .collect();
    let path = if detailed {
        "snapshots/detail"
    } else {
        "snapshots"
    };
    Ok(Json(query::list_body(
        "snapshots",
        &view::collection_url(&state, &ctx, path),
        &pairs,
        items,
        page.items.last().map(|s| s.id.as_str()),
        page.more,
        query::with_count(&pairs, mv.at_least(45))?.then_some(page.count),
    )))
}

async fn index(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<Value>> {
    listing(state, ctx, mv, &uri, false).await
}

async fn detail(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<Value>> {
    listing(state, ctx, mv, &uri, true).await
}

/// `{"snapshot": …}`: show's detail view, or the summary view of create and update, which
/// Cinder answers without the extended attributes.
async fn render(
    state: &State,
    ctx: &RequestContext,
    mv: Microversion,
    s: &Snapshot,
    detailed: bool,
) -> ApiResult<Value> {
    let meta = metadata::get(&state.db, Table::Snapshot, &s.id).await?;
    let view = if detailed {
        view::snapshot_detail(state, ctx, mv, s, &meta)
    } else {
        view::snapshot_summary(state, ctx, mv, s, &meta)
    };
    Ok(json!({"snapshot": view}))
}

async fn show(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let s = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:get_snapshot", &api::target(&s), &ctx)?;
    Ok(Json(render(&state, &ctx, mv, &s, true).await?))
}

async fn create(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Body(body): Body<Value>,
) -> ApiResult<Response> {
    let obj = input::object(&body, "snapshot")?;
    let volume_id = match obj.get("volume_id") {
        Some(Value::String(s)) if uuid::Uuid::parse_str(s).is_ok() => s.clone(),
        // Cinder's schema lets null through, and then finds no such volume.
        Some(Value::Null) => return Err(ApiError::not_found("Volume None could not be found.")),
        Some(other) => return Err(ApiError::bad_request(format!("Invalid input for field/attribute volume_id. Value: {other}. '{other}' is not a 'uuid'"))),
        None => return Err(ApiError::bad_request("Invalid input for field/attribute volume_id. 'volume_id' is a required property")),
    };
    let force = match obj.get("force") {
        None | Some(Value::Null) => None,
        Some(v) => Some(input::boolean("force", v)?),
    };
    if mv.at_least(66) && force == Some(false) {
        return Err(ApiError::bad_request(
            "Since microversion 3.66 the 'force' flag is invalid for this request.  For backward compatability, however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored.",
        ));
    }
    let name = input::opt_string(obj, "name", 255, true)?
        .or(input::opt_string(obj, "display_name", 255, true)?)
        .flatten();
    let description = input::opt_string(obj, "description", 255, true)?
        .or(input::opt_string(obj, "display_description", 255, true)?)
        .flatten();
    let meta = metadata_of("metadata", obj.get("metadata"))?;
    let volume = volume_api::find(&state, &ctx, &volume_id).await?;
    state.authorize("volume:create_snapshot", &volume_api::target(&volume), &ctx)?;
    let allow_in_use = force.unwrap_or(false) || mv.at_least(66);
    let s = api::create(&state, &ctx, &volume, name, description, meta, allow_in_use).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(render(&state, &ctx, mv, &s, false).await?),
    )
        .into_response())
}

async fn update(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    let obj = input::object(&body, "snapshot")?;
    if let Some(k) = obj.keys().find(|k| {
        !matches!(
            k.as_str(),
            "name" | "description" | "display_name" | "display_description"
        )
    }) {
        return Err(ApiError::bad_request(format!("Invalid input for field/attribute snapshot. Additional properties are not allowed ('{k}' was unexpected)")));
    }
    if obj.is_empty() {
        return Err(ApiError::bad_request("Invalid input for field/attribute snapshot. Value: {}. {} does not have enough properties"));
    }
    let name = input::opt_string(obj, "name", 255, true)?.or(input::opt_string(
        obj,
        "display_name",
        255,
        true,
    )?);
    let description = input::opt_string(obj, "description", 255, true)?.or(input::opt_string(
        obj,
        "display_description",
        255,
        true,
    )?);
    let s = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:update_snapshot", &api::target(&s), &ctx)?;
    let name = name.unwrap_or(s.display_name.clone());
    let description = description.unwrap_or(s.display_description.clone());
    snapshots::rename(&state.db, &id, &name, &description).await?;
    let s = api::find(&state, &ctx, &id).await?;
    Ok(Json(render(&state, &ctx, mv, &s, false).await?))
}

async fn delete(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let s = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:delete_snapshot", &api::target(&s), &ctx)?;
    api::delete(&state, &ctx, &s, false).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn action(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<StatusCode> {
    let s = api::find(&state, &ctx, &id).await?;
    let target = api::target(&s);
    if let Some(args) = body.get("os-reset_status") {
        state.authorize(
            "volume_extension:snapshot_admin_actions:reset_status",
            &target,
            &ctx,
        )?;
        let status = args
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_lowercase);
        let Some(status) = status.filter(|s| states::snapshot::ALL.contains(&s.as_str())) else {
            return Err(ApiError::bad_request(
                "Invalid input received: Must specify a valid status",
            ));
        };
        snapshots::update_if(&state.db, &id, &[], &status, None, None).await?;
        return Ok(StatusCode::ACCEPTED);
    }
    if let Some(args) = body.get("os-update_snapshot_status") {
        state.authorize(
            "snapshot_extension:snapshot_actions:update_snapshot_status",
            &target,
            &ctx,
        )?;
        update_snapshot_status(&state, &s, args).await?;
        return Ok(StatusCode::ACCEPTED);
    }
    if body.get("os-force_delete").is_some() {
        state.authorize(
            "volume_extension:snapshot_admin_actions:force_delete",
            &target,
            &ctx,
        )?;
        api::delete(&state, &ctx, &s, true).await?;
        return Ok(StatusCode::ACCEPTED);
    }
    let name = body
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .unwrap_or_default();
    Err(ApiError::bad_request(format!(
        "There is no such action: {name}"
    )))
}

/// `os-update_snapshot_status` (the volume driver's call in Cinder, allowed to members):
/// `creating` may become `creating`, `available` or `error`, `deleting` may become `deleting` or
/// `error_deleting`; `progress` is an integer percentage (`"80%"`).
async fn update_snapshot_status(state: &State, s: &Snapshot, args: &Value) -> ApiResult<()> {
    let field = "os-update_snapshot_status";
    let Some(obj) = args.as_object() else {
        return Err(input::invalid(field, args, "is not of type 'object'"));
    };
    if let Some(k) = obj.keys().find(|k| *k != "status" && *k != "progress") {
        return Err(input::invalid(
            field,
            args,
            &format!("Additional properties are not allowed ('{k}' was unexpected)"),
        ));
    }
    let status = match obj.get("status") {
        Some(Value::String(st)) => st.to_lowercase(),
        Some(other) => return Err(input::invalid("status", other, "is not of type 'string'")),
        None => {
            return Err(input::invalid(
                field,
                args,
                "'status' is a required property",
            ))
        }
    };
    let allowed: &[&str] = match s.status.as_str() {
        "creating" => &["creating", "available", "error"],
        "deleting" => &["deleting", "error_deleting"],
        current => {
            return Err(ApiError::bad_request(format!(
                "Snapshot status {current} not allowed for update_snapshot_status"
            )))
        }
    };
    if !allowed.contains(&status.as_str()) {
        return Err(ApiError::bad_request(format!(
            "Provided snapshot status {status} not allowed for snapshot with status {}.",
            s.status
        )));
    }
    let progress = match obj.get("progress") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.is_empty() => None,
        Some(Value::String(p)) => {
            let ok = p
                .strip_suffix('%')
                .and_then(|n| n.trim().parse::<i64>().ok())
                .is_some_and(|n| (0..=100).contains(&n));
            if !ok {
                return Err(ApiError::bad_request(
                    "progress must be an integer percentage",
                ));
            }
            Some(p.clone())
        }
        Some(other) => return Err(input::invalid("progress", other, "is not of type 'string'")),
    };
    snapshots::update_if(
        &state.db,
        &s.id,
        &[s.status.as_str()],
        &status,
        progress.as_deref(),
        None,
    )
    .await?;
    tracing::info!("Snapshot {} status updated to {status}", s.id);
    Ok(())
}

async fn meta_index(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let s = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:get_snapshot_metadata", &api::target(&s), &ctx)?;
    Ok(Json(
        json!({"metadata": metadata::get(&state.db, Table::Snapshot, &id).await?}),
    ))
}

async fn meta_set(
    state: &State,
    ctx: &RequestContext,
    id: &str,
    body: &Value,
    replace: bool,
) -> ApiResult<Json<Value>> {
    let meta = match body.get("metadata") {
        Some(m) => metadata_of("metadata", Some(m))?,
        None => return Err(ApiError::bad_request("Malformed request body")),
    };
    let s = api::find(state, ctx, id).await?;
    state.authorize("volume:update_snapshot_metadata", &api::target(&s), ctx)?;
    metadata::set(&state.db, Table::Snapshot, id, &meta, replace).await?;
    Ok(Json(
        json!({"metadata": metadata::get(&state.db, Table::Snapshot, id).await?}),
    ))
}

async fn meta_create(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    meta_set(&state, &ctx, &id, &body, false).await
}

async fn meta_replace(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    meta_set(&state, &ctx, &id, &body, true).await
}

async fn meta_show(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let s = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:get_snapshot_metadata", &api::target(&s), &ctx)?;
    match metadata::get(&state.db, Table::Snapshot, &id)
        .await?
        .get(&key)
    {
        Some(v) => Ok(Json(json!({"meta": {key: v}}))),
        None => Err(ApiError::not_found(format!(
            "Snapshot {id} has no metadata with key {key}."
        ))),
    }
}

async fn meta_update(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path((id, key)): Path<(String, String)>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    let meta = match body.get("meta") {
        Some(m) => metadata_of("meta", Some(m))?,
        None => return Err(ApiError::bad_request("Malformed request body")),
    };
    if !meta.contains_key(&key) {
        return Err(ApiError::bad_request("Request body and URI mismatch"));
    }
    if meta.len() > 1 {
        return Err(ApiError::bad_request(
            "Request body contains too many items",
        ));
    }
    let s = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:update_snapshot_metadata", &api::target(&s), &ctx)?;
    metadata::set(&state.db, Table::Snapshot, &id, &meta, false).await?;
    Ok(Json(json!({"meta": meta})))
}

async fn meta_delete(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let s = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:delete_snapshot_metadata", &api::target(&s), &ctx)?;
    if !metadata::delete(&state.db, Table::Snapshot, &id, &key).await? {
        return Err(ApiError::not_found(format!(
            "Snapshot {id} has no metadata with key {key}."
        )));
    }
    Ok(StatusCode::OK)
}
