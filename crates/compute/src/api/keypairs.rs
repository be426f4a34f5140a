//! `/os-keypairs`: a user's SSH keys and (from 2.2) x509 certificates. Keys are imported, or
//! generated with the private key returned once (until 2.92, which requires a public key).
//! Admins name another user with `user_id` from 2.10.

use super::query::Query;
use super::{input, view, ApiResult, Microversion, State};
use crate::db::keypairs::{self as keypair_db, KeyPair};
use crate::{keys, quota};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as S};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/os-keypairs", get(index).post(create))
        .route("/v2.1/os-keypairs/{name}", get(show).delete(delete))
}

/// A request to create or import a key pair.
struct CreateRequest {
    name: String,
    key_type: String,
    public_key: Option<String>,
    user_id: Option<String>,
}

fn parse_create(body: &Value, mv: Microversion) -> ApiResult<CreateRequest> {
    let kp = input::root(body, "keypair")?;
    let mut allowed = vec!["name", "public_key"];
    if mv.at_least(2) {
        allowed.push("type");
    }
    if mv.at_least(10) {
        allowed.push("user_id");
    }
    input::only(kp, &allowed, Some("keypair"))?;
    let required: &[&str] = if mv.at_least(92) { &["name", "public_key"] } else { &["name"] };
    input::required(kp, required, "keypair")?;
    let name = keypair_name(&kp["name"], mv)?;
    let key_type = match kp.get("type") {
        None => "ssh".to_string(),
        Some(v) => match v.as_str() {
            Some(t @ ("ssh" | "x509")) => t.to_string(),
            _ => return Err(input::invalid("type", v, format!("{v} is not one of ['ssh', 'x509']"))),
        },
    };
    let public_key = kp.get("public_key").map(|v| input::string(v, "public_key", 0, usize::MAX).map(str::to_string)).transpose()?;
    let user_id = kp.get("user_id").map(|v| input::string(v, "user_id", 0, usize::MAX).map(str::to_string)).transpose()?;
    Ok(CreateRequest { name, key_type, public_key, user_id })
}

/// Key pair names: Nova's name format, and `[_- a-zA-Z0-9]` (2.92 adds `@` and `.`).
fn keypair_name(v: &Value, mv: Microversion) -> ApiResult<String> {
    let name = input::name(v, "name")?;
    let extra: &[char] = if mv.at_least(92) { &['_', '-', ' ', '@', '.'] } else { &['_', '-', ' '] };
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(&c)) {
        let pattern = if mv.at_least(92) { r"^[_\-\@\. a-zA-Z0-9]+$" } else { r"^[_\- a-zA-Z0-9]+$" };
        return Err(input::invalid("name", v, format!("'{name}' does not match '{pattern}'")));
    }
    Ok(name.to_string())
}

/// The user a request acts for: `user_id` from the query (2.10+), else the caller.
fn target_user(ctx: &AuthContext, query: &Query, mv: Microversion) -> String {
    match query.get("user_id") {
        Some(u) if mv.at_least(10) => u.to_string(),
        _ => ctx.user_id.clone(),
    }
}

fn invalid_keypair(reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("Keypair data is invalid: {reason}"))
}

async fn create(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let req = parse_create(&input::parse(&body)?, mv)?;
    let user_id = req.user_id.clone().unwrap_or_else(|| ctx.user_id.clone());
    state.authorize("os_compute_api:os-keypairs:create", &json!({"user_id": user_id}), &ctx)?;
    let project_id = ctx.project_id.clone().unwrap_or_default();
    quota::check_key_pairs(&state, &project_id, &user_id).await?;
    let (public_key, fingerprint, private_key) = match &req.public_key {
        Some(public_key) => {
            let fingerprint = match req.key_type.as_str() {
                "x509" => keys::x509_fingerprint(public_key),
                _ => keys::ssh_fingerprint(public_key),
            }
            .map_err(invalid_keypair)?;
            (public_key.clone(), fingerprint, None)
        }
        None => {
            let (key_type, owner) = (req.key_type.clone(), user_id.clone());
            let generated = tokio::task::spawn_blocking(move || if key_type == "x509" { keys::generate_x509(&owner) } else { keys::generate_ssh() })
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::internal)?;
            (generated.public_key, generated.fingerprint, Some(generated.private_key))
        }
    };
    let mut kp = KeyPair { id: 0, user_id, name: req.name, key_type: req.key_type, fingerprint, public_key, created_at: now_micros() };
    kp.id = keypair_db::insert(&state.db, &kp).await?.ok_or_else(|| ApiError::conflict(format!("Key pair '{}' already exists.", kp.name)))?;
    tracing::info!("key pair {} of user {} created", kp.name, kp.user_id);
    let mut body = json!({"name": kp.name, "public_key": kp.public_key, "fingerprint": kp.fingerprint, "user_id": kp.user_id});
    if mv.at_least(2) {
        body["type"] = json!(kp.key_type);
    }
    if let Some(private_key) = private_key {
        body["private_key"] = json!(private_key);
    }
    let status = if mv.at_least(2) { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({"keypair": body}))))
}

async fn index(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let query = Query::parse(raw.as_deref());
    if mv.at_least(75) {
        query.only(&["user_id", "limit", "marker"])?;
    }
    let user_id = target_user(&ctx, &query, mv);
    state.authorize("os_compute_api:os-keypairs:index", &json!({"user_id": user_id}), &ctx)?;
    let mut pairs = keypair_db::list(&state.db, &user_id).await?;
    let paged = mv.at_least(35);
    if paged {
        let page = query.page()?;
        // Nova words an unknown key pair marker as its MarkerNotFound.
        let unknown = || ApiError::bad_request(format!("Marker {} could not be found.", page.marker.clone().unwrap_or_default()));
        pairs = page.apply(pairs, |k| k.name.as_str()).map_err(|_| unknown())?;
    }
    let items: Vec<Value> = pairs
        .iter()
        .map(|k| {
            let mut v = json!({"name": k.name, "public_key": k.public_key, "fingerprint": k.fingerprint});
            if mv.at_least(2) {
                v["type"] = json!(k.key_type);
            }
            json!({"keypair": v})
        })
        .collect();
    let mut body = json!({"keypairs": items});
    if paged {
        if let Some(links) = view::next_links(&state, "os-keypairs", &query, pairs.len(), pairs.last().map(|k| k.name.as_str())) {
            body["keypairs_links"] = links;
        }
    }
    Ok(Json(body))
}

async fn find(state: &State, ctx: &AuthContext, query: &Query, mv: Microversion, name: &str, action: &str) -> ApiResult<KeyPair> {
    if mv.at_least(75) {
        query.only(&["user_id"])?;
    }
    let user_id = target_user(ctx, query, mv);
    state.authorize(action, &json!({"user_id": user_id}), ctx)?;
    keypair_db::get(&state.db, &user_id, name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Keypair {name} not found for user {user_id}")))
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(name): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let query = Query::parse(raw.as_deref());
    let kp = find(&state, &ctx, &query, mv, &name, "os_compute_api:os-keypairs:show").await?;
    let mut body = json!({
        "name": kp.name,
        "public_key": kp.public_key,
        "fingerprint": kp.fingerprint,
        "user_id": kp.user_id,
        "created_at": view::timestamp(kp.created_at),
        "deleted": false,
        "deleted_at": null,
        "updated_at": null,
        "id": kp.id,
    });
    if mv.at_least(2) {
        body["type"] = json!(kp.key_type);
    }
    Ok(Json(json!({"keypair": body})))
}

async fn delete(S(state): S<State>, Authenticated(ctx): Authenticated, mv: Microversion, Path(name): Path<String>, RawQuery(raw): RawQuery) -> ApiResult<StatusCode> {
    let query = Query::parse(raw.as_deref());
    let kp = find(&state, &ctx, &query, mv, &name, "os_compute_api:os-keypairs:delete").await?;
    keypair_db::delete(&state.db, &kp.user_id, &kp.name).await?;
    tracing::info!("key pair {} of user {} deleted", kp.name, kp.user_id);
    Ok(if mv.at_least(2) { StatusCode::NO_CONTENT } else { StatusCode::ACCEPTED })
}

#[cfg(test)]
mod tests {
    use super::*;
    use monostack_common::microversion::Version;

    fn at(minor: u16) -> Microversion {
        Microversion(Version::new(2, minor))
    }

    #[test]
    fn names_and_fields_follow_the_microversion() {
        assert!(parse_create(&json!({"keypair": {"name": "a-b_c d"}}), at(1)).is_ok());
        assert!(parse_create(&json!({"keypair": {"name": "a@b.c"}}), at(91)).is_err());
        assert!(parse_create(&json!({"keypair": {"name": "a@b.c", "public_key": "k"}}), at(92)).is_ok());
        assert!(parse_create(&json!({"keypair": {"name": "a"}}), at(92)).is_err());
        assert!(parse_create(&json!({"keypair": {"name": "a", "type": "x509"}}), at(1)).is_err());
        assert!(parse_create(&json!({"keypair": {"name": "a", "type": "x509"}}), at(2)).is_ok());
        assert!(parse_create(&json!({"keypair": {"name": "a", "type": "pgp"}}), at(2)).is_err());
        assert!(parse_create(&json!({"keypair": {"name": "a", "user_id": "u"}}), at(9)).is_err());
        assert!(parse_create(&json!({"keypair": {"name": "a", "user_id": "u"}}), at(10)).is_ok());
        assert!(parse_create(&json!({"keypair": {"name": "bad/name"}}), at(2)).is_err());
    }
}
