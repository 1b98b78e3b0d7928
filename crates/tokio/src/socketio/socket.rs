//! A connected Socket.IO socket as the application holds it: events, emits, acks, rooms.

use super::*;

/// One socket: a client joined to one namespace. Dropping it disconnects it from the
/// namespace (when still connected).
pub struct Socket {
    pub(super) session: Arc<Session>,
    pub(super) nsp: String,
    pub(super) id: String,
    pub(super) auth: Auth,
    pub(super) rx: mpsc::Receiver<Event>,
    pub(super) reason: Arc<OnceLock<DisconnectReason>>,
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
    pub(super) packet: Packet,
    pub(super) ack: Option<AckResponder>,
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
    pub(super) session: Arc<Session>,
    pub(super) nsp: String,
    pub(super) id: u64,
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
pub struct AckFuture(pub(super) oneshot::Receiver<Result<Packet, AckError>>);

impl Future for AckFuture {
    type Output = Result<Packet, AckError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(AckError::Disconnected)))
    }
}

// ---- broadcasts --------------------------------------------------------------------------
