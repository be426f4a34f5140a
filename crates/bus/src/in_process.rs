//! In-memory transport: tokio channels, one per listener.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::error::BusError;
use crate::incoming::{Incoming, Reply, ReplySink, Responder};
use crate::listener::Listener;
use crate::message::Message;
use crate::target::Target;
use crate::transport::Bus;

type Consumer = mpsc::UnboundedSender<Incoming>;

/// The in-process bus. Cheap to clone; clones share the same queues.
///
/// Listener channels are unbounded so that a handler that sends to its own
/// topic can never deadlock; like an AMQP queue, a slow consumer just lets
/// messages pile up. Messages sent while nobody listens are not kept: there
/// is no broker to hold them, so `call`/`cast` fail with `NoConsumer`.
#[derive(Clone, Default)]
pub struct InProcessBus {
    registry: Arc<Mutex<Registry>>,
}

impl InProcessBus {
    pub fn new() -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for InProcessBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcessBus")
    }
}

/// Queues keyed by routing key (`topic` and `topic.server`) and fanout
/// subscribers keyed by topic. Closed consumers are pruned lazily on send.
#[derive(Default)]
struct Registry {
    queues: HashMap<String, Queue>,
    fanouts: HashMap<String, Vec<Consumer>>,
}

#[derive(Default)]
struct Queue {
    consumers: Vec<Consumer>,
    next: usize,
}

impl Queue {
    /// Round-robin delivery to a live consumer; false when none is left.
    fn deliver(&mut self, mut incoming: Incoming) -> bool {
        while !self.consumers.is_empty() {
            let index = self.next % self.consumers.len();
            match self.consumers[index].send(incoming) {
                Ok(()) => {
                    self.next = index + 1;
                    return true;
                }
                Err(mpsc::error::SendError(back)) => {
                    self.consumers.remove(index);
                    incoming = back;
                }
            }
        }
        false
    }
}

impl Registry {
    fn deliver(&mut self, key: &str, incoming: Incoming) -> Result<(), BusError> {
        let queue = self.queues.get_mut(key).ok_or(BusError::NoConsumer)?;
        let delivered = queue.deliver(incoming);
        if queue.consumers.is_empty() {
            self.queues.remove(key);
        }
        if delivered {
            Ok(())
        } else {
            Err(BusError::NoConsumer)
        }
    }

    fn broadcast(&mut self, topic: &str, msg: &Message) {
        let Some(consumers) = self.fanouts.get_mut(topic) else {
            return;
        };
        consumers.retain(|consumer| consumer.send(cast_of(msg.clone())).is_ok());
        if consumers.is_empty() {
            self.fanouts.remove(topic);
        }
    }

    fn subscribe(&mut self, topic: &str, server: &str, consumer: Consumer) {
        for key in [
            topic.to_owned(),
            Target::server(topic, server).routing_key(),
        ] {
            let queue = self.queues.entry(key).or_default();
            queue.consumers.push(consumer.clone());
        }
        self.fanouts
            .entry(topic.to_owned())
            .or_default()
            .push(consumer);
    }
}

fn cast_of(message: Message) -> Incoming {
    Incoming {
        message,
        responder: None,
    }
}

/// Replies travel back over a oneshot channel.
struct OneshotSink(oneshot::Sender<Reply>);

#[async_trait]
impl ReplySink for OneshotSink {
    async fn send(self: Box<Self>, reply: Reply) -> Result<(), BusError> {
        if self.0.send(reply).is_err() {
            tracing::debug!("caller gave up before the reply was sent");
        }
        Ok(())
    }
}

#[async_trait]
impl Bus for InProcessBus {
    async fn call(
        &self,
        target: &Target,
        msg: Message,
        timeout: Duration,
    ) -> Result<Value, BusError> {
        let (tx, rx) = oneshot::channel();
        let incoming = Incoming {
            message: msg,
            responder: Some(Responder::new(OneshotSink(tx))),
        };
        self.registry
            .lock()
            .deliver(&target.routing_key(), incoming)?;
        match tokio::time::timeout(timeout, rx).await {
            Err(_elapsed) => Err(BusError::Timeout),
            Ok(Err(_dropped)) => Err(BusError::NoReply),
            Ok(Ok(reply)) => reply.map_err(BusError::Remote),
        }
    }

    async fn cast(&self, target: &Target, msg: Message) -> Result<(), BusError> {
        self.registry
            .lock()
            .deliver(&target.routing_key(), cast_of(msg))
    }

    async fn fanout(&self, topic: &str, msg: Message) -> Result<(), BusError> {
        self.registry.lock().broadcast(topic, &msg);
        Ok(())
    }

    async fn listen(&self, topic: &str, server: &str) -> Result<Listener, BusError> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.registry.lock().subscribe(topic, server, tx);
        Ok(Listener::new(rx))
    }
}
