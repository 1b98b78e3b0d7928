//! What the application's calls on a server connection return on refusal: [`SendError`].

use crate::error::BuildError;

/// Why an application call on a [`crate::server::Connection`] was refused. Always the
/// caller's fault or state; nothing was queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The connection is closed (it reported [`crate::server::Event::Close`], or
    /// [`crate::server::Connection::handle_closed`] was called).
    #[error("connection closed")]
    Closed,
    /// No socket is joined to the namespace.
    #[error("not connected to the namespace")]
    NotConnected,
    /// No connect request for the namespace is waiting for an answer.
    #[error("no connect request waiting for the namespace")]
    NoConnectRequest,
    /// Revision 5 needs a socket id from the application (random: socket.io 4 does not
    /// reuse the Engine.io id, "because it's sensitive information").
    #[error("a socket id is required (revision 5)")]
    SocketIdRequired,
    /// [`crate::server::Config::max_pending_acks`] emits already wait for their ack.
    #[error("{limit} acks are pending already")]
    TooManyAcks {
        /// The limit.
        limit: usize,
    },
    /// The output queue holds [`crate::server::Config::max_queued_messages`]: drain
    /// [`crate::server::Connection::poll_transmit`].
    #[error("{queued} messages are queued, the limit is {limit}")]
    OutputFull {
        /// Messages queued.
        queued: usize,
        /// The limit.
        limit: usize,
    },
    /// The packet given to [`crate::server::Connection::emit_packet`] is not an event.
    #[error("not an event packet")]
    NotAnEvent,
    /// The packet could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
}
