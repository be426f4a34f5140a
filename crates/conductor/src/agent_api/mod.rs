//! The contract between the conductor and the compute agents, usable by an agent without
//! depending on the conductor's internals: the records the conductor hands out
//! ([`records`]), what agents ask the conductor ([`conductor`]), what the conductor and other
//! agents ask an agent ([`compute`]), and the bus clients ([`client`]).

pub mod client;
pub mod compute;
pub mod conductor;
pub mod records;

pub use client::{ConductorClient, RpcError};
/// Placement's inventory record, as the resource tracker reports it.
pub use monostack_placement::types::Inventory;

use monostack_bus::Context;

/// A tracing span carrying the message's request identity, so every log line of its handling
/// reads `[req-… user project]` as in the API that started it.
pub fn request_span(context: &Context) -> tracing::Span {
    tracing::info_span!(
        "request",
        request_id = context.request_id.as_deref().unwrap_or("-"),
        user_id = context.user_id.as_deref().unwrap_or("-"),
        project_id = context.project_id.as_deref().unwrap_or("-"),
    )
}

/// A context for work nobody asked for (periodic tasks, start-up): a fresh request id.
pub fn internal_context() -> Context {
    Context::with_request_id(format!("req-{}", uuid::Uuid::new_v4()))
}

/// The caller's token, if the API put it in the context (the image service is asked with it,
/// as Nova asks Glance with the user's token).
pub fn auth_token(context: &Context) -> Option<&str> {
    context.extra.get("auth_token").and_then(serde_json::Value::as_str)
}
