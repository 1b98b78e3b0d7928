//! Drives a Socket.IO `server::Connection` of a fuzzed revision and small fuzzed bounds with
//! arbitrary sequences of incoming Engine.io messages (text from a small grammar of
//! plausible socket.io packets, or any string; binary), application calls (accept, refuse,
//! emit with and without ack, emit of a non-event packet, ack, send_encoded, disconnect,
//! close), clock advances with `handle_timeout`, and `handle_closed`. The transmit queue is
//! drained only when the input says so, to reach its bound.
//!
//! Oracle, checked after every step against a model kept by the harness:
//! - what the server sends decodes with a `Decoder` of its revision (no limits), packet by
//!   packet and complete at every drain; and it is exactly what the application's
//!   successful calls asked for, in order (kind, namespace, ack id, event name and
//!   arguments read back with `Packet::args`; `send_encoded`'s packet as built). Handlers
//!   never send anything.
//! - the transmit queue never holds more than `max_queued_messages`, plus the documented
//!   slack: one `DISCONNECT` per namespace held (`disconnect`, `close`);
//!   `SendError::OutputFull { queued }` reports the real queue length and comes only when
//!   the call's messages do not fit.
//! - after `Event::Close` (reported once, last, when no socket is joined) or
//!   `handle_closed`: no event, no message, no deadline, and every mutator returns
//!   `SendError::Closed`.
//! - events agree with the model: `ConnectRequest` only for a namespace neither joined nor
//!   asking; `Connected` only from `accept`, with the id it was given (revision 4 default:
//!   `nsp#eio` or the Engine.io id for `/`); `Event`, `Ack`, `AckTimeout` only on a joined
//!   namespace; `Disconnected` once per joined socket; `socket_id` and `pending_acks` agree.
//! - acks end at most once: `Ack` only for an id emitted with an ack and still pending,
//!   `AckTimeout` only at or after its deadline, a socket leaving drops its acks silently;
//!   after `handle_timeout(now)` no pending ack has a deadline ≤ now, and `poll_timeout`
//!   is the earliest pending deadline (ack or connect), strictly after `now`.
//! - caller errors are the `SendError` the model predicts (never a panic): `Closed` when
//!   closed, `NotConnected`, `NoConnectRequest`, `SocketIdRequired`, `TooManyAcks`,
//!   `NotAnEvent`, `Build` for a bad namespace or (revision 5) a reserved event name.
#![no_main]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use pushwire_engineio::{Instant, PacketData};
use pushwire_socketio::server::{
    Auth, CloseReason, Config, Connection, DisconnectReason, Event, SendError,
};
use pushwire_socketio::{
    Decoder, Limits, Packet, PacketType, ProtocolVersion, Value, RESERVED_EVENTS,
};

/// Namespaces the application names; the last is not a valid namespace.
const NSPS: [&str; 4] = ["/", "/a", "/b", "x,y"];
/// Namespace fields of incoming packets (revision 4 may carry a query).
const WIRE_NSPS: [&str; 5] = ["", "/a,", "/b,", "/a?t=1,", "/c,"];
/// Payloads of incoming packets.
const PAYLOADS: [&str; 12] = [
    "",
    r#"["x",1]"#,
    r#"["connect"]"#,
    r#"{"token":"1"}"#,
    r#"[{"_placeholder":true,"num":0}]"#,
    r#"["b",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    r#""str""#,
    "[]",
    r#"[1,"a"]"#,
    r#"{"message":"no"}"#,
    "null",
    r#"["x""#,
];
const NAMES: [&str; 4] = ["e", "connect", "disconnecting", "é\"\n"];

#[derive(Debug, Arbitrary)]
enum Text {
    /// `<type>[<n>-][<nsp>,][<id>]<payload>`.
    Packet {
        kind: u8,
        attachments: Option<u8>,
        nsp: u8,
        id: Option<u8>,
        payload: u8,
    },
    Raw(String),
}

#[derive(Debug, Clone, Arbitrary)]
enum Arg {
    Null,
    Bool(bool),
    Int(u32),
    Str(String),
    Bin(Vec<u8>),
    Arr(Vec<u16>),
}

impl Arg {
    fn value(&self) -> Value {
        match self {
            Arg::Null => Value::Null,
            Arg::Bool(b) => Value::from(*b),
            Arg::Int(n) => Value::from(u64::from(*n)),
            Arg::Str(s) => Value::from(s.as_str()),
            Arg::Bin(b) => Value::Binary(Bytes::from(b.clone())),
            Arg::Arr(a) => Value::Array(a.iter().map(|n| Value::from(u64::from(*n))).collect()),
        }
    }
}

fn values(args: &[Arg]) -> Vec<Value> {
    args.iter().take(6).map(Arg::value).collect()
}

#[derive(Debug, Arbitrary)]
enum Op {
    Text(Text),
    Binary(Vec<u8>),
    Accept {
        nsp: u8,
        id: Option<u8>,
    },
    Refuse {
        nsp: u8,
        message: String,
        data: Option<Arg>,
    },
    Emit {
        nsp: u8,
        name: u8,
        args: Vec<Arg>,
        ack: Option<u16>,
    },
    EmitForever {
        nsp: u8,
    },
    EmitNotEvent {
        nsp: u8,
    },
    Ack {
        nsp: u8,
        id: u8,
        args: Vec<Arg>,
    },
    SendEncoded {
        nsp: u8,
        args: Vec<Arg>,
    },
    Disconnect(u8),
    Close,
    Advance(u16),
    Fire,
    Closed(u8),
    /// Drain the transmit queue (the default after every step is to keep it).
    Drain,
}

/// What the harness expects on the wire, in order.
#[derive(Debug)]
struct Expected {
    kind: PacketType,
    nsp: String,
    id: Option<u64>,
    /// Event name and arguments (events), or arguments (acks).
    name: Option<String>,
    args: Option<Vec<Value>>,
    /// Revision 5 `CONNECT`: the socket id in `{"sid": …}`.
    sid: Option<String>,
    messages: usize,
}

struct Model {
    version: ProtocolVersion,
    config: Config,
    eio: &'static str,
    now: Instant,
    closed: bool,
    /// Namespaces asking (a `ConnectRequest` not answered yet).
    requested: BTreeSet<String>,
    /// Joined namespace → socket id.
    joined: BTreeMap<String, String>,
    /// Pending acks: (nsp, id) → deadline.
    acks: BTreeMap<(String, u64), Option<Instant>>,
    connect_deadline: Option<Instant>,
    /// Messages queued and not drained.
    queued: usize,
    /// `DISCONNECT`s among them.
    queued_disconnects: usize,
    expected: VecDeque<Expected>,
    decoder: Decoder,
    sids: u32,
}

impl Model {
    fn expect(
        &mut self,
        p: &Packet,
        name: Option<String>,
        args: Option<Vec<Value>>,
        sid: Option<String>,
    ) {
        let messages = 1 + p.attachments().len();
        self.queued += messages;
        if p.kind() == PacketType::Disconnect {
            self.queued_disconnects += 1;
        }
        self.expected.push_back(Expected {
            kind: p.kind(),
            nsp: p.nsp().into(),
            id: p.id(),
            name,
            args,
            sid,
            messages,
        });
    }

    /// The error a mutator must return, when the model knows it.
    fn room(&self, messages: usize) -> Result<(), SendError> {
        if self.closed {
            return Err(SendError::Closed);
        }
        if self.queued + messages > self.config.max_queued_messages {
            return Err(SendError::OutputFull {
                queued: self.queued,
                limit: self.config.max_queued_messages,
            });
        }
        Ok(())
    }

    fn bad_name(&self, nsp: &str, name: &str) -> bool {
        !nsp.starts_with('/')
            || nsp.contains(',')
            || (self.version == ProtocolVersion::V5 && RESERVED_EVENTS.contains(&name))
    }

    fn drain(&mut self, c: &mut Connection) {
        let mut n = 0usize;
        while let Some(m) = c.poll_transmit() {
            n += 1;
            assert!(
                !self.closed || !self.expected.is_empty(),
                "sent after close: {m:?}"
            );
            let got = self
                .decoder
                .push(m.clone())
                .unwrap_or_else(|e| panic!("server sent a malformed message ({e}): {m:?}"));
            let Some(p) = got else { continue };
            let e = self
                .expected
                .pop_front()
                .unwrap_or_else(|| panic!("sent a packet nobody asked for: {p:?}"));
            assert_eq!(
                (p.kind(), p.nsp(), p.id()),
                (e.kind, e.nsp.as_str(), e.id),
                "{p:?} vs {e:?}"
            );
            assert_eq!(1 + p.attachments().len(), e.messages);
            let read = p.args().expect("arguments read back");
            if let Some(args) = &e.args {
                match &e.name {
                    Some(name) => {
                        assert_eq!(p.event_name(), Some(name.as_str()));
                        assert_eq!(&read, args);
                    }
                    None => assert_eq!(&read, args),
                }
            }
            if let Some(sid) = &e.sid {
                let v = p.value().unwrap().unwrap();
                let got = v
                    .as_object()
                    .and_then(|m| m.get("sid"))
                    .and_then(Value::as_str);
                assert_eq!(got, Some(sid.as_str()));
            }
        }
        assert!(
            !self.decoder.is_reconstructing(),
            "a drain ended inside a binary packet"
        );
        assert!(
            self.expected.is_empty(),
            "asked for but not sent: {:?}",
            self.expected
        );
        assert_eq!(n, self.queued, "queue length");
        let slack = self
            .queued_disconnects
            .min(self.config.max_namespaces.max(1));
        assert!(
            n <= self.config.max_queued_messages + slack,
            "{n} messages queued, limit {} + {slack}",
            self.config.max_queued_messages
        );
        self.queued = 0;
        self.queued_disconnects = 0;
    }

    fn events(&mut self, c: &mut Connection, connected: Option<(&str, &str)>) {
        let mut connected = connected;
        while let Some(e) = c.poll_event() {
            assert!(!self.closed, "event after close: {e:?}");
            match e {
                Event::ConnectRequest { nsp, auth } => {
                    assert!(!self.joined.contains_key(&nsp), "{nsp} asks while joined");
                    assert!(self.requested.insert(nsp.clone()), "{nsp} asks twice");
                    if self.version == ProtocolVersion::V5 {
                        assert!(!matches!(auth, Auth::Query(_)));
                    } else {
                        assert!(!matches!(auth, Auth::Object(_)));
                        assert!(!nsp.contains('?'), "{nsp}");
                    }
                }
                Event::Connected { nsp, socket_id } => {
                    let (n, id) = connected.take().expect("Connected outside accept");
                    assert_eq!((nsp.as_str(), socket_id.as_str()), (n, id));
                    assert!(self.requested.remove(&nsp));
                    assert!(self.joined.insert(nsp, socket_id).is_none());
                }
                Event::Event { nsp, packet } => {
                    assert!(self.joined.contains_key(&nsp));
                    assert_eq!(packet.nsp(), nsp);
                    assert!(packet.kind().is_event());
                }
                Event::Ack { nsp, id, packet } => {
                    assert!(self.joined.contains_key(&nsp));
                    assert_eq!((packet.nsp(), packet.id()), (nsp.as_str(), Some(id)));
                    assert!(
                        self.acks.remove(&(nsp, id)).is_some(),
                        "ack {id} not pending"
                    );
                }
                Event::AckTimeout { nsp, id } => {
                    assert!(self.joined.contains_key(&nsp));
                    let d = self
                        .acks
                        .remove(&(nsp, id))
                        .expect("timeout of an ack not pending");
                    assert!(d.is_some_and(|d| d <= self.now), "timed out early: {d:?}");
                }
                Event::Disconnected { nsp, socket_id, .. } => {
                    assert_eq!(self.joined.remove(&nsp), Some(socket_id));
                    self.acks.retain(|(n, _), _| *n != nsp);
                }
                Event::Close(reason) => {
                    assert!(
                        self.joined.is_empty(),
                        "sockets left at close: {:?}",
                        self.joined
                    );
                    if let CloseReason::TooManyNamespaces { limit } = reason {
                        assert_eq!(limit, self.config.max_namespaces);
                    }
                    self.set_closed();
                }
                e => panic!("unknown event {e:?}"),
            }
        }
        assert!(connected.is_none(), "accept without Connected");
        if c.is_closed() {
            assert!(self.joined.is_empty());
            self.set_closed();
        }
    }

    fn set_closed(&mut self) {
        self.closed = true;
        self.requested.clear();
        self.acks.clear();
        self.connect_deadline = None;
    }

    fn agree(&self, c: &Connection) {
        for nsp in NSPS {
            assert_eq!(
                c.socket_id(nsp),
                self.joined.get(nsp).map(String::as_str),
                "{nsp}"
            );
            let pending = self.acks.keys().filter(|(n, _)| n == nsp).count();
            assert_eq!(c.pending_acks(nsp), pending, "{nsp}");
        }
        let earliest = self
            .acks
            .values()
            .flatten()
            .copied()
            .chain(self.connect_deadline)
            .min();
        assert_eq!(c.poll_timeout(), if self.closed { None } else { earliest });
    }

    /// After `handle_timeout(now)`: what is due has fired.
    fn fired(&self, c: &Connection) {
        if let Some(t) = c.poll_timeout() {
            assert!(t > self.now, "deadline {t:?} not after {:?}", self.now);
        }
        assert!(self.acks.values().flatten().all(|d| *d > self.now));
    }
}

fn wire_text(t: &Text) -> String {
    match t {
        Text::Raw(s) => s.clone(),
        Text::Packet {
            kind,
            attachments,
            nsp,
            id,
            payload,
        } => {
            let mut s = String::new();
            s.push(char::from(b'0' + kind % 8));
            if let Some(n) = attachments {
                s.push_str(&format!("{}-", n % 3));
            }
            s.push_str(WIRE_NSPS[usize::from(*nsp) % WIRE_NSPS.len()]);
            if let Some(id) = id {
                s.push_str(&(id % 6).to_string());
            }
            s.push_str(PAYLOADS[usize::from(*payload) % PAYLOADS.len()]);
            s
        }
    }
}

fn nsp_of(n: u8) -> &'static str {
    NSPS[usize::from(n) % NSPS.len()]
}

fuzz_target!(|input: (bool, [u8; 4], Vec<Op>)| {
    let (v5, knobs, ops) = input;
    let version = if v5 {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V4
    };
    let config = Config::DEFAULT
        .with_max_namespaces(1 + usize::from(knobs[0] % 3))
        .with_max_pending_acks(usize::from(knobs[1] % 4))
        .with_max_queued_messages(usize::from(knobs[2] % 12))
        .with_connect_timeout(Duration::from_millis(u64::from(knobs[3]) * 100))
        .with_limits(Limits::DEFAULT.with_max_attachments(2));
    let now = Instant::ZERO;
    let mut c = Connection::new(&config, version, "eio", now);
    let mut m = Model {
        version,
        config,
        eio: "eio",
        now,
        closed: false,
        requested: BTreeSet::new(),
        joined: BTreeMap::new(),
        acks: BTreeMap::new(),
        connect_deadline: Some(now + config.connect_timeout),
        queued: 0,
        queued_disconnects: 0,
        expected: VecDeque::new(),
        decoder: Decoder::new(version, Limits::UNLIMITED),
        sids: 0,
    };
    m.events(&mut c, None);
    m.agree(&c);

    for op in ops.iter().take(200) {
        let mut connected: Option<(String, String)> = None;
        match op {
            Op::Text(t) => c.handle_message(m.now, PacketData::Text(wire_text(t))),
            Op::Binary(b) => c.handle_message(m.now, PacketData::Binary(Bytes::from(b.clone()))),
            Op::Accept { nsp, id } => {
                let nsp = nsp_of(*nsp);
                m.sids += 1;
                let given = id.map(|i| format!("s{}-{i}", m.sids));
                let r = c.accept(nsp, given.as_deref());
                let want = m.room(1).and_then(|()| {
                    if !m.requested.contains(nsp) {
                        Err(SendError::NoConnectRequest)
                    } else if given.is_none() && version == ProtocolVersion::V5 {
                        Err(SendError::SocketIdRequired)
                    } else {
                        Ok(())
                    }
                });
                assert_eq!(r, want, "accept {nsp}");
                if r.is_ok() {
                    let sid = given.clone().unwrap_or_else(|| {
                        if nsp == "/" {
                            m.eio.to_string()
                        } else {
                            format!("{nsp}#{}", m.eio)
                        }
                    });
                    let data = (version == ProtocolVersion::V5).then(|| {
                        let mut o = pushwire_socketio::Map::new();
                        o.insert("sid", Value::from(sid.as_str()));
                        Value::Object(o)
                    });
                    let p = Packet::connect(version, nsp, data.as_ref()).unwrap();
                    m.expect(
                        &p,
                        None,
                        None,
                        (version == ProtocolVersion::V5).then(|| sid.clone()),
                    );
                    m.connect_deadline = None;
                    connected = Some((nsp.into(), sid));
                }
            }
            Op::Refuse { nsp, message, data } => {
                let nsp = nsp_of(*nsp);
                let data = data.as_ref().map(Arg::value);
                let r = c.refuse(nsp, message, data.clone());
                let expect_packet = match (version, data) {
                    (ProtocolVersion::V4, Some(d)) => {
                        Packet::new(version, PacketType::ConnectError, nsp, None, Some(&d))
                    }
                    (_, d) => Packet::connect_error(version, nsp, message, d),
                };
                let want = m.room(1).and_then(|()| {
                    if m.requested.contains(nsp) {
                        Ok(())
                    } else {
                        Err(SendError::NoConnectRequest)
                    }
                });
                match (&r, want, &expect_packet) {
                    (Ok(()), Ok(()), Ok(p)) => {
                        m.requested.remove(nsp);
                        m.expect(p, None, None, None);
                    }
                    (Err(SendError::Build(_)), Ok(()), Err(_)) => {}
                    (Err(e), Err(w), _) if *e == w => {}
                    (r, want, p) => panic!("refuse {nsp}: {r:?}, expected {want:?} ({p:?})"),
                }
            }
            Op::Emit {
                nsp,
                name,
                args,
                ack,
            } => {
                let nsp = nsp_of(*nsp);
                let name = NAMES[usize::from(*name) % NAMES.len()];
                let args = values(args);
                let timeout = ack.map(|ms| Duration::from_millis(u64::from(ms)));
                let r = c.emit(m.now, nsp, name, &args, timeout);
                emitted(&mut m, nsp, name, args, timeout, r);
            }
            Op::EmitForever { nsp } => {
                let nsp = nsp_of(*nsp);
                let r = c.emit(m.now, nsp, "e", &[], Some(Duration::MAX));
                emitted(&mut m, nsp, "e", Vec::new(), Some(Duration::MAX), r);
            }
            Op::EmitNotEvent { nsp } => {
                let nsp = nsp_of(*nsp);
                if let Ok(p) = Packet::disconnect(nsp) {
                    let r = c.emit_packet(m.now, p, None);
                    let want = m.room(1).and(Err(SendError::NotAnEvent));
                    assert_eq!(r, want);
                }
            }
            Op::Ack { nsp, id, args } => {
                let nsp = nsp_of(*nsp);
                let args = values(args);
                let id = u64::from(*id);
                let r = c.ack(nsp, id, &args);
                let want = if m.closed {
                    Err(SendError::Closed)
                } else if !m.joined.contains_key(nsp) {
                    Err(SendError::NotConnected)
                } else {
                    let p = Packet::ack(nsp, id, &args).unwrap();
                    m.room(1 + p.attachments().len())
                };
                assert_eq!(r, want, "ack {nsp} {id}");
                if r.is_ok() {
                    let p = Packet::ack(nsp, id, &args).unwrap();
                    m.expect(&p, None, Some(args), None);
                }
            }
            Op::SendEncoded { nsp, args } => {
                let nsp = nsp_of(*nsp);
                let args = values(args);
                // A packet encoded once for many sockets: built for a valid namespace.
                if let Ok(p) = Packet::event(version, nsp, "bcast", &args) {
                    let msgs = p.to_messages();
                    let r = c.send_encoded(nsp, &msgs);
                    let want = m.room(msgs.len()).and_then(|()| {
                        if m.joined.contains_key(nsp) {
                            Ok(())
                        } else {
                            Err(SendError::NotConnected)
                        }
                    });
                    assert_eq!(r, want, "send_encoded {nsp}");
                    if r.is_ok() {
                        m.expect(&p, Some("bcast".into()), Some(args), None);
                    }
                }
            }
            Op::Disconnect(n) => {
                let nsp = nsp_of(*n);
                let r = c.disconnect(nsp);
                let want = if m.closed {
                    Err(SendError::Closed)
                } else if m.joined.contains_key(nsp) {
                    Ok(())
                } else {
                    Err(SendError::NotConnected)
                };
                assert_eq!(r, want, "disconnect {nsp}");
                if r.is_ok() {
                    m.expect(&Packet::disconnect(nsp).unwrap(), None, None, None);
                }
            }
            Op::Close => {
                if !m.closed {
                    // A DISCONNECT for each socket, in the order they joined.
                    let order: Vec<String> = c.sockets().map(|(n, _)| n.to_string()).collect();
                    let mut known: Vec<&String> = m.joined.keys().collect();
                    let mut sorted = order.iter().collect::<Vec<_>>();
                    sorted.sort();
                    known.sort();
                    assert_eq!(sorted, known);
                    for nsp in &order {
                        m.expect(&Packet::disconnect(nsp).unwrap(), None, None, None);
                    }
                }
                c.close();
            }
            Op::Advance(ms) => {
                m.now = m.now + Duration::from_millis(u64::from(*ms));
                c.handle_timeout(m.now);
            }
            Op::Fire => {
                m.now = c.poll_timeout().unwrap_or(m.now).max(m.now);
                c.handle_timeout(m.now);
            }
            Op::Closed(r) => {
                let reason = [
                    DisconnectReason::TransportClose,
                    DisconnectReason::PingTimeout,
                    DisconnectReason::TransportError,
                ][usize::from(*r) % 3];
                c.handle_closed(m.now, reason);
            }
            Op::Drain => m.drain(&mut c),
        }
        m.events(
            &mut c,
            connected.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
        );
        if matches!(op, Op::Advance(_) | Op::Fire) {
            m.fired(&c);
            if m.connect_deadline.is_some_and(|d| d <= m.now) {
                // It fired: with no socket joined it closed the connection (checked by the
                // Close event above); either way it is gone.
                m.connect_deadline = None;
            }
        }
        if m.closed {
            m.connect_deadline = None;
        }
        m.agree(&c);
    }
    m.drain(&mut c);
});

fn emitted(
    m: &mut Model,
    nsp: &str,
    name: &str,
    args: Vec<Value>,
    timeout: Option<Duration>,
    r: Result<Option<u64>, SendError>,
) {
    if m.closed {
        assert_eq!(r, Err(SendError::Closed), "emit {nsp} {name} when closed");
        return;
    }
    if m.bad_name(nsp, name) {
        assert!(
            matches!(r, Err(SendError::Build(_))),
            "emit {nsp} {name}: {r:?}"
        );
        return;
    }
    let p = Packet::event(m.version, nsp, name, &args).unwrap();
    let want = m.room(1 + p.attachments().len()).and_then(|()| {
        if !m.joined.contains_key(nsp) {
            Err(SendError::NotConnected)
        } else if timeout.is_some()
            && m.acks.keys().filter(|(n, _)| n == nsp).count() >= m.config.max_pending_acks
        {
            Err(SendError::TooManyAcks {
                limit: m.config.max_pending_acks,
            })
        } else {
            Ok(())
        }
    });
    match (r, want) {
        (Ok(id), Ok(())) => {
            assert_eq!(id.is_some(), timeout.is_some());
            if let (Some(id), Some(t)) = (id, timeout) {
                let deadline = (t != Duration::MAX).then(|| m.now + t);
                let key = (nsp.to_string(), id);
                assert!(
                    m.acks.insert(key, deadline).is_none(),
                    "ack id {id} reused on {nsp}"
                );
            }
            m.expect(
                &p.clone().with_id_opt(id),
                Some(name.into()),
                Some(args),
                None,
            );
        }
        (r, want) => assert_eq!(r.map(|_| ()), want, "emit {nsp} {name}"),
    }
}

trait WithIdOpt {
    fn with_id_opt(self, id: Option<u64>) -> Self;
}

impl WithIdOpt for Packet {
    fn with_id_opt(mut self, id: Option<u64>) -> Self {
        self.set_id(id);
        self
    }
}
