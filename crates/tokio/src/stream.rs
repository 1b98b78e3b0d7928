//! [`WebSocketStream`]: a [`Connection`] driven over an `AsyncRead + AsyncWrite` transport.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use pushwire_ws::{Connection, ConnectionState, MaskKeySource, Role, StdRandom, Transmit};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::timers::{Fired, Timers};
use crate::{Config, Error, Message, TimeoutKind};

/// Largest WebSocket frame header: what a message can add on top of its payload.
const MAX_HEADER: usize = pushwire_ws::frame::MAX_HEADER_LEN;

/// A WebSocket connection over a transport `S`: [`Stream`] of received [`Message`]s,
/// [`Sink`] of messages to send, plus [`recv`](Self::recv), [`send`](Self::send) and
/// [`close`](Self::close).
///
/// All state (the codec's input and output, the bytes taken but not yet written, the
/// timers) lives in this struct, never in a future, so every method is cancel safe.
///
/// The timers of [`Config`] (auto-ping, pong timeout, idle timeout) run while the stream is
/// being received from ([`recv`](Self::recv), `next`), which is also where pings are
/// answered: see [Timers](crate#timers).
pub struct WebSocketStream<S> {
    io: S,
    conn: Connection,
    config: Config,
    /// Output taken from the connection, not yet written, in order.
    out: VecDeque<Transmit>,
    out_len: usize,
    /// Read buffer, allocated only while reads return data (empty when idle).
    scratch: Vec<u8>,
    /// The stream has yielded its last item (a Close, an error, or end of input).
    ended: bool,
    /// `None` has been returned.
    finished: bool,
    shut_down: bool,
    /// `None` unless [`Config::has_timers`]: the default config allocates nothing for them.
    timers: Option<Box<Timers>>,
}

impl<S> std::fmt::Debug for WebSocketStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketStream")
            .field("conn", &self.conn)
            .field("queued", &(self.out_len + self.conn.buffered_output()))
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// Wraps a transport whose opening handshake was done elsewhere (no bytes after the
    /// handshake may have been read yet; otherwise use [`from_connection`](Self::from_connection)
    /// after feeding them). A client masks with keys from [`StdRandom`]. No extension is
    /// installed.
    pub fn from_raw(stream: S, role: Role, config: Config) -> Self {
        let keys: Box<dyn MaskKeySource + Send> = Box::new(StdRandom::new());
        let conn = Connection::with_mask_keys(role, config.to_ws_config(), keys);
        Self::from_connection(stream, conn, config)
    }

    /// Wraps a transport and a [`Connection`] made elsewhere, e.g. by
    /// [`ServerHandshake::into_connection`](pushwire_ws::handshake::ServerHandshake::into_connection)
    /// (which already holds the bytes read after the handshake). The connection's own limits
    /// apply; `config` gives the buffer sizes.
    pub fn from_connection(stream: S, conn: Connection, config: Config) -> Self {
        WebSocketStream {
            io: stream,
            conn,
            config,
            out: VecDeque::new(),
            out_len: 0,
            scratch: Vec::new(),
            ended: false,
            finished: false,
            shut_down: false,
            timers: Timers::new(&config),
        }
    }

    /// The codec connection (state, role, error).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Bytes queued for writing and not yet written (never above
    /// [`Config::max_write_buffer_size`]).
    pub fn queued(&self) -> usize {
        self.out_len + self.conn.buffered_output()
    }

    /// Bytes of the read buffer currently held (0 when idle).
    pub fn read_buffer_capacity(&self) -> usize {
        self.scratch.capacity()
    }

    /// Receives the next message: `None` after a received Close (which is yielded first),
    /// after an error, or at end of input. Pongs to pings and the reply to a Close are
    /// written by the stream itself, and the timers of [`Config`] run while this is polled
    /// (a timer that expires yields [`Error::Timeout`], then `None`).
    ///
    /// **Cancel safety:** cancel safe. Bytes read are fed to the codec before this returns
    /// `Pending`, and a message is removed from the codec only when it is returned, so
    /// dropping this future (e.g. in `tokio::select!`) loses nothing.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Sends a message and writes everything queued (like `SinkExt::send`): waits while the
    /// transport does not take the bytes.
    ///
    /// **Cancel safety:** once the message is queued, cancelling only stops the flush; the
    /// message is written by the next `send`, `flush`, `recv` or `close`.
    pub async fn send(&mut self, msg: Message) -> Result<(), Error> {
        self.feed(msg).await?;
        self.flush().await
    }

    /// Queues a message without flushing (like `SinkExt::feed`): waits only while more than
    /// [`Config::write_buffer_size`] bytes are queued.
    pub async fn feed(&mut self, msg: Message) -> Result<(), Error> {
        poll_fn(|cx| self.poll_ready_inner(cx)).await?;
        self.start_send_inner(msg)
    }

    /// Writes everything queued and flushes the transport.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_flush_inner(cx)).await
    }

    /// Starts the closing handshake with `code` and `reason` and writes the Close frame.
    /// Then keep calling [`recv`](Self::recv) until `None` to receive the peer's reply (a
    /// server shuts the transport down after it; a client once the server has closed).
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), Error> {
        self.conn.send_close(code, reason)?;
        self.flush().await
    }

    fn drain_conn(&mut self) {
        if self.conn.buffered_output() != 0 {
            let t = self.conn.take_transmit();
            self.out_len += t.remaining();
            self.out.push_back(t);
        }
    }

    /// Writes `out` (vectored) until at most `keep` bytes of it are left.
    fn poll_write_out(&mut self, cx: &mut Context<'_>, keep: usize) -> Poll<io::Result<()>> {
        while self.out_len > keep {
            let Some(front) = self.out.front_mut() else {
                break;
            };
            if !front.has_remaining() {
                self.out.pop_front();
                continue;
            }
            let mut slices = [IoSlice::new(&[]); 64];
            let n = front.chunks_vectored(&mut slices);
            let written = ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..n]))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            front.advance(written);
            self.out_len -= written;
        }
        Poll::Ready(Ok(()))
    }

    /// Writes everything queued; shuts the transport down when the codec says so.
    fn poll_flush_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.drain_conn();
        ready!(self.poll_write_out(cx, 0))?;
        ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        if self.conn.should_close_transport() && !self.shut_down {
            ready!(Pin::new(&mut self.io).poll_shutdown(cx))?;
            self.shut_down = true;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_ready_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.queued() > self.config.write_buffer_size {
            self.drain_conn();
            ready!(self.poll_write_out(cx, self.config.write_buffer_size))?;
        }
        Poll::Ready(Ok(()))
    }

    fn start_send_inner(&mut self, msg: Message) -> Result<(), Error> {
        if self.conn.state() == ConnectionState::Closed {
            return Err(Error::Closed);
        }
        let len = msg.len() + MAX_HEADER;
        let queued = self.queued();
        let limit = self.config.max_write_buffer_size;
        if queued + len > limit {
            return Err(Error::WriteBufferFull { queued, len, limit });
        }
        match msg {
            Message::Text(t) => self.conn.send_text(t)?,
            Message::Binary(b) => self.conn.send_binary(b)?,
            Message::Ping(b) => self.conn.send_ping(b)?,
            Message::Pong(b) => self.conn.send_pong(b)?,
            Message::Close(Some(c)) => self.conn.send_close(c.code(), c.reason())?,
            Message::Close(None) => self.conn.send_close(1000, "")?,
        }
        Ok(())
    }

    /// Writes queued output without waiting: a `Pending` write is retried on a later call.
    /// A write error ends the stream (the transport is gone).
    fn try_write_out(&mut self, cx: &mut Context<'_>) -> Result<(), Error> {
        self.drain_conn();
        match self.poll_write_out(cx, 0) {
            Poll::Ready(Err(e)) => {
                self.ended = true;
                self.shut_down = true;
                Err(e.into())
            }
            _ => Ok(()),
        }
    }

    /// Fails the connection on an expired timer. RFC 6455 §7.1.7: "the endpoint SHOULD
    /// send a Close frame with an appropriate status code (Section 7.4) before proceeding
    /// to _Close the WebSocket Connection_". The code is 1001, which fits both roles (1011
    /// is a server's "unexpected condition"); §7.4.1: "1001 indicates that an endpoint is
    /// "going away", such as a server going down or a browser having navigated away from a
    /// page." Its write is bounded by `CLOSE_WRITE_BOUND` (the peer may be gone).
    fn fail_timeout(&mut self, cx: &mut Context<'_>, kind: TimeoutKind, after: Duration) -> Error {
        if self.conn.state() == ConnectionState::Open {
            let reason = match kind {
                TimeoutKind::Pong => "pong timeout",
                TimeoutKind::Idle => "idle timeout",
            };
            // Refused only when the output is full; the transport is closed anyway.
            let _ = self.conn.send_close(pushwire_ws::close::GOING_AWAY, reason);
        }
        self.ended = true;
        if let Some(t) = self.timers.as_deref_mut() {
            t.timed_out = true;
            t.start_linger();
        }
        let _ = self.try_write_out(cx);
        Error::Timeout { kind, after }
    }

    /// The end of the stream: writes what is queued, then shuts the transport down when the
    /// codec says so or after a timeout (§7.1.7: "the client MUST _Close the WebSocket
    /// Connection_").
    fn poll_finish(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        ready!(self.poll_flush_inner(cx))?;
        if !self.shut_down && self.timers.as_ref().is_some_and(|t| t.timed_out) {
            ready!(Pin::new(&mut self.io).poll_shutdown(cx))?;
            self.shut_down = true;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        loop {
            if self.ended {
                // Get the Close reply (or the Close after an error) out before ending.
                match self.poll_finish(cx) {
                    Poll::Ready(Err(e)) if !self.shut_down => {
                        self.shut_down = true;
                        return Poll::Ready(Some(Err(e)));
                    }
                    Poll::Ready(_) => {}
                    // With timers, a peer that reads nothing cannot hold the stream open.
                    Poll::Pending => {
                        let gave_up = self
                            .timers
                            .as_deref_mut()
                            .is_some_and(|t| t.poll_linger(cx).is_ready());
                        if !gave_up {
                            return Poll::Pending;
                        }
                        self.shut_down = true;
                    }
                }
                self.finished = true;
                return Poll::Ready(None);
            }
            match self.conn.poll_event() {
                Ok(Some(event)) => {
                    let msg = Message::from(event);
                    match &msg {
                        // Take each pong out of the codec now, so every ping of a burst
                        // gets its own.
                        Message::Ping(_) => self.try_write_out(cx)?,
                        Message::Close(_) => {
                            self.ended = true;
                            self.try_write_out(cx)?;
                        }
                        _ => {}
                    }
                    return Poll::Ready(Some(Ok(msg)));
                }
                Ok(None) => {}
                Err(e) => {
                    self.ended = true;
                    let _ = self.try_write_out(cx);
                    return Poll::Ready(Some(Err(e.into())));
                }
            }
            if self.conn.should_close_transport() || self.conn.error().is_some() {
                self.ended = true;
                continue;
            }
            // Pending writes (pongs) progress while we wait for input.
            self.try_write_out(cx)?;
            if self.scratch.capacity() == 0 {
                self.scratch
                    .reserve_exact(self.config.read_buffer_size.max(1));
            }
            // Read into the spare capacity: the buffer is never zeroed.
            let mut buf = ReadBuf::uninit(self.scratch.spare_capacity_mut());
            match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
                Poll::Pending => {
                    // Idle: hold no read buffer.
                    self.scratch = Vec::new();
                    if let Some(t) = self.timers.as_deref_mut() {
                        let open = self.conn.state() == ConnectionState::Open;
                        match t.poll(cx, open) {
                            Poll::Pending => {}
                            Poll::Ready(Fired::SendPing) => {
                                // Refused only when the output is full: the pong timeout
                                // then judges a peer that reads nothing.
                                let _ = self.conn.send_ping(Bytes::new());
                                continue;
                            }
                            Poll::Ready(Fired::Fail(kind, after)) => {
                                return Poll::Ready(Some(Err(self.fail_timeout(cx, kind, after))));
                            }
                        }
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => {
                    self.ended = true;
                    self.shut_down = true;
                    return Poll::Ready(Some(Err(e.into())));
                }
                Poll::Ready(Ok(())) => {
                    let n = buf.filled().len();
                    if n == 0 {
                        self.conn.feed_eof();
                        self.scratch = Vec::new();
                        match self.conn.poll_event() {
                            Ok(Some(event)) => {
                                if matches!(event, pushwire_ws::Event::Close(_)) {
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
                                self.shut_down = true;
                                return Poll::Ready(Some(Err(e.into())));
                            }
                        }
                    }
                    if let Some(t) = self.timers.as_deref_mut() {
                        t.received();
                    }
                    if let Err(e) = self.conn.feed(buf.filled()) {
                        self.ended = true;
                        return Poll::Ready(Some(Err(e.into())));
                    }
                }
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketStream<S> {
    type Item = Result<Message, Error>;

    /// As [`WebSocketStream::recv`]; cancel safe (a dropped `next()` loses nothing).
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> FusedStream for WebSocketStream<S> {
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketStream<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_ready_inner(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.get_mut().start_send_inner(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_flush_inner(cx)
    }

    /// Sends a Close (1000) if none was sent, and writes everything queued.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        if this.conn.state() == ConnectionState::Open {
            this.conn.send_close(1000, "")?;
        }
        this.poll_flush_inner(cx)
    }
}
