//! What a server connection reports: [`Event`], with the auth data of a connect request
//! ([`Auth`]), why a socket left a namespace ([`DisconnectReason`]) and why the connection
//! asks to be closed ([`CloseReason`]).

use alloc::string::String;

use crate::error::DecodeError;
use crate::packet::Packet;
use crate::packet_type::PacketType;
use crate::value::Map;

/// The auth data of a connect request.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// None given (revision 5: a `CONNECT` without payload; revision 4: no query string, and
    /// always for the implicit `/`).
    None,
    /// Revision 5: the `CONNECT`'s object ("with an additional payload", v5 spec).
    Object(Map),
    /// Revision 4: the query string after the namespace, undecoded (`0/admin?token=1,` gives
    /// `token=1`; "The client may include additional information (i.e. for authentication
    /// purpose) in the namespace field", v4 spec).
    Query(String),
}

/// Why a socket left its namespace: the reason strings socket.io gives its `disconnect`
/// event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// `"client namespace disconnect"`: the client sent `DISCONNECT`.
    ClientNamespaceDisconnect,
    /// `"server namespace disconnect"`: the application called
    /// [`crate::server::Connection::disconnect`] or [`crate::server::Connection::close`].
    ServerNamespaceDisconnect,
    /// `"forced server close"`: the connection closed itself (a packet in a state where it
    /// is not allowed, revision 5; socket.io's `client.close()`).
    ForcedServerClose,
    /// `"forced close"`: the connection was closed after a malformed packet (socket.io
    /// calls `conn.close()`, and engine.io reports `"forced close"`), or the application
    /// closed the Engine.io session.
    ForcedClose,
    /// `"transport close"`: the Engine.io session ended (the client closed it).
    TransportClose,
    /// `"transport error"`: the Engine.io transport failed.
    TransportError,
    /// `"ping timeout"`: the Engine.io heartbeat timed out.
    PingTimeout,
    /// `"parse error"`: Engine.io could not parse what the client sent.
    ParseError,
    /// `"server shutting down"`: the server is closing every connection.
    ServerShuttingDown,
}

impl DisconnectReason {
    /// socket.io's reason string.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientNamespaceDisconnect => "client namespace disconnect",
            Self::ServerNamespaceDisconnect => "server namespace disconnect",
            Self::ForcedServerClose => "forced server close",
            Self::ForcedClose => "forced close",
            Self::TransportClose => "transport close",
            Self::TransportError => "transport error",
            Self::PingTimeout => "ping timeout",
            Self::ParseError => "parse error",
            Self::ServerShuttingDown => "server shutting down",
        }
    }
}

impl From<pushwire_engineio::server::CloseReason> for DisconnectReason {
    /// The reason an Engine.io session closed, as its sockets see it (socket.io passes
    /// engine.io's reason on: `socket._onclose(reason)`).
    fn from(r: pushwire_engineio::server::CloseReason) -> Self {
        use pushwire_engineio::server::CloseReason as R;
        match r {
            R::TransportClose => Self::TransportClose,
            R::PingTimeout => Self::PingTimeout,
            R::ParseError => Self::ParseError,
            R::TransportError => Self::TransportError,
            _ => Self::ForcedClose,
        }
    }
}

/// Why a connection asks the I/O layer to close its Engine.io session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client sent a malformed packet (socket.io's `onerror`: "invalid packet format").
    Decode(DecodeError),
    /// Revision 5: a packet that the connection's state does not allow: anything but
    /// `CONNECT` for a namespace not joined, `CONNECT` for one joined or being joined,
    /// `CONNECT_ERROR` from the client (socket.io 4 `client.ts` `ondecoded`: "invalid state").
    InvalidState {
        /// The packet's type.
        kind: PacketType,
        /// The packet's namespace.
        nsp: String,
    },
    /// No namespace was joined within [`crate::server::Config::connect_timeout`].
    ConnectTimeout,
    /// A `CONNECT` beyond [`crate::server::Config::max_namespaces`].
    TooManyNamespaces {
        /// The limit.
        limit: usize,
    },
    /// The application called [`crate::server::Connection::close`].
    Server,
}

/// What a server connection reports to the application.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The client asks to join `nsp`: answer with [`crate::server::Connection::accept`] or
    /// [`crate::server::Connection::refuse`] (socket.io's middlewares and dynamic namespaces
    /// are this decision). Revision 4: the first event of every connection is this for `/`.
    ConnectRequest {
        /// The namespace, without a revision 4 query string.
        nsp: String,
        /// The auth data.
        auth: Auth,
    },
    /// The socket joined `nsp` (the `CONNECT` answer is queued): socket.io's `connection`.
    Connected {
        /// The namespace.
        nsp: String,
        /// The socket's id (revision 4: `/nsp#<eio id>`, or the Engine.io id for `/`).
        socket_id: String,
    },
    /// An event from the client; answer [`Packet::id`] (when it has one) with
    /// [`crate::server::Connection::ack`]. Read it with [`Packet::event_name`],
    /// [`Packet::args`], [`Packet::deserialize`].
    Event {
        /// The namespace.
        nsp: String,
        /// The event packet.
        packet: Packet,
    },
    /// The client answered the emit with ack id `id`; read the answer with [`Packet::args`].
    Ack {
        /// The namespace.
        nsp: String,
        /// The ack id [`crate::server::Connection::emit`] returned.
        id: u64,
        /// The ack packet.
        packet: Packet,
    },
    /// No answer came for ack `id` within the emit's timeout (socket.io: "operation has
    /// timed out"). A late answer is then ignored.
    AckTimeout {
        /// The namespace.
        nsp: String,
        /// The ack id.
        id: u64,
    },
    /// The socket left `nsp`; its pending acks are dropped without [`Event::AckTimeout`].
    Disconnected {
        /// The namespace.
        nsp: String,
        /// The socket's id.
        socket_id: String,
        /// Why.
        reason: DisconnectReason,
    },
    /// The connection is done: close its Engine.io session. Reported once, last.
    Close(CloseReason),
}
