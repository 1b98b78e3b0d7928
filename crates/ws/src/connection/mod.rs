//! The sans-IO connection state machine, one type for both roles: its state here, the
//! receive path in [`recv`], the send path in [`send`].

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use core::fmt;

use bytes::{Bytes, BytesMut};

use crate::config::{Config, Limits};
use crate::error::ProtocolError;
use crate::event::Event;
use crate::extension::{Extension, MessageKind};
use crate::keys::MaskKeySource;
use crate::utf8::Utf8Validator;

mod recv;
mod room;
mod send;
#[cfg(target_has_atomic = "ptr")]
mod split;

pub use room::ReadRoom;
#[cfg(target_has_atomic = "ptr")]
pub use split::{Receiver, ReuniteError, Sender, SplitError};

/// Which end of the connection this is. The role decides masking: "a client MUST mask all
/// frames that it sends to the server", "A server MUST NOT mask any frames".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that sent the opening handshake request.
    Client,
    /// The end that accepted it.
    Server,
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
    frames: u32,
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
    /// copy) preceded by the frames queued before it, so they come in pairs (head, payload).
    out_queue: VecDeque<Bytes>,
    /// `poll_transmit` handed out the head of a pair and the payload is still queued: nothing
    /// may be written between them.
    mid_frame: bool,
    /// The payload of the automatic pong not yet handed out, answering the newest ping (a
    /// copy, so that it holds no part of the input buffer).
    pong: Option<Bytes>,
    /// Bytes in `out_queue`, plus the frame of `pong`.
    queued: usize,
    /// The message being streamed with `send_fragment`: its kind and UTF-8 state.
    sending: Option<(MessageKind, Utf8Validator)>,
    /// Mask keys (clients only).
    keys: Option<Box<dyn MaskKeySource + Send>>,
    /// The negotiated extension (after [`Connection::reunite`], its sending half).
    extension: Option<Box<dyn Extension>>,
    /// After [`Connection::reunite`]: the extension's receiving half, used instead of
    /// `extension` for received messages.
    inbound: Option<Box<dyn Extension>>,
    /// The state shared by the two halves of a split connection.
    #[cfg(target_has_atomic = "ptr")]
    link: Option<alloc::sync::Arc<split::Link>>,
    /// The event last returned by `poll_event_ref` when it was not borrowed from `input`.
    held: Option<Event>,
}

impl Cold {
    fn is_empty(&self) -> bool {
        self.error.is_none()
            && self.message.is_none()
            && self.out_queue.is_empty()
            && self.pong.is_none()
            && self.sending.is_none()
            && self.keys.is_none()
            && self.extension.is_none()
            && self.inbound.is_none()
            && self.held.is_none()
            && self.has_no_link()
    }

    #[cfg(target_has_atomic = "ptr")]
    fn has_no_link(&self) -> bool {
        self.link.is_none()
    }

    #[cfg(not(target_has_atomic = "ptr"))]
    fn has_no_link(&self) -> bool {
        true
    }
}

/// Bytes of the encoded pong frame for a payload of `len` bytes.
fn pong_frame_len(role: Role, len: usize) -> usize {
    len + if role == Role::Client { 6 } else { 2 }
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

/// The [`Config`] as a connection keeps it: flat, because a nested [`Limits`] would bring its
/// own padding into every connection.
#[derive(Debug, Clone, Copy)]
struct Settings {
    max_frame_size: u64,
    max_message_size: u64,
    max_buffered_input: usize,
    max_buffered_output: usize,
    max_fragments: u32,
    require_minimal_length: bool,
    auto_pong: bool,
    /// Not configuration but state, kept here in what would otherwise be padding (so that a
    /// `Connection` stays at 128 bytes): the length, in 16-byte units rounded up, of the last
    /// large frame [`Connection::read_room`] saw arriving. It sizes the next read into a fresh
    /// buffer, so that a stream of large frames takes one read per frame. 0: none, or the
    /// frames since are short.
    read_hint: u16,
}

impl Settings {
    const fn new(c: Config) -> Settings {
        Settings {
            max_frame_size: c.limits.max_frame_size,
            max_message_size: c.limits.max_message_size,
            max_buffered_input: c.limits.max_buffered_input,
            max_buffered_output: c.limits.max_buffered_output,
            max_fragments: c.limits.max_fragments,
            require_minimal_length: c.require_minimal_length,
            auto_pong: c.auto_pong,
            read_hint: 0,
        }
    }

    #[inline]
    const fn limits(&self) -> Limits {
        Limits::DEFAULT
            .with_max_frame_size(self.max_frame_size)
            .with_max_message_size(self.max_message_size)
            .with_max_buffered_input(self.max_buffered_input)
            .with_max_buffered_output(self.max_buffered_output)
            .with_max_fragments(self.max_fragments)
    }

    const fn config(&self) -> Config {
        Config::DEFAULT
            .with_limits(self.limits())
            .with_require_minimal_length(self.require_minimal_length)
            .with_auto_pong(self.auto_pong)
    }
}

/// A WebSocket connection after the opening handshake, for either role.
///
/// # Call order
///
/// 1. Bytes read from the transport: [`feed`](Self::feed) (copies) or
///    [`feed_bytes`](Self::feed_bytes) (takes ownership, no copy), or read straight into the
///    input buffer with [`read_room`](Self::read_room) and
///    [`commit_read`](Self::commit_read) (no copy); at end of stream,
///    [`feed_eof`](Self::feed_eof). Refused (nothing taken) past
///    [`Limits::max_buffered_input`](crate::Limits::max_buffered_input): poll first.
/// 2. Then call [`poll_event`](Self::poll_event) until it returns `Ok(None)` (needs more bytes)
///    or an error. Extra calls are harmless.
/// 3. Send with [`send_text`](Self::send_text), [`send_binary`](Self::send_binary),
///    [`send_ping`](Self::send_ping), [`send_close`](Self::send_close), … (these only queue).
/// 4. After 2 and 3, write out every chunk [`poll_transmit`](Self::poll_transmit) returns, in
///    order, or all of [`take_transmit`](Self::take_transmit) (the protocol queues pongs and
///    close replies during step 2).
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
    config: Settings,
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
            .field("buffered_input", &self.buffered_input())
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
            config: Settings::new(config),
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
    pub fn config(&self) -> Config {
        self.config.config()
    }

    /// Where the connection is in its life.
    #[inline]
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

    /// Takes the right to send our one Close frame. Always granted to an unsplit connection;
    /// of two split halves, only the first to ask gets it (the other must not send a second
    /// Close).
    fn claim_close(&mut self) -> bool {
        #[cfg(target_has_atomic = "ptr")]
        if let Some(link) = self.cold.as_ref().and_then(|c| c.link.as_ref()) {
            return link.claim_close();
        }
        true
    }

    /// Tells the other half of a split connection that this one failed.
    fn signal_failed(&mut self) {
        #[cfg(target_has_atomic = "ptr")]
        if let Some(link) = self.cold.as_ref().and_then(|c| c.link.as_ref()) {
            link.set_failed();
        }
    }

    fn sending(&self) -> Option<(MessageKind, Utf8Validator)> {
        self.cold.as_ref().and_then(|c| c.sending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::SendError;
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
            direct.send_close(1000, "").unwrap();
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
                server.feed(piece).unwrap();
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
            let mut chunks = Vec::new();
            while let Some(c) = server.poll_transmit() {
                chunks.push(c.len());
                if chunks.len() == 1 {
                    assert_eq!(&c[..], &[0x8A, 0x01, b'p'], "the pending pong first");
                }
                drop(c);
            }
            assert_eq!(
                chunks,
                [3, 4, 4096, 7],
                "pong, header, payload, small frame"
            );
            assert!(holds_no_heap(&server), "borrowed: {borrowed}");
        }
    }
}
