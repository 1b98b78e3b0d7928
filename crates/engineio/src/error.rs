//! Every error of the crate. Peer errors (malformed input: [`PacketError`],
//! [`PayloadError`], [`JsonpError`], [`OpenPacketError`]) are apart from caller errors
//! ([`FeedError`], [`SendError`]); a decoder's peer error is sticky.

use alloc::string::String;

use crate::packet_type::PacketType;

// ---- peer errors -----------------------------------------------------------------------

/// Why a single packet could not be decoded. Always the peer's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// The packet has no bytes at all, so no type.
    #[error("empty packet: no packet type")]
    Empty,
    /// The first character of a string-form packet is not a type digit `0`–`6` (nor `b`).
    #[error("unknown packet type character {0:?}")]
    UnknownTypeChar(char),
    /// The first byte of a binary-form packet is not a type number 0–6.
    #[error("unknown packet type byte {0}")]
    UnknownTypeByte(u8),
    /// A base64-form packet (`b…`) whose type character is missing or not `0`–`6`.
    #[error("base64 packet without a valid type digit")]
    Base64Type,
    /// The data of a base64-form packet is not canonical padded base64 (RFC 4648 §4).
    #[error("invalid base64 data")]
    InvalidBase64,
}

/// Why a payload could not be decoded. Always the peer's fault; the packets decoded before
/// it are valid and have been returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// A text payload of zero bytes (engine.io-parser rejects it; the empty list is `0:`),
    /// or a revision 4 payload of zero bytes (engine.io-parser 5 reads one empty packet, a
    /// parse error).
    #[error("empty text payload")]
    Empty,
    /// A length contains a byte that is not a digit (text: ASCII `0`–`9`; binary: a byte of
    /// value 0–9), or the separator (`:`, `0xFF`) is missing.
    #[error("invalid byte {0:#04x} in a packet length")]
    InvalidLength(u8),
    /// A length has no digits (`:` or `0xFF` right at its start).
    #[error("packet length without digits")]
    MissingLength,
    /// A binary payload's per-packet marker is neither 0 (string) nor 1 (binary).
    #[error("invalid packet marker {0:#04x} in a binary payload (expected 0 or 1)")]
    InvalidMarker(u8),
    /// The input ended inside a length or a packet.
    #[error("payload ends inside a packet")]
    Truncated,
    /// A text payload's length ends between the two UTF-16 units of a character outside the
    /// Basic Multilingual Plane (the packet would hold half a surrogate pair).
    #[error("packet length splits a surrogate pair")]
    SplitSurrogate,
    /// A packet is not valid UTF-8 (a text payload, or a string packet of a binary payload).
    #[error("packet is not valid UTF-8")]
    InvalidUtf8,
    /// A packet inside the payload is malformed.
    #[error("malformed packet in payload: {0}")]
    Packet(#[from] PacketError),
    /// More than [`crate::Limits::max_packets`] packets.
    #[error("more than {limit} packets in one payload")]
    TooManyPackets {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A packet longer than [`crate::Limits::max_packet_bytes`].
    #[error("packet larger than {limit} bytes")]
    PacketTooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A payload longer than [`crate::Limits::max_payload_bytes`].
    #[error("payload larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
}

/// Why a JSONP body could not be read. Always the peer's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonpError {
    /// The form body has no `d` field.
    #[error("JSONP request body without a `d` field")]
    MissingData,
    /// The form body has more than one `d` field (engine.io 3.x ignores such a body).
    #[error("JSONP request body with several `d` fields")]
    DuplicateData,
    /// A `%` not followed by two hexadecimal digits.
    #[error("invalid percent-encoding in JSONP request body")]
    InvalidPercentEncoding,
    /// The decoded `d` field is not UTF-8.
    #[error("JSONP request data is not valid UTF-8")]
    InvalidUtf8,
    /// A response body that is not `___eio[<digits>]("…");` with a JSON string inside.
    #[error("malformed JSONP response body")]
    MalformedResponse,
}

/// Why an `open` packet could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenPacketError {
    /// The packet is not of type `open`.
    #[error("expected an open packet, got {0}")]
    NotOpen(PacketType),
    /// The open packet carries binary data.
    #[error("open packet with binary data")]
    Binary,
    /// The data is not the handshake JSON (serde_json's message).
    #[error("invalid handshake JSON: {0}")]
    Json(String),
}

// ---- caller errors ---------------------------------------------------------------------

/// Why [`crate::PayloadDecoder`] refused input. The caller's to handle: a refused feed took
/// nothing, and everything accepted before it is still decoded by polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// Accepting the bytes would take the body past [`crate::Limits::max_payload_bytes`]
    /// (a bound on the whole body, as engine.io's `maxHttpBufferSize`).
    #[error("{buffered} bytes of the body are accepted and {len} more would exceed the limit of {limit}")]
    BufferFull {
        /// Bytes of the body accepted so far.
        buffered: usize,
        /// Bytes offered by the refused feed.
        len: usize,
        /// The limit ([`crate::Limits::max_payload_bytes`]).
        limit: usize,
    },
    /// Input was fed after `feed_eof`.
    #[error("input fed after the end of the stream")]
    AfterEof,
}

/// Why a session refused to queue a packet. The caller's fault or state, never the peer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The session is closing or closed.
    #[error("session closed")]
    Closed,
    /// `max_buffered_packets` packets (of [`crate::server::Config`] or
    /// [`crate::client::Config`]) are waiting already: the peer is not fetching them.
    #[error("{buffered} packets are waiting, the limit is {limit}")]
    OutputFull {
        /// Packets waiting to be sent.
        buffered: usize,
        /// The limit (`max_buffered_packets`).
        limit: usize,
    },
    /// The packet's data would take the bytes waiting past `max_buffered_bytes` (of
    /// [`crate::server::Config`]): the peer is not fetching them. A packet is never refused
    /// for its size alone: with nothing waiting, any packet is queued.
    #[error("{buffered} bytes are waiting, {len} more would pass the limit of {limit}")]
    OutputBytesFull {
        /// Bytes of packet data waiting to be sent.
        buffered: usize,
        /// The refused packet's data length.
        len: usize,
        /// The limit (`max_buffered_bytes`).
        limit: usize,
    },
}
