//! The codec contract of docs/architecture.md ("The sans-IO contract"), rule by rule, for
//! pushwire-sse. The same file exists in each codec crate with the same test names, so the
//! three can be read side by side. Rules already covered in depth elsewhere are named here
//! and checked once more in their shortest form.

use bytes::Bytes;
use core::time::Duration;
use pushwire_sse::client::{self, Action, Jitter};
use pushwire_sse::{
    Config, EncodeError, EventBuilder, FailReason, FeedError, Instant, Limits, ParseError, Parser,
};

/// R1: `DEFAULT` is what `Default` gives, and a `Config`'s default holds the default limits.
#[test]
fn r1_defaults_are_the_documented_constants() {
    assert_eq!(Limits::default(), Limits::DEFAULT);
    assert_eq!(Config::default(), Config::DEFAULT);
    assert_eq!(Config::DEFAULT.limits, Limits::DEFAULT);
}

/// R1: each `with_*` setter changes its own field and nothing else.
#[test]
fn r1_each_setter_sets_its_field_only() {
    let d = Limits::DEFAULT;
    let l = d.with_max_line_len(11);
    assert_eq!(
        (l.max_line_len, l.max_event_size, l.max_buffered_input),
        (11, d.max_event_size, d.max_buffered_input)
    );
    let l = d.with_max_event_size(12);
    assert_eq!(
        (l.max_line_len, l.max_event_size, l.max_buffered_input),
        (d.max_line_len, 12, d.max_buffered_input)
    );
    let l = d.with_max_buffered_input(13);
    assert_eq!(
        (l.max_line_len, l.max_event_size, l.max_buffered_input),
        (d.max_line_len, d.max_event_size, 13)
    );
    let c = Config::DEFAULT.with_limits(l);
    assert_eq!((c.limits, c.comments), (l, Config::DEFAULT.comments));
    let c = Config::DEFAULT.with_comments(!Config::DEFAULT.comments);
    assert_eq!(
        (c.limits, c.comments),
        (Limits::DEFAULT, !Config::DEFAULT.comments)
    );
}

/// R2: every public error is a comparable, cloneable, thread-safe `std::error::Error`.
#[test]
fn r2_errors_are_comparable_std_errors() {
    fn is_error<E: std::error::Error + Clone + PartialEq + Eq + Send + Sync + 'static>() {}
    is_error::<ParseError>();
    is_error::<FeedError>();
    is_error::<EncodeError>();
    is_error::<FailReason>();
}

/// R1: the client's `Config` has the same shape: `DEFAULT` is `Default`, each setter sets
/// its own field only.
#[test]
fn r1_client_config_defaults_and_setters() {
    let d = client::Config::DEFAULT;
    assert_eq!(client::Config::default(), d);
    assert_eq!(d.parser, Config::DEFAULT);
    let fields = |c: &client::Config| {
        (
            c.parser,
            c.reconnection_time,
            c.min_backoff,
            c.max_backoff,
            c.jitter,
            c.max_attempts,
            c.backoff_reset_after,
            c.connect_timeout,
            c.read_timeout,
        )
    };
    let ms = Duration::from_millis;
    let p = Config::DEFAULT.with_comments(true);
    let mut want = fields(&d);
    want.0 = p;
    assert_eq!(fields(&d.with_parser(p)), want);
    let mut want = fields(&d);
    want.1 = ms(1);
    assert_eq!(fields(&d.with_reconnection_time(ms(1))), want);
    let mut want = fields(&d);
    want.2 = ms(2);
    assert_eq!(fields(&d.with_min_backoff(ms(2))), want);
    let mut want = fields(&d);
    want.3 = ms(3);
    assert_eq!(fields(&d.with_max_backoff(ms(3))), want);
    let mut want = fields(&d);
    want.4 = Jitter::Decorrelated;
    assert_eq!(fields(&d.with_jitter(Jitter::Decorrelated)), want);
    let mut want = fields(&d);
    want.5 = Some(5);
    assert_eq!(fields(&d.with_max_attempts(Some(5))), want);
    let mut want = fields(&d);
    want.6 = ms(6);
    assert_eq!(fields(&d.with_backoff_reset_after(ms(6))), want);
    let mut want = fields(&d);
    want.7 = None;
    assert_eq!(fields(&d.with_connect_timeout(None)), want);
    let mut want = fields(&d);
    want.8 = Some(ms(8));
    assert_eq!(fields(&d.with_read_timeout(Some(ms(8)))), want);
}

/// R2: limit errors carry and print the numbers (`{ limit }`, `{ buffered, len, limit }`).
#[test]
fn r2_limit_errors_name_their_numbers() {
    let e = FeedError::BufferFull {
        buffered: 101,
        len: 202,
        limit: 303,
    };
    let s = e.to_string();
    assert!(
        s.contains("101") && s.contains("202") && s.contains("303"),
        "{s}"
    );
    let s = ParseError::LineTooLong { limit: 404 }.to_string();
    assert!(s.contains("404"), "{s}");
}

/// R3: a feed past the bound is refused whole, exactly, and loses nothing already taken;
/// after `feed_eof` every feed is refused. (In depth: tests/parse.rs
/// `feeding_far_past_the_bound_is_refused_exactly_and_loses_nothing`.)
#[test]
fn r3_refused_feed_takes_nothing_and_loses_nothing() {
    let event = b"data: x\n\n";
    let limit = 4 * event.len();
    let mut p = Parser::with_config(
        Config::DEFAULT.with_limits(Limits::DEFAULT.with_max_buffered_input(limit)),
    );
    let mut accepted = 0;
    let mut refused = 0;
    for i in 0..100 {
        let r = if i % 2 == 0 {
            p.feed(event)
        } else {
            p.feed_bytes(Bytes::from_static(event))
        };
        match r {
            Ok(()) => accepted += 1,
            Err(e) => {
                assert_eq!(
                    e,
                    FeedError::BufferFull {
                        buffered: limit,
                        len: event.len(),
                        limit
                    }
                );
                refused += 1;
            }
        }
    }
    assert_eq!((accepted, refused), (4, 96));
    let mut polled = 0;
    while let Some(ev) = p.poll_event().unwrap() {
        assert_eq!(ev.data(), "x");
        polled += 1;
    }
    assert_eq!(polled, 4);
    p.feed_eof();
    assert_eq!(p.feed(b""), Err(FeedError::AfterEof));
    assert_eq!(p.feed(event), Err(FeedError::AfterEof));
    assert_eq!(
        p.feed_bytes(Bytes::from_static(event)),
        Err(FeedError::AfterEof)
    );
}

/// R4: the stateless encoder writes into any `BufMut` (here a `Vec<u8>` holding earlier
/// bytes) exactly what its owned form gives.
#[test]
fn r4_encoder_writes_into_any_bufmut() {
    let ev = EventBuilder::new()
        .event("tick")
        .unwrap()
        .id("7")
        .unwrap()
        .data("a\nb");
    let mut out: Vec<u8> = b"prefix".to_vec();
    ev.encode(&mut out);
    assert_eq!(&out[..6], b"prefix");
    assert_eq!(&out[6..], &ev.to_bytes()[..]);
    assert_eq!(&out[6..], b"event: tick\nid: 7\ndata: a\ndata: b\n\n");
}

/// R5: the client takes `now` as an `Instant`; its deadlines are `Instant`s from
/// `poll_timeout()`, and adding to an `Instant` saturates.
#[test]
fn r5_time_is_an_instant_and_deadlines_saturate() {
    let cfg = client::Config::DEFAULT.with_read_timeout(Some(Duration::from_secs(45)));
    let mut s = client::Session::new(cfg, 1);
    let t0 = Instant::from_duration(Duration::from_secs(100));
    assert!(matches!(s.poll_action(t0), Action::Connect { .. }));
    s.handle_response(t0, 200, Some(b"text/event-stream"));
    let deadline = t0 + Duration::from_secs(45);
    assert_eq!(s.poll_timeout(), Some(deadline));
    assert_eq!(
        s.poll_action(t0),
        Action::Wait {
            until: Some(deadline)
        }
    );
    assert!(matches!(s.poll_action(deadline), Action::Disconnect(_)));
    assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
}

/// R6: `Ok(None)` means "feed more", and polling again after it changes nothing.
#[test]
fn r6_polling_after_none_is_harmless() {
    let mut p = Parser::new();
    p.feed(b"data: a").unwrap();
    for _ in 0..3 {
        assert_eq!(p.poll_event(), Ok(None));
    }
    p.feed(b"\n\n").unwrap();
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "a");
    assert_eq!(p.poll_event(), Ok(None));
}
