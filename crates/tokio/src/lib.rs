//! pushwire-tokio: the tokio I/O layer for [`pushwire_ws`].
//!
//! All protocol logic stays in the sans-IO codec; this crate moves bytes between a tokio
//! transport (`AsyncRead + AsyncWrite`) and a [`pushwire_ws::Connection`], and maps types
//! ([`Message`], [`Config`], [`Error`]) onto names tokio-tungstenite users know.
//!
//! # Call order
//!
//! 1. Get a [`WebSocketStream`]: [`WebSocketStream::accept`] (server: reads and answers the
//!    HTTP/1.1 upgrade), [`WebSocketStream::client`] (client: writes the request, checks the
//!    101), or [`WebSocketStream::from_raw`] / [`WebSocketStream::from_connection`] after a
//!    handshake done elsewhere. Behind hyper (feature `http`): `upgrade::Upgrade` in the
//!    service, over HTTP/1.1 or HTTP/2 (RFC 8441), and `upgrade::connect_http2` for a client
//!    on an HTTP/2 connection; behind axum (feature `axum`): the `axum::WebSocketUpgrade`
//!    extractor. Their module docs give their own call order.
//! 2. Receive with [`WebSocketStream::recv`] (or `StreamExt::next`) until `None`; pongs to
//!    pings and the reply to the peer's Close are written by the stream itself. A received
//!    Close is yielded, then the stream ends.
//! 3. Send with [`WebSocketStream::send`] (queue and flush) or [`WebSocketStream::feed`]
//!    then [`WebSocketStream::flush`] (or the [`Sink`](futures_sink::Sink) impl).
//! 4. Close with [`WebSocketStream::close`], then keep receiving until `None` (the peer's
//!    reply); the server side shuts the transport down once the handshake is over.
//!
//! To receive and send from two tasks, [`WebSocketStream::split`] (any transport) or
//! [`WebSocketStream::into_split`] (a `TcpStream`, no transport lock) gives a [`WsReader`]
//! (steps 2 and 4's receiving; it answers pings and the Close itself, and runs the timers) and
//! a [`WsWriter`] (steps 3 and 4); [`WsReader::reunite`] gives the stream back. The reader
//! takes no lock to read; the writer takes an uncontended one per operation, shared with the
//! reader only when the reader owes the peer a reply.
//!
//! # Cancel safety
//!
//! All state lives in the [`WebSocketStream`] (the codec buffers, the output not yet
//! written), never in a future: bytes read are fed to the codec before a poll returns
//! `Pending`, so `recv()`/`next()` in a `tokio::select!` branch loses nothing.
//!
//! # Memory
//!
//! Reads go straight into the codec's input buffer (`pushwire_ws::Connection::read_room`),
//! at most [`Config::read_buffer_size`] bytes at a time, so received bytes are never copied;
//! a read that finds nothing drops that buffer unless it holds part of a frame, so an idle
//! connection holds no read buffer.
//!
//! # Timers
//!
//! Off by default; [`Config::ping_interval`], [`Config::pong_timeout`],
//! [`Config::idle_timeout`] and [`Config::close_timeout`] turn them on (tungstenite has none
//! of them):
//!
//! - **auto-ping**: after `ping_interval` with nothing received, an empty Ping is sent (none
//!   while data flows). With `pong_timeout`, a peer from which nothing at all arrives within
//!   that long after the Ping is dead; without it, the pings repeat every interval as a
//!   keepalive. The peer's Pong is yielded as [`Message::Pong`].
//! - **idle timeout**: nothing received for `idle_timeout` → the connection is dead (this also
//!   bounds a close handshake the peer never answers, unless it keeps sending).
//! - **close timeout**: our Close unanswered for `close_timeout` → the transport is shut down
//!   without the peer's Close (a peer that stopped reading, or one that keeps sending data
//!   and never answers, cannot hold the connection).
//!
//! "Received" means any bytes read from the transport. A dead connection yields
//! [`Error::Timeout`] ([`TimeoutKind::Pong`], [`TimeoutKind::Idle`] or
//! [`TimeoutKind::Close`]), a Close 1001 (going away; none after a close timeout: ours went
//! out already) is written with a bound of one second (a dead peer may never read it), the transport
//! is shut down, and the stream ends (`None`).
//!
//! The timers run **while the stream is being received from** ([`WebSocketStream::recv`] /
//! `next`), which is also where pings are answered: a connection whose reader is not polled
//! sends no pings and times out nothing. They live in the stream, not in a future, so `recv`
//! stays cancel safe; they need a runtime with the time driver (`enable_time`/`enable_all`).
//! Their state (one boxed `tokio::time::Sleep`) is allocated only when a timer is set, and a
//! read only records the time: the sleep is re-armed when it fires, about once per interval.
//!
//! # Backpressure
//!
//! Output is queued in the codec's bounded buffer. [`WebSocketStream::feed`] and
//! `Sink::poll_ready` write to the transport while more than [`Config::write_buffer_size`]
//! bytes are queued, and a message that would take the queue past
//! [`Config::max_write_buffer_size`] is refused with [`Error::WriteBufferFull`].
//!
//! # Features
//!
//! - `http`: `upgrade` — WebSocket over hyper 1.x, HTTP/1.1 upgrades and HTTP/2 extended
//!   CONNECT (RFC 8441), server and client.
//! - `axum` (implies `http`): `axum::WebSocketUpgrade`, an extractor for `any()` routes.
//! - `codec`: `codec::FrameCodec` (below).
//! - `engineio` (implies `http`): `engineio::EngineIo`, an Engine.io server (protocol
//!   revisions 3 and 4 at once; long-polling, websocket, the upgrade, heartbeats, CORS) to
//!   call from a hyper service or an axum route; its module docs give the call order.
//! - `socketio` (implies `engineio`): `socketio::SocketIo`, a Socket.IO server (protocol
//!   revisions 4 and 5 at once) on the Engine.io server: namespaces, acks both ways, rooms
//!   and broadcasts; and `socketio::client`, a Socket.IO client (namespaces over one
//!   Engine.io connection, acks both ways, reconnection) on the Engine.io client.
//! - `redis` (implies `socketio`): `socketio::cluster`, Socket.IO across servers over Redis.
//! - `sse` (implies `http`): `sse` — Server-Sent Events: `sse::Sse`, a response body for
//!   hyper and axum from a `Stream` of events (keep-alive, `retry`, padding, CORS);
//!   `sse::Channel`, broadcast with `Last-Event-ID` resume in bounded memory;
//!   `sse::EventSource`, a reconnecting client on hyper (WHATWG rules, backoff, timeouts);
//!   the Comet fallbacks `sse::long_poll` and `sse::ForeverFrame`. Its module docs give the
//!   call order. `sse-rustls`: the `EventSource` over `https://` (h2 by ALPN).
//! - `engineio-rustls` (implies `engineio`): `engineio::client::Connector::rustls`, the
//!   Engine.io and Socket.IO clients over `https://` (and `wss`), with your rustls config.
//!
//! # Feature `codec`
//!
//! `codec::FrameCodec` is a tokio-util `Decoder`/`Encoder` of single frames for code built
//! on `Framed`. It checks and (un)masks frames, with a frame size limit, but answers no ping,
//! reassembles no message, checks no UTF-8 and has no deflate: use [`WebSocketStream`] for
//! those. Call order: handshake elsewhere, then `Framed::new(io, FrameCodec::new(role,
//! CodecConfig::DEFAULT))`.
//!
//! ```no_run
//! use pushwire_tokio::{Config, Message, WebSocketStream};
//!
//! # async fn run() -> Result<(), pushwire_tokio::Error> {
//! let tcp = tokio::net::TcpStream::connect("127.0.0.1:9001").await?;
//! let mut ws = WebSocketStream::client(tcp, "127.0.0.1:9001", "/", Config::DEFAULT).await?;
//! ws.send(Message::text("hello")).await?;
//! while let Some(msg) = ws.recv().await {
//!     println!("{:?}", msg?);
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "engineio")]
mod clock;
mod config;
#[cfg(feature = "engineio")]
pub mod engineio;
mod error;
mod handshake;
mod message;
mod outbox;
mod recv;
#[cfg(feature = "socketio")]
pub mod socketio;
mod split;
#[cfg(feature = "sse")]
pub mod sse;
mod stream;
#[cfg(feature = "http")]
pub mod upgrade;

// Timers (auto-ping, pong and idle timeouts) of the stream.
mod timers;

pub use config::Config;
pub use error::TimeoutKind;
pub use error::{Error, HandshakeError};
pub use message::Message;
/// The codec this crate drives (its error and handshake types appear in [`Error`]).
pub use pushwire_ws;
pub use pushwire_ws::handshake::{Accepted, ClientOffer, ClientRequest};
pub use pushwire_ws::{CloseFrame, Role, Utf8Bytes};
pub use split::{ReuniteError, SplitError, WsReader, WsWriter};
pub use stream::WebSocketStream;

// Feature `codec`: a tokio-util Decoder/Encoder of single frames.
#[cfg(feature = "codec")]
pub mod codec;
#[cfg(feature = "codec")]
pub use config::CodecConfig;
#[cfg(feature = "codec")]
pub use error::CodecError;
