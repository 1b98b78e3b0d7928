//! Properties of the client `Connection` under any sequence of server messages (valid or
//! not), transport events, timeouts and application calls, in both revisions:
//!
//! - every message it sends decodes (a socket.io server would accept its wire);
//! - `handle_timeout` at `poll_timeout` always makes progress (the next deadline is later);
//! - `Disconnected` only follows `Connected`, and `sid()` agrees with the events (a
//!   namespace has one exactly between the two);
//! - an ack id returned by `emit_with_ack` is not in use on its namespace, and ends at most
//!   once (`Ack`, `AckTimeout` or `AckDropped`); no other id ends. (A namespace left and
//!   joined again counts from 0 again, its old ids all ended.)

use std::collections::{BTreeSet, HashSet};

use core::time::Duration;
use proptest::prelude::*;
use pushwire_engineio::Instant;
use pushwire_socketio::client::{Config, Connection, Event};
use pushwire_socketio::{Decoder, Limits, PacketData, ProtocolVersion, Value};

const NSPS: [&str; 3] = ["/", "/admin", "/x"];

#[derive(Debug, Clone)]
enum Op {
    Text(usize, usize),
    Binary(Vec<u8>),
    Open,
    OpenError,
    Closed,
    Advance(u64),
    AtDeadline,
    Connect(usize),
    Emit(usize, bool, Option<u64>),
    EmitBinary(usize),
    Ack(usize, u64),
    Disconnect(usize),
    Close,
}

/// Server texts for namespace `nsp` (`{n}` is the namespace with its comma, or nothing).
const TEXTS: [&str; 16] = [
    "0{n}",
    r#"0{n}{"sid":"abc"}"#,
    "1{n}",
    r#"2{n}["ev",1]"#,
    r#"2{n}3["ev"]"#,
    r#"3{n}0["ok"]"#,
    r#"3{n}1[]"#,
    r#"61-{n}2[{"_placeholder":true,"num":0}]"#,
    r#"51-{n}["b",{"_placeholder":true,"num":0}]"#,
    r#"4{n}{"message":"no"}"#,
    r#"4{n}"no""#,
    "9",
    "",
    r#"2{n}["connect"]"#,
    r#"0{n}{"sid":1}"#,
    "3{n}",
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..TEXTS.len(), 0..NSPS.len()).prop_map(|(t, n)| Op::Text(t, n)),
        1 => prop::collection::vec(any::<u8>(), 0..4).prop_map(Op::Binary),
        2 => Just(Op::Open),
        1 => Just(Op::OpenError),
        1 => Just(Op::Closed),
        1 => (0u64..30_000).prop_map(Op::Advance),
        2 => Just(Op::AtDeadline),
        2 => (0..NSPS.len()).prop_map(Op::Connect),
        3 => (0..NSPS.len(), any::<bool>(), prop::option::of(0u64..3000))
            .prop_map(|(n, a, t)| Op::Emit(n, a, t)),
        1 => (0..NSPS.len()).prop_map(Op::EmitBinary),
        1 => (0..NSPS.len(), 0u64..5).prop_map(|(n, id)| Op::Ack(n, id)),
        1 => (0..NSPS.len()).prop_map(Op::Disconnect),
        1 => Just(Op::Close),
    ]
}

fn server_text(t: usize, nsp: &str) -> String {
    let n = if nsp == "/" {
        String::new()
    } else {
        format!("{nsp},")
    };
    TEXTS[t].replace("{n}", &n)
}

fn run(version: ProtocolVersion, seed: u64, ops: &[Op]) {
    let config = Config::DEFAULT
        .with_reconnection_attempts(Some(3))
        .with_max_send_buffer(8)
        .with_max_pending_acks(6)
        .with_max_transmit_queue(16);
    let mut c = Connection::new(config, version, seed);
    let mut server = Decoder::new(version, Limits::DEFAULT);
    let mut now = Instant::ZERO;
    let mut connected: HashSet<String> = HashSet::new();
    // Ack ids issued and not ended yet.
    let mut live: BTreeSet<(String, u64)> = BTreeSet::new();

    for op in ops {
        match op {
            Op::Text(t, n) => c.handle_message(now, PacketData::Text(server_text(*t, NSPS[*n]))),
            Op::Binary(b) => c.handle_message(now, PacketData::Binary(b.clone().into())),
            Op::Open => c.handle_open(now, "eio"),
            Op::OpenError => c.handle_open_error(now),
            Op::Closed => c.handle_closed(now),
            Op::Advance(ms) => {
                now = now + Duration::from_millis(*ms);
                c.handle_timeout(now);
            }
            Op::AtDeadline => {
                if let Some(t) = c.poll_timeout() {
                    now = now.max(t);
                    c.handle_timeout(now);
                    // Progress: the deadline that fired is gone.
                    if let Some(next) = c.poll_timeout() {
                        assert!(next > now, "{next:?} <= {now:?}");
                    }
                }
            }
            Op::Connect(n) => {
                c.connect(now, NSPS[*n], None).unwrap();
            }
            Op::Emit(n, ack, timeout) => {
                let nsp = NSPS[*n];
                if *ack {
                    let t = timeout.map(Duration::from_millis);
                    if let Ok(id) = c.emit_with_ack(now, nsp, "e", &[Value::from(1u64)], t) {
                        assert!(live.insert((nsp.into(), id)), "id {id} still live on {nsp}");
                    }
                } else {
                    let _ = c.emit(now, nsp, "e", &[]);
                }
            }
            Op::EmitBinary(n) => {
                let _ = c.emit(now, NSPS[*n], "b", &[Value::Binary(vec![1, 2].into())]);
            }
            Op::Ack(n, id) => {
                let _ = c.ack(NSPS[*n], *id, &[Value::Null]);
            }
            Op::Disconnect(n) => {
                c.disconnect(NSPS[*n]);
            }
            Op::Close => c.close(),
        }
        // What the client sends is valid wire for a server of the same revision. (A
        // transport closed or reopened resets the server's decoder.)
        while let Some(m) = c.poll_transmit() {
            server.push(m).unwrap();
        }
        while c.poll_transport().is_some() {
            server = Decoder::new(version, Limits::DEFAULT);
        }
        while let Some(ev) = c.poll_event() {
            match ev {
                Event::Connected { nsp, .. } => {
                    connected.insert(nsp);
                }
                Event::Disconnected { nsp, .. } => {
                    assert!(
                        connected.remove(&nsp),
                        "disconnected without connect: {nsp}"
                    );
                }
                Event::Ack(p) => {
                    let key = (p.nsp().to_string(), p.id().unwrap());
                    assert!(live.remove(&key), "{p:?}");
                }
                Event::AckTimeout { nsp, id } | Event::AckDropped { nsp, id } => {
                    let key = (nsp, id);
                    assert!(live.remove(&key), "{key:?}");
                }
                _ => {}
            }
        }
        for nsp in NSPS {
            assert_eq!(c.sid(nsp).is_some(), connected.contains(nsp), "{nsp}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn v4_any_sequence_keeps_the_invariants(seed: u64, ops in prop::collection::vec(op(), 0..60)) {
        run(ProtocolVersion::V4, seed, &ops);
    }

    #[test]
    fn v5_any_sequence_keeps_the_invariants(seed: u64, ops in prop::collection::vec(op(), 0..60)) {
        run(ProtocolVersion::V5, seed, &ops);
    }
}
