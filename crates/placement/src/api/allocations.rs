//! `/allocations/{consumer_uuid}`, `POST /allocations` (1.13+) and
//! `GET /resource_providers/{uuid}/allocations`, in every body format from 1.0 to 1.38.

use super::{empty, json_body, json_response, ApiResult, State};
use crate::microversion::{self, Version};
use crate::service::allocations::{ConsumerWrite, GenerationCheck};
use crate::service::canonical_uuid;
use crate::standard;
use crate::types::INCOMPLETE_CONSUMER_ID;
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/allocations", post(post_many))
        .route("/allocations/{consumer}", get(show).put(put_one).delete(delete))
        .route("/resource_providers/{uuid}/allocations", get(of_provider))
}

fn invalid(why: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("JSON does not validate: {why}"))
}

/// The resources object of one provider: classes to amounts of at least 1.
fn resources(value: Option<&Value>) -> ApiResult<BTreeMap<String, i64>> {
    let Some(Value::Object(map)) = value else { return Err(invalid("'resources' is a required object")) };
    if map.is_empty() {
        return Err(invalid("{} does not have enough properties"));
    }
    let mut out = BTreeMap::new();
    for (rc, amount) in map {
        if !standard::is_valid_name(rc) {
            return Err(invalid(format!("'{rc}' does not match any of the regexes: '^[A-Z0-9_]+$'")));
        }
        let n = amount.as_i64().ok_or_else(|| invalid(format!("{amount} is not of type 'integer'")))?;
        if n < 1 {
            return Err(invalid(format!("{n} is less than the minimum of 1")));
        }
        out.insert(rc.clone(), n);
    }
    Ok(out)
}

/// Provider → resources from the list form (before 1.12) or the object form.
fn allocation_map(value: Option<&Value>, version: Version, allow_empty: bool) -> ApiResult<BTreeMap<String, BTreeMap<String, i64>>> {
    let mut out = BTreeMap::new();
    if !version.at_least(12) {
        let Some(Value::Array(list)) = value else { return Err(invalid("'allocations' is a required array")) };
        if list.is_empty() {
            return Err(invalid("[] is too short"));
        }
        for item in list {
            let uuid = item.pointer("/resource_provider/uuid").and_then(Value::as_str).ok_or_else(|| invalid("'resource_provider' is a required property"))?;
            let uuid = canonical_uuid(uuid).ok_or_else(|| invalid(format!("'{uuid}' is not a 'uuid'")))?;
            out.insert(uuid, resources(item.get("resources"))?);
        }
        return Ok(out);
    }
    let Some(Value::Object(map)) = value else { return Err(invalid("'allocations' is a required object")) };
    if map.is_empty() && !allow_empty {
        return Err(invalid("{} does not have enough properties"));
    }
    for (rp, entry) in map {
        let uuid = canonical_uuid(rp).ok_or_else(|| invalid(format!("'{rp}' does not match any of the regexes")))?;
        if let Some(k) = entry.as_object().and_then(|o| o.keys().find(|k| *k != "resources" && *k != "generation")) {
            return Err(invalid(format!("Additional properties are not allowed ('{k}' was unexpected)")));
        }
        out.insert(uuid, resources(entry.get("resources"))?);
    }
    Ok(out)
}

fn id_field(body: &Map<String, Value>, key: &str) -> ApiResult<String> {
    match body.get(key) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => Ok(s.clone()),
        Some(other) => Err(invalid(format!("{other} is not a valid '{key}'"))),
        None => Err(invalid(format!("'{key}' is a required property"))),
    }
}

/// One consumer's body as the service layer's write, following the version's schema.
/// `allow_empty`: whether an empty `allocations` may clear the consumer (1.28+ PUT, POST).
fn consumer_write(consumer: &str, body: &Value, version: Version, allow_empty: bool) -> ApiResult<ConsumerWrite> {
    let Value::Object(body) = body else { return Err(invalid("the body must be an object")) };
    let mut known = vec!["allocations"];
    if version.at_least(8) {
        known.extend(["project_id", "user_id"]);
    }
    if version.at_least(28) {
        known.push("consumer_generation");
    }
    if version.at_least(34) {
        known.push("mappings");
    }
    if version.at_least(38) {
        known.push("consumer_type");
    }
    if let Some(k) = body.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(invalid(format!("Additional properties are not allowed ('{k}' was unexpected)")));
    }
    let allocations = allocation_map(body.get("allocations"), version, allow_empty)?;
    let (project_id, user_id) = if version.at_least(8) {
        (id_field(body, "project_id")?, id_field(body, "user_id")?)
    } else {
        (INCOMPLETE_CONSUMER_ID.to_string(), INCOMPLETE_CONSUMER_ID.to_string())
    };
    let generation = if version.at_least(28) {
        match body.get("consumer_generation") {
            Some(Value::Null) => GenerationCheck::Expect(None),
            Some(v) => GenerationCheck::Expect(Some(v.as_i64().ok_or_else(|| invalid(format!("{v} is not of type 'integer', 'null'")))?)),
            None => return Err(invalid("'consumer_generation' is a required property")),
        }
    } else {
        GenerationCheck::Unchecked
    };
    let consumer_type = if version.at_least(38) {
        let t = id_field(body, "consumer_type")?;
        if !standard::is_valid_name(&t) {
            return Err(invalid(format!("'{t}' does not match '^[A-Z0-9_]+$'")));
        }
        Some(t)
    } else {
        None
    };
    Ok(ConsumerWrite { consumer_uuid: consumer.to_string(), project_id, user_id, generation, consumer_type, allocations })
}

async fn put_one(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(consumer): Path<String>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    state.authorize("placement:allocations:update", &ctx, None)?;
    let consumer = canonical_uuid(&consumer).ok_or_else(|| ApiError::bad_request(format!("Malformed consumer_uuid: {consumer}")))?;
    let body: Value = json_body(&headers, &body)?;
    let write = consumer_write(&consumer, &body, version, version.at_least(28))?;
    state.set_allocations(vec![write]).await?;
    Ok(empty(StatusCode::NO_CONTENT, None))
}

async fn post_many(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    microversion::require(version, 13)?;
    state.authorize("placement:allocations:manage", &ctx, None)?;
    let body: Map<String, Value> = json_body(&headers, &body)?;
    if body.is_empty() {
        return Err(invalid("{} does not have enough properties"));
    }
    let mut writes = Vec::new();
    for (consumer, entry) in &body {
        let uuid = canonical_uuid(consumer).ok_or_else(|| invalid(format!("'{consumer}' does not match any of the regexes")))?;
        writes.push(consumer_write(&uuid, entry, version, true)?);
    }
    state.set_allocations(writes).await?;
    Ok(empty(StatusCode::NO_CONTENT, None))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(consumer): Path<String>) -> ApiResult<Response> {
    state.authorize("placement:allocations:list", &ctx, None)?;
    let found = state.consumer_allocations(&consumer).await?;
    let allocations: Map<String, Value> = found
        .allocations
        .iter()
        .map(|(rp, a)| (rp.clone(), json!({"generation": a.generation, "resources": a.resources})))
        .collect();
    let mut body = json!({ "allocations": allocations });
    if !found.allocations.is_empty() && version.at_least(12) {
        body["project_id"] = json!(found.project_id);
        body["user_id"] = json!(found.user_id);
        if version.at_least(28) {
            body["consumer_generation"] = json!(found.consumer_generation);
        }
        if version.at_least(38) {
            body["consumer_type"] = json!(found.consumer_type);
        }
    }
    Ok(json_response(StatusCode::OK, version, None, body))
}

async fn delete(S(state): S<State>, Authenticated(ctx): Authenticated, Path(consumer): Path<String>) -> ApiResult<Response> {
    state.authorize("placement:allocations:delete", &ctx, None)?;
    state.delete_allocations(&consumer).await?;
    Ok(empty(StatusCode::NO_CONTENT, None))
}

async fn of_provider(S(state): S<State>, Authenticated(ctx): Authenticated, version: Version, Path(uuid): Path<String>) -> ApiResult<Response> {
    state.authorize("placement:resource_providers:allocations:list", &ctx, None)?;
    let found = state.provider_allocations(&uuid).await?;
    let allocations: Map<String, Value> = found
        .allocations
        .iter()
        .map(|(consumer, (resources, generation))| {
            let mut v = json!({ "resources": resources });
            if version.at_least(28) {
                v["consumer_generation"] = json!(generation);
            }
            (consumer.clone(), v)
        })
        .collect();
    let body = json!({"allocations": allocations, "resource_provider_generation": found.resource_provider_generation});
    Ok(json_response(StatusCode::OK, version, None, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RP: &str = "4e8e5957-649f-477b-9e5b-f1f75b21c03c";

    #[test]
    fn bodies_of_each_version() {
        let old = json!({"allocations": [{"resource_provider": {"uuid": RP}, "resources": {"VCPU": 1}}]});
        let w = consumer_write("c", &old, Version(1, 0), false).unwrap();
        assert_eq!(w.project_id, INCOMPLETE_CONSUMER_ID);
        assert_eq!(w.generation, GenerationCheck::Unchecked);
        assert!(consumer_write("c", &old, Version(1, 8), false).is_err(), "1.8 requires project_id and user_id");
        let new = json!({"allocations": {RP: {"resources": {"VCPU": 1}}}, "project_id": "p", "user_id": "u", "consumer_generation": null, "consumer_type": "INSTANCE"});
        let w = consumer_write("c", &new, Version(1, 38), true).unwrap();
        assert_eq!(w.generation, GenerationCheck::Expect(None));
        assert_eq!(w.consumer_type.as_deref(), Some("INSTANCE"));
        assert!(consumer_write("c", &new, Version(1, 37), true).is_err(), "consumer_type is 1.38");
        let empty = json!({"allocations": {}, "project_id": "p", "user_id": "u", "consumer_generation": 3});
        assert!(consumer_write("c", &empty, Version(1, 28), true).is_ok());
        assert!(consumer_write("c", &json!({"allocations": {RP: {"resources": {"VCPU": 0}}}, "project_id": "p", "user_id": "u"}), Version(1, 12), false).is_err());
    }
}
