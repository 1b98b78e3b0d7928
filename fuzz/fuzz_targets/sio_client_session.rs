//! Drives a Socket.IO `client::Connection` of a fuzzed revision and a fuzzed reconnection
//! policy and bounds with arbitrary sequences of application calls (connect with or
//! without auth, emit, emit with ack, ack, disconnect, close), transport reports
//! (`handle_open`, `handle_open_error`, `handle_closed`), server messages (text from a
//! small grammar of plausible socket.io packets, or any string; binary) and clock advances
//! with `handle_timeout`. The transmit queue is drained only when the input says so.
//!
//! Oracle, checked after every step:
//! - every message the client sends decodes with a `Decoder` of its revision (no limits),
//!   and no drain ends inside a binary packet; revision 4 never sends `CONNECT` for `/`;
//!   an event asking for an ack carries an id `emit_with_ack` returned on that namespace.
//! - the transmit queue stays within `max_transmit_queue` plus the documented slack of
//!   what the protocol queues on its own, per namespace (3 valid ones here): a `CONNECT`
//!   when the connection opens, a `DISCONNECT` when it is left, one flush of the send
//!   buffer (at most `max_send_buffer` packets of at most 1 + 6 messages here).
//! - reconnection follows the config: `ReconnectScheduled { attempt, delay }` has attempt
//!   ≥ 1 (= `reconnect_attempts()`), ≤ `reconnection_attempts`, and a delay within backo2's
//!   bounds for that attempt (`d·2^(attempt-1)` spread by `randomization_factor`, capped at
//!   `reconnection_delay_max`); `ReconnectAttempt` comes with `TransportAction::Open`, for
//!   the attempt scheduled, not before its delay has passed; `Reconnected` reports it; no
//!   reconnection is scheduled with `reconnection` off.
//! - `sid(nsp)` agrees with the events: `Some` exactly between `Connected` and
//!   `Disconnected` (which only follows `Connected`), equal to the last `Connected`'s sid
//!   (a server repeating `CONNECT` gets `Connected` again, as in socket.io-client);
//!   revision 4's sid is the Engine.io sid for `/` and `nsp#sid` otherwise.
//! - acks: an id returned by `emit_with_ack` is not pending on its namespace; each ends at
//!   most once (`Ack`, `AckTimeout` no earlier than its deadline, `AckDropped`), and no
//!   other id ends.
//! - after `handle_timeout(now)` at `poll_timeout`, the next deadline is not before `now`;
//!   when it is `now` (a reconnection scheduled with no delay by the open timeout that
//!   just fired), a second call at the same instant fires it and the deadline moves on.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use pushwire_engineio::Instant;
use pushwire_socketio::client::{Config, ConnectError, Connection, Event, TransportAction};
use pushwire_socketio::{Decoder, Limits, Map, PacketData, PacketType, ProtocolVersion, Value};

const NSPS: [&str; 4] = ["/", "/admin", "/x", "bad"];
const EIO_SIDS: [&str; 2] = ["eio1", "eio2"];
/// Server texts for a namespace (`{n}`: the namespace and its comma, or nothing for `/`).
const TEXTS: [&str; 18] = [
    "0{n}",
    r#"0{n}{"sid":"abc"}"#,
    "1{n}",
    r#"2{n}["ev",1]"#,
    r#"2{n}3["ev"]"#,
    r#"3{n}0["ok"]"#,
    r#"3{n}1[]"#,
    r#"6{n}1-2[{"_placeholder":true,"num":0}]"#,
    r#"51-{n}["b",{"_placeholder":true,"num":0}]"#,
    r#"61-{n}0[{"_placeholder":true,"num":0}]"#,
    r#"4{n}{"message":"no"}"#,
    r#"4{n}"no""#,
    "9",
    "",
    r#"2{n}["connect"]"#,
    r#"0{n}{"sid":1}"#,
    "3{n}",
    r#"0{n}{"sid":"x","pid":"y"}"#,
];

#[derive(Debug, Clone, Arbitrary)]
enum Arg {
    Null,
    Int(u32),
    Str(String),
    Bin(Vec<u8>),
}

impl Arg {
    fn value(&self) -> Value {
        match self {
            Arg::Null => Value::Null,
            Arg::Int(n) => Value::from(u64::from(*n)),
            Arg::Str(s) => Value::from(s.as_str()),
            Arg::Bin(b) => Value::Binary(Bytes::from(b.clone())),
        }
    }
}

fn values(args: &[Arg]) -> Vec<Value> {
    args.iter().take(6).map(Arg::value).collect()
}

#[derive(Debug, Arbitrary)]
enum Op {
    Text {
        text: u8,
        nsp: u8,
    },
    Raw(String),
    Binary(Vec<u8>),
    Open(bool),
    OpenError,
    Closed,
    Advance(u16),
    AtDeadline,
    Connect {
        nsp: u8,
        auth: Option<Option<String>>,
    },
    Emit {
        nsp: u8,
        args: Vec<Arg>,
    },
    EmitWithAck {
        nsp: u8,
        args: Vec<Arg>,
        timeout: Option<u16>,
    },
    Ack {
        nsp: u8,
        id: u8,
        args: Vec<Arg>,
    },
    Disconnect(u8),
    Close,
    Drain,
}

fn server_text(t: u8, nsp: &str) -> String {
    let n = if nsp == "/" {
        String::new()
    } else {
        format!("{nsp},")
    };
    TEXTS[usize::from(t) % TEXTS.len()].replace("{n}", &n)
}

struct Model {
    version: ProtocolVersion,
    config: Config,
    now: Instant,
    decoder: Decoder,
    queued: usize,
    eio_sid: Option<&'static str>,
    connected: BTreeMap<String, String>,
    /// Pending acks: (nsp, id) → deadline.
    live: BTreeMap<(String, u64), Option<Instant>>,
    /// Every ack id ever returned, per namespace (what an outgoing event's id may be).
    issued: BTreeSet<(String, u64)>,
    /// The attempt scheduled and when it is due.
    scheduled: Option<(u32, Instant)>,
}

impl Model {
    fn drain(&mut self) -> impl FnMut(PacketData) + '_ {
        move |m: PacketData| {
            self.queued += 1;
            let got = self
                .decoder
                .push(m.clone())
                .unwrap_or_else(|e| panic!("client sent a malformed message ({e}): {m:?}"));
            let Some(p) = got else { return };
            let (path, _) = p.nsp_path();
            match p.kind() {
                PacketType::Connect => {
                    assert!(
                        !(self.version == ProtocolVersion::V4 && path == "/"),
                        "revision 4 CONNECT for /"
                    );
                }
                PacketType::Event | PacketType::BinaryEvent => {
                    if let Some(id) = p.id() {
                        assert!(self.issued.contains(&(p.nsp().to_string(), id)), "{p:?}");
                    }
                }
                _ => {}
            }
        }
    }

    fn backoff_bounds(&self, attempt: u32) -> (u128, u128) {
        let c = &self.config;
        let max = c.reconnection_delay_max.as_millis();
        let ms = c
            .reconnection_delay
            .as_millis()
            .saturating_mul(1u128.checked_shl(attempt - 1).unwrap_or(u128::MAX));
        let j = c.randomization_factor;
        let (lo, hi) = if j > 0.0 && j <= 1.0 {
            let f = ms as f64;
            (
                (f * (1.0 - j)).floor() as u128,
                (f * (1.0 + j)).ceil() as u128,
            )
        } else {
            (ms, ms)
        };
        (lo.saturating_sub(1).min(max), hi.saturating_add(1).min(max))
    }
}

fuzz_target!(|input: (bool, u64, [u8; 8], Vec<Op>)| {
    let (v5, seed, k, ops) = input;
    let version = if v5 {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V4
    };
    let factors = [0.5, 0.0, 1.0, 0.25, 1.5, -1.0, f64::NAN, 0.999];
    let config = Config::DEFAULT
        .with_reconnection(k[0] % 8 != 0)
        .with_reconnection_attempts((k[1] % 4 != 0).then_some(u32::from(k[1] % 5)))
        .with_reconnection_delay(Duration::from_millis(u64::from(k[2]) * 50))
        .with_reconnection_delay_max(Duration::from_millis(u64::from(k[3]) * 200))
        .with_randomization_factor(factors[usize::from(k[4] % 8)])
        .with_timeout((k[5] % 4 != 0).then(|| Duration::from_millis(u64::from(k[5]) * 100)))
        .with_ack_timeout((k[6] % 2 == 0).then(|| Duration::from_millis(u64::from(k[6]) * 30)))
        .with_max_send_buffer(usize::from(k[7] % 4))
        .with_max_pending_acks(usize::from(k[7] / 4 % 5))
        .with_max_transmit_queue(usize::from(k[7] / 32));
    let mut c = Connection::new(config, version, seed);
    let mut m = Model {
        version,
        config,
        now: Instant::ZERO,
        decoder: Decoder::new(version, Limits::UNLIMITED),
        queued: 0,
        eio_sid: None,
        connected: BTreeMap::new(),
        live: BTreeMap::new(),
        issued: BTreeSet::new(),
        scheduled: None,
    };

    for op in ops.iter().take(200) {
        let mut timed = false;
        match op {
            Op::Text { text, nsp } => {
                let t = server_text(*text, NSPS[usize::from(*nsp) % 3]);
                c.handle_message(m.now, PacketData::Text(t));
            }
            Op::Raw(s) => c.handle_message(m.now, PacketData::Text(s.clone())),
            Op::Binary(b) => c.handle_message(m.now, PacketData::Binary(Bytes::from(b.clone()))),
            Op::Open(which) => {
                let sid = EIO_SIDS[usize::from(*which)];
                let was_open = c.is_open();
                c.handle_open(m.now, sid);
                if c.is_open() && !was_open {
                    m.eio_sid = Some(sid);
                }
            }
            Op::OpenError => c.handle_open_error(m.now),
            Op::Closed => c.handle_closed(m.now),
            Op::Advance(ms) => {
                m.now = m.now + Duration::from_millis(u64::from(*ms));
                c.handle_timeout(m.now);
            }
            Op::AtDeadline => {
                if let Some(t) = c.poll_timeout() {
                    m.now = m.now.max(t);
                    c.handle_timeout(m.now);
                    timed = true;
                }
            }
            Op::Connect { nsp, auth } => {
                let nsp = NSPS[usize::from(*nsp) % NSPS.len()];
                let auth = auth.as_ref().map(|a| match a {
                    Some(s) => {
                        let mut o = Map::new();
                        o.insert("token", Value::from(s.as_str()));
                        Value::Object(o)
                    }
                    None => Value::from("not an object"),
                });
                let full = c.is_open() && !c.namespaces().any(|x| x == nsp);
                let r = c.connect(m.now, nsp, auth.clone());
                if let Err(ConnectError::TransmitQueueFull { limit }) = r {
                    assert!(full && limit == config.max_transmit_queue);
                    continue_ok(&mut c);
                    continue;
                }
                let valid_auth = match (version, &auth) {
                    (_, None) => true,
                    (_, Some(Value::String(_))) => false,
                    (ProtocolVersion::V4, Some(_)) => nsp != "/",
                    (ProtocolVersion::V5, Some(_)) => true,
                };
                assert_eq!(
                    r.is_ok(),
                    nsp != "bad" && valid_auth,
                    "connect {nsp} {auth:?}: {r:?}"
                );
            }
            Op::Emit { nsp, args } => {
                let nsp = NSPS[usize::from(*nsp) % NSPS.len()];
                let _ = c.emit(m.now, nsp, "e", &values(args));
            }
            Op::EmitWithAck { nsp, args, timeout } => {
                let nsp = NSPS[usize::from(*nsp) % NSPS.len()];
                let t = timeout.map(|ms| Duration::from_millis(u64::from(ms)));
                if let Ok(id) = c.emit_with_ack(m.now, nsp, "e", &values(args), t) {
                    let deadline = t.or(config.ack_timeout).map(|t| m.now + t);
                    let key = (nsp.to_string(), id);
                    assert!(
                        m.live.insert(key.clone(), deadline).is_none(),
                        "id {id} live on {nsp}"
                    );
                    m.issued.insert(key);
                }
            }
            Op::Ack { nsp, id, args } => {
                let nsp = NSPS[usize::from(*nsp) % NSPS.len()];
                let r = c.ack(nsp, u64::from(*id), &values(args));
                if r.is_ok() {
                    assert!(m.connected.contains_key(nsp), "ack on {nsp} not connected");
                }
            }
            Op::Disconnect(n) => {
                let nsp = NSPS[usize::from(*n) % NSPS.len()];
                let joined = c.namespaces().any(|x| x == nsp);
                assert_eq!(c.disconnect(nsp), joined);
            }
            Op::Close => c.close(),
            Op::Drain => {
                let mut sink = m.drain();
                while let Some(msg) = c.poll_transmit() {
                    sink(msg);
                }
                drop(sink);
                assert!(
                    !m.decoder.is_reconstructing(),
                    "a drain ended inside a binary packet"
                );
                // Per valid namespace: its CONNECT when the connection opens, a
                // DISCONNECT when it is left, and one flush of the send buffer (each
                // packet at most 1 + 6 messages) when it connects. Joining again while
                // open needs room (ConnectError::TransmitQueueFull), and a new connection
                // starts from an empty queue.
                let slack = 3 * (2 + config.max_send_buffer * 7);
                assert!(
                    m.queued <= config.max_transmit_queue + slack,
                    "{} messages queued, limit {} + {slack}",
                    m.queued,
                    config.max_transmit_queue
                );
                m.queued = 0;
            }
        }
        let mut opened = false;
        let mut closed_transport = false;
        while let Some(a) = c.poll_transport() {
            match a {
                TransportAction::Open => opened = true,
                TransportAction::Close => closed_transport = true,
                _ => {}
            }
        }
        let mut attempt_seen = false;
        while let Some(ev) = c.poll_event() {
            match ev {
                Event::Connected { nsp, sid } => {
                    if version == ProtocolVersion::V4 {
                        let eio = m.eio_sid.expect("connected before open");
                        let want = if nsp == "/" {
                            eio.to_string()
                        } else {
                            format!("{nsp}#{eio}")
                        };
                        assert_eq!(sid, want);
                    }
                    // A second CONNECT from the server for a connected namespace reports
                    // `Connected` again with the new sid, as socket.io-client's `onconnect`
                    // does (no guard in 2.x or 4.x); `sid()` must follow it.
                    m.connected.insert(nsp, sid);
                }
                Event::Disconnected { nsp, .. } => {
                    assert!(
                        m.connected.remove(&nsp).is_some(),
                        "disconnected without connect: {nsp}"
                    );
                }
                Event::Ack(p) => {
                    let key = (p.nsp().to_string(), p.id().unwrap());
                    assert!(m.live.remove(&key).is_some(), "{p:?}");
                }
                Event::AckTimeout { nsp, id } => {
                    let d = m
                        .live
                        .remove(&(nsp, id))
                        .expect("timeout of an ack not pending");
                    assert!(d.is_some_and(|d| d <= m.now), "timed out early: {d:?}");
                }
                Event::AckDropped { nsp, id } => {
                    assert!(
                        m.live.remove(&(nsp, id)).is_some(),
                        "dropped an ack not pending"
                    );
                }
                Event::ReconnectScheduled { attempt, delay } => {
                    assert!(config.reconnection, "reconnection is off");
                    assert!(attempt >= 1);
                    assert_eq!(attempt, c.reconnect_attempts());
                    if let Some(max) = config.reconnection_attempts {
                        assert!(attempt <= max, "attempt {attempt} > {max}");
                    }
                    assert!(delay <= config.reconnection_delay_max, "{delay:?}");
                    let (lo, hi) = m.backoff_bounds(attempt);
                    let d = delay.as_millis();
                    assert!(
                        lo <= d && d <= hi,
                        "attempt {attempt}: {d} ms not in [{lo}, {hi}]"
                    );
                    m.scheduled = Some((attempt, m.now + delay));
                }
                Event::ReconnectAttempt { attempt } => {
                    let (a, due) = m.scheduled.expect("attempt without schedule");
                    assert_eq!(attempt, a);
                    assert!(m.now >= due, "attempt before its delay");
                    assert!(opened, "attempt without Open");
                    attempt_seen = true;
                }
                Event::Reconnected { attempts } => {
                    let (a, _) = m.scheduled.take().expect("reconnected without schedule");
                    assert_eq!(attempts, a);
                }
                Event::ReconnectFailed => {
                    m.scheduled = None;
                    assert!(config.reconnection_attempts.is_some());
                }
                _ => {}
            }
        }
        if opened && !attempt_seen {
            // The only other Open: `connect` when no connection exists or is under way.
            assert!(matches!(op, Op::Connect { .. }), "Open from {op:?}");
        }
        if matches!(op, Op::Close) || (closed_transport && c.namespaces().next().is_none()) {
            m.scheduled = None;
        }
        for nsp in NSPS {
            assert_eq!(
                c.sid(nsp),
                m.connected.get(nsp).map(String::as_str),
                "{nsp}"
            );
        }
        if timed {
            // Never in the past. A deadline exactly at `now` is left when firing one
            // schedules the next with no delay (an open timing out with a zero
            // reconnection delay); one more call at the same instant must then fire it.
            if let Some(next) = c.poll_timeout() {
                assert!(next >= m.now, "{next:?} < {:?}", m.now);
                if next == m.now {
                    c.handle_timeout(m.now);
                    if let Some(again) = c.poll_timeout() {
                        assert!(again > m.now, "no progress at {:?}", m.now);
                    }
                    while let Some(a) = c.poll_transport() {
                        assert_eq!(a, TransportAction::Open);
                    }
                    while let Some(ev) = c.poll_event() {
                        match ev {
                            Event::ReconnectAttempt { attempt } => {
                                assert_eq!(Some(attempt), m.scheduled.map(|(a, _)| a));
                            }
                            Event::AckTimeout { nsp, id } => {
                                let d = m.live.remove(&(nsp, id)).expect("not pending");
                                assert!(d.is_some_and(|d| d <= m.now));
                            }
                            e => panic!("unexpected {e:?}"),
                        }
                    }
                }
            }
        }
        if matches!(op, Op::Advance(_) | Op::AtDeadline) {
            assert!(
                m.live.values().flatten().all(|d| *d > m.now),
                "an ack deadline passed"
            );
        }
    }
});

/// After a refused call: nothing happened.
fn continue_ok(c: &mut Connection) {
    assert_eq!(c.poll_transport(), None);
    assert_eq!(c.poll_event(), None);
}
