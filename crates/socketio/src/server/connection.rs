//! [`Connection`]: the Socket.IO server state of one Engine.io session (socket.io's
//! `Client` with its `Socket`s).

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use pushwire_engineio::{Instant, PacketData};

use crate::decoder::Decoder;
use crate::packet::Packet;
use crate::packet_type::PacketType;
use crate::value::{Map, Value};
use crate::version::ProtocolVersion;

use super::config::Config;
use super::error::SendError;
use super::event::{Auth, CloseReason, DisconnectReason, Event};

/// The message socket.io sends when the application refuses to create a namespace
/// (`client.js` `connect`: `data: { message: "Invalid namespace" }`; 2.x: `data: 'Invalid
/// namespace'`).
pub const INVALID_NAMESPACE: &str = "Invalid namespace";

/// One joined namespace.
#[derive(Debug)]
struct Socket {
    nsp: String,
    id: String,
    /// Names this socket in the ack deadline set (namespaces can be left and joined again).
    seq: u64,
    next_ack: u64,
    /// Emits awaiting an ack: id → deadline (`None`: no timeout).
    acks: BTreeMap<u64, Option<Instant>>,
}

/// The Socket.IO server side of one Engine.io session: its sockets (one per joined
/// namespace), their acks, and the connect rules of the session's revision.
///
/// Create one when an Engine.io session opens ([`pushwire_engineio::server::Event::Opened`])
/// with the session's revision ([`ProtocolVersion::from_engineio`]) and id.
///
/// # Call order
/// - Handlers: [`Connection::handle_message`] for each Engine.io message of the session,
///   in order; [`Connection::handle_timeout`] when [`Connection::poll_timeout`]'s instant
///   has come; [`Connection::handle_closed`] when the Engine.io session has ended.
/// - Mutators (the application): [`Connection::accept`] / [`Connection::refuse`] for each
///   [`Event::ConnectRequest`]; [`Connection::emit`], [`Connection::ack`],
///   [`Connection::send_encoded`], [`Connection::disconnect`], [`Connection::close`].
/// - Pollers, after every handler or mutator, until they return `None`:
///   [`Connection::poll_transmit`] (send each to the Engine.io session),
///   [`Connection::poll_event`], then [`Connection::poll_timeout`]. Extra calls are
///   harmless.
///
/// Nothing panics on any input. After [`Event::Close`] (or `handle_closed`), handlers do
/// nothing and mutators return [`SendError::Closed`].
///
/// ```
/// use pushwire_engineio::{Instant, PacketData};
/// use pushwire_socketio::server::{Config, Connection, Event};
/// use pushwire_socketio::ProtocolVersion;
///
/// let now = Instant::ZERO;
/// let mut c = Connection::new(&Config::DEFAULT, ProtocolVersion::V5, "eio-sid", now);
/// c.handle_message(now, PacketData::Text("0".into()));
/// assert!(matches!(c.poll_event(), Some(Event::ConnectRequest { .. })));
/// c.accept("/", Some("socket-1"))?;
/// assert_eq!(c.poll_transmit(), Some(PacketData::Text(r#"0{"sid":"socket-1"}"#.into())));
/// # Ok::<(), pushwire_socketio::server::SendError>(())
/// ```
#[derive(Debug)]
pub struct Connection {
    config: Config,
    version: ProtocolVersion,
    eio_sid: String,
    decoder: Decoder,
    sockets: Vec<Socket>,
    /// Namespaces whose [`Event::ConnectRequest`] waits for the application's answer.
    requests: Vec<String>,
    /// Revision 4: `CONNECT`s that arrived before `/` was joined.
    waiting: VecDeque<(String, Auth)>,
    transmit: VecDeque<PacketData>,
    events: VecDeque<Event>,
    connect_deadline: Option<Instant>,
    /// (deadline, socket seq, ack id), earliest first.
    ack_deadlines: BTreeSet<(Instant, u64, u64)>,
    next_seq: u64,
    closed: bool,
}

// ---- getters -----------------------------------------------------------------------------

impl Connection {
    /// A connection for a new Engine.io session `eio_sid` speaking `version`.
    ///
    /// Revision 4 queues [`Event::ConnectRequest`] for `/` at once: "The server always send
    /// a `CONNECT` packet for the default namespace (`/`) when the connection is
    /// established" (v4 spec; socket.io 4 calls `client.connect("/")` for `EIO=3`).
    #[must_use]
    pub fn new(config: &Config, version: ProtocolVersion, eio_sid: &str, now: Instant) -> Self {
        let mut c = Self {
            config: *config,
            version,
            eio_sid: eio_sid.into(),
            decoder: Decoder::new(version, config.limits),
            sockets: Vec::new(),
            requests: Vec::new(),
            waiting: VecDeque::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            connect_deadline: Some(now + config.connect_timeout),
            ack_deadlines: BTreeSet::new(),
            next_seq: 0,
            closed: false,
        };
        if version == ProtocolVersion::V4 {
            c.requests.push("/".into());
            c.events.push_back(Event::ConnectRequest {
                nsp: "/".into(),
                auth: Auth::None,
            });
        }
        c
    }

    /// The revision spoken.
    #[must_use]
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The Engine.io session id.
    #[must_use]
    pub fn eio_sid(&self) -> &str {
        &self.eio_sid
    }

    /// Whether the connection is closed (it reported [`Event::Close`], or the session ended).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The socket id joined to `nsp`.
    #[must_use]
    pub fn socket_id(&self, nsp: &str) -> Option<&str> {
        self.socket(nsp).map(|i| self.sockets[i].id.as_str())
    }

    /// The joined namespaces with their socket ids, in the order they were joined.
    pub fn sockets(&self) -> impl Iterator<Item = (&str, &str)> {
        self.sockets.iter().map(|s| (s.nsp.as_str(), s.id.as_str()))
    }

    /// How many emits on `nsp` wait for their ack.
    #[must_use]
    pub fn pending_acks(&self, nsp: &str) -> usize {
        self.socket(nsp).map_or(0, |i| self.sockets[i].acks.len())
    }

    fn socket(&self, nsp: &str) -> Option<usize> {
        self.sockets.iter().position(|s| s.nsp == nsp)
    }
}

// ---- handlers ----------------------------------------------------------------------------

impl Connection {
    /// Takes one Engine.io message of the session (the data of a `message` packet). Then
    /// poll events and messages to send.
    ///
    /// A malformed packet closes the connection ([`CloseReason::Decode`]); what was decoded
    /// before it has been reported already, in order.
    pub fn handle_message(&mut self, now: Instant, message: PacketData) {
        let _ = now;
        if self.closed {
            return;
        }
        match self.decoder.push(message) {
            Ok(None) => {}
            Ok(Some(p)) => self.on_packet(p),
            // socket.io `ondata`: "try/catch is needed for protocol violations (GH-1880)" →
            // `onerror` → `this.conn.close()`, whose sockets then see "forced close".
            Err(e) => self.fail(CloseReason::Decode(e), DisconnectReason::ForcedClose),
        }
    }

    /// Fires what is due at `now`: ack timeouts ([`Event::AckTimeout`]) and the connect
    /// timeout ([`CloseReason::ConnectTimeout`]). Calling early does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        while let Some(&(t, seq, id)) = self.ack_deadlines.first() {
            if t > now {
                break;
            }
            self.ack_deadlines.pop_first();
            if let Some(s) = self.sockets.iter_mut().find(|s| s.seq == seq) {
                s.acks.remove(&id);
                let nsp = s.nsp.clone();
                self.events.push_back(Event::AckTimeout { nsp, id });
            }
        }
        if self.connect_deadline.is_some_and(|d| d <= now) {
            self.connect_deadline = None;
            // socket.io 4 `client.js` `setup`: "if (this.nsps.size === 0) { debug("no
            // namespace joined yet, close the client"); this.close(); }".
            if self.sockets.is_empty() {
                self.fail(
                    CloseReason::ConnectTimeout,
                    DisconnectReason::ForcedServerClose,
                );
            }
        }
    }

    /// The Engine.io session has ended: every socket reports [`Event::Disconnected`] with
    /// `reason` (convert an Engine.io [`pushwire_engineio::server::CloseReason`] with
    /// `.into()`). No [`Event::Close`] follows: the session is gone already.
    pub fn handle_closed(&mut self, now: Instant, reason: DisconnectReason) {
        let _ = now;
        if self.closed {
            return;
        }
        self.drop_all(reason);
    }

    fn on_packet(&mut self, p: Packet) {
        let kind = p.kind();
        if kind == PacketType::Connect {
            return self.on_connect(&p);
        }
        let Some(i) = self.socket(p.nsp()) else {
            // 4.x `ondecoded`: "else { debug("invalid state (packet type: %s)"); this.close() }";
            // 2.x: "debug('no socket for namespace %s')" and nothing else.
            return self.invalid_state(&p);
        };
        match kind {
            PacketType::Event | PacketType::BinaryEvent => {
                let nsp = self.sockets[i].nsp.clone();
                self.events.push_back(Event::Event { nsp, packet: p });
            }
            PacketType::Ack | PacketType::BinaryAck => {
                // `onack`: "const ack = this.acks.get(packet.id); if ("function" == typeof
                // ack) {…} else { debug("bad ack %s") }": an unknown id is ignored.
                let s = &mut self.sockets[i];
                let Some(id) = p.id() else { return };
                let Some(deadline) = s.acks.remove(&id) else {
                    return;
                };
                if let Some(t) = deadline {
                    self.ack_deadlines.remove(&(t, s.seq, id));
                }
                let nsp = s.nsp.clone();
                self.events.push_back(Event::Ack { nsp, id, packet: p });
            }
            PacketType::Disconnect => {
                // `ondisconnect`: "this._onclose("client namespace disconnect")".
                self.remove_socket(i, DisconnectReason::ClientNamespaceDisconnect);
            }
            // 4.x: CONNECT_ERROR from a client is an invalid state; 2.x `onpacket` has no
            // case for ERROR and ignores it.
            PacketType::ConnectError | PacketType::Connect => self.invalid_state(&p),
        }
    }

    fn on_connect(&mut self, p: &Packet) {
        let (nsp, auth) = match self.version {
            // 2.x `ondecoded`: "this.connect(url.parse(packet.nsp).pathname,
            // url.parse(packet.nsp, true).query)".
            ProtocolVersion::V4 => {
                let (path, query) = p.nsp_path();
                let auth = query.map_or(Auth::None, |q| Auth::Query(q.into()));
                (String::from(path), auth)
            }
            // 4.x: "namespace = packet.nsp; authPayload = packet.data".
            ProtocolVersion::V5 => {
                let auth = match p.value() {
                    Ok(Some(Value::Object(m))) => Auth::Object(m),
                    _ => Auth::None,
                };
                (String::from(p.nsp()), auth)
            }
        };
        if self.socket(&nsp).is_some() {
            // 4.x: a CONNECT for a joined namespace is an invalid state ("if (!socket &&
            // packet.type === CONNECT)" fails). 2.x would add a second socket; we ignore
            // the repeat.
            return self.invalid_state(p);
        }
        if self.requests.contains(&nsp) || self.waiting.iter().any(|(n, _)| *n == nsp) {
            // A repeat while the first still waits for the application's answer:
            // socket.io-client 4 sends one when `socket.connect()` is called on a socket
            // its manager is already connecting. socket.io 4 has no socket yet, so it runs
            // the middlewares again and answers twice; the connection stays up either way.
            // The first request stands and gets the one answer; the repeat is dropped.
            return;
        }
        let held = self.sockets.len() + self.requests.len() + self.waiting.len();
        if held >= self.config.max_namespaces {
            let limit = self.config.max_namespaces;
            return self.fail(
                CloseReason::TooManyNamespaces { limit },
                DisconnectReason::ForcedServerClose,
            );
        }
        // 2.x `doConnect`: "if ('/' != name && !this.nsps['/']) { this.connectBuffer.push(
        // name); return; }" (2.x keeps only the name; the query is kept here).
        if self.version == ProtocolVersion::V4 && nsp != "/" && self.socket("/").is_none() {
            self.waiting.push_back((nsp, auth));
            return;
        }
        self.request(nsp, auth);
    }

    fn request(&mut self, nsp: String, auth: Auth) {
        self.requests.push(nsp.clone());
        self.events.push_back(Event::ConnectRequest { nsp, auth });
    }

    fn invalid_state(&mut self, p: &Packet) {
        if self.version == ProtocolVersion::V5 {
            let reason = CloseReason::InvalidState {
                kind: p.kind(),
                nsp: p.nsp().into(),
            };
            self.fail(reason, DisconnectReason::ForcedServerClose);
        }
    }

    /// Closes the connection on our side: sockets leave with `disc`, then [`Event::Close`].
    fn fail(&mut self, reason: CloseReason, disc: DisconnectReason) {
        self.drop_all(disc);
        self.events.push_back(Event::Close(reason));
    }

    fn drop_all(&mut self, reason: DisconnectReason) {
        for s in core::mem::take(&mut self.sockets) {
            self.events.push_back(Event::Disconnected {
                nsp: s.nsp,
                socket_id: s.id,
                reason,
            });
        }
        self.requests.clear();
        self.waiting.clear();
        self.ack_deadlines.clear();
        self.connect_deadline = None;
        self.closed = true;
    }

    fn remove_socket(&mut self, i: usize, reason: DisconnectReason) {
        let s = self.sockets.remove(i);
        for (id, t) in &s.acks {
            if let Some(t) = t {
                self.ack_deadlines.remove(&(*t, s.seq, *id));
            }
        }
        self.events.push_back(Event::Disconnected {
            nsp: s.nsp,
            socket_id: s.id,
            reason,
        });
    }
}

// ---- mutators ----------------------------------------------------------------------------

impl Connection {
    fn room_for(&self, messages: usize) -> Result<(), SendError> {
        if self.closed {
            return Err(SendError::Closed);
        }
        let queued = self.transmit.len();
        if queued.saturating_add(messages) > self.config.max_queued_messages {
            return Err(SendError::OutputFull {
                queued,
                limit: self.config.max_queued_messages,
            });
        }
        Ok(())
    }

    fn queue(&mut self, p: Packet) {
        self.transmit.extend(p.into_messages());
    }

    /// Accepts the [`Event::ConnectRequest`] for `nsp` with socket id `socket_id`: queues
    /// the `CONNECT` answer and [`Event::Connected`].
    ///
    /// Revision 5 sends `{"sid": socket_id}` and needs the id (random, from your RNG, unique
    /// in the namespace). Revision 4 sends `CONNECT` without data; `None` gives socket.io
    /// 2.x's id, `/nsp#<eio id>` (the Engine.io id for `/`). Accepting `/` in revision 4
    /// then raises the connect requests that waited for it, in arrival order.
    ///
    /// # Errors
    /// [`SendError::NoConnectRequest`], [`SendError::SocketIdRequired`],
    /// [`SendError::OutputFull`], [`SendError::Closed`].
    pub fn accept(&mut self, nsp: &str, socket_id: Option<&str>) -> Result<(), SendError> {
        self.room_for(1)?;
        let pos = self
            .requests
            .iter()
            .position(|n| n == nsp)
            .ok_or(SendError::NoConnectRequest)?;
        let id: String = match (self.version, socket_id) {
            (_, Some(id)) => id.into(),
            // socket.io 2.x `Socket`: "this.id = nsp.name !== '/' ? nsp.name + '#' +
            // client.id : client.id".
            (ProtocolVersion::V4, None) if nsp == "/" => self.eio_sid.clone(),
            (ProtocolVersion::V4, None) => format!("{nsp}#{}", self.eio_sid),
            (ProtocolVersion::V5, None) => return Err(SendError::SocketIdRequired),
        };
        // 4.x `_onconnect`: protocol 3 "this.packet({ type: CONNECT })", else "data: { sid:
        // this.id }".
        let packet = match self.version {
            ProtocolVersion::V4 => Packet::connect(self.version, nsp, None)?,
            ProtocolVersion::V5 => {
                let mut m = Map::new();
                m.insert("sid", Value::String(id.clone()));
                Packet::connect(self.version, nsp, Some(&Value::Object(m)))?
            }
        };
        self.requests.remove(pos);
        self.queue(packet);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.sockets.push(Socket {
            nsp: nsp.into(),
            id: id.clone(),
            seq,
            next_ack: 0,
            acks: BTreeMap::new(),
        });
        // `doConnect`: "if (this.connectTimeout) { clearTimeout(this.connectTimeout) }".
        self.connect_deadline = None;
        self.events.push_back(Event::Connected {
            nsp: nsp.into(),
            socket_id: id,
        });
        // 2.x: "if ('/' == nsp.name && self.connectBuffer.length > 0) {
        // self.connectBuffer.forEach(self.connect, self)".
        if self.version == ProtocolVersion::V4 && nsp == "/" {
            while let Some((n, auth)) = self.waiting.pop_front() {
                self.request(n, auth);
            }
        }
        Ok(())
    }

    /// Refuses the [`Event::ConnectRequest`] for `nsp`: revision 5 sends `CONNECT_ERROR`
    /// `{"message": message, "data": data}` (socket.io 4 `_add`: "socket._error({ message:
    /// err.message, data: err.data })"); revision 4 sends `ERROR` with `data` when given,
    /// else `message` as a string (2.x: "socket.error(err.data || err.message)").
    ///
    /// # Errors
    /// [`SendError::NoConnectRequest`], [`SendError::OutputFull`], [`SendError::Closed`],
    /// [`SendError::Build`] (revision 4 data that is not a string, object, array or null).
    pub fn refuse(
        &mut self,
        nsp: &str,
        message: &str,
        data: Option<Value>,
    ) -> Result<(), SendError> {
        self.room_for(1)?;
        let pos = self
            .requests
            .iter()
            .position(|n| n == nsp)
            .ok_or(SendError::NoConnectRequest)?;
        let packet = match (self.version, data) {
            (ProtocolVersion::V4, Some(d)) => {
                Packet::new(self.version, PacketType::ConnectError, nsp, None, Some(&d))?
            }
            (_, data) => Packet::connect_error(self.version, nsp, message, data)?,
        };
        self.requests.remove(pos);
        self.queue(packet);
        Ok(())
    }

    /// Refuses `nsp` as socket.io refuses a namespace that does not exist: revision 5
    /// `44/nsp,{"message":"Invalid namespace"}`, revision 4 `44/nsp,"Invalid namespace"`.
    ///
    /// # Errors
    /// As [`Connection::refuse`].
    pub fn refuse_invalid_namespace(&mut self, nsp: &str) -> Result<(), SendError> {
        self.refuse(nsp, INVALID_NAMESPACE, None)
    }

    /// Emits event `name` with `args` on `nsp`; see [`Connection::emit_packet`].
    ///
    /// # Errors
    /// As [`Connection::emit_packet`], and [`SendError::Build`] (a reserved name in
    /// revision 5, a bad namespace).
    pub fn emit(
        &mut self,
        now: Instant,
        nsp: &str,
        name: &str,
        args: &[Value],
        ack: Option<Duration>,
    ) -> Result<Option<u64>, SendError> {
        // "After Event::Close … mutators return SendError::Closed": before building, so
        // that a bad name on a closed connection says closed too.
        if self.closed {
            return Err(SendError::Closed);
        }
        let p = Packet::event(self.version, nsp, name, args)?;
        self.emit_packet(now, p, ack)
    }

    /// Sends an event packet (built with [`Packet::event`]) to the socket joined to its
    /// namespace. With `ack: Some(timeout)` an ack id is allocated (per socket, from 0) and
    /// returned: the answer comes as [`Event::Ack`], or [`Event::AckTimeout`] at `now +
    /// timeout` (`Duration::MAX`: never times out).
    ///
    /// # Errors
    /// [`SendError::NotAnEvent`], [`SendError::NotConnected`], [`SendError::TooManyAcks`],
    /// [`SendError::OutputFull`], [`SendError::Closed`].
    pub fn emit_packet(
        &mut self,
        now: Instant,
        mut packet: Packet,
        ack: Option<Duration>,
    ) -> Result<Option<u64>, SendError> {
        self.room_for(1 + packet.attachments().len())?;
        if !packet.kind().is_event() {
            return Err(SendError::NotAnEvent);
        }
        let i = self.socket(packet.nsp()).ok_or(SendError::NotConnected)?;
        let limit = self.config.max_pending_acks;
        let s = &mut self.sockets[i];
        let id = match ack {
            None => None,
            Some(_) if s.acks.len() >= limit => return Err(SendError::TooManyAcks { limit }),
            Some(timeout) => {
                let id = s.next_ack;
                s.next_ack += 1;
                let deadline = (timeout != Duration::MAX).then(|| now + timeout);
                s.acks.insert(id, deadline);
                if let Some(t) = deadline {
                    self.ack_deadlines.insert((t, s.seq, id));
                }
                Some(id)
            }
        };
        packet.set_id(id);
        self.queue(packet);
        Ok(id)
    }

    /// Answers the client's event `id` on `nsp` with `args` (an `ACK`, or `BINARY_ACK` when
    /// `args` hold binary). socket.io's ack callback sends once; answering an id twice is
    /// the caller's business (the client ignores the second).
    ///
    /// # Errors
    /// [`SendError::NotConnected`], [`SendError::OutputFull`], [`SendError::Closed`].
    pub fn ack(&mut self, nsp: &str, id: u64, args: &[Value]) -> Result<(), SendError> {
        if self.closed {
            return Err(SendError::Closed);
        }
        self.socket(nsp).ok_or(SendError::NotConnected)?;
        let p = Packet::ack(nsp, id, args)?;
        self.room_for(1 + p.attachments().len())?;
        self.queue(p);
        Ok(())
    }

    /// Sends a packet encoded once for many receivers ([`Packet::to_messages`]), to the
    /// socket joined to `nsp` (socket.io's broadcast: "writeToEngine(encodedPackets)").
    ///
    /// # Errors
    /// [`SendError::NotConnected`], [`SendError::OutputFull`], [`SendError::Closed`].
    pub fn send_encoded(&mut self, nsp: &str, messages: &[PacketData]) -> Result<(), SendError> {
        self.room_for(messages.len())?;
        self.socket(nsp).ok_or(SendError::NotConnected)?;
        self.transmit.extend(messages.iter().cloned());
        Ok(())
    }

    /// Disconnects the socket of `nsp` (socket.io `socket.disconnect()`): queues `DISCONNECT`
    /// and [`Event::Disconnected`] with "server namespace disconnect". The Engine.io session
    /// stays open. The `DISCONNECT` is queued even past
    /// [`Config::max_queued_messages`] (by one message per namespace at most).
    ///
    /// # Errors
    /// [`SendError::NotConnected`], [`SendError::Closed`].
    pub fn disconnect(&mut self, nsp: &str) -> Result<(), SendError> {
        if self.closed {
            return Err(SendError::Closed);
        }
        let i = self.socket(nsp).ok_or(SendError::NotConnected)?;
        let p = Packet::disconnect(nsp)?;
        self.queue(p);
        self.remove_socket(i, DisconnectReason::ServerNamespaceDisconnect);
        Ok(())
    }

    /// Disconnects every socket (a `DISCONNECT` each, "server namespace disconnect") and
    /// asks for the Engine.io session to be closed ([`Event::Close`] with
    /// [`CloseReason::Server`]): socket.io's `socket.disconnect(true)`. Send the queued
    /// messages before closing the session.
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        while !self.sockets.is_empty() {
            let nsp = self.sockets[0].nsp.clone();
            if let Ok(p) = Packet::disconnect(&nsp) {
                self.queue(p);
            }
            self.remove_socket(0, DisconnectReason::ServerNamespaceDisconnect);
        }
        self.fail(
            CloseReason::Server,
            DisconnectReason::ServerNamespaceDisconnect,
        );
    }
}

// ---- pollers -----------------------------------------------------------------------------

impl Connection {
    /// The next Engine.io message to send on the session, in order. Call after every
    /// handler and mutator until `None`.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<PacketData> {
        self.transmit.pop_front()
    }

    /// The next event. Each handler call queues at most one event per namespace held plus
    /// one, so polling after every call keeps this queue small.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When to call [`Connection::handle_timeout`] next: the earliest ack deadline or the
    /// connect deadline. `None` when nothing is scheduled.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        let ack = self.ack_deadlines.first().map(|&(t, _, _)| t);
        match (ack, self.connect_deadline) {
            (Some(a), Some(c)) => Some(a.min(c)),
            (a, c) => a.or(c),
        }
    }
}
