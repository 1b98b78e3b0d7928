//! The codec contract of docs/architecture.md ("The sans-IO contract"), rule by rule, for
//! pushwire-sse. The same file exists in each codec crate with the same test names, so the
//! three can be read side by side. Rules already covered in depth elsewhere are named here
//! and checked once more in their shortest form.

use bytes::Bytes;
use pushwire_sse::{Config, EncodeError, EventBuilder, FeedError, Limits, ParseError, Parser};

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
