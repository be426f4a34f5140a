//! Request ids: `x-openstack-request-id: req-<uuid>` on every response, taken from the caller
//! when it sent a valid one, and a `request` span so every log line of the request carries it.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const HEADER: &str = "x-openstack-request-id";

/// The id of the request being served (in request extensions).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Accepts `req-<uuid>` exactly as oslo.middleware does.
pub fn is_valid(id: &str) -> bool {
    id.strip_prefix("req-")
        .is_some_and(|rest| rest.len() == 36 && uuid::Uuid::parse_str(rest).is_ok())
}

pub fn generate() -> String {
    format!("req-{}", uuid::Uuid::new_v4())
}

/// Middleware: assigns the id, opens the request span, logs one access line per request.
pub async fn layer(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_valid(v))
        .map(str::to_string)
        .unwrap_or_else(generate);
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        user_id = tracing::field::Empty,
        project_id = tracing::field::Empty
    );
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = std::time::Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HEADER, v);
    }
    let status = resp.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    span.in_scope(|| {
        tracing::info!(target: "monostack_common::wsgi", "\"{method} {path}\" status: {status} time: {elapsed:.4}")
    });
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn validates_ids() {
        assert!(super::is_valid("req-3f1a8e8e-1c2b-4d5e-8f90-1234567890ab"));
        assert!(!super::is_valid("req-nope"));
        assert!(!super::is_valid("3f1a8e8e-1c2b-4d5e-8f90-1234567890ab"));
        assert!(super::is_valid(&super::generate()));
    }
}
