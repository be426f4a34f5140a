//! The transport-independent bus interface.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::error::BusError;
use crate::listener::Listener;
use crate::message::Message;
use crate::target::Target;

/// An RPC bus. Implementations: [`crate::InProcessBus`]; a RabbitMQ one
/// maps topics to queues, `topic.server` to a routing key, fanout to the
/// `topic_fanout` exchange and replies to a reply queue + correlation id.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Request/response with one consumer of `target`. Fails with
    /// `Timeout` after `timeout`, `NoConsumer` when nobody listens and
    /// `Remote` when the handler answered with an error.
    async fn call(
        &self,
        target: &Target,
        msg: Message,
        timeout: Duration,
    ) -> Result<Value, BusError>;

    /// Fire-and-forget to one consumer of `target`, round-robin among the
    /// consumers of the same topic (or topic.server).
    async fn cast(&self, target: &Target, msg: Message) -> Result<(), BusError>;

    /// Delivers to every consumer listening on `topic`; no consumers is not
    /// an error.
    async fn fanout(&self, topic: &str, msg: Message) -> Result<(), BusError>;

    /// Starts consuming as `server` on `topic`: from the shared topic queue,
    /// the `topic.server` queue and the topic's fanout.
    async fn listen(&self, topic: &str, server: &str) -> Result<Listener, BusError>;
}
