//! One Engine.io session's Socket.IO connection: its driver task, and the state the
//! endpoint shares with it.

use super::*;

/// An [`Auth`] as socket.io's `handshake.auth` holds it: the `CONNECT` object (revision 5),
/// or `{}` (revision 4 carries its namespace auth in the query, which socket.io 2 merges
/// into `handshake.query`).
pub(super) fn auth_value(auth: &Auth) -> Value {
    match auth {
        Auth::Object(m) => Value::Object(m.clone()),
        _ => Value::Object(Map::new()),
    }
}

/// A socket as the registry sees it.
pub(super) struct Target {
    pub(super) session: Weak<Session>,
    pub(super) version: ProtocolVersion,
    /// The socket's auth as socket.io's `handshake.auth` holds it (for `fetchSockets`
    /// answers to other nodes).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(super) auth: Value,
}

/// One namespace's rooms and sockets.
#[derive(Default)]
pub(super) struct Nsp {
    pub(super) rooms: server::Rooms,
    pub(super) sockets: HashMap<String, Target>,
}

/// Lock order: a session's state, then the registry; never the other way round.
pub(super) struct Shared {
    pub(super) config: Config,
    pub(super) registry: Mutex<HashMap<String, Nsp>>,
    pub(super) requests: mpsc::Sender<ConnectRequest>,
    pub(super) eio_incoming: Mutex<Option<engineio::Incoming>>,
    pub(super) started: AtomicBool,
    pub(super) clock: crate::clock::Clock,
    pub(super) ids: (std::collections::hash_map::RandomState, AtomicU64),
    /// The Redis fleet this endpoint is a node of, once attached.
    #[cfg(feature = "redis")]
    pub(super) cluster: OnceLock<Arc<cluster::Link>>,
}

impl Shared {
    pub(super) fn now(&self) -> EioInstant {
        self.clock.now()
    }

    pub(super) fn registry(&self) -> MutexGuard<'_, HashMap<String, Nsp>> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A revision 5 socket id: 15 bytes of a randomly keyed SipHash of a counter (socket.io 4
    /// draws random ids too: the Engine.io id is "sensitive information").
    pub(super) fn new_id(&self) -> String {
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
pub(super) struct Slot {
    pub(super) id: String,
    pub(super) tx: mpsc::Sender<Event>,
    pub(super) reason: Arc<OnceLock<DisconnectReason>>,
    /// The auth the socket was accepted with, as a value.
    pub(super) auth: Value,
}

pub(super) struct State {
    pub(super) conn: Connection,
    pub(super) slots: HashMap<String, Slot>,
    pub(super) acks: HashMap<(String, u64), oneshot::Sender<Result<Packet, AckError>>>,
    pub(super) close: bool,
}

/// One Engine.io session's Socket.IO side.
pub(super) struct Session {
    pub(super) shared: Arc<Shared>,
    pub(super) eio_sid: String,
    pub(super) query: String,
    /// When the session opened, in milliseconds since the epoch (socket.io's
    /// `handshake.issued`).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(super) issued_ms: u64,
    pub(super) version: ProtocolVersion,
    pub(super) state: Mutex<State>,
    /// Wakes the driver: output queued, or a deadline moved.
    pub(super) wake: Notify,
}

impl Session {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the connection's events to the application, then wakes the driver.
    pub(super) fn pump(self: &Arc<Self>, st: &mut State) {
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
pub(super) async fn drive(shared: Arc<Shared>, mut eio: engineio::Socket) {
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
pub(super) async fn acceptor(shared: Weak<Shared>, mut incoming: engineio::Incoming) {
    while let Some(socket) = incoming.accept().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        tokio::spawn(drive(shared, socket));
    }
}

// ---- the endpoint ------------------------------------------------------------------------
