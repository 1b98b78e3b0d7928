//! Owned read and write halves of a [`WebSocketStream`]: [`WsReader`] and [`WsWriter`].
//!
//! The codec is split too ([`pushwire_ws::Connection::split`]): the reader owns the receiving
//! half and the read transport, the writer the sending half and the write transport. The
//! reader takes no lock to read: it goes to the write side only when the protocol owes the
//! peer something (a pong, the Close reply), so pongs and Close replies go out while only
//! the reader is polled. The writer's state sits behind a `std::sync::Mutex` that the writer
//! takes once per operation (uncontended unless the reader is writing a reply at that very
//! moment; never held across an `.await`).

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll, Waker};

use bytes::Bytes;
use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use pushwire_ws::{Connection, ConnectionState, Receiver, Sender};
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use crate::outbox::Outbox;
use crate::recv::{RecvSide, RecvState};
use crate::stream::{start_send, Core};
use crate::{Config, Error, Message, WebSocketStream};

/// The write side both halves reach: the write transport, the codec's sending half and the
/// bytes not yet written.
struct WriteSide<W> {
    io: W,
    conn: Sender,
    outbox: Outbox,
    shut_down: bool,
    /// Who waits for the transport to take bytes: the transport keeps only the last waker
    /// it was polled with, so whoever writes wakes the other.
    reader_waiting: Option<Waker>,
    writer_waiting: Option<Waker>,
}

type Shared<W> = Arc<Mutex<WriteSide<W>>>;

fn lock<W>(shared: &Shared<W>) -> MutexGuard<'_, WriteSide<W>> {
    // A panic while holding the lock leaves the state consistent (every step is a plain
    // move of bytes): go on with it.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Who {
    Reader,
    Writer,
}

impl<W: AsyncWrite + Unpin> WriteSide<W> {
    /// Moves the sender's output, then `extra` (the receiver's replies) into the outbox: a
    /// reply never lands between two frames of a message.
    fn take(&mut self, extra: Option<&mut Receiver>) {
        if self.conn.buffered_output() != 0 {
            self.outbox.push(self.conn.take_transmit());
        }
        if let Some(r) = extra {
            if r.buffered_output() != 0 {
                self.outbox.push(r.take_transmit());
            }
        }
    }

    /// Writes until at most `keep` bytes are left, relaying wake-ups between the halves.
    fn poll_write(&mut self, cx: &mut Context<'_>, who: Who, keep: usize) -> Poll<io::Result<()>> {
        let before = self.outbox.len();
        let r = self.outbox.poll_write(&mut self.io, cx, keep);
        if self.outbox.len() < before {
            let other = match who {
                Who::Reader => self.writer_waiting.take(),
                Who::Writer => self.reader_waiting.take(),
            };
            if let Some(w) = other {
                w.wake();
            }
        }
        if r.is_pending() {
            let slot = match who {
                Who::Reader => &mut self.reader_waiting,
                Who::Writer => &mut self.writer_waiting,
            };
            match slot {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        r
    }

    /// Bytes queued and not yet written.
    fn queued(&self) -> usize {
        self.outbox.len() + self.conn.buffered_output()
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>, who: Who) -> Poll<io::Result<()>> {
        ready!(self.poll_write(cx, who, 0))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }
}

/// The read half of a split [`WebSocketStream`]: a [`Stream`] of received messages, with
/// [`recv`](Self::recv). It answers pings and the peer's Close itself, and runs the timers of
/// [`Config`], exactly as the whole stream does; only the sending is elsewhere.
///
/// `R` and `W` are the transport's halves: `tokio::io::ReadHalf<S>` / `WriteHalf<S>` after
/// [`WebSocketStream::split`], `OwnedReadHalf` / `OwnedWriteHalf` after
/// [`WebSocketStream::into_split`] on a `TcpStream`.
pub struct WsReader<R, W> {
    side: ReadSide<R, W>,
    rx: RecvState,
    config: Config,
}

/// The reader's part of the connection, driven by the shared receive loop.
struct ReadSide<R, W> {
    io: R,
    conn: Receiver,
    shared: Shared<W>,
    /// A reply of ours is still in the outbox (the transport did not take it all).
    owed: bool,
}

/// The write half of a split [`WebSocketStream`]: a [`Sink`] of messages, with
/// [`send`](Self::send), [`feed`](Self::feed), [`flush`](Self::flush) and
/// [`close`](Self::close). Backpressure and limits as for the whole stream.
pub struct WsWriter<W> {
    shared: Shared<W>,
    config: Config,
}

impl<R, W> std::fmt::Debug for WsReader<R, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsReader")
            .field("conn", &self.side.conn)
            .field("finished", &self.rx.finished)
            .finish_non_exhaustive()
    }
}

impl<W> std::fmt::Debug for WsWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsWriter").finish_non_exhaustive()
    }
}

/// [`WebSocketStream::split`] refused: the negotiated extension cannot be split (see
/// [`pushwire_ws::Extension::split_inbound`]; permessage-deflate can). The stream is given
/// back unchanged.
pub struct SplitError<S>(pub Box<WebSocketStream<S>>);

impl<S> std::fmt::Debug for SplitError<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SplitError").field(&self.0).finish()
    }
}

impl<S> std::fmt::Display for SplitError<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the negotiated extension cannot be split into two directions")
    }
}

impl<S> std::error::Error for SplitError<S> {}

/// [`WsReader::reunite`] refused: the halves come from different streams. Both are given
/// back: `(reader, writer)`.
pub struct ReuniteError<R, W>(pub Box<(WsReader<R, W>, WsWriter<W>)>);

impl<R, W> std::fmt::Debug for ReuniteError<R, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReuniteError").finish_non_exhaustive()
    }
}

impl<R, W> std::fmt::Display for ReuniteError<R, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the halves come from different WebSocket streams")
    }
}

impl<R, W> std::error::Error for ReuniteError<R, W> {}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// Splits into an owned read half and write half, for two tasks. The transport is split
    /// with [`tokio::io::split`], which takes an internal lock on each read and write; for a
    /// `TcpStream`, [`into_split`](WebSocketStream::into_split) avoids it. Refused (the stream
    /// given back) only if the negotiated extension cannot be split.
    #[allow(clippy::type_complexity)]
    pub fn split(
        self,
    ) -> Result<(WsReader<ReadHalf<S>, WriteHalf<S>>, WsWriter<WriteHalf<S>>), SplitError<S>> {
        self.split_with(tokio::io::split)
    }

    #[allow(clippy::type_complexity)]
    fn split_with<R, W>(
        self,
        split_io: impl FnOnce(S) -> (R, W),
    ) -> Result<(WsReader<R, W>, WsWriter<W>), SplitError<S>> {
        let WebSocketStream { core, rx, config } = self;
        let Core {
            io,
            conn,
            outbox,
            shut_down,
        } = core;
        let (receiver, sender) = match conn.split() {
            Ok(halves) => halves,
            Err(e) => {
                return Err(SplitError(Box::new(WebSocketStream {
                    core: Core {
                        io,
                        conn: e.into_connection(),
                        outbox,
                        shut_down,
                    },
                    rx,
                    config,
                })))
            }
        };
        let (r, w) = split_io(io);
        let shared = Arc::new(Mutex::new(WriteSide {
            io: w,
            conn: sender,
            outbox,
            shut_down,
            reader_waiting: None,
            writer_waiting: None,
        }));
        let writer = WsWriter {
            shared: shared.clone(),
            config,
        };
        let side = ReadSide {
            io: r,
            conn: receiver,
            shared,
            owed: false,
        };
        Ok((WsReader { side, rx, config }, writer))
    }
}

impl WebSocketStream<TcpStream> {
    /// [`split`](WebSocketStream::split) for a `TcpStream`, on its owned halves
    /// ([`TcpStream::into_split`]): reads take no lock at all.
    #[allow(clippy::type_complexity)]
    pub fn into_split(
        self,
    ) -> Result<
        (
            WsReader<OwnedReadHalf, OwnedWriteHalf>,
            WsWriter<OwnedWriteHalf>,
        ),
        SplitError<TcpStream>,
    > {
        self.split_with(TcpStream::into_split)
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> WsReader<R, W> {
    /// Receives the next message; as [`WebSocketStream::recv`] (`None` after a received
    /// Close, an error or end of input; pongs and the Close reply are written from here).
    ///
    /// **Cancel safety:** cancel safe, as [`WebSocketStream::recv`].
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.rx.poll_recv(&mut self.side, cx)).await
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Bytes of the read buffer currently held (0 when idle).
    pub fn read_buffer_capacity(&self) -> usize {
        self.side.conn.input_capacity()
    }

    /// Whether `writer` is this reader's other half.
    pub fn is_pair_of(&self, writer: &WsWriter<W>) -> bool {
        Arc::ptr_eq(&self.side.shared, &writer.shared)
    }

    /// Puts the halves back together with `join` (the transport's own reunite); the bytes
    /// not yet written are kept, in order.
    fn reunite_with<S>(
        self,
        writer: WsWriter<W>,
        join: impl FnOnce(R, W) -> S,
    ) -> Result<WebSocketStream<S>, ReuniteError<R, W>> {
        if !self.is_pair_of(&writer) {
            return Err(ReuniteError(Box::new((self, writer))));
        }
        drop(writer);
        let WsReader { side, rx, config } = self;
        let ReadSide {
            io: r,
            conn: mut receiver,
            shared,
            ..
        } = side;
        let mut w = match Arc::try_unwrap(shared) {
            Ok(m) => m.into_inner().unwrap_or_else(PoisonError::into_inner),
            // The writer was the only other owner and is dropped.
            Err(_) => unreachable!("a WsWriter is not Clone; its Arc was the other one"),
        };
        w.take(Some(&mut receiver));
        let conn = match Connection::reunite(receiver, w.conn) {
            Ok(c) => c,
            // A pair (checked above) whose receiver output was just taken.
            Err(_) => unreachable!("the halves are a pair with their output taken"),
        };
        Ok(WebSocketStream {
            core: Core {
                io: join(r, w.io),
                conn,
                outbox: w.outbox,
                shut_down: w.shut_down,
            },
            rx,
            config,
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsReader<ReadHalf<S>, WriteHalf<S>> {
    /// Puts the halves of [`WebSocketStream::split`] back together; refused (both given
    /// back) if they come from different streams.
    pub fn reunite(
        self,
        writer: WsWriter<WriteHalf<S>>,
    ) -> Result<WebSocketStream<S>, ReuniteError<ReadHalf<S>, WriteHalf<S>>> {
        // The halves share one write side, so the transport halves are a pair too and
        // `unsplit` (which panics on strangers) is safe.
        self.reunite_with(writer, |r, w| r.unsplit(w))
    }
}

impl WsReader<OwnedReadHalf, OwnedWriteHalf> {
    /// Puts the halves of [`WebSocketStream::into_split`] back together; refused (both
    /// given back) if they come from different streams.
    pub fn reunite(
        self,
        writer: WsWriter<OwnedWriteHalf>,
    ) -> Result<WebSocketStream<TcpStream>, ReuniteError<OwnedReadHalf, OwnedWriteHalf>> {
        self.reunite_with(writer, |r, w| match r.reunite(w) {
            Ok(tcp) => tcp,
            Err(_) => unreachable!("the halves share one write side, so they are a pair"),
        })
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> RecvSide for ReadSide<R, W> {
    type Read = R;
    type Codec = Receiver;

    fn read_io(&mut self) -> &mut R {
        &mut self.io
    }

    fn codec(&mut self) -> &mut Receiver {
        &mut self.conn
    }

    fn send_ping(&mut self) {
        // Pings are ours to originate: the sending half queues them.
        let _ = lock(&self.shared).conn.send_ping(Bytes::new());
    }

    fn send_going_away(&mut self, reason: &str) {
        // Refused when a Close was already sent (by either half) or the output is full.
        let _ = lock(&self.shared)
            .conn
            .send_close(pushwire_ws::close::GOING_AWAY, reason);
    }

    fn poll_write_some(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        // The hot path: nothing owed, no lock.
        if !self.owed && self.conn.buffered_output() == 0 {
            return Ok(());
        }
        let mut side = lock(&self.shared);
        side.take(Some(&mut self.conn));
        let r = side.poll_write(cx, Who::Reader, 0);
        self.owed = side.outbox.len() != 0;
        match r {
            Poll::Ready(Err(e)) => Err(e),
            _ => Ok(()),
        }
    }

    fn poll_finish(&mut self, cx: &mut Context<'_>, force: bool) -> Poll<io::Result<()>> {
        let mut side = lock(&self.shared);
        side.take(Some(&mut self.conn));
        ready!(side.poll_flush(cx, Who::Reader))?;
        if (force || self.conn.should_close_transport()) && !side.shut_down {
            ready!(Pin::new(&mut side.io).poll_shutdown(cx))?;
            side.shut_down = true;
        }
        Poll::Ready(Ok(()))
    }

    fn is_shut_down(&self) -> bool {
        lock(&self.shared).shut_down
    }

    fn set_shut_down(&mut self) {
        lock(&self.shared).shut_down = true;
    }
}

impl<W: AsyncWrite + Unpin> WsWriter<W> {
    /// Sends a message and writes everything queued; as [`WebSocketStream::send`].
    ///
    /// **Cancel safety:** once the message is queued, cancelling only stops the flush.
    pub async fn send(&mut self, msg: Message) -> Result<(), Error> {
        self.feed(msg).await?;
        self.flush().await
    }

    /// Queues a message without flushing; as [`WebSocketStream::feed`]. Takes the write
    /// side's lock once (waiting for room and queuing happen under the same lock).
    pub async fn feed(&mut self, msg: Message) -> Result<(), Error> {
        let mut msg = Some(msg);
        poll_fn(|cx| {
            let mut side = lock(&self.shared);
            let keep = self.config.write_buffer_size;
            if side.queued() > keep {
                side.take(None);
                ready!(side.poll_write(cx, Who::Writer, keep))?;
            }
            let queued = side.queued();
            Poll::Ready(match msg.take() {
                Some(m) => start_send(&mut side.conn, &self.config, queued, m),
                None => Ok(()),
            })
        })
        .await
    }

    /// Writes everything queued (the reader's replies included) and flushes the transport.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_flush_inner(cx)).await
    }

    /// Starts the closing handshake and writes the Close frame; as
    /// [`WebSocketStream::close`]. The reader receives the peer's reply and ends.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), Error> {
        lock(&self.shared).conn.send_close(code, reason)?;
        self.flush().await
    }

    /// Bytes queued for writing and not yet written.
    pub fn queued(&self) -> usize {
        lock(&self.shared).queued()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn poll_ready_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let keep = self.config.write_buffer_size;
        let mut side = lock(&self.shared);
        if side.queued() > keep {
            side.take(None);
            ready!(side.poll_write(cx, Who::Writer, keep))?;
        }
        Poll::Ready(Ok(()))
    }

    fn start_send_inner(&mut self, msg: Message) -> Result<(), Error> {
        let mut side = lock(&self.shared);
        let queued = side.queued();
        start_send(&mut side.conn, &self.config, queued, msg)
    }

    fn poll_flush_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut side = lock(&self.shared);
        side.take(None);
        side.poll_flush(cx, Who::Writer).map_err(Error::from)
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Stream for WsReader<R, W> {
    type Item = Result<Message, Error>;

    /// As [`WsReader::recv`]; cancel safe.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.rx.poll_recv(&mut this.side, cx)
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> FusedStream for WsReader<R, W> {
    fn is_terminated(&self) -> bool {
        self.rx.finished
    }
}

impl<W: AsyncWrite + Unpin> Sink<Message> for WsWriter<W> {
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

    /// Sends a Close (1000) if none was sent by either half, and writes everything queued.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        {
            let mut side = lock(&this.shared);
            if side.conn.state() == ConnectionState::Open {
                side.conn.send_close(1000, "")?;
            }
        }
        this.poll_flush_inner(cx)
    }
}
