//! The transport vocabulary shared by both roles: which transport a session uses, and the
//! WebSocket message that carries one packet.

use alloc::string::String;
use bytes::Bytes;

/// The transport a session currently uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling (XHR or JSONP).
    Polling,
    /// One WebSocket connection, one packet per message.
    WebSocket,
}

impl TransportKind {
    /// The name used in the `transport` query parameter.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Polling => "polling",
            Self::WebSocket => "websocket",
        }
    }
}

/// A packet as one WebSocket message: text messages carry the string or base64 form, binary
/// messages the binary form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WsMessage {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Bytes),
}
