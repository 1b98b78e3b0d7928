//! Broadcasts to the sockets of a namespace, its rooms, and the other nodes.

use super::*;

/// A broadcast being built: which sockets of a namespace it reaches.
#[derive(Clone)]
pub struct Broadcast {
    pub(super) shared: Arc<Shared>,
    pub(super) nsp: String,
    pub(super) opts: BroadcastOptions,
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

    pub(super) fn targets(&self) -> Vec<(Weak<Session>, ProtocolVersion)> {
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
pub(super) fn deliver(
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
