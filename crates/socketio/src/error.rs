//! Every error of the crate: [`DecodeError`] (the peer's fault, from decoding) apart from
//! [`BuildError`] (the caller's fault, from building a packet to send).

use alloc::string::String;

/// Why input could not be decoded. Always the peer's fault; a [`crate::Decoder`]'s error is
/// sticky. socket.io answers each of these by closing the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// An empty text message: no packet type.
    #[error("empty packet")]
    Empty,
    /// The first character is not a type digit `0`–`6` (reference: `unknown packet type`).
    #[error("unknown packet type {0:#04x}")]
    UnknownType(u8),
    /// A binary packet's attachment count is not digits followed by `-`, or is 0
    /// (reference: `Illegal attachments`).
    #[error("illegal attachment count")]
    IllegalAttachments,
    /// A binary packet announces more than [`crate::Limits::max_attachments`] attachments
    /// (reference: `too many attachments`).
    #[error("more than {limit} attachments")]
    TooManyAttachments {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// An ack id with more digits than fit in 64 bits (socket.io-parser keeps such an id
    /// as a rounded double; no peer sends one).
    #[error("ack id out of range")]
    InvalidId,
    /// The payload is not JSON (reference: `invalid payload`, from a failed `JSON.parse`), or
    /// nests deeper than 128 levels.
    #[error("payload is not valid JSON")]
    InvalidJson,
    /// The payload's JSON does not suit the packet type: `CONNECT` not an object, data on a
    /// `DISCONNECT`, an event that is not a non-empty array starting with a name, an ack that
    /// is not an array (reference: `invalid payload`).
    #[error("invalid payload for a {0} packet")]
    InvalidPayload(&'static str),
    /// A revision 5 event named with a reserved name (`connect`, `connect_error`,
    /// `disconnect`, `disconnecting`, `newListener`, `removeListener`).
    #[error("reserved event name {0:?}")]
    ReservedEventName(String),
    /// A placeholder whose `num` is not an index of the attachments (reference: `illegal
    /// attachments`).
    #[error("placeholder does not name an attachment")]
    IllegalPlaceholder,
    /// A text message while a binary packet still waits for attachments (reference: `got
    /// plaintext data when reconstructing a packet`).
    #[error("text message while attachments were expected")]
    UnexpectedText,
    /// A binary message with no binary packet waiting for it (reference: `got binary data
    /// when not reconstructing a packet`).
    #[error("binary message without a binary packet")]
    UnexpectedBinary,
    /// A packet's text plus attachments exceed [`crate::Limits::max_packet_bytes`].
    #[error("packet larger than {limit} bytes")]
    PacketTooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
}

impl DecodeError {
    /// A short stable name for the error (`"unknown_type"`, `"invalid_json"`, …), as
    /// `pushwire decode socketio` prints it.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::UnknownType(_) => "unknown_type",
            Self::IllegalAttachments => "illegal_attachments",
            Self::TooManyAttachments { .. } => "too_many_attachments",
            Self::InvalidId => "invalid_id",
            Self::InvalidJson => "invalid_json",
            Self::InvalidPayload(_) => "invalid_payload",
            Self::ReservedEventName(_) => "reserved_event_name",
            Self::IllegalPlaceholder => "illegal_placeholder",
            Self::UnexpectedText => "unexpected_text",
            Self::UnexpectedBinary => "unexpected_binary",
            Self::PacketTooLarge { .. } => "packet_too_large",
        }
    }
}

/// Why a packet could not be built. Always the caller's fault; nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A namespace must start with `/` and hold no `,` (the `,` ends it on the wire).
    #[error("invalid namespace {0:?}: must start with '/' and contain no ','")]
    InvalidNamespace(String),
    /// The data does not suit the packet type (the same rules the decoder applies, see
    /// [`DecodeError::InvalidPayload`]), or holds binary in a packet that is not an event
    /// or an ack.
    #[error("invalid data for a {0} packet")]
    InvalidData(&'static str),
    /// A revision 5 event with a reserved name.
    #[error("reserved event name {0:?}")]
    ReservedEventName(String),
    /// A value could not be turned into JSON (a serde `Serialize` impl failed, a map key that
    /// is not a string, a non-finite float).
    #[error("cannot serialize the data: {0}")]
    Serialize(String),
}
