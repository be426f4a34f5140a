//! Volume types (`/types`): list, show (`default` names the default type), create, update and
//! delete, with Cinder's view (extra specs only for those allowed, and among them only the
//! user-visible ones for non-admins).

use super::input;
use super::query::{self, Paging};
use super::{own_target, ApiResult, Caller, State};
use crate::context::RequestContext;
use crate::db::types::{self as db, VolumeType};
use crate::volume_api::types as types_api;
use crate::VolumeService;
use axum::extract::{OriginalUri, Path, State as S};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::json::Json as Body;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};
use std::cmp::Ordering;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/types", get(list).post(create))
        .route("/v3/types/{id}", get(show).put(update).delete(delete))
}

/// Extra specs any caller allowed to see specs may see (Cinder's USER_VISIBLE_EXTRA_SPECS).
const USER_VISIBLE_EXTRA_SPECS: &[&str] = &[
    "RESKEY:availability_zones",
    "multiattach",
    "replication_enabled",
];

/// Whether non-admins may see the extra spec `key`.
pub fn user_visible(key: &str) -> bool {
    USER_VISIBLE_EXTRA_SPECS.contains(&key)
}

/// One type as Cinder shows it to this caller.
pub fn view(state: &VolumeService, ctx: &RequestContext, t: &VolumeType) -> Value {
    view_parts(state, ctx, t, true, true)
}

/// The view without the fields Cinder's create (`qos_specs_id`) and update (`qos_specs_id` and
/// the type-access extension's `os-volume-type-access:is_public`) answers leave out.
fn view_parts(
    state: &VolumeService,
    ctx: &RequestContext,
    t: &VolumeType,
    with_qos: bool,
    with_access: bool,
) -> Value {
    let mut v = Map::new();
    v.insert("id".into(), json!(t.id));
    v.insert("name".into(), json!(t.name));
    v.insert("is_public".into(), json!(t.is_public));
    v.insert("description".into(), json!(t.description));
    let target = own_target(ctx);
    if state.allowed("volume_extension:access_types_extra_specs", &target, ctx) {
        let specs: Map<String, Value> = if state.allowed(
            "volume_extension:types_extra_specs:read_sensitive",
            &target,
            ctx,
        ) {
            t.extra_specs
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect()
        } else {
            t.extra_specs
                .iter()
                .filter(|(k, _)| USER_VISIBLE_EXTRA_SPECS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect()
        };
        v.insert("extra_specs".into(), Value::Object(specs));
    }
    if with_qos && state.allowed("volume_extension:access_types_qos_specs_id", &target, ctx) {
        v.insert("qos_specs_id".into(), json!(t.qos_specs_id));
    }
    if with_access && state.allowed("volume_extension:volume_type_access", &target, ctx) {
        v.insert("os-volume-type-access:is_public".into(), json!(t.is_public));
    }
    Value::Object(v)
}

async fn list(
    S(state): S<State>,
    Caller(ctx): Caller,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<Value>> {
    state.authorize("volume_extension:type_get_all", &own_target(&ctx), &ctx)?;
    let pairs = query::pairs(uri.query());
    let paging = Paging::from_pairs(
        &pairs,
        state.config.volume.osapi_max_limit,
        &[
            "id",
            "name",
            "display_name",
            "created_at",
            "updated_at",
            "is_public",
            "description",
            "display_description",
        ],
        "created_at",
    )?;
    // Only admins see private types in lists, and choose with is_public (default: public
    // only; `None` means both).
    let is_public = match (ctx.is_admin, query::get(&pairs, "is_public")) {
        (false, _) => Some(true),
        (true, None) => Some(true),
        (true, Some(v)) if v.eq_ignore_ascii_case("none") => None,
        (true, Some(v)) => Some(query::parse_bool("is_public", v)?),
    };
    let mut types = db::list(&state.db).await?;
    let shared = if ctx.is_admin {
        Vec::new()
    } else {
        db::accessible_ids(&state.db, ctx.project_id()).await?
    };
    types.retain(|t| match is_public {
        None => true,
        Some(true) => t.is_public || shared.contains(&t.id),
        Some(false) => !t.is_public,
    });
    if let Some(specs) = query::get(&pairs, "extra_specs") {
        let wanted = parse_spec_filter(specs)?;
        let sensitive_ok = state.allowed(
            "volume_extension:types_extra_specs:read_sensitive",
            &own_target(&ctx),
            &ctx,
        );
        if !sensitive_ok
            && wanted
                .keys()
                .any(|k| !USER_VISIBLE_EXTRA_SPECS.contains(&k.as_str()))
        {
            types.clear();
        }
        types.retain(|t| wanted.iter().all(|(k, v)| t.extra_specs.get(k) == Some(v)));
    }
    let (page, more) = paging.apply(types, |t| &t.id, compare)?;
    let mut body =
        json!({"volume_types": page.iter().map(|t| view(&state, &ctx, t)).collect::<Vec<_>>()});
    if more {
        if let Some(last) = page.last() {
            body["volume_type_links"] = query::next_link(
                &super::view::collection_url(&state, &ctx, "types"),
                &pairs,
                &last.id,
            );
        }
    }
    Ok(Json(body))
}

/// `extra_specs` filters are a Python dict literal (`{'k': 'v'}`) or JSON.
fn parse_spec_filter(text: &str) -> ApiResult<std::collections::BTreeMap<String, String>> {
    let json_text = text.replace('\'', "\"");
    let value: Value = serde_json::from_str(&json_text)
        .map_err(|_| ApiError::bad_request(format!("Invalid filter extra_specs: {text}")))?;
    input::string_map("extra_specs", &value)
}

fn compare(a: &VolumeType, b: &VolumeType, key: &str) -> Ordering {
    match key {
        "id" => a.id.cmp(&b.id),
        "name" | "display_name" => a.name.cmp(&b.name),
        "description" | "display_description" => a.description.cmp(&b.description),
        "is_public" => a.is_public.cmp(&b.is_public),
        "updated_at" => a.updated_at.cmp(&b.updated_at),
        _ => a.created_at.cmp(&b.created_at),
    }
}

async fn show(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = if id == "default" {
        types_api::default_type(&state)
            .await
            .map_err(|_| ApiError::not_found("Default volume type can not be found."))?
    } else {
        types_api::find(&state, &ctx, &id).await?
    };
    state.authorize("volume_extension:type_get", &own_target(&ctx), &ctx)?;
    Ok(Json(json!({"volume_type": view(&state, &ctx, &t)})))
}

async fn create(
    S(state): S<State>,
    Caller(ctx): Caller,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    state.authorize("volume_extension:type_create", &own_target(&ctx), &ctx)?;
    let obj = input::object(&body, "volume_type")?;
    let name = input::name(obj, "name")?;
    let description = input::opt_string(obj, "description", 255, true)?.flatten();
    let is_public = match obj.get("os-volume-type-access:is_public") {
        None => true,
        Some(v) => input::boolean("os-volume-type-access:is_public", v)?,
    };
    let extra_specs = match obj.get("extra_specs") {
        None | Some(Value::Null) => Default::default(),
        Some(v) => input::string_map("extra_specs", v)?,
    };
    if db::get_by_name(&state.db, &name).await?.is_some() {
        return Err(ApiError::conflict(format!(
            "Volume Type {name} already exists."
        )));
    }
    let now = now_micros();
    let t = VolumeType {
        id: crate::db::new_id(),
        name,
        description,
        is_public,
        qos_specs_id: None,
        created_at: now,
        updated_at: now,
        extra_specs,
    };
    db::insert(&state.db, &t).await.map_err(|e| {
        if e.status == StatusCode::CONFLICT {
            ApiError::conflict(format!("Volume Type {} already exists.", t.name))
        } else {
            e
        }
    })?;
    tracing::info!("Created volume type {} ({})", t.name, t.id);
    Ok(Json(
        json!({"volume_type": view_parts(&state, &ctx, &t, false, true)}),
    ))
}

async fn update(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    state.authorize("volume_extension:type_update", &own_target(&ctx), &ctx)?;
    let obj = input::object(&body, "volume_type")?;
    for key in obj.keys() {
        if !matches!(key.as_str(), "name" | "description" | "is_public") {
            return Err(ApiError::bad_request(format!(
                "Additional properties are not allowed ('{key}' was unexpected)"
            )));
        }
    }
    let name = input::opt_string(obj, "name", 255, true)?.flatten();
    let description = input::opt_string(obj, "description", 255, true)?.flatten();
    let is_public = match obj.get("is_public") {
        None | Some(Value::Null) => None,
        Some(v) => Some(input::boolean("is_public", v)?),
    };
    if matches!(obj.get("name"), Some(Value::String(s)) if s.trim().is_empty()) {
        return Err(ApiError::bad_request("Volume type name can not be empty."));
    }
    if name.is_none() && description.is_none() && is_public.is_none() {
        return Err(ApiError::bad_request(
            "Specify volume type name, description, is_public or a combination thereof.",
        ));
    }
    let mut t = db::get(&state.db, &id)
        .await?
        .ok_or_else(|| types_api::not_found(&id))?;
    if let Some(name) = name {
        if name != t.name && db::get_by_name(&state.db, &name).await?.is_some() {
            return Err(ApiError::conflict(format!(
                "Volume Type {name} already exists."
            )));
        }
        if t.name == state.config.volume.default_volume_type && name != t.name {
            return Err(ApiError::bad_request(format!(
                "The volume type {} is a default volume type and cannot be renamed.",
                t.id
            )));
        }
        t.name = name;
    }
    if let Some(d) = description {
        t.description = Some(d);
    }
    if let Some(p) = is_public {
        t.is_public = p;
    }
    db::update(&state.db, &t).await?;
    let t = db::get(&state.db, &id)
        .await?
        .ok_or_else(|| types_api::not_found(&id))?;
    Ok(Json(
        json!({"volume_type": view_parts(&state, &ctx, &t, false, false)}),
    ))
}

async fn delete(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.authorize("volume_extension:type_delete", &own_target(&ctx), &ctx)?;
    let t = db::get(&state.db, &id)
        .await?
        .ok_or_else(|| types_api::not_found(&id))?;
    if t.name == state.config.volume.default_volume_type {
        return Err(ApiError::bad_request(format!(
            "The volume type {id} is a default volume type and cannot be deleted."
        )));
    }
    if db::list(&state.db).await?.len() <= 1 {
        return Err(ApiError::bad_request(format!(
            "The volume type {id} is the only currently defined volume type and cannot be deleted."
        )));
    }
    if db::in_use(&state.db, &id).await? {
        return Err(ApiError::bad_request("Target volume type is still in use."));
    }
    db::delete(&state.db, &id).await?;
    tracing::info!("Deleted volume type {} ({id})", t.name);
    Ok(StatusCode::ACCEPTED)
}
