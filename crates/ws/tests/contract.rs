//! The codec contract of docs/architecture.md ("The sans-IO contract"), rule by rule, for
//! pushwire-ws. The same file exists in each codec crate with the same test names, so the
//! three can be read side by side. Rules covered in depth elsewhere (tests/connection.rs)
//! are named here and checked once more in their shortest form.

use bytes::{Buf, Bytes};
use pushwire_ws::close::CloseError;
use pushwire_ws::deflate::negotiate::NegotiationError;
use pushwire_ws::deflate::DeflateConfig;
use pushwire_ws::frame::HeaderError;
use pushwire_ws::handshake::{
    AcceptError, ClientRequestError, HandshakeLimits, ParseError, RequestError, ResponseError,
};
use pushwire_ws::utf8::Utf8Error;
use pushwire_ws::{
    Config, Connection, Event, FeedError, FixedMaskKey, Limits, ProtocolError, Role, SendError,
};

fn client() -> Connection {
    Connection::with_mask_keys(
        Role::Client,
        Config::DEFAULT,
        Box::new(FixedMaskKey([1, 2, 3, 4])),
    )
}

/// What a client sends for `text`, as bytes.
fn client_text(text: &str) -> Vec<u8> {
    let mut c = client();
    c.send_text(text).unwrap();
    let mut t = c.take_transmit();
    t.copy_to_bytes(t.remaining()).to_vec()
}

/// R1: `DEFAULT` is what `Default` gives, and a `Config`'s default holds the default limits.
#[test]
fn r1_defaults_are_the_documented_constants() {
    assert_eq!(Limits::default(), Limits::DEFAULT);
    assert_eq!(Config::default(), Config::DEFAULT);
    assert_eq!(Config::DEFAULT.limits, Limits::DEFAULT);
    assert_eq!(HandshakeLimits::default(), HandshakeLimits::DEFAULT);
    assert_eq!(DeflateConfig::default(), DeflateConfig::DEFAULT);
}

/// R1: each `with_*` setter changes its own field and nothing else.
#[test]
fn r1_each_setter_sets_its_field_only() {
    let d = Limits::DEFAULT;
    let all = |l: Limits| {
        (
            l.max_frame_size,
            l.max_message_size,
            l.max_fragments,
            l.max_buffered_input,
            l.max_buffered_output,
        )
    };
    let (f, m, n, i, o) = all(d);
    assert_eq!(all(d.with_max_frame_size(1)), (1, m, n, i, o));
    assert_eq!(all(d.with_max_message_size(2)), (f, 2, n, i, o));
    assert_eq!(all(d.with_max_fragments(3)), (f, m, 3, i, o));
    assert_eq!(all(d.with_max_buffered_input(4)), (f, m, n, 4, o));
    assert_eq!(all(d.with_max_buffered_output(5)), (f, m, n, i, 5));
    let c = Config::DEFAULT;
    let cfg = |c: Config| (c.limits, c.require_minimal_length, c.auto_pong);
    let l = d.with_max_fragments(9);
    assert_eq!(
        cfg(c.with_limits(l)),
        (l, c.require_minimal_length, c.auto_pong)
    );
    assert_eq!(
        cfg(c.with_require_minimal_length(!c.require_minimal_length)),
        (d, !c.require_minimal_length, c.auto_pong)
    );
    assert_eq!(
        cfg(c.with_auto_pong(!c.auto_pong)),
        (d, c.require_minimal_length, !c.auto_pong)
    );
    let h = HandshakeLimits::DEFAULT;
    let hs = |h: HandshakeLimits| (h.max_line_len, h.max_headers, h.max_head_len);
    assert_eq!(
        hs(h.with_max_line_len(7)),
        (7, h.max_headers, h.max_head_len)
    );
    assert_eq!(
        hs(h.with_max_headers(8)),
        (h.max_line_len, 8, h.max_head_len)
    );
    assert_eq!(
        hs(h.with_max_head_len(9)),
        (h.max_line_len, h.max_headers, 9)
    );
}

/// R2: every public error is a comparable, cloneable, thread-safe `std::error::Error`.
#[test]
fn r2_errors_are_comparable_std_errors() {
    fn is_error<E: std::error::Error + Clone + PartialEq + Eq + Send + Sync + 'static>() {}
    is_error::<ProtocolError>();
    is_error::<SendError>();
    is_error::<FeedError>();
    is_error::<HeaderError>();
    is_error::<CloseError>();
    is_error::<Utf8Error>();
    is_error::<ParseError>();
    is_error::<RequestError>();
    is_error::<ResponseError>();
    is_error::<AcceptError>();
    is_error::<ClientRequestError>();
    is_error::<NegotiationError>();
}

/// R2: limit errors carry and print the numbers (`{ len, limit }`, `{ limit }`,
/// `{ buffered, len, limit }`).
#[test]
fn r2_limit_errors_name_their_numbers() {
    for (e, nums) in [
        (
            FeedError::BufferFull {
                buffered: 101,
                len: 202,
                limit: 303,
            }
            .to_string(),
            &["101", "202", "303"][..],
        ),
        (
            SendError::OutputFull {
                buffered: 111,
                len: 222,
                limit: 333,
            }
            .to_string(),
            &["111", "222", "333"],
        ),
        (
            ProtocolError::FrameTooLarge {
                len: 444,
                limit: 555,
            }
            .to_string(),
            &["444", "555"],
        ),
        (
            ProtocolError::TooManyFragments { limit: 666 }.to_string(),
            &["666"],
        ),
        (
            ParseError::HeadTooLarge { limit: 777 }.to_string(),
            &["777"],
        ),
    ] {
        for n in nums {
            assert!(e.contains(n), "{e} lacks {n}");
        }
    }
}

/// R3: a feed past the bound is refused whole, exactly, and loses nothing already taken;
/// after `feed_eof` every feed is refused. (In depth: tests/connection.rs
/// `server_refuses_input_past_the_bound_and_keeps_what_it_took` and its neighbours.)
#[test]
fn r3_refused_feed_takes_nothing_and_loses_nothing() {
    let frame = client_text("x");
    let limits = Limits::DEFAULT
        .with_max_frame_size(8)
        .with_max_buffered_input(4 * frame.len());
    let limit = limits.effective_max_buffered_input();
    assert_eq!(limit, 4 * frame.len());
    let mut s = Connection::server(Config::DEFAULT.with_limits(limits));
    let mut accepted = 0;
    for i in 0..100 {
        let r = if i % 2 == 0 {
            s.feed(&frame)
        } else {
            s.feed_bytes(Bytes::from(frame.clone()))
        };
        match r {
            Ok(()) => accepted += 1,
            Err(e) => assert_eq!(
                e,
                FeedError::BufferFull {
                    buffered: limit,
                    len: frame.len(),
                    limit
                }
            ),
        }
    }
    assert_eq!(accepted, 4);
    let mut polled = 0;
    while let Some(ev) = s.poll_event().unwrap() {
        assert_eq!(ev, Event::Text("x".into()));
        polled += 1;
    }
    assert_eq!(polled, 4);
    s.feed_eof();
    assert_eq!(s.feed(&frame), Err(FeedError::AfterEof));
    assert_eq!(s.feed_bytes(Bytes::from(frame)), Err(FeedError::AfterEof));
}

/// R4: replies the protocol requires are bounded: a ping flood against a connection whose
/// output is never drained leaves one pong, for the newest ping (RFC 6455 §5.5.3). (In
/// depth: tests/connection.rs `server_and_client_keep_one_pong_for_a_ping_flood`.)
#[test]
fn r4_ping_flood_leaves_one_pong() {
    let mut c = client();
    let mut pings = Vec::new();
    for i in 0..1000u32 {
        c.send_ping(Bytes::from(i.to_be_bytes().to_vec())).unwrap();
        pings.extend_from_slice(&c.poll_transmit().unwrap());
    }
    let mut s = Connection::server(Config::DEFAULT);
    s.feed(&pings).unwrap();
    let mut n = 0;
    while let Some(ev) = s.poll_event().unwrap() {
        assert!(matches!(ev, Event::Ping(_)));
        n += 1;
    }
    assert_eq!(n, 1000);
    // One unmasked pong with a 4-byte payload: 2 + 4 bytes.
    assert_eq!(s.buffered_output(), 6);
    let mut t = s.take_transmit();
    let out = t.copy_to_bytes(t.remaining());
    c.feed(&out).unwrap();
    assert_eq!(
        c.poll_event().unwrap(),
        Some(Event::Pong(Bytes::from(999u32.to_be_bytes().to_vec())))
    );
    assert_eq!(c.poll_event().unwrap(), None);
}

/// R4: every sender is `send_*` and queues; the queue drains as `Bytes` chunks or as one
/// `bytes::Buf`, with the same bytes either way.
#[test]
fn r4_output_drains_as_chunks_or_as_one_buf() {
    let build = || {
        let mut s = Connection::server(Config::DEFAULT);
        s.send_text("a").unwrap();
        s.send_binary(Bytes::from(vec![7; 300])).unwrap();
        s.send_close(1000, "bye").unwrap();
        s
    };
    let mut chunks = Vec::new();
    let mut s = build();
    while let Some(c) = s.poll_transmit() {
        chunks.extend_from_slice(&c);
    }
    let mut t = build().take_transmit();
    assert_eq!(t.remaining(), chunks.len());
    assert_eq!(t.copy_to_bytes(t.remaining()), chunks);
}

/// R6: `Ok(None)` means "feed more", and polling again after it changes nothing.
#[test]
fn r6_polling_after_none_is_harmless() {
    let frame = client_text("a");
    let mut s = Connection::server(Config::DEFAULT);
    s.feed(&frame[..3]).unwrap();
    for _ in 0..3 {
        assert_eq!(s.poll_event(), Ok(None));
        assert!(s.poll_event_ref().unwrap().is_none());
    }
    s.feed(&frame[3..]).unwrap();
    assert_eq!(s.poll_event(), Ok(Some(Event::Text("a".into()))));
    assert_eq!(s.poll_event(), Ok(None));
}

#[test]
fn accessors_report_what_they_hold() {
    // Found by cargo-mutants (pushwire-ws, shard 0/3): no test read these back.
    let t = pushwire_ws::Utf8Bytes::from(String::from("héllo"));
    assert_eq!(t.len(), 6, "bytes, not characters");
    assert!(!t.is_empty());
    assert!(pushwire_ws::Utf8Bytes::from(String::new()).is_empty());
    assert_eq!(format!("{t:?}"), "\"héllo\"");
    // The lent form, from poll_event_ref.
    let mut s = Connection::server(Config::DEFAULT);
    s.feed(&client_text("héllo")).unwrap();
    match s.poll_event_ref().unwrap() {
        Some(pushwire_ws::EventRef::Text(r)) => {
            assert_eq!(r.len(), 6);
            assert!(!r.is_empty());
            assert_eq!(r.as_str(), "héllo");
            assert_eq!(format!("{r:?}"), "\"héllo\"");
            assert!(r == *"héllo" && r != *"hello");
            assert!(r == "héllo" && r != "hello");
        }
        other => panic!("{other:?}"),
    }
    s.feed(&client_text("")).unwrap();
    match s.poll_event_ref().unwrap() {
        Some(pushwire_ws::EventRef::Text(r)) => assert!(r.is_empty()),
        other => panic!("{other:?}"),
    }
    // The configuration a connection was made with, and its Debug form.
    let config = Config::DEFAULT.with_limits(Limits::DEFAULT.with_max_frame_size(1234));
    let c = Connection::server(config);
    assert_eq!(c.config(), config);
    assert_ne!(c.config(), Config::DEFAULT);
    let debug = format!("{c:?}");
    assert!(debug.starts_with("Connection {"), "{debug}");
    assert!(debug.contains("Server"), "{debug}");
    // The handshake's documented defaults: 8 KiB lines, 64 headers, 16 KiB heads.
    assert_eq!(HandshakeLimits::DEFAULT.max_line_len, 8 * 1024);
    assert_eq!(HandshakeLimits::DEFAULT.max_headers, 64);
    assert_eq!(HandshakeLimits::DEFAULT.max_head_len, 16 * 1024);
}

#[test]
fn a_closure_is_a_mask_key_source_and_a_transmit_knows_it_has_bytes() {
    // `impl<F: FnMut() -> [u8; 4]> MaskKeySource for F`: the closure's keys mask the frames.
    let mut n = 0u8;
    let keys = move || {
        n += 1;
        [n, n, n, n]
    };
    let mut c = Connection::with_mask_keys(Role::Client, Config::DEFAULT, Box::new(keys));
    c.send_binary(&b"ab"[..]).unwrap();
    c.send_binary(&b"cd"[..]).unwrap();
    let t = c.take_transmit();
    assert!(!t.is_empty());
    // Two masked 2-byte binary frames: 8 bytes each.
    assert_eq!(t.remaining(), 16);
    let mut slices = [std::io::IoSlice::new(&[]); 8];
    let n = t.chunks_vectored(&mut slices);
    assert!(n >= 1);
    assert_eq!(slices[..n].iter().map(|s| s.len()).sum::<usize>(), 16);
    let wire: Vec<u8> = {
        let mut t = t;
        let mut v = Vec::new();
        while t.has_remaining() {
            let chunk = t.chunk().to_vec();
            // `Buf`: "`chunk()` should return an empty slice if and only if `remaining()`
            // returns 0" — an exact advance must not leave an empty chunk in front.
            assert!(!chunk.is_empty(), "an empty chunk with bytes remaining");
            t.advance(chunk.len());
            v.extend(chunk);
        }
        assert!(t.is_empty());
        v
    };
    // Two frames: 0x82, 0x80 | 2, the key, the masked payload.
    assert_eq!(&wire[2..6], &[1, 1, 1, 1]);
    assert_eq!(&wire[6..8], &[b'a' ^ 1, b'b' ^ 1]);
    assert_eq!(&wire[10..14], &[2, 2, 2, 2]);
    assert_eq!(&wire[14..16], &[b'c' ^ 2, b'd' ^ 2]);
}

#[test]
fn input_is_held_while_open_and_dropped_once_failed() {
    let mut s = Connection::server(Config::DEFAULT);
    s.feed(&client_text("hel")[..4]).unwrap();
    assert_eq!(s.buffered_input(), 4);
    assert!(s.input_capacity() >= 4);
    // An unmasked frame from a client fails the connection ("The server MUST close the
    // connection upon receiving a frame that is not masked").
    let mut s = Connection::server(Config::DEFAULT);
    s.feed(b"\x81\x01a").unwrap();
    assert!(s.poll_event().is_err());
    // What arrives after that is dropped, not kept.
    s.feed(b"more bytes").unwrap();
    assert_eq!(s.buffered_input(), 0);
}

/// A large payload the application handed in is written from its own `Bytes` (not copied)
/// and let go as soon as the transport has advanced past it, whether it sits in the
/// `Transmit`'s queue or at its front (the rest of a frame whose head already went out).
#[test]
fn a_written_payload_is_let_go_as_soon_as_it_is_advanced_past() {
    use bytes::Buf;
    let payload = Bytes::from(vec![9u8; 100_000]);
    // In the queue: head, then the payload, then a following message.
    let mut s = Connection::server(Config::DEFAULT);
    s.send_binary(payload.clone()).unwrap();
    s.send_text("next").unwrap();
    let mut t = s.take_transmit();
    let head = t.chunk().len();
    t.advance(head);
    assert_eq!(t.chunk().len(), 100_000);
    t.advance(100_000);
    let payload = payload
        .try_into_mut()
        .expect("the Transmit let go of the written payload");
    assert_eq!(t.chunk(), b"\x81\x04next");
    // At the front: the head was taken with `poll_transmit`, the payload comes first.
    let payload = payload.freeze();
    let mut s = Connection::server(Config::DEFAULT);
    s.send_binary(payload.clone()).unwrap();
    s.send_text("next").unwrap();
    let _head = s.poll_transmit().unwrap();
    let mut t = s.take_transmit();
    assert_eq!(t.chunk().len(), 100_000);
    t.advance(100_000);
    let _ = payload
        .try_into_mut()
        .expect("the Transmit let go of the written payload");
    assert_eq!(t.chunk(), b"\x81\x04next");
}
