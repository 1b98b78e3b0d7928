//! The connection's errors: the peer's ([`ProtocolError`]) apart from the caller's
//! ([`SendError`]).

use crate::close::{self, CloseError};
use crate::frame::HeaderError;

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

impl ProtocolError {
    /// The close code sent to the peer for this error (`None` for [`UnexpectedEof`]).
    ///
    /// [`UnexpectedEof`]: ProtocolError::UnexpectedEof
    pub fn close_code(&self) -> Option<u16> {
        Some(match self {
            ProtocolError::InvalidUtf8 => close::INVALID_PAYLOAD,
            ProtocolError::InvalidClose(e) => e.close_code(),
            ProtocolError::FrameTooLarge { .. }
            | ProtocolError::MessageTooLarge { .. }
            | ProtocolError::TooManyFragments { .. } => close::MESSAGE_TOO_BIG,
            ProtocolError::Extension { code, .. } => *code,
            ProtocolError::UnexpectedEof => return None,
            _ => close::PROTOCOL_ERROR,
        })
    }
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
    /// A client connection has no mask key source (only possible without `std`).
    #[error("client connection without a mask key source")]
    NoMaskKeySource,
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
