//! Placement microversions: `OpenStack-API-Version: placement 1.X` (or `latest`) on the
//! request, echoed on the response with `Vary`; no header means 1.0. Unsupported versions are
//! refused with 406 (and the supported range), malformed ones with 400.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use monostack_common::ApiError;

pub const HEADER: &str = "openstack-api-version";
pub const SERVICE_TYPE: &str = "placement";
pub const MIN: Version = Version(1, 0);
pub const MAX: Version = Version(1, 39);

/// A placement microversion (major, minor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u32, pub u32);

impl Version {
    /// Whether this version is at least `1.minor`.
    pub fn at_least(self, minor: u32) -> bool {
        self >= Version(1, minor)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// Why a version header was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionError {
    /// Not of the form `X.Y` (400).
    Malformed(String),
    /// Well formed but outside MIN..=MAX (406).
    Unacceptable(String),
}

/// Picks placement's version out of `OpenStack-API-Version` values such as
/// `compute 2.1, placement 1.12`; None when placement is not named.
pub fn parse_header(value: &str) -> Result<Option<Version>, VersionError> {
    for part in value.split(',') {
        let mut words = part.split_whitespace();
        let (Some(service), Some(version)) = (words.next(), words.next()) else { continue };
        if !service.eq_ignore_ascii_case(SERVICE_TYPE) {
            continue;
        }
        if version.eq_ignore_ascii_case("latest") {
            return Ok(Some(MAX));
        }
        let parsed = version
            .split_once('.')
            .and_then(|(a, b)| Some(Version(a.parse().ok()?, b.parse().ok()?)))
            .ok_or_else(|| VersionError::Malformed(format!("invalid version string: {version}")))?;
        if parsed < MIN || parsed > MAX {
            return Err(VersionError::Unacceptable(format!("Unacceptable version header: {version}")));
        }
        return Ok(Some(parsed));
    }
    Ok(None)
}

/// Middleware: resolves the request's version into the request extensions and echoes it.
pub async fn layer(mut req: Request, next: Next) -> Response {
    let header = req.headers().get_all(HEADER).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    let version = match parse_header(&header) {
        Ok(v) => v.unwrap_or(MIN),
        Err(VersionError::Malformed(m)) => return ApiError::bad_request(format!("Invalid microversion: {m}")).into_response(),
        Err(VersionError::Unacceptable(m)) => return unacceptable(&m),
    };
    req.extensions_mut().insert(version);
    let request_id = req.extensions().get::<monostack_common::request_id::RequestId>().map(|r| r.0.clone());
    let mut resp = next.run(req).await;
    if !version.at_least(ERROR_CODES) {
        resp = without_error_code(resp, request_id.as_deref());
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{SERVICE_TYPE} {version}")) {
        resp.headers_mut().insert(HEADER, v);
    }
    resp.headers_mut().insert("vary", HeaderValue::from_static(HEADER));
    resp
}

/// Fault bodies carry `code` from this version on.
const ERROR_CODES: u32 = 23;

/// Renders our own error responses without `code`, as placement did before 1.23.
fn without_error_code(resp: Response, request_id: Option<&str>) -> Response {
    let Some(err) = resp.extensions().get::<ApiError>().cloned() else { return resp };
    let mut error = serde_json::json!({
        "status": err.status.as_u16(),
        "title": err.status.canonical_reason().unwrap_or("Error"),
        "detail": err.message,
    });
    if let Some(id) = request_id {
        error["request_id"] = serde_json::json!(id);
    }
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.extensions.insert(monostack_common::fault::RenderedFault);
    Response::from_parts(parts, axum::body::Body::from(serde_json::json!({ "errors": [error] }).to_string()))
}

/// The 406 placement answers with, naming the versions it supports (clients such as
/// osc-placement read `max_version` from it to negotiate).
fn unacceptable(message: &str) -> Response {
    let body = serde_json::json!({"errors": [{
        "status": 406,
        "title": "Not Acceptable",
        "detail": format!("Invalid microversion: {message}"),
        "code": "placement.undefined_code",
        "max_version": MAX.to_string(),
        "min_version": MIN.to_string(),
    }]});
    let mut resp = (StatusCode::NOT_ACCEPTABLE, body.to_string()).into_response();
    resp.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    resp.extensions_mut().insert(monostack_common::fault::RenderedFault);
    resp
}

impl<S: Send + Sync> FromRequestParts<S> for Version {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Version>().copied().unwrap_or(MIN))
    }
}

/// 404 unless the request's version is at least `1.minor` (placement's version-gated routes).
pub fn require(version: Version, minor: u32) -> Result<(), ApiError> {
    if version.at_least(minor) {
        Ok(())
    } else {
        Err(ApiError::not_found("The resource could not be found."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(parse_header(""), Ok(None));
        assert_eq!(parse_header("placement 1.12"), Ok(Some(Version(1, 12))));
        assert_eq!(parse_header("compute 2.90, placement 1.2"), Ok(Some(Version(1, 2))));
        assert_eq!(parse_header("placement latest"), Ok(Some(MAX)));
        assert_eq!(parse_header("compute 2.1"), Ok(None));
        assert!(matches!(parse_header("placement 1.40"), Err(VersionError::Unacceptable(_))));
        assert!(matches!(parse_header("placement 2.0"), Err(VersionError::Unacceptable(_))));
        assert!(matches!(parse_header("placement 1.x"), Err(VersionError::Malformed(_))));
        assert!(Version(1, 29).at_least(14));
        assert!(!Version(1, 13).at_least(14));
    }
}
