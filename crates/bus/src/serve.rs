//! Running a handler over a listener.

use std::future::Future;
use std::sync::Arc;

use tokio::task::JoinHandle;

use crate::incoming::{Incoming, Reply};
use crate::listener::Listener;
use crate::message::Message;

/// Runs `handler` for every message on `listener` until the transport goes
/// away; abort the returned handle to stop earlier.
///
/// Each message gets its own task, so a slow call does not hold up the
/// others (like oslo.messaging's threaded executor); as a consequence
/// messages may complete out of order. A call's reply is the handler's
/// result; for casts and fanouts the result is dropped (errors are logged).
pub fn serve<F, Fut>(mut listener: Listener, handler: F) -> JoinHandle<()>
where
    F: Fn(Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Some(incoming) = listener.recv().await {
            tokio::spawn(handle_one(Arc::clone(&handler), incoming));
        }
    })
}

async fn handle_one<F, Fut>(handler: Arc<F>, incoming: Incoming)
where
    F: Fn(Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let Incoming { message, responder } = incoming;
    let method = message.method.clone();
    let reply = (*handler)(message).await;
    match responder {
        Some(responder) => {
            if let Err(err) = responder.reply(reply).await {
                tracing::warn!(%method, %err, "failed to send bus reply");
            }
        }
        None => {
            if let Err(err) = reply {
                tracing::warn!(%method, %err, "bus cast handler failed");
            }
        }
    }
}
