//! Properties of the server connection under any input and any sequence of application
//! calls: no panic, and the event stream stays well formed (a socket disconnects only after
//! it connected, once; `Close` comes once and last; nothing is sent or scheduled after it;
//! every answer to a connect request names a namespace that asked).

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use pushwire_engineio::{Instant, PacketData};
use pushwire_socketio::server::{Config, Connection, DisconnectReason, Event};
use pushwire_socketio::{ProtocolVersion, Value};

const NSPS: [&str; 3] = ["/", "/a", "/b"];

#[derive(Debug, Clone)]
enum Step {
    Text(String),
    Binary(Vec<u8>),
    Accept(usize),
    Refuse(usize),
    Emit(usize, Option<u64>),
    Ack(usize, u64),
    Disconnect(usize),
    Advance(u64),
    /// Time moves to the connection's next deadline, exactly.
    Fire,
    Close,
    Closed,
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        // Plausible packets.
        "[0-6](1-)?(/a,|/b,|/a\\?t=1,)?[0-9]{0,2}",
        "[0-6](/a,|/b,)?[0-9]{0,2}\\[\"(x|connect)\"(,1)?\\]",
        "[0-6](/a,)?[0-9]?\\[\\{\"_placeholder\":true,\"num\":0\\}\\]",
        "0(/a,|/b,)?\\{\"token\":\"1\"\\}",
        // Anything.
        ".{0,12}",
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => text().prop_map(Step::Text),
        1 => proptest::collection::vec(any::<u8>(), 0..4).prop_map(Step::Binary),
        2 => (0..3usize).prop_map(Step::Accept),
        1 => (0..3usize).prop_map(Step::Refuse),
        2 => ((0..3usize), proptest::option::of(0..3_000u64)).prop_map(|(n, a)| Step::Emit(n, a)),
        1 => ((0..3usize), 0..5u64).prop_map(|(n, id)| Step::Ack(n, id)),
        1 => (0..3usize).prop_map(Step::Disconnect),
        2 => (0..50_000u64).prop_map(Step::Advance),
        2 => Just(Step::Fire),
        1 => Just(Step::Close),
        1 => Just(Step::Closed),
    ]
}

fn run(version: ProtocolVersion, steps: &[Step]) {
    let config = Config::DEFAULT
        .with_max_namespaces(2)
        .with_max_pending_acks(2)
        .with_max_queued_messages(8);
    let mut now = Instant::ZERO;
    let mut c = Connection::new(&config, version, "eio", now);
    let mut joined: BTreeSet<String> = BTreeSet::new();
    let mut requested: BTreeSet<String> = BTreeSet::new();
    let mut closed = false;
    let mut sids = 0u32;
    // `None` first: what the connection reports before any input (revision 4's `/`).
    for st in std::iter::once(None).chain(steps.iter().map(Some)) {
        let Some(st) = st else {
            check(
                &mut c,
                now,
                &mut joined,
                &mut requested,
                &mut closed,
                "start",
            );
            continue;
        };
        match st {
            Step::Text(t) => c.handle_message(now, PacketData::Text(t.clone())),
            Step::Binary(b) => c.handle_message(now, PacketData::Binary(Bytes::from(b.clone()))),
            Step::Accept(n) => {
                sids += 1;
                let id = format!("s{sids}");
                let r = c.accept(NSPS[*n], Some(&id));
                // Accepting is only possible for a namespace that asked.
                if r.is_ok() {
                    assert!(requested.remove(NSPS[*n]), "accepted unasked {}", NSPS[*n]);
                }
            }
            Step::Refuse(n) => {
                if c.refuse_invalid_namespace(NSPS[*n]).is_ok() {
                    assert!(requested.remove(NSPS[*n]));
                }
            }
            Step::Emit(n, ack) => {
                let r = c.emit(
                    now,
                    NSPS[*n],
                    "e",
                    &[Value::from(1u64)],
                    ack.map(Duration::from_millis),
                );
                if r.is_ok() {
                    assert!(joined.contains(NSPS[*n]));
                }
            }
            Step::Ack(n, id) => {
                let _ = c.ack(NSPS[*n], *id, &[]);
            }
            Step::Disconnect(n) => {
                let _ = c.disconnect(NSPS[*n]);
            }
            Step::Advance(ms) => {
                now = now + Duration::from_millis(*ms);
                c.handle_timeout(now);
            }
            Step::Fire => {
                now = c.poll_timeout().unwrap_or(now);
                c.handle_timeout(now);
            }
            Step::Close => c.close(),
            Step::Closed => c.handle_closed(now, DisconnectReason::TransportClose),
        }
        check(
            &mut c,
            now,
            &mut joined,
            &mut requested,
            &mut closed,
            &format!("{st:?}"),
        );
    }
}

/// Drains the connection's output and checks it against what came before.
fn check(
    c: &mut Connection,
    now: Instant,
    joined: &mut BTreeSet<String>,
    requested: &mut BTreeSet<String>,
    closed: &mut bool,
    st: &str,
) {
    {
        let mut sent_any = false;
        while c.poll_transmit().is_some() {
            sent_any = true;
        }
        assert!(!(*closed && sent_any), "sent after close: {st}");
        while let Some(e) = c.poll_event() {
            assert!(!*closed, "event after close: {e:?}");
            match e {
                Event::ConnectRequest { nsp, .. } => {
                    assert!(requested.insert(nsp.clone()), "asked twice: {nsp}");
                    assert!(!joined.contains(&nsp));
                }
                Event::Connected { nsp, .. } => assert!(joined.insert(nsp)),
                Event::Disconnected { nsp, .. } => assert!(joined.remove(&nsp)),
                Event::Event { nsp, .. }
                | Event::Ack { nsp, .. }
                | Event::AckTimeout { nsp, .. } => assert!(joined.contains(&nsp), "{nsp}"),
                Event::Close(_) => {
                    assert!(joined.is_empty(), "sockets left at close: {joined:?}");
                    *closed = true;
                }
                e => panic!("unknown event {e:?}"),
            }
        }
        if c.is_closed() {
            // Closed by `handle_closed` (no Close event) or by a Close event.
            assert!(joined.is_empty());
            assert_eq!(c.poll_timeout(), None);
            *closed = true;
        }
        if let Some(t) = c.poll_timeout() {
            assert!(t > now, "a deadline in the past was not fired");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn v4_any_input_keeps_the_event_stream_well_formed(steps in proptest::collection::vec(step(), 0..40)) {
        run(ProtocolVersion::V4, &steps);
    }

    #[test]
    fn v5_any_input_keeps_the_event_stream_well_formed(steps in proptest::collection::vec(step(), 0..40)) {
        run(ProtocolVersion::V5, &steps);
    }
}
