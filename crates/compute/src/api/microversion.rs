//! Compute microversions: 2.1 up to [`MAX`], asked for with `OpenStack-API-Version: compute X.Y`
//! or the legacy `X-OpenStack-Nova-API-Version`.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use monostack_common::microversion::{Version, VersionPolicy};
use monostack_common::ApiError;

pub const MIN: Version = Version::new(2, 1);
pub const MAX: Version = Version::new(2, 96);

pub const POLICY: VersionPolicy = VersionPolicy {
    service: "compute",
    legacy_header: Some("X-OpenStack-Nova-API-Version"),
    min: MIN,
    max: MAX,
};

/// The version a request is served at; extract it in handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Microversion(pub Version);

impl Microversion {
    /// Whether the request is at 2.`minor` or later.
    pub fn at_least(self, minor: u16) -> bool {
        self.0.at_least(2, minor)
    }
}

/// Marks a request that came in by Nova's legacy `/v2` API. Nova serves it with the v2.1 code
/// in "v2 compatible" mode: at 2.1 whatever version is asked for, and with no version headers
/// in the answer (v2 clients know nothing of microversions).
#[derive(Debug, Clone, Copy)]
pub struct LegacyV2;

/// Middleware: negotiates the version, hands it to the handler, and stamps the answer.
pub async fn negotiate(mut req: Request, next: Next) -> Response {
    if req.extensions().get::<LegacyV2>().is_some() {
        req.extensions_mut().insert(Microversion(MIN));
        return next.run(req).await;
    }
    let version = match POLICY.negotiate(req.headers()) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    req.extensions_mut().insert(Microversion(version));
    let mut resp = next.run(req).await;
    POLICY.stamp(version, resp.headers_mut());
    resp
}

impl<S: Send + Sync> FromRequestParts<S> for Microversion {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Microversion>()
            .copied()
            .ok_or_else(|| ApiError::internal("microversion middleware not installed"))
    }
}
