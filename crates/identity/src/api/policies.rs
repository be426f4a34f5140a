//! `/v3/policies`: opaque policy blobs stored for services (Keystone's deprecated but still
//! served policy API). Admin-only to write; admins and system readers may read.

use super::body::{extra_of, merge_extra, object, opt_str, req_str};
use super::query::from_uri;
use super::{collection_links, created, enforce, links, no_content, not_found, ok, ApiResult, Caller, State};
use crate::store::{self, policies::Policy};
use crate::Identity;
use axum::extract::{Path, State as S};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_common::json::Json;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/policies", get(list).post(create))
        .route("/v3/policies/{policy_id}", get(show).patch(update).delete(delete))
}

const KNOWN: &[&str] = &["id", "blob", "type", "links"];
const MAX_TYPE: usize = 255;

pub fn view(state: &Identity, p: &Policy) -> Value {
    let mut v = json!({
        "id": p.id, "type": p.policy_type, "blob": p.blob,
        "links": links(state, &format!("policies/{}", p.id)),
    });
    merge_extra(&mut v, &p.extra);
    v
}

fn policy_type(obj: &Map<String, Value>) -> ApiResult<String> {
    let t = req_str(obj, "type")?;
    if t.chars().count() > MAX_TYPE {
        return Err(ApiError::bad_request(format!("Invalid input for field 'type' of policy: longer than {MAX_TYPE} characters")));
    }
    Ok(t.to_string())
}

async fn must_get(state: &Identity, id: &str) -> ApiResult<Policy> {
    store::policies::get(state, id).await?.ok_or_else(|| not_found("policy", id))
}

async fn create(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:create_policy", &json!({}))?;
    let obj = object(&body, "policy")?;
    let policy = Policy {
        id: store::new_id(),
        blob: req_str(obj, "blob")?.to_string(),
        policy_type: policy_type(obj)?,
        extra: extra_of(obj, KNOWN),
    };
    store::policies::insert(&state, &policy).await?;
    tracing::info!("created policy {} ({})", policy.id, policy.policy_type);
    Ok(created(json!({"policy": view(&state, &policy)})))
}

async fn list(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:list_policies", &json!({}))?;
    let q = from_uri(&uri);
    let policies: Vec<Value> = store::policies::list(&state)
        .await?
        .iter()
        .filter(|p| q.matches_text("type", Some(&p.policy_type)))
        .map(|p| view(&state, p))
        .collect();
    Ok(ok(json!({"policies": policies, "links": collection_links(&state, "policies", uri.query())})))
}

async fn show(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:get_policy", &json!({}))?;
    let policy = must_get(&state, &id).await?;
    Ok(ok(json!({"policy": view(&state, &policy)})))
}

async fn update(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:update_policy", &json!({}))?;
    let obj = object(&body, "policy")?;
    if obj.is_empty() {
        return Err(ApiError::bad_request("Invalid input for field 'policy': at least one attribute is required"));
    }
    if opt_str(obj, "id")?.is_some_and(|given| given != id) {
        return Err(ApiError::bad_request("Cannot change policy ID"));
    }
    let mut policy = must_get(&state, &id).await?;
    if obj.contains_key("blob") {
        policy.blob = req_str(obj, "blob")?.to_string();
    }
    if obj.contains_key("type") {
        policy.policy_type = policy_type(obj)?;
    }
    for (k, v) in extra_of(obj, KNOWN) {
        policy.extra.insert(k, v);
    }
    store::policies::update(&state, &policy).await?;
    Ok(ok(json!({"policy": view(&state, &policy)})))
}

async fn delete(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:delete_policy", &json!({}))?;
    if !store::policies::delete(&state, &id).await? {
        return Err(not_found("policy", &id));
    }
    tracing::info!("deleted policy {id}");
    Ok(no_content())
}
