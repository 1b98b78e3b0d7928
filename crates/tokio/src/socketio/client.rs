//! A Socket.IO client on tokio: pushwire-socketio's sans-IO [`client::Connection`]
//! (socket.io-client's `Manager` and its `Socket`s) driven by one task over this crate's
//! Engine.io client ([`crate::engineio::client`]: long-polling, then the websocket upgrade).
//! Several namespaces share one Engine.io connection; the server's ack requests can be
//! answered; a lost connection is reopened with socket.io-client's backoff and every joined
//! namespace is joined again. Protocol revision 5 (socket.io 3/4, Engine.io 4; the default)
//! or 4 (socket.io 1.x/2.x, Engine.io 3): [`ClientConfig::protocol`].
//!
//! [`client::Connection`]: pushwire_socketio::client::Connection
//!
//! # Call order
//!
//! 1. [`connect`] with the endpoint's URL (`http://host:port/socket.io/`) and a
//!    [`ClientConfig`]: starts the driver task; nothing is opened yet.
//! 2. [`Client::socket`] for each namespace to join, with its auth (revision 5: an object,
//!    the `CONNECT` payload; revision 4: an object of scalars sent as the namespace's query
//!    string, and none for `/`). The first one opens the Engine.io connection.
//! 3. Per [`ClientSocket`]: [`ClientSocket::recv`] (until `None`: the namespace was left for
//!    good) gives [`SocketEvent`]s — `Connected` (again after each reconnection),
//!    `ConnectError`, `Disconnected`, and the server's events, each with an
//!    [`AckResponder`] when the server asked for an answer. [`ClientSocket::emit`],
//!    [`ClientSocket::emit_with_ack`] (then await the [`Ack`]), [`ClientSocket::disconnect`].
//! 4. [`Client::recv`] gives the connection's [`ClientEvent`]s (reconnection scheduled,
//!    attempts, reconnected, open errors, parse errors), for logging; nothing needs them.
//! 5. [`Client::close`] (or dropping the [`Client`] and every [`ClientSocket`] and
//!    [`AckResponder`]): every namespace is left, the Engine.io connection closed.
//!
//! ```no_run
//! use pushwire_tokio::socketio::client::{connect, ClientConfig, SocketEvent};
//! use pushwire_tokio::socketio::client::Value;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = connect("http://127.0.0.1:3000/socket.io/", ClientConfig::DEFAULT).await?;
//! let mut chat = client.socket("/", None).await?;
//! chat.emit("hello", &[Value::from("world")]).await?;
//! while let Some(event) = chat.recv().await {
//!     if let SocketEvent::Event(e) = event {
//!         println!("{} {:?}", e.name, e.args);
//!         if let Some(ack) = e.ack {
//!             ack.send(&[Value::from("thanks")]).await?;
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Bounds
//!
//! - Commands (emits, acks, joins) wait in a channel of [`ClientConfig::command_queue`]
//!   entries; the `async` calls wait for room.
//! - Each socket's events wait in a channel of [`ClientConfig::event_queue`]. When it is
//!   full, the driver holds the events it has already decoded (those of one Engine.io
//!   message: at most one per namespace, plus the server's event) and **stops reading from
//!   the Engine.io connection** until the socket is read: a socket that is not read slows
//!   the whole connection (and the Engine.io client's own bounded queue, then the server's
//!   heartbeat, take over). Emits and acks are still taken and sent (queued, bounded: see
//!   below; the Engine.io client never makes a send wait for its receive side) and timers
//!   still run (ack timeouts, reconnection). An application
//!   that awaits an [`Ack`] must read its sockets from another task (or in a `select!`):
//!   the answer travels behind the events.
//! - [`ClientEvent`]s wait in a channel of [`ClientConfig::client_event_queue`]; when it is
//!   full they are dropped (they are informational), counted by
//!   [`Client::dropped_events`].
//! - Acks awaited at once: the sans-IO [`Config::max_pending_acks`](SioConfig::max_pending_acks);
//!   emits held while a namespace is not connected: its `max_send_buffer`; messages not yet
//!   handed to Engine.io: its `max_transmit_queue`. Engine.io's own bounds are in
//!   [`crate::engineio::client`].
//!
//! # Cancel safety
//!
//! [`ClientSocket::recv`] and [`Client::recv`] are cancel safe (a channel receive). An
//! [`Ack`] dropped before the answer loses only the answer. The `emit` calls are not
//! cancel safe: cancelled while waiting for room in the command queue, the emit may or may
//! not have been queued.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use pushwire_socketio::client::{self as sio, Connection, Event, TransportAction};
use tokio::sync::{mpsc, oneshot};

use crate::engineio::client::{self as eio, ClientConfig as EioClientConfig};
use crate::engineio::pushwire_engineio::Instant as EioInstant;
use crate::engineio::{PacketData, TransportKind};

/// The sans-IO crate this module drives.
pub use pushwire_socketio;
/// The sans-IO client's settings ([`ClientConfig::socketio`]).
pub use pushwire_socketio::client::Config as SioConfig;
/// Why a namespace was left, as socket.io-client names it.
pub use pushwire_socketio::client::DisconnectReason;
/// Why an emit or ack was refused by the sans-IO client.
pub use pushwire_socketio::client::EmitError;
/// Types of the sans-IO crate in this module's API.
pub use pushwire_socketio::{DecodeError, Map, ProtocolVersion, Value};

/// Settings of a [`Client`]. Start from [`ClientConfig::DEFAULT`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The Socket.IO revision: [`ProtocolVersion::V5`] (socket.io 3/4; default) or
    /// [`ProtocolVersion::V4`] (socket.io 1.x/2.x). The Engine.io revision follows from it
    /// (4 or 3), whatever [`ClientConfig::engineio`] says.
    pub protocol: ProtocolVersion,
    /// The sans-IO client's settings: reconnection policy (socket.io-client's defaults:
    /// 1 s doubling to 5 s, jitter 0.5, no limit on attempts), open timeout, ack timeout,
    /// and its bounds. Default [`SioConfig::DEFAULT`].
    pub socketio: SioConfig,
    /// The Engine.io client's settings (transports, upgrade, limits, request timeout).
    /// Default [`EioClientConfig::DEFAULT`] (polling, then the websocket upgrade).
    pub engineio: EioClientConfig,
    /// Commands (joins, emits, acks) waiting for the driver. Default 64; the `async` calls
    /// wait for room.
    pub command_queue: usize,
    /// Events waiting for [`ClientSocket::recv`], per socket. Default 256; see the
    /// [module documentation](self) for what happens when it is full.
    pub event_queue: usize,
    /// [`ClientEvent`]s waiting for [`Client::recv`]. Default 64; newer ones are dropped
    /// when it is full.
    pub client_event_queue: usize,
    /// The seed of the reconnection jitter. Default `None`: drawn from the OS's hash
    /// randomness, so that clients do not reconnect in step.
    pub seed: Option<u64>,
}

impl ClientConfig {
    /// The defaults (see each field).
    pub const DEFAULT: ClientConfig = ClientConfig {
        protocol: ProtocolVersion::V5,
        socketio: SioConfig::DEFAULT,
        engineio: EioClientConfig::DEFAULT,
        command_queue: 64,
        event_queue: 256,
        client_event_queue: 64,
        seed: None,
    };

    /// Returns this config with [`ClientConfig::protocol`] set to `protocol`.
    #[must_use]
    pub const fn with_protocol(mut self, protocol: ProtocolVersion) -> Self {
        self.protocol = protocol;
        self
    }

    /// Returns this config with [`ClientConfig::socketio`] set to `config`.
    #[must_use]
    pub const fn with_socketio(mut self, config: SioConfig) -> Self {
        self.socketio = config;
        self
    }

    /// Returns this config with [`ClientConfig::engineio`] set to `config`.
    #[must_use]
    pub const fn with_engineio(mut self, config: EioClientConfig) -> Self {
        self.engineio = config;
        self
    }

    /// Returns this config with [`ClientConfig::command_queue`] set to `n` (at least 1).
    #[must_use]
    pub const fn with_command_queue(mut self, n: usize) -> Self {
        self.command_queue = n;
        self
    }

    /// Returns this config with [`ClientConfig::event_queue`] set to `n` (at least 1).
    #[must_use]
    pub const fn with_event_queue(mut self, n: usize) -> Self {
        self.event_queue = n;
        self
    }

    /// Returns this config with [`ClientConfig::client_event_queue`] set to `n` (at least 1).
    #[must_use]
    pub const fn with_client_event_queue(mut self, n: usize) -> Self {
        self.client_event_queue = n;
        self
    }

    /// Returns this config with [`ClientConfig::seed`] set to `seed`.
    #[must_use]
    pub const fn with_seed(mut self, seed: Option<u64>) -> Self {
        self.seed = seed;
        self
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a call was refused (the caller's side; the server's refusals are events).
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not `http://host[:port]/path`.
    #[error("not an http:// URL with a host: {0}")]
    InvalidUrl(String),
    /// The namespace or its auth cannot be sent.
    #[error(transparent)]
    Connect(#[from] sio::ConnectError),
    /// The emit or ack was refused; nothing was sent.
    #[error(transparent)]
    Emit(#[from] EmitError),
    /// A [`ClientSocket`] for this namespace exists already.
    #[error("namespace {0:?} already has a socket")]
    AlreadyJoined(String),
    /// The client was closed ([`Client::close`]).
    #[error("the client is closed")]
    Closed,
}

/// Why an [`Ack`] brought no answer.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AckError {
    /// No answer within the ack timeout; a late one is ignored.
    #[error("no ack within the timeout")]
    Timeout,
    /// The namespace or the connection was lost after the event was sent
    /// (socket.io-client 4: "socket has been disconnected").
    #[error("the socket was disconnected before the ack")]
    Dropped,
    /// The client was closed.
    #[error("the client is closed")]
    Closed,
}

/// What happened to a namespace, from [`ClientSocket::recv`].
#[derive(Debug)]
#[non_exhaustive]
pub enum SocketEvent {
    /// The server accepted the namespace (again after each reconnection).
    Connected {
        /// The socket id: revision 5 the server's; revision 4 `<nsp>#<Engine.io sid>` (the
        /// Engine.io sid for `/`), as socket.io-client 2 builds it.
        sid: String,
    },
    /// The server refused the namespace: revision 5 leaves it for good (`recv` ends);
    /// revision 4 asks again after a reconnection.
    ConnectError {
        /// What the server sent (revision 5 `{"message": …}`, revision 4 usually a string).
        data: Value,
    },
    /// The namespace was disconnected: "io server disconnect" and "io client disconnect"
    /// leave it for good (`recv` ends); "transport close" and "parse error" are followed by
    /// a reconnection and a new `Connected`.
    Disconnected {
        /// Why.
        reason: DisconnectReason,
    },
    /// An event from the server.
    Event(ServerEvent),
}

/// An event the server emitted.
#[derive(Debug)]
#[non_exhaustive]
pub struct ServerEvent {
    /// Its name.
    pub name: String,
    /// Its arguments, binary in place.
    pub args: Vec<Value>,
    /// Present when the server waits for an answer: call [`AckResponder::send`] once.
    pub ack: Option<AckResponder>,
}

/// Answers one server event that asked for an ack (the callback socket.io-client passes to a
/// listener). Dropping it unanswered leaves the server waiting.
#[derive(Debug)]
pub struct AckResponder {
    nsp: String,
    id: u64,
    cmd: mpsc::Sender<Cmd>,
}

impl AckResponder {
    /// The ack id the server gave.
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Sends `args` as the answer (binary makes it a `BINARY_ACK`).
    ///
    /// # Errors
    /// [`Error::Emit`] (the namespace is no longer connected: the id belonged to the server
    /// of a lost connection; or a full queue), [`Error::Closed`].
    pub async fn send(self, args: &[Value]) -> Result<(), Error> {
        let (reply, rx) = oneshot::channel();
        self.cmd
            .send(Cmd::Ack {
                nsp: self.nsp,
                id: self.id,
                args: args.to_vec(),
                reply,
            })
            .await
            .map_err(|_| Error::Closed)?;
        rx.await.unwrap_or(Err(Error::Closed))
    }
}

/// What happened to the connection, from [`Client::recv`]: informational.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// An Engine.io connection opened, with this sid.
    Open {
        /// The Engine.io sid.
        sid: String,
    },
    /// The Engine.io connection was lost (the sockets get `Disconnected` "transport close").
    TransportClosed,
    /// A reconnection is scheduled after `delay`.
    ReconnectScheduled {
        /// The attempt it will be (1 for the first).
        attempt: u32,
        /// The backoff delay.
        delay: Duration,
    },
    /// A reconnection attempt starts now.
    ReconnectAttempt {
        /// The attempt, 1 for the first.
        attempt: u32,
    },
    /// A reconnection succeeded after `attempts` attempts; the namespaces are being joined
    /// again.
    Reconnected {
        /// The attempts it took.
        attempts: u32,
    },
    /// An Engine.io connection failed to open (or not within the open timeout).
    OpenError,
    /// The reconnection attempts ran out; the client gave up (a new [`Client::socket`]
    /// starts again).
    ReconnectFailed,
    /// The server sent a packet the decoder refused: the connection is closed and
    /// reconnected.
    ParseError(DecodeError),
}

/// Where the driver puts the answer of one awaited ack.
type AckTx = oneshot::Sender<Result<Vec<Value>, AckError>>;

enum Cmd {
    Join {
        nsp: String,
        auth: Option<Value>,
        reply: oneshot::Sender<Result<(mpsc::Receiver<SocketEvent>, u64), Error>>,
    },
    Emit {
        nsp: String,
        name: String,
        args: Vec<Value>,
        ack: Option<(Option<Duration>, AckTx)>,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    Ack {
        nsp: String,
        id: u64,
        args: Vec<Value>,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    Disconnect {
        nsp: String,
        generation: u64,
    },
    Reconnect,
    Close,
}

struct Shared {
    transport: Mutex<Option<TransportKind>>,
    dropped_events: AtomicU64,
}

/// A Socket.IO client: one Engine.io connection (reopened as needed) shared by its
/// [`ClientSocket`]s. See the [module documentation](self).
pub struct Client {
    cmd: mpsc::Sender<Cmd>,
    events: mpsc::Receiver<ClientEvent>,
    shared: Arc<Shared>,
    protocol: ProtocolVersion,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Joins namespace `nsp` with `auth` (revision 5: the `CONNECT` payload, an object;
    /// revision 4: an object of strings, numbers, booleans or null, sent as the namespace's
    /// query string; none for `/`). Opens the Engine.io connection if none is open or
    /// opening. The socket's first event is `Connected` or `ConnectError`.
    ///
    /// # Errors
    /// [`Error::Connect`] (bad namespace or auth), [`Error::AlreadyJoined`],
    /// [`Error::Closed`].
    pub async fn socket(&self, nsp: &str, auth: Option<Value>) -> Result<ClientSocket, Error> {
        let (reply, rx) = oneshot::channel();
        self.cmd
            .send(Cmd::Join {
                nsp: nsp.to_string(),
                auth,
                reply,
            })
            .await
            .map_err(|_| Error::Closed)?;
        let (events, generation) = rx.await.unwrap_or(Err(Error::Closed))?;
        Ok(ClientSocket {
            nsp: nsp.to_string(),
            cmd: self.cmd.clone(),
            events,
            generation,
        })
    }

    /// The next connection event; `None` once the driver has stopped. Cancel safe.
    pub async fn recv(&mut self) -> Option<ClientEvent> {
        self.events.recv().await
    }

    /// Connection events dropped because [`ClientConfig::client_event_queue`] was full.
    #[must_use]
    pub fn dropped_events(&self) -> u64 {
        self.shared.dropped_events.load(Ordering::Relaxed)
    }

    /// The transport of the open Engine.io connection (websocket after the upgrade);
    /// `None` while there is none.
    #[must_use]
    pub fn transport(&self) -> Option<TransportKind> {
        *self
            .shared
            .transport
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The protocol revision.
    #[must_use]
    pub fn protocol(&self) -> ProtocolVersion {
        self.protocol
    }

    /// Starts connecting again after [`ClientEvent::ReconnectFailed`] (socket.io-client's
    /// `manager.open()`), with the backoff reset; the joined namespaces are joined again.
    /// Does nothing while a connection is open or being opened.
    pub async fn reconnect(&self) {
        let _ = self.cmd.send(Cmd::Reconnect).await;
    }

    /// Leaves every namespace (each socket gets `Disconnected` "io client disconnect", then
    /// `None`) and closes the Engine.io connection; no reconnection follows.
    pub async fn close(&self) {
        let _ = self.cmd.send(Cmd::Close).await;
    }
}

/// One joined namespace of a [`Client`]. Dropping it leaves the namespace (best effort:
/// when the command queue is full at that moment, use [`ClientSocket::disconnect`]).
#[derive(Debug)]
pub struct ClientSocket {
    nsp: String,
    cmd: mpsc::Sender<Cmd>,
    events: mpsc::Receiver<SocketEvent>,
    generation: u64,
}

impl ClientSocket {
    /// The namespace.
    #[must_use]
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The next event; `None` once the namespace is left for good (server or client
    /// disconnect, a revision 5 `CONNECT_ERROR`, [`Client::close`] — the event saying so
    /// comes first). When the reconnection gives up ([`ClientEvent::ReconnectFailed`]) the
    /// socket stays joined and waits for [`Client::reconnect`]. Cancel safe.
    pub async fn recv(&mut self) -> Option<SocketEvent> {
        self.events.recv().await
    }

    /// Emits event `name` with `args`, no ack. Sent now if the namespace is connected,
    /// else held (bounded) until it is, across reconnections.
    ///
    /// # Errors
    /// [`Error::Emit`] (reserved name, full buffers, namespace left), [`Error::Closed`].
    pub async fn emit(&self, name: &str, args: &[Value]) -> Result<(), Error> {
        self.emit_inner(name, args, None).await
    }

    /// Emits event `name` with `args` and asks the server for an answer, which the returned
    /// [`Ack`] resolves to. `timeout` overrides the configured ack timeout ([`SioConfig`]'s
    /// `ack_timeout`, none by default: a lost connection still ends the wait).
    ///
    /// # Errors
    /// As [`ClientSocket::emit`], and a full table of awaited acks.
    pub async fn emit_with_ack(
        &self,
        name: &str,
        args: &[Value],
        timeout: Option<Duration>,
    ) -> Result<Ack, Error> {
        let (tx, rx) = oneshot::channel();
        self.emit_inner(name, args, Some((timeout, tx))).await?;
        Ok(Ack(rx))
    }

    async fn emit_inner(
        &self,
        name: &str,
        args: &[Value],
        ack: Option<(Option<Duration>, AckTx)>,
    ) -> Result<(), Error> {
        let (reply, rx) = oneshot::channel();
        self.cmd
            .send(Cmd::Emit {
                nsp: self.nsp.clone(),
                name: name.to_string(),
                args: args.to_vec(),
                ack,
                reply,
            })
            .await
            .map_err(|_| Error::Closed)?;
        rx.await.unwrap_or(Err(Error::Closed))
    }

    /// Leaves the namespace: a `DISCONNECT` if it is connected, `Disconnected` "io client
    /// disconnect", then `recv` ends. Not joined again on reconnection. When it was the last
    /// namespace, the Engine.io connection closes.
    pub async fn disconnect(&self) {
        let _ = self
            .cmd
            .send(Cmd::Disconnect {
                nsp: self.nsp.clone(),
                generation: self.generation,
            })
            .await;
    }
}

impl Drop for ClientSocket {
    fn drop(&mut self) {
        let _ = self.cmd.try_send(Cmd::Disconnect {
            nsp: std::mem::take(&mut self.nsp),
            generation: self.generation,
        });
    }
}

/// The server's answer to [`ClientSocket::emit_with_ack`]: a future of its arguments.
#[derive(Debug)]
pub struct Ack(oneshot::Receiver<Result<Vec<Value>, AckError>>);

impl Future for Ack {
    type Output = Result<Vec<Value>, AckError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(AckError::Closed)))
    }
}

/// Starts a client for the Socket.IO endpoint at `url` (`http://host:port/socket.io/`; a
/// URL with the path `/` gets `/socket.io/`). Spawns the driver task on the current tokio
/// runtime and returns at once: the Engine.io connection opens with the first
/// [`Client::socket`].
///
/// # Errors
/// [`Error::InvalidUrl`].
pub async fn connect(url: &str, config: ClientConfig) -> Result<Client, Error> {
    connect_with(url, config, eio::Connector::plain()).await
}

/// [`connect`] through `connector`: with `Connector::rustls` (feature
/// `engineio-rustls`), `https://` URLs are reached over TLS, on every transport and every
/// reconnection.
///
/// # Errors
/// [`Error::InvalidUrl`], also for an `https://` URL when `connector` has no TLS.
pub async fn connect_with(
    url: &str,
    config: ClientConfig,
    connector: eio::Connector,
) -> Result<Client, Error> {
    let url = check_url(url, connector.has_tls())?;
    let seed = config.seed.unwrap_or_else(|| {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(0x5eed);
        h.finish()
    });
    let conn = Connection::new(config.socketio, config.protocol, seed);
    let (cmd_tx, cmd_rx) = mpsc::channel(config.command_queue.max(1));
    let (ev_tx, ev_rx) = mpsc::channel(config.client_event_queue.max(1));
    let shared = Arc::new(Shared {
        transport: Mutex::new(None),
        dropped_events: AtomicU64::new(0),
    });
    let eio_config = config.engineio.with_engine(
        config
            .engineio
            .engine
            .with_protocol(config.protocol.engineio()),
    );
    let driver = Driver {
        url,
        connector,
        eio_config,
        event_queue: config.event_queue.max(1),
        conn,
        clock: crate::clock::Clock::new(),
        pipe: None,
        outbox: VecDeque::new(),
        max_outbox: config.socketio.max_transmit_queue,
        opening: None,
        routes: HashMap::new(),
        acks: HashMap::new(),
        client_events: ev_tx,
        shared: Arc::clone(&shared),
        cmd: cmd_tx.downgrade(),
        generation: 0,
    };
    tokio::spawn(driver.run(cmd_rx));
    Ok(Client {
        cmd: cmd_tx,
        events: ev_rx,
        shared,
        protocol: config.protocol,
    })
}

fn check_url(url: &str, tls: bool) -> Result<String, Error> {
    let bad = || Error::InvalidUrl(url.to_string());
    let uri: http::Uri = url.parse().map_err(|_| bad())?;
    let scheme = match uri.scheme_str() {
        Some("http") => "http",
        Some("https") if tls => "https",
        _ => return Err(bad()),
    };
    if uri.host().is_none() {
        return Err(bad());
    }
    if uri.path() == "/" || uri.path().is_empty() {
        let authority = uri.authority().ok_or_else(bad)?;
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        return Ok(format!("{scheme}://{authority}/socket.io/{query}"));
    }
    Ok(url.to_string())
}

/// One joined namespace, as the driver routes to it.
struct Route {
    tx: mpsc::Sender<SocketEvent>,
    /// Events the channel had no room for (those of one Engine.io message at most, since
    /// the driver stops reading while any route has a backlog).
    backlog: VecDeque<SocketEvent>,
    /// The namespace was left for good: the route goes once its backlog is delivered.
    left: bool,
    generation: u64,
}

type Opening = oneshot::Receiver<Result<eio::Client, eio::ConnectError>>;

struct Driver {
    url: String,
    connector: eio::Connector,
    eio_config: EioClientConfig,
    event_queue: usize,
    conn: Connection,
    clock: crate::clock::Clock,
    /// The open Engine.io connection, through its pipe task.
    pipe: Option<Pipe>,
    /// Messages for the pipe that its channel had no room for; at most the sans-IO
    /// `max_transmit_queue` (emits and acks are refused beyond it).
    outbox: VecDeque<PacketData>,
    max_outbox: usize,
    opening: Option<Opening>,
    routes: HashMap<String, Route>,
    acks: HashMap<(String, u64), AckTx>,
    client_events: mpsc::Sender<ClientEvent>,
    shared: Arc<Shared>,
    cmd: mpsc::WeakSender<Cmd>,
    generation: u64,
}

/// What the driver hands to a pipe task.
enum Out {
    Data(PacketData),
    Close,
}

/// Messages in flight between the driver and a pipe task, each way. Small: the Engine.io
/// client has its own bounded queues behind it.
const PIPE_QUEUE: usize = 16;

/// One open Engine.io connection, owned by its pipe task: the driver never awaits the
/// Engine.io client, so it keeps taking commands and running timers while the network
/// (or a socket that is not read) holds the connection back.
struct Pipe {
    out: mpsc::Sender<Out>,
    inbox: mpsc::Receiver<PacketData>,
    transport: Arc<Mutex<TransportKind>>,
}

impl Pipe {
    fn spawn(client: eio::Client) -> Pipe {
        let (out, mut out_rx) = mpsc::channel::<Out>(PIPE_QUEUE);
        let (in_tx, inbox) = mpsc::channel(PIPE_QUEUE);
        let transport = Arc::new(Mutex::new(client.transport()));
        let kind = Arc::clone(&transport);
        tokio::spawn(async move {
            let mut client = client;
            // What was read and waits for room in `inbox`: nothing more is read meanwhile,
            // while sends go on (the Engine.io client never makes a send wait for `recv`).
            let mut held: Option<PacketData> = None;
            loop {
                *kind.lock().unwrap_or_else(|e| e.into_inner()) = client.transport();
                let waiting = held.is_some();
                tokio::select! {
                    permit = in_tx.reserve(), if waiting => match (permit, held.take()) {
                        (Ok(permit), Some(m)) => permit.send(m),
                        _ => {
                            // The driver is gone.
                            client.close().await;
                            return;
                        }
                    },
                    m = client.recv(), if !waiting => match m {
                        Some(m) => held = Some(m),
                        // Dropping `in_tx` tells the driver.
                        None => return,
                    },
                    o = out_rx.recv() => match o {
                        // A refusal (the session is closing, or its output is full) loses
                        // the message; a closed session is then reported by `recv`.
                        Some(Out::Data(d)) => {
                            let _ = client.send(d).await;
                        }
                        Some(Out::Close) | None => {
                            client.close().await;
                            return;
                        }
                    },
                }
            }
        });
        Pipe {
            out,
            inbox,
            transport,
        }
    }

    /// Sends what is left, then closes the connection, from a task of its own.
    fn close(self, rest: VecDeque<PacketData>) {
        tokio::spawn(async move {
            for m in rest {
                if self.out.send(Out::Data(m)).await.is_err() {
                    return;
                }
            }
            let _ = self.out.send(Out::Close).await;
            // `self.inbox` lives until here, so the pipe does not stop before the close.
            drop(self);
        });
    }
}

async fn pipe_recv(pipe: &mut Option<Pipe>) -> Option<PacketData> {
    match pipe {
        Some(p) => p.inbox.recv().await,
        None => std::future::pending().await,
    }
}

/// Waits until the pipe has room for the outbox's next message.
async fn pipe_room(out: Option<mpsc::Sender<Out>>) {
    match out {
        Some(out) => {
            if out.reserve().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

async fn opened(opening: &mut Option<Opening>) -> Result<eio::Client, Option<eio::ConnectError>> {
    match opening {
        Some(rx) => match rx.await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(Some(e)),
            Err(_) => Err(None),
        },
        None => std::future::pending().await,
    }
}

/// Waits until the first route with a backlog has room (or its receiver is gone).
async fn backlog_room(routes: &HashMap<String, Route>) {
    match routes.values().find(|r| !r.backlog.is_empty()) {
        Some(r) => {
            let _ = r.tx.reserve().await;
        }
        None => std::future::pending().await,
    }
}

impl Driver {
    fn now(&self) -> EioInstant {
        self.clock.now()
    }

    async fn run(mut self, mut cmds: mpsc::Receiver<Cmd>) {
        let mut closing = false;
        loop {
            self.pump();
            *self
                .shared
                .transport
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = self
                .pipe
                .as_ref()
                .map(|p| *p.transport.lock().unwrap_or_else(|e| e.into_inner()));
            if closing {
                // `close` asked for the Engine.io connection to close; make sure of it.
                if let Some(p) = self.pipe.take() {
                    p.close(std::mem::take(&mut self.outbox));
                }
                return;
            }
            // A deadline too far to represent (a huge ack timeout or delay) is never reached.
            let sleep = crate::clock::sleep_until(self.clock.deadline(self.conn.poll_timeout()));
            let waiting_out = match &self.pipe {
                Some(p) if !self.outbox.is_empty() => Some(p.out.clone()),
                _ => None,
            };
            let backlogged = self.routes.values().any(|r| !r.backlog.is_empty());
            tokio::select! {
                cmd = cmds.recv(), if !closing => match cmd {
                    Some(cmd) => self.command(cmd),
                    None => {
                        // Every handle is gone (or Close): leave everything, then stop.
                        closing = true;
                        self.conn.close();
                    }
                },
                m = pipe_recv(&mut self.pipe), if !backlogged => {
                    let now = self.now();
                    match m {
                        Some(data) => self.conn.handle_message(now, data),
                        None => {
                            self.pipe = None;
                            self.outbox.clear();
                            self.client_event(ClientEvent::TransportClosed);
                            self.conn.handle_closed(now);
                        }
                    }
                }
                r = opened(&mut self.opening) => {
                    self.opening = None;
                    let now = self.now();
                    match r {
                        Ok(c) => {
                            let sid = c.handshake().sid.clone();
                            self.outbox.clear();
                            self.pipe = Some(Pipe::spawn(c));
                            self.client_event(ClientEvent::Open { sid: sid.clone() });
                            self.conn.handle_open(now, &sid);
                        }
                        Err(_) => self.conn.handle_open_error(now),
                    }
                }
                () = backlog_room(&self.routes) => self.deliver_backlogs(),
                () = pipe_room(waiting_out) => self.flush_outbox(),
                () = sleep => {
                    let now = self.now();
                    self.conn.handle_timeout(now);
                }
            }
        }
    }

    fn command(&mut self, cmd: Cmd) {
        let now = self.now();
        match cmd {
            Cmd::Join { nsp, auth, reply } => {
                if self.routes.get(&nsp).is_some_and(|r| !r.left) {
                    let _ = reply.send(Err(Error::AlreadyJoined(nsp)));
                    return;
                }
                match self.conn.connect(now, &nsp, auth) {
                    Ok(()) => {
                        let (tx, rx) = mpsc::channel(self.event_queue);
                        self.generation += 1;
                        self.routes.insert(
                            nsp,
                            Route {
                                tx,
                                backlog: VecDeque::new(),
                                left: false,
                                generation: self.generation,
                            },
                        );
                        let _ = reply.send(Ok((rx, self.generation)));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(Error::Connect(e)));
                    }
                }
            }
            Cmd::Emit {
                nsp,
                name,
                args,
                ack,
                reply,
            } => {
                if let Err(e) = self.check_outbox() {
                    let _ = reply.send(Err(e));
                    return;
                }
                let result = match ack {
                    None => self.conn.emit(now, &nsp, &name, &args),
                    Some((timeout, tx)) => {
                        match self.conn.emit_with_ack(now, &nsp, &name, &args, timeout) {
                            Ok(id) => {
                                self.acks.insert((nsp, id), tx);
                                Ok(())
                            }
                            Err(e) => Err(e),
                        }
                    }
                };
                let _ = reply.send(result.map_err(Error::Emit));
            }
            Cmd::Ack {
                nsp,
                id,
                args,
                reply,
            } => {
                let result = self
                    .check_outbox()
                    .and_then(|()| self.conn.ack(&nsp, id, &args).map_err(Error::Emit));
                let _ = reply.send(result);
            }
            Cmd::Disconnect { nsp, generation } => {
                if self
                    .routes
                    .get(&nsp)
                    .is_some_and(|r| r.generation == generation && !r.left)
                {
                    self.conn.disconnect(&nsp);
                }
            }
            Cmd::Reconnect => {
                // Joining a joined namespace again changes nothing but asking for an open
                // when there is no connection.
                let first = self.conn.namespaces().next().map(str::to_string);
                if let Some(nsp) = first {
                    let _ = self.conn.connect(now, &nsp, None);
                }
            }
            Cmd::Close => self.conn.close(),
        }
    }

    /// Drains the sans-IO client's outputs: messages to Engine.io, transport actions,
    /// events to the sockets.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(m) = self.conn.poll_transmit() {
                moved = true;
                self.outbox.push_back(m);
            }
            self.flush_outbox();
            while let Some(action) = self.conn.poll_transport() {
                moved = true;
                match action {
                    TransportAction::Open => {
                        if let Some(old) = self.pipe.take() {
                            old.close(VecDeque::new());
                        }
                        self.outbox.clear();
                        let (tx, rx) = oneshot::channel();
                        let url = self.url.clone();
                        let config = self.eio_config;
                        let connector = self.connector.clone();
                        tokio::spawn(async move {
                            let _ = tx.send(eio::connect_with(&url, config, connector).await);
                        });
                        self.opening = Some(rx);
                    }
                    TransportAction::Close => {
                        // Dropping an open attempt's receiver drops the client it yields,
                        // which closes that session.
                        self.opening = None;
                        // What is still queued (a DISCONNECT) goes out first.
                        if let Some(p) = self.pipe.take() {
                            p.close(std::mem::take(&mut self.outbox));
                        }
                    }
                    _ => {}
                }
            }
            while let Some(event) = self.conn.poll_event() {
                moved = true;
                self.event(event);
            }
            if !moved {
                break;
            }
        }
        // Namespaces the sans-IO client no longer holds are left for good.
        let joined: Vec<&str> = self.conn.namespaces().collect();
        for (nsp, r) in &mut self.routes {
            if !joined.contains(&nsp.as_str()) {
                r.left = true;
            }
        }
        self.deliver_backlogs();
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Connected { nsp, sid } => self.route(&nsp, SocketEvent::Connected { sid }),
            Event::ConnectError { nsp, data } => {
                self.route(&nsp, SocketEvent::ConnectError { data });
            }
            Event::Disconnected { nsp, reason } => {
                self.route(&nsp, SocketEvent::Disconnected { reason });
            }
            Event::Event(p) => {
                let nsp = p.nsp().to_string();
                let ack = match (p.id(), self.cmd.upgrade()) {
                    (Some(id), Some(cmd)) => Some(AckResponder {
                        nsp: nsp.clone(),
                        id,
                        cmd,
                    }),
                    _ => None,
                };
                let e = ServerEvent {
                    name: p.event_name().unwrap_or_default().to_string(),
                    // A decoded packet's JSON was checked, so this does not fail.
                    args: p.args().unwrap_or_default(),
                    ack,
                };
                self.route(&nsp, SocketEvent::Event(e));
            }
            Event::Ack(p) => {
                if let Some(id) = p.id() {
                    if let Some(tx) = self.acks.remove(&(p.nsp().to_string(), id)) {
                        let _ = tx.send(Ok(p.args().unwrap_or_default()));
                    }
                }
            }
            Event::AckTimeout { nsp, id } => {
                if let Some(tx) = self.acks.remove(&(nsp, id)) {
                    let _ = tx.send(Err(AckError::Timeout));
                }
            }
            Event::AckDropped { nsp, id } => {
                if let Some(tx) = self.acks.remove(&(nsp, id)) {
                    let _ = tx.send(Err(AckError::Dropped));
                }
            }
            Event::ParseError(e) => self.client_event(ClientEvent::ParseError(e)),
            Event::ReconnectScheduled { attempt, delay } => {
                self.client_event(ClientEvent::ReconnectScheduled { attempt, delay });
            }
            Event::ReconnectAttempt { attempt } => {
                self.client_event(ClientEvent::ReconnectAttempt { attempt });
            }
            Event::OpenError => self.client_event(ClientEvent::OpenError),
            Event::Reconnected { attempts } => {
                self.client_event(ClientEvent::Reconnected { attempts });
            }
            Event::ReconnectFailed => self.client_event(ClientEvent::ReconnectFailed),
            _ => {}
        }
    }

    fn route(&mut self, nsp: &str, event: SocketEvent) {
        if let Some(r) = self.routes.get_mut(nsp) {
            r.backlog.push_back(event);
        }
    }

    /// Moves backlogged events into the sockets' channels while they have room; drops the
    /// events of a socket whose receiver is gone, and the routes left for good once empty.
    fn deliver_backlogs(&mut self) {
        for r in self.routes.values_mut() {
            while let Some(e) = r.backlog.pop_front() {
                match r.tx.try_send(e) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(e)) => {
                        r.backlog.push_front(e);
                        break;
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => r.backlog.clear(),
                }
            }
        }
        self.routes.retain(|_, r| !(r.left && r.backlog.is_empty()));
    }

    /// Hands the outbox to the pipe while its channel has room.
    fn flush_outbox(&mut self) {
        let Some(p) = &self.pipe else {
            // No connection: these were for one that is gone.
            self.outbox.clear();
            return;
        };
        while let Some(m) = self.outbox.pop_front() {
            match p.out.try_send(Out::Data(m)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(Out::Data(m))) => {
                    self.outbox.push_front(m);
                    return;
                }
                Err(_) => {
                    // The pipe stopped: its `inbox` reports the loss.
                    self.outbox.clear();
                    return;
                }
            }
        }
    }

    /// Refuses an emit or ack while the outbox is full.
    fn check_outbox(&self) -> Result<(), Error> {
        if self.outbox.len() >= self.max_outbox {
            return Err(Error::Emit(EmitError::TransmitQueueFull {
                limit: self.max_outbox,
            }));
        }
        Ok(())
    }

    fn client_event(&self, event: ClientEvent) {
        if self.client_events.try_send(event).is_err() {
            self.shared.dropped_events.fetch_add(1, Ordering::Relaxed);
        }
    }
}
