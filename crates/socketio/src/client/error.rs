//! The client's errors: [`EmitError`] and [`ConnectError`], the caller's fault (nothing was
//! sent). The peer's faults are events ([`super::DisconnectReason::ParseError`]).

use alloc::string::String;

use crate::error::BuildError;

/// Why [`Connection::connect`](super::Connection::connect) refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The namespace or the auth data cannot be sent (revision 5: auth must be an object).
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Revision 4 sends auth as a query string: it must be an object whose values are
    /// strings, numbers, booleans or null.
    #[error("revision 4 auth must be an object of strings, numbers, booleans or null")]
    InvalidQueryAuth,
    /// Revision 4 never sends a `CONNECT` for `/` (the connection to `/` is implicit), so
    /// auth for `/` cannot travel in one: put it in the Engine.io handshake's query string.
    #[error("revision 4 joins '/' implicitly: send its auth in the Engine.io query string")]
    AuthOnImplicitNamespace,
    /// The Engine.io connection is open and
    /// [`Config::max_transmit_queue`](super::Config::max_transmit_queue) messages already
    /// wait in `poll_transmit`: joining now would queue a `CONNECT` past it.
    #[error("transmit queue full ({limit} messages)")]
    TransmitQueueFull {
        /// The limit.
        limit: usize,
    },
}

/// Why an emit or ack was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The event cannot be built (bad namespace, reserved name in revision 5, …).
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The namespace was never joined with [`Connection::connect`](super::Connection::connect)
    /// or has been left.
    #[error("namespace {0:?} is not joined")]
    NotJoined(String),
    /// An ack answers the server of the current connection: the namespace is not connected.
    #[error("namespace {0:?} is not connected")]
    NotConnected(String),
    /// [`Config::max_send_buffer`](super::Config::max_send_buffer) emits already wait for
    /// their namespace.
    #[error("send buffer full ({limit} emits)")]
    SendBufferFull {
        /// The limit.
        limit: usize,
    },
    /// [`Config::max_transmit_queue`](super::Config::max_transmit_queue) messages already
    /// wait in `poll_transmit`.
    #[error("transmit queue full ({limit} messages)")]
    TransmitQueueFull {
        /// The limit.
        limit: usize,
    },
    /// [`Config::max_pending_acks`](super::Config::max_pending_acks) acks are already
    /// awaited.
    #[error("too many pending acks ({limit})")]
    TooManyPendingAcks {
        /// The limit.
        limit: usize,
    },
}
