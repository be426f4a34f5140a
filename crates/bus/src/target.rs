//! Where a message is sent.

use std::fmt;

/// A topic, optionally narrowed to one server listening on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub topic: String,
    pub server: Option<String>,
}

impl Target {
    /// Any one consumer of `topic`.
    pub fn topic(topic: impl Into<String>) -> Self {
        Target {
            topic: topic.into(),
            server: None,
        }
    }

    /// Only the consumer(s) of `topic` that listen as `server`.
    pub fn server(topic: impl Into<String>, server: impl Into<String>) -> Self {
        Target {
            topic: topic.into(),
            server: Some(server.into()),
        }
    }

    /// The queue name / routing key: `topic` or `topic.server`.
    pub fn routing_key(&self) -> String {
        match &self.server {
            Some(server) => format!("{}.{}", self.topic, server),
            None => self.topic.clone(),
        }
    }

    /// The name of the fanout exchange for `topic`.
    pub fn fanout_exchange(topic: &str) -> String {
        format!("{topic}_fanout")
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.routing_key())
    }
}
