//! What a server session reports to the application: [`Event`], and why it closed:
//! [`CloseReason`].

use crate::packet::PacketData;

/// Why a session closed (the reason strings engine.io 3.x emits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// `"transport close"`: the client sent a `close` packet or its websocket closed.
    TransportClose,
    /// `"forced close"`: the application called [`crate::server::Session::close`].
    ForcedClose,
    /// `"ping timeout"`: nothing arrived within `pingInterval + pingTimeout`.
    PingTimeout,
    /// `"parse error"`: the client sent a malformed packet or payload.
    ParseError,
    /// `"transport error"`: two overlapping GETs, or a held GET closed by the client.
    TransportError,
}

impl CloseReason {
    /// engine.io's reason string.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TransportClose => "transport close",
            Self::ForcedClose => "forced close",
            Self::PingTimeout => "ping timeout",
            Self::ParseError => "parse error",
            Self::TransportError => "transport error",
        }
    }
}

/// What a session reports to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The session exists: always its first event, queued when it is created (by the
    /// handshake, in [`crate::server::Server`]), so an application learns of new sessions from the
    /// event stream instead of watching the list of ids.
    Opened,
    /// A `message` packet's data.
    Message(PacketData),
    /// The session moved from polling to websocket.
    Upgraded,
    /// The session is closed; it reports nothing after this.
    Closed(CloseReason),
}
