//! Tokens: the payload format, issuing and validation (with a cache invalidated by any
//! identity change), and revocation.

pub mod payload;
pub mod provider;

pub use provider::{TokenError, ValidatedToken};
