//! QoS specs (`/qos-specs`, admins only): create, list, show, set keys, delete keys, delete
//! (refused while associated unless `force`), and associations with volume types.

use super::input;
use super::{own_target, ApiResult, Caller, State};
use crate::context::RequestContext;
use crate::db::qos::{self, QosSpecs};
use axum::extract::{OriginalUri, Path, State as S};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use monostack_common::json::Json as Body;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/qos-specs", get(index).post(create))
        .route("/v3/qos-specs/{id}", get(show).put(update).delete(delete))
        .route("/v3/qos-specs/{id}/delete_keys", put(delete_keys))
        .route("/v3/qos-specs/{id}/associations", get(associations))
        .route("/v3/qos-specs/{id}/associate", get(associate))
        .route("/v3/qos-specs/{id}/disassociate", get(disassociate))
        .route("/v3/qos-specs/{id}/disassociate_all", get(disassociate_all))
}

const CONSUMERS: &[&str] = &["front-end", "back-end", "both"];

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("No such QoS spec {id}."))
}

fn view(q: &QosSpecs) -> Value {
    json!({"id": q.id, "name": q.name, "consumer": q.consumer, "specs": q.specs})
}

fn links(state: &State, ctx: &RequestContext, id: &str) -> Value {
    super::view::links(state, ctx, "qos-specs", id)
}

async fn find(state: &State, id: &str) -> ApiResult<QosSpecs> {
    qos::get(&state.db, id).await?.ok_or_else(|| not_found(id))
}

async fn index(S(state): S<State>, Caller(ctx): Caller) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:qos_specs_manage:get_all",
        &own_target(&ctx),
        &ctx,
    )?;
    let list: Vec<Value> = qos::list(&state.db).await?.iter().map(view).collect();
    Ok(Json(json!({"qos_specs": list})))
}

async fn show(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:qos_specs_manage:get",
        &own_target(&ctx),
        &ctx,
    )?;
    let q = find(&state, &id).await?;
    Ok(Json(
        json!({"qos_specs": view(&q), "links": links(&state, &ctx, &id)}),
    ))
}

/// The consumer and the specs of a body object (every other key is a spec).
fn parse(
    obj: &serde_json::Map<String, Value>,
) -> ApiResult<(Option<String>, std::collections::BTreeMap<String, String>)> {
    let mut consumer = None;
    let mut rest = serde_json::Map::new();
    for (k, v) in obj {
        match k.as_str() {
            "name" => {}
            "consumer" => {
                let c = v.as_str().unwrap_or_default().to_string();
                if !CONSUMERS.contains(&c.as_str()) {
                    return Err(ApiError::bad_request(format!(
                        "Invalid qos specs: Valid consumer of QoS specs are: {}",
                        CONSUMERS.join(", ")
                    )));
                }
                consumer = Some(c);
            }
            _ => {
                rest.insert(k.clone(), v.clone());
            }
        }
    }
    Ok((
        consumer,
        input::string_map("qos_specs", &Value::Object(rest))?,
    ))
}

async fn create(
    S(state): S<State>,
    Caller(ctx): Caller,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:qos_specs_manage:create",
        &own_target(&ctx),
        &ctx,
    )?;
    let obj = input::object(&body, "qos_specs")?;
    let name = input::name(obj, "name")?;
    let (consumer, specs) = parse(obj)?;
    let q = QosSpecs {
        id: crate::db::new_id(),
        name: name.trim().to_string(),
        consumer: consumer.unwrap_or_else(|| "back-end".into()),
        specs,
        created_at: now_micros(),
    };
    qos::insert(&state.db, &q).await.map_err(|e| {
        if e.status == StatusCode::CONFLICT {
            ApiError::conflict(format!("QoS Specs {} already exists.", q.name))
        } else {
            e
        }
    })?;
    Ok(Json(
        json!({"qos_specs": view(&q), "links": links(&state, &ctx, &q.id)}),
    ))
}

async fn update(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:qos_specs_manage:update",
        &own_target(&ctx),
        &ctx,
    )?;
    let obj = input::object(&body, "qos_specs")?;
    let (consumer, specs) = parse(obj)?;
    find(&state, &id).await?;
    qos::update(&state.db, &id, consumer.as_deref(), &specs).await?;
    Ok(Json(json!({"qos_specs": obj})))
}

async fn delete(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<StatusCode> {
    state.authorize(
        "volume_extension:qos_specs_manage:delete",
        &own_target(&ctx),
        &ctx,
    )?;
    let pairs = super::query::pairs(uri.query());
    let force = super::query::get(&pairs, "force")
        .map(|v| super::query::parse_bool("force", v))
        .transpose()?
        .unwrap_or(false);
    find(&state, &id).await?;
    if !force && !qos::associated_types(&state.db, &id).await?.is_empty() {
        return Err(ApiError::bad_request("Qos specs still in use."));
    }
    qos::delete(&state.db, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn delete_keys(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<StatusCode> {
    state.authorize(
        "volume_extension:qos_specs_manage:delete",
        &own_target(&ctx),
        &ctx,
    )?;
    let keys: Vec<String> = match body.get("keys").and_then(Value::as_array) {
        Some(keys) => keys
            .iter()
            .map(|k| {
                k.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::bad_request("Invalid input for field/attribute keys."))
            })
            .collect::<ApiResult<_>>()?,
        None => {
            return Err(ApiError::bad_request(
                "Invalid input for field/attribute keys. 'keys' is a required property",
            ))
        }
    };
    find(&state, &id).await?;
    if let Some(missing) = qos::delete_keys(&state.db, &id, &keys).await? {
        return Err(ApiError::not_found(format!(
            "QoS spec {id} has no spec with key {missing}."
        )));
    }
    Ok(StatusCode::ACCEPTED)
}

async fn associations(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:qos_specs_manage:get_all",
        &own_target(&ctx),
        &ctx,
    )?;
    find(&state, &id).await?;
    let list: Vec<Value> = qos::associated_types(&state.db, &id)
        .await?
        .into_iter()
        .map(|(tid, name)| json!({"association_type": "volume_type", "name": name, "id": tid}))
        .collect();
    Ok(Json(json!({"qos_associations": list})))
}

/// The `vol_type_id` query parameter, which must name an existing type.
async fn type_param(state: &State, uri: &http::Uri) -> ApiResult<crate::db::types::VolumeType> {
    let pairs = super::query::pairs(uri.query());
    let Some(type_id) = super::query::get(&pairs, "vol_type_id") else {
        return Err(ApiError::bad_request("Volume Type id must not be None."));
    };
    crate::db::types::get(&state.db, type_id)
        .await?
        .ok_or_else(|| crate::volume_api::types::not_found(type_id))
}

async fn associate(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<StatusCode> {
    state.authorize(
        "volume_extension:qos_specs_manage:update",
        &own_target(&ctx),
        &ctx,
    )?;
    let t = type_param(&state, &uri).await?;
    find(&state, &id).await?;
    if let Some(other) = t.qos_specs_id.as_deref().filter(|other| *other != id) {
        return Err(ApiError::bad_request(format!(
            "Invalid volume type: Type {} is already associated with another qos specs: {other}",
            t.id
        )));
    }
    qos::set_type_qos(&state.db, &t.id, Some(&id)).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn disassociate(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<StatusCode> {
    state.authorize(
        "volume_extension:qos_specs_manage:update",
        &own_target(&ctx),
        &ctx,
    )?;
    let t = type_param(&state, &uri).await?;
    find(&state, &id).await?;
    if t.qos_specs_id.as_deref() == Some(id.as_str()) {
        qos::set_type_qos(&state.db, &t.id, None).await?;
    }
    Ok(StatusCode::ACCEPTED)
}

async fn disassociate_all(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.authorize(
        "volume_extension:qos_specs_manage:update",
        &own_target(&ctx),
        &ctx,
    )?;
    find(&state, &id).await?;
    for (tid, _) in qos::associated_types(&state.db, &id).await? {
        qos::set_type_qos(&state.db, &tid, None).await?;
    }
    Ok(StatusCode::ACCEPTED)
}
