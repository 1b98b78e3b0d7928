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

mod broadcast;
mod config;
mod session;
mod socket;

use broadcast::deliver;
pub use broadcast::{Broadcast, Delivery};
pub use config::{Config, NamespacePredicate, REQUEST_DROPPED, SERVER_BUSY};
use session::*;
pub use socket::{AckError, AckFuture, AckResponder, Event, Socket};

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
