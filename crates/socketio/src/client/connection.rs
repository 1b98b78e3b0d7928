//! [`Connection`]: socket.io-client's `Manager` and its `Socket`s over one Engine.io
//! connection, without I/O and without a clock.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use pushwire_engineio::{Instant, PacketData};

use super::backoff::{Backoff, Rng, SplitMix64};
use super::config::Config;
use super::error::{ConnectError, EmitError};
use super::event::{DisconnectReason, Event, TransportAction};
use crate::decoder::Decoder;
use crate::packet::Packet;

use crate::value::Value;
use crate::version::ProtocolVersion;

/// Where a joined namespace stands.
#[derive(Debug, Clone, PartialEq)]
enum NsState {
    /// Its `CONNECT` goes out when the Engine.io connection opens.
    Pending,
    /// Its `CONNECT` was sent (revision 4 `/`: the server's implicit `CONNECT` is awaited).
    Connecting,
    /// The server accepted it.
    Connected { sid: String },
}

/// A namespace the application joined (socket.io-client's `Socket`).
#[derive(Debug)]
struct Namespace {
    nsp: String,
    /// Revision 5: the `CONNECT` payload.
    auth: Option<Value>,
    /// Revision 4: the query string appended to the namespace of the `CONNECT`.
    query: Option<String>,
    state: NsState,
    /// The next ack id ("this.ids++", per `Socket`).
    ids: u64,
    /// Awaited ack ids and their deadlines.
    acks: BTreeMap<u64, Option<Instant>>,
    /// Emits waiting for the namespace to connect (`sendBuffer`).
    send_buffer: VecDeque<Packet>,
}

/// The Engine.io connection, as the `Manager`'s `_readyState` and timers see it.
#[derive(Debug)]
enum Transport {
    /// None, and none wanted: before the first `connect`, after `close`, after giving up.
    Idle,
    /// [`TransportAction::Open`] was asked for.
    Opening { deadline: Option<Instant> },
    /// Open with this Engine.io sid.
    Open {
        eio_sid: String,
        /// Revision 4: the server's implicit `CONNECT` for `/` arrived.
        root_connected: bool,
    },
    /// Waiting for the reconnection delay to pass.
    Waiting { until: Instant },
}

/// A Socket.IO client over one Engine.io connection: several namespaces, acks both ways,
/// reconnection with backoff, a bounded send buffer. This is socket.io-client's `Manager`
/// together with its `Socket`s.
///
/// The I/O layer owns the Engine.io client (pushwire-engineio's, or any) and reports to this
/// one what happens to it; the application joins namespaces, emits and answers. See the
/// [module documentation](super) for the call order.
///
/// Handlers (`handle_*`) take `now`; pollers (`poll_*`) may be called any time and return
/// `None` when there is nothing; extra calls are harmless.
#[derive(Debug)]
pub struct Connection<R = SplitMix64> {
    config: Config,
    version: ProtocolVersion,
    decoder: Decoder,
    transport: Transport,
    /// The `Manager`'s `_reconnecting`: from scheduling a reconnection until its attempt
    /// opens or the attempts run out.
    reconnecting: bool,
    backoff: Backoff<R>,
    namespaces: Vec<Namespace>,
    transmit: VecDeque<PacketData>,
    actions: VecDeque<TransportAction>,
    events: VecDeque<Event>,
    pending_acks: usize,
    buffered: usize,
}

impl Connection<SplitMix64> {
    /// A client speaking `version`, its jitter drawn from [`SplitMix64`] seeded with `seed`
    /// (give each client a different seed, e.g. from the OS's randomness). Nothing happens
    /// until [`Connection::connect`].
    #[must_use]
    pub fn new(config: Config, version: ProtocolVersion, seed: u64) -> Self {
        Self::with_rng(config, version, SplitMix64::new(seed))
    }
}

impl<R: Rng> Connection<R> {
    /// A client whose jitter comes from `rng`.
    #[must_use]
    pub fn with_rng(config: Config, version: ProtocolVersion, rng: R) -> Self {
        Connection {
            config,
            version,
            decoder: Decoder::new(version, config.limits),
            transport: Transport::Idle,
            reconnecting: false,
            backoff: Backoff::new(rng),
            namespaces: Vec::new(),
            transmit: VecDeque::new(),
            actions: VecDeque::new(),
            events: VecDeque::new(),
            pending_acks: 0,
            buffered: 0,
        }
    }

    // ---- getters ---------------------------------------------------------------------

    /// The protocol revision.
    #[must_use]
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether the Engine.io connection is open (as reported by
    /// [`Connection::handle_open`]).
    #[must_use]
    pub fn is_open(&self) -> bool {
        matches!(self.transport, Transport::Open { .. })
    }

    /// The socket id of a connected namespace (see [`Event::Connected`]).
    #[must_use]
    pub fn sid(&self, nsp: &str) -> Option<&str> {
        self.find(nsp)
            .and_then(|i| match &self.namespaces[i].state {
                NsState::Connected { sid } => Some(sid.as_str()),
                _ => None,
            })
    }

    /// The namespaces joined and not left, in the order they were joined.
    pub fn namespaces(&self) -> impl Iterator<Item = &str> {
        self.namespaces.iter().map(|n| n.nsp.as_str())
    }

    /// The failed attempts of the current reconnection (0 when none is under way).
    #[must_use]
    pub fn reconnect_attempts(&self) -> u32 {
        self.backoff.attempts
    }

    // ---- user calls ------------------------------------------------------------------

    /// Joins the namespace `nsp` (socket.io-client's `io.socket(nsp, { auth }).connect()`):
    /// its `CONNECT` goes out now if the Engine.io connection is open, else when it opens,
    /// and again after every reconnection, with `auth`: revision 5 the `CONNECT`'s payload
    /// (an object); revision 4 a query string appended to the namespace
    /// (`0/admin?token=1,`, socket.io-client 2's `parseqs.encode` of its `query` option).
    /// If no Engine.io connection exists or is under way, a [`TransportAction::Open`] is
    /// queued. Joining a namespace already joined changes nothing but that.
    ///
    /// Then: [`Connection::poll_transport`], [`Connection::poll_transmit`].
    ///
    /// # Errors
    /// A bad namespace or auth, or [`ConnectError::TransmitQueueFull`]; nothing changed.
    pub fn connect(
        &mut self,
        now: Instant,
        nsp: &str,
        auth: Option<Value>,
    ) -> Result<(), ConnectError> {
        let mut query = None;
        match self.version {
            ProtocolVersion::V5 => {
                Packet::connect(self.version, nsp, auth.as_ref())?;
            }
            ProtocolVersion::V4 => {
                Packet::connect(self.version, nsp, None)?;
                if let Some(a) = &auth {
                    if nsp == "/" {
                        return Err(ConnectError::AuthOnImplicitNamespace);
                    }
                    let q = to_query(a)?;
                    let mut full = String::from(nsp);
                    full.push('?');
                    full.push_str(&q);
                    Packet::connect(self.version, &full, None)?;
                    query = Some(q);
                }
            }
        }
        if self.find(nsp).is_none() {
            // Joining while open queues a CONNECT: refused when the queue is full, or an
            // application that joins and leaves without draining grows it without bound.
            if self.is_open() && self.transmit.len() >= self.config.max_transmit_queue {
                return Err(ConnectError::TransmitQueueFull {
                    limit: self.config.max_transmit_queue,
                });
            }
            self.namespaces.push(Namespace {
                nsp: nsp.into(),
                auth: if self.version == ProtocolVersion::V5 {
                    auth
                } else {
                    None
                },
                query,
                state: NsState::Pending,
                ids: 0,
                acks: BTreeMap::new(),
                send_buffer: VecDeque::new(),
            });
            if self.is_open() {
                self.send_connect(self.namespaces.len() - 1);
            }
        }
        // Socket.connect: "if (!this.io._reconnecting) this.io.open(); // ensure open".
        if matches!(self.transport, Transport::Idle) {
            self.reconnecting = false;
            self.start_open(now);
        }
        Ok(())
    }

    /// Emits event `name` with `args` on `nsp`, without asking for an ack. Sent now if the
    /// namespace is connected, else held in the send buffer and sent once it is (after a
    /// reconnection too), as socket.io-client's `sendBuffer` does in both versions.
    ///
    /// Then: [`Connection::poll_transmit`].
    ///
    /// # Errors
    /// [`EmitError`]; nothing was queued.
    pub fn emit(
        &mut self,
        now: Instant,
        nsp: &str,
        name: &str,
        args: &[Value],
    ) -> Result<(), EmitError> {
        self.emit_inner(now, nsp, name, args, None).map(|_| ())
    }

    /// Emits event `name` with `args` on `nsp` and asks for an ack: returns its id, which
    /// [`Event::Ack`] (the answer), [`Event::AckTimeout`] or [`Event::AckDropped`] will
    /// carry. Ids count from 0 per namespace ("packet.id = this.ids++"). `timeout`
    /// overrides [`Config::ack_timeout`] (socket.io-client 4's `socket.timeout(ms)`);
    /// `None` uses it.
    ///
    /// Then: [`Connection::poll_transmit`], [`Connection::poll_timeout`].
    ///
    /// # Errors
    /// [`EmitError`]; nothing was queued and no id was used.
    pub fn emit_with_ack(
        &mut self,
        now: Instant,
        nsp: &str,
        name: &str,
        args: &[Value],
        timeout: Option<Duration>,
    ) -> Result<u64, EmitError> {
        let timeout = timeout.or(self.config.ack_timeout);
        let id = self.emit_inner(now, nsp, name, args, Some(timeout))?;
        // emit_inner returns an id whenever it was asked for one.
        Ok(id.unwrap_or_default())
    }

    fn emit_inner(
        &mut self,
        now: Instant,
        nsp: &str,
        name: &str,
        args: &[Value],
        ack: Option<Option<Duration>>,
    ) -> Result<Option<u64>, EmitError> {
        let i = self
            .find(nsp)
            .ok_or_else(|| EmitError::NotJoined(nsp.into()))?;
        let mut packet = Packet::event(self.version, nsp, name, args)?;
        if ack.is_some() && self.pending_acks >= self.config.max_pending_acks {
            return Err(EmitError::TooManyPendingAcks {
                limit: self.config.max_pending_acks,
            });
        }
        let connected = matches!(self.namespaces[i].state, NsState::Connected { .. });
        if connected {
            self.check_room(&packet)?;
        } else if self.buffered >= self.config.max_send_buffer {
            return Err(EmitError::SendBufferFull {
                limit: self.config.max_send_buffer,
            });
        }
        let ns = &mut self.namespaces[i];
        let mut id = None;
        if let Some(timeout) = ack {
            let n = ns.ids;
            ns.ids = ns.ids.wrapping_add(1);
            ns.acks.insert(n, timeout.map(|t| now + t));
            self.pending_acks += 1;
            packet.set_id(Some(n));
            id = Some(n);
        }
        if connected {
            self.push_packet(packet);
        } else {
            ns.send_buffer.push_back(packet);
            self.buffered += 1;
        }
        Ok(id)
    }

    /// Answers the server's event `id` on `nsp` with `args` (binary makes it a
    /// `BINARY_ACK`): the ack function socket.io-client passes to a listener. Answer each id
    /// once; the server ignores a second answer.
    ///
    /// Then: [`Connection::poll_transmit`].
    ///
    /// # Errors
    /// The namespace is not joined or not connected (the id belongs to the server of the
    /// current connection), the queue is full, or a bad namespace.
    pub fn ack(&mut self, nsp: &str, id: u64, args: &[Value]) -> Result<(), EmitError> {
        let i = self
            .find(nsp)
            .ok_or_else(|| EmitError::NotJoined(nsp.into()))?;
        if !matches!(self.namespaces[i].state, NsState::Connected { .. }) {
            return Err(EmitError::NotConnected(nsp.into()));
        }
        let packet = Packet::ack(nsp, id, args)?;
        self.check_room(&packet)?;
        self.push_packet(packet);
        Ok(())
    }

    /// Leaves `nsp` (socket.io-client's `socket.disconnect()`): a `DISCONNECT` if it is
    /// connected and [`Event::Disconnected`] with "io client disconnect"; its send buffer
    /// and awaited acks go ([`Event::AckDropped`]). It is not joined again on reconnection.
    /// When it was the last namespace, the Engine.io connection closes
    /// ([`TransportAction::Close`]), as the `Manager` does ("socket %s is still active,
    /// skipping close" otherwise). Returns whether it was joined.
    ///
    /// Then: [`Connection::poll_transmit`], [`Connection::poll_transport`],
    /// [`Connection::poll_event`].
    pub fn disconnect(&mut self, nsp: &str) -> bool {
        let Some(i) = self.find(nsp) else {
            return false;
        };
        self.leave(i, DisconnectReason::IoClientDisconnect, true);
        if self.namespaces.is_empty() {
            self.close_transport();
        }
        true
    }

    /// Leaves every namespace ([`Connection::disconnect`]) and closes the Engine.io
    /// connection; no reconnection follows. A later [`Connection::connect`] starts again.
    ///
    /// Then: [`Connection::poll_transmit`], [`Connection::poll_transport`],
    /// [`Connection::poll_event`].
    pub fn close(&mut self) {
        while !self.namespaces.is_empty() {
            self.leave(0, DisconnectReason::IoClientDisconnect, true);
        }
        self.close_transport();
    }

    // ---- handlers --------------------------------------------------------------------

    /// The Engine.io connection asked for by [`TransportAction::Open`] is open; `eio_sid`
    /// is its handshake's `sid`. Sends the `CONNECT` of every joined namespace: revision 5
    /// every one, with its auth ("the client MUST send a `CONNECT` packet"); revision 4 all
    /// but `/` ("The server always send a `CONNECT` packet for the default namespace (`/`)
    /// when the connection is established"). After a reconnection, [`Event::Reconnected`]
    /// and the backoff starts again. Messages still queued for an earlier Engine.io
    /// connection (not drained before its [`TransportAction::Close`]) are dropped. Ignored
    /// when no open was asked for.
    ///
    /// Then: [`Connection::poll_transmit`], [`Connection::poll_event`].
    pub fn handle_open(&mut self, now: Instant, eio_sid: &str) {
        let _ = now;
        if !matches!(self.transport, Transport::Opening { .. }) {
            return;
        }
        self.transport = Transport::Open {
            eio_sid: eio_sid.into(),
            root_connected: false,
        };
        self.decoder = Decoder::new(self.version, self.config.limits);
        // What is still queued was meant for an earlier Engine.io connection (to be sent
        // before its `TransportAction::Close`): on this one it would be out of place (a
        // `DISCONNECT` or an ack the new server never asked for), and keeping it would let
        // the queue grow by a few messages per connection without bound.
        self.transmit.clear();
        if self.reconnecting {
            // onreconnect: "const attempt = this.backoff.attempts; … this.backoff.reset();
            // this.emitReserved("reconnect", attempt)".
            self.events.push_back(Event::Reconnected {
                attempts: self.backoff.attempts,
            });
            self.reconnecting = false;
            self.backoff.reset();
        }
        for i in 0..self.namespaces.len() {
            self.send_connect(i);
        }
    }

    /// The Engine.io connection asked for did not open (a network or handshake error):
    /// [`Event::OpenError`], and a reconnection is scheduled per the policy.
    ///
    /// Then: [`Connection::poll_event`], [`Connection::poll_timeout`].
    pub fn handle_open_error(&mut self, now: Instant) {
        if matches!(self.transport, Transport::Opening { .. }) {
            self.open_failed(now);
        }
    }

    /// One Engine.io `message` from the server. A complete packet becomes an [`Event`];
    /// one the decoder refuses closes the connection ([`TransportAction::Close`], every
    /// connected namespace [`Event::Disconnected`] with "parse error") and schedules a
    /// reconnection, as socket.io-client 4 does ("this.onclose("parse error", e)"; 2.x has
    /// no such path: its decoder turns the error into an `error` packet). Ignored when the
    /// connection is not open.
    ///
    /// Then: [`Connection::poll_event`], [`Connection::poll_transmit`],
    /// [`Connection::poll_transport`].
    pub fn handle_message(&mut self, now: Instant, message: PacketData) {
        if !self.is_open() {
            return;
        }
        match self.decoder.push(message) {
            Ok(None) => {}
            Ok(Some(packet)) => self.on_packet(packet),
            Err(e) => {
                self.events.push_back(Event::ParseError(e));
                self.actions.push_back(TransportAction::Close);
                self.lose_transport(now, DisconnectReason::ParseError);
            }
        }
    }

    /// The Engine.io connection was lost (closed by the server, a ping timeout, a network
    /// error): every connected namespace gets [`Event::Disconnected`] with "transport
    /// close", acks of sent events are dropped ([`Event::AckDropped`]; emits still in the
    /// send buffer keep theirs), and a reconnection is scheduled. Do not call it for a close
    /// asked by [`TransportAction::Close`]. While opening, the same as
    /// [`Connection::handle_open_error`].
    ///
    /// Then: [`Connection::poll_event`], [`Connection::poll_timeout`].
    pub fn handle_closed(&mut self, now: Instant) {
        match self.transport {
            Transport::Open { .. } => self.lose_transport(now, DisconnectReason::TransportClose),
            Transport::Opening { .. } => self.open_failed(now),
            _ => {}
        }
    }

    /// Time passed: a reconnection that is due ([`Event::ReconnectAttempt`],
    /// [`TransportAction::Open`]), an open that took longer than [`Config::timeout`]
    /// ([`TransportAction::Close`], [`Event::OpenError`], the next reconnection), acks past
    /// their timeout ([`Event::AckTimeout`]). Call it at [`Connection::poll_timeout`];
    /// early calls do nothing.
    ///
    /// Then: [`Connection::poll_transport`], [`Connection::poll_event`].
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.transport {
            Transport::Waiting { until } if now >= until => {
                // "this.emitReserved("reconnect_attempt", self.backoff.attempts); …
                // self.open(…)".
                self.events.push_back(Event::ReconnectAttempt {
                    attempt: self.backoff.attempts,
                });
                self.start_open(now);
            }
            Transport::Opening {
                deadline: Some(d), ..
            } if now >= d => {
                // "connect attempt timed out": "onError(new Error("timeout"));
                // socket.close()".
                self.actions.push_back(TransportAction::Close);
                self.open_failed(now);
            }
            _ => {}
        }
        for ns in &mut self.namespaces {
            let expired: Vec<u64> = ns
                .acks
                .iter()
                .filter(|(_, d)| d.is_some_and(|d| now >= d))
                .map(|(id, _)| *id)
                .collect();
            for id in expired {
                ns.acks.remove(&id);
                self.pending_acks -= 1;
                // "delete this.acks[id]; for (…) if (this.sendBuffer[i].id === id)
                // this.sendBuffer.splice(i, 1)".
                let before = ns.send_buffer.len();
                ns.send_buffer.retain(|p| p.id() != Some(id));
                self.buffered -= before - ns.send_buffer.len();
                self.events.push_back(Event::AckTimeout {
                    nsp: ns.nsp.clone(),
                    id,
                });
            }
        }
    }

    // ---- pollers ---------------------------------------------------------------------

    /// The next Engine.io message to send (a packet's text, then each of its attachments),
    /// in order. Drain it before acting on [`Connection::poll_transport`], so that a
    /// `DISCONNECT` goes out before a [`TransportAction::Close`].
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<PacketData> {
        self.transmit.pop_front()
    }

    /// What to do with the Engine.io connection, in order.
    #[must_use]
    pub fn poll_transport(&mut self) -> Option<TransportAction> {
        self.actions.pop_front()
    }

    /// The next event, in order. Events wait here until polled: drain them after every
    /// call (each call adds a bounded number: one per namespace or awaited ack at most).
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When to call [`Connection::handle_timeout`]: the reconnection delay's end, the open
    /// timeout, or the earliest ack deadline.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let transport = match self.transport {
            Transport::Waiting { until } => Some(until),
            Transport::Opening { deadline } => deadline,
            _ => None,
        };
        let acks = self
            .namespaces
            .iter()
            .flat_map(|ns| ns.acks.values().filter_map(|d| *d))
            .min();
        match (transport, acks) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

mod lifecycle;
mod query;

use query::to_query;
