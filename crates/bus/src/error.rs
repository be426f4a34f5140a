//! Errors seen by bus clients.

/// Why a bus operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    /// No reply arrived before the call's timeout.
    #[error("timed out waiting for a reply")]
    Timeout,
    /// Nobody is listening on the target.
    #[error("no consumer is listening on the target")]
    NoConsumer,
    /// The consumer handled the call and answered with an error.
    #[error("remote error: {0}")]
    Remote(String),
    /// The consumer dropped the request without replying (for example its
    /// handler panicked). Broker transports usually see this as `Timeout`.
    #[error("the consumer dropped the request without replying")]
    NoReply,
    /// The transport itself failed (connection lost, broker error, ...).
    #[error("bus transport error: {0}")]
    Transport(String),
}
