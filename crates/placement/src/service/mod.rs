//! The placement service layer: every operation the REST handlers and the in-process client
//! share, with placement's rules and messages. Handlers add policy, microversion shapes and
//! rendering; nothing here knows about HTTP.

pub mod aggregates;
pub mod allocations;
pub mod inventories;
pub mod providers;
pub mod reshaper;
pub mod resource_classes;
pub mod traits;
pub mod usages;

use crate::error::{PlacementError, PlacementResult};

/// The canonical (lowercase, hyphenated) form of a UUID, or None when `s` is not one.
pub fn canonical_uuid(s: &str) -> Option<String> {
    uuid::Uuid::parse_str(s).ok().map(|u| u.hyphenated().to_string())
}

/// `s` as a canonical UUID, or a 400 naming `what`.
pub fn require_uuid(s: &str, what: &str) -> PlacementResult<String> {
    canonical_uuid(s).ok_or_else(|| PlacementError::bad_request(format!("Malformed {what}: {s}")))
}
