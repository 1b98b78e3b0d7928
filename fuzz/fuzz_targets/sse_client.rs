//! Drives a client `Session` with arbitrary responses, body bytes, ends, network errors,
//! closes and clock steps, under small limits and timeouts. Oracle: no panic; a `Wait` is
//! never due already (`until > now`) and equals `poll_timeout()`; every `Connect` carries the
//! parser's last event ID (none when empty) and comes only when the deadline has come; after
//! `Closed`/`Failed` nothing but the same `Closed`/`Failed`; a reconnection waits at least
//! the reconnection time and at most the cap (or the server's longer `retry`); consecutive
//! failures never exceed `max_attempts`; each event carries the session's last event ID;
//! the parser holds no more than its limit.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pushwire_sse::client::{Action, Config, Jitter, ReadyState, Session};
use pushwire_sse::{Instant, Limits};
use std::time::Duration;

#[derive(Debug, Arbitrary)]
enum Op {
    Poll,
    Advance(u16),
    /// Jump to the session's deadline, then poll.
    ToDeadline,
    Respond {
        status: u8,
        content_type: u8,
    },
    Feed(Vec<u8>),
    FeedBytes(Vec<u8>),
    Eof,
    Error,
    Close,
    Drain,
}

#[derive(Debug, Arbitrary)]
struct Setup {
    jitter: u8,
    max_attempts: Option<u8>,
    reconnection_ms: u16,
    min_backoff_ms: u16,
    max_backoff_ms: u16,
    reset_ms: u16,
    connect_timeout_ms: Option<u16>,
    read_timeout_ms: Option<u16>,
    seed: u64,
    last_event_id: String,
}

const STATUSES: [u16; 8] = [200, 200, 200, 204, 500, 301, 404, 503];
const TYPES: [Option<&[u8]>; 6] = [
    Some(b"text/event-stream"),
    Some(b"Text/Event-Stream; charset=utf-8"),
    Some(b"text/event-stream;x"),
    Some(b"text/plain"),
    Some(b"text/event-streamx"),
    None,
];

fn ms(n: u16) -> Duration {
    Duration::from_millis(u64::from(n))
}

fuzz_target!(|input: (Setup, Vec<Op>)| {
    let (setup, ops) = input;
    let limits = Limits::DEFAULT
        .with_max_line_len(64)
        .with_max_event_size(256)
        .with_max_buffered_input(512);
    let config = Config::DEFAULT
        .with_parser(pushwire_sse::Config::DEFAULT.with_limits(limits))
        .with_jitter(match setup.jitter % 3 {
            0 => Jitter::None,
            1 => Jitter::Full,
            _ => Jitter::Decorrelated,
        })
        .with_max_attempts(setup.max_attempts.map(u32::from))
        .with_reconnection_time(ms(setup.reconnection_ms))
        .with_min_backoff(ms(setup.min_backoff_ms))
        .with_max_backoff(ms(setup.max_backoff_ms))
        .with_backoff_reset_after(ms(setup.reset_ms))
        .with_connect_timeout(setup.connect_timeout_ms.map(ms))
        .with_read_timeout(setup.read_timeout_ms.map(ms));
    let mut s = Session::new(config, setup.seed);
    // A stored id is taken unless it could inject a header or never come from a stream.
    let bad_id = setup.last_event_id.contains(['\r', '\n', '\0']);
    s = match s.with_last_event_id(&setup.last_event_id) {
        Ok(s) => {
            assert!(!bad_id);
            assert_eq!(s.last_event_id(), setup.last_event_id);
            s
        }
        Err(_) => {
            assert!(bad_id);
            Session::new(config, setup.seed)
        }
    };
    let mut now = Instant::ZERO;
    let mut ended = None;
    // A request is in flight or a stream is open: a drop schedules a reconnection.
    let mut live = false;
    for op in ops {
        let mut dropped = false;
        match op {
            Op::Poll => dropped = poll(&mut s, now, &mut ended, &mut live),
            Op::Advance(d) => now = now + ms(d),
            Op::ToDeadline => {
                if let Some(t) = s.poll_timeout() {
                    now = now.max(t);
                }
                dropped = poll(&mut s, now, &mut ended, &mut live);
            }
            Op::Respond {
                status,
                content_type,
            } => s.handle_response(
                now,
                STATUSES[usize::from(status) % STATUSES.len()],
                TYPES[usize::from(content_type) % TYPES.len()],
            ),
            Op::Feed(b) => {
                let _ = s.feed(now, &b);
            }
            Op::FeedBytes(b) => {
                let _ = s.feed_bytes(now, b);
            }
            Op::Eof => {
                dropped = live && s.ready_state() == ReadyState::Open;
                s.feed_eof(now);
            }
            Op::Error => {
                dropped = live;
                s.handle_error(now);
            }
            Op::Close => s.close(),
            Op::Drain => {
                while let Ok(Some(ev)) = s.poll_event() {
                    assert_eq!(ev.last_event_id(), s.last_event_id());
                }
            }
        }
        if dropped {
            live = false;
            if s.ready_state() == ReadyState::Connecting {
                // "Wait a delay equal to the reconnection time", then optionally more, within
                // the cap unless the server's retry is longer; exactly it after a healthy
                // stream.
                let wait = s.poll_timeout().unwrap().saturating_duration_since(now);
                let base = s.reconnection_time();
                assert!(wait >= base && wait <= base.max(config.max_backoff));
                if s.failed_attempts() == 0 {
                    assert_eq!(wait, base);
                }
            }
        }
        if s.ready_state() == ReadyState::Closed {
            live = false;
        }
        assert!(s.parser().buffered() <= limits.max_buffered_input);
        if let Some(max) = config.max_attempts {
            assert!(s.failed_attempts() <= max.max(1));
        }
        if ended.is_some() {
            assert_eq!(s.ready_state(), ReadyState::Closed);
        }
    }
});

/// Polls an action and checks it; true if it dropped a connection.
fn poll(s: &mut Session, now: Instant, ended: &mut Option<Action>, live: &mut bool) -> bool {
    let id_before = s.last_event_id().to_string();
    let deadline = s.poll_timeout();
    let a = s.poll_action(now);
    if let Some(end) = ended {
        assert_eq!(&a, end, "after the end, only the end");
        return false;
    }
    match &a {
        Action::Connect { last_event_id } => {
            assert_eq!(
                last_event_id.as_deref(),
                (!id_before.is_empty()).then_some(id_before.as_str())
            );
            assert!(deadline.is_some_and(|t| t <= now));
            assert!(!*live);
            // Never a header injection.
            assert!(!last_event_id
                .as_deref()
                .is_some_and(|id| id.contains(['\r', '\n', '\0'])));
            *live = true;
        }
        Action::Wait { until } => {
            assert_eq!(*until, s.poll_timeout());
            if let Some(t) = until {
                assert!(*t > now);
            }
        }
        Action::Disconnect(_) => {
            assert!(deadline.is_some_and(|t| t <= now));
            assert!(*live);
            return true;
        }
        Action::Closed(_) | Action::Failed(_) => *ended = Some(a.clone()),
        _ => {}
    }
    false
}
