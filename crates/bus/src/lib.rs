//! A transport-agnostic RPC message bus in the style of oslo.messaging.
//!
//! Services talk through [`Bus`]: `call` (request/response), `cast`
//! (fire-and-forget to one consumer) and `fanout` (to every consumer of a
//! topic). The addressing model is the AMQP one so that a RabbitMQ transport
//! can implement the same trait:
//! - a topic is a shared queue named after the topic (consumers round-robin),
//! - a [`Target`] with a server maps to the `topic.server` queue/routing key,
//! - fanout maps to the `topic_fanout` fanout exchange,
//! - call replies go to the caller's reply queue, matched by correlation id.
//!
//! [`InProcessBus`] is the in-memory transport used by the all-in-one binary
//! and in tests.

mod error;
mod in_process;
mod incoming;
mod listener;
mod message;
mod serve;
mod target;
mod transport;

#[cfg(test)]
mod tests;

pub use error::BusError;
pub use in_process::InProcessBus;
pub use incoming::{Incoming, Reply, ReplySink, Responder};
pub use listener::Listener;
pub use message::{Context, Message};
pub use serve::serve;
pub use target::Target;
pub use transport::Bus;
