//! [`WebSocketStream`]: a [`Connection`] driven over an `AsyncRead + AsyncWrite` transport.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use pushwire_ws::{
    Connection, ConnectionState, MaskKeySource, Role, SendError, Sender, StdRandom, Utf8Bytes,
};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::outbox::Outbox;
use crate::recv::{RecvSide, RecvState};
use crate::{Config, Error, Message};

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
    pub(crate) core: Core<S>,
    pub(crate) rx: RecvState,
    pub(crate) config: Config,
}

/// The transport, the codec and the output not yet written.
pub(crate) struct Core<S> {
    pub(crate) io: S,
    pub(crate) conn: Connection,
    pub(crate) outbox: Outbox,
    pub(crate) shut_down: bool,
}

impl<S> std::fmt::Debug for WebSocketStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketStream")
            .field("conn", &self.core.conn)
            .field("queued", &self.queued())
            .field("finished", &self.rx.finished)
            .finish_non_exhaustive()
    }
}

impl<S> WebSocketStream<S> {
    /// Bytes queued for writing and not yet written (never above
    /// [`Config::max_write_buffer_size`]).
    pub fn queued(&self) -> usize {
        self.core.outbox.len() + self.core.conn.buffered_output()
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
            core: Core {
                io: stream,
                conn,
                outbox: Outbox::default(),
                shut_down: false,
            },
            rx: RecvState::new(&config),
            config,
        }
    }

    /// The codec connection (state, role, error).
    pub fn connection(&self) -> &Connection {
        &self.core.conn
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.core.io
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Bytes of the read buffer currently held (0 when idle).
    pub fn read_buffer_capacity(&self) -> usize {
        self.core.conn.input_capacity()
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
        poll_fn(|cx| self.rx.poll_recv(&mut self.core, cx)).await
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
        poll_fn(|cx| self.core.poll_flush(cx, false).map_err(Error::from)).await
    }

    /// Starts the closing handshake with `code` and `reason` and writes the Close frame.
    /// Then keep calling [`recv`](Self::recv) until `None` to receive the peer's reply (a
    /// server shuts the transport down after it; a client once the server has closed).
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), Error> {
        self.core.conn.send_close(code, reason)?;
        self.flush().await
    }

    #[inline]
    fn poll_ready_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let keep = self.config.write_buffer_size;
        if self.queued() > keep {
            let core = &mut self.core;
            core.outbox.push(core.conn.take_transmit());
            ready!(core.outbox.poll_write(&mut core.io, cx, keep))?;
        }
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn start_send_inner(&mut self, msg: Message) -> Result<(), Error> {
        let queued = self.queued();
        start_send(&mut self.core.conn, &self.config, queued, msg)
    }
}

/// Queues `msg` in `conn` if [`Config::max_write_buffer_size`] allows (`queued` bytes are
/// waiting already): the send path of [`WebSocketStream`] and of the split writer.
#[inline]
pub(crate) fn start_send<C: SendCodec>(
    conn: &mut C,
    config: &Config,
    queued: usize,
    msg: Message,
) -> Result<(), Error> {
    if conn.state() == ConnectionState::Closed {
        return Err(Error::Closed);
    }
    let len = msg.len() + MAX_HEADER;
    let limit = config.max_write_buffer_size;
    if queued + len > limit {
        return Err(Error::WriteBufferFull { queued, len, limit });
    }
    match msg {
        Message::Text(t) => conn.send_text(t)?,
        Message::Binary(b) => conn.send_binary(b)?,
        Message::Ping(b) => conn.send_ping(b)?,
        Message::Pong(b) => conn.send_pong(b)?,
        Message::Close(Some(c)) => conn.send_close(c.code(), c.reason())?,
        Message::Close(None) => conn.send_close(1000, "")?,
    }
    Ok(())
}

/// The sending side of a codec: a whole [`Connection`] or a split [`Sender`].
pub(crate) trait SendCodec {
    fn state(&mut self) -> ConnectionState;
    fn send_text(&mut self, t: Utf8Bytes) -> Result<(), SendError>;
    fn send_binary(&mut self, b: Bytes) -> Result<(), SendError>;
    fn send_ping(&mut self, b: Bytes) -> Result<(), SendError>;
    fn send_pong(&mut self, b: Bytes) -> Result<(), SendError>;
    fn send_close(&mut self, code: u16, reason: &str) -> Result<(), SendError>;
}

macro_rules! send_codec {
    ($t:ty) => {
        impl SendCodec for $t {
            fn state(&mut self) -> ConnectionState {
                <$t>::state(self)
            }
            #[inline]
            fn send_text(&mut self, t: Utf8Bytes) -> Result<(), SendError> {
                <$t>::send_text(self, t)
            }
            #[inline]
            fn send_binary(&mut self, b: Bytes) -> Result<(), SendError> {
                <$t>::send_binary(self, b)
            }
            fn send_ping(&mut self, b: Bytes) -> Result<(), SendError> {
                <$t>::send_ping(self, b)
            }
            fn send_pong(&mut self, b: Bytes) -> Result<(), SendError> {
                <$t>::send_pong(self, b)
            }
            fn send_close(&mut self, code: u16, reason: &str) -> Result<(), SendError> {
                <$t>::send_close(self, code, reason)
            }
        }
    };
}
send_codec!(Connection);
send_codec!(Sender);

impl<S: AsyncWrite + Unpin> Core<S> {
    /// Writes everything queued and flushes; shuts the transport down when the codec says
    /// so, or when `force`.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>, force: bool) -> Poll<io::Result<()>> {
        self.outbox.push(self.conn.take_transmit());
        ready!(self.outbox.poll_write(&mut self.io, cx, 0))?;
        ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        if (force || self.conn.should_close_transport()) && !self.shut_down {
            ready!(Pin::new(&mut self.io).poll_shutdown(cx))?;
            self.shut_down = true;
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> RecvSide for Core<S> {
    type Read = S;
    type Codec = Connection;

    fn read_io(&mut self) -> &mut S {
        &mut self.io
    }

    fn codec(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn send_ping(&mut self) {
        let _ = self.conn.send_ping(Bytes::new());
    }

    fn send_going_away(&mut self, reason: &str) {
        if self.conn.state() == ConnectionState::Open {
            // Refused only when the output is full; the transport is closed anyway.
            let _ = self.conn.send_close(pushwire_ws::close::GOING_AWAY, reason);
        }
    }

    fn poll_write_some(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if self.conn.buffered_output() != 0 {
            self.outbox.push(self.conn.take_transmit());
        }
        match self.outbox.poll_write(&mut self.io, cx, 0) {
            Poll::Ready(Err(e)) => Err(e),
            _ => Ok(()),
        }
    }

    fn poll_finish(&mut self, cx: &mut Context<'_>, force: bool) -> Poll<io::Result<()>> {
        self.poll_flush(cx, force)
    }

    fn is_shut_down(&self) -> bool {
        self.shut_down
    }

    fn set_shut_down(&mut self) {
        self.shut_down = true;
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketStream<S> {
    type Item = Result<Message, Error>;

    /// As [`WebSocketStream::recv`]; cancel safe (a dropped `next()` loses nothing).
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.rx.poll_recv(&mut this.core, cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> FusedStream for WebSocketStream<S> {
    fn is_terminated(&self) -> bool {
        self.rx.finished
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketStream<S> {
    type Error = Error;

    #[inline]
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_ready_inner(cx)
    }

    #[inline]
    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.get_mut().start_send_inner(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut()
            .core
            .poll_flush(cx, false)
            .map_err(Error::from)
    }

    /// Sends a Close (1000) if none was sent, and writes everything queued.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let core = &mut self.get_mut().core;
        if core.conn.state() == ConnectionState::Open {
            core.conn.send_close(1000, "")?;
        }
        core.poll_flush(cx, false).map_err(Error::from)
    }
}
