//! The one error type of the placement service layer, shared by the REST handlers and the
//! in-process [`crate::client::PlacementClient`], and its single mapping to HTTP faults.

use axum::http::StatusCode;
use monostack_common::ApiError;

/// Placement's error codes (the `code` of its fault bodies), as upstream names them.
pub mod codes {
    pub const CONCURRENT_UPDATE: &str = "placement.concurrent_update";
    pub const DUPLICATE_NAME: &str = "placement.duplicate_name";
    pub const INVENTORY_INUSE: &str = "placement.inventory.inuse";
    pub const PROVIDER_IN_USE: &str = "placement.resource_provider.inuse";
    pub const PROVIDER_CANNOT_DELETE_PARENT: &str = "placement.resource_provider.cannot_delete_parent";
    pub const QUERY_DUPLICATE_KEY: &str = "placement.query.duplicate_key";
    pub const QUERY_BAD_VALUE: &str = "placement.query.bad_value";
    pub const QUERY_MISSING_VALUE: &str = "placement.query.missing_value";
}

/// Why a conflict (409) happened; callers react differently to each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// A provider or consumer generation did not match: re-read and retry.
    Generation,
    /// The allocation does not fit the inventory (capacity, min/max unit, step size).
    Capacity,
    /// Inventory cannot be removed or shrunk away while allocations use it.
    InventoryInUse,
    /// A provider with allocations cannot be deleted.
    ProviderInUse,
    /// A provider with children cannot be deleted.
    ProviderHasChildren,
    /// The name (or uuid) is already taken.
    Duplicate,
    /// Anything else in use (a trait or resource class still referenced).
    InUse,
}

impl ConflictKind {
    fn code(self) -> Option<&'static str> {
        match self {
            ConflictKind::Generation => Some(codes::CONCURRENT_UPDATE),
            ConflictKind::InventoryInUse => Some(codes::INVENTORY_INUSE),
            ConflictKind::ProviderInUse => Some(codes::PROVIDER_IN_USE),
            ConflictKind::ProviderHasChildren => Some(codes::PROVIDER_CANNOT_DELETE_PARENT),
            ConflictKind::Duplicate => Some(codes::DUPLICATE_NAME),
            ConflictKind::Capacity | ConflictKind::InUse => None,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PlacementError {
    #[error("{0}")]
    NotFound(String),
    /// Malformed or impossible input; `code` is set where placement sets one.
    #[error("{message}")]
    BadRequest { message: String, code: Option<&'static str> },
    #[error("{message}")]
    Conflict { kind: ConflictKind, message: String },
    /// A database failure worth retrying the whole transaction for (deadlock, serialization).
    #[error("transaction must be retried: {0}")]
    Retry(String),
    /// Our own failure; the detail is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type PlacementResult<T> = Result<T, PlacementError>;

impl PlacementError {
    pub fn not_found(message: impl Into<String>) -> Self {
        PlacementError::NotFound(message.into())
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        PlacementError::BadRequest { message: message.into(), code: None }
    }
    pub fn bad_query(message: impl Into<String>, code: &'static str) -> Self {
        PlacementError::BadRequest { message: message.into(), code: Some(code) }
    }
    pub fn conflict(kind: ConflictKind, message: impl Into<String>) -> Self {
        PlacementError::Conflict { kind, message: message.into() }
    }
    /// A provider generation mismatch, as placement words it for generation-checked writes.
    pub fn generation_changed() -> Self {
        Self::conflict(
            ConflictKind::Generation,
            "resource provider generation conflict: another thread concurrently updated the resource provider data. Please retry your update",
        )
    }
    pub fn is_conflict(&self, want: ConflictKind) -> bool {
        matches!(self, PlacementError::Conflict { kind, .. } if *kind == want)
    }
}

impl From<sqlx::Error> for PlacementError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // PostgreSQL: deadlock_detected, serialization_failure; MySQL: deadlock (1213).
            if matches!(db.code().as_deref(), Some("40P01" | "40001" | "1213")) {
                return PlacementError::Retry(e.to_string());
            }
            if db.is_unique_violation() {
                return PlacementError::conflict(ConflictKind::Generation, "Another thread concurrently updated the data. Please retry your update");
            }
        }
        PlacementError::Internal(e.to_string())
    }
}

impl From<ApiError> for PlacementError {
    fn from(e: ApiError) -> Self {
        PlacementError::Internal(e.message)
    }
}

impl From<PlacementError> for ApiError {
    fn from(e: PlacementError) -> Self {
        match e {
            PlacementError::NotFound(m) => ApiError::not_found(m),
            PlacementError::BadRequest { message, code } => {
                let err = ApiError::bad_request(message);
                match code {
                    Some(c) => err.with_code(c),
                    None => err,
                }
            }
            PlacementError::Conflict { kind, message } => {
                let err = ApiError::conflict(message);
                match kind.code() {
                    Some(c) => err.with_code(c),
                    None => err,
                }
            }
            PlacementError::Retry(m) => {
                ApiError::conflict(format!("Another thread concurrently updated the data. Please retry your update ({m})"))
                    .with_code(codes::CONCURRENT_UPDATE)
            }
            PlacementError::Internal(m) => ApiError::internal(m),
        }
    }
}

impl axum::response::IntoResponse for PlacementError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}

/// The status a [`PlacementError`] answers with (used by tests and logs).
pub fn status_of(e: &PlacementError) -> StatusCode {
    ApiError::from(e.clone()).status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_carry_placement_codes() {
        let e: ApiError = PlacementError::generation_changed().into();
        assert_eq!(e.status, StatusCode::CONFLICT);
        assert_eq!(e.code.as_deref(), Some(codes::CONCURRENT_UPDATE));
        let e: ApiError = PlacementError::conflict(ConflictKind::Capacity, "full").into();
        assert_eq!(e.code, None, "capacity conflicts use placement.undefined_code");
        assert_eq!(status_of(&PlacementError::not_found("x")), StatusCode::NOT_FOUND);
        assert_eq!(status_of(&PlacementError::bad_query("x", codes::QUERY_BAD_VALUE)), StatusCode::BAD_REQUEST);
    }
}
