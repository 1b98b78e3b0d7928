//! An Engine.io server on hyper (feature `engineio`): pushwire-engineio's sans-IO
//! [`Server`] with its I/O — long-polling, the websocket transport (this crate's
//! [`WebSocketStream`](crate::WebSocketStream) through [`Upgrade`]), the polling → websocket
//! upgrade, heartbeats on tokio timers, CORS — serving protocol revisions 3 and 4 at once.
//!
//! # Call order
//!
//! 1. [`EngineIo::new`] with a [`Config`] (start from [`Config::DEFAULT`]): returns the
//!    endpoint (cheap to clone) and the [`Incoming`] queue of new sessions.
//! 2. Route every request under your Engine.io path (`/engine.io/` by convention) to
//!    [`EngineIo::handle`], from a hyper service (served with upgrades:
//!    `serve_connection_with_upgrades`) or an axum `any()` route. `handle` does not look at
//!    the path.
//! 3. [`Incoming::accept`] each new [`Socket`]; [`Socket::recv`] its messages until `None`
//!    (the session closed), [`Socket::send`] to it, [`Socket::close`] it. Or
//!    [`EngineIo::broadcast`] to every session.
//! 4. [`EngineIo::close_all`] at shutdown.
//!
//! # What runs where
//!
//! One mutex guards the sans-IO server (never held across an `.await`). A held long-poll
//! GET waits in its `handle` call until its session has something to send; a websocket
//! runs in a spawned task; one timer task sleeps until the server's `poll_timeout` (the
//! heartbeats: in revision 4 the server pings, in revision 3 it answers pings and closes a
//! session silent for `pingInterval + pingTimeout`). The timer task is spawned by the first
//! `handle` call and ends when the last handle to the endpoint is dropped.
//!
//! # Bounds, and what happens when one is reached
//!
//! - **POST bodies**: at most `limits.max_payload_bytes` (the `maxPayload` of the v4
//!   handshake); a longer body gets `413 Payload Too Large` and the session is closed, a body
//!   that takes longer than [`Config::body_timeout`] gets 408.
//! - **WebSocket messages**: at most `max_payload_bytes` too ([`Config::ws`]); a longer one
//!   closes the websocket with 1009 and so the session.
//! - **Outgoing, per session**: at most `max_buffered_packets` packets and
//!   `max_buffered_bytes` bytes of packet data wait for a client that does not fetch them;
//!   beyond either [`Socket::send`] returns [`SendError::OutputFull`] or
//!   [`SendError::OutputBytesFull`] and the packet is not queued (the caller decides: drop, retry
//!   later, or close). On websocket, this crate's write buffer limit applies as well: a
//!   client that does not read is closed with 1008.
//! - **Incoming, per session**: at most [`Config::recv_queue`] messages wait for
//!   [`Socket::recv`]; a session whose application falls that far behind is closed (forced
//!   close) rather than buffered without bound.
//! - **New sessions**: at most [`Config::accept_queue`] wait for [`Incoming::accept`]; a
//!   session that finds the queue full is closed at once.
//!
//! The client role is [`client`]: [`client::connect`], polling → websocket upgrade, both
//! revisions.
//!
//! ```no_run
//! use pushwire_tokio::engineio::{Config, EngineIo};
//!
//! # async fn run() {
//! let (eio, mut incoming) = EngineIo::new(Config::DEFAULT);
//! // In the hyper service: `eio.handle(req).await` for paths under /engine.io/.
//! # let _ = eio;
//! while let Some(mut socket) = incoming.accept().await {
//!     tokio::spawn(async move {
//!         while let Some(data) = socket.recv().await {
//!             let _ = socket.send(data); // echo
//!         }
//!     });
//! }
//! # }
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, LengthLimitError, Limited};
/// The sans-IO crate this module drives (its `server::Config` is [`Config::engine`]).
pub use pushwire_engineio;
use pushwire_engineio::http::{HttpRequest, HttpResponse, Method};
use pushwire_engineio::server::{self, sid_from_bytes, Event, Outcome, Server, WsAction};
/// Types of the sans-IO crate in this module's API.
pub use pushwire_engineio::{
    server::CloseReason, PacketData, ProtocolVersion, SendError, TransportKind,
};
use pushwire_engineio::{Instant as EioInstant, WsMessage};
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

pub mod client;

use crate::upgrade::{is_websocket_request, HyperWebSocket, Upgrade};
use crate::{Error, Message};

/// Which origin the CORS headers allow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CorsOrigin {
    /// Echo the request's `Origin` (`*` when it has none): engine.io 3.x's own behaviour.
    Mirror,
    /// `*`: any origin, never with credentials (the Fetch standard forbids the pair).
    Any,
    /// This origin only (for example `https://app.example`).
    Exact(String),
}

/// The CORS headers of polling responses (`Access-Control-Allow-Origin`,
/// `Access-Control-Allow-Credentials`) and the answer to preflight `OPTIONS` requests.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Cors {
    /// The allowed origin. Default [`CorsOrigin::Mirror`].
    pub origin: CorsOrigin,
    /// Send `Access-Control-Allow-Credentials: true` (never with `*`). Default true.
    pub credentials: bool,
}

impl Cors {
    /// engine.io 3.x: the request's origin echoed, credentials allowed.
    pub const MIRROR: Cors = Cors {
        origin: CorsOrigin::Mirror,
        credentials: true,
    };
    /// `*`, no credentials (the v4 spec's test server: `cors: { origin: "*" }`).
    pub const ANY: Cors = Cors {
        origin: CorsOrigin::Any,
        credentials: false,
    };

    /// Only `origin`, with credentials when `credentials`.
    #[must_use]
    pub fn exact(origin: impl Into<String>, credentials: bool) -> Cors {
        Cors {
            origin: CorsOrigin::Exact(origin.into()),
            credentials,
        }
    }
}

impl Default for Cors {
    fn default() -> Self {
        Self::MIRROR
    }
}

/// Settings of an [`EngineIo`] endpoint. Start from [`Config::DEFAULT`] and change what you
/// need with the `with_*` setters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The sans-IO server's settings: timings, limits, transports, revisions. Default
    /// pushwire-engineio's `server::Config::DEFAULT` with **`allow_eio4` on**, so that
    /// revision 3 and 4 clients are both served (engine.io 6 with `allowEIO3`).
    /// `limits.max_payload_bytes` is also the POST body limit and the websocket message
    /// limit.
    pub engine: server::Config,
    /// CORS. Default [`Cors::MIRROR`].
    pub cors: Cors,
    /// The websocket transport's settings. Default [`crate::Config::DEFAULT`] with the
    /// message and frame limits set to the default `max_payload_bytes` (1,000,000; keep
    /// them equal to it when you change it: [`Config::with_engine`] does) and
    /// permessage-deflate agreed when the client offers it, as engine.io does.
    pub ws: crate::Config,
    /// Messages received for one session that may wait for [`Socket::recv`]. Default 1,024.
    /// A session whose application lets more pile up is closed (forced close).
    pub recv_queue: usize,
    /// New sessions that may wait for [`Incoming::accept`]. Default 1,024; a session that
    /// finds the queue full is closed at once.
    pub accept_queue: usize,
    /// Time allowed for a POST body to arrive. Default 30 s; slower bodies get 408.
    pub body_timeout: Duration,
    /// Time a websocket write may make no progress before the websocket is dropped. Default
    /// 10 s.
    pub write_timeout: Duration,
}

impl Config {
    /// The defaults (see each field).
    pub const DEFAULT: Config = Config {
        engine: server::Config::DEFAULT.with_allow_eio4(true),
        cors: Cors::MIRROR,
        ws: crate::Config::DEFAULT
            .with_max_message_size(1_000_000)
            .with_max_frame_size(1_000_000),
        recv_queue: 1_024,
        accept_queue: 1_024,
        body_timeout: Duration::from_secs(30),
        write_timeout: Duration::from_secs(10),
    };

    /// Returns this config with [`Config::engine`] set to `engine`, and the websocket
    /// message and frame limits set to its `max_payload_bytes`.
    #[must_use]
    pub const fn with_engine(mut self, engine: server::Config) -> Self {
        let max = engine.limits.max_payload_bytes as u64;
        self.engine = engine;
        self.ws = self.ws.with_max_message_size(max).with_max_frame_size(max);
        self
    }

    /// Returns this config with [`Config::cors`] set to `cors` (not `const`: a
    /// [`CorsOrigin::Exact`] owns its string).
    #[must_use]
    pub fn with_cors(mut self, cors: Cors) -> Self {
        self.cors = cors;
        self
    }

    /// Returns this config with [`Config::ws`] set to `ws`.
    #[must_use]
    pub const fn with_ws(mut self, ws: crate::Config) -> Self {
        self.ws = ws;
        self
    }

    /// Returns this config with [`Config::recv_queue`] set to `n` (at least 1).
    #[must_use]
    pub const fn with_recv_queue(mut self, n: usize) -> Self {
        self.recv_queue = n;
        self
    }

    /// Returns this config with [`Config::accept_queue`] set to `n` (at least 1).
    #[must_use]
    pub const fn with_accept_queue(mut self, n: usize) -> Self {
        self.accept_queue = n;
        self
    }

    /// Returns this config with [`Config::body_timeout`] set to `d`.
    #[must_use]
    pub const fn with_body_timeout(mut self, d: Duration) -> Self {
        self.body_timeout = d;
        self
    }

    /// Returns this config with [`Config::write_timeout`] set to `d`.
    #[must_use]
    pub const fn with_write_timeout(mut self, d: Duration) -> Self {
        self.write_timeout = d;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The body of the responses of [`EngineIo::handle`]: the whole body at once.
#[derive(Debug, Default, Clone)]
pub struct Body(Option<Bytes>);

impl Body {
    /// The bytes of the body.
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        self.0.unwrap_or_default()
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.get_mut().0.take().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.as_ref().is_none_or(Bytes::is_empty)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.as_ref().map_or(0, |b| b.len() as u64))
    }
}

type Sids = Box<dyn FnMut() -> String + Send>;

/// Session ids: 15 bytes from a per-endpoint randomly keyed SipHash of a counter (the std
/// library's `RandomState` is seeded from the OS), so they are unique and not guessable.
fn sid_source() -> Sids {
    let keys = std::collections::hash_map::RandomState::new();
    let mut counter = 0u64;
    Box::new(move || {
        counter += 1;
        let mut b = [0u8; 15];
        for (i, chunk) in b.chunks_mut(8).enumerate() {
            let mut h = keys.build_hasher();
            h.write_u64(counter);
            h.write_usize(i);
            chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
        }
        sid_from_bytes(b)
    })
}

/// A session as the application's side sees it, kept by the endpoint.
struct Member {
    tx: mpsc::Sender<PacketData>,
    reason: Arc<OnceLock<CloseReason>>,
}

/// Synchronous handling of received messages, for applications that need it done before
/// the request that carried the message is answered (a chat whose fan-out must be queued
/// before the sender's POST returns, say). See [`EngineIo::with_handler`].
pub trait Handler: Send + 'static {
    /// Called for each message, in arrival order, with the endpoint locked (do not block).
    /// Return `Some(data)` to pass the message on to [`Socket::recv`], `None` to consume it.
    fn on_message(
        &mut self,
        sessions: &mut Sessions<'_>,
        sid: &str,
        data: PacketData,
    ) -> Option<PacketData>;
}

/// The sessions of an endpoint, as a [`Handler`] may reach them.
pub struct Sessions<'a> {
    server: &'a mut Server<Sids>,
}

impl std::fmt::Debug for Sessions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

impl Sessions<'_> {
    /// Queues `data` for session `sid`.
    ///
    /// # Errors
    /// As [`Socket::send`].
    pub fn send(&mut self, sid: &str, data: PacketData) -> Result<(), SendError> {
        self.server.send(sid, data)
    }

    /// Queues `data` for every open session; returns how many queued it (as
    /// [`EngineIo::broadcast`]).
    pub fn broadcast(&mut self, data: &PacketData) -> usize {
        self.server.broadcast(data)
    }
}

struct Inner {
    server: Server<Sids>,
    handler: Option<Box<dyn Handler>>,
    members: HashMap<String, Member>,
    /// The websocket tasks, by sid, to wake when their session has output.
    ws: HashMap<String, Arc<Notify>>,
    accept: mpsc::Sender<Socket>,
    /// The query of the request being handled, for the session it may open.
    query: Option<String>,
}

struct Shared {
    inner: Mutex<Inner>,
    /// Signalled after every change, for held polls.
    changed: Notify,
    /// Wakes the timer task (a deadline may have moved, or the endpoint is gone).
    timer: Arc<Notify>,
    timer_started: AtomicBool,
    clock: crate::clock::Clock,
    config: Config,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.timer.notify_one();
    }
}

impl Shared {
    fn now(&self) -> EioInstant {
        self.clock.now()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the server's events to the sockets, then wakes the held polls, the websocket
    /// tasks and the timer.
    fn pump(self: &Arc<Self>, inner: &mut Inner) {
        let _ = self.take_events(inner);
        self.changed.notify_waiters();
        for wake in inner.ws.values() {
            wake.notify_one();
        }
        self.timer.notify_one();
    }

    /// [`Shared::pump`] after a change that can only have given output to session `sid`
    /// (a message queued for it, its own request or websocket message handled): wakes its
    /// websocket task alone, and the timer task only when `timer` (a deadline may have come
    /// earlier: a new session, an upgrade probe). Waking every websocket task after each
    /// send made a broadcast to `n` websocket sessions cost `n²` wake-ups, each taking this
    /// lock (measured: 941 µs per receipt at 10,000 sockets, 44 µs at 1,000).
    fn pump_for(self: &Arc<Self>, inner: &mut Inner, sid: Option<&str>, timer: bool) {
        // A message handed to the endpoint's [`Handler`] may have queued output for any
        // session (the demo's chat sends each message to everybody): wake them all then.
        if self.take_events(inner) {
            for wake in inner.ws.values() {
                wake.notify_one();
            }
        } else if let Some(wake) = sid.and_then(|sid| inner.ws.get(sid)) {
            wake.notify_one();
        }
        self.changed.notify_waiters();
        if timer {
            self.timer.notify_one();
        }
    }

    /// Hands the sans-IO server's events to the sessions' owners; true when a message went
    /// to the [`Handler`] (which may have sent to any session).
    fn take_events(self: &Arc<Self>, inner: &mut Inner) -> bool {
        let mut handled = false;
        while let Some((sid, event)) = inner.server.poll_event() {
            match event {
                Event::Opened => {
                    let (tx, rx) = mpsc::channel(self.config.recv_queue.max(1));
                    let reason = Arc::new(OnceLock::new());
                    let protocol = inner
                        .server
                        .session(&sid)
                        .map_or(ProtocolVersion::V3, server::Session::protocol);
                    let socket = Socket {
                        sid: sid.clone(),
                        query: inner.query.take().unwrap_or_default(),
                        protocol,
                        rx,
                        reason: Arc::clone(&reason),
                        shared: Arc::clone(self),
                        close_on_drop: true,
                    };
                    match inner.accept.try_send(socket) {
                        Ok(()) => {
                            inner.members.insert(sid, Member { tx, reason });
                        }
                        Err(e) => {
                            // Nobody is accepting (fast enough): the session cannot be used.
                            let mut socket = e.into_inner();
                            socket.close_on_drop = false;
                            drop(socket);
                            inner.server.close(self.now(), &sid);
                        }
                    }
                }
                Event::Message(mut data) => {
                    if let Some(handler) = inner.handler.as_mut() {
                        handled = true;
                        let mut sessions = Sessions {
                            server: &mut inner.server,
                        };
                        match handler.on_message(&mut sessions, &sid, data) {
                            Some(d) => data = d,
                            None => continue,
                        }
                    }
                    if let Some(m) = inner.members.get(&sid) {
                        if let Err(mpsc::error::TrySendError::Full(_)) = m.tx.try_send(data) {
                            // The application is `recv_queue` messages behind: close rather
                            // than buffer without bound.
                            inner.server.close(self.now(), &sid);
                        }
                    }
                }
                Event::Upgraded => {}
                Event::Closed(reason) => {
                    if let Some(m) = inner.members.remove(&sid) {
                        let _ = m.reason.set(reason);
                    }
                }
            }
        }
        handled
    }
}

/// The heartbeats: sleeps until the server's next deadline (or a change), applies it.
async fn timer(shared: Weak<Shared>, wake: Arc<Notify>) {
    loop {
        let woken = wake.notified();
        let deadline = {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let mut inner = shared.lock();
            let now = shared.now();
            if inner.server.poll_timeout().is_some_and(|t| t <= now) {
                inner.server.handle_timeout(now);
                shared.pump(&mut inner);
            }
            // A deadline too far to represent (a huge `ping_interval`) is never reached.
            shared.clock.deadline(inner.server.poll_timeout())
        };
        match deadline {
            Some(d) => {
                tokio::select! {
                    () = tokio::time::sleep_until(d) => {}
                    () = woken => {}
                }
            }
            None => woken.await,
        }
    }
}

/// An Engine.io endpoint (cheap to clone: all clones are the same endpoint).
#[derive(Clone)]
pub struct EngineIo {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EngineIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineIo")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// The new sessions of an [`EngineIo`], in the order they were opened.
#[derive(Debug)]
pub struct Incoming(mpsc::Receiver<Socket>);

impl Incoming {
    /// The next new session; `None` once the endpoint is gone (every [`EngineIo`] and
    /// [`Socket`] dropped).
    pub async fn accept(&mut self) -> Option<Socket> {
        self.0.recv().await
    }
}

impl futures_core::Stream for Incoming {
    type Item = Socket;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Socket>> {
        self.0.poll_recv(cx)
    }
}

/// One Engine.io session, as the application sees it: receive its messages, send to it,
/// close it. Dropping it closes the session.
pub struct Socket {
    sid: String,
    query: String,
    protocol: ProtocolVersion,
    rx: mpsc::Receiver<PacketData>,
    reason: Arc<OnceLock<CloseReason>>,
    shared: Arc<Shared>,
    close_on_drop: bool,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("sid", &self.sid)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl Socket {
    /// The session id.
    #[must_use]
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The query string of the request that opened the session (undecoded, without `?`):
    /// socket.io's `socket.handshake.query` before parsing.
    #[must_use]
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The protocol revision the client asked for (`EIO=3` or `EIO=4`).
    #[must_use]
    pub fn protocol(&self) -> ProtocolVersion {
        self.protocol
    }

    /// The transport in use now (`None` once the session is gone).
    #[must_use]
    pub fn transport(&self) -> Option<TransportKind> {
        let inner = self.shared.lock();
        inner
            .server
            .session(&self.sid)
            .map(server::Session::transport)
    }

    /// The next message; `None` once the session is closed (see [`Socket::close_reason`])
    /// and the messages received before have been taken. Cancel safe.
    pub async fn recv(&mut self) -> Option<PacketData> {
        self.rx.recv().await
    }

    /// Queues `data` for the client (without waiting).
    ///
    /// # Errors
    /// [`SendError::Closed`] once the session is closing or closed;
    /// [`SendError::OutputFull`] when `max_buffered_packets` packets already wait for the
    /// client (it is not fetching them), [`SendError::OutputBytesFull`] when `data` would take
    /// the waiting bytes past `max_buffered_bytes`: `data` is not queued.
    pub fn send(&self, data: PacketData) -> Result<(), SendError> {
        let mut inner = self.shared.lock();
        let r = inner.server.send(&self.sid, data);
        self.shared.pump_for(&mut inner, Some(&self.sid), false);
        r
    }

    /// [`Socket::send`] of a text message.
    ///
    /// # Errors
    /// As [`Socket::send`].
    pub fn send_text(&self, text: impl Into<String>) -> Result<(), SendError> {
        self.send(PacketData::Text(text.into()))
    }

    /// [`Socket::send`] of a binary message.
    ///
    /// # Errors
    /// As [`Socket::send`].
    pub fn send_binary(&self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.send(PacketData::Binary(data.into()))
    }

    /// Closes the session (a `close` packet goes to the client after what is queued).
    pub fn close(&self) {
        let mut inner = self.shared.lock();
        inner.server.close(self.shared.now(), &self.sid);
        self.shared.pump(&mut inner);
    }

    /// Why the session closed, once it has.
    #[must_use]
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.reason.get().copied()
    }
}

impl futures_core::Stream for Socket {
    type Item = PacketData;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<PacketData>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if self.close_on_drop && self.reason.get().is_none() {
            self.close();
        }
    }
}

/// Answers `status` with a short text body.
fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut r = Response::new(Body(Some(Bytes::from_static(text.as_bytes()))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// A held GET: if its `handle` future is dropped (the client went away) before the answer,
/// the session learns of it.
struct Held {
    shared: Arc<Shared>,
    sid: String,
    answered: bool,
}

impl Drop for Held {
    fn drop(&mut self) {
        if !self.answered {
            let mut inner = self.shared.lock();
            inner
                .server
                .handle_get_aborted(self.shared.now(), &self.sid);
            self.shared.pump(&mut inner);
        }
    }
}

impl EngineIo {
    /// A new endpoint with `config`, and the queue of its new sessions. Serves nothing until
    /// requests are passed to [`EngineIo::handle`].
    #[must_use]
    pub fn new(config: Config) -> (EngineIo, Incoming) {
        Self::build(config, None)
    }

    /// As [`EngineIo::new`], with `handler` seeing every message first (see [`Handler`]).
    #[must_use]
    pub fn with_handler(config: Config, handler: impl Handler) -> (EngineIo, Incoming) {
        Self::build(config, Some(Box::new(handler)))
    }

    fn build(config: Config, handler: Option<Box<dyn Handler>>) -> (EngineIo, Incoming) {
        let (accept, incoming) = mpsc::channel(config.accept_queue.max(1));
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                server: Server::new(config.engine, sid_source()),
                handler,
                members: HashMap::new(),
                ws: HashMap::new(),
                accept,
                query: None,
            }),
            changed: Notify::new(),
            timer: Arc::new(Notify::new()),
            timer_started: AtomicBool::new(false),
            clock: crate::clock::Clock::new(),
            config,
        });
        (EngineIo { shared }, Incoming(incoming))
    }

    /// The endpoint's settings.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Sessions open (or closing) now.
    #[must_use]
    pub fn session_count(&self) -> usize {
        self.shared.lock().server.sids().count()
    }

    /// Sends `data` to every open session; returns how many queued it (a session whose
    /// outgoing queue is full is skipped, see [`Socket::send`]).
    pub fn broadcast(&self, data: &PacketData) -> usize {
        let mut inner = self.shared.lock();
        let n = inner.server.broadcast(data);
        self.shared.pump(&mut inner);
        n
    }

    /// Closes every session (held polls get the `close` packet, websockets a Close);
    /// returns how many there were.
    pub fn close_all(&self) -> usize {
        let mut inner = self.shared.lock();
        let sids: Vec<String> = inner.server.sids().map(String::from).collect();
        let now = self.shared.now();
        for sid in &sids {
            inner.server.close(now, sid);
        }
        self.shared.pump(&mut inner);
        sids.len()
    }

    fn start_timer(&self) {
        if !self.shared.timer_started.swap(true, Ordering::AcqRel) {
            tokio::spawn(timer(
                Arc::downgrade(&self.shared),
                Arc::clone(&self.shared.timer),
            ));
        }
    }

    /// Sets the CORS headers of `resp` (only where the sans-IO server put them, and on
    /// preflights) according to [`Config::cors`].
    fn cors(&self, headers: &mut http::HeaderMap, origin: Option<&HeaderValue>, force: bool) {
        let had = headers
            .remove(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_some();
        headers.remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
        if !had && !force {
            return;
        }
        let cors = &self.shared.config.cors;
        let value = match &cors.origin {
            CorsOrigin::Mirror => origin
                .cloned()
                .unwrap_or_else(|| HeaderValue::from_static("*")),
            CorsOrigin::Any => HeaderValue::from_static("*"),
            CorsOrigin::Exact(o) => match HeaderValue::from_str(o) {
                Ok(v) => v,
                Err(_) => return,
            },
        };
        let any = value.as_bytes() == b"*";
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        if cors.credentials && !any {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if !any {
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }

    /// An engine.io response for hyper, with the configured CORS headers.
    fn response(&self, r: HttpResponse, origin: Option<&HeaderValue>) -> Response<Body> {
        let mut resp = Response::new(Body(Some(Bytes::from(r.body))));
        *resp.status_mut() =
            StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (k, v) in &r.headers {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                resp.headers_mut().append(k, v);
            }
        }
        self.cors(resp.headers_mut(), origin, false);
        resp
    }

    /// Closes session `sid` after a refused request.
    fn close_session(&self, query: &str) {
        let sid = query
            .split('&')
            .find_map(|p| p.strip_prefix("sid="))
            .map(str::to_owned);
        if let Some(sid) = sid {
            let mut inner = self.shared.lock();
            inner.server.close(self.shared.now(), &sid);
            self.shared.pump(&mut inner);
        }
    }

    /// Answers one request under the Engine.io path: a handshake, a long-poll GET (held
    /// until the session has something to send), a POST, a preflight, or a websocket
    /// (accepted here, then run in a spawned task). Call it from inside a tokio runtime.
    pub async fn handle<B>(&self, mut req: Request<B>) -> Response<Body>
    where
        B: http_body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.start_timer();
        let shared = &self.shared;
        let method = match *req.method() {
            http::Method::GET => Method::Get,
            http::Method::POST => Method::Post,
            http::Method::OPTIONS => Method::Options,
            _ => Method::Other,
        };
        let origin = req.headers().get(header::ORIGIN).cloned();
        if method == Method::Options
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            // A CORS preflight: answered here, as engine.io's `cors` middleware does.
            let mut r = Response::new(Body::default());
            *r.status_mut() = StatusCode::NO_CONTENT;
            let h = r.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Content-Type"),
            );
            self.cors(h, origin.as_ref(), true);
            return r;
        }
        // A websocket request is checked by pushwire-ws before the session sees it.
        let mut upgrade = None;
        if is_websocket_request(&req) {
            match Upgrade::from_request(&mut req) {
                Ok(up) => upgrade = Some(up),
                Err(e) => return e.response(),
            }
        }
        let (parts, incoming) = req.into_parts();
        let query = parts.uri.query().unwrap_or("");
        let header =
            |name: header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
        // The body of a POST, bounded in size and time.
        let mut body = Bytes::new();
        if method == Method::Post {
            let max = shared.config.engine.limits.max_payload_bytes;
            let declared = header(header::CONTENT_LENGTH).and_then(|l| l.parse::<u64>().ok());
            let too_large = if declared.is_some_and(|len| len > max as u64) {
                true
            } else {
                let collected = tokio::time::timeout(
                    shared.config.body_timeout,
                    Limited::new(incoming, max).collect(),
                )
                .await;
                match collected {
                    Ok(Ok(c)) => {
                        body = c.to_bytes();
                        false
                    }
                    Ok(Err(e)) if e.is::<LengthLimitError>() => true,
                    Ok(Err(_)) => return plain(StatusCode::BAD_REQUEST, "body not read\n"),
                    Err(_) => return plain(StatusCode::REQUEST_TIMEOUT, "body too slow\n"),
                }
            };
            if too_large {
                // engine.io: a POST over `maxHttpBufferSize` is refused (413) and its session
                // closed; the client then reports a transport error.
                self.close_session(query);
                let mut r = plain(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n");
                self.cors(r.headers_mut(), origin.as_ref(), true);
                return r;
            }
        }
        let http_req = HttpRequest {
            method,
            query,
            origin: header(header::ORIGIN),
            content_type: header(header::CONTENT_TYPE),
            websocket_upgrade: upgrade.is_some(),
            body: &body,
        };
        let outcome = {
            let mut inner = shared.lock();
            inner.query = Some(query.to_owned());
            let outcome = inner.server.handle_request(shared.now(), &http_req);
            let sid = query.split('&').find_map(|p| p.strip_prefix("sid="));
            shared.pump_for(&mut inner, sid, true);
            inner.query = None;
            outcome
        };
        match outcome {
            Outcome::Respond(r) => self.response(r, origin.as_ref()),
            Outcome::Hold { sid } => self.hold(sid, origin.as_ref()).await,
            Outcome::AcceptWebSocket { sid } => {
                let Some(up) = upgrade else {
                    return plain(StatusCode::BAD_REQUEST, "not a websocket\n");
                };
                match up.accept(None, shared.config.ws) {
                    Ok((resp, pending)) => {
                        let shared = Arc::clone(shared);
                        tokio::spawn(async move {
                            match pending.await {
                                Ok(ws) => websocket(ws, shared, sid).await,
                                Err(_) => {
                                    let mut inner = shared.lock();
                                    inner.server.handle_ws_closed(shared.now(), &sid);
                                    shared.pump(&mut inner);
                                }
                            }
                        });
                        resp
                    }
                    Err(_) => {
                        let mut inner = shared.lock();
                        inner.server.handle_ws_closed(shared.now(), &sid);
                        shared.pump(&mut inner);
                        plain(StatusCode::BAD_REQUEST, "cannot accept\n")
                    }
                }
            }
        }
    }

    /// Holds a long-poll GET until its session has something to send.
    async fn hold(&self, sid: String, origin: Option<&HeaderValue>) -> Response<Body> {
        let shared = &self.shared;
        let mut held = Held {
            shared: Arc::clone(shared),
            sid,
            answered: false,
        };
        // The session answers on its own within a heartbeat (a ping, or the close on a
        // timeout); the cap only guards against a bug here.
        let engine = &shared.config.engine;
        // `None` (no cap) when it is too far to represent (a huge configured heartbeat).
        let cap = Instant::now().checked_add(
            engine
                .ping_interval
                .saturating_add(engine.ping_timeout.saturating_mul(2)),
        );
        loop {
            // Registered before looking, so a change made in between is not missed.
            let changed = shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let mut inner = shared.lock();
                if let Some(r) = inner.server.poll_http_response(&held.sid) {
                    held.answered = true;
                    shared.pump_for(&mut inner, Some(&held.sid), true);
                    drop(inner);
                    return self.response(r, origin);
                }
                let capped = cap.is_some_and(|cap| Instant::now() >= cap);
                if capped || inner.server.session(&held.sid).is_none() {
                    drop(inner);
                    // `held` tells the session on drop.
                    return plain(StatusCode::INTERNAL_SERVER_ERROR, "poll not answered\n");
                }
            }
            match cap {
                Some(cap) => {
                    let _ = tokio::time::timeout_at(cap, changed).await;
                }
                None => changed.await,
            }
        }
    }
}

/// Runs the websocket transport of session `sid` until it ends.
async fn websocket(mut ws: HyperWebSocket, shared: Arc<Shared>, sid: String) {
    let wake = Arc::new(Notify::new());
    shared.lock().ws.insert(sid.clone(), Arc::clone(&wake));
    let write_timeout = shared.config.write_timeout;
    'run: loop {
        let actions: Vec<WsAction> = {
            let mut inner = shared.lock();
            std::iter::from_fn(|| inner.server.poll_ws_action(&sid)).collect()
        };
        if !actions.is_empty() || ws.queued() > 0 {
            let sending = async {
                for action in actions {
                    let msg = match action {
                        WsAction::Send(WsMessage::Text(t)) => Message::text(t),
                        WsAction::Send(WsMessage::Binary(b)) => Message::Binary(b),
                        WsAction::Close => {
                            match ws.close(1000, "").await {
                                Ok(()) | Err(Error::Send(_) | Error::Closed) => {}
                                Err(e) => return Err(e),
                            }
                            break;
                        }
                    };
                    match ws.feed(msg).await {
                        Ok(()) => {}
                        Err(Error::WriteBufferFull { .. }) => {
                            // The client does not read: 1008 (policy violation).
                            let _ = ws.close(1008, "too slow").await;
                            break;
                        }
                        Err(Error::Send(_) | Error::Closed) => break,
                        Err(e) => return Err(e),
                    }
                }
                ws.flush().await
            };
            match tokio::time::timeout(write_timeout, sending).await {
                Ok(Ok(()) | Err(Error::Closed)) => {}
                Ok(Err(_)) | Err(_) => break 'run,
            }
        }
        let woken = wake.notified();
        tokio::select! {
            m = ws.recv() => {
                let message = match m {
                    Some(Ok(Message::Text(t))) => WsMessage::Text(t.as_str().to_owned()),
                    Some(Ok(Message::Binary(b))) => WsMessage::Binary(b),
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => break 'run,
                };
                let mut inner = shared.lock();
                inner.server.handle_ws_message(shared.now(), &sid, message);
                shared.pump_for(&mut inner, Some(&sid), true);
            }
            () = woken => {}
        }
    }
    let mut inner = shared.lock();
    inner.ws.remove(&sid);
    inner.server.handle_ws_closed(shared.now(), &sid);
    shared.pump(&mut inner);
}
