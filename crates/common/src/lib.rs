//! Plumbing shared by every monostack service: configuration, faults, request ids, logging,
//! paging, timestamps and serving.

pub mod config;
pub mod fault;
pub mod json;
pub mod logging;
pub mod microversion;
pub mod pagination;
pub mod request_id;
pub mod server;
pub mod time;

pub use fault::{ApiError, FaultStyle};
