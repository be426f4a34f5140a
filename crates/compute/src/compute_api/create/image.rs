//! The boot image: fetched from the image service with the caller's token, and checked against
//! the flavor as Nova's `_validate_flavor_image_nostatus` does.

use super::super::ApiResult;
use crate::context::RequestContext;
use crate::db::flavor_snapshot::InstanceFlavor;
use crate::image_client::{ImageAuth, ImageError, ImageMeta};
use crate::ComputeService;
use monostack_common::ApiError;

const GIB: i64 = 1 << 30;

/// The image `id` as the caller sees it; 400 "Can not find requested image" when it is not
/// there (Nova's create maps ImageNotFound so).
pub async fn fetch(svc: &ComputeService, ctx: &RequestContext, id: &str) -> ApiResult<ImageMeta> {
    get(svc, ctx, id).await.map_err(|e| match e {
        ImageError::NotFound(_) => ApiError::bad_request("Can not find requested image"),
        other => image_error(other),
    })
}

/// The image `id`, with the image service's errors as they are.
pub async fn get(svc: &ComputeService, ctx: &RequestContext, id: &str) -> Result<ImageMeta, ImageError> {
    svc.images.get(ImageAuth { token: &ctx.token, request_id: &ctx.request_id }, id).await
}

/// An image service failure other than not-found, as Nova reports it.
pub fn image_error(e: ImageError) -> ApiError {
    match e {
        ImageError::NotFound(id) => ApiError::bad_request(format!("Image {id} could not be found.")),
        ImageError::Forbidden(m) => ApiError::forbidden(if m.is_empty() { "Not authorized for image.".into() } else { m }),
        ImageError::BadRequest(m) => ApiError::bad_request(m),
        ImageError::OverLimit(m) => ApiError::forbidden(m),
        ImageError::Unavailable(m) => ApiError::new(http::StatusCode::SERVICE_UNAVAILABLE, format!("The image service is unavailable: {m}")),
    }
}

/// The instance's auto disk config: what was asked, or the image's `auto_disk_config`; asking
/// for AUTO from an image that disables it is Nova's 400.
pub fn auto_disk_config(image: Option<&ImageMeta>, requested: Option<bool>) -> ApiResult<bool> {
    let property = image.and_then(|i| i.properties.get("auto_disk_config"));
    let disabled = property.is_some_and(|v| v.trim().eq_ignore_ascii_case("disabled"));
    if disabled && requested == Some(true) {
        let id = image.map(|i| i.id.as_str()).unwrap_or_default();
        return Err(ApiError::bad_request(format!("Requested image {id} has automatic disk resize disabled.")));
    }
    Ok(requested.unwrap_or_else(|| property.is_some_and(|v| crate::api::input::parse_bool(v) == Some(true))))
}

/// Status, RAM and disk of the image against the flavor (root on a volume skips the disk).
pub fn check_against_flavor(svc: &ComputeService, ctx: &RequestContext, image: &ImageMeta, flavor: &InstanceFlavor, root_is_volume: bool) -> ApiResult<()> {
    if image.status != "active" {
        return Err(ApiError::bad_request(format!("Image {} is not active.", image.id)));
    }
    let config_drive = image.properties.get("img_config_drive").map(String::as_str).unwrap_or("optional");
    if !["optional", "mandatory"].contains(&config_drive) {
        return Err(ApiError::bad_request(format!("Image's config drive option '{config_drive}' is invalid")));
    }
    if flavor.memory_mb < image.min_ram {
        return Err(ApiError::bad_request("Flavor's memory is too small for requested image."));
    }
    if root_is_volume {
        return Ok(());
    }
    let flavor_bytes = flavor.root_gb * GIB;
    let min_disk_bytes = image.min_disk * GIB;
    if flavor_bytes == 0 {
        let allowed = svc.policy.enforce("os_compute_api:servers:create:zero_disk_flavor", &serde_json::json!({"project_id": ctx.project_id()}), ctx.auth.policy_creds());
        if !allowed {
            return Err(ApiError::forbidden("Only volume-backed servers are allowed for flavors with zero disk."));
        }
        return Ok(());
    }
    if image.size > flavor_bytes {
        return Err(ApiError::bad_request(format!(
            "Flavor's disk is too small for requested image. Flavor disk is {flavor_bytes} bytes, image is {} bytes.",
            image.size
        )));
    }
    if min_disk_bytes > flavor_bytes {
        return Err(ApiError::bad_request(format!(
            "Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is {flavor_bytes} bytes, minimum size is {min_disk_bytes} bytes."
        )));
    }
    Ok(())
}
