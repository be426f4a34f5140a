//! The Image v2 REST API: one file per resource, each exposing `routes()`. Every handler has
//! the same shape: find the image the caller may see → check policy → act → render.

pub mod attributes;
pub mod data;
pub mod images;
pub mod import;
pub mod info;
pub mod list_query;
pub mod members;
pub mod patch;
pub mod schemas;
pub mod tags;
pub mod tasks;
pub mod versions;
pub mod view;

use crate::db::{images as image_db, members as member_db, ImageRecord};
use crate::ImageService;
use axum::Router;
use monostack_auth::middleware::require_token;
use monostack_auth::{AuthContext, SharedValidator};
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::sync::Arc;

pub type State = Arc<ImageService>;
pub type ApiResult<T> = Result<T, ApiError>;

/// The whole image API: version discovery without a token, `/v2` behind token validation.
pub fn router(state: State, validator: SharedValidator, identity_url: &str) -> Router {
    let www: Arc<str> = Arc::from(identity_url);
    let v2 = Router::new()
        .merge(images::routes())
        .merge(data::routes())
        .merge(import::routes())
        .merge(members::routes())
        .merge(tags::routes())
        .merge(tasks::routes())
        .merge(schemas::routes())
        .merge(info::routes())
        .layer(axum::middleware::from_fn(move |req, next| require_token(validator.clone(), www.clone(), req, next)))
        .with_state(state.clone());
    Router::new().merge(versions::routes()).with_state(state).merge(v2)
}

/// An image and what the caller is to it, ready for policy checks.
pub struct Found {
    pub image: ImageRecord,
    /// The policy target Glance builds from the image.
    pub target: Value,
}

impl ImageService {
    /// Whether the caller is an admin (Glance's `context_is_admin`).
    pub fn is_admin(&self, ctx: &AuthContext) -> bool {
        self.policy.enforce("context_is_admin", &json!({}), ctx.policy_creds())
    }

    /// 403 unless policy allows `action` on `target`.
    pub fn authorize(&self, action: &str, target: &Value, ctx: &AuthContext) -> ApiResult<()> {
        if self.policy.enforce(action, target, ctx.policy_creds()) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("You are not authorized to complete {action} action.")))
        }
    }

    /// Like [`Self::authorize`] on an image, but an image the caller may not even read is a 404,
    /// as Glance hides what the caller cannot see.
    pub fn authorize_on(&self, action: &str, found: &Found, ctx: &AuthContext) -> ApiResult<()> {
        self.authorize(action, &found.target, ctx).map_err(|e| {
            if action != "get_image" && !self.policy.enforce("get_image", &found.target, ctx.policy_creds()) {
                not_found(&found.image.id)
            } else {
                e
            }
        })
    }

    /// The image `id` if the caller may see it (Glance's visibility rules), else 404.
    pub async fn find(&self, id: &str, ctx: &AuthContext) -> ApiResult<Found> {
        let image = image_db::get(&self.db, id).await?.ok_or_else(|| not_found(id))?;
        let project = ctx.project_id.as_deref();
        let owned = image.owner.is_some() && image.owner.as_deref() == project;
        let member = match (image.visibility.as_str(), project) {
            ("shared", Some(p)) if !owned => member_db::get(&self.db, &image.id, p).await?.is_some(),
            _ => false,
        };
        let visible = self.is_admin(ctx)
            || owned
            || image.owner.is_none()
            || matches!(image.visibility.as_str(), "public" | "community")
            || member;
        if !visible {
            return Err(not_found(id));
        }
        let target = policy_target(&image, member.then_some(project).flatten());
        Ok(Found { image, target })
    }
}

/// Glance's ImageTarget: the image's attributes, with `project_id` the owner and `member_id`
/// the caller's project when the caller sees the image as a member.
pub fn policy_target(image: &ImageRecord, member_id: Option<&str>) -> Value {
    let mut t = serde_json::Map::new();
    for (k, v) in &image.properties {
        t.insert(k.clone(), Value::String(v.clone()));
    }
    t.insert("id".into(), json!(image.id));
    t.insert("visibility".into(), json!(image.visibility));
    t.insert("status".into(), json!(image.status));
    if let Some(owner) = &image.owner {
        t.insert("project_id".into(), json!(owner));
        t.insert("owner".into(), json!(owner));
    }
    if let Some(m) = member_id {
        t.insert("member_id".into(), json!(m));
    }
    Value::Object(t)
}

pub fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("No image found with ID {id}"))
}
