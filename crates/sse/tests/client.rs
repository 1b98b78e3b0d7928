//! The client `Session`, rule by rule: each test quotes the sentence of WHATWG HTML §9.2
//! (shared/specs/server-sent-events.md) or names the production feature it checks.

use core::time::Duration;
use pushwire_sse::client::{
    Action, CloseReason, Config, DisconnectReason, FailReason, Jitter, ReadyState, Session,
};
use pushwire_sse::{EncodeError, Instant, Limits, ParseError};

const ES: Option<&[u8]> = Some(b"text/event-stream");

/// A request without `Last-Event-ID`.
const CONNECT_NO_ID: Action = Action::Connect {
    last_event_id: None,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn at(n: u64) -> Instant {
    Instant::from_millis(n)
}

/// No timeouts, no jitter, 1 s reconnection time, 100 ms minimum backoff base: every delay
/// is exact.
fn plain() -> Config {
    Config::DEFAULT
        .with_reconnection_time(ms(1000))
        .with_min_backoff(ms(100))
        .with_jitter(Jitter::None)
        .with_connect_timeout(None)
        .with_read_timeout(None)
}

/// Polls `Connect` at `now` and answers it with a 200 event stream; returns the
/// `Last-Event-ID` the request carried.
fn open(s: &mut Session, now: Instant) -> Option<String> {
    let Action::Connect { last_event_id } = s.poll_action(now) else {
        panic!("expected Connect at {now:?}, state {:?}", s.ready_state());
    };
    s.handle_response(now, 200, ES);
    assert_eq!(s.ready_state(), ReadyState::Open);
    last_event_id
}

/// Feeds a body and polls all its events, returning their data.
fn feed(s: &mut Session, now: Instant, body: &str) -> Vec<String> {
    s.feed(now, body.as_bytes()).unwrap();
    let mut out = Vec::new();
    while let Some(ev) = s.poll_event().unwrap() {
        out.push(ev.data().to_string());
    }
    out
}

/// The deadline of the `Wait` polled at `now`.
fn wait_until(s: &mut Session, now: Instant) -> Instant {
    match s.poll_action(now) {
        Action::Wait { until: Some(t) } => {
            assert!(t > now);
            t
        }
        a => panic!("expected Wait with a deadline, got {a:?}"),
    }
}

/// The delay of the reconnection scheduled at `now` (or `Connect` at once: 0).
fn delay_from(s: &mut Session, now: Instant) -> Duration {
    match s.poll_action(now) {
        Action::Wait { until: Some(t) } => t.saturating_duration_since(now),
        Action::Connect { .. } => Duration::ZERO,
        a => panic!("expected a reconnection, got {a:?}"),
    }
}

#[test]
fn first_poll_connects_without_last_event_id() {
    let mut s = Session::new(plain(), 1);
    assert_eq!(s.ready_state(), ReadyState::Connecting);
    assert_eq!(s.poll_action(at(5)), CONNECT_NO_ID);
    // Extra calls are harmless: no second Connect while the request is open.
    assert_eq!(s.poll_action(at(5)), Action::Wait { until: None });
    assert_eq!(s.poll_action(at(9)), Action::Wait { until: None });
}

#[test]
fn status_204_closes_and_never_reconnects() {
    // "a client can be told to stop reconnecting using the HTTP 204 No Content response code"
    let mut s = Session::new(plain(), 1);
    let _ = s.poll_action(at(0));
    s.handle_response(at(0), 204, None);
    assert_eq!(s.ready_state(), ReadyState::Closed);
    for t in [0, 1_000, 10_000_000] {
        assert_eq!(s.poll_action(at(t)), Action::Closed(CloseReason::NoContent));
    }
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn status_500_fails_without_retry() {
    // "if res's status is not 200 [...] then fail the connection." "Once the user agent has
    // failed the connection, it does not attempt to reconnect."
    for status in [500, 503, 404, 301, 201, 100] {
        let mut s = Session::new(plain(), 1);
        let _ = s.poll_action(at(0));
        s.handle_response(at(0), status, ES);
        let failed = Action::Failed(FailReason::Status { status });
        assert_eq!(s.poll_action(at(0)), failed);
        assert_eq!(s.poll_action(at(1_000_000)), failed);
        assert_eq!(s.ready_state(), ReadyState::Closed);
        // A late report changes nothing.
        s.handle_error(at(1));
        s.handle_response(at(1), 200, ES);
        assert_eq!(s.poll_action(at(2_000_000)), failed);
    }
}

#[test]
fn wrong_content_type_fails() {
    // "or if res's Content-Type is not text/event-stream, then fail the connection."
    for ct in [Some(&b"text/plain"[..]), Some(b"application/json"), None] {
        let mut s = Session::new(plain(), 1);
        let _ = s.poll_action(at(0));
        s.handle_response(at(0), 200, ct);
        let expect = FailReason::ContentType {
            content_type: ct.map(|c| String::from_utf8(c.to_vec()).unwrap()),
        };
        assert_eq!(s.poll_action(at(99_999)), Action::Failed(expect));
    }
}

#[test]
fn content_type_parameters_and_case_are_accepted() {
    for ct in [
        &b"text/event-stream; charset=utf-8"[..],
        b"TEXT/Event-Stream",
        b"text/event-stream;charset=UTF-8 ",
    ] {
        let mut s = Session::new(plain(), 1);
        let _ = s.poll_action(at(0));
        s.handle_response(at(0), 200, Some(ct));
        assert_eq!(s.ready_state(), ReadyState::Open);
        assert_eq!(feed(&mut s, at(1), "data: ok\n\n"), ["ok"]);
    }
}

#[test]
fn end_of_body_reestablishes_after_the_reconnection_time() {
    // "if res is not a network error, then finalizeEventSourceFetch with res, and
    // reestablish the connection." "2. Wait a delay equal to the reconnection time"
    let cfg = plain().with_backoff_reset_after(ms(0));
    let mut s = Session::new(cfg, 1);
    open(&mut s, at(0));
    s.feed_eof(at(10));
    assert_eq!(s.ready_state(), ReadyState::Connecting);
    assert_eq!(wait_until(&mut s, at(10)), at(1010));
    assert_eq!(wait_until(&mut s, at(1009)), at(1010));
    assert_eq!(s.poll_action(at(1010)), CONNECT_NO_ID);
}

#[test]
fn network_error_before_or_during_the_stream_reestablishes() {
    // "Otherwise, if res is a network error, then call finalizeEventSourceFetch given res,
    // and reestablish the connection"
    let cfg = plain().with_backoff_reset_after(ms(0));
    let mut s = Session::new(cfg, 1);
    let _ = s.poll_action(at(0));
    s.handle_error(at(5)); // before the response: a failed attempt, backed off (2^1)
    assert_eq!(wait_until(&mut s, at(5)), at(2005));
    open(&mut s, at(2005));
    s.handle_error(at(3000)); // during the stream (healthy: reset after 0)
    assert_eq!(wait_until(&mut s, at(3000)), at(4000));
    assert_eq!(s.failed_attempts(), 0);
}

#[test]
fn retry_field_sets_the_base_delay() {
    // "If the field value consists of only ASCII digits, then interpret the field value as
    // an integer in base ten, and set the event stream's reconnection time to that integer."
    let cfg = plain().with_backoff_reset_after(ms(0));
    let mut s = Session::new(cfg, 1);
    open(&mut s, at(0));
    assert_eq!(s.reconnection_time(), ms(1000));
    assert!(feed(&mut s, at(1), "retry: 250\n\nretry: 2x\n\n").is_empty());
    assert_eq!(s.reconnection_time(), ms(250));
    s.feed_eof(at(100));
    assert_eq!(wait_until(&mut s, at(100)), at(350));
    // The value survives the reconnection, and a new one replaces it.
    assert_eq!(open(&mut s, at(350)), None);
    assert!(feed(&mut s, at(351), "retry: 7000\n").is_empty());
    s.handle_error(at(400));
    assert_eq!(wait_until(&mut s, at(400)), at(7400));
}

#[test]
fn last_event_id_is_sent_on_every_reconnection() {
    // "If the EventSource object's last event ID string is not the empty string, then: [...]
    // Set (`Last-Event-ID`, lastEventIDValue) in request's header list."
    let cfg = plain().with_backoff_reset_after(ms(0));
    let mut s = Session::new(cfg, 1);
    assert_eq!(open(&mut s, at(0)), None);
    assert_eq!(
        feed(&mut s, at(1), "id: 1\ndata: a\n\nid: 2\ndata: b\n\n"),
        ["a", "b"]
    );
    s.handle_error(at(2));
    assert_eq!(open(&mut s, at(1002)), Some("2".into()));
    // An event without `id` keeps the id in force ("The buffer does not get reset").
    assert_eq!(feed(&mut s, at(1003), "data: c\n\n"), ["c"]);
    s.feed_eof(at(1004));
    assert_eq!(open(&mut s, at(2004)), Some("2".into()));
    assert_eq!(feed(&mut s, at(2005), "id: 3\ndata: d\n\n"), ["d"]);
    s.feed_eof(at(2006));
    assert_eq!(open(&mut s, at(3006)), Some("3".into()));
    assert_eq!(s.last_event_id(), "3");
}

#[test]
fn empty_id_field_resets_the_last_event_id() {
    // "The third block [...] resets the last event ID to the empty string (meaning no
    // `Last-Event-ID` header will now be sent in the event of a reconnection being
    // attempted)."
    for reset in ["id\n\n", "id:\n\n", "id:\ndata: x\n\n"] {
        let mut s = Session::new(plain().with_backoff_reset_after(ms(0)), 1);
        open(&mut s, at(0));
        let _ = feed(&mut s, at(1), "id: 1\ndata: first\n\n");
        assert_eq!(s.last_event_id(), "1");
        let _ = feed(&mut s, at(2), reset);
        assert_eq!(s.last_event_id(), "", "{reset:?}");
        s.feed_eof(at(3));
        assert_eq!(open(&mut s, at(1003)), None, "{reset:?}");
    }
}

#[test]
fn id_containing_nul_is_ignored() {
    // "If the field value does not contain U+0000 NULL, then set the last event ID buffer to
    // the field value. Otherwise, ignore the field."
    let mut s = Session::new(plain().with_backoff_reset_after(ms(0)), 1);
    open(&mut s, at(0));
    let _ = feed(&mut s, at(1), "id: 5\ndata: a\n\nid: 6\0\ndata: b\n\n");
    s.handle_error(at(2));
    assert_eq!(open(&mut s, at(1002)), Some("5".into()));
}

#[test]
fn unfinished_event_and_its_id_die_with_the_stream() {
    // "If the file ends in the middle of an event, before the final empty line, the
    // incomplete event is not dispatched." Its `id` never became the last event ID string,
    // and does not leak into the next stream's events either.
    let mut s = Session::new(plain().with_backoff_reset_after(ms(0)), 1);
    open(&mut s, at(0));
    assert_eq!(
        feed(&mut s, at(1), "id: 1\ndata: a\n\nid: 2\ndata: par"),
        ["a"]
    );
    s.handle_error(at(2));
    assert_eq!(s.poll_event(), Ok(None));
    assert_eq!(open(&mut s, at(1002)), Some("1".into()));
    s.feed(at(1003), b"data: next\n\n").unwrap();
    let ev = s.poll_event().unwrap().unwrap();
    assert_eq!((ev.data(), ev.last_event_id()), ("next", "1"));
}

#[test]
fn unpolled_input_of_a_dead_stream_is_dropped_at_the_next_response() {
    let mut s = Session::new(plain().with_backoff_reset_after(ms(0)), 1);
    open(&mut s, at(0));
    s.feed(at(1), b"data: never polled\n\n").unwrap();
    s.handle_error(at(2));
    open(&mut s, at(1002));
    assert_eq!(s.parser().buffered(), 0);
    assert_eq!(feed(&mut s, at(1003), "data: new\n\n"), ["new"]);
}

#[test]
fn full_jitter_backoff_stays_within_the_exponential_window_and_the_cap() {
    // "if the previous attempt failed, then user agents might introduce an exponential
    // backoff delay": after n failures, within [b, min(cap, b * 2^n)].
    let cap = ms(20_000);
    let cfg = plain().with_jitter(Jitter::Full).with_max_backoff(cap);
    for seed in 0..50 {
        let mut s = Session::new(cfg, seed);
        let mut now = at(0);
        let mut reached_cap_window = false;
        for n in 1..=12u32 {
            let _ = s.poll_action(now);
            s.handle_error(now);
            assert_eq!(s.failed_attempts(), n);
            let d = delay_from(&mut s, now);
            let window = ms(1000 * (1u64 << n)).min(cap);
            assert!(d >= ms(1000) && d <= window, "seed {seed} n {n}: {d:?}");
            reached_cap_window |= window == cap;
            now = now + d;
        }
        assert!(reached_cap_window);
    }
}

#[test]
fn backoff_spreads_clients_with_different_seeds() {
    let cfg = plain().with_jitter(Jitter::Full);
    let delays: std::collections::BTreeSet<Duration> = (0..20)
        .map(|seed| {
            let mut s = Session::new(cfg, seed);
            let _ = s.poll_action(at(0));
            s.handle_error(at(0));
            delay_from(&mut s, at(0))
        })
        .collect();
    assert!(delays.len() > 10, "{delays:?}");
}

#[test]
fn healthy_stream_resets_the_backoff() {
    let cfg = plain().with_backoff_reset_after(ms(60_000));
    let mut s = Session::new(cfg, 1);
    let mut now = at(0);
    for n in 1..=4 {
        let _ = s.poll_action(now);
        s.handle_error(now);
        let d = delay_from(&mut s, now);
        assert_eq!(d, ms(1000 << n));
        now = now + d;
    }
    // A stream that lives less than 60 s is still a failed attempt...
    open(&mut s, now);
    s.feed_eof(now + ms(59_999));
    now = now + ms(59_999);
    assert_eq!(s.failed_attempts(), 5);
    let d = delay_from(&mut s, now);
    assert_eq!(d, ms(32_000));
    now = now + d;
    // ...one that lives 60 s is healthy: the next wait is the reconnection time again.
    open(&mut s, now);
    s.feed_eof(now + ms(60_000));
    now = now + ms(60_000);
    assert_eq!(s.failed_attempts(), 0);
    assert_eq!(delay_from(&mut s, now), ms(1000));
}

#[test]
fn read_timeout_fires_only_after_the_full_time_without_bytes() {
    let cfg = plain()
        .with_read_timeout(Some(ms(10_000)))
        .with_backoff_reset_after(ms(0));
    let mut s = Session::new(cfg, 1);
    open(&mut s, at(0));
    assert_eq!(wait_until(&mut s, at(0)), at(10_000));
    assert_eq!(wait_until(&mut s, at(9_999)), at(10_000));
    // Bytes (a keep-alive comment) push the deadline back; an empty read does not.
    s.feed(at(9_000), b": keep-alive\n").unwrap();
    s.feed(at(9_500), b"").unwrap();
    assert_eq!(wait_until(&mut s, at(18_999)), at(19_000));
    assert_eq!(s.ready_state(), ReadyState::Open);
    assert_eq!(
        s.poll_action(at(19_000)),
        Action::Disconnect(DisconnectReason::ReadTimeout)
    );
    assert_eq!(s.ready_state(), ReadyState::Connecting);
    assert_eq!(wait_until(&mut s, at(19_000)), at(20_000));
    assert_eq!(s.poll_action(at(20_000)), CONNECT_NO_ID);
}

#[test]
fn connect_timeout_gives_up_on_a_silent_request() {
    let cfg = plain().with_connect_timeout(Some(ms(5_000)));
    let mut s = Session::new(cfg, 1);
    let _ = s.poll_action(at(0));
    assert_eq!(wait_until(&mut s, at(4_999)), at(5_000));
    assert_eq!(
        s.poll_action(at(5_000)),
        Action::Disconnect(DisconnectReason::ConnectTimeout)
    );
    assert_eq!(s.failed_attempts(), 1);
    // A response to the abandoned request is ignored.
    s.handle_response(at(5_001), 200, ES);
    assert_eq!(s.ready_state(), ReadyState::Connecting);
    assert_eq!(wait_until(&mut s, at(5_001)), at(7_000));
}

#[test]
fn max_attempts_fails_after_that_many_consecutive_failures() {
    let cfg = plain().with_max_attempts(Some(3));
    let mut s = Session::new(cfg, 1);
    let mut now = at(0);
    for n in 1..=2 {
        let _ = s.poll_action(now);
        s.handle_error(now);
        assert_eq!(s.failed_attempts(), n);
        now = now + delay_from(&mut s, now);
    }
    assert!(matches!(s.poll_action(now), Action::Connect { .. }));
    s.handle_error(now);
    let failed = Action::Failed(FailReason::TooManyAttempts { attempts: 3 });
    assert_eq!(s.poll_action(now), failed);
    assert_eq!(s.poll_action(at(u64::MAX)), failed);
}

#[test]
fn max_attempts_counts_only_consecutive_failures() {
    let cfg = plain()
        .with_max_attempts(Some(2))
        .with_backoff_reset_after(ms(1_000));
    let mut s = Session::new(cfg, 1);
    let mut now = at(0);
    for _ in 0..5 {
        let _ = s.poll_action(now);
        s.handle_error(now); // one failure...
        now = now + delay_from(&mut s, now);
        open(&mut s, now); // ...then a healthy stream
        now = now + ms(1_000);
        s.feed_eof(now);
        assert_eq!(s.failed_attempts(), 0);
        now = now + delay_from(&mut s, now);
    }
}

#[test]
fn close_ends_the_session_in_any_state() {
    let mut s = Session::new(plain(), 1);
    open(&mut s, at(0));
    s.close();
    assert_eq!(s.ready_state(), ReadyState::Closed);
    assert_eq!(s.poll_action(at(1)), Action::Closed(CloseReason::Closed));
    s.feed(at(2), b"data: late\n\n").unwrap();
    assert_eq!(s.poll_event(), Ok(None));
    let mut s = Session::new(plain(), 1);
    let _ = s.poll_action(at(0));
    s.handle_error(at(0));
    s.close();
    assert_eq!(
        s.poll_action(at(999_999)),
        Action::Closed(CloseReason::Closed)
    );
}

#[test]
fn body_over_the_limits_fails_the_session() {
    let parser = pushwire_sse::Config::DEFAULT.with_limits(Limits::DEFAULT.with_max_line_len(16));
    let mut s = Session::new(plain().with_parser(parser), 1);
    open(&mut s, at(0));
    s.feed(at(1), b"data: ok\n\ndata: this line is far too long\n\n")
        .unwrap();
    assert_eq!(s.poll_event().unwrap().unwrap().data(), "ok");
    let e = ParseError::LineTooLong { limit: 16 };
    assert_eq!(s.poll_event(), Err(e));
    assert_eq!(s.poll_action(at(2)), Action::Failed(FailReason::Parse(e)));
    s.feed_eof(at(3));
    assert_eq!(
        s.poll_action(at(99_999)),
        Action::Failed(FailReason::Parse(e))
    );
}

#[test]
fn reports_that_do_not_fit_the_state_are_ignored() {
    let mut s = Session::new(plain(), 1);
    // Nothing open yet: bytes, an end, a response are late reports.
    s.feed(at(0), b"data: x\n\n").unwrap();
    s.feed_eof(at(0));
    s.handle_response(at(0), 200, ES);
    assert_eq!(s.parser().buffered(), 0);
    assert_eq!(s.poll_action(at(0)), CONNECT_NO_ID);
    s.feed(at(0), b"data: x\n\n").unwrap();
    assert_eq!(s.parser().buffered(), 0);
}

#[test]
fn huge_retry_saturates_instead_of_overflowing() {
    let mut s = Session::new(plain().with_backoff_reset_after(ms(0)), 1);
    open(&mut s, at(0));
    let _ = feed(&mut s, at(0), "retry: 99999999999999999999999\n");
    s.handle_error(at(1));
    assert_eq!(s.reconnection_time(), ms(u64::MAX));
    assert_eq!(wait_until(&mut s, at(1)), at(1) + ms(u64::MAX));
}

#[test]
fn a_stored_last_event_id_is_sent_on_the_first_request() {
    let s = Session::new(plain(), 1).with_last_event_id("41").unwrap();
    assert_eq!(s.last_event_id(), "41");
    let mut s = s;
    assert_eq!(open(&mut s, at(0)), Some("41".into()));
    // Events without `id` keep it; the server's ids replace it.
    s.feed(at(1), b"data: a\n\n").unwrap();
    assert_eq!(s.poll_event().unwrap().unwrap().last_event_id(), "41");
    assert_eq!(feed(&mut s, at(2), "id: 42\ndata: b\n\n"), ["b"]);
    assert_eq!(s.last_event_id(), "42");
    // Empty means no header; CR, LF and NUL are refused.
    let mut s = Session::new(plain(), 1).with_last_event_id("").unwrap();
    assert_eq!(open(&mut s, at(0)), None);
    for (bad, e) in [
        ("1\r\nX-Evil: 1", EncodeError::IdHasNewline),
        ("1\n", EncodeError::IdHasNewline),
        ("1\0", EncodeError::IdHasNul),
    ] {
        assert_eq!(
            Session::new(plain(), 1).with_last_event_id(bad).err(),
            Some(e)
        );
    }
}

#[test]
fn fail_reasons_print_what_the_server_sent() {
    let s = FailReason::Status { status: 503 }.to_string();
    assert!(s.contains("503"), "{s}");
    let s = FailReason::ContentType {
        content_type: Some("text/html".into()),
    }
    .to_string();
    assert!(s.contains("\"text/html\"") && !s.contains("Some"), "{s}");
    let s = FailReason::ContentType { content_type: None }.to_string();
    assert!(s.contains("(none)"), "{s}");
    let s = FailReason::TooManyAttempts { attempts: 17 }.to_string();
    assert!(s.contains("17"), "{s}");
    let s = FailReason::from(ParseError::EventTooLarge { limit: 4096 }).to_string();
    assert!(s.contains("4096"), "{s}");
}

#[test]
fn decorrelated_jitter_stays_between_the_reconnection_time_and_the_cap() {
    let cap = ms(30_000);
    let cfg = plain()
        .with_jitter(Jitter::Decorrelated)
        .with_max_backoff(cap)
        .with_backoff_reset_after(ms(5_000));
    for seed in 0..50 {
        let mut s = Session::new(cfg, seed);
        let mut now = at(0);
        let mut longest = Duration::ZERO;
        for _ in 0..15 {
            let _ = s.poll_action(now);
            s.handle_error(now);
            let d = delay_from(&mut s, now);
            assert!(d >= ms(1000) && d <= cap, "seed {seed}: {d:?}");
            longest = longest.max(d);
            now = now + d;
        }
        assert!(longest > ms(3000), "seed {seed}: never backed off");
        // A healthy stream: back to exactly the reconnection time.
        open(&mut s, now);
        now = now + ms(5_000);
        s.feed_eof(now);
        assert_eq!(delay_from(&mut s, now), ms(1000));
    }
}

#[test]
fn config_and_parser_are_the_sessions_own() {
    let cfg = plain().with_parser(pushwire_sse::Config::DEFAULT.with_comments(true));
    let s = Session::new(cfg, 1).with_last_event_id("41").unwrap();
    assert_eq!(s.config(), &cfg);
    assert_eq!(s.parser().config(), &cfg.parser);
    assert_eq!(s.parser().last_event_id(), "41");
    assert_eq!(s.parser().buffered(), 0);
}

#[test]
fn owned_chunks_are_parsed_and_restart_the_read_timeout() {
    let cfg = plain()
        .with_read_timeout(Some(ms(10_000)))
        .with_backoff_reset_after(ms(0));
    let mut s = Session::new(cfg, 1);
    open(&mut s, at(0));
    s.feed_bytes(at(9_000), bytes::Bytes::from_static(b"id: 3\ndata: a\n\n"))
        .unwrap();
    let e = s.poll_event().unwrap().unwrap();
    assert_eq!((e.data(), e.last_event_id()), ("a", "3"));
    assert_eq!(s.poll_event(), Ok(None));
    // An empty chunk does not push the deadline back.
    s.feed_bytes(at(9_500), bytes::Bytes::new()).unwrap();
    assert_eq!(wait_until(&mut s, at(9_600)), at(19_000));
    assert_eq!(
        s.poll_action(at(19_000)),
        Action::Disconnect(DisconnectReason::ReadTimeout)
    );
}

#[test]
fn poll_and_poll_event_ref_read_the_stream_too() {
    let mut s = Session::new(plain(), 1);
    open(&mut s, at(0));
    s.feed(at(0), b"retry: 250\nevent: t\ndata: a\n\ndata: b\n\n")
        .unwrap();
    assert_eq!(s.poll(), Ok(Some(pushwire_sse::Item::Retry(250))));
    assert_eq!(
        s.poll(),
        Ok(Some(pushwire_sse::Item::Event(pushwire_sse::Event::new(
            "t", "a", ""
        ))))
    );
    assert_eq!(s.reconnection_time(), ms(250));
    let e = s.poll_event_ref().unwrap().unwrap();
    assert_eq!((e.event_type, e.data), ("message", "b"));
    assert_eq!(s.poll_event_ref(), Ok(None));
    assert_eq!(s.poll(), Ok(None));
}

#[test]
fn random_seeds_differ_from_call_to_call() {
    // "different for each call": clients seeded this way do not back off in step.
    let seeds: Vec<u64> = (0..4)
        .map(|_| pushwire_sse::client::random_seed())
        .collect();
    for (i, a) in seeds.iter().enumerate() {
        for b in &seeds[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn decorrelated_jitter_starts_again_from_the_backoff_base_after_a_healthy_stream() {
    // "the previous delay starts at B and returns to it after a healthy stream", B being the
    // reconnection time but at least `min_backoff`: the first failed attempt after a healthy
    // stream waits uniformly in [B, 3B], like the first one of a new session, whatever the
    // backoff reached before. Here b = 10 ms < B = 100 ms.
    let cfg = plain()
        .with_reconnection_time(ms(10))
        .with_jitter(Jitter::Decorrelated)
        .with_max_backoff(ms(60_000))
        .with_backoff_reset_after(ms(5_000));
    let window = ms(100)..=ms(300);
    let (mut fresh, mut after) = (Vec::new(), Vec::new());
    for seed in 0..50 {
        let mut s = Session::new(cfg, seed);
        let mut now = at(0);
        for n in 0..8 {
            let _ = s.poll_action(now);
            s.handle_error(now);
            let d = delay_from(&mut s, now);
            if n == 0 {
                assert!(window.contains(&d), "seed {seed}: {d:?}");
                fresh.push(d);
            }
            now = now + d;
        }
        open(&mut s, now);
        now = now + ms(5_000);
        s.feed_eof(now);
        assert_eq!(delay_from(&mut s, now), ms(10));
        now = now + ms(10);
        let _ = s.poll_action(now);
        s.handle_error(now);
        let d = delay_from(&mut s, now);
        assert!(
            window.contains(&d),
            "seed {seed}: {d:?} after a healthy stream"
        );
        after.push(d);
    }
    // Spread over the window, not all at its bottom.
    assert!(fresh.iter().filter(|&&d| d > ms(150)).count() >= 10);
    assert!(after.iter().filter(|&&d| d > ms(150)).count() >= 10);
}
