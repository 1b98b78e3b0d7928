//! Properties of the client `Session` against a model server that resumes after the
//! `Last-Event-ID` it is sent: whatever the chunking of each body, wherever each connection
//! drops (a clean end, a network error, a read timeout, or a failure before the response),
//! every event arrives exactly once and in order, and each reconnection asks for the id of
//! the last event dispatched.

use core::time::Duration;
use proptest::prelude::*;
use pushwire_sse::client::{Action, Config, DisconnectReason, Jitter, Session};
use pushwire_sse::{EventBuilder, Instant};

/// How one connection ends.
#[derive(Debug, Clone, Copy)]
enum End {
    Eof,
    Error,
    ReadTimeout,
    /// A network error before the response.
    Refused,
}

#[derive(Debug, Clone)]
struct Conn {
    /// Where the body is cut, as a fraction of its length (in 1/65536).
    cut: u16,
    /// Read sizes, used in turn.
    chunks: Vec<usize>,
    end: End,
}

fn conn() -> impl Strategy<Value = Conn> {
    (
        any::<u16>(),
        prop::collection::vec(1usize..40, 1..6),
        prop_oneof![
            Just(End::Eof),
            Just(End::Error),
            Just(End::ReadTimeout),
            Just(End::Refused)
        ],
    )
        .prop_map(|(cut, chunks, end)| Conn { cut, chunks, end })
}

/// Data with line ends of every kind and multi-byte characters.
fn data() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just('\n'),
            Just('\r'),
            Just('é'),
            Just(':'),
            Just(' '),
            prop::char::range('a', 'z')
        ],
        0..24,
    )
    .prop_map(|v| v.into_iter().collect())
}

/// The event stream from event index `from` on; events have ids "1", "2", ...; some are
/// preceded by a `retry` field or a comment, and line ends vary.
fn body(events: &[(String, u8)], from: usize) -> Vec<u8> {
    let mut out = bytes::BytesMut::new();
    for (i, (data, extra)) in events.iter().enumerate().skip(from) {
        match extra % 4 {
            1 => out.extend_from_slice(format!("retry: {}\r\n", 10 + u64::from(*extra)).as_bytes()),
            2 => out.extend_from_slice(b": keep-alive\r"),
            _ => {}
        }
        EventBuilder::new()
            .id(&(i + 1).to_string())
            .unwrap()
            .data(data.as_str())
            .encode(&mut out);
    }
    out.to_vec()
}

/// What a browser sees as the data: line ends normalised to LF.
fn normalise(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

fn run(events: &[(String, u8)], plan: &[Conn], jitter: Jitter, seed: u64) {
    let cfg = Config::DEFAULT
        .with_jitter(jitter)
        .with_reconnection_time(Duration::from_millis(500))
        .with_read_timeout(Some(Duration::from_secs(10)))
        .with_backoff_reset_after(Duration::from_millis(30));
    let cap = cfg.max_backoff;
    let mut s = Session::new(cfg, seed);
    let mut now = Instant::ZERO;
    // (data, last_event_id) of each event received.
    let mut got: Vec<(String, String)> = Vec::new();
    let planned = plan.len();
    let mut plan = plan.iter();
    let mut connects = 0;
    loop {
        let action = s.poll_action(now);
        let Action::Connect { last_event_id } = action else {
            match action {
                Action::Wait { until: Some(t) } => {
                    assert!(t > now);
                    now = t;
                    continue;
                }
                a => panic!("unexpected {a:?}"),
            }
        };
        connects += 1;
        assert!(connects <= planned + 1, "more connections than planned");
        // The id of the last event dispatched, none if none yet.
        let expected = got.last().map(|(_, id)| id.clone());
        assert_eq!(last_event_id, expected);
        let from: usize = last_event_id.map_or(0, |id| id.parse().unwrap());
        let body = body(events, from);
        let conn = plan.next();
        if let Some(Conn {
            end: End::Refused, ..
        }) = conn
        {
            s.handle_error(now);
        } else {
            s.handle_response(now, 200, Some(b"text/event-stream; charset=utf-8"));
            let cut = conn.map_or(body.len(), |c| {
                usize::try_from(body.len() as u64 * u64::from(c.cut) / 65536).unwrap()
            });
            let sizes = conn.map_or(&[7usize][..], |c| &c.chunks[..]);
            let mut pos = 0;
            let mut k = 0;
            while pos < cut {
                let n = sizes[k % sizes.len()].min(cut - pos);
                k += 1;
                now = now + Duration::from_millis(1);
                s.feed(now, &body[pos..pos + n]).unwrap();
                pos += n;
                while let Some(ev) = s.poll_event().unwrap() {
                    got.push((ev.data().to_string(), ev.last_event_id().to_string()));
                }
            }
            match conn.map(|c| c.end) {
                None => break,
                Some(End::Eof) => s.feed_eof(now),
                Some(End::Error) => s.handle_error(now),
                Some(End::ReadTimeout) => {
                    now = s.poll_timeout().unwrap();
                    assert_eq!(
                        s.poll_action(now),
                        Action::Disconnect(DisconnectReason::ReadTimeout)
                    );
                }
                Some(End::Refused) => unreachable!(),
            }
            while let Some(ev) = s.poll_event().unwrap() {
                got.push((ev.data().to_string(), ev.last_event_id().to_string()));
            }
        }
        // "Wait a delay equal to the reconnection time", at least; never beyond the cap
        // unless the server asked for more.
        let wait = s.poll_timeout().unwrap().saturating_duration_since(now);
        let base = s.reconnection_time();
        assert!(wait >= base && wait <= base.max(cap), "{wait:?} {base:?}");
    }
    let want: Vec<(String, String)> = events
        .iter()
        .enumerate()
        .map(|(i, (d, _))| (normalise(d), (i + 1).to_string()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(s.last_event_id(), events.len().to_string());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_event_arrives_once_whatever_the_chunking_and_the_drops(
        events in prop::collection::vec((data(), any::<u8>()), 1..12),
        plan in prop::collection::vec(conn(), 0..12),
        jitter in prop_oneof![Just(Jitter::None), Just(Jitter::Full), Just(Jitter::Decorrelated)],
        seed in any::<u64>(),
    ) {
        run(&events, &plan, jitter, seed);
    }
}
