//! Volume type encryption (`/types/{id}/encryption`, Cinder's volume_type_encryption
//! extension, admins only): one record per type naming the provider, cipher, key size and
//! control location. It cannot be created, changed or removed while a volume uses the type.

use super::input;
use super::view::{opt_ts, ts};
use super::{own_target, ApiResult, Caller, State};
use crate::db::encryption::{self as db, Encryption};
use crate::db::types as types_db;
use crate::volume_api::types as types_api;
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use monostack_common::json::Json as Body;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/types/{id}/encryption", get(index).post(create))
        .route(
            "/v3/types/{id}/encryption/{key}",
            put(update).get(show).delete(delete),
        )
}

fn record_view(e: &Encryption) -> Value {
    json!({
        "volume_type_id": e.volume_type_id,
        "encryption_id": e.encryption_id,
        "provider": e.provider,
        "cipher": e.cipher,
        "key_size": e.key_size,
        "control_location": e.control_location,
        "deleted": false,
        "created_at": ts(e.created_at),
        "updated_at": ts(e.updated_at),
        "deleted_at": opt_ts(None),
    })
}

fn not_found(type_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Volume type encryption for type {type_id} does not exist."
    ))
}

/// The type must exist (404 with Cinder's message otherwise).
async fn check_type(state: &State, type_id: &str) -> ApiResult<()> {
    types_db::get(&state.db, type_id)
        .await?
        .ok_or_else(|| types_api::not_found(type_id))?;
    Ok(())
}

/// The fields of an `encryption` body as Cinder's schema takes them; `required` lists the
/// fields a create needs.
struct Fields {
    provider: Option<String>,
    cipher: Option<Option<String>>,
    key_size: Option<Option<i64>>,
    control_location: Option<String>,
}

fn parse(body: &Value, create: bool) -> ApiResult<Fields> {
    if let Some(top) = body.as_object() {
        if let Some(k) = top.keys().find(|k| *k != "encryption") {
            return Err(ApiError::bad_request(format!(
                "Additional properties are not allowed ('{k}' was unexpected)"
            )));
        }
    }
    let obj = input::object(body, "encryption")?;
    let whole = Value::Object(obj.clone());
    if let Some(k) = obj.keys().find(|k| {
        !matches!(
            k.as_str(),
            "provider" | "cipher" | "key_size" | "control_location"
        )
    }) {
        return Err(input::invalid(
            "encryption",
            &whole,
            &format!("Additional properties are not allowed ('{k}' was unexpected)"),
        ));
    }
    if create {
        for required in ["provider", "control_location"] {
            if !obj.contains_key(required) {
                return Err(input::invalid(
                    "encryption",
                    &whole,
                    &format!("'{required}' is a required property"),
                ));
            }
        }
    }
    let provider = match obj.get("provider") {
        Some(Value::Null) => {
            return Err(input::invalid(
                "encryption/provider",
                &Value::Null,
                "None is not of type 'string'",
            ))
        }
        _ => input::opt_string(obj, "provider", 255, false)?.flatten(),
    };
    let cipher = input::opt_string(obj, "cipher", 255, true)?;
    let key_size = match obj.get("key_size") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => {
            let n = input::integer("encryption/key_size", v)?;
            if n < 0 {
                return Err(input::invalid(
                    "encryption/key_size",
                    v,
                    "is less than the minimum of 0",
                ));
            }
            Some(Some(n))
        }
    };
    let control_location = match obj.get("control_location") {
        None => None,
        Some(Value::String(s)) if s == "front-end" || s == "back-end" => Some(s.clone()),
        Some(other) => {
            return Err(input::invalid(
                "encryption/control_location",
                other,
                "is not one of ['front-end', 'back-end']",
            ))
        }
    };
    Ok(Fields {
        provider,
        cipher,
        key_size,
        control_location,
    })
}

async fn index(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:volume_type_encryption:get",
        &own_target(&ctx),
        &ctx,
    )?;
    check_type(&state, &id).await?;
    Ok(Json(match db::get(&state.db, &id).await? {
        Some(e) => record_view(&e),
        None => json!({}),
    }))
}

async fn create(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:volume_type_encryption:create",
        &own_target(&ctx),
        &ctx,
    )?;
    check_type(&state, &id).await?;
    if types_db::in_use(&state.db, &id).await? {
        return Err(ApiError::bad_request(
            "Cannot create encryption specs. Volume type in use.",
        ));
    }
    if db::get(&state.db, &id).await?.is_some() {
        return Err(ApiError::bad_request(format!(
            "Volume type encryption for type {id} already exists."
        )));
    }
    let f = parse(&body, true)?;
    let now = now_micros();
    let e = Encryption {
        volume_type_id: id.clone(),
        encryption_id: crate::db::new_id(),
        provider: f.provider.unwrap_or_default(),
        cipher: f.cipher.flatten(),
        key_size: f.key_size.flatten(),
        control_location: f.control_location.unwrap_or_default(),
        created_at: now,
        updated_at: now,
    };
    db::insert(&state.db, &e).await.map_err(|err| {
        if err.status == StatusCode::CONFLICT {
            ApiError::bad_request(format!(
                "Volume type encryption for type {id} already exists."
            ))
        } else {
            err
        }
    })?;
    tracing::info!("Created encryption {} of volume type {id}", e.encryption_id);
    // Cinder answers the request's fields with the type and encryption ids.
    let mut out: Map<String, Value> = input::object(&body, "encryption")?.clone();
    out.insert("volume_type_id".into(), json!(e.volume_type_id));
    out.insert("encryption_id".into(), json!(e.encryption_id));
    Ok(Json(json!({"encryption": out})))
}

async fn update(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path((id, _encryption_id)): Path<(String, String)>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:volume_type_encryption:update",
        &own_target(&ctx),
        &ctx,
    )?;
    check_type(&state, &id).await?;
    let f = parse(&body, false)?;
    if types_db::in_use(&state.db, &id).await? {
        return Err(ApiError::bad_request(
            "Cannot update encryption specs. Volume type in use.",
        ));
    }
    let mut e = db::get(&state.db, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    if let Some(p) = f.provider {
        e.provider = p;
    }
    if let Some(c) = f.cipher {
        e.cipher = c;
    }
    if let Some(k) = f.key_size {
        e.key_size = k;
    }
    if let Some(c) = f.control_location {
        e.control_location = c;
    }
    e.updated_at = now_micros();
    db::update(&state.db, &e).await?;
    let out = input::object(&body, "encryption")?.clone();
    Ok(Json(json!({"encryption": out})))
}

/// One field of the encryption (`GET /types/{id}/encryption/{key}`).
async fn show(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    state.authorize(
        "volume_extension:volume_type_encryption:get",
        &own_target(&ctx),
        &ctx,
    )?;
    check_type(&state, &id).await?;
    let e = db::get(&state.db, &id).await?;
    let value = e
        .map(|e| record_view(&e))
        .and_then(|v| v.get(&key).cloned())
        .ok_or_else(|| ApiError::not_found("The resource could not be found."))?;
    Ok(Json(json!({ key: value })))
}

async fn delete(
    S(state): S<State>,
    Caller(ctx): Caller,
    Path((id, _encryption_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.authorize(
        "volume_extension:volume_type_encryption:delete",
        &own_target(&ctx),
        &ctx,
    )?;
    check_type(&state, &id).await?;
    if db::get(&state.db, &id).await?.is_none() {
        return Err(not_found(&id));
    }
    if types_db::in_use(&state.db, &id).await? {
        return Err(ApiError::bad_request(
            "Cannot delete encryption specs. Volume type in use.",
        ));
    }
    db::delete(&state.db, &id).await?;
    tracing::info!("Deleted the encryption of volume type {id}");
    Ok(StatusCode::ACCEPTED)
}
