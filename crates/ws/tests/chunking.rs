//! Chunk invariance: the same events (and the same error, and the same bytes queued in reply)
//! whether the input is fed whole, one byte at a time, or split at random points.

use bytes::BufMut;
use proptest::prelude::*;
use pushwire_ws::{Config, Connection, Event, FixedMaskKey, MessageKind, ProtocolError, Role};

#[derive(Debug, Clone)]
enum Op {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Fragmented(bool, Vec<u8>, usize),
    /// A binary message long enough for `read_room`'s reads to stop at its end.
    Large(usize, u8),
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
        (16_000usize..70_000, any::<u8>()).prop_map(|(n, b)| Op::Large(n, b)),
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
        Op::Large(n, b) => Event::Binary(large(*n, *b).into()),
    }
}

fn large(n: usize, b: u8) -> Vec<u8> {
    (0..n).map(|i| b.wrapping_add(i as u8)).collect()
}

fn encode(sender: Role, key: [u8; 4], ops: &[Op]) -> Vec<u8> {
    let mut c = Connection::with_mask_keys(sender, Config::default(), Box::new(FixedMaskKey(key)));
    for op in ops {
        match op.clone() {
            Op::Text(s) => c.send_text(s).unwrap(),
            Op::Binary(b) => c.send_binary(b).unwrap(),
            Op::Ping(b) => c.send_ping(b).unwrap(),
            Op::Pong(b) => c.send_pong(b).unwrap(),
            Op::Large(n, b) => c.send_binary(large(n, b)).unwrap(),
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

/// How the input goes in.
#[derive(Debug, Clone, Copy)]
enum How {
    /// `feed`, polled with `poll_event`.
    Feed,
    /// `feed`, polled with `poll_event_ref` (events copied out with `to_event`).
    Borrowed,
    /// Read into `read_room(size)` (several rooms per chunk when a room takes less), polled
    /// with `poll_event` after each.
    Room(usize),
}

/// Polls until `Ok(None)` or an error; `true` on an error.
fn poll_all(
    c: &mut Connection,
    how: How,
    events: &mut Vec<Event>,
    error: &mut Option<ProtocolError>,
) -> bool {
    loop {
        let polled = match how {
            How::Borrowed => c.poll_event_ref().map(|e| e.map(|e| e.to_event())),
            How::Feed | How::Room(_) => c.poll_event(),
        };
        match polled {
            Ok(Some(e)) => events.push(e),
            Ok(None) => return false,
            Err(e) => {
                *error = Some(e);
                return true;
            }
        }
    }
}

/// Feeds `wire` cut at `cuts`, `how`.
fn receive_with(role: Role, wire: &[u8], cuts: &[usize], how: How) -> Outcome {
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
    'chunks: for p in points {
        let p = p.max(start);
        match how {
            How::Room(size) => {
                while start < p {
                    let mut room = c.read_room(size).unwrap();
                    let n = room.remaining().min(p - start);
                    assert!(n > 0, "a room takes at least one byte");
                    room.buf_mut().put_slice(&wire[start..start + n]);
                    assert_eq!(room.filled(), n);
                    c.commit_read(room).unwrap();
                    start += n;
                    if poll_all(&mut c, how, &mut events, &mut error) {
                        break 'chunks;
                    }
                }
            }
            How::Feed | How::Borrowed => {
                c.feed(&wire[start..p]).unwrap();
                start = p;
                if poll_all(&mut c, how, &mut events, &mut error) {
                    break;
                }
            }
        }
    }
    let mut out = Vec::new();
    while let Some(chunk) = c.poll_transmit() {
        out.extend_from_slice(&chunk);
    }
    (events, error, out)
}

fn receive(role: Role, wire: &[u8], cuts: &[usize]) -> Outcome {
    receive_with(role, wire, cuts, How::Feed)
}

fn check_all_splits(
    role: Role,
    wire: &[u8],
    cuts: &[usize],
    read_size: usize,
) -> Result<Outcome, TestCaseError> {
    let whole = receive(role, wire, &[]);
    let every: Vec<usize> = (0..wire.len()).collect();
    prop_assert_eq!(&receive(role, wire, &every), &whole, "byte by byte");
    // Reading straight into the input buffer gives the same, whatever the read size.
    prop_assert_eq!(
        &receive_with(role, wire, &[], How::Room(read_size)),
        &whole,
        "rooms, whole"
    );
    prop_assert_eq!(
        &receive_with(role, wire, cuts, How::Room(read_size)),
        &whole,
        "rooms, random splits"
    );
    prop_assert_eq!(&receive(role, wire, cuts), &whole, "random splits");
    // The borrowing poll gives the same events, errors and replies.
    prop_assert_eq!(
        &receive_with(role, wire, &[], How::Borrowed),
        &whole,
        "borrowed, whole"
    );
    prop_assert_eq!(
        &receive_with(role, wire, &every, How::Borrowed),
        &whole,
        "borrowed, byte by byte"
    );
    prop_assert_eq!(
        &receive_with(role, wire, cuts, How::Borrowed),
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
        read_size in prop_oneof![1usize..64, 64usize..70_000],
    ) {
        let (sender, receiver) = if server_receives {
            (Role::Client, Role::Server)
        } else {
            (Role::Server, Role::Client)
        };
        let wire = encode(sender, key, &ops);
        let (events, error, _) = check_all_splits(receiver, &wire, &cuts, read_size)?;
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
        read_size in 1usize..300,
    ) {
        let role = if server { Role::Server } else { Role::Client };
        check_all_splits(role, &wire, &cuts, read_size)?;
    }
}
