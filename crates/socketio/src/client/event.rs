//! What a client [`Connection`](super::Connection) reports: [`Event`]s for the application,
//! [`TransportAction`]s for the I/O layer, and why a namespace was left:
//! [`DisconnectReason`].

use alloc::string::String;
use core::time::Duration;

use crate::error::DecodeError;
use crate::packet::Packet;
use crate::value::Value;

/// Why a namespace was disconnected: socket.io-client's `disconnect` reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// `"io server disconnect"`: the server sent `DISCONNECT`. The namespace is left for
    /// good: it is not joined again on reconnection ("ondisconnect() { this.destroy(); …
    /// }", socket.io-client `socket.js`).
    IoServerDisconnect,
    /// `"io client disconnect"`: [`Connection::disconnect`](super::Connection::disconnect)
    /// or [`Connection::close`](super::Connection::close).
    IoClientDisconnect,
    /// `"transport close"`: the Engine.io connection was lost
    /// ([`Connection::handle_closed`](super::Connection::handle_closed)). The namespace is
    /// joined again after the reconnection.
    TransportClose,
    /// `"parse error"`: the server sent something the decoder refused; the connection is
    /// closed and, like `"transport close"`, reconnected.
    ParseError,
}

impl DisconnectReason {
    /// socket.io-client's reason string.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::IoServerDisconnect => "io server disconnect",
            Self::IoClientDisconnect => "io client disconnect",
            Self::TransportClose => "transport close",
            Self::ParseError => "parse error",
        }
    }
}

/// What the I/O layer must do with the Engine.io connection, from
/// [`Connection::poll_transport`](super::Connection::poll_transport).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportAction {
    /// Open a new Engine.io connection now (the first one, or a reconnection that is due).
    /// Report its handshake with [`Connection::handle_open`](super::Connection::handle_open),
    /// or its failure with [`Connection::handle_open_error`](super::Connection::handle_open_error).
    Open,
    /// Close the Engine.io connection (after sending what
    /// [`Connection::poll_transmit`](super::Connection::poll_transmit) still holds). Do not
    /// report this closing with `handle_closed`; the connection already knows.
    Close,
}

/// What happened, from [`Connection::poll_event`](super::Connection::poll_event).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The server accepted a namespace (socket.io-client's `connect`).
    Connected {
        /// The namespace.
        nsp: String,
        /// The socket id: revision 5 the `sid` of the server's `CONNECT`, revision 4
        /// `<nsp>#<Engine.io sid>` (the Engine.io sid alone for `/`), as socket.io-client 2's
        /// `generateId` builds it.
        sid: String,
    },
    /// The server refused a namespace (`connect_error`; revision 4's `error`). Revision 5
    /// leaves the namespace for good (socket.io-client 4 "destroy()"s it; were it connected,
    /// [`Event::Disconnected`] with "io server disconnect" comes first, and the last
    /// namespace leaving closes the connection); revision 4 keeps it and asks again after a
    /// reconnection, as socket.io-client 2 does, and an `ERROR` on `/` reaches every
    /// namespace ("rootNamespaceError").
    ConnectError {
        /// The namespace.
        nsp: String,
        /// What the server sent: revision 5 an object (`{"message": …, "data": …}`), revision
        /// 4 usually a string.
        data: Value,
    },
    /// An event from the server. Read its namespace, name and arguments from the packet;
    /// when [`Packet::id`] is `Some`, the server waits for an answer:
    /// [`Connection::ack`](super::Connection::ack). Delivered at once for any joined
    /// namespace, even one whose `CONNECT` answer has not come (socket.io-client holds such
    /// events in an unbounded `receiveBuffer` until `connect`; a conforming server sends
    /// none before it).
    Event(Packet),
    /// The server answered an event sent with
    /// [`Connection::emit_with_ack`](super::Connection::emit_with_ack): [`Packet::id`] is
    /// the id it returned, [`Packet::args`] the answer.
    Ack(Packet),
    /// No answer came within the ack timeout; a late one is ignored. An emit still in the
    /// send buffer is dropped with it (socket.io-client 4 does the same).
    AckTimeout {
        /// The namespace.
        nsp: String,
        /// The ack id.
        id: u64,
    },
    /// No answer will come: the namespace or the connection was lost after the event was
    /// sent (socket.io-client 4: "socket has been disconnected").
    AckDropped {
        /// The namespace.
        nsp: String,
        /// The ack id.
        id: u64,
    },
    /// The server sent something the decoder refused: the connection closes
    /// ([`TransportAction::Close`]), the namespaces are disconnected with "parse error" and
    /// a reconnection is scheduled.
    ParseError(DecodeError),
    /// A namespace was disconnected (socket.io-client's `disconnect`). Only for a namespace
    /// that was connected.
    Disconnected {
        /// The namespace.
        nsp: String,
        /// Why.
        reason: DisconnectReason,
    },
    /// A reconnection is scheduled in `delay` (the backoff delay).
    ReconnectScheduled {
        /// The attempt it will be (1 for the first).
        attempt: u32,
        /// The delay.
        delay: Duration,
    },
    /// A reconnection attempt starts now (`reconnect_attempt`): a
    /// [`TransportAction::Open`] is waiting.
    ReconnectAttempt {
        /// The attempt number, 1 for the first.
        attempt: u32,
    },
    /// An Engine.io connection failed to open, or did not within
    /// [`Config::timeout`](super::Config::timeout) (`reconnect_error` / `connect_error`).
    OpenError,
    /// A reconnection succeeded (`reconnect`); the namespaces are being joined again.
    Reconnected {
        /// The attempts it took.
        attempts: u32,
    },
    /// Attempts exhausted ([`Config::reconnection_attempts`](super::Config::reconnection_attempts)):
    /// the connection gave up (`reconnect_failed`). A new
    /// [`Connection::connect`](super::Connection::connect) starts again.
    ReconnectFailed,
}
