//! The receive loop shared by [`WebSocketStream`](crate::WebSocketStream) and the split
//! [`WsReader`](crate::WsReader): read, feed the codec, yield messages, answer pings, run the
//! timers, finish the close handshake.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pushwire_ws::{
    Connection, ConnectionState, Event, FeedError, ProtocolError, ReadRoom, Receiver,
};
use tokio::io::AsyncRead;

use crate::timers::{Fired, Timers};
use crate::{Config, Error, Message, TimeoutKind};

/// The receiving side of a codec: a whole [`Connection`] or a split [`Receiver`].
pub(crate) trait RecvCodec {
    fn read_room(&mut self, read_size: usize) -> Result<ReadRoom, FeedError>;
    fn commit_read(&mut self, room: ReadRoom) -> Result<(), FeedError>;
    fn feed_eof(&mut self);
    fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError>;
    fn state(&mut self) -> ConnectionState;
    fn should_close_transport(&mut self) -> bool;
    fn failed(&self) -> bool;
}

macro_rules! recv_codec {
    ($t:ty) => {
        impl RecvCodec for $t {
            #[inline]
            fn read_room(&mut self, read_size: usize) -> Result<ReadRoom, FeedError> {
                <$t>::read_room(self, read_size)
            }
            #[inline]
            fn commit_read(&mut self, room: ReadRoom) -> Result<(), FeedError> {
                <$t>::commit_read(self, room)
            }
            fn feed_eof(&mut self) {
                <$t>::feed_eof(self)
            }
            #[inline]
            fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
                <$t>::poll_event(self)
            }
            fn state(&mut self) -> ConnectionState {
                <$t>::state(self)
            }
            fn should_close_transport(&mut self) -> bool {
                <$t>::should_close_transport(self)
            }
            fn failed(&self) -> bool {
                <$t>::error(self).is_some()
            }
        }
    };
}
recv_codec!(Connection);
recv_codec!(Receiver);

/// What the receive loop needs from the side of the connection it drives: the codec's
/// receiving half, the read transport, and a way to get the codec's output written.
pub(crate) trait RecvSide {
    /// The read transport.
    type Read: AsyncRead + Unpin;
    /// The codec (its receiving half).
    type Codec: RecvCodec;
    fn read_io(&mut self) -> &mut Self::Read;
    fn codec(&mut self) -> &mut Self::Codec;
    /// Queues an empty Ping (auto-ping); refused only when the output is full.
    fn send_ping(&mut self);
    /// Queues a Close 1001 with `reason` if the connection is open.
    fn send_going_away(&mut self, reason: &str);
    /// Writes the codec's output without waiting: what the transport does not take now is
    /// written by a later call.
    fn poll_write_some(&mut self, cx: &mut Context<'_>) -> io::Result<()>;
    /// Writes everything and flushes; shuts the write side down when the codec says so, or
    /// when `force`. `Ready(Ok)` once done.
    fn poll_finish(&mut self, cx: &mut Context<'_>, force: bool) -> Poll<io::Result<()>>;
    fn is_shut_down(&self) -> bool;
    /// The transport is gone or given up on: nothing more is written.
    fn set_shut_down(&mut self);
}

/// The receive loop's own state.
pub(crate) struct RecvState {
    /// The most bytes one read asks for. Reads go straight into the codec's input buffer
    /// ([`Connection::read_room`]), which holds nothing while the connection is idle.
    read_buffer_size: usize,
    /// The stream has yielded its last item (a Close, an error, or end of input).
    ended: bool,
    /// `None` has been returned.
    pub(crate) finished: bool,
    /// `None` unless [`Config::has_timers`]: the default config allocates nothing for them.
    timers: Option<Box<Timers>>,
}

impl RecvState {
    pub(crate) fn new(config: &Config) -> Self {
        RecvState {
            read_buffer_size: config.read_buffer_size.max(1),
            ended: false,
            finished: false,
            timers: Timers::new(config),
        }
    }

    /// Writes pending output (pongs) without waiting. A write error ends the stream (the
    /// transport is gone).
    fn write_some<D: RecvSide>(&mut self, d: &mut D, cx: &mut Context<'_>) -> Result<(), Error> {
        d.poll_write_some(cx).map_err(|e| {
            self.ended = true;
            d.set_shut_down();
            e.into()
        })
    }

    /// Fails the connection on an expired timer. RFC 6455 §7.1.7: "the endpoint SHOULD
    /// send a Close frame with an appropriate status code (Section 7.4) before proceeding
    /// to _Close the WebSocket Connection_". The code is 1001, which fits both roles (1011
    /// is a server's "unexpected condition"); §7.4.1: "1001 indicates that an endpoint is
    /// "going away", such as a server going down or a browser having navigated away from a
    /// page." Its write is bounded by `CLOSE_WRITE_BOUND` (the peer may be gone).
    fn fail_timeout<D: RecvSide>(
        &mut self,
        d: &mut D,
        cx: &mut Context<'_>,
        kind: TimeoutKind,
        after: Duration,
    ) -> Error {
        d.send_going_away(match kind {
            TimeoutKind::Pong => "pong timeout",
            TimeoutKind::Idle => "idle timeout",
            // Not sent: a Close went out already.
            TimeoutKind::Close => "close timeout",
        });
        self.ended = true;
        if let Some(t) = self.timers.as_deref_mut() {
            t.timed_out = true;
            t.start_linger();
        }
        let _ = self.write_some(d, cx);
        Error::Timeout { kind, after }
    }

    /// Whether the final bound ([`CLOSE_WRITE_BOUND`](crate::timers::CLOSE_WRITE_BOUND), from
    /// the first call) has passed; registers its waker when not. Never without timers.
    fn linger_over(&mut self, cx: &mut Context<'_>) -> bool {
        self.timers
            .as_deref_mut()
            .is_some_and(|t| t.poll_linger(cx).is_ready())
    }

    /// A client whose close handshake finished waits for the server to close the TCP
    /// connection first. RFC 6455 §7.1.1: "the client SHOULD wait for the server to close the
    /// connection but MAY close the connection at any time after sending and receiving a Close
    /// message, e.g., if it has not received a TCP Close from the server in a reasonable time
    /// period", so that the server holds TIME_WAIT (§7.1.1: "so that it holds the TIME_WAIT
    /// state and not the client"). Only with timers configured, which bound the wait by
    /// [`CLOSE_WRITE_BOUND`](crate::timers::CLOSE_WRITE_BOUND). What still arrives is dropped.
    /// `Ready` once the server closed or the bound passed. Called only for a client in that
    /// state.
    fn poll_peer_close<D: RecvSide>(&mut self, d: &mut D, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            // The bound is checked on every turn, so a peer that keeps sending cannot keep
            // the loop going past it (the sleep's waker is registered here too).
            let gave_up = self.linger_over(cx);
            let codec = d.codec();
            if gave_up || codec.should_close_transport() {
                return Poll::Ready(());
            }
            let Ok(mut room) = codec.read_room(self.read_buffer_size) else {
                return Poll::Ready(());
            };
            match tokio_util::io::poll_read_buf(Pin::new(d.read_io()), cx, &mut room.buf_mut()) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => {
                    d.codec().feed_eof();
                    return Poll::Ready(());
                }
                // Dropped: the connection is closed.
                Poll::Ready(Ok(_)) => {
                    let _ = d.codec().commit_read(room);
                }
                Poll::Ready(Err(_)) => {
                    d.set_shut_down();
                    return Poll::Ready(());
                }
            }
        }
    }

    /// The next message; see [`WebSocketStream::recv`](crate::WebSocketStream::recv).
    pub(crate) fn poll_recv<D: RecvSide>(
        &mut self,
        d: &mut D,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, Error>>> {
        loop {
            if self.ended {
                if self.finished {
                    return Poll::Ready(None);
                }
                // Get the Close reply (or the Close after an error) out before ending; after
                // a timeout, shut down even though the handshake did not finish (§7.1.7:
                // "the client MUST _Close the WebSocket Connection_").
                let timed_out = self.timers.as_ref().is_some_and(|t| t.timed_out);
                match d.poll_finish(cx, timed_out) {
                    Poll::Ready(Err(e)) if !d.is_shut_down() => {
                        d.set_shut_down();
                        return Poll::Ready(Some(Err(e.into())));
                    }
                    Poll::Ready(_) => {}
                    // With timers, a peer that reads nothing cannot hold the stream open.
                    Poll::Pending => {
                        if !self.linger_over(cx) {
                            return Poll::Pending;
                        }
                        d.set_shut_down();
                    }
                }
                let awaits_server = self.timers.is_some() && !timed_out && !d.is_shut_down() && {
                    let codec = d.codec();
                    // A server's `should_close_transport` is true once closed; a client's
                    // only after the server's end of stream.
                    codec.state() == ConnectionState::Closed && !codec.should_close_transport()
                };
                if awaits_server {
                    if self.poll_peer_close(d, cx).is_pending() {
                        return Poll::Pending;
                    }
                    // The server closed first (or the bound passed): now our side, within the
                    // same bound.
                    if d.poll_finish(cx, true).is_pending() {
                        if !self.linger_over(cx) {
                            return Poll::Pending;
                        }
                        d.set_shut_down();
                    }
                }
                self.finished = true;
                return Poll::Ready(None);
            }
            match d.codec().poll_event() {
                Ok(Some(event)) => {
                    let msg = Message::from(event);
                    match &msg {
                        // Take each pong out of the codec now, so every ping of a burst
                        // gets its own.
                        Message::Ping(_) => self.write_some(d, cx)?,
                        Message::Close(_) => {
                            self.ended = true;
                            self.write_some(d, cx)?;
                        }
                        _ => {}
                    }
                    return Poll::Ready(Some(Ok(msg)));
                }
                Ok(None) => {}
                Err(e) => {
                    self.ended = true;
                    let _ = self.write_some(d, cx);
                    return Poll::Ready(Some(Err(e.into())));
                }
            }
            let codec = d.codec();
            if codec.should_close_transport() || codec.failed() {
                self.ended = true;
                continue;
            }
            // Pending writes (pongs, and what was fed) progress while we wait for input.
            self.write_some(d, cx)?;
            // Read straight into the codec's input: no copy, and no buffer held while idle.
            let mut room = match d.codec().read_room(self.read_buffer_size) {
                Ok(room) => room,
                Err(e) => {
                    self.ended = true;
                    return Poll::Ready(Some(Err(e.into())));
                }
            };
            match tokio_util::io::poll_read_buf(Pin::new(d.read_io()), cx, &mut room.buf_mut()) {
                Poll::Pending => {
                    // Idle: the room's buffer goes with it (unless it holds part of a frame).
                    drop(room);
                    if let Some(t) = self.timers.as_deref_mut() {
                        match t.poll(cx, d.codec().state()) {
                            Poll::Pending => {}
                            Poll::Ready(Fired::SendPing) => {
                                // Refused only when the output is full: the pong timeout
                                // then judges a peer that reads nothing.
                                d.send_ping();
                                continue;
                            }
                            Poll::Ready(Fired::Fail(kind, after)) => {
                                return Poll::Ready(Some(Err(
                                    self.fail_timeout(d, cx, kind, after)
                                )));
                            }
                        }
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => {
                    self.ended = true;
                    d.set_shut_down();
                    return Poll::Ready(Some(Err(e.into())));
                }
                Poll::Ready(Ok(n)) => {
                    if n == 0 {
                        drop(room);
                        d.codec().feed_eof();
                        match d.codec().poll_event() {
                            Ok(Some(event)) => {
                                if matches!(event, Event::Close(_)) {
                                    self.ended = true;
                                }
                                return Poll::Ready(Some(Ok(event.into())));
                            }
                            Ok(None) => {
                                self.ended = true;
                                continue;
                            }
                            Err(e) => {
                                self.ended = true;
                                d.set_shut_down();
                                return Poll::Ready(Some(Err(e.into())));
                            }
                        }
                    }
                    if let Some(t) = self.timers.as_deref_mut() {
                        t.received();
                    }
                    if let Err(e) = d.codec().commit_read(room) {
                        self.ended = true;
                        return Poll::Ready(Some(Err(e.into())));
                    }
                }
            }
        }
    }
}
