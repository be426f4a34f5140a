//! `/v2.0/<collection>/{id}/tags[/{tag}]` for every resource with standard attributes:
//! list, replace all, add one, check one, remove one, remove all. Each change bumps the
//! resource's revision. A new resource type adds its collection to [`COLLECTIONS`] and its
//! lookup to [`resource_target`].

use super::{json, State};
use crate::db::{self, tags, Bind};
use crate::error::{NeutronError, NeutronResult};
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use serde_json::{json, Value};

/// (collection, singular) of the resources that carry tags.
pub const COLLECTIONS: &[(&str, &str)] = &[
    ("networks", "network"),
    ("subnets", "subnet"),
    ("ports", "port"),
    ("security-groups", "security_group"),
    ("routers", "router"),
    ("floatingips", "floatingip"),
    ("subnetpools", "subnetpool"),
];

pub const MAX_TAG_LEN: usize = 255;

pub fn validate_tag(tag: &str) -> NeutronResult<()> {
    if tag.is_empty() {
        return Err(NeutronError::http_bad_request(
            "Invalid input for tags. Reason: '' is not a valid tag.",
        ));
    }
    if tag.chars().count() > MAX_TAG_LEN {
        return Err(NeutronError::http_bad_request(format!(
            "Invalid input for tags. Reason: '{tag}' exceeds maximum length of {MAX_TAG_LEN}."
        )));
    }
    Ok(())
}

pub fn routes() -> Router<State> {
    let mut r = Router::new();
    for (collection, singular) in COLLECTIONS {
        let (c, s) = (*collection, *singular);
        r = r
            .route(
                &format!("/v2.0/{c}/{{id}}/tags"),
                get(move |st, a, p| list(st, a, p, c, s))
                    .put(move |st, a, p, b| replace(st, a, p, b, c, s))
                    .delete(move |st, a, p| clear(st, a, p, c, s)),
            )
            .route(
                &format!("/v2.0/{c}/{{id}}/tags/{{tag}}"),
                get(move |st, a, p| check_one(st, a, p, c, s))
                    .put(move |st, a, p| add_one(st, a, p, c, s))
                    .delete(move |st, a, p| remove_one(st, a, p, c, s)),
            );
    }
    r
}

/// The policy target of a resource the caller may see (else its 404).
pub async fn resource_target(
    state: &State,
    ctx: &AuthContext,
    collection: &str,
    id: &str,
) -> NeutronResult<Value> {
    match collection {
        "networks" => {
            let (_, v) = super::networks::visible_network(state, ctx, id).await?;
            Ok(Value::Object(v))
        }
        "subnets" => Ok(super::subnets::visible_subnet(state, ctx, id).await?.1),
        "ports" => Ok(super::ports::visible_port(state, ctx, id).await?.1),
        "security-groups" => Ok(super::security_groups::visible_group(state, ctx, id)
            .await?
            .1),
        "routers" => Ok(super::routers::visible_router(state, ctx, id).await?.1),
        "floatingips" => Ok(super::floatingips::visible_fip(state, ctx, id).await?.1),
        "subnetpools" => Ok(super::subnetpools::visible_pool(state, ctx, id).await?.1),
        _ => Err(NeutronError::http_not_found()),
    }
}

async fn may_change(
    state: &State,
    ctx: &AuthContext,
    collection: &str,
    singular: &str,
    id: &str,
) -> NeutronResult<()> {
    let t = resource_target(state, ctx, collection, id).await?;
    state.authorize(ctx, &format!("update_{singular}"), &t, &[])
}

async fn bump(tx: &mut db::Tx, collection: &str, id: &str) -> NeutronResult<()> {
    let table = match collection {
        "networks" | "subnets" | "ports" | "routers" | "floatingips" | "subnetpools" => collection,
        "security-groups" => "security_groups",
        _ => return Ok(()),
    };
    tx.exec(
        &format!(
            "UPDATE {table} SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?"
        ),
        &[
            Bind::Int(monostack_common::time::now_micros()),
            Bind::Text(id),
        ],
    )
    .await?;
    Ok(())
}

type St = axum::extract::State<State>;

async fn list(
    axum::extract::State(state): St,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    c: &str,
    _s: &str,
) -> NeutronResult<Response> {
    resource_target(&state, &ctx, c, &id).await?;
    let mut tx = db::read(&state.db).await?;
    let t = tags::of(&mut tx, c, &id).await?;
    Ok(json(StatusCode::OK, json!({ "tags": t })))
}

async fn replace(
    axum::extract::State(state): St,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    bytes: Bytes,
    c: &'static str,
    s: &str,
) -> NeutronResult<Response> {
    may_change(&state, &ctx, c, s, &id).await?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        NeutronError::bad(
            "MalformedRequestBody",
            format!("Malformed request body: {e}."),
        )
    })?;
    let list = value
        .get("tags")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            NeutronError::http_bad_request(
                "Invalid input for tags. Reason: a list of tags is required.",
            )
        })?
        .iter()
        .map(|t| {
            t.as_str().map(str::to_string).ok_or_else(|| {
                NeutronError::http_bad_request(
                    "Invalid input for tags. Reason: tags must be strings.",
                )
            })
        })
        .collect::<NeutronResult<Vec<String>>>()?;
    for t in &list {
        validate_tag(t)?;
    }
    let id2 = id.clone();
    let saved = db::write(&state.db, |tx, _| {
        let list = list.clone();
        let id = id2.clone();
        Box::pin(async move {
            tags::replace(tx, c, &id, &list).await?;
            bump(tx, c, &id).await?;
            tags::of(tx, c, &id).await
        })
    })
    .await?;
    Ok(json(StatusCode::OK, json!({ "tags": saved })))
}

async fn clear(
    axum::extract::State(state): St,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
    c: &'static str,
    s: &str,
) -> NeutronResult<Response> {
    may_change(&state, &ctx, c, s, &id).await?;
    db::write(&state.db, |tx, _| {
        let id = id.clone();
        Box::pin(async move {
            tags::remove_all(tx, c, &id).await?;
            bump(tx, c, &id).await
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn check_one(
    axum::extract::State(state): St,
    Authenticated(ctx): Authenticated,
    Path((id, tag)): Path<(String, String)>,
    c: &str,
    _s: &str,
) -> NeutronResult<Response> {
    resource_target(&state, &ctx, c, &id).await?;
    let mut tx = db::read(&state.db).await?;
    if tags::of(&mut tx, c, &id).await?.contains(&tag) {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(NeutronError::tag_not_found(&tag))
    }
}

async fn add_one(
    axum::extract::State(state): St,
    Authenticated(ctx): Authenticated,
    Path((id, tag)): Path<(String, String)>,
    c: &'static str,
    s: &str,
) -> NeutronResult<Response> {
    may_change(&state, &ctx, c, s, &id).await?;
    validate_tag(&tag)?;
    db::write(&state.db, |tx, _| {
        let (id, tag) = (id.clone(), tag.clone());
        Box::pin(async move {
            if tags::add(tx, c, &id, &tag).await? {
                bump(tx, c, &id).await?;
            }
            Ok(())
        })
    })
    .await?;
    Ok(StatusCode::CREATED.into_response())
}

async fn remove_one(
    axum::extract::State(state): St,
    Authenticated(ctx): Authenticated,
    Path((id, tag)): Path<(String, String)>,
    c: &'static str,
    s: &str,
) -> NeutronResult<Response> {
    may_change(&state, &ctx, c, s, &id).await?;
    let removed = db::write(&state.db, |tx, _| {
        let (id, tag) = (id.clone(), tag.clone());
        Box::pin(async move {
            let removed = tags::remove(tx, c, &id, &tag).await?;
            if removed {
                bump(tx, c, &id).await?;
            }
            Ok(removed)
        })
    })
    .await?;
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(NeutronError::tag_not_found(&tag))
    }
}
