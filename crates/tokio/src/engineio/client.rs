//! An Engine.io client on hyper: pushwire-engineio's sans-IO `client::Session` driven by one
//! tokio task — long-polling over HTTP/1.1 (keep-alive connections, at most two kept idle and
//! reused within 1 s), the websocket transport on this crate's [`WebSocketStream`], the
//! polling → websocket upgrade, and the heartbeats on a tokio timer — for protocol revision
//! 3 or 4 ([`ClientConfig::engine`]'s `protocol`), over TCP or, with feature
//! `engineio-rustls` and `Connector::rustls`, TLS (`https://` URLs).
//!
//! # Call order
//!
//! 1. [`connect`] with the endpoint's URL (`http://host:port/engine.io/`) and a
//!    [`ClientConfig`] (or [`connect_with`] and a [`Connector`], for `https://`): returns
//!    once the handshake is done (or failed).
//! 2. [`Client::send`] and [`Client::recv`] (until `None`: the session closed, see
//!    [`Client::close_reason`]).
//! 3. [`Client::close`]: the buffered packets and a `close` packet go out.
//!
//! # Bounds
//!
//! - Receiving: at most [`ClientConfig::recv_queue`] received messages wait for
//!   [`Client::recv`]. When that queue is full, the driver holds the next message and reads
//!   nothing more from the server (no websocket message; at most one long-poll response is
//!   kept unread, and the messages of the poll response being delivered wait in the
//!   session, at most one body of the session's `limits`) until [`Client::recv`] makes
//!   room. A client that does not read therefore stops reading from the server, and the
//!   heartbeat eventually closes the session.
//! - Sending never depends on the receive side: the driver takes commands while a received
//!   message waits for room. [`Client::send`] waits only for room in the command channel
//!   ([`COMMAND_QUEUE`] commands, taken by the driver at once) and returns the session's
//!   answer: `SendError::OutputFull` when the session's `max_buffered_packets` wait to be
//!   sent (a POST in flight, the upgrade pause, or a websocket that is not writable),
//!   `SendError::Closed` once the session is closed.
//! - Poll bodies are limited by the session's `limits`, and each request must complete
//!   within [`ClientConfig::request_timeout`].
//! - A duration too long to add to the clock (say `Duration::MAX`, for the server's
//!   heartbeat or [`ClientConfig::request_timeout`]) means "never", not a panic.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::header;
use http_body_util::{BodyExt, Full, Limited};
use pushwire_engineio::client::{self, Event, RequestKind, Session, WsAction};
use pushwire_engineio::http::Method;
use pushwire_engineio::{
    Instant as EioInstant, OpenPacket, PacketData, SendError, TransportKind, WsMessage,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::{Message, WebSocketStream};

mod net;
pub use net::Connector;
use net::{Io, Target};

/// Why the client session closed (engine.io-client's reasons).
pub use pushwire_engineio::client::CloseReason as ClientCloseReason;

/// Settings of a [`Client`]. Start from [`ClientConfig::DEFAULT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The sans-IO session's settings: protocol revision (default 3; set
    /// `with_protocol(ProtocolVersion::V4)` for engine.io 4+ servers), limits, transports,
    /// upgrade.
    pub engine: client::Config,
    /// The websocket transport's settings. Default [`crate::Config::DEFAULT`] with message
    /// and frame limits of 1,000,000 bytes and a close timeout of 5 s (a websocket the
    /// session closes — an abandoned probe, the end of the session — is let go after 5 s
    /// even when the path went silent and the server's Close never comes).
    pub ws: crate::Config,
    /// Received messages that may wait for [`Client::recv`]. Default 1,024.
    pub recv_queue: usize,
    /// Time allowed for one HTTP request (a long-poll included: keep it above the server's
    /// `pingInterval`). Default 60 s.
    pub request_timeout: Duration,
}

impl ClientConfig {
    /// The defaults (see each field).
    pub const DEFAULT: ClientConfig = ClientConfig {
        engine: client::Config::DEFAULT,
        ws: crate::Config::DEFAULT
            .with_max_message_size(1_000_000)
            .with_max_frame_size(1_000_000)
            .with_close_timeout(Some(Duration::from_secs(5))),
        recv_queue: 1_024,
        request_timeout: Duration::from_secs(60),
    };

    /// Returns this config with [`ClientConfig::engine`] set to `engine`.
    #[must_use]
    pub const fn with_engine(mut self, engine: client::Config) -> Self {
        self.engine = engine;
        self
    }

    /// Returns this config with [`ClientConfig::ws`] set to `ws`.
    #[must_use]
    pub const fn with_ws(mut self, ws: crate::Config) -> Self {
        self.ws = ws;
        self
    }

    /// Returns this config with [`ClientConfig::recv_queue`] set to `n` (at least 1).
    #[must_use]
    pub const fn with_recv_queue(mut self, n: usize) -> Self {
        self.recv_queue = n;
        self
    }

    /// Returns this config with [`ClientConfig::request_timeout`] set to `d`.
    #[must_use]
    pub const fn with_request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why [`connect`] failed.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not `http://host[:port]/path` (nor `https://…` with a [`Connector`] that
    /// has TLS).
    #[error("not an http:// URL with a host: {0}")]
    InvalidUrl(String),
    /// The session closed before the handshake completed (the server refused it, could not
    /// be reached, or answered something that is not a handshake).
    #[error("handshake failed ({0:?})")]
    Handshake(ClientCloseReason),
}

/// Commands (sends, the close) that may wait for the driver; [`Client::send`] waits for
/// room beyond. The driver takes them at once, even while a received message waits for
/// [`Client::recv`].
pub const COMMAND_QUEUE: usize = 16;

enum Cmd {
    Send(PacketData, oneshot::Sender<Result<(), SendError>>),
    Close,
}

struct State {
    reason: OnceLock<ClientCloseReason>,
    transport: Mutex<TransportKind>,
}

/// A connected Engine.io client session.
pub struct Client {
    cmd: mpsc::Sender<Cmd>,
    rx: mpsc::Receiver<PacketData>,
    handshake: OpenPacket,
    state: Arc<State>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("sid", &self.handshake.sid)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The server's handshake (sid, upgrades, timings).
    #[must_use]
    pub fn handshake(&self) -> &OpenPacket {
        &self.handshake
    }

    /// The transport in use (websocket after an upgrade, or websocket-only).
    #[must_use]
    pub fn transport(&self) -> TransportKind {
        *self
            .state
            .transport
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `data` for the server. Waits only for room in the command channel
    /// ([`COMMAND_QUEUE`]), never for [`Client::recv`]: sending without reading is fine.
    ///
    /// # Errors
    /// [`SendError::Closed`] once the session is closed; [`SendError::OutputFull`] when the
    /// session's `max_buffered_packets` wait already.
    pub async fn send(&self, data: PacketData) -> Result<(), SendError> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(Cmd::Send(data, tx))
            .await
            .map_err(|_| SendError::Closed)?;
        rx.await.unwrap_or(Err(SendError::Closed))
    }

    /// The next message; `None` once the session is closed. Cancel safe.
    pub async fn recv(&mut self) -> Option<PacketData> {
        self.rx.recv().await
    }

    /// Closes the session (what is buffered, then a `close` packet, go out first).
    pub async fn close(&self) {
        let _ = self.cmd.send(Cmd::Close).await;
    }

    /// Why the session closed, once it has.
    #[must_use]
    pub fn close_reason(&self) -> Option<ClientCloseReason> {
        self.state.reason.get().copied()
    }
}

/// Opens a session with the Engine.io endpoint at `url` (`http://host:port/engine.io/`).
/// A query string in `url` (`…/engine.io/?token=abc`) is sent with every request, before
/// Engine.io's own parameters (engine.io-client's `query` option).
///
/// # Errors
/// [`ConnectError::InvalidUrl`]; [`ConnectError::Handshake`] when the session closed before
/// it opened.
pub async fn connect(url: &str, config: ClientConfig) -> Result<Client, ConnectError> {
    connect_with(url, config, Connector::plain()).await
}

/// [`connect`] through `connector`: with `Connector::rustls` (feature `engineio-rustls`),
/// `https://` URLs are reached over TLS, the websocket transport included (`wss`).
///
/// # Errors
/// As [`connect`]; [`ConnectError::InvalidUrl`] for an `https://` URL when `connector` has
/// no TLS.
pub async fn connect_with(
    url: &str,
    config: ClientConfig,
    connector: Connector,
) -> Result<Client, ConnectError> {
    let target = Target::parse(url, connector)?;
    let session = Session::new(config.engine, EioInstant::ZERO);
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (msg_tx, msg_rx) = mpsc::channel(config.recv_queue.max(1));
    let (open_tx, open_rx) = oneshot::channel();
    let state = Arc::new(State {
        reason: OnceLock::new(),
        transport: Mutex::new(session.transport()),
    });
    let driver = Driver {
        session,
        clock: crate::clock::Clock::new(),
        target,
        config,
        msg_tx,
        open_tx: Some(open_tx),
        state: Arc::clone(&state),
    };
    tokio::spawn(driver.run(cmd_rx));
    match open_rx.await {
        Ok(Ok(handshake)) => Ok(Client {
            cmd: cmd_tx,
            rx: msg_rx,
            handshake,
            state,
        }),
        Ok(Err(reason)) => Err(ConnectError::Handshake(reason)),
        Err(_) => Err(ConnectError::Handshake(ClientCloseReason::TransportError)),
    }
}

type ClientWs = WebSocketStream<Io>;

/// What a spawned request or websocket connect returns to the driver.
enum Done {
    Http {
        kind: RequestKind,
        status: u16,
        binary: bool,
        body: Bytes,
    },
    Ws(Option<Box<ClientWs>>),
}

struct Driver {
    session: Session,
    clock: crate::clock::Clock,
    target: Target,
    config: ClientConfig,
    msg_tx: mpsc::Sender<PacketData>,
    open_tx: Option<oneshot::Sender<Result<OpenPacket, ClientCloseReason>>>,
    state: Arc<State>,
}

/// One HTTP/1.1 request, on a pooled connection when one is idle; status 0 when it failed.
async fn http_request(target: Target, req: client::Request, config: ClientConfig) -> Done {
    let kind = req.kind;
    let failed = Done::Http {
        kind,
        status: 0,
        binary: false,
        body: Bytes::new(),
    };
    let attempt = async {
        let method = match req.method {
            Method::Post => http::Method::POST,
            _ => http::Method::GET,
        };
        let mut builder = target.request(method, &req.query);
        if let Some(ct) = req.content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        let request = builder.body(Full::new(Bytes::from(req.body))).ok()?;
        let (resp, sender) = target.send(request).await?;
        let status = resp.status().as_u16();
        let binary = resp.headers().get(header::CONTENT_TYPE).is_some_and(|c| {
            c.as_bytes()
                .eq_ignore_ascii_case(b"application/octet-stream")
        });
        let limit = config.engine.limits.max_payload_bytes;
        let body = Limited::new(resp.into_body(), limit)
            .collect()
            .await
            .ok()?
            .to_bytes();
        // Read in full: the connection may carry the next request.
        target.reuse(sender);
        Some(Done::Http {
            kind,
            status,
            binary,
            body,
        })
    };
    match tokio::time::timeout(config.request_timeout, attempt).await {
        Ok(Some(done)) => done,
        _ => failed,
    }
}

async fn ws_connect(target: Target, query: String, config: ClientConfig) -> Done {
    let attempt = async {
        let io = target.connect().await.ok()?;
        let path = target.uri(&query);
        WebSocketStream::client(io, &target.authority(), &path, config.ws)
            .await
            .ok()
            .map(Box::new)
    };
    Done::Ws(
        tokio::time::timeout(config.request_timeout, attempt)
            .await
            .ok()
            .flatten(),
    )
}

async fn ws_recv(ws: &mut Option<ClientWs>) -> Option<Result<Message, crate::Error>> {
    match ws {
        Some(ws) => ws.recv().await,
        None => std::future::pending().await,
    }
}

impl Driver {
    fn now(&self) -> EioInstant {
        self.clock.now()
    }

    async fn run(mut self, mut cmds: mpsc::Receiver<Cmd>) {
        let (done_tx, mut done_rx) = mpsc::channel::<Done>(8);
        let mut ws: Option<ClientWs> = None;
        let mut in_flight = 0usize;
        let mut closed_at: Option<Instant> = None;
        let mut cmds_open = true;
        // The received message the receive queue had no room for. While it waits, the
        // driver reads nothing more (no websocket message, no poll response: `parked`), so
        // the messages waiting are bounded; commands (sends) are still taken.
        let mut held: Option<PacketData> = None;
        // A long-poll response that came while `held` waited. At most one: the session asks
        // for the next poll only once it has this one.
        let mut parked: Option<(RequestKind, u16, bool, Bytes)> = None;
        loop {
            if held.is_none() {
                if let Some((kind, status, binary, body)) = parked.take() {
                    let now = self.now();
                    self.session
                        .handle_response(now, kind, status, binary, &body);
                }
            }
            // Drain the session's outputs.
            while let Some(req) = self.session.poll_request() {
                in_flight += 1;
                let tx = done_tx.clone();
                let fut = http_request(self.target.clone(), req, self.config);
                tokio::spawn(async move {
                    let _ = tx.send(fut.await).await;
                });
            }
            let mut wrote = false;
            while let Some(action) = self.session.poll_ws_action() {
                match action {
                    WsAction::Connect { query } => {
                        in_flight += 1;
                        let tx = done_tx.clone();
                        let fut = ws_connect(self.target.clone(), query, self.config);
                        tokio::spawn(async move {
                            let _ = tx.send(fut.await).await;
                        });
                    }
                    WsAction::Send(m) => {
                        if let Some(w) = ws.as_mut() {
                            let msg = match m {
                                WsMessage::Text(t) => Message::text(t),
                                WsMessage::Binary(b) => Message::Binary(b),
                            };
                            if w.feed(msg).await.is_err() {
                                ws = None;
                                self.session.handle_ws_closed(self.now());
                            }
                            wrote = true;
                        }
                    }
                    WsAction::Close => {
                        if let Some(w) = ws.as_mut() {
                            let _ = w.close(1000, "").await;
                            wrote = true;
                        }
                    }
                }
            }
            if wrote {
                if let Some(w) = ws.as_mut() {
                    let _ = tokio::time::timeout(self.config.request_timeout, w.flush()).await;
                }
            }
            while held.is_none() {
                let Some(event) = self.session.poll_event() else {
                    break;
                };
                match event {
                    Event::Open(open) => {
                        if let Some(tx) = self.open_tx.take() {
                            let _ = tx.send(Ok(open));
                        }
                    }
                    Event::Message(data) => {
                        // No room: the message waits in `held` (a reader that falls behind
                        // slows this session, never its sends). A `Client` that is gone
                        // (Closed) loses nothing it could read.
                        if let Err(mpsc::error::TrySendError::Full(data)) =
                            self.msg_tx.try_send(data)
                        {
                            held = Some(data);
                        }
                    }
                    Event::Upgraded | Event::UpgradeFailed => {}
                    Event::Closed(reason) => {
                        let _ = self.state.reason.set(reason);
                        if let Some(tx) = self.open_tx.take() {
                            let _ = tx.send(Err(reason));
                        }
                        closed_at.get_or_insert_with(Instant::now);
                    }
                }
            }
            *self
                .state
                .transport
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = self.session.transport();
            if self.session.is_closed() {
                // Let the last POST or the websocket close go out, within a bound.
                let over = closed_at.is_some_and(|t| t.elapsed() > Duration::from_secs(5));
                if (in_flight == 0 || over) && held.is_none() {
                    return;
                }
            } else if let Some(w) = ws.as_mut() {
                if self.session.transport() == TransportKind::WebSocket && w.queued() > 0 {
                    let _ = tokio::time::timeout(self.config.request_timeout, w.flush()).await;
                }
            }
            // A deadline too far to represent (a huge heartbeat) is never reached.
            let deadline = self.clock.deadline(self.session.poll_timeout());
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None if closed_at.is_some() => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    None => std::future::pending().await,
                }
            };
            let waiting = held.is_some();
            tokio::select! {
                permit = self.msg_tx.reserve(), if waiting => {
                    // Err: the `Client` is gone, and `held` with it.
                    if let (Ok(permit), Some(data)) = (permit, held.take()) {
                        permit.send(data);
                    }
                }
                Some(done) = done_rx.recv() => {
                    in_flight = in_flight.saturating_sub(1);
                    let now = self.now();
                    match done {
                        Done::Http { kind, status, binary, body }
                            if waiting && kind != RequestKind::Post && parked.is_none() =>
                        {
                            parked = Some((kind, status, binary, body));
                        }
                        Done::Http { kind, status, binary, body } => {
                            self.session.handle_response(now, kind, status, binary, &body);
                        }
                        Done::Ws(Some(s)) => {
                            if self.session.is_closed() {
                                drop(s);
                            } else {
                                ws = Some(*s);
                                self.session.handle_ws_connected(now);
                            }
                        }
                        Done::Ws(None) => self.session.handle_ws_closed(now),
                    }
                }
                cmd = cmds.recv(), if cmds_open => match cmd {
                    Some(Cmd::Send(data, reply)) => {
                        let _ = reply.send(self.session.send(data));
                    }
                    Some(Cmd::Close) => self.session.close(),
                    None => {
                        // The Client is gone: close the session.
                        cmds_open = false;
                        self.session.close();
                    }
                },
                m = ws_recv(&mut ws), if !waiting => {
                    let now = self.now();
                    match m {
                        Some(Ok(Message::Text(t))) => {
                            self.session.handle_ws_message(now, WsMessage::Text(t.as_str().to_owned()));
                        }
                        Some(Ok(Message::Binary(b))) => {
                            self.session.handle_ws_message(now, WsMessage::Binary(b));
                        }
                        Some(Ok(_)) => {}
                        Some(Err(_)) | None => {
                            ws = None;
                            self.session.handle_ws_closed(now);
                        }
                    }
                }
                () = sleep => {
                    let now = self.now();
                    self.session.handle_timeout(now);
                }
            }
        }
    }
}
