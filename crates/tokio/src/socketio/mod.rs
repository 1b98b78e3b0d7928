//! A Socket.IO server on hyper (feature `socketio`): pushwire-socketio's sans-IO
//! [`server::Connection`] on this crate's Engine.io server ([`crate::engineio::EngineIo`]),
//! serving protocol revisions 4 (socket.io 2.x clients, over Engine.io 3) and 5 (socket.io
//! 3/4 clients, over Engine.io 4) at once. The revision of a connection is its Engine.io
//! session's (`EIO=3` → 4, `EIO=4` → 5). The client role is [`client`].
//!
//! # Call order
//!
//! 1. [`SocketIo::new`] with a [`Config`] (start from [`Config::new`]; say which namespaces
//!    exist with [`Config::with_namespace`] / [`Config::with_dynamic_namespaces`]): returns
//!    the endpoint (cheap to clone) and the [`Incoming`] queue of connect requests.
//! 2. Route every request under your Socket.IO path (`/socket.io/` by convention) to
//!    [`SocketIo::handle`], as for [`crate::engineio::EngineIo::handle`].
//! 3. Answer each [`ConnectRequest`] from [`Incoming::accept`] (read its namespace and
//!    [`Auth`]): [`ConnectRequest::accept`] gives the [`Socket`], [`ConnectRequest::refuse`]
//!    sends the client a `CONNECT_ERROR`. This is where socket.io's middlewares run; the
//!    answer may come later, from another task.
//! 4. [`Socket::recv`] the socket's events until `None` (it left the namespace, see
//!    [`Socket::disconnect_reason`]); [`Socket::emit`], [`Socket::emit_with_ack`],
//!    [`Socket::join`] / [`Socket::leave`] rooms, [`Socket::disconnect`]. Broadcast with
//!    [`SocketIo::of`] / [`Socket::to`] / [`Socket::broadcast`] → [`Broadcast::emit`].
//!
//! # What runs where
//!
//! One driver task per Engine.io session owns its sans-IO [`server::Connection`] (behind a
//! mutex that is never held across an `.await`, so [`Socket::emit`] and the answers to
//! connect requests are plain function calls): it feeds the session's messages to
//! [`server::Connection::handle_message`], moves [`server::Connection::poll_transmit`] to the
//! Engine.io session, sleeps until [`server::Connection::poll_timeout`] (ack and connect
//! timeouts), and reports the session's end with [`server::Connection::handle_closed`]. The
//! task that starts the drivers is spawned by the first [`SocketIo::handle`] call.
//!
//! Rooms live in one registry per endpoint: one [`server::Rooms`] per namespace. A broadcast
//! asks the namespace's [`server::Adapter`] for its targets, builds and encodes the packet
//! once per protocol revision among them (two at most), and queues the same encoded messages
//! to every target ([`server::Connection::send_encoded`]).
//!
//! # Bounds, and what happens when one is reached
//!
//! - **Connect requests**: at most [`Config::accept_queue`] wait for [`Incoming::accept`]; a
//!   request that finds the queue full is refused at once (`CONNECT_ERROR` "Server busy").
//!   Unknown namespaces never reach the queue: they are refused with "Invalid namespace",
//!   as socket.io does.
//! - **Events, per socket**: at most [`Config::event_queue`] wait for [`Socket::recv`]; a
//!   socket whose application falls that far behind is disconnected from its namespace
//!   (the client gets `DISCONNECT`; [`Socket::disconnect_reason`] says "server namespace
//!   disconnect") rather than buffered without bound.
//! - **Outgoing, per Engine.io session**: at most `server.max_queued_messages` Engine.io
//!   messages ([`Config::server`], default 10,000; a packet counts one plus one per binary
//!   attachment) wait for the driver to move them to the Engine.io session. Beyond it
//!   [`Socket::emit`] returns [`SendError::OutputFull`] and queues nothing, and a broadcast
//!   **skips** that target (counted in [`Delivery::skipped`]): a broadcast never waits on a
//!   slow client. Behind it, the Engine.io session holds at most `max_buffered_packets` and
//!   `max_buffered_bytes` ([`crate::engineio::Config::engine`]) for a client that does not
//!   fetch them; a session that reaches either bound is closed (no packet is ever half
//!   sent).
//! - **Acks**: at most `server.max_pending_acks` (default 1,024) emits per socket wait for
//!   their ack ([`SendError::TooManyAcks`]); each waits at most its own timeout.
//! - **Namespaces per connection**: `server.max_namespaces` (default 64); a `CONNECT`
//!   beyond it closes the connection.
//! - **Rooms per socket**: [`server::Rooms::DEFAULT_MAX_ROOMS_PER_SOCKET`] (1,024, its own
//!   room included; [`Socket::join`] returns [`JoinError::TooManyRooms`]).
//! - Incoming Engine.io messages, POST bodies, websocket messages: the Engine.io bounds
//!   ([`crate::engineio`]).
//!
//! ```no_run
//! use pushwire_tokio::socketio::{Config, SocketIo, Value};
//!
//! # async fn run() {
//! let (io, mut incoming) = SocketIo::new(Config::new().with_namespace("/chat"));
//! // In the hyper service: `io.handle(req).await` for paths under /socket.io/.
//! # let _ = &io;
//! while let Some(request) = incoming.accept().await {
//!     let Ok(mut socket) = request.accept() else { continue };
//!     tokio::spawn(async move {
//!         while let Some(mut event) = socket.recv().await {
//!             let args = event.args().unwrap_or_default();
//!             if let Some(ack) = event.take_ack() {
//!                 let _ = ack.send(&args); // answer the client's ack
//!             } else {
//!                 let _ = socket.emit("echo", &args);
//!             }
//!         }
//!     });
//! }
//! # }
//! ```

pub mod client;
#[cfg(feature = "redis")]
pub mod cluster;

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use pushwire_engineio::server::sid_from_bytes;
use pushwire_engineio::Instant as EioInstant;
/// The sans-IO crate this module drives.
pub use pushwire_socketio;
use pushwire_socketio::server::{self, Adapter, Connection};
/// Types of the sans-IO crate in this module's API.
pub use pushwire_socketio::server::{
    Auth, BroadcastOptions, DisconnectReason, JoinError, SendError,
};
/// Types of the sans-IO crate in this module's API.
pub use pushwire_socketio::{BuildError, DecodeError, Map, Packet, ProtocolVersion, Value};
use tokio::sync::{mpsc, oneshot, Notify};

use crate::engineio::{self, Body, EngineIo};

/// The message of the `CONNECT_ERROR` sent when [`Config::accept_queue`] is full.
pub const SERVER_BUSY: &str = "Server busy";

/// The message of the `CONNECT_ERROR` sent for a [`ConnectRequest`] dropped unanswered.
pub const REQUEST_DROPPED: &str = "Connection refused";

/// Decides whether a namespace not listed in [`Config`] exists (socket.io's
/// `io.of(/^\/dyn-\d+$/)` or `io.of((name, auth, next) => …)`).
pub type NamespacePredicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Settings of a [`SocketIo`] endpoint. Start from [`Config::new`].
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// The Engine.io endpoint's settings. Default [`engineio::Config::DEFAULT`] (revisions 3
    /// and 4 both served).
    pub engineio: engineio::Config,
    /// The sans-IO connection's settings: connect timeout, decoding limits, namespaces per
    /// connection, pending acks, output queue. Default [`server::Config::DEFAULT`].
    pub server: server::Config,
    /// The namespaces that exist. Default `/` only (socket.io's main namespace).
    pub namespaces: BTreeSet<String>,
    /// Decides for namespaces not in [`Config::namespaces`]. Default none.
    pub dynamic: Option<NamespacePredicate>,
    /// Connect requests that may wait for [`Incoming::accept`]. Default 1,024; a request
    /// that finds the queue full is refused with [`SERVER_BUSY`].
    pub accept_queue: usize,
    /// Events that may wait for [`Socket::recv`], per socket. Default 1,024; a socket whose
    /// application lets more pile up is disconnected.
    pub event_queue: usize,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("engineio", &self.engineio)
            .field("server", &self.server)
            .field("namespaces", &self.namespaces)
            .field("dynamic", &self.dynamic.is_some())
            .field("accept_queue", &self.accept_queue)
            .field("event_queue", &self.event_queue)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// The defaults (see each field).
    #[must_use]
    pub fn new() -> Self {
        Self {
            engineio: engineio::Config::DEFAULT,
            server: server::Config::DEFAULT,
            namespaces: BTreeSet::from(["/".to_owned()]),
            dynamic: None,
            accept_queue: 1_024,
            event_queue: 1_024,
        }
    }

    /// Returns this config with [`Config::engineio`] set to `c`.
    #[must_use]
    pub fn with_engineio(mut self, c: engineio::Config) -> Self {
        self.engineio = c;
        self
    }

    /// Returns this config with [`Config::server`] set to `c`.
    #[must_use]
    pub fn with_server(mut self, c: server::Config) -> Self {
        self.server = c;
        self
    }

    /// Returns this config with namespace `nsp` added (socket.io's `io.of(nsp)`).
    #[must_use]
    pub fn with_namespace(mut self, nsp: impl Into<String>) -> Self {
        self.namespaces.insert(nsp.into());
        self
    }

    /// Returns this config with `f` deciding which other namespaces exist (socket.io's
    /// dynamic namespaces: `io.of(/^\/dyn-\d+$/)`).
    #[must_use]
    pub fn with_dynamic_namespaces(
        mut self,
        f: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.dynamic = Some(Arc::new(f));
        self
    }

    /// Returns this config with [`Config::accept_queue`] set to `n` (at least 1).
    #[must_use]
    pub fn with_accept_queue(mut self, n: usize) -> Self {
        self.accept_queue = n;
        self
    }

    /// Returns this config with [`Config::event_queue`] set to `n` (at least 1).
    #[must_use]
    pub fn with_event_queue(mut self, n: usize) -> Self {
        self.event_queue = n;
        self
    }

    /// Whether namespace `nsp` exists.
    #[must_use]
    pub fn has_namespace(&self, nsp: &str) -> bool {
        self.namespaces.contains(nsp) || self.dynamic.as_ref().is_some_and(|f| f(nsp))
    }
}

// ---- shared state ------------------------------------------------------------------------

/// An [`Auth`] as socket.io's `handshake.auth` holds it: the `CONNECT` object (revision 5),
/// or `{}` (revision 4 carries its namespace auth in the query, which socket.io 2 merges
/// into `handshake.query`).
fn auth_value(auth: &Auth) -> Value {
    match auth {
        Auth::Object(m) => Value::Object(m.clone()),
        _ => Value::Object(Map::new()),
    }
}

/// A socket as the registry sees it.
struct Target {
    session: Weak<Session>,
    version: ProtocolVersion,
    /// The socket's auth as socket.io's `handshake.auth` holds it (for `fetchSockets`
    /// answers to other nodes).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    auth: Value,
}

/// One namespace's rooms and sockets.
#[derive(Default)]
struct Nsp {
    rooms: server::Rooms,
    sockets: HashMap<String, Target>,
}

/// Lock order: a session's state, then the registry; never the other way round.
struct Shared {
    config: Config,
    registry: Mutex<HashMap<String, Nsp>>,
    requests: mpsc::Sender<ConnectRequest>,
    eio_incoming: Mutex<Option<engineio::Incoming>>,
    started: AtomicBool,
    clock: crate::clock::Clock,
    ids: (std::collections::hash_map::RandomState, AtomicU64),
    /// The Redis fleet this endpoint is a node of, once attached.
    #[cfg(feature = "redis")]
    cluster: OnceLock<Arc<cluster::Link>>,
}

impl Shared {
    fn now(&self) -> EioInstant {
        self.clock.now()
    }

    fn registry(&self) -> MutexGuard<'_, HashMap<String, Nsp>> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A revision 5 socket id: 15 bytes of a randomly keyed SipHash of a counter (socket.io 4
    /// draws random ids too: the Engine.io id is "sensitive information").
    fn new_id(&self) -> String {
        let n = self.ids.1.fetch_add(1, Ordering::Relaxed);
        let mut b = [0u8; 15];
        for (i, chunk) in b.chunks_mut(8).enumerate() {
            let mut h = self.ids.0.build_hasher();
            h.write_u64(n);
            h.write_usize(i);
            chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
        }
        sid_from_bytes(b)
    }
}

/// What a socket's application side shares with its driver.
struct Slot {
    id: String,
    tx: mpsc::Sender<Event>,
    reason: Arc<OnceLock<DisconnectReason>>,
    /// The auth the socket was accepted with, as a value.
    auth: Value,
}

struct State {
    conn: Connection,
    slots: HashMap<String, Slot>,
    acks: HashMap<(String, u64), oneshot::Sender<Result<Packet, AckError>>>,
    close: bool,
}

/// One Engine.io session's Socket.IO side.
struct Session {
    shared: Arc<Shared>,
    eio_sid: String,
    query: String,
    /// When the session opened, in milliseconds since the epoch (socket.io's
    /// `handshake.issued`).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    issued_ms: u64,
    version: ProtocolVersion,
    state: Mutex<State>,
    /// Wakes the driver: output queued, or a deadline moved.
    wake: Notify,
}

impl Session {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the connection's events to the application, then wakes the driver.
    fn pump(self: &Arc<Self>, st: &mut State) {
        let shared = &self.shared;
        while let Some(event) = st.conn.poll_event() {
            match event {
                server::Event::ConnectRequest { nsp, auth } => {
                    // socket.io 4 `_onconnect` → `server._checkNamespace`: an unknown name is
                    // refused with "Invalid namespace".
                    if !shared.config.has_namespace(&nsp) {
                        let _ = st.conn.refuse_invalid_namespace(&nsp);
                        continue;
                    }
                    let request = ConnectRequest {
                        session: Arc::clone(self),
                        nsp,
                        auth,
                        answered: false,
                    };
                    if let Err(e) = shared.requests.try_send(request) {
                        let mut request = match e {
                            mpsc::error::TrySendError::Full(r)
                            | mpsc::error::TrySendError::Closed(r) => r,
                        };
                        request.answered = true; // its Drop must not lock the session
                        let _ = st.conn.refuse(&request.nsp, SERVER_BUSY, None);
                    }
                }
                server::Event::Connected { nsp, socket_id } => {
                    let auth = st
                        .slots
                        .get(&nsp)
                        .map(|s| s.auth.clone())
                        .unwrap_or_default();
                    let mut reg = shared.registry();
                    #[cfg(feature = "redis")]
                    let fresh = (!reg.contains_key(&nsp)).then(|| nsp.clone());
                    let entry = reg.entry(nsp).or_default();
                    // socket.io `_onconnect`: "this.join(this.id)".
                    let _ = entry.rooms.add_socket(&socket_id);
                    entry.sockets.insert(
                        socket_id,
                        Target {
                            session: Arc::downgrade(self),
                            version: self.version,
                            auth,
                        },
                    );
                    drop(reg);
                    // A namespace's first socket (a dynamic namespace's, or a configured
                    // one's): the fleet hears of it from now on.
                    #[cfg(feature = "redis")]
                    if let (Some(nsp), Some(link)) = (fresh, shared.cluster.get()) {
                        link.add_namespace(&nsp);
                    }
                }
                server::Event::Event { nsp, packet } => {
                    let Some(slot) = st.slots.get(&nsp) else {
                        continue;
                    };
                    let ack = packet.id().map(|id| AckResponder {
                        session: Arc::clone(self),
                        nsp: nsp.clone(),
                        id,
                    });
                    if slot.tx.try_send(Event { packet, ack }).is_err() {
                        // The application is `event_queue` events behind (or dropped its
                        // socket): leave the namespace rather than buffer without bound.
                        let _ = st.conn.disconnect(&nsp);
                    }
                }
                server::Event::Ack { nsp, id, packet } => {
                    if let Some(tx) = st.acks.remove(&(nsp, id)) {
                        let _ = tx.send(Ok(packet));
                    }
                }
                server::Event::AckTimeout { nsp, id } => {
                    if let Some(tx) = st.acks.remove(&(nsp, id)) {
                        let _ = tx.send(Err(AckError::Timeout));
                    }
                }
                server::Event::Disconnected {
                    nsp,
                    socket_id,
                    reason,
                } => {
                    if let Some(slot) = st.slots.remove(&nsp) {
                        let _ = slot.reason.set(reason);
                    }
                    // Pending acks end with `AckError::Disconnected` (their sender dropped).
                    st.acks.retain(|(n, _), _| *n != nsp);
                    let mut reg = shared.registry();
                    if let Some(entry) = reg.get_mut(&nsp) {
                        entry.rooms.del_all(&socket_id);
                        entry.sockets.remove(&socket_id);
                        if entry.sockets.is_empty() {
                            reg.remove(&nsp);
                        }
                    }
                }
                server::Event::Close(_) => st.close = true,
                _ => {}
            }
        }
        self.wake.notify_one();
    }
}

/// Runs one Engine.io session's Socket.IO connection until the session ends.
async fn drive(shared: Arc<Shared>, mut eio: engineio::Socket) {
    let version = ProtocolVersion::from_engineio(eio.protocol());
    let now = shared.now();
    let session = Arc::new(Session {
        eio_sid: eio.sid().to_owned(),
        query: eio.query().to_owned(),
        issued_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        version,
        state: Mutex::new(State {
            conn: Connection::new(&shared.config.server, version, eio.sid(), now),
            slots: HashMap::new(),
            acks: HashMap::new(),
            close: false,
        }),
        wake: Notify::new(),
        shared,
    });
    session.pump(&mut session.lock());
    let mut close_sent = false;
    loop {
        let woken = session.wake.notified();
        let (out, close, deadline) = {
            let mut st = session.lock();
            let out: Vec<_> = std::iter::from_fn(|| st.conn.poll_transmit()).collect();
            let deadline = st.conn.poll_timeout();
            (out, st.close, deadline)
        };
        let mut failed = false;
        for message in out {
            // Refused only when the client lets `max_buffered_packets` or
            // `max_buffered_bytes` pile up, or the session is closing: close rather than send
            // the rest of a packet.
            if eio.send(message).is_err() {
                failed = true;
                break;
            }
        }
        if (close || failed) && !close_sent {
            close_sent = true;
            eio.close();
        }
        // A deadline too far to represent is never reached.
        let sleep = session.shared.clock.deadline(deadline);
        tokio::select! {
            m = eio.recv() => {
                let now = session.shared.now();
                let mut st = session.lock();
                match m {
                    Some(data) => st.conn.handle_message(now, data),
                    None => {
                        let reason = eio
                            .close_reason()
                            .map_or(DisconnectReason::TransportClose, Into::into);
                        st.conn.handle_closed(now, reason);
                        session.pump(&mut st);
                        break;
                    }
                }
                session.pump(&mut st);
            }
            () = woken => {}
            () = crate::clock::sleep_until(sleep) => {
                let now = session.shared.now();
                let mut st = session.lock();
                st.conn.handle_timeout(now);
                session.pump(&mut st);
            }
        }
    }
    let mut st = session.lock();
    st.slots.clear();
    st.acks.clear();
}

/// Starts a driver for each new Engine.io session, while the endpoint lives.
async fn acceptor(shared: Weak<Shared>, mut incoming: engineio::Incoming) {
    while let Some(socket) = incoming.accept().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        tokio::spawn(drive(shared, socket));
    }
}

// ---- the endpoint ------------------------------------------------------------------------

/// A Socket.IO endpoint (cheap to clone: all clones are the same endpoint).
#[derive(Clone)]
pub struct SocketIo {
    eio: EngineIo,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SocketIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIo")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl SocketIo {
    /// A new endpoint with `config`, and the queue of its connect requests. Serves nothing
    /// until requests are passed to [`SocketIo::handle`].
    #[must_use]
    pub fn new(config: Config) -> (SocketIo, Incoming) {
        let (eio, eio_incoming) = EngineIo::new(config.engineio.clone());
        let (requests, rx) = mpsc::channel(config.accept_queue.max(1));
        let shared = Arc::new(Shared {
            config,
            registry: Mutex::new(HashMap::new()),
            requests,
            eio_incoming: Mutex::new(Some(eio_incoming)),
            started: AtomicBool::new(false),
            clock: crate::clock::Clock::new(),
            ids: (
                std::collections::hash_map::RandomState::new(),
                AtomicU64::new(0),
            ),
            #[cfg(feature = "redis")]
            cluster: OnceLock::new(),
        });
        (SocketIo { eio, shared }, Incoming(rx))
    }

    /// The endpoint's settings.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The Engine.io endpoint underneath (for [`EngineIo::close_all`], session counts).
    #[must_use]
    pub fn engineio(&self) -> &EngineIo {
        &self.eio
    }

    /// Answers one request under the Socket.IO path (see [`EngineIo::handle`]). Call it from
    /// inside a tokio runtime.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: http_body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if !self.shared.started.swap(true, Ordering::AcqRel) {
            let incoming = self
                .shared
                .eio_incoming
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if let Some(incoming) = incoming {
                tokio::spawn(acceptor(Arc::downgrade(&self.shared), incoming));
            }
        }
        self.eio.handle(req).await
    }

    /// A broadcast to every socket of namespace `nsp` (socket.io's `io.of(nsp)`); narrow it
    /// with [`Broadcast::to`] and [`Broadcast::except`].
    #[must_use]
    pub fn of(&self, nsp: &str) -> Broadcast {
        Broadcast {
            shared: Arc::clone(&self.shared),
            nsp: nsp.to_owned(),
            opts: BroadcastOptions::new(),
        }
    }

    /// The socket ids of namespace `nsp` in any of `rooms` (all of them when `rooms` is
    /// empty), on this node.
    #[must_use]
    pub fn sockets(&self, nsp: &str, rooms: &[&str]) -> BTreeSet<String> {
        let rooms = rooms.iter().map(|r| (*r).to_owned()).collect();
        self.shared
            .registry()
            .get(nsp)
            .map(|n| n.rooms.sockets(&rooms))
            .unwrap_or_default()
    }
}

/// The connect requests of a [`SocketIo`], in arrival order.
#[derive(Debug)]
pub struct Incoming(mpsc::Receiver<ConnectRequest>);

impl Incoming {
    /// The next connect request. Cancel safe.
    pub async fn accept(&mut self) -> Option<ConnectRequest> {
        self.0.recv().await
    }
}

impl futures_core::Stream for Incoming {
    type Item = ConnectRequest;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ConnectRequest>> {
        self.0.poll_recv(cx)
    }
}

// ---- connect requests --------------------------------------------------------------------

/// A client asks to join a namespace: answer with [`ConnectRequest::accept`] or
/// [`ConnectRequest::refuse`]. Dropping it unanswered refuses it with [`REQUEST_DROPPED`].
pub struct ConnectRequest {
    session: Arc<Session>,
    nsp: String,
    auth: Auth,
    answered: bool,
}

impl std::fmt::Debug for ConnectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectRequest")
            .field("nsp", &self.nsp)
            .field("auth", &self.auth)
            .field("eio_sid", &self.session.eio_sid)
            .finish_non_exhaustive()
    }
}

impl ConnectRequest {
    /// The namespace (revision 4: without its query string, which is in [`Self::auth`]).
    #[must_use]
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The auth data: revision 5 the `CONNECT` payload, revision 4 the namespace's query.
    #[must_use]
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The connection's protocol revision.
    #[must_use]
    pub fn version(&self) -> ProtocolVersion {
        self.session.version
    }

    /// The query string of the HTTP request that opened the Engine.io session (undecoded,
    /// `EIO`, `transport` and `t` included): socket.io's `socket.handshake.query` before
    /// parsing. socket.io 2.x clients put their `query` option there.
    #[must_use]
    pub fn handshake_query(&self) -> &str {
        &self.session.query
    }

    /// The Engine.io session id.
    #[must_use]
    pub fn eio_sid(&self) -> &str {
        &self.session.eio_sid
    }

    /// Accepts: the client gets `CONNECT` (revision 5 with a fresh random socket id;
    /// revision 4 with socket.io 2.x's id, the Engine.io id for `/` and `/nsp#<eio id>`
    /// elsewhere), the socket joins its own room.
    ///
    /// # Errors
    /// [`SendError::Closed`] when the connection ended meanwhile;
    /// [`SendError::OutputFull`].
    pub fn accept(mut self) -> Result<Socket, SendError> {
        self.answered = true;
        let session = Arc::clone(&self.session);
        let mut st = session.lock();
        let id = match session.version {
            ProtocolVersion::V5 => Some(session.shared.new_id()),
            _ => None,
        };
        st.conn.accept(&self.nsp, id.as_deref())?;
        let id = st
            .conn
            .socket_id(&self.nsp)
            .ok_or(SendError::NotConnected)?
            .to_owned();
        let (tx, rx) = mpsc::channel(session.shared.config.event_queue.max(1));
        let reason = Arc::new(OnceLock::new());
        st.slots.insert(
            self.nsp.clone(),
            Slot {
                id: id.clone(),
                tx,
                reason: Arc::clone(&reason),
                auth: auth_value(&self.auth),
            },
        );
        session.pump(&mut st);
        drop(st);
        Ok(Socket {
            session: Arc::clone(&self.session),
            nsp: std::mem::take(&mut self.nsp),
            id,
            auth: std::mem::replace(&mut self.auth, Auth::None),
            rx,
            reason,
        })
    }

    /// Refuses: revision 5 sends `CONNECT_ERROR {"message": message, "data": data}`,
    /// revision 4 `ERROR` with `data` when given, else `message` (socket.io's
    /// `next(err)` in a middleware, `err.data` being `data`).
    ///
    /// # Errors
    /// [`SendError::Closed`], [`SendError::OutputFull`], [`SendError::Build`].
    pub fn refuse(mut self, message: &str, data: Option<Value>) -> Result<(), SendError> {
        self.answered = true;
        let mut st = self.session.lock();
        let r = st.conn.refuse(&self.nsp, message, data);
        self.session.pump(&mut st);
        r
    }
}

impl Drop for ConnectRequest {
    fn drop(&mut self) {
        if !self.answered {
            let mut st = self.session.lock();
            let _ = st.conn.refuse(&self.nsp, REQUEST_DROPPED, None);
            self.session.pump(&mut st);
        }
    }
}

// ---- sockets -----------------------------------------------------------------------------

/// One socket: a client joined to one namespace. Dropping it disconnects it from the
/// namespace (when still connected).
pub struct Socket {
    session: Arc<Session>,
    nsp: String,
    id: String,
    auth: Auth,
    rx: mpsc::Receiver<Event>,
    reason: Arc<OnceLock<DisconnectReason>>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("nsp", &self.nsp)
            .field("id", &self.id)
            .field("version", &self.session.version)
            .finish_non_exhaustive()
    }
}

impl Socket {
    /// The socket id (revision 5: random; revision 4: the Engine.io id for `/`,
    /// `/nsp#<eio id>` elsewhere).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The namespace.
    #[must_use]
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The auth data of the connect request (socket.io's `socket.handshake.auth`).
    #[must_use]
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The connection's protocol revision.
    #[must_use]
    pub fn version(&self) -> ProtocolVersion {
        self.session.version
    }

    /// The query string of the HTTP request that opened the Engine.io session (undecoded,
    /// `EIO`, `transport` and `t` included): socket.io's `socket.handshake.query` before
    /// parsing. socket.io 2.x clients put their `query` option there.
    #[must_use]
    pub fn handshake_query(&self) -> &str {
        &self.session.query
    }

    /// The Engine.io session id.
    #[must_use]
    pub fn eio_sid(&self) -> &str {
        &self.session.eio_sid
    }

    /// The next event from the client; `None` once the socket left the namespace (see
    /// [`Socket::disconnect_reason`]) and the events before were taken. Cancel safe.
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    /// Why the socket left the namespace, once it has.
    #[must_use]
    pub fn disconnect_reason(&self) -> Option<DisconnectReason> {
        self.reason.get().copied()
    }

    /// Emits event `name` with `args` to the client (queued without waiting).
    ///
    /// # Errors
    /// [`SendError::NotConnected`], [`SendError::OutputFull`] (nothing queued),
    /// [`SendError::Closed`], [`SendError::Build`] (a reserved name in revision 5).
    pub fn emit(&self, name: &str, args: &[Value]) -> Result<(), SendError> {
        let mut st = self.session.lock();
        let now = self.session.shared.now();
        let r = st.conn.emit(now, &self.nsp, name, args, None).map(|_| ());
        self.session.pump(&mut st);
        r
    }

    /// Emits event `name` with `args` asking the client for an ack; the returned [`AckFuture`]
    /// gives the client's answer, or [`AckError::Timeout`] after `timeout`
    /// (`Duration::MAX`: none). Dropping the future forgets the answer.
    ///
    /// # Errors
    /// As [`Socket::emit`], and [`SendError::TooManyAcks`].
    pub fn emit_with_ack(
        &self,
        name: &str,
        args: &[Value],
        timeout: Duration,
    ) -> Result<AckFuture, SendError> {
        let mut st = self.session.lock();
        let now = self.session.shared.now();
        let r = st.conn.emit(now, &self.nsp, name, args, Some(timeout));
        let out = match r {
            Ok(Some(id)) => {
                let (tx, rx) = oneshot::channel();
                st.acks.insert((self.nsp.clone(), id), tx);
                Ok(AckFuture(rx))
            }
            Ok(None) => Err(SendError::NotAnEvent),
            Err(e) => Err(e),
        };
        self.session.pump(&mut st);
        out
    }

    /// Joins `room` (socket.io's `socket.join`).
    ///
    /// # Errors
    /// [`JoinError::TooManyRooms`].
    pub fn join(&self, room: &str) -> Result<(), JoinError> {
        let mut reg = self.session.shared.registry();
        match reg.get_mut(&self.nsp) {
            Some(n) if n.sockets.contains_key(&self.id) => n.rooms.join(&self.id, room),
            _ => Ok(()), // disconnected: nothing to join
        }
    }

    /// Leaves `room` (socket.io's `socket.leave`).
    pub fn leave(&self, room: &str) {
        if let Some(n) = self.session.shared.registry().get_mut(&self.nsp) {
            n.rooms.leave(&self.id, room);
        }
    }

    /// The rooms the socket is in, its own included (socket.io's `socket.rooms`).
    #[must_use]
    pub fn rooms(&self) -> BTreeSet<String> {
        self.session
            .shared
            .registry()
            .get(&self.nsp)
            .and_then(|n| n.rooms.socket_rooms(&self.id))
            .unwrap_or_default()
    }

    /// A broadcast to the sockets of `room` in this namespace, this socket excepted
    /// (socket.io's `socket.to(room)`).
    #[must_use]
    pub fn to(&self, room: &str) -> Broadcast {
        self.broadcast().to(room)
    }

    /// A broadcast to every socket of this namespace but this one (socket.io's
    /// `socket.broadcast`).
    #[must_use]
    pub fn broadcast(&self) -> Broadcast {
        Broadcast {
            shared: Arc::clone(&self.session.shared),
            nsp: self.nsp.clone(),
            opts: BroadcastOptions::new().except(self.id.clone()),
        }
    }

    /// Disconnects the socket from its namespace (socket.io's `socket.disconnect()`): the
    /// client gets `DISCONNECT`; the Engine.io session and other namespaces stay.
    /// [`Socket::recv`] then returns the events received before, and `None`.
    ///
    /// # Errors
    /// [`SendError::NotConnected`] when it left already, [`SendError::Closed`].
    pub fn disconnect(&self) -> Result<(), SendError> {
        let mut st = self.session.lock();
        let r = if st.slots.get(&self.nsp).is_some_and(|s| s.id == self.id) {
            st.conn.disconnect(&self.nsp)
        } else {
            Err(SendError::NotConnected)
        };
        self.session.pump(&mut st);
        r
    }

    /// Closes the whole Engine.io session after a `DISCONNECT` for each namespace
    /// (socket.io's `socket.disconnect(true)`).
    pub fn close(&self) {
        let mut st = self.session.lock();
        st.conn.close();
        self.session.pump(&mut st);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if self.reason.get().is_none() {
            let _ = self.disconnect();
        }
    }
}

/// An event from the client.
#[derive(Debug)]
pub struct Event {
    packet: Packet,
    ack: Option<AckResponder>,
}

impl Event {
    /// The event's name (empty when the client sent none as a string).
    #[must_use]
    pub fn name(&self) -> &str {
        self.packet.event_name().unwrap_or("")
    }

    /// The arguments after the name, binary in place.
    ///
    /// # Errors
    /// Never for a packet decoded by pushwire-socketio (it checked the JSON).
    pub fn args(&self) -> Result<Vec<Value>, DecodeError> {
        self.packet.args()
    }

    /// The packet, for [`Packet::deserialize`] into your own types.
    #[must_use]
    pub fn packet(&self) -> &Packet {
        &self.packet
    }

    /// Whether the client asked for an ack.
    #[must_use]
    pub fn wants_ack(&self) -> bool {
        self.ack.is_some()
    }

    /// The ack responder when the client asked for one (taken once).
    pub fn take_ack(&mut self) -> Option<AckResponder> {
        self.ack.take()
    }
}

/// Answers a client's event that asked for an ack (its callback on the client side).
pub struct AckResponder {
    session: Arc<Session>,
    nsp: String,
    id: u64,
}

impl std::fmt::Debug for AckResponder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckResponder")
            .field("nsp", &self.nsp)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl AckResponder {
    /// The ack id the client chose.
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Sends the ack with `args` (`BINARY_ACK` when they hold binary).
    ///
    /// # Errors
    /// [`SendError::NotConnected`], [`SendError::OutputFull`], [`SendError::Closed`].
    pub fn send(self, args: &[Value]) -> Result<(), SendError> {
        let mut st = self.session.lock();
        let r = st.conn.ack(&self.nsp, self.id, args);
        self.session.pump(&mut st);
        r
    }
}

/// Why an [`AckFuture`] has no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// No answer within the timeout (socket.io: "operation has timed out").
    #[error("operation has timed out")]
    Timeout,
    /// The socket left its namespace before the answer.
    #[error("the socket disconnected before the ack")]
    Disconnected,
}

/// The client's answer to [`Socket::emit_with_ack`]: the ack packet ([`Packet::args`] reads
/// its arguments). Cancel safe.
#[derive(Debug)]
pub struct AckFuture(oneshot::Receiver<Result<Packet, AckError>>);

impl Future for AckFuture {
    type Output = Result<Packet, AckError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(AckError::Disconnected)))
    }
}

// ---- broadcasts --------------------------------------------------------------------------

/// A broadcast being built: which sockets of a namespace it reaches.
#[derive(Clone)]
pub struct Broadcast {
    shared: Arc<Shared>,
    nsp: String,
    opts: BroadcastOptions,
}

impl std::fmt::Debug for Broadcast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broadcast")
            .field("nsp", &self.nsp)
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

/// What a broadcast did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Delivery {
    /// Sockets it was queued to.
    pub sent: usize,
    /// Targets skipped because their connection's output queue was full
    /// (`server.max_queued_messages`), or they left meanwhile.
    pub skipped: usize,
}

impl Broadcast {
    /// Adds a target room (socket.io's `to(room)`): the sockets in any of the rooms.
    #[must_use]
    pub fn to(mut self, room: &str) -> Self {
        self.opts = self.opts.to(room);
        self
    }

    /// Leaves out the sockets of `room` (a socket id is a room).
    #[must_use]
    pub fn except(mut self, room: &str) -> Self {
        self.opts = self.opts.except(room);
        self
    }

    /// The targets' socket ids on this node (socket.io's `fetchSockets`, ids only).
    #[must_use]
    pub fn socket_ids(&self) -> Vec<String> {
        self.shared
            .registry()
            .get(&self.nsp)
            .map(|n| {
                n.rooms
                    .targets(&self.opts)
                    .into_iter()
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Disconnects every target from the namespace (socket.io's `disconnectSockets()`):
    /// each client gets `DISCONNECT`, each [`Socket::recv`] ends with "server namespace
    /// disconnect". Returns how many were disconnected.
    pub fn disconnect(&self) -> usize {
        let targets = self.targets();
        let mut n = 0;
        for (session, _) in targets {
            let Some(session) = session.upgrade() else {
                continue;
            };
            let mut st = session.lock();
            if st.conn.disconnect(&self.nsp).is_ok() {
                n += 1;
            }
            session.pump(&mut st);
        }
        n
    }

    fn targets(&self) -> Vec<(Weak<Session>, ProtocolVersion)> {
        let reg = self.shared.registry();
        let Some(n) = reg.get(&self.nsp) else {
            return Vec::new();
        };
        n.rooms
            .targets(&self.opts)
            .into_iter()
            .filter_map(|id| n.sockets.get(id))
            .map(|t| (t.session.clone(), t.version))
            .collect()
    }

    /// Only this node's sockets: a cluster does not publish the broadcast (socket.io's
    /// `io.local`).
    #[must_use]
    pub fn local(mut self) -> Self {
        self.opts.flags.local = true;
        self
    }

    /// Closes the connections of every target (socket.io's `disconnectSockets(true)`):
    /// each gets `DISCONNECT` for each of its namespaces, then its Engine.io session
    /// closes. Returns how many targets there were.
    pub fn close(&self) -> usize {
        let targets = self.targets();
        let n = targets.len();
        for (session, _) in targets {
            if let Some(session) = session.upgrade() {
                let mut st = session.lock();
                st.conn.close();
                session.pump(&mut st);
            }
        }
        n
    }

    /// Emits event `name` with `args` to every target of this node, asking each for an
    /// ack within `timeout`: one [`AckFuture`] per target the event was queued to
    /// (socket.io's `broadcastWithAck`, this node's part).
    pub fn emit_with_ack_each(
        &self,
        name: &str,
        args: &[Value],
        timeout: Duration,
    ) -> Vec<AckFuture> {
        let mut acks = Vec::new();
        for (session, _) in self.targets() {
            let Some(session) = session.upgrade() else {
                continue;
            };
            let mut st = session.lock();
            let now = session.shared.now();
            if let Ok(Some(id)) = st.conn.emit(now, &self.nsp, name, args, Some(timeout)) {
                let (tx, rx) = oneshot::channel();
                st.acks.insert((self.nsp.clone(), id), tx);
                acks.push(AckFuture(rx));
            }
            session.pump(&mut st);
        }
        acks
    }

    /// Emits event `name` with `args` to every target: the packet is encoded once per
    /// protocol revision and the same messages are queued to each target, without waiting
    /// (a target whose output queue is full is skipped and counted). With a cluster
    /// attached (feature `redis`), the broadcast is also published to the other nodes
    /// unless it is [`Broadcast::local`].
    ///
    /// # Errors
    /// [`BuildError`]: a bad namespace, or a reserved event name.
    pub fn emit(&self, name: &str, args: &[Value]) -> Result<Delivery, BuildError> {
        let delivery = deliver(&self.shared, &self.nsp, &self.opts, &|version| {
            Packet::event(version, &self.nsp, name, args)
        })?;
        #[cfg(feature = "redis")]
        if !self.opts.flags.local {
            if let Some(link) = self.shared.cluster.get() {
                link.publish_event(&self.nsp, &self.opts, name, args);
            }
        }
        Ok(delivery)
    }
}

/// Delivers a packet to the sockets of namespace `nsp` that `opts` selects on this node:
/// `build` makes it for each protocol revision present (once each; the revision 5 packet
/// first, so a bad packet reaches nobody), the same encoded messages are queued to each
/// target without waiting.
fn deliver(
    shared: &Arc<Shared>,
    nsp: &str,
    opts: &BroadcastOptions,
    build: &dyn Fn(ProtocolVersion) -> Result<Packet, BuildError>,
) -> Result<Delivery, BuildError> {
    let v5 = build(ProtocolVersion::V5)?;
    let mut targets: Vec<(Weak<Session>, ProtocolVersion)> = Vec::new();
    {
        let mut reg = shared.registry();
        if let Some(n) = reg.get_mut(nsp) {
            let Nsp { rooms, sockets } = n;
            rooms.broadcast(&v5, opts, &mut |id| {
                if let Some(t) = sockets.get(id) {
                    targets.push((t.session.clone(), t.version));
                }
            });
        }
    }
    let mut encoded: [Option<Vec<engineio::PacketData>>; 2] = [None, None];
    let mut delivery = Delivery::default();
    for (session, version) in targets {
        let Some(session) = session.upgrade() else {
            delivery.skipped += 1;
            continue;
        };
        let slot = usize::from(version == ProtocolVersion::V4);
        let messages = match &mut encoded[slot] {
            Some(m) => m,
            empty => {
                let p = if version == ProtocolVersion::V5 {
                    v5.clone()
                } else {
                    build(version)?
                };
                empty.insert(p.to_messages())
            }
        };
        let mut st = session.lock();
        match st.conn.send_encoded(nsp, messages) {
            Ok(()) => delivery.sent += 1,
            Err(_) => delivery.skipped += 1,
        }
        drop(st);
        session.wake.notify_one();
    }
    Ok(delivery)
}
