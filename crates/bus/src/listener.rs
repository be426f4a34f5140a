//! The consumer side of [`crate::Bus::listen`].

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::mpsc;

use crate::incoming::Incoming;

/// A stream of messages for one (topic, server) consumer. Transports feed it
/// through an mpsc channel; dropping the listener closes the channel, which
/// is how transports learn to stop delivering to it.
pub struct Listener {
    rx: mpsc::UnboundedReceiver<Incoming>,
    _guard: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl Listener {
    pub fn new(rx: mpsc::UnboundedReceiver<Incoming>) -> Self {
        Listener { rx, _guard: None }
    }

    /// Keeps `guard` alive as long as the listener, e.g. a handle that
    /// cancels a broker consumer when dropped.
    pub fn with_guard(mut self, guard: impl Send + Sync + 'static) -> Self {
        self._guard = Some(Box::new(guard));
        self
    }

    /// The next message; `None` once the transport is gone.
    pub async fn recv(&mut self) -> Option<Incoming> {
        self.rx.recv().await
    }

    /// A message that is already waiting, without blocking.
    pub fn try_recv(&mut self) -> Option<Incoming> {
        self.rx.try_recv().ok()
    }
}

impl Stream for Listener {
    type Item = Incoming;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Incoming>> {
        self.rx.poll_recv(cx)
    }
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Listener")
    }
}
