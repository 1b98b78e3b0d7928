//! A connection split into a receiving and a sending half ([`Connection::split`]), each owned
//! by its own task or thread, with no lock between them.
//!
//! The halves share one small [`Link`]: who sent our Close frame (there must be only one) and
//! whether the receiving half failed. Each half reads it with one atomic load per call; only
//! the closing handshake writes it. The receiving half answers pings and the peer's Close
//! itself, into its own output, so a program that only reads still gets its pongs and its
//! Close reply out — it writes [`Receiver::take_transmit`] to the transport like the sender
//! writes [`Sender::take_transmit`]. The two outputs must not be interleaved within a
//! [`Transmit`]: write each one whole.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};

use bytes::{Bytes, BytesMut};

use super::{Cold, Connection, ConnectionState, Role};
use crate::config::Config;
use crate::error::{FeedError, ProtocolError, SendError};
use crate::event::{Event, EventRef, Utf8Bytes};
use crate::extension::MessageKind;
use crate::keys::MaskKeySource;
use crate::transmit::Transmit;

/// Our Close frame has been queued by one of the halves.
const CLOSE: u8 = 1;
/// The receiving half failed (a protocol error).
const FAILED: u8 = 2;

/// What the two halves of a split connection share.
#[derive(Debug, Default)]
pub(crate) struct Link {
    flags: AtomicU8,
}

impl Link {
    /// RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did not previously send a
    /// Close frame, the endpoint MUST send a Close frame in response" — one Close, whichever
    /// half gets there first.
    pub(crate) fn claim_close(&self) -> bool {
        self.flags.fetch_or(CLOSE, Ordering::AcqRel) & CLOSE == 0
    }

    pub(crate) fn set_failed(&self) {
        self.flags.fetch_or(FAILED, Ordering::Release);
    }

    fn flags(&self) -> u8 {
        self.flags.load(Ordering::Acquire)
    }
}

fn link_of(conn: &Connection) -> Option<&Arc<Link>> {
    conn.cold.as_ref().and_then(|c| c.link.as_ref())
}

/// [`Connection::split`] refused: the negotiated extension cannot be split
/// ([`Extension::split_inbound`](crate::Extension::split_inbound) returned `None`). The
/// connection is given back unchanged.
pub struct SplitError {
    connection: Box<Connection>,
}

impl SplitError {
    /// The connection, unchanged.
    pub fn into_connection(self) -> Connection {
        *self.connection
    }
}

impl fmt::Debug for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SplitError").finish_non_exhaustive()
    }
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the negotiated extension cannot be split into two directions")
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SplitError {}

/// Why [`Connection::reunite`] refused; both halves are given back unchanged.
pub struct ReuniteError {
    halves: Box<(Receiver, Sender)>,
    not_a_pair: bool,
}

impl ReuniteError {
    /// The halves come from different connections (`true`), or the receiving half still
    /// has output to write (`false`): write [`Receiver::take_transmit`] first.
    pub fn not_a_pair(&self) -> bool {
        self.not_a_pair
    }

    /// The two halves, unchanged.
    pub fn into_parts(self) -> (Receiver, Sender) {
        *self.halves
    }
}

impl fmt::Debug for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReuniteError")
            .field("not_a_pair", &self.not_a_pair)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.not_a_pair {
            "the halves come from different connections"
        } else {
            "the receiving half still has output to write"
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ReuniteError {}

impl Connection {
    /// Splits the connection into a [`Receiver`] and a [`Sender`] that can be used from
    /// different tasks or threads without a lock (see the module documentation of
    /// [`Receiver`]). A client's receiving half masks its pongs and Close reply with keys
    /// from a new [`StdRandom`](crate::StdRandom); the sending half keeps this connection's
    /// source. Refused if the negotiated extension cannot be split (permessage-deflate can).
    #[cfg(feature = "std")]
    pub fn split(self) -> Result<(Receiver, Sender), SplitError> {
        self.split_with_keys(Box::new(crate::keys::StdRandom::new()))
    }

    /// As [`split`](Self::split), with `keys` for the receiving half's frames (a server
    /// ignores them).
    pub fn split_with_keys(
        mut self,
        keys: Box<dyn MaskKeySource + Send>,
    ) -> Result<(Receiver, Sender), SplitError> {
        let cold = self.cold_mut();
        let inbound = match cold.inbound.take() {
            Some(i) => Some(i),
            None => match cold.extension.as_mut() {
                None => None,
                Some(ext) => match ext.split_inbound() {
                    Some(i) => Some(i),
                    None => {
                        self.release_cold();
                        return Err(SplitError {
                            connection: Box::new(self),
                        });
                    }
                },
            },
        };
        let link = Arc::new(Link::default());
        if self.state != ConnectionState::Open {
            link.claim_close();
        }
        if self.state == ConnectionState::Failed {
            link.set_failed();
        }
        let role = self.role;
        let cold = self.cold_mut();
        let pong_len = cold
            .pong
            .as_ref()
            .map_or(0, |p| super::pong_frame_len(role, p.len()));
        let send_cold = Cold {
            out_queue: core::mem::take(&mut cold.out_queue),
            mid_frame: core::mem::take(&mut cold.mid_frame),
            queued: cold.queued - pong_len,
            sending: cold.sending.take(),
            keys: cold.keys.take(),
            extension: cold.extension.take(),
            link: Some(link.clone()),
            ..Cold::default()
        };
        cold.queued = pong_len;
        cold.extension = inbound;
        cold.keys = (role == Role::Client).then_some(keys);
        cold.link = Some(link);
        let sender = Connection {
            input: BytesMut::new(),
            out_buf: core::mem::take(&mut self.out_buf),
            config: self.config,
            done: 0,
            cold: Some(Box::new(send_cold)),
            role,
            state: self.state,
            eof: false,
            in_frame: false,
            lent: 0,
        };
        Ok((Receiver { conn: self }, Sender { conn: sender }))
    }

    /// Puts the halves of [`split`](Self::split) back together. Refused, with both halves
    /// given back, if they come from different connections or the receiving half has output
    /// not yet taken ([`Receiver::take_transmit`]); the sending half's output is kept.
    pub fn reunite(mut receiver: Receiver, mut sender: Sender) -> Result<Connection, ReuniteError> {
        let pair = match (link_of(&receiver.conn), link_of(&sender.conn)) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if !pair || receiver.conn.buffered_output() != 0 {
            return Err(ReuniteError {
                halves: Box::new((receiver, sender)),
                not_a_pair: !pair,
            });
        }
        receiver.sync();
        let mut conn = receiver.conn;
        let from = sender.conn.cold_mut();
        let (out_queue, mid_frame, queued, sending, keys, outbound) = (
            core::mem::take(&mut from.out_queue),
            from.mid_frame,
            from.queued,
            from.sending.take(),
            from.keys.take(),
            from.extension.take(),
        );
        conn.out_buf = core::mem::take(&mut sender.conn.out_buf);
        let cold = conn.cold_mut();
        cold.link = None;
        cold.inbound = cold.extension.take();
        cold.extension = outbound;
        cold.out_queue = out_queue;
        cold.mid_frame = mid_frame;
        cold.queued += queued;
        cold.sending = sending;
        cold.keys = keys;
        conn.release_cold();
        Ok(conn)
    }
}

/// The receiving half of a split [`Connection`]: feeds, events, and the replies the protocol
/// owes (pongs, the Close reply, the Close that fails the connection).
///
/// # Call order
///
/// As for a [`Connection`]: [`feed`](Self::feed) what the transport read,
/// [`poll_event`](Self::poll_event) until `Ok(None)`, then write all of
/// [`take_transmit`](Self::take_transmit) to the transport (as one unit, never in the middle
/// of the sender's bytes), and close the transport when
/// [`should_close_transport`](Self::should_close_transport) says so and the sender's output
/// is written too.
pub struct Receiver {
    conn: Connection,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Receiver").field(&self.conn).finish()
    }
}

impl Receiver {
    /// Takes the other half's Close into account: after it, data messages are dropped and
    /// the peer's Close is not answered again.
    fn sync(&mut self) {
        if self.conn.state == ConnectionState::Open
            && link_of(&self.conn).is_some_and(|l| l.flags() & CLOSE != 0)
        {
            self.conn.state = ConnectionState::CloseSent;
        }
    }

    /// As [`Connection::feed`].
    pub fn feed(&mut self, data: &[u8]) -> Result<(), FeedError> {
        self.conn.feed(data)
    }

    /// As [`Connection::feed_bytes`].
    pub fn feed_bytes(&mut self, data: impl Into<Bytes>) -> Result<(), FeedError> {
        self.conn.feed_bytes(data)
    }

    /// As [`Connection::feed_eof`].
    pub fn feed_eof(&mut self) {
        self.conn.feed_eof()
    }

    /// As [`Connection::input_capacity`].
    pub fn input_capacity(&self) -> usize {
        self.conn.input_capacity()
    }

    /// As [`Connection::read_room`].
    pub fn read_room(&mut self, read_size: usize) -> Result<crate::ReadRoom, FeedError> {
        self.conn.read_room(read_size)
    }

    /// As [`Connection::commit_read`].
    pub fn commit_read(&mut self, room: crate::ReadRoom) -> Result<(), FeedError> {
        self.conn.commit_read(room)
    }

    /// As [`Connection::buffered_input`].
    pub fn buffered_input(&self) -> usize {
        self.conn.buffered_input()
    }

    /// As [`Connection::poll_event`]; pings are answered and the peer's Close replied to in
    /// this half's output, unless the sender already sent our Close.
    #[must_use = "events and errors must be handled"]
    pub fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        self.sync();
        self.conn.poll_event()
    }

    /// As [`Connection::poll_event_ref`].
    #[must_use = "events and errors must be handled"]
    pub fn poll_event_ref(&mut self) -> Result<Option<EventRef<'_>>, ProtocolError> {
        self.sync();
        self.conn.poll_event_ref()
    }

    /// A pong (with `auto_pong` off, the reply to a ping); as [`Connection::send_pong`].
    pub fn send_pong(&mut self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.sync();
        self.conn.send_pong(data)
    }

    /// This half's output (pongs, Close frames), as [`Connection::take_transmit`].
    #[must_use = "the returned bytes must be written to the transport"]
    pub fn take_transmit(&mut self) -> Transmit {
        self.conn.take_transmit()
    }

    /// Bytes of this half's output not yet taken.
    pub fn buffered_output(&self) -> usize {
        self.conn.buffered_output()
    }

    /// As [`Connection::should_close_transport`], for this half (write the sender's output
    /// first).
    pub fn should_close_transport(&mut self) -> bool {
        self.sync();
        self.conn.should_close_transport()
    }

    /// Where the connection is in its life, as this half knows it.
    pub fn state(&mut self) -> ConnectionState {
        self.sync();
        self.conn.state
    }

    /// The error that failed the connection, if any.
    pub fn error(&self) -> Option<&ProtocolError> {
        self.conn.error()
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.conn.role
    }

    /// The configuration.
    pub fn config(&self) -> Config {
        self.conn.config()
    }
}

/// The sending half of a split [`Connection`]: every message, ping and Close we originate.
///
/// # Call order
///
/// Queue with the `send_*` methods, then write all of [`take_transmit`](Self::take_transmit)
/// to the transport (as one unit, never in the middle of the receiver's bytes). Sends are
/// refused with [`SendError::Closing`] once either half sent our Close, and with
/// [`SendError::Failed`] once the receiver failed.
pub struct Sender {
    conn: Connection,
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Sender").field(&self.conn).finish()
    }
}

impl Sender {
    /// Takes the receiver's Close reply or failure into account.
    #[inline]
    fn sync(&mut self) {
        let Some(flags) = link_of(&self.conn).map(|l| l.flags()) else {
            return;
        };
        if flags & FAILED != 0 {
            self.conn.state = ConnectionState::Failed;
        } else if flags & CLOSE != 0 && self.conn.state == ConnectionState::Open {
            // The receiver answered the peer's Close: the handshake is over.
            self.conn.state = ConnectionState::Closed;
        }
    }

    /// As [`Connection::send_text`].
    pub fn send_text(&mut self, text: impl Into<Utf8Bytes>) -> Result<(), SendError> {
        self.sync();
        self.conn.send_text(text)
    }

    /// As [`Connection::send_binary`].
    pub fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.sync();
        self.conn.send_binary(data)
    }

    /// As [`Connection::send_fragmented`].
    pub fn send_fragmented(
        &mut self,
        kind: MessageKind,
        data: impl Into<Bytes>,
        frame_size: usize,
    ) -> Result<(), SendError> {
        self.sync();
        self.conn.send_fragmented(kind, data, frame_size)
    }

    /// As [`Connection::send_fragment`].
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: impl Into<Bytes>,
        fin: bool,
    ) -> Result<(), SendError> {
        self.sync();
        self.conn.send_fragment(kind, data, fin)
    }

    /// As [`Connection::send_ping`].
    pub fn send_ping(&mut self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.sync();
        self.conn.send_ping(data)
    }

    /// An unsolicited pong, as [`Connection::send_pong`].
    pub fn send_pong(&mut self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.sync();
        self.conn.send_pong(data)
    }

    /// Starts the closing handshake, as [`Connection::send_close`]; refused with
    /// [`SendError::Closing`] if the receiver already answered the peer's Close.
    pub fn send_close(&mut self, code: u16, reason: &str) -> Result<(), SendError> {
        self.sync();
        self.conn.send_close(code, reason)
    }

    /// This half's output, as [`Connection::take_transmit`].
    #[must_use = "the returned bytes must be written to the transport"]
    pub fn take_transmit(&mut self) -> Transmit {
        self.conn.take_transmit()
    }

    /// Bytes of this half's output not yet taken.
    pub fn buffered_output(&self) -> usize {
        self.conn.buffered_output()
    }

    /// Where the connection is in its life, as this half knows it.
    pub fn state(&mut self) -> ConnectionState {
        self.sync();
        self.conn.state
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.conn.role
    }

    /// The configuration.
    pub fn config(&self) -> Config {
        self.conn.config()
    }
}
