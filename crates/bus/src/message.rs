//! The message envelope carried by every transport.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Request context travelling with a message, so that logs on the consumer
/// side share the caller's request id and policy sees who asked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// Further context fields (roles, domain, ...) kept as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Context {
    /// A context carrying only a request id.
    pub fn with_request_id(request_id: impl Into<String>) -> Self {
        Context {
            request_id: Some(request_id.into()),
            ..Context::default()
        }
    }
}

/// A JSON RPC message: the method to run, its arguments and the context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub method: String,
    #[serde(default)]
    pub args: Value,
    #[serde(default)]
    pub context: Context,
}

impl Message {
    /// A message with an empty context.
    pub fn new(method: impl Into<String>, args: Value) -> Self {
        Message {
            method: method.into(),
            args,
            context: Context::default(),
        }
    }

    /// Replaces the context.
    pub fn with_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_round_trips_through_json() {
        let mut ctx = Context::with_request_id("req-1");
        ctx.extra.insert("roles".into(), json!(["admin"]));
        let msg = Message::new("ping", json!({"x": 1})).with_context(ctx);
        let wire = serde_json::to_value(&msg).unwrap();
        assert_eq!(wire["context"]["request_id"], "req-1");
        assert_eq!(wire["context"]["roles"], json!(["admin"]));
        let back: Message = serde_json::from_value(wire).unwrap();
        assert_eq!(back, msg);
    }
}
