//! The sans-IO connection state machine, one type for both roles.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use core::fmt;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::close::{self, CloseError, CloseFrame};
use crate::frame::{FrameHeader, HeaderDecode, HeaderError, OpCode, MAX_HEADER_LEN};
use crate::keys::MaskKeySource;
use crate::mask::{apply_mask, apply_mask_ascii};
use crate::utf8::{Utf8Error, Utf8Validator};

/// Which end of the connection this is. The role decides masking: "a client MUST mask all
/// frames that it sends to the server", "A server MUST NOT mask any frames".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that sent the opening handshake request.
    Client,
    /// The end that accepted it.
    Server,
}

/// Limits and options of a [`Connection`]. Every limit is checked before memory is reserved
/// for what it bounds (a frame's length is checked as soon as its header is decoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Largest payload of one received frame. Default 16 MiB: large enough for every
    /// Autobahn|Testsuite case, small enough that a hostile length cannot make the connection
    /// wait for (and buffer) gigabytes. Exceeding it fails with close code 1009.
    pub max_frame_size: u64,
    /// Largest received message (sum of its fragments). Default 64 MiB (the common default of
    /// WebSocket libraries). Exceeding it fails with close code 1009.
    pub max_message_size: u64,
    /// Most frames in one received message. Default 65,536: fragments are copied into one
    /// buffer as they arrive, so a fragment costs only its header; the bound caps the work an
    /// endless stream of empty fragments can cause. Exceeding it fails with close code 1009.
    pub max_fragments: usize,
    /// Most bytes queued for writing before `send_*` refuses with [`SendError::OutputFull`].
    /// Default 64 MiB. Replies the protocol requires (pong, close) are queued regardless.
    pub max_buffered_output: usize,
    /// Reject lengths not encoded in the minimal number of bytes ("the minimal number of bytes
    /// MUST be used to encode the length"). Default `true`.
    pub require_minimal_length: bool,
    /// Answer every ping with a pong automatically ("Upon receipt of a Ping frame, an endpoint
    /// MUST send a Pong frame in response"). Default `true`; with `false` the application
    /// must call [`Connection::send_pong`] itself.
    pub auto_pong: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_fragments: 65_536,
            max_buffered_output: 64 << 20,
            require_minimal_length: true,
            auto_pong: true,
        }
    }
}

/// Text (valid UTF-8) held as [`Bytes`], so received text is not copied.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wraps bytes after checking they are UTF-8.
    pub fn from_bytes(b: Bytes) -> Result<Self, Utf8Error> {
        match simdutf8::basic::from_utf8(&b) {
            Ok(_) => Ok(Utf8Bytes(b)),
            Err(_) => Err(Utf8Error),
        }
    }

    /// Wraps a static string (no copy).
    pub const fn from_static(s: &'static str) -> Self {
        Utf8Bytes(Bytes::from_static(s.as_bytes()))
    }

    /// The text. The crate allows no `unsafe` outside masking, so this re-checks UTF-8 (a SIMD
    /// pass, many GB/s); keep the `&str` rather than calling it in a loop.
    pub fn as_str(&self) -> &str {
        // Always valid: every constructor checked it.
        simdutf8::basic::from_utf8(&self.0).unwrap_or("")
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying [`Bytes`].
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Utf8Bytes(Bytes::from(s.into_bytes()))
    }
}

impl From<&str> for Utf8Bytes {
    fn from(s: &str) -> Self {
        Utf8Bytes(Bytes::copy_from_slice(s.as_bytes()))
    }
}

/// Something received from the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A complete text message (reassembled if it was fragmented).
    Text(Utf8Bytes),
    /// A complete binary message (reassembled if it was fragmented).
    Binary(Bytes),
    /// A ping. With [`Config::auto_pong`] the pong is already queued.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// The peer's Close frame (`None`: no status code, i.e. 1005). If we had not sent a close
    /// yet, the echo is already queued. The connection is now closed: drain the output, then
    /// see [`Connection::should_close_transport`].
    Close(Option<CloseFrame>),
}

/// Text (valid UTF-8) borrowed from a connection's buffers: the text of an [`EventRef`].
///
/// Like [`Utf8Bytes`], it was validated when received, and [`as_str`](Self::as_str) checks
/// again (the crate allows no `unsafe` outside masking, so `&str` can only be made by a
/// validator): code that works on the bytes (a JSON parser over `&[u8]`, a proxy forwarding
/// the text) pays for one validation only.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Utf8Ref<'a>(&'a [u8]);

impl<'a> Utf8Ref<'a> {
    /// The text (re-checked, a SIMD pass for long text; see the type's docs).
    pub fn as_str(&self) -> &'a str {
        // Always valid: the connection checked it.
        if self.0.len() < 64 {
            core::str::from_utf8(self.0).unwrap_or_default()
        } else {
            simdutf8::basic::from_utf8(self.0).unwrap_or_default()
        }
    }

    /// The raw bytes (no check).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Utf8Ref<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Utf8Ref<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Utf8Ref<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

/// A received event borrowing the connection's buffers, returned by
/// [`Connection::poll_event_ref`]: valid until the next call on the connection. Nothing is
/// allocated or reference-counted for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRef<'a> {
    /// A complete text message.
    Text(Utf8Ref<'a>),
    /// A complete binary message.
    Binary(&'a [u8]),
    /// A ping. With [`Config::auto_pong`] the pong is already queued.
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// The peer's Close frame; see [`Event::Close`].
    Close(Option<&'a CloseFrame>),
}

impl EventRef<'_> {
    /// An owned copy.
    pub fn to_event(&self) -> Event {
        match *self {
            EventRef::Text(t) => Event::Text(Utf8Bytes(Bytes::copy_from_slice(t.as_bytes()))),
            EventRef::Binary(b) => Event::Binary(Bytes::copy_from_slice(b)),
            EventRef::Ping(b) => Event::Ping(Bytes::copy_from_slice(b)),
            EventRef::Pong(b) => Event::Pong(Bytes::copy_from_slice(b)),
            EventRef::Close(f) => Event::Close(f.cloned()),
        }
    }
}

impl<'a> From<&'a Event> for EventRef<'a> {
    fn from(ev: &'a Event) -> Self {
        match ev {
            Event::Text(t) => EventRef::Text(Utf8Ref(t.as_bytes())),
            Event::Binary(b) => EventRef::Binary(b),
            Event::Ping(b) => EventRef::Ping(b),
            Event::Pong(b) => EventRef::Pong(b),
            Event::Close(f) => EventRef::Close(f.as_ref()),
        }
    }
}

/// The peer broke the protocol (or the stream ended early). Returned by
/// [`Connection::poll_event`]; sticky. When [`close_code`](Self::close_code) is `Some`, a Close
/// frame with that code has been queued: write it out, then close the transport.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
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
    #[error("control frame with a {0}-byte payload")]
    ControlFrameTooLong(u64),
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
    /// A frame longer than [`Config::max_frame_size`]. 1009.
    #[error("frame of {len} bytes exceeds the limit of {limit}")]
    FrameTooLarge {
        /// Declared payload length.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// A message longer than [`Config::max_message_size`]. 1009.
    #[error("message of at least {len} bytes exceeds the limit of {limit}")]
    MessageTooLarge {
        /// Message length including the frame that crossed the limit.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// A message in more frames than [`Config::max_fragments`]. 1009.
    #[error("message in more than {limit} frames")]
    TooManyFragments {
        /// The limit.
        limit: usize,
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
    #[error("control payload of {0} bytes (max 125)")]
    ControlTooLong(usize),
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
    /// Queuing would exceed [`Config::max_buffered_output`]; drain the output first.
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

/// Kind of a data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

impl MessageKind {
    fn opcode(self) -> OpCode {
        match self {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        }
    }
}

/// An error from an [`Extension`]: the close code to fail the connection with, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionError {
    /// Close code to send (e.g. 1007 for corrupt compressed data, 1009 for too big).
    pub code: u16,
    /// What went wrong.
    pub reason: &'static str,
}

/// A negotiated extension (RFC 6455 §9), such as permessage-deflate: it claims RSV bits and
/// transforms whole messages.
///
/// Hook rules: RSV bits in [`rsv_bits`](Self::rsv_bits) are accepted on the *first* frame of a
/// data message only (continuation and control frames must have them clear, as RFC 7692
/// requires). [`decode`](Self::decode) is called for each received message whose first frame
/// had any of them set; UTF-8 of such text is checked after decoding. Whole messages sent with
/// `send_text`/`send_binary`/`send_fragmented` go through [`encode`](Self::encode) (a fragmented
/// one is split after encoding); fragments streamed with `send_fragment` go through
/// [`encode_fragment`](Self::encode_fragment).
pub trait Extension: Send {
    /// RSV bits (wire positions, see [`RSV1`](crate::frame::RSV1)) this extension claims.
    fn rsv_bits(&self) -> u8;
    /// Transforms a received message. `max_len` is [`Config::max_message_size`]; the output
    /// must not exceed it.
    fn decode(
        &mut self,
        kind: MessageKind,
        rsv: u8,
        payload: Bytes,
        max_len: u64,
    ) -> Result<Bytes, ExtensionError>;
    /// Transforms an outgoing message, returning the RSV bits for its first frame.
    fn encode(&mut self, kind: MessageKind, payload: Bytes) -> Result<(u8, Bytes), ExtensionError>;
    /// Transforms one fragment of an outgoing message streamed with `send_fragment`: `first`
    /// and `fin` say where it sits in the message (the connection calls this in order, one
    /// message at a time). The RSV bits returned for the first fragment go on its frame; those
    /// returned for later fragments are ignored (continuation frames go out with RSV clear).
    /// The default passes fragments through untransformed with RSV clear.
    fn encode_fragment(
        &mut self,
        kind: MessageKind,
        payload: Bytes,
        first: bool,
        fin: bool,
    ) -> Result<(u8, Bytes), ExtensionError> {
        let _ = (kind, first, fin);
        Ok((0, payload))
    }
}

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// Messages flow both ways.
    Open,
    /// We sent a Close frame and wait for the peer's; received data frames are dropped.
    CloseSent,
    /// Both Close frames exchanged (or the peer's received and answered).
    Closed,
    /// A [`ProtocolError`] happened; input is discarded.
    Failed,
}

#[derive(Debug, Default)]
enum Assembly {
    #[default]
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl Assembly {
    fn push(&mut self, b: Bytes) {
        *self = match core::mem::take(self) {
            Assembly::Empty => Assembly::One(b),
            Assembly::One(a) => {
                let mut m = BytesMut::with_capacity(a.len() + b.len());
                m.extend_from_slice(&a);
                m.extend_from_slice(&b);
                Assembly::Many(m)
            }
            Assembly::Many(mut m) => {
                m.extend_from_slice(&b);
                Assembly::Many(m)
            }
        }
    }

    fn finish(self) -> Bytes {
        match self {
            Assembly::Empty => Bytes::new(),
            Assembly::One(b) => b,
            Assembly::Many(m) => m.freeze(),
        }
    }
}

#[derive(Debug)]
struct Message {
    kind: MessageKind,
    rsv: u8,
    len: u64,
    frames: usize,
    /// `Some` while text is validated incrementally (not for extension-transformed text).
    utf8: Option<Utf8Validator>,
    data: Assembly,
}

/// What a connection needs only sometimes, boxed so that [`Connection`] stays small and an
/// idle server connection holds no heap. Allocated when first needed, dropped again as soon as
/// it is empty (see [`Cold::is_empty`]).
#[derive(Default)]
struct Cold {
    /// The error that failed the connection (sticky).
    error: Option<ProtocolError>,
    /// A received message in progress: fragmented, or one frame that arrived in pieces.
    message: Option<Message>,
    /// Chunks to write before `Connection::out_buf`: each large payload (queued without a
    /// copy) preceded by the frames queued before it.
    out_queue: VecDeque<Bytes>,
    /// Bytes in `out_queue`.
    queued: usize,
    /// The message being streamed with `send_fragment`: its kind and UTF-8 state.
    sending: Option<(MessageKind, Utf8Validator)>,
    /// Mask keys (clients only).
    keys: Option<Box<dyn MaskKeySource + Send>>,
    /// The negotiated extension.
    extension: Option<Box<dyn Extension>>,
    /// The event last returned by `poll_event_ref` when it was not borrowed from `input`.
    held: Option<Event>,
}

impl Cold {
    fn is_empty(&self) -> bool {
        self.error.is_none()
            && self.message.is_none()
            && self.out_queue.is_empty()
            && self.sending.is_none()
            && self.keys.is_none()
            && self.extension.is_none()
            && self.held.is_none()
    }
}

/// A whole message in one frame at the head of the input, unmasked and validated.
struct WholeFrame {
    /// A text message (else binary).
    text: bool,
    header_len: usize,
    /// Payload length.
    len: usize,
}

/// Payloads up to this size are copied next to their header so small frames go out as one
/// chunk; larger ones are queued as their own chunk without a copy.
const COALESCE_MAX: usize = 512;

/// A WebSocket connection after the opening handshake, for either role.
///
/// # Call order
///
/// 1. Bytes read from the transport: [`feed`](Self::feed) (copies) or
///    [`feed_bytes`](Self::feed_bytes) (takes ownership, no copy); at end of stream,
///    [`feed_eof`](Self::feed_eof).
/// 2. Then call [`poll_event`](Self::poll_event) until it returns `Ok(None)` (needs more bytes)
///    or an error. Extra calls are harmless.
/// 3. Send with [`send_text`](Self::send_text), [`send_binary`](Self::send_binary),
///    [`send_ping`](Self::send_ping), [`close`](Self::close), … (these only queue).
/// 4. After 2 and 3, write out every chunk [`poll_transmit`](Self::poll_transmit) returns, in
///    order (the protocol queues pongs and close replies during step 2).
/// 5. Close the transport when [`should_close_transport`](Self::should_close_transport) says so.
///
/// # Memory
///
/// `size_of::<Connection>()` is 128 bytes on 64-bit targets. Buffers are allocated when
/// needed and released when drained: a server connection with nothing buffered holds no heap
/// (a client holds its boxed mask-key source, an extension its own state).
pub struct Connection {
    /// Received bytes not yet consumed. While `in_frame`, they start with the header of the
    /// frame being received, decoded again on each poll (cheaper than keeping it here).
    input: BytesMut,
    /// Encoded frames waiting to be written, after the chunks of `Cold::out_queue`.
    out_buf: BytesMut,
    config: Config,
    /// Payload bytes of the frame at the head of `input` already unmasked and UTF-8 checked.
    done: usize,
    cold: Option<Box<Cold>>,
    role: Role,
    state: ConnectionState,
    eof: bool,
    /// The header at the head of `input` has passed `check_header` (the message state knows
    /// about the frame); only its payload is awaited.
    in_frame: bool,
    /// Bytes at the head of `input` already consumed by [`Connection::poll_event_ref`] (the
    /// frames whose payloads it lent out). Dropped in one step by `settle`, at the next feed
    /// or when a frame needs the general path, rather than advancing `input` per message.
    lent: u32,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("error", &self.error())
            .field("buffered_input", &(self.input.len() - self.lent as usize))
            .field("buffered_output", &self.buffered_output())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection for `role` with the default random mask key source (feature `std`).
    #[cfg(feature = "std")]
    pub fn new(role: Role, config: Config) -> Self {
        match role {
            Role::Server => Self::server(config),
            Role::Client => {
                Self::with_mask_keys(role, config, Box::new(crate::keys::StdRandom::new()))
            }
        }
    }

    /// A server connection (servers never mask, so no key source is needed).
    pub fn server(config: Config) -> Self {
        Self::build(Role::Server, config, None)
    }

    /// A connection taking mask keys from `keys` (only a client uses them).
    pub fn with_mask_keys(role: Role, config: Config, keys: Box<dyn MaskKeySource + Send>) -> Self {
        Self::build(role, config, Some(keys))
    }

    fn build(role: Role, config: Config, keys: Option<Box<dyn MaskKeySource + Send>>) -> Self {
        Connection {
            input: BytesMut::new(),
            out_buf: BytesMut::new(),
            config,
            done: 0,
            cold: keys.map(|k| {
                Box::new(Cold {
                    keys: Some(k),
                    ..Cold::default()
                })
            }),
            role,
            state: ConnectionState::Open,
            eof: false,
            in_frame: false,
            lent: 0,
        }
    }

    /// Installs a negotiated extension (call right after the handshake, before feeding).
    pub fn set_extension(&mut self, ext: Box<dyn Extension>) {
        self.cold_mut().extension = Some(ext);
    }

    /// This connection's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where the connection is in its life.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// The error that failed the connection, if any.
    pub fn error(&self) -> Option<&ProtocolError> {
        self.cold.as_ref().and_then(|c| c.error.as_ref())
    }

    fn cold_mut(&mut self) -> &mut Cold {
        self.cold.get_or_insert_with(Box::default)
    }

    /// Drops the cold state once nothing is left in it.
    fn release_cold(&mut self) {
        if self.cold.as_ref().is_some_and(|c| c.is_empty()) {
            self.cold = None;
        }
    }

    fn message_mut(&mut self) -> Option<&mut Message> {
        self.cold.as_mut().and_then(|c| c.message.as_mut())
    }

    fn has_keys(&self) -> bool {
        self.cold.as_ref().is_some_and(|c| c.keys.is_some())
    }

    fn sending(&self) -> Option<(MessageKind, Utf8Validator)> {
        self.cold.as_ref().and_then(|c| c.sending)
    }

    // ----- input ---------------------------------------------------------------------------

    /// Appends bytes read from the transport (copied). Then call
    /// [`poll_event`](Self::poll_event). Ignored once the connection is closed or failed.
    pub fn feed(&mut self, data: &[u8]) {
        self.settle();
        if self.accepts_input() {
            self.input.extend_from_slice(data);
        }
    }

    /// Appends bytes read from the transport, taking ownership; when nothing is buffered the
    /// buffer is used as is, without a copy (payloads are then split off it).
    pub fn feed_bytes(&mut self, data: BytesMut) {
        self.settle();
        if !self.accepts_input() {
            return;
        }
        if self.input.is_empty() {
            self.input = data;
        } else {
            self.input.extend_from_slice(&data);
        }
    }

    /// The transport reached end of stream. Then call [`poll_event`](Self::poll_event): if the
    /// close handshake did not finish it returns [`ProtocolError::UnexpectedEof`].
    pub fn feed_eof(&mut self) {
        self.eof = true;
    }

    fn accepts_input(&self) -> bool {
        matches!(
            self.state,
            ConnectionState::Open | ConnectionState::CloseSent
        )
    }

    /// The next event, `Ok(None)` if more bytes are needed (or the connection is closed).
    /// Errors are sticky: after one, every call returns it again. Call after each
    /// [`feed`](Self::feed) until `Ok(None)`, then drain [`poll_transmit`](Self::poll_transmit).
    #[must_use = "events and errors must be handled"]
    pub fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        self.settle();
        if self.state == ConnectionState::Failed {
            if let Some(e) = self.error() {
                return Err(e.clone());
            }
        }
        loop {
            if self.state == ConnectionState::Closed {
                self.release_input();
                return Ok(None);
            }
            if !self.in_frame {
                if let Some(r) = self.whole_message_frame(0) {
                    return match r {
                        Ok(WholeFrame {
                            text,
                            header_len,
                            len,
                        }) => {
                            // Split header and payload off together, then drop the header from
                            // the `Bytes` (cheaper than advancing the `BytesMut`).
                            let mut data = self.input.split_to(header_len + len).freeze();
                            data.advance(header_len);
                            Ok(Some(if text {
                                Event::Text(Utf8Bytes(data))
                            } else {
                                Event::Binary(data)
                            }))
                        }
                        Err(e) => Err(self.fail(e)),
                    };
                }
            }
            match self.next_frame() {
                Ok(Some((header, payload))) => match self.on_frame(header, payload) {
                    Ok(Some(ev)) => return Ok(Some(ev)),
                    Ok(None) => continue,
                    Err(e) => return Err(self.fail(e)),
                },
                Ok(None) => {
                    if self.eof {
                        return Err(self.fail(ProtocolError::UnexpectedEof));
                    }
                    self.release_input();
                    return Ok(None);
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Like [`poll_event`](Self::poll_event), but the event borrows the connection's buffers
    /// instead of owning its payload: a whole message that arrived in one frame (the common
    /// case) is unmasked and validated where it lies in the input buffer and lent out as is —
    /// no `Bytes` split off, no reference count, no allocation. The input buffer is then never
    /// shared, so [`feed`](Self::feed) can reuse it instead of allocating a new one. Other
    /// events (fragmented messages, control frames) are decoded as by `poll_event` and lent
    /// from where the connection keeps them. The event is valid until the next call on the
    /// connection; same call order and errors as `poll_event`.
    #[must_use = "events and errors must be handled"]
    pub fn poll_event_ref(&mut self) -> Result<Option<EventRef<'_>>, ProtocolError> {
        self.drop_held();
        if self.lent > u32::MAX / 2 {
            self.settle();
        }
        if self.state == ConnectionState::Open && !self.in_frame {
            let at = self.lent as usize;
            if let Some(r) = self.whole_message_frame(at) {
                let WholeFrame {
                    text,
                    header_len,
                    len,
                } = r.map_err(|e| self.fail(e))?;
                let start = at + header_len;
                // Below `u32::MAX`: `at` is at most half of it, and the fast path takes only
                // frames with 7- and 16-bit lengths (at most 65,543 bytes).
                self.lent = (start + len) as u32;
                let payload = &self.input[start..start + len];
                return Ok(Some(if text {
                    // Checked by `whole_message_frame`.
                    EventRef::Text(Utf8Ref(payload))
                } else {
                    EventRef::Binary(payload)
                }));
            }
        }
        // Everything else takes the general path.
        self.settle();
        let Some(ev) = self.poll_event()? else {
            return Ok(None);
        };
        let cold = self.cold_mut();
        Ok(Some(EventRef::from(&*cold.held.insert(ev))))
    }

    /// Drops what [`EventRef`]s borrowed: the frames consumed from `input`, and the event
    /// kept for the last one.
    #[inline(always)]
    fn settle(&mut self) {
        if self.lent != 0 {
            self.input.advance(self.lent as usize);
            self.lent = 0;
        }
        self.drop_held();
    }

    /// Drops the event kept for the last [`EventRef`], if any.
    #[inline(always)]
    fn drop_held(&mut self) {
        if let Some(c) = self.cold.as_mut() {
            if c.held.take().is_some() {
                self.release_cold();
            }
        }
    }

    fn release_input(&mut self) {
        // No heap held while idle: drop an empty input buffer's allocation.
        if self.input.is_empty() && self.input.capacity() > 0 {
            self.input = BytesMut::new();
        }
    }

    /// The common case on a fast path that leaves the message state alone: a whole final text
    /// or binary frame (FIN set, RSV clear, 7- or 16-bit minimal length, masked as the role
    /// requires, within the frame and message limits) at `input[at..]`, while the connection
    /// is open and no fragmented message is in progress. Such a frame is the whole message, so
    /// its text is validated in one pass. `None` for anything else, which [`Self::next_frame`]
    /// then decodes and checks (errors included).
    /// On success the payload is unmasked (and its text validated) in place; the frame is
    /// still in `input` (nothing is consumed here).
    #[inline(always)]
    fn whole_message_frame(&mut self, at: usize) -> Option<Result<WholeFrame, ProtocolError>> {
        if self.state != ConnectionState::Open
            || self.cold.as_ref().is_some_and(|c| c.message.is_some())
        {
            return None;
        }
        let buf = self.input.get(at..)?;
        let (&b0, &b1) = (buf.first()?, buf.get(1)?);
        // FIN, RSV1-3 clear, opcode 0x1 (text) or 0x2 (binary).
        if b0 != 0x81 && b0 != 0x82 {
            return None;
        }
        let masked = b1 & 0x80 != 0;
        if masked != (self.role == Role::Server) {
            return None;
        }
        let (len, mut header_len) = match b1 & 0x7F {
            126 => match buf.get(2..4)? {
                &[hi, lo] if u16::from_be_bytes([hi, lo]) > 125 => {
                    (usize::from(u16::from_be_bytes([hi, lo])), 4)
                }
                _ => return None,
            },
            127 => return None,
            n => (usize::from(n), 2),
        };
        let key = if masked {
            let k = buf.get(header_len..header_len + 4)?;
            header_len += 4;
            Some([k[0], k[1], k[2], k[3]])
        } else {
            None
        };
        if buf.len() - header_len < len
            || len as u64 > self.config.max_frame_size
            || len as u64 > self.config.max_message_size
        {
            return None;
        }
        let text = b0 == 0x81;
        let payload = &mut self.input[at + header_len..at + header_len + len];
        let valid = match key {
            // Short text: unmask and look for non-ASCII bytes in one pass.
            Some(key) if text && len <= 64 => {
                apply_mask_ascii(payload, key) || crate::utf8::is_utf8(payload)
            }
            Some(key) => {
                apply_mask(payload, key, 0);
                !text || crate::utf8::is_utf8(payload)
            }
            None => !text || crate::utf8::is_utf8(payload),
        };
        if !valid {
            return Some(Err(ProtocolError::InvalidUtf8));
        }
        Some(Ok(WholeFrame {
            text,
            header_len,
            len,
        }))
    }

    /// Decodes, checks, unmasks (and UTF-8 checks) the next frame; `Ok(None)` if incomplete.
    fn next_frame(&mut self) -> Result<Option<(FrameHeader, Bytes)>, ProtocolError> {
        let (header, header_len) =
            match FrameHeader::decode(&self.input, self.config.require_minimal_length)? {
                HeaderDecode::NeedMore(_) => return Ok(None),
                HeaderDecode::Complete { header, header_len } => (header, header_len),
            };
        let len = if self.in_frame {
            header.payload_len as usize
        } else {
            let len = self.check_header(&header)?;
            self.in_frame = true;
            self.done = 0;
            len
        };
        let avail = (self.input.len() - header_len).min(len);
        if avail > self.done {
            let done = self.done;
            let new = &mut self.input[header_len + done..header_len + avail];
            if let Some(key) = header.mask {
                apply_mask(new, key, done);
            }
            if !header.opcode.is_control() {
                let message = self.cold.as_mut().and_then(|c| c.message.as_mut());
                if let Some(v) = message.and_then(|m| m.utf8.as_mut()) {
                    // "When an endpoint is to interpret a byte stream as UTF-8 but finds that
                    // the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST
                    // _Fail the WebSocket Connection_." Checked as bytes arrive.
                    v.feed(new).map_err(|_| ProtocolError::InvalidUtf8)?;
                }
            }
            self.done = avail;
        }
        if avail < len {
            return Ok(None);
        }
        self.in_frame = false;
        self.input.advance(header_len);
        let payload = self.input.split_to(len).freeze();
        Ok(Some((header, payload)))
    }

    /// Role-, extension- and message-dependent checks on a decoded header; returns the payload
    /// length as `usize`. Starts or extends the message in progress.
    fn check_header(&mut self, h: &FrameHeader) -> Result<usize, ProtocolError> {
        match (self.role, h.mask.is_some()) {
            // "The server MUST close the connection upon receiving a frame that is not masked."
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            // "A client MUST close a connection if it detects a masked frame."
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        // "MUST be 0 unless an extension is negotiated that defines meanings for non-zero
        // values."
        let extension = self.cold.as_ref().and_then(|c| c.extension.as_ref());
        let allowed = match (h.opcode, extension) {
            (OpCode::Text | OpCode::Binary, Some(ext)) => ext.rsv_bits() & 0x70,
            _ => 0,
        };
        if h.rsv & !allowed != 0 {
            return Err(ProtocolError::ReservedBits(h.rsv & !allowed));
        }
        if h.opcode.is_control() {
            // "All control frames MUST have a payload length of 125 bytes or less and MUST NOT
            // be fragmented."
            if h.payload_len > 125 {
                return Err(ProtocolError::ControlFrameTooLong(h.payload_len));
            }
            if !h.fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            return Ok(h.payload_len as usize);
        }
        let config = self.config;
        if h.payload_len > config.max_frame_size || h.payload_len > usize::MAX as u64 {
            return Err(ProtocolError::FrameTooLarge {
                len: h.payload_len,
                limit: config.max_frame_size,
            });
        }
        match (h.opcode, self.message_mut()) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Continuation, Some(m)) => {
                if m.frames >= config.max_fragments {
                    return Err(ProtocolError::TooManyFragments {
                        limit: config.max_fragments,
                    });
                }
                let len = m.len.saturating_add(h.payload_len);
                if len > config.max_message_size {
                    return Err(ProtocolError::MessageTooLarge {
                        len,
                        limit: config.max_message_size,
                    });
                }
                m.len = len;
                m.frames += 1;
            }
            // "The fragments of one message MUST NOT be interleaved between the fragments of
            // another message unless an extension has been negotiated"
            (_, Some(_)) => return Err(ProtocolError::ExpectedContinuation),
            (op, None) => {
                if h.payload_len > config.max_message_size {
                    return Err(ProtocolError::MessageTooLarge {
                        len: h.payload_len,
                        limit: config.max_message_size,
                    });
                }
                let kind = if op == OpCode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                self.cold_mut().message = Some(Message {
                    kind,
                    rsv: h.rsv,
                    len: h.payload_len,
                    frames: 1,
                    utf8: (kind == MessageKind::Text && h.rsv == 0).then(Utf8Validator::new),
                    data: Assembly::Empty,
                });
            }
        }
        Ok(h.payload_len as usize)
    }

    fn on_frame(
        &mut self,
        header: FrameHeader,
        payload: Bytes,
    ) -> Result<Option<Event>, ProtocolError> {
        match header.opcode {
            OpCode::Ping => {
                // "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
                // response, unless it already received a Close frame." A pong "must have
                // identical "Application data"".
                // Ping frames are only processed before the peer's Close (Open or CloseSent).
                if self.config.auto_pong {
                    self.queue_frame(OpCode::Pong, true, 0, payload.clone());
                }
                Ok(Some(Event::Ping(payload)))
            }
            OpCode::Pong => Ok(Some(Event::Pong(payload))),
            OpCode::Close => {
                // "If there is a body, the first two bytes of the body MUST be a 2-byte
                // unsigned integer [...] the body MAY contain UTF-8-encoded data"
                let frame = CloseFrame::parse(payload).map_err(ProtocolError::InvalidClose)?;
                if self.state == ConnectionState::Open {
                    // "If an endpoint receives a Close frame and did not previously send a
                    // Close frame, the endpoint MUST send a Close frame in response. (When
                    // sending a Close frame in response, the endpoint typically echos the
                    // status code it received.)"
                    let body = match &frame {
                        Some(f) => Bytes::copy_from_slice(&f.code().to_be_bytes()),
                        None => Bytes::new(),
                    };
                    self.queue_frame(OpCode::Close, true, 0, body);
                }
                self.state = ConnectionState::Closed;
                if let Some(c) = self.cold.as_mut() {
                    c.message = None;
                }
                self.release_cold();
                self.input = BytesMut::new();
                Ok(Some(Event::Close(frame)))
            }
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                let Some(m) = self.message_mut() else {
                    return Err(ProtocolError::UnexpectedContinuation);
                };
                m.data.push(payload);
                if !header.fin {
                    return Ok(None);
                }
                let Some(m) = self.cold.as_mut().and_then(|c| c.message.take()) else {
                    return Ok(None);
                };
                self.release_cold();
                if let Some(v) = &m.utf8 {
                    v.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
                }
                let mut data = m.data.finish();
                if m.rsv != 0 {
                    let max = self.config.max_message_size;
                    if let Some(ext) = self.cold.as_mut().and_then(|c| c.extension.as_mut()) {
                        data = ext.decode(m.kind, m.rsv, data, max).map_err(|e| {
                            ProtocolError::Extension {
                                code: e.code,
                                reason: e.reason,
                            }
                        })?;
                        if data.len() as u64 > max {
                            return Err(ProtocolError::MessageTooLarge {
                                len: data.len() as u64,
                                limit: max,
                            });
                        }
                    }
                }
                if self.state != ConnectionState::Open {
                    // "The application MUST NOT send any more data frames after sending a
                    // Close frame" — and data arriving after ours is dropped.
                    return Ok(None);
                }
                Ok(Some(match m.kind {
                    MessageKind::Binary => Event::Binary(data),
                    MessageKind::Text if m.utf8.is_some() => Event::Text(Utf8Bytes(data)),
                    MessageKind::Text => Event::Text(
                        Utf8Bytes::from_bytes(data).map_err(|_| ProtocolError::InvalidUtf8)?,
                    ),
                }))
            }
        }
    }

    fn fail(&mut self, e: ProtocolError) -> ProtocolError {
        // "_Fail the WebSocket Connection_ [...] the endpoint MAY send a Close frame with an
        // appropriate status code": queue it unless a close was already sent.
        if let Some(code) = e.close_code() {
            if self.state == ConnectionState::Open {
                self.queue_frame(
                    OpCode::Close,
                    true,
                    0,
                    Bytes::copy_from_slice(&code.to_be_bytes()),
                );
            }
        }
        self.state = ConnectionState::Failed;
        self.input = BytesMut::new();
        self.lent = 0;
        self.in_frame = false;
        let cold = self.cold_mut();
        cold.error = Some(e.clone());
        cold.message = None;
        e
    }

    // ----- output --------------------------------------------------------------------------

    /// Queues a text message (one frame, or transformed by the extension). Then drain
    /// [`poll_transmit`](Self::poll_transmit).
    pub fn send_text(&mut self, text: impl Into<Utf8Bytes>) -> Result<(), SendError> {
        self.send_message(MessageKind::Text, text.into().into_bytes())
    }

    /// Queues a binary message. Then drain [`poll_transmit`](Self::poll_transmit).
    pub fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_message(MessageKind::Binary, data.into())
    }

    /// Encodes a text message straight into `out`, the transport's own write buffer (a
    /// `Vec<u8>` or `BytesMut` that grows; a fixed-size `BufMut` panics when full, as
    /// [`BufMut::put_slice`] does). Anything already queued is moved into `out` first, so the
    /// order of frames holds. No allocation and no reference counting: the way to send many
    /// small messages. Same checks as [`send_text`](Self::send_text);
    /// [`Config::max_buffered_output`] does not apply (the bytes are in the caller's buffer).
    /// With a negotiated extension the message goes through it (and the queue) as usual.
    pub fn send_text_to<B: BufMut>(&mut self, out: &mut B, text: &str) -> Result<(), SendError> {
        self.send_to(out, MessageKind::Text, text.as_bytes())
    }

    /// Encodes a binary message straight into `out`; see [`send_text_to`](Self::send_text_to).
    pub fn send_binary_to<B: BufMut>(&mut self, out: &mut B, data: &[u8]) -> Result<(), SendError> {
        self.send_to(out, MessageKind::Binary, data)
    }

    fn send_to<B: BufMut>(
        &mut self,
        out: &mut B,
        kind: MessageKind,
        data: &[u8],
    ) -> Result<(), SendError> {
        let extension = self.cold.as_ref().is_some_and(|c| c.extension.is_some());
        if extension {
            self.send_message(kind, Bytes::copy_from_slice(data))?;
        } else {
            self.check_open()?;
            if self.sending().is_some() {
                return Err(SendError::MessageInProgress);
            }
        }
        if self.buffered_output() != 0 {
            while let Some(chunk) = self.poll_transmit() {
                out.put_slice(&chunk);
            }
        }
        if extension {
            return Ok(());
        }
        let mask = self.next_mask();
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: kind.opcode(),
            mask,
            payload_len: data.len() as u64,
        };
        let mut hbuf = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut hbuf);
        out.put_slice(&hbuf[..n]);
        match mask {
            None => out.put_slice(data),
            Some(key) => {
                // The caller's data is not ours to modify: mask it through a stack block. The
                // block size is a multiple of 4, so every block starts at key offset 0.
                let mut block = [0u8; 256];
                for piece in data.chunks(block.len()) {
                    let b = &mut block[..piece.len()];
                    b.copy_from_slice(piece);
                    apply_mask(b, key, 0);
                    out.put_slice(b);
                }
            }
        }
        Ok(())
    }

    /// Queues a whole message split into frames of at most `frame_size` bytes (at least one
    /// frame; `frame_size` 0 is treated as 1). Text may be split inside a code point, as the
    /// protocol allows. With a negotiated extension the whole message is encoded first (e.g.
    /// compressed) and the result split; its RSV bits go on the first frame only.
    pub fn send_fragmented(
        &mut self,
        kind: MessageKind,
        data: impl Into<Bytes>,
        frame_size: usize,
    ) -> Result<(), SendError> {
        let data = data.into();
        let frames = data.len() / frame_size.max(1) + 1;
        self.check_data_send(
            data.len()
                .saturating_add(frames.saturating_mul(MAX_HEADER_LEN)),
        )?;
        if self.sending().is_some() {
            return Err(SendError::MessageInProgress);
        }
        if kind == MessageKind::Text && simdutf8::basic::from_utf8(&data).is_err() {
            return Err(SendError::InvalidUtf8);
        }
        let (mut rsv, data) = match self.cold.as_mut().and_then(|c| c.extension.as_mut()) {
            Some(ext) => ext
                .encode(kind, data)
                .map_err(|e| SendError::Extension(e.reason))?,
            None => (0, data),
        };
        let step = frame_size.max(1);
        let mut off = 0;
        let mut op = kind.opcode();
        loop {
            let end = (off + step).min(data.len());
            let fin = end == data.len();
            // "An endpoint MUST NOT set the "Per-Message Compressed" bit of control frames and
            // non-first fragments of a data message." (RFC 7692 §6.1)
            self.queue_frame(op, fin, rsv, data.slice(off..end));
            rsv = 0;
            op = OpCode::Continuation;
            off = end;
            if fin {
                return Ok(());
            }
        }
    }

    /// Queues one fragment of a message being streamed: the first call for a message sets
    /// its kind, the one with `fin` ends it. Text is UTF-8 checked across fragments. Control
    /// frames may be sent between fragments; whole messages may not. With a negotiated
    /// extension each fragment goes through [`Extension::encode_fragment`] (permessage-deflate
    /// compresses the streamed message, RSV1 on its first frame only).
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: impl Into<Bytes>,
        fin: bool,
    ) -> Result<(), SendError> {
        let data = data.into();
        self.check_data_send(data.len() + MAX_HEADER_LEN)?;
        let (op, mut validator) = match self.sending() {
            Some((k, _)) if k != kind => return Err(SendError::MessageInProgress),
            Some((_, v)) => (OpCode::Continuation, v),
            None => (kind.opcode(), Utf8Validator::new()),
        };
        if kind == MessageKind::Text {
            validator.feed(&data).map_err(|_| SendError::InvalidUtf8)?;
            if fin {
                validator.finish().map_err(|_| SendError::InvalidUtf8)?;
            }
        }
        let first = op != OpCode::Continuation;
        let (rsv, data) = match self.cold.as_mut().and_then(|c| c.extension.as_mut()) {
            Some(ext) => ext
                .encode_fragment(kind, data, first, fin)
                .map_err(|e| SendError::Extension(e.reason))?,
            None => (0, data),
        };
        // "An endpoint MUST NOT set the "Per-Message Compressed" bit of control frames and
        // non-first fragments of a data message." (RFC 7692 §6.1)
        let rsv = if first { rsv } else { 0 };
        if fin {
            if let Some(c) = self.cold.as_mut() {
                c.sending = None;
            }
        } else {
            self.cold_mut().sending = Some((kind, validator));
        }
        self.queue_frame(op, fin, rsv, data);
        self.release_cold();
        Ok(())
    }

    /// Queues a ping (payload ≤ 125 bytes). Then drain [`poll_transmit`](Self::poll_transmit).
    pub fn send_ping(&mut self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, data.into())
    }

    /// Queues an unsolicited pong or, with `auto_pong` off, a reply (payload ≤ 125 bytes).
    /// Allowed after our Close was sent (a ping received before the peer's Close still needs
    /// its answer), refused once the peer's Close arrived.
    pub fn send_pong(&mut self, data: impl Into<Bytes>) -> Result<(), SendError> {
        let data = data.into();
        if self.state == ConnectionState::CloseSent
            && data.len() <= 125
            && (self.role == Role::Server || self.has_keys())
        {
            self.check_room(data.len() + MAX_HEADER_LEN)?;
            self.queue_frame(OpCode::Pong, true, 0, data);
            return Ok(());
        }
        self.send_control(OpCode::Pong, data)
    }

    /// Starts the closing handshake: queues a Close frame with `code` and `reason` (see
    /// [`CloseFrame::new`]). Received data messages are dropped from now on; keep calling
    /// [`poll_event`](Self::poll_event) until [`Event::Close`] (the peer's reply).
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), SendError> {
        let frame = CloseFrame::new(code, reason).map_err(SendError::InvalidClose)?;
        self.check_open()?;
        self.queue_frame(OpCode::Close, true, 0, frame.to_payload());
        self.state = ConnectionState::CloseSent;
        Ok(())
    }

    fn check_open(&self) -> Result<(), SendError> {
        match self.state {
            ConnectionState::Open => {}
            ConnectionState::Failed => return Err(SendError::Failed),
            ConnectionState::CloseSent | ConnectionState::Closed => return Err(SendError::Closing),
        }
        if self.role == Role::Client && !self.has_keys() {
            return Err(SendError::NoMaskKeySource);
        }
        Ok(())
    }

    fn check_room(&self, len: usize) -> Result<(), SendError> {
        let buffered = self.buffered_output();
        if buffered.saturating_add(len) > self.config.max_buffered_output {
            return Err(SendError::OutputFull {
                buffered,
                len,
                limit: self.config.max_buffered_output,
            });
        }
        Ok(())
    }

    fn check_data_send(&self, len: usize) -> Result<(), SendError> {
        self.check_open()?;
        self.check_room(len)
    }

    fn send_control(&mut self, op: OpCode, data: Bytes) -> Result<(), SendError> {
        if data.len() > 125 {
            return Err(SendError::ControlTooLong(data.len()));
        }
        self.check_open()?;
        self.check_room(data.len() + MAX_HEADER_LEN)?;
        self.queue_frame(op, true, 0, data);
        Ok(())
    }

    fn send_message(&mut self, kind: MessageKind, data: Bytes) -> Result<(), SendError> {
        self.check_data_send(data.len() + MAX_HEADER_LEN)?;
        if self.sending().is_some() {
            return Err(SendError::MessageInProgress);
        }
        let (rsv, data) = match self.cold.as_mut().and_then(|c| c.extension.as_mut()) {
            Some(ext) => ext
                .encode(kind, data)
                .map_err(|e| SendError::Extension(e.reason))?,
            None => (0, data),
        };
        self.queue_frame(kind.opcode(), true, rsv, data);
        Ok(())
    }

    /// The masking key for the next frame sent: a fresh one for a client, none for a server.
    fn next_mask(&mut self) -> Option<[u8; 4]> {
        match self.role {
            // A client without keys cannot get here through the public API except for
            // protocol replies; an all-zero key is still a masked frame.
            Role::Client => Some(
                self.cold
                    .as_mut()
                    .and_then(|c| c.keys.as_mut())
                    .map_or([0; 4], |k| k.mask_key()),
            ),
            Role::Server => None,
        }
    }

    /// Encodes one frame into the output queue. Cannot fail (callers checked everything).
    fn queue_frame(&mut self, opcode: OpCode, fin: bool, rsv: u8, payload: Bytes) {
        let mask = self.next_mask();
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        let mut hbuf = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut hbuf);
        match mask {
            Some(key) => {
                // Masking needs a private copy; write it straight into the output buffer.
                self.out_buf.reserve(n + payload.len());
                self.out_buf.put_slice(&hbuf[..n]);
                let start = self.out_buf.len();
                self.out_buf.extend_from_slice(&payload);
                apply_mask(&mut self.out_buf[start..], key, 0);
            }
            None if payload.len() <= COALESCE_MAX => {
                // Reserving the exact size lets a lone frame become `Bytes` without a second
                // allocation in `poll_transmit`.
                self.out_buf.reserve(n + payload.len());
                self.out_buf.put_slice(&hbuf[..n]);
                self.out_buf.extend_from_slice(&payload);
            }
            None => {
                self.out_buf.extend_from_slice(&hbuf[..n]);
                let head = core::mem::take(&mut self.out_buf).freeze();
                let cold = self.cold_mut();
                cold.queued += head.len() + payload.len();
                cold.out_queue.push_back(head);
                cold.out_queue.push_back(payload);
            }
        }
    }

    /// The next chunk of bytes to write to the transport, in order; `None` when nothing is
    /// queued. Headers and small payloads are batched into one chunk; large server payloads
    /// come as their own chunk (the `Bytes` the application passed in, not copied), so
    /// several chunks can be written with one vectored write. Extra calls are harmless.
    #[must_use = "the returned bytes must be written to the transport"]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if let Some(cold) = self.cold.as_mut() {
            if let Some(chunk) = cold.out_queue.pop_front() {
                cold.queued -= chunk.len();
                if cold.out_queue.is_empty() {
                    // Release the queue's allocation along with the rest.
                    cold.out_queue = VecDeque::new();
                    self.release_cold();
                }
                return Some(chunk);
            }
        }
        if self.out_buf.is_empty() {
            return None;
        }
        // The whole buffer, so that nothing is held once the caller drops the chunk.
        Some(core::mem::take(&mut self.out_buf).freeze())
    }

    /// Bytes queued for writing.
    pub fn buffered_output(&self) -> usize {
        self.out_buf.len() + self.cold.as_ref().map_or(0, |c| c.queued)
    }

    /// Whether the I/O layer should now close the transport (after writing everything
    /// [`poll_transmit`](Self::poll_transmit) returns):
    /// - after a failure, once the output is drained;
    /// - server, after the close handshake, once drained: "The server MUST close the
    ///   underlying TCP connection immediately";
    /// - client, after the close handshake, once drained and the server closed its side
    ///   ([`feed_eof`](Self::feed_eof)): "the client SHOULD wait for the server to close the
    ///   connection". A client should also close after a timeout of its own choosing.
    pub fn should_close_transport(&self) -> bool {
        if self.buffered_output() != 0 {
            return false;
        }
        match self.state {
            ConnectionState::Failed => true,
            ConnectionState::Closed => self.role == Role::Server || self.eof,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::FixedMaskKey;
    use alloc::vec;
    use alloc::vec::Vec;

    fn holds_no_heap(c: &Connection) -> bool {
        c.input.capacity() == 0 && c.out_buf.capacity() == 0 && c.cold.is_none()
    }

    /// `send_*_to` writes the same bytes as `send_*` + `poll_transmit`, after what was queued.
    #[test]
    fn send_to_matches_the_queue() {
        for role in [Role::Server, Role::Client] {
            let new = || {
                Connection::with_mask_keys(
                    role,
                    Config::default(),
                    Box::new(FixedMaskKey([9, 8, 7, 6])),
                )
            };
            let (mut queued, mut direct) = (new(), new());
            let big = vec![0xA5u8; 1000];
            let mut expected = Vec::new();
            queued.send_ping("p").unwrap();
            queued.send_text("héllo").unwrap();
            queued.send_binary(big.clone()).unwrap();
            while let Some(c) = queued.poll_transmit() {
                expected.extend_from_slice(&c);
            }
            let mut out = Vec::new();
            direct.send_ping("p").unwrap();
            direct.send_text_to(&mut out, "héllo").unwrap();
            direct.send_binary_to(&mut out, &big).unwrap();
            assert_eq!(out, expected, "{role:?}");
            assert_eq!(direct.poll_transmit(), None);
            direct.close(1000, "").unwrap();
            assert_eq!(direct.send_text_to(&mut out, "x"), Err(SendError::Closing));
        }
    }

    /// "No heap held while idle": after small, large and fragmented messages, a ping and a
    /// large send, a drained server connection owns no allocation — whether the events were
    /// owned (`poll_event`) or borrowed (`poll_event_ref`).
    #[test]
    fn idle_server_holds_no_heap() {
        for borrowed in [false, true] {
            let mut server = Connection::server(Config::default());
            assert!(holds_no_heap(&server));
            let mut client = Connection::with_mask_keys(
                Role::Client,
                Config::default(),
                Box::new(FixedMaskKey([1, 2, 3, 4])),
            );
            client.send_text("hello").unwrap();
            client.send_binary(vec![7u8; 70_000]).unwrap();
            client
                .send_fragmented(MessageKind::Text, "fragmented text", 4)
                .unwrap();
            client.send_ping("p").unwrap();
            let mut wire = Vec::new();
            while let Some(c) = client.poll_transmit() {
                wire.extend_from_slice(&c);
            }
            let mut events = 0;
            for piece in wire.chunks(1000) {
                server.feed(piece);
                loop {
                    let got = if borrowed {
                        server.poll_event_ref().unwrap().is_some()
                    } else {
                        server.poll_event().unwrap().is_some()
                    };
                    if !got {
                        break;
                    }
                    events += 1;
                }
            }
            assert_eq!(events, 4);
            assert!(!holds_no_heap(&server), "the pong is queued");
            server.send_binary(vec![1u8; 4096]).unwrap();
            server.send_text("after").unwrap();
            let mut chunks = 0;
            while let Some(c) = server.poll_transmit() {
                chunks += 1;
                drop(c);
            }
            assert_eq!(chunks, 3, "pong + header, payload, small frame");
            assert!(holds_no_heap(&server), "borrowed: {borrowed}");
        }
    }
}
