//! `/v3/OS-OAUTH1/consumers`: OAuth1 consumers (applications allowed to request delegated
//! access). The secret is shown once, in the create response.

use super::body::{extra_of, merge_extra, opt_str};
use super::{collection_links, created, enforce, links, no_content, not_found, ok, ApiResult, Caller, State};
use crate::store::{self, oauth1_consumers::Consumer};
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
        .route("/v3/OS-OAUTH1/consumers", get(list).post(create))
        .route("/v3/OS-OAUTH1/consumers/{consumer_id}", get(show).patch(update).delete(delete))
}

const KNOWN: &[&str] = &["id", "description", "secret", "links"];

/// The API view of a consumer, without its secret.
pub fn view(state: &Identity, c: &Consumer) -> Value {
    let mut v = json!({
        "id": c.id, "description": c.description,
        "links": links(state, &format!("OS-OAUTH1/consumers/{}", c.id)),
    });
    merge_extra(&mut v, &c.extra);
    v
}

/// `body["consumer"]`: absent means empty (Keystone defaults it), anything but an object is a 400.
fn consumer_body(body: &Value) -> ApiResult<Map<String, Value>> {
    match body.get("consumer") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) => Ok(o.clone()),
        Some(_) => Err(ApiError::bad_request("Invalid input for field 'consumer': must be an object")),
    }
}

async fn must_get(state: &Identity, id: &str) -> ApiResult<Consumer> {
    store::oauth1_consumers::get(state, id).await?.ok_or_else(|| not_found("consumer", id))
}

async fn create(S(state): S<State>, caller: Caller, Json(body): Json<Value>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:create_consumer", &json!({}))?;
    let obj = consumer_body(&body)?;
    let consumer = Consumer {
        id: store::new_id(),
        description: opt_str(&obj, "description")?.map(str::to_string),
        secret: store::new_id(),
        extra: extra_of(&obj, KNOWN),
    };
    store::oauth1_consumers::insert(&state, &consumer).await?;
    tracing::info!("created oauth1 consumer {}", consumer.id);
    let mut v = view(&state, &consumer);
    v["secret"] = json!(consumer.secret);
    Ok(created(json!({"consumer": v})))
}

async fn list(S(state): S<State>, caller: Caller, uri: Uri) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:list_consumers", &json!({}))?;
    let consumers: Vec<Value> = store::oauth1_consumers::list(&state).await?.iter().map(|c| view(&state, c)).collect();
    Ok(ok(json!({"consumers": consumers, "links": collection_links(&state, "OS-OAUTH1/consumers", uri.query())})))
}

async fn show(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:get_consumer", &json!({}))?;
    let consumer = must_get(&state, &id).await?;
    Ok(ok(json!({"consumer": view(&state, &consumer)})))
}

async fn update(S(state): S<State>, caller: Caller, Path(id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:update_consumer", &json!({}))?;
    let obj = consumer_body(&body)?;
    if obj.is_empty() {
        return Err(ApiError::bad_request("Invalid input for field 'consumer': at least one attribute is required"));
    }
    if obj.contains_key("secret") {
        return Err(ApiError::bad_request("Invalid input for field 'secret' of consumer: the secret cannot be changed"));
    }
    if obj.contains_key("id") && obj.get("id") != Some(&json!(id)) {
        return Err(ApiError::bad_request("Cannot change ID"));
    }
    let description = opt_str(&obj, "description")?.map(str::to_string);
    let mut consumer = must_get(&state, &id).await?;
    if obj.contains_key("description") {
        consumer.description = description;
    }
    for (k, v) in extra_of(&obj, KNOWN) {
        consumer.extra.insert(k, v);
    }
    store::oauth1_consumers::update(&state, &consumer).await?;
    Ok(ok(json!({"consumer": view(&state, &consumer)})))
}

async fn delete(S(state): S<State>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:delete_consumer", &json!({}))?;
    if !store::oauth1_consumers::delete(&state, &id).await? {
        return Err(not_found("consumer", &id));
    }
    tracing::info!("deleted oauth1 consumer {id}");
    Ok(no_content())
}
