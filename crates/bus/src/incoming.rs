//! A delivered message and the means to answer it.

use async_trait::async_trait;
use serde_json::Value;

use crate::error::BusError;
use crate::message::Message;

/// The answer to a call: a value, or an error message sent back to the
/// caller as [`BusError::Remote`].
pub type Reply = Result<Value, String>;

/// Transport-specific delivery of one reply (a oneshot channel in process,
/// a publish to the caller's reply queue with the correlation id on AMQP).
#[async_trait]
pub trait ReplySink: Send + 'static {
    async fn send(self: Box<Self>, reply: Reply) -> Result<(), BusError>;
}

/// Answers one call; consumed by use, so a call is answered at most once.
pub struct Responder {
    sink: Box<dyn ReplySink>,
}

impl Responder {
    pub fn new(sink: impl ReplySink) -> Self {
        Responder {
            sink: Box::new(sink),
        }
    }

    /// Sends the reply. Succeeds even if the caller already gave up.
    pub async fn reply(self, reply: Reply) -> Result<(), BusError> {
        self.sink.send(reply).await
    }
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Responder")
    }
}

/// One delivered message; `responder` is set only for calls.
#[derive(Debug)]
pub struct Incoming {
    pub message: Message,
    pub responder: Option<Responder>,
}
