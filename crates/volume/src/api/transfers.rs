//! Volume transfers (`/os-volume-transfer`, and `/volume-transfers` from 3.55): a project
//! offers an `available` volume (it becomes `awaiting-transfer`); another project accepts it
//! with the transfer's id and auth key and the volume (with its snapshots, unless
//! `no_snapshots`) becomes theirs. The auth key is shown once, at create; only its salted
//! sha256 is kept.

use super::input;
use super::view::{links, ts};
use super::{own_target, ApiResult, Caller, Microversion, State};
use crate::context::RequestContext;
use crate::db::transfers::{self as db, Transfer};
use crate::db::types as types_db;
use crate::volume_api::volumes as volume_api;
use axum::extract::{OriginalUri, Path, State as S};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use monostack_common::json::Json as Body;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub fn routes() -> Router<State> {
    let mut r = Router::new();
    for base in ["/v3/os-volume-transfer", "/v3/volume-transfers"] {
        r = r
            .route(base, get(index).post(create))
            .route(&format!("{base}/detail"), get(detail))
            .route(&format!("{base}/{{id}}"), get(show).delete(delete))
            .route(&format!("{base}/{{id}}/accept"), post(accept));
    }
    r
}

/// `/volume-transfers` exists from 3.55 on (404 before, as an unknown resource).
fn check_path(uri: &OriginalUri, mv: Microversion) -> ApiResult<()> {
    if uri.path().contains("/volume-transfers") && !mv.at_least(55) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    Ok(())
}

fn hash(salt: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(key.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Transfer {id} could not be found."))
}

fn summary(state: &State, ctx: &RequestContext, t: &Transfer) -> Value {
    json!({
        "id": t.id,
        "name": t.display_name,
        "volume_id": t.volume_id,
        "links": links(state, ctx, "os-volume-transfer", &t.id),
    })
}

fn detailed(state: &State, ctx: &RequestContext, mv: Microversion, t: &Transfer) -> Value {
    let mut v = summary(state, ctx, t);
    v["created_at"] = json!(ts(t.created_at));
    if mv.at_least(55) {
        v["no_snapshots"] = json!(t.no_snapshots);
    }
    if mv.at_least(57) {
        v["source_project_id"] = json!(t.source_project_id);
        v["destination_project_id"] = json!(t.destination_project_id);
        v["accepted"] = json!(t.accepted);
    }
    v
}

/// The transfer if the caller may see it (its source project, or an admin).
async fn find(state: &State, ctx: &RequestContext, id: &str) -> ApiResult<Transfer> {
    let t = db::get(&state.db, id).await?.ok_or_else(|| not_found(id))?;
    if !ctx.is_admin && t.source_project_id != ctx.project_id() {
        return Err(not_found(id));
    }
    Ok(t)
}

async fn listing(
    state: &State,
    ctx: &RequestContext,
    uri: &OriginalUri,
) -> ApiResult<Vec<Transfer>> {
    state.authorize("volume:get_all_transfers", &own_target(ctx), ctx)?;
    let pairs = super::query::pairs(uri.query());
    let all = super::query::all_tenants(ctx, &pairs);
    db::list(&state.db, if all { None } else { Some(ctx.project_id()) }).await
}

async fn index(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    uri: OriginalUri,
) -> ApiResult<Json<Value>> {
    check_path(&uri, mv)?;
    let list = listing(&state, &ctx, &uri).await?;
    let out: Vec<Value> = list.iter().map(|t| summary(&state, &ctx, t)).collect();
    Ok(Json(json!({"transfers": out})))
}

async fn detail(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    uri: OriginalUri,
) -> ApiResult<Json<Value>> {
    check_path(&uri, mv)?;
    let list = listing(&state, &ctx, &uri).await?;
    let out: Vec<Value> = list.iter().map(|t| detailed(&state, &ctx, mv, t)).collect();
    Ok(Json(json!({"transfers": out})))
}

async fn show(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    uri: OriginalUri,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    check_path(&uri, mv)?;
    let t = find(&state, &ctx, &id).await?;
    state.authorize(
        "volume:get_transfer",
        &json!({"project_id": t.source_project_id}),
        &ctx,
    )?;
    Ok(Json(json!({"transfer": detailed(&state, &ctx, mv, &t)})))
}

async fn create(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    uri: OriginalUri,
    Body(body): Body<Value>,
) -> ApiResult<Response> {
    check_path(&uri, mv)?;
    let obj = input::object(&body, "transfer")?;
    let allowed: &[&str] = if mv.at_least(55) {
        &["volume_id", "name", "no_snapshots"]
    } else {
        &["volume_id", "name"]
    };
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(input::invalid(
            "transfer",
            &Value::Object(obj.clone()),
            &format!("Additional properties are not allowed ('{k}' was unexpected)"),
        ));
    }
    let volume_id = match obj.get("volume_id") {
        Some(Value::String(s)) if uuid::Uuid::parse_str(s).is_ok() => s.clone(),
        Some(other) => return Err(input::invalid("volume_id", other, "is not a 'uuid'")),
        None => {
            return Err(input::invalid(
                "transfer",
                &Value::Object(obj.clone()),
                "'volume_id' is a required property",
            ))
        }
    };
    let name = input::opt_string(obj, "name", 255, true)?.flatten();
    let no_snapshots = match obj.get("no_snapshots") {
        None | Some(Value::Null) => false,
        Some(v) => input::boolean("no_snapshots", v)?,
    };
    let v = volume_api::find(&state, &ctx, &volume_id).await?;
    state.authorize("volume:create_transfer", &volume_api::target(&v), &ctx)?;
    if v.status != "available" {
        return Err(ApiError::bad_request(
            "Invalid volume: status must be available",
        ));
    }
    let auth_key = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
    let salt = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
    let t = Transfer {
        id: crate::db::new_id(),
        volume_id: v.id.clone(),
        display_name: name,
        crypt_hash: hash(&salt, &auth_key),
        salt,
        source_project_id: v.project_id.clone(),
        destination_project_id: None,
        accepted: false,
        no_snapshots,
        created_at: now_micros(),
    };
    if !db::create(&state.db, &t).await? {
        return Err(ApiError::bad_request(
            "Invalid volume: status must be available",
        ));
    }
    tracing::info!("Transfer {} of volume {} created", t.id, v.id);
    let mut out = detailed(&state, &ctx, mv, &t);
    out["auth_key"] = json!(auth_key);
    Ok((StatusCode::ACCEPTED, Json(json!({"transfer": out}))).into_response())
}

async fn delete(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    uri: OriginalUri,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    check_path(&uri, mv)?;
    let t = find(&state, &ctx, &id).await?;
    state.authorize(
        "volume:delete_transfer",
        &json!({"project_id": t.source_project_id}),
        &ctx,
    )?;
    db::delete(&state.db, &t).await?;
    tracing::info!("Transfer {id} of volume {} deleted", t.volume_id);
    Ok(StatusCode::ACCEPTED)
}

async fn accept(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    uri: OriginalUri,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Response> {
    check_path(&uri, mv)?;
    state.authorize("volume:accept_transfer", &own_target(&ctx), &ctx)?;
    let obj = input::object(&body, "accept")?;
    let key = match obj.get("auth_key") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(input::invalid("auth_key", other, "is not of type 'string'")),
        None => {
            return Err(input::invalid(
                "accept",
                &Value::Object(obj.clone()),
                "'auth_key' is a required property",
            ))
        }
    };
    // Any project may accept: the transfer is found by id alone.
    let t = db::get(&state.db, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    if hash(&t.salt, &key) != t.crypt_hash {
        return Err(ApiError::bad_request(format!(
            "Invalid auth key: Attempt to transfer {id} with invalid auth key."
        )));
    }
    let v = crate::db::volumes::get(&state.db, &t.volume_id)
        .await?
        .ok_or_else(|| volume_api::not_found(&t.volume_id))?;
    let vt = types_db::get(&state.db, &v.volume_type_id)
        .await?
        .unwrap_or_default();
    {
        let _guard = state.quota_lock.lock().await;
        crate::quota::check(&state, ctx.project_id(), &vt, 1, v.size, false).await?;
        if !db::accept(&state.db, &t, ctx.project_id(), ctx.user_id()).await? {
            return Err(ApiError::bad_request(
                "Invalid volume: status must be awaiting-transfer",
            ));
        }
    }
    tracing::info!(
        "Transfer {id}: volume {} accepted by project {}",
        t.volume_id,
        ctx.project_id()
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"transfer": summary(&state, &ctx, &t)})),
    )
        .into_response())
}
