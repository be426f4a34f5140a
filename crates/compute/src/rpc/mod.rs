//! The messages the compute API sends on the bus: to the conductor ([`conductor`], topic
//! `conductor`) and to the compute agents ([`compute`], topic `compute`, server = the
//! instance's host). Each is a typed enum whose serde form is exactly the bus envelope's
//! `method` + `args`, so consumers decode a [`Message`] with [`decode`] and senders never
//! build JSON by hand. Every message carries the request context (request id, user, project).

pub mod compute;
pub mod conductor;

use crate::context::RequestContext;
use monostack_bus::{Bus, BusError, Message, Target};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use std::time::Duration;

/// Builds the bus message of a typed request.
pub fn encode<T: Serialize>(request: &T, ctx: &RequestContext) -> Result<Message, BusError> {
    let value = serde_json::to_value(request).map_err(|e| BusError::Transport(e.to_string()))?;
    let method = value.get("method").and_then(Value::as_str).unwrap_or_default().to_string();
    let args = value.get("args").cloned().unwrap_or(Value::Null);
    Ok(Message::new(method, args).with_context(ctx.bus_context()))
}

/// Decodes a received message into its typed request (consumers: conductor, agents, tests).
pub fn decode<T: DeserializeOwned>(message: &Message) -> Result<T, serde_json::Error> {
    let args = if message.args.is_null() { json!({}) } else { message.args.clone() };
    serde_json::from_value(json!({"method": message.method, "args": args}))
}

/// Fire-and-forget.
pub async fn cast<T: Serialize>(bus: &dyn Bus, target: &Target, request: &T, ctx: &RequestContext) -> Result<(), BusError> {
    let msg = encode(request, ctx)?;
    tracing::debug!("cast {} to {target}", msg.method);
    bus.cast(target, msg).await
}

/// Request/response within `timeout`.
pub async fn call<T: Serialize>(bus: &dyn Bus, target: &Target, request: &T, ctx: &RequestContext, timeout: Duration) -> Result<Value, BusError> {
    let msg = encode(request, ctx)?;
    tracing::debug!("call {} on {target}", msg.method);
    bus.call(target, msg, timeout).await
}
