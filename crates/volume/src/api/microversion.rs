//! Block storage microversions: 3.0 up to [`MAX`], asked for with
//! `OpenStack-API-Version: volume 3.X` (Cinder has no older header). No header means 3.0,
//! `latest` means [`MAX`]; an out-of-range version is a 406 and a malformed one a 400.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use monostack_common::microversion::{Version, VersionPolicy};
use monostack_common::ApiError;

pub const MIN: Version = Version::new(3, 0);
pub const MAX: Version = Version::new(3, 70);

pub const POLICY: VersionPolicy = VersionPolicy {
    service: "volume",
    legacy_header: None,
    min: MIN,
    max: MAX,
};

/// The version a request is served at; extract it in handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Microversion(pub Version);

impl Microversion {
    /// Whether the request is at 3.`minor` or later.
    pub fn at_least(self, minor: u16) -> bool {
        self.0.at_least(3, minor)
    }
}

/// Middleware: negotiates the version, hands it to the handler, and stamps the answer (errors
/// included, as Cinder does).
pub async fn negotiate(mut req: Request, next: Next) -> Response {
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
