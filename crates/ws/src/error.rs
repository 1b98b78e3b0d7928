//! Every error of the crate, in one place. The peer's faults ([`ProtocolError`] from the
//! connection, [`HeaderError`], [`CloseError`], the handshake's [`ParseError`],
//! [`RequestError`] and [`ResponseError`], [`NegotiationError`]) apart from the caller's
//! ([`FeedError`], [`SendError`], [`AcceptError`], [`ClientRequestError`]).
//!
//! This module imports no other: the types they describe import it. The methods that map an
//! error to the wire (a close code, an HTTP status) live beside the wire rules, in
//! `close.rs` and `handshake/server.rs`. Each error is also exported from the module of the
//! type that returns it (`handshake::ParseError`, `close::CloseError`, ...).

use alloc::string::String;

/// The peer broke the protocol (or the stream ended early). Returned by
/// [`Connection::poll_event`](crate::Connection::poll_event); sticky. When [`close_code`](Self::close_code) is `Some`, a Close
/// frame with that code has been queued: write it out, then close the transport.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The frame header itself is invalid (reserved opcode, bad length). 1002.
    #[error("invalid frame header: {0}")]
    Header(#[from] HeaderError),
    /// Server role: "The server MUST close the connection upon receiving a frame that is not
    /// masked." 1002.
    #[error("unmasked frame from a client")]
    UnmaskedFrame,
    /// Client role: "A client MUST close a connection if it detects a masked frame." 1002.
    #[error("masked frame from a server")]
    MaskedFrame,
    /// RSV bits set that no negotiated extension claims. 1002.
    #[error("reserved bits {0:#04x} set without a negotiated extension")]
    ReservedBits(u8),
    /// "All control frames MUST have a payload length of 125 bytes or less". 1002.
    #[error("control frame with a {len}-byte payload (limit {limit})")]
    ControlFrameTooLong {
        /// Declared payload length.
        len: u64,
        /// 125.
        limit: u64,
    },
    /// "Control frames themselves MUST NOT be fragmented." 1002.
    #[error("fragmented control frame")]
    FragmentedControlFrame,
    /// A continuation frame with no message in progress. 1002.
    #[error("continuation frame outside a fragmented message")]
    UnexpectedContinuation,
    /// A new text/binary frame while a fragmented message is in progress. 1002.
    #[error("new data frame inside a fragmented message")]
    ExpectedContinuation,
    /// A text message (or close reason) that is not UTF-8. 1007.
    #[error("text is not valid UTF-8")]
    InvalidUtf8,
    /// An invalid Close frame payload. 1002 (1007 for a non-UTF-8 reason).
    #[error("invalid close frame: {0}")]
    InvalidClose(CloseError),
    /// A frame longer than [`Limits::max_frame_size`](crate::Limits::max_frame_size). 1009.
    #[error("frame of {len} bytes exceeds the limit of {limit}")]
    FrameTooLarge {
        /// Declared payload length.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// A message longer than [`Limits::max_message_size`](crate::Limits::max_message_size). 1009.
    #[error("message of at least {len} bytes exceeds the limit of {limit}")]
    MessageTooLarge {
        /// Message length including the frame that crossed the limit.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// A message in more frames than [`Limits::max_fragments`](crate::Limits::max_fragments). 1009.
    #[error("message in more than {limit} frames")]
    TooManyFragments {
        /// The limit.
        limit: u32,
    },
    /// A negotiated extension rejected a message; carries the code it asked for.
    #[error("extension error {code}: {reason}")]
    Extension {
        /// Close code to send.
        code: u16,
        /// What went wrong.
        reason: &'static str,
    },
    /// The transport ended before the close handshake (or inside a frame). Nothing is queued:
    /// 1006 "MUST NOT be set as a status code in a Close control frame".
    #[error("connection ended without a close handshake")]
    UnexpectedEof,
}

/// Caller misuse of the sending side: nothing was queued.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// A Close frame was already sent: "The application MUST NOT send any more data frames
    /// after sending a Close frame."
    #[error("close already sent")]
    Closing,
    /// The connection failed; nothing more can be sent.
    #[error("connection failed")]
    Failed,
    /// A control payload over 125 bytes ("All control frames MUST have a payload length of
    /// 125 bytes or less").
    #[error("control payload of {len} bytes (limit {limit})")]
    ControlTooLong {
        /// Payload length.
        len: usize,
        /// 125.
        limit: usize,
    },
    /// An invalid close code or reason.
    #[error("invalid close: {0}")]
    InvalidClose(CloseError),
    /// Text that is not UTF-8 (fragmented text is checked across fragments).
    #[error("text is not valid UTF-8")]
    InvalidUtf8,
    /// A whole message was sent while a fragmented one is in progress, or a fragment of the
    /// other kind: "The fragments of one message MUST NOT be interleaved".
    #[error("a fragmented message is in progress")]
    MessageInProgress,
    /// Queuing would exceed [`Limits::max_buffered_output`](crate::Limits::max_buffered_output); drain the output first.
    #[error("output buffer full ({buffered} + {len} > {limit})")]
    OutputFull {
        /// Bytes already queued.
        buffered: usize,
        /// Bytes this send would add.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The extension failed to encode the message.
    #[error("extension error: {0}")]
    Extension(&'static str),
}

/// The caller fed more than the connection may buffer, or fed after the end of the stream.
/// Nothing of the refused chunk was taken and no state changed: poll, then feed it again.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedError {
    /// Accepting the bytes would hold more than
    /// [`Limits::max_buffered_input`](crate::Limits::max_buffered_input) bytes not yet polled.
    #[error("{buffered} bytes are buffered and {len} more would exceed the limit of {limit}; poll first")]
    BufferFull {
        /// Bytes fed and not yet consumed by polling.
        buffered: usize,
        /// Bytes of the refused chunk.
        len: usize,
        /// The bound in force
        /// ([`Limits::effective_max_buffered_input`](crate::Limits::effective_max_buffered_input)).
        limit: usize,
    },
    /// Input was fed after `feed_eof`.
    #[error("input fed after the end of the stream")]
    AfterEof,
}

// ---- Frames, close frames and UTF-8 ----

/// Why a frame header was rejected. All of these are protocol errors (close code 1002).
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderError {
    /// The opcode is one of the reserved values 3–7 or 11–15.
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// A 64-bit payload length with its most significant bit set.
    #[error("64-bit payload length with the most significant bit set")]
    LengthTopBitSet,
    /// The length used more bytes than needed (only when minimal encoding is required).
    #[error("payload length {0} not encoded with the minimal number of bytes")]
    NonMinimalLength(u64),
}

/// Why a Close frame payload is invalid.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseError {
    /// A one-byte body: too short for a status code.
    #[error("close payload of one byte")]
    OneByte,
    /// The status code is not allowed in a Close frame (see [`is_valid_code`](crate::close::is_valid_code)).
    #[error("invalid close code {0}")]
    InvalidCode(u16),
    /// The reason is longer than [`MAX_REASON_LEN`](crate::close::MAX_REASON_LEN) bytes.
    #[error("close reason of {len} bytes is longer than {limit}")]
    ReasonTooLong {
        /// Length of the reason in bytes.
        len: usize,
        /// [`MAX_REASON_LEN`](crate::close::MAX_REASON_LEN).
        limit: usize,
    },
    /// The reason is not valid UTF-8.
    #[error("close reason is not valid UTF-8")]
    InvalidUtf8,
}

/// The input is not valid UTF-8.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
#[error("invalid UTF-8")]
#[non_exhaustive]
pub struct Utf8Error;

// ---- The opening handshake ----

/// Why an HTTP head could not be parsed. Always the peer's fault (a server answers 400).
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// A line is longer than [`HandshakeLimits::max_line_len`](crate::handshake::HandshakeLimits::max_line_len).
    #[error("line longer than {limit} bytes")]
    LineTooLong {
        /// The limit.
        limit: usize,
    },
    /// More header fields than [`HandshakeLimits::max_headers`](crate::handshake::HandshakeLimits::max_headers).
    #[error("more than {limit} header fields")]
    TooManyHeaders {
        /// The limit.
        limit: usize,
    },
    /// The head is larger than [`HandshakeLimits::max_head_len`](crate::handshake::HandshakeLimits::max_head_len).
    #[error("head larger than {limit} bytes")]
    HeadTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A line ends in a bare LF.
    #[error("line not terminated by CRLF")]
    BareLf,
    /// The request or status line is malformed.
    #[error("malformed start line")]
    MalformedStartLine,
    /// A header line is malformed (no colon, bad name, control characters in the value).
    #[error("malformed header field")]
    MalformedHeader,
    /// A header line starts with whitespace (obsolete line folding).
    #[error("obsolete line folding")]
    ObsoleteLineFolding,
}

/// Why a server rejects a handshake request. The peer's fault; [`status`](Self::status) is
/// the HTTP status to answer with and [`response`](Self::response) the full response.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// The head could not be parsed.
    #[error("malformed request: {0}")]
    Parse(#[from] ParseError),
    /// "The method of the request MUST be GET".
    #[error("method is not GET")]
    MethodNotGet,
    /// "the HTTP version MUST be at least 1.1".
    #[error("HTTP version below 1.1")]
    HttpVersion,
    /// "The request MUST contain a |Host| header field" (exactly one).
    #[error("missing or repeated Host")]
    Host,
    /// "The request MUST contain an |Upgrade| header field whose value MUST include the
    /// "websocket" keyword."
    #[error("missing Upgrade: websocket")]
    Upgrade,
    /// "The request MUST contain a |Connection| header field whose value MUST include the
    /// "Upgrade" token."
    #[error("missing Connection: upgrade")]
    Connection,
    /// Sec-WebSocket-Version missing or repeated.
    #[error("missing or repeated Sec-WebSocket-Version")]
    MissingVersion,
    /// Sec-WebSocket-Version is not 13 (answered with 426 and `Sec-WebSocket-Version: 13`).
    #[error("unsupported Sec-WebSocket-Version")]
    UnsupportedVersion,
    /// Sec-WebSocket-Key missing, repeated, or not 16 bytes of base64.
    #[error("invalid Sec-WebSocket-Key")]
    Key,
    /// A header the server reads (Origin, Sec-WebSocket-Protocol/Extensions) is malformed,
    /// or a header an extended CONNECT must not carry (Connection, Upgrade) is present.
    #[error("malformed {0} header")]
    MalformedHeader(&'static str),
    /// RFC 8441: not a CONNECT with `:protocol` `websocket` ("The :protocol pseudo-header
    /// field MUST be included in the CONNECT request, and it MUST have a value of
    /// "websocket"").
    #[error("not an extended CONNECT with :protocol websocket")]
    NotExtendedConnect,
}

/// Caller misuse when building a 101 response.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcceptError {
    /// The chosen subprotocol was not offered by the client.
    #[error("subprotocol not offered by the client")]
    ProtocolNotOffered,
    /// An extension in the response was not offered by the client (or the value is malformed).
    #[error("extension not offered by the client")]
    ExtensionNotOffered,
    /// [`ClientOffer::accept`](crate::handshake::ClientOffer::accept) on an HTTP/2 extended
    /// CONNECT offer, which is answered with a 200, not a 101: use
    /// [`ClientOffer::response_fields`](crate::handshake::ClientOffer::response_fields).
    #[error("an extended CONNECT is accepted with a 200 and response_fields, not a 101")]
    ExtendedConnect,
}

/// Caller misuse when building a client request.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientRequestError {
    /// A field is empty where a value is required, or contains characters not allowed there
    /// (spaces or controls in host/path, separators in a subprotocol, CR/LF anywhere).
    #[error("invalid {0} in client request")]
    Invalid(&'static str),
}

/// Why a client fails the handshake response (RFC 6455 §4.1, "the client MUST _Fail the
/// WebSocket Connection_"). The peer's fault.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseError {
    /// The head could not be parsed.
    #[error("malformed response: {0}")]
    Parse(#[from] ParseError),
    /// The status is not 101 (a redirect or an error page, for the application to handle).
    #[error("status {0} instead of 101")]
    Status(u16),
    /// HTTP version other than 1.x with x ≥ 1.
    #[error("HTTP version below 1.1")]
    HttpVersion,
    /// Missing `Upgrade: websocket`.
    #[error("missing Upgrade: websocket")]
    Upgrade,
    /// Missing `Connection: upgrade`.
    #[error("missing Connection: upgrade")]
    Connection,
    /// `Sec-WebSocket-Accept` missing, repeated or wrong.
    #[error("invalid Sec-WebSocket-Accept")]
    Accept,
    /// A subprotocol that was not offered (or more than one).
    #[error("subprotocol not offered")]
    Protocol,
    /// An extension that was not offered, or that cannot be agreed (see
    /// [`ClientHandshake::into_connection`](crate::handshake::ClientHandshake::into_connection)).
    #[error("extension not offered or not acceptable")]
    Extension,
}

// ---- permessage-deflate negotiation ----

/// Why an element was refused.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NegotiationError {
    /// The element is not `permessage-deflate`.
    #[error("not permessage-deflate")]
    NotDeflate,
    /// A parameter this extension does not define (in this direction).
    #[error("unknown parameter {0}")]
    UnknownParameter(String),
    /// A parameter given twice.
    #[error("duplicate parameter {0}")]
    DuplicateParameter(String),
    /// A value missing, present where none is allowed, not digits, with a leading zero, or
    /// out of 8..=15.
    #[error("invalid value for {0}")]
    InvalidValue(String),
    /// The response does not match what the client offered.
    #[error("response does not match any offer")]
    NotOffered,
}
