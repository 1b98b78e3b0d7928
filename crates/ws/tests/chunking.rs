//! Chunk invariance: the same events (and the same error, and the same bytes queued in reply)
//! whether the input is fed whole, one byte at a time, or split at random points.

use proptest::prelude::*;
use pushwire_ws::{Config, Connection, Event, FixedMaskKey, MessageKind, ProtocolError, Role};

#[derive(Debug, Clone)]
enum Op {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Fragmented(bool, Vec<u8>, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        ".{0,40}".prop_map(Op::Text),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Op::Binary),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(Op::Ping),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(Op::Pong),
        (any::<bool>(), ".{0,30}", 1usize..8).prop_map(|(t, s, n)| Op::Fragmented(
            t,
            s.into_bytes(),
            n
        )),
    ]
}

fn expected(op: &Op) -> Event {
    match op {
        Op::Text(s) => Event::Text(s.as_str().into()),
        Op::Binary(b) => Event::Binary(b.clone().into()),
        Op::Ping(b) => Event::Ping(b.clone().into()),
        Op::Pong(b) => Event::Pong(b.clone().into()),
        Op::Fragmented(true, b, _) => Event::Text(String::from_utf8(b.clone()).unwrap().into()),
        Op::Fragmented(false, b, _) => Event::Binary(b.clone().into()),
    }
}

fn encode(sender: Role, key: [u8; 4], ops: &[Op]) -> Vec<u8> {
    let mut c = Connection::with_mask_keys(sender, Config::default(), Box::new(FixedMaskKey(key)));
    for op in ops {
        match op.clone() {
            Op::Text(s) => c.send_text(s).unwrap(),
            Op::Binary(b) => c.send_binary(b).unwrap(),
            Op::Ping(b) => c.send_ping(b).unwrap(),
            Op::Pong(b) => c.send_pong(b).unwrap(),
            Op::Fragmented(t, b, n) => {
                let kind = if t {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                c.send_fragmented(kind, b, n).unwrap()
            }
        }
    }
    c.send_close(1000, "end").unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = c.poll_transmit() {
        out.extend_from_slice(&chunk);
    }
    out
}

type Outcome = (Vec<Event>, Option<ProtocolError>, Vec<u8>);

/// Feeds `wire` cut at `cuts`, polling with `poll_event`, or with `poll_event_ref` (events
/// copied out with `to_event`) when `borrowed`.
fn receive_with(role: Role, wire: &[u8], cuts: &[usize], borrowed: bool) -> Outcome {
    let mut c = Connection::with_mask_keys(
        role,
        Config::default(),
        Box::new(FixedMaskKey([1, 2, 3, 4])),
    );
    let mut events = Vec::new();
    let mut error = None;
    let mut start = 0;
    let mut points: Vec<usize> = cuts.iter().map(|&x| x.min(wire.len())).collect();
    points.sort_unstable();
    points.push(wire.len());
    for p in points {
        let p = p.max(start);
        c.feed(&wire[start..p]).unwrap();
        start = p;
        loop {
            let polled = if borrowed {
                c.poll_event_ref().map(|e| e.map(|e| e.to_event()))
            } else {
                c.poll_event()
            };
            match polled {
                Ok(Some(e)) => events.push(e),
                Ok(None) => break,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        if error.is_some() {
            break;
        }
    }
    let mut out = Vec::new();
    while let Some(chunk) = c.poll_transmit() {
        out.extend_from_slice(&chunk);
    }
    (events, error, out)
}

fn receive(role: Role, wire: &[u8], cuts: &[usize]) -> Outcome {
    receive_with(role, wire, cuts, false)
}

fn check_all_splits(role: Role, wire: &[u8], cuts: &[usize]) -> Result<Outcome, TestCaseError> {
    let whole = receive(role, wire, &[]);
    let every: Vec<usize> = (0..wire.len()).collect();
    prop_assert_eq!(&receive(role, wire, &every), &whole, "byte by byte");
    prop_assert_eq!(&receive(role, wire, cuts), &whole, "random splits");
    // The borrowing poll gives the same events, errors and replies.
    prop_assert_eq!(
        &receive_with(role, wire, &[], true),
        &whole,
        "borrowed, whole"
    );
    prop_assert_eq!(
        &receive_with(role, wire, &every, true),
        &whole,
        "borrowed, byte by byte"
    );
    prop_assert_eq!(
        &receive_with(role, wire, cuts, true),
        &whole,
        "borrowed, random splits"
    );
    Ok(whole)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn valid_streams_are_chunk_invariant(
        ops in proptest::collection::vec(op(), 0..8),
        key in proptest::array::uniform4(any::<u8>()),
        cuts in proptest::collection::vec(0usize..4000, 0..12),
        server_receives in any::<bool>(),
    ) {
        let (sender, receiver) = if server_receives {
            (Role::Client, Role::Server)
        } else {
            (Role::Server, Role::Client)
        };
        let wire = encode(sender, key, &ops);
        let (events, error, _) = check_all_splits(receiver, &wire, &cuts)?;
        prop_assert_eq!(error, None);
        let mut want: Vec<Event> = ops.iter().map(expected).collect();
        want.push(Event::Close(Some(pushwire_ws::CloseFrame::new(1000, "end").unwrap())));
        prop_assert_eq!(events, want);
    }

    #[test]
    fn arbitrary_input_is_chunk_invariant(
        wire in proptest::collection::vec(any::<u8>(), 0..200),
        cuts in proptest::collection::vec(0usize..200, 0..8),
        server in any::<bool>(),
    ) {
        let role = if server { Role::Server } else { Role::Client };
        check_all_splits(role, &wire, &cuts)?;
    }
}
