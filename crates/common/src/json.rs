//! A JSON body extractor whose rejections are OpenStack faults (400, 413, 415) instead of
//! axum's plain-text 422s.

use crate::fault::ApiError;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// Like `axum::Json`, with OpenStack-style errors.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(status, "Request Entity Too Large: the request body is too large.")
            } else {
                ApiError::bad_request(format!("Could not read the request body: {e}"))
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses a JSON body, describing what is wrong in a 400.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request("The request body is empty; a JSON object is required."));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("Invalid input for the request body: {e}")))
}
