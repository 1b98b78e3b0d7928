//! The state every handle of an endpoint shares: the sans-IO server behind one mutex, the
//! sessions' owners, the wake-ups, and the heartbeat timer task.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use pushwire_engineio::server::{self, sid_from_bytes, Event, Server};
use pushwire_engineio::Instant as EioInstant;
use tokio::sync::{mpsc, Notify};

use super::{CloseReason, Config, PacketData, ProtocolVersion, SendError, Socket};

pub(super) type Sids = Box<dyn FnMut() -> String + Send>;

/// Session ids: 15 bytes from a per-endpoint randomly keyed SipHash of a counter (the std
/// library's `RandomState` is seeded from the OS), so they are unique and not guessable.
pub(super) fn sid_source() -> Sids {
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
pub(super) struct Member {
    pub(super) tx: mpsc::Sender<PacketData>,
    pub(super) reason: Arc<OnceLock<CloseReason>>,
}

/// Synchronous handling of received messages, for applications that need it done before
/// the request that carried the message is answered (a chat whose fan-out must be queued
/// before the sender's POST returns, say). See [`EngineIo::with_handler`](super::EngineIo::with_handler).
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
    /// [`EngineIo::broadcast`](super::EngineIo::broadcast)).
    pub fn broadcast(&mut self, data: &PacketData) -> usize {
        self.server.broadcast(data)
    }
}

pub(super) struct Inner {
    pub(super) server: Server<Sids>,
    pub(super) handler: Option<Box<dyn Handler>>,
    pub(super) members: HashMap<String, Member>,
    /// The websocket tasks, by sid, to wake when their session has output.
    pub(super) ws: HashMap<String, Arc<Notify>>,
    /// The held long-poll GETs, by sid (at most one per session: the server refuses a
    /// second), to wake when their session has output.
    pub(super) polls: HashMap<String, Arc<Notify>>,
    pub(super) accept: mpsc::Sender<Socket>,
    /// The query of the request being handled, for the session it may open.
    pub(super) query: Option<String>,
}

pub(super) struct Shared {
    pub(super) inner: Mutex<Inner>,
    /// Wakes the timer task (a deadline may have moved, or the endpoint is gone).
    pub(super) timer: Arc<Notify>,
    pub(super) timer_started: AtomicBool,
    pub(super) clock: crate::clock::Clock,
    pub(super) config: Config,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.timer.notify_one();
    }
}

impl Shared {
    pub(super) fn now(&self) -> EioInstant {
        self.clock.now()
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the server's events to the sockets, then wakes every held poll, every
    /// websocket task and the timer: after a change that may concern any session (a
    /// broadcast, closing them all).
    pub(super) fn pump(self: &Arc<Self>, inner: &mut Inner) {
        let _ = self.take_events(inner);
        Self::wake_all(inner);
        self.timer.notify_one();
    }

    /// Wakes the transport of session `sid`: its websocket task or its held poll. Both
    /// hold a permit when not waiting, so a wake-up given before they wait is not lost.
    fn wake(inner: &Inner, sid: &str) {
        if let Some(wake) = inner.ws.get(sid) {
            wake.notify_one();
        }
        if let Some(wake) = inner.polls.get(sid) {
            wake.notify_one();
        }
    }

    fn wake_all(inner: &Inner) {
        for wake in inner.ws.values().chain(inner.polls.values()) {
            wake.notify_one();
        }
    }

    /// [`Shared::pump`] after a change that can only have given output to session `sid`
    /// (a message queued for it, its own request or websocket message handled, its close):
    /// wakes its transport alone (websocket task or held poll), and the timer task only
    /// when `timer` (a deadline may have come earlier: a new session, an upgrade probe, a
    /// close). Waking every websocket task after each send made a broadcast to `n`
    /// websocket sessions cost `n²` wake-ups, each taking this lock (measured: 941 µs per
    /// receipt at 10,000 sockets, 44 µs at 1,000); held polls were woken all at once the
    /// same way until the per-session `polls` map.
    pub(super) fn pump_for(self: &Arc<Self>, inner: &mut Inner, sid: Option<&str>, timer: bool) {
        self.pump_sessions(inner, sid);
        if timer {
            self.timer.notify_one();
        }
    }

    /// Takes the events, then wakes the transports of `sids` (the sessions a change
    /// concerns) — or of every session after a [`Handler`] ran: a message handed to it may
    /// have queued output for any session (the demo's chat sends each message to everybody).
    fn pump_sessions<'a>(
        self: &Arc<Self>,
        inner: &mut Inner,
        sids: impl IntoIterator<Item = &'a str>,
    ) {
        if self.take_events(inner) {
            Self::wake_all(inner);
        } else {
            for sid in sids {
                Self::wake(inner, sid);
            }
        }
    }

    /// Closes session `sid` for the application at once: a [`Socket`] closed by its owner
    /// (or by [`super::EngineIo::close_all`]) ends its `recv` after the messages already
    /// received, with [`CloseReason::ForcedClose`], even while the session still waits to
    /// hand the client its `close` packet (a polling client between two GETs: up to the
    /// next GET, or `close_timeout`, 30 s by default, as engine.io waits).
    pub(super) fn forget(inner: &mut Inner, sid: &str) {
        if let Some(m) = inner.members.remove(sid) {
            let _ = m.reason.set(CloseReason::ForcedClose);
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
pub(super) async fn timer(shared: Weak<Shared>, wake: Arc<Notify>) {
    loop {
        let woken = wake.notified();
        let deadline = {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let mut inner = shared.lock();
            let now = shared.now();
            if inner.server.poll_timeout().is_some_and(|t| t <= now) {
                // Only the sessions with a deadline due are visited, and only their
                // transports are woken (a ping queued, a close): not every session's.
                let due: Vec<String> = inner.server.due_sessions(now).map(String::from).collect();
                inner.server.handle_timeout(now);
                shared.pump_sessions(&mut inner, due.iter().map(String::as_str));
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
