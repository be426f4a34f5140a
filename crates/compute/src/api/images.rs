//! `/images` (gone from 2.36): Nova's proxy of the image service. Lists (with Nova's filters
//! `name`, `status`, `changes-since`, `server`, `type`, `minRam`, `minDisk` and `property-*`,
//! paged by `limit` and `marker`), shows and deletes images with the caller's token, in Nova's
//! view: upper-case status with a progress, sizes and the server a snapshot was taken of.

use super::caller::Caller;
use super::query::Query;
use super::{view, ApiResult, Microversion, State};
use crate::compute_api::create::image::image_error;
use crate::context::RequestContext;
use crate::image_client::{ImageAuth, ImageError, ImageMeta, ImageQuery};
use axum::extract::{Path, RawQuery, State as S};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/images", get(index))
        .route("/v2.1/images/detail", get(detail))
        .route("/v2.1/images/{id}", get(show).delete(delete))
}

/// 404 from 2.36, when Nova stopped proxying the image service.
pub fn check_version(mv: Microversion, last_minor: u16) -> ApiResult<()> {
    if mv.at_least(last_minor + 1) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    Ok(())
}

pub fn auth(ctx: &RequestContext) -> ImageAuth<'_> {
    ImageAuth { token: &ctx.token, request_id: &ctx.request_id }
}

/// Nova's errors for one image: not found is "Image not found.".
pub fn image_fault(e: ImageError) -> ApiError {
    match e {
        ImageError::NotFound(_) => ApiError::not_found("Image not found."),
        other => image_error(other),
    }
}

/// Nova's status of an image service status.
fn status(image: &ImageMeta) -> &'static str {
    match image.status.as_str() {
        "active" => "ACTIVE",
        "queued" | "saving" | "importing" | "uploading" => "SAVING",
        "deleted" | "pending_delete" => "DELETED",
        "killed" => "ERROR",
        _ => "UNKNOWN",
    }
}

fn progress(image: &ImageMeta) -> i64 {
    match image.status.as_str() {
        "queued" => 25,
        "saving" => 50,
        "active" => 100,
        _ => 0,
    }
}

/// The `self`, `bookmark` and `alternate` (the image service's own) links of an image.
fn links(state: &State, id: &str) -> Value {
    let mut links = view::links(state, "images", id);
    if let Some(list) = links.as_array_mut() {
        let alternate = format!("{}/images/{id}", state.images.base_url());
        list.push(json!({"rel": "alternate", "type": "application/vnd.openstack.image", "href": alternate}));
    }
    links
}

fn basic(state: &State, image: &ImageMeta) -> Value {
    json!({"id": image.id, "name": image.name, "links": links(state, &image.id)})
}

/// Nova's detailed view of an image.
pub fn detailed(state: &State, image: &ImageMeta) -> Value {
    let mut v = json!({
        "id": image.id,
        "name": image.name,
        "minRam": image.min_ram,
        "minDisk": image.min_disk,
        "metadata": image.properties,
        "created": image.created_at,
        "updated": image.updated_at,
        "status": status(image),
        "progress": progress(image),
        "OS-EXT-IMG-SIZE:size": image.size,
        "links": links(state, &image.id),
    });
    if let Some(server) = image.properties.get("instance_uuid") {
        v["server"] = json!({"id": server, "links": view::links(state, "servers", server)});
    }
    if let Some(auto) = image.properties.get("auto_disk_config") {
        let on = super::input::parse_bool(auto).unwrap_or(false);
        v["OS-DCF:diskConfig"] = json!(if on { "AUTO" } else { "MANUAL" });
    }
    v
}

/// Nova's list filters as the image service takes them.
fn filters(query: &Query) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, value) in query.pairs() {
        let value = value.clone();
        let filter = match key.as_str() {
            "name" => ("name".to_string(), value),
            "status" => ("status".to_string(), value.to_lowercase()),
            "changes-since" => ("updated_at".to_string(), format!("gte:{value}")),
            // A server's id, or its link (the id is its last segment).
            "server" => ("instance_uuid".to_string(), value.rsplit_once('/').map_or(value.clone(), |(_, id)| id.to_string())),
            "type" => ("image_type".to_string(), value),
            "minRam" => ("min_ram".to_string(), value),
            "minDisk" => ("min_disk".to_string(), value),
            other => match other.strip_prefix("property-") {
                Some(property) => (property.to_string(), value),
                None => continue,
            },
        };
        if !out.iter().any(|(k, _)| *k == filter.0) {
            out.push(filter);
        }
    }
    out
}

/// `limit`, `page_size` and `offset` are positive integers when given.
fn check_paging(query: &Query) -> ApiResult<()> {
    for key in ["limit", "page_size", "offset"] {
        if let Some(0) = query.non_negative(key)? {
            return Err(ApiError::bad_request(format!("Invalid input for query parameters {key}. Value: 0. 0 is less than the minimum of 1")));
        }
    }
    Ok(())
}

async fn list(state: &State, ctx: &RequestContext, mv: Microversion, raw: Option<String>, detail: bool) -> ApiResult<Json<Value>> {
    check_version(mv, 35)?;
    let query = Query::parse(raw.as_deref());
    check_paging(&query)?;
    let request = ImageQuery {
        filters: filters(&query),
        limit: query.non_negative("limit")?,
        marker: query.get("marker").map(str::to_string),
        ..ImageQuery::default()
    };
    let images = state.images.list(auth(ctx), &request).await.map_err(image_error)?;
    let items: Vec<Value> = images.iter().map(|i| if detail { detailed(state, i) } else { basic(state, i) }).collect();
    let mut body = json!({"images": items});
    let collection = if detail { "images/detail" } else { "images" };
    if let Some(links) = view::next_links(state, collection, &query, images.len(), images.last().map(|i| i.id.as_str())) {
        body["images_links"] = links;
    }
    Ok(Json(body))
}

async fn index(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    list(&state, &ctx, mv, raw, false).await
}

async fn detail(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    list(&state, &ctx, mv, raw, true).await
}

async fn show(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    check_version(mv, 35)?;
    let image = state.images.get(auth(&ctx), &id).await.map_err(image_fault)?;
    Ok(Json(json!({"image": detailed(&state, &image)})))
}

async fn delete(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>) -> ApiResult<StatusCode> {
    check_version(mv, 35)?;
    state.images.delete(auth(&ctx), &id).await.map_err(|e| match e {
        ImageError::Forbidden(_) => ApiError::forbidden("You are not allowed to delete the image."),
        other => image_fault(other),
    })?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nova_filters_become_image_service_filters() {
        let q = Query::parse(Some("status=ACTIVE&server=http%3A%2F%2Fh%2Fv2.1%2Fservers%2Fabc&changes-since=2026-01-01T00:00:00Z&minRam=64&type=snapshot&property-os_distro=cirros&limit=2&bogus=1"));
        assert_eq!(
            filters(&q),
            vec![
                ("status".to_string(), "active".to_string()),
                ("instance_uuid".into(), "abc".into()),
                ("updated_at".into(), "gte:2026-01-01T00:00:00Z".into()),
                ("min_ram".into(), "64".into()),
                ("image_type".into(), "snapshot".into()),
                ("os_distro".into(), "cirros".into()),
            ]
        );
        assert_eq!(filters(&Query::parse(Some("server=abc"))), vec![("instance_uuid".to_string(), "abc".to_string())]);
        assert!(check_paging(&Query::parse(Some("limit=0"))).is_err());
        assert!(check_paging(&Query::parse(Some("limit=x"))).is_err());
        assert!(check_paging(&Query::parse(Some("limit=1&offset=3"))).is_ok());
    }

    #[test]
    fn statuses_map_as_nova_maps_them() {
        let image = |s: &str| ImageMeta { status: s.into(), ..ImageMeta::default() };
        assert_eq!((status(&image("queued")), progress(&image("queued"))), ("SAVING", 25));
        assert_eq!((status(&image("active")), progress(&image("active"))), ("ACTIVE", 100));
        assert_eq!(status(&image("pending_delete")), "DELETED");
        assert_eq!((status(&image("killed")), progress(&image("killed"))), ("ERROR", 0));
        assert_eq!(status(&image("deactivated")), "UNKNOWN");
    }
}
