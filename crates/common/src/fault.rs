//! API errors and their OpenStack fault bodies.
//!
//! Handlers return [`ApiError`]; it renders a neutral body and stores itself in the response
//! extensions. Each service installs [`fault_layer`] with its [`FaultStyle`], which re-renders
//! every error response (ours, and axum's own plain-text rejections such as 404/405/413) in the
//! service's fault format. The internal cause is logged, never returned.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error on its way to the client: a status, a message safe to show, and an internal cause.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// A machine-readable error code, for services whose faults carry one (Placement's
    /// `placement.concurrent_update` and the like); None renders the service's default.
    pub code: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), code: None }
    }
    /// The same error with a machine-readable `code` (see [`ApiError::code`]).
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, message)
    }
    /// A server-side failure: the cause is logged with the request id, the client gets a
    /// generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {cause}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An unexpected error prevented the server from fulfilling your request.",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = FaultStyle::Identity.render(self.status, &self.message);
        let mut resp = json_response(self.status, body);
        resp.extensions_mut().insert(self);
        resp
    }
}

/// The fault body shapes of the OpenStack services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultStyle {
    /// Keystone: `{"error": {"code", "title", "message"}}`.
    Identity,
    /// Nova, Cinder, Placement-like: `{"itemNotFound": {"code", "message"}}`.
    Compute,
    /// Neutron: `{"NeutronError": {"type", "message", "detail"}}`.
    Network,
    /// Glance: `{"code", "title", "message"}`-ish plain body; we use Keystone's shape.
    Image,
    /// Placement (API-WG errors): `{"errors": [{"status", "title", "detail", "code", "request_id"}]}`.
    Placement,
}

impl FaultStyle {
    pub fn render(self, status: StatusCode, message: &str) -> serde_json::Value {
        self.render_with(status, message, None, None)
    }

    /// Like [`Self::render`], with the error's machine-readable code and the request id, which
    /// only some styles show.
    pub fn render_with(self, status: StatusCode, message: &str, error_code: Option<&str>, request_id: Option<&str>) -> serde_json::Value {
        let code = status.as_u16();
        let title = status.canonical_reason().unwrap_or("Error");
        match self {
            FaultStyle::Placement => {
                let mut error = json!({"status": code, "title": title, "detail": message,
                    "code": error_code.unwrap_or("placement.undefined_code")});
                if let Some(id) = request_id {
                    error["request_id"] = json!(id);
                }
                json!({ "errors": [error] })
            }
            FaultStyle::Identity | FaultStyle::Image => {
                json!({"error": {"code": code, "title": title, "message": message}})
            }
            FaultStyle::Compute => json!({ compute_fault_name(status): {"code": code, "message": message} }),
            FaultStyle::Network => json!({"NeutronError": {
                "type": network_fault_type(status), "message": message, "detail": ""}}),
        }
    }
}

fn compute_fault_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "badRequest",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "itemNotFound",
        405 => "badMethod",
        409 => "conflictingRequest",
        413 => "overLimit",
        415 => "badMediaType",
        501 => "notImplemented",
        503 => "serviceUnavailable",
        _ => "computeFault",
    }
}

fn network_fault_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "BadRequest",
        401 => "NotAuthorized",
        403 => "PolicyNotAuthorized",
        404 => "NotFound",
        409 => "Conflict",
        _ => "NeutronError",
    }
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// Put in an error response's extensions by a service that rendered its fault body itself
/// (with fields [`ApiError`] cannot carry); [`fault_layer`] then leaves the response alone.
#[derive(Debug, Clone, Copy)]
pub struct RenderedFault;

/// Middleware that renders every error response in `style`.
pub async fn fault_layer(style: FaultStyle, req: Request, next: Next) -> Response {
    let request_id = req.extensions().get::<crate::request_id::RequestId>().map(|r| r.0.clone());
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) || resp.extensions().get::<RenderedFault>().is_some() {
        return resp;
    }
    if let Some(err) = resp.extensions().get::<ApiError>() {
        if style == FaultStyle::Identity {
            return resp;
        }
        let err = err.clone();
        return rebuild(resp, style.render_with(err.status, &err.message, err.code.as_deref(), request_id.as_deref()));
    }
    // An error axum produced itself (unknown route, wrong method, body too large, ...).
    let message = match status.as_u16() {
        404 => "The resource could not be found.",
        405 => "The method is not allowed for the requested URL.",
        413 => "Request Entity Too Large: the request body is larger than the server accepts.",
        415 => "The media type of the request is not supported.",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    rebuild(resp, style.render_with(status, message, None, request_id.as_deref()))
}

fn rebuild(resp: Response, body: serde_json::Value) -> Response {
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body.to_string()))
}

impl From<sqlx::Error> for ApiError {
    /// Unique-constraint violations are duplicates (409); anything else is our failure (500).
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return ApiError::conflict("Conflict occurred attempting to store the entity: duplicate entry.");
            }
        }
        ApiError::internal(e)
    }
}
