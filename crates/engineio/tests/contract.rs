//! The codec contract of docs/architecture.md ("The sans-IO contract"), rule by rule, for
//! pushwire-engineio. The same file exists in each codec crate with the same test names, so
//! the three can be read side by side. Rules already covered in depth elsewhere are named
//! here and checked once more in their shortest form.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use pushwire_engineio::http::{HttpRequest, Method};
use pushwire_engineio::server::{self, Outcome, Server};
use pushwire_engineio::{
    client, encode_binary_payload, encode_jsonp_request, encode_jsonp_response, encode_payload,
    encode_text_payload, EncodedPayload, FeedError, Instant, JsonpError, Limits, OpenPacketError,
    Packet, PacketData, PacketError, PayloadDecoder, PayloadError, PayloadFormat, SendError,
};

/// R1: `DEFAULT` is what `Default` gives, and a `Config`'s default holds the default limits.
#[test]
fn r1_defaults_are_the_documented_constants() {
    assert_eq!(Limits::default(), Limits::DEFAULT);
    assert_eq!(server::Config::default(), server::Config::DEFAULT);
    assert_eq!(client::Config::default(), client::Config::DEFAULT);
    assert_eq!(server::Config::DEFAULT.limits, Limits::DEFAULT);
    assert_eq!(client::Config::DEFAULT.limits, Limits::DEFAULT);
    // engine.io 3.x's own defaults.
    let s = server::Config::DEFAULT;
    assert_eq!(
        (
            s.ping_interval,
            s.ping_timeout,
            s.upgrade_timeout,
            s.close_timeout
        ),
        (
            Duration::from_secs(25),
            Duration::from_secs(5),
            Duration::from_secs(10),
            Duration::from_secs(30)
        )
    );
    assert_eq!(Limits::DEFAULT.max_payload_bytes, 1_000_000);
}

/// R1: each `with_*` setter changes its own field and nothing else.
#[test]
fn r1_each_setter_sets_its_field_only() {
    let d = Limits::DEFAULT;
    let fields = |l: Limits| (l.max_payload_bytes, l.max_packets, l.max_packet_bytes);
    assert_eq!(
        fields(d.with_max_payload_bytes(11)),
        (11, d.max_packets, d.max_packet_bytes)
    );
    assert_eq!(
        fields(d.with_max_packets(12)),
        (d.max_payload_bytes, 12, d.max_packet_bytes)
    );
    assert_eq!(
        fields(d.with_max_packet_bytes(13)),
        (d.max_payload_bytes, d.max_packets, 13)
    );

    let d = server::Config::DEFAULT;
    let l = Limits::DEFAULT.with_max_packets(7);
    let ms = Duration::from_millis;
    let with = |f: &dyn Fn(&mut server::Config)| {
        let mut e = d;
        f(&mut e);
        e
    };
    for (c, expect) in [
        (d.with_limits(l), with(&|e| e.limits = l)),
        (
            d.with_max_buffered_packets(3),
            with(&|e| e.max_buffered_packets = 3),
        ),
        (
            d.with_ping_interval(ms(1)),
            with(&|e| e.ping_interval = ms(1)),
        ),
        (
            d.with_ping_timeout(ms(2)),
            with(&|e| e.ping_timeout = ms(2)),
        ),
        (
            d.with_upgrade_timeout(ms(3)),
            with(&|e| e.upgrade_timeout = ms(3)),
        ),
        (
            d.with_close_timeout(ms(4)),
            with(&|e| e.close_timeout = ms(4)),
        ),
        (d.with_polling(false), with(&|e| e.polling = false)),
        (d.with_websocket(false), with(&|e| e.websocket = false)),
        (
            d.with_allow_upgrades(false),
            with(&|e| e.allow_upgrades = false),
        ),
    ] {
        assert_eq!(c, expect);
        assert_ne!(c, d);
    }

    let d = client::Config::DEFAULT;
    let fields = |c: client::Config| {
        (
            c.limits,
            c.max_buffered_packets,
            c.supports_binary,
            c.upgrade,
            c.websocket_only,
        )
    };
    let (dl, dm, db, du, dw) = fields(d);
    assert_eq!(fields(d.with_limits(l)), (l, dm, db, du, dw));
    assert_eq!(fields(d.with_max_buffered_packets(3)), (dl, 3, db, du, dw));
    assert_eq!(fields(d.with_supports_binary(!db)), (dl, dm, !db, du, dw));
    assert_eq!(fields(d.with_upgrade(!du)), (dl, dm, db, !du, dw));
    assert_eq!(fields(d.with_websocket_only(!dw)), (dl, dm, db, du, !dw));
}

/// R2: every public error is a comparable, cloneable, thread-safe `std::error::Error`.
#[test]
fn r2_errors_are_comparable_std_errors() {
    fn is_error<E: std::error::Error + Clone + PartialEq + Eq + Send + Sync + 'static>() {}
    is_error::<PacketError>();
    is_error::<PayloadError>();
    is_error::<JsonpError>();
    is_error::<OpenPacketError>();
    is_error::<FeedError>();
    is_error::<SendError>();
}

/// R2: limit errors carry and print the numbers (`{ limit }`, `{ buffered, len, limit }`,
/// and `{ buffered, limit }` for the packet count of a send queue).
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
    for (e, n) in [
        (PayloadError::PacketTooLarge { limit: 404 }, "404"),
        (PayloadError::PayloadTooLarge { limit: 505 }, "505"),
        (PayloadError::TooManyPackets { limit: 606 }, "606"),
    ] {
        let s = e.to_string();
        assert!(s.contains(n), "{s}");
    }
    let s = SendError::OutputFull {
        buffered: 707,
        limit: 808,
    }
    .to_string();
    assert!(s.contains("707") && s.contains("808"), "{s}");
}

/// R3: a feed past the bound is refused whole, exactly, and loses nothing already taken;
/// after `feed_eof` every feed is refused. The engineio bound is on the whole body
/// (`max_payload_bytes`, engine.io's `maxHttpBufferSize`), so once a feed is refused the
/// decoder reports `PayloadTooLarge` after the accepted packets. (In depth: src/payload.rs
/// `feed_far_past_the_bound_is_refused_exactly_and_nothing_accepted_is_lost`.)
#[test]
fn r3_refused_feed_takes_nothing_and_loses_nothing() {
    let packet = b"4:4hey";
    let limit = 4 * packet.len();
    let mut d = PayloadDecoder::new(
        PayloadFormat::Text,
        Limits::DEFAULT.with_max_payload_bytes(limit),
    );
    let mut accepted = 0;
    let mut refused = 0;
    for i in 0..100 {
        let r = if i % 2 == 0 {
            d.feed(packet)
        } else {
            d.feed_bytes(Bytes::from_static(packet))
        };
        match r {
            Ok(()) => accepted += 1,
            Err(e) => {
                assert_eq!(
                    e,
                    FeedError::BufferFull {
                        buffered: limit,
                        len: packet.len(),
                        limit
                    }
                );
                refused += 1;
            }
        }
    }
    assert_eq!((accepted, refused), (4, 96));
    for _ in 0..4 {
        assert_eq!(d.poll_packet(), Ok(Some(Packet::message("hey"))));
    }
    assert_eq!(
        d.poll_packet(),
        Err(PayloadError::PayloadTooLarge { limit })
    );
    d.feed_eof();
    assert_eq!(d.feed(b""), Err(FeedError::AfterEof));
    assert_eq!(d.feed(packet), Err(FeedError::AfterEof));
    assert_eq!(
        d.feed_bytes(Bytes::from_static(packet)),
        Err(FeedError::AfterEof)
    );
}

/// R4: the stateless encoders write into any `BufMut` (here buffers holding earlier bytes)
/// exactly what their owned forms give.
#[test]
fn r4_encoder_writes_into_any_bufmut() {
    let packets = [
        Packet::message("héllo 😀"),
        Packet::binary_message(vec![1u8, 2, 3]),
    ];
    let mut out = BytesMut::from(&b"prefix"[..]);
    packets[0].encode_str(&mut out);
    assert_eq!(&out[6..], packets[0].to_str_form().as_bytes());
    let mut out: Vec<u8> = b"prefix".to_vec();
    encode_text_payload(&packets, &mut out);
    let EncodedPayload::Text(text) = encode_payload(&packets, false) else {
        panic!("a text payload without binary support")
    };
    assert_eq!(&out[..6], b"prefix");
    assert_eq!(&out[6..], text.as_bytes());
    let mut out: Vec<u8> = b"prefix".to_vec();
    encode_binary_payload(&packets, &mut out);
    assert_eq!(
        EncodedPayload::Binary(out[6..].to_vec()),
        encode_payload(&packets, true)
    );
    let mut out: Vec<u8> = b"prefix".to_vec();
    packets[1].encode_binary(&mut out);
    assert_eq!(&out[6..], [4, 1, 2, 3]);
    let mut out: Vec<u8> = b"prefix".to_vec();
    encode_jsonp_response(2, "1:4", &mut out);
    assert_eq!(&out[6..], br#"___eio[2]("1:4");"#);
    let mut out: Vec<u8> = b"prefix".to_vec();
    encode_jsonp_request("1:4", &mut out);
    assert_eq!(&out[6..], b"d=1%3A4");
}

/// R4: output is bounded: a session refuses to queue past `max_buffered_packets` for a peer
/// that does not fetch (`OutputFull`), on both sides.
#[test]
fn r4_output_is_bounded() {
    let config = server::Config::DEFAULT.with_max_buffered_packets(2);
    let mut s = Server::new(config, || String::from("a"));
    let open = HttpRequest {
        method: Method::Get,
        query: "EIO=3&transport=polling",
        origin: None,
        content_type: None,
        websocket_upgrade: false,
        body: b"",
    };
    assert!(matches!(
        s.handle_request(Instant::ZERO, &open),
        Outcome::Respond(_)
    ));
    for _ in 0..2 {
        s.send("a", PacketData::Text("x".into())).unwrap();
    }
    assert_eq!(
        s.send("a", PacketData::Text("x".into())),
        Err(SendError::OutputFull {
            buffered: 2,
            limit: 2
        })
    );
    let mut c = client::Session::new(
        client::Config::DEFAULT.with_max_buffered_packets(1),
        Instant::ZERO,
    );
    c.send(PacketData::Text("x".into())).unwrap();
    assert_eq!(
        c.send(PacketData::Text("x".into())),
        Err(SendError::OutputFull {
            buffered: 1,
            limit: 1
        })
    );
}

/// R5: `now` and deadlines are `Instant`s, intervals `Duration`s; a deadline is `now` plus
/// the intervals, and adding to an `Instant` saturates instead of panicking.
#[test]
fn r5_time_is_an_instant_and_deadlines_saturate() {
    let mut s = Server::new(server::Config::DEFAULT, || String::from("a"));
    let t0 = Instant::from_duration(Duration::from_secs(100));
    let open = HttpRequest {
        method: Method::Get,
        query: "EIO=3&transport=polling",
        origin: None,
        content_type: None,
        websocket_upgrade: false,
        body: b"",
    };
    let _ = s.handle_request(t0, &open);
    let deadline = t0 + Duration::from_secs(25) + Duration::from_secs(5);
    assert_eq!(s.poll_timeout(), Some(deadline));
    s.handle_timeout(deadline);
    assert_eq!(s.poll_timeout(), None, "the session closed at its deadline");
    assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
}

/// R6: `Ok(None)` means "feed more", and polling again after it changes nothing.
#[test]
fn r6_polling_after_none_is_harmless() {
    let mut d = PayloadDecoder::new(PayloadFormat::Text, Limits::DEFAULT);
    d.feed(b"4:4h").unwrap();
    for _ in 0..3 {
        assert_eq!(d.poll_packet(), Ok(None));
    }
    d.feed(b"ey").unwrap();
    assert_eq!(d.poll_packet(), Ok(Some(Packet::message("hey"))));
    assert_eq!(d.poll_packet(), Ok(None));
    let mut s = Server::new(server::Config::DEFAULT, || String::from("a"));
    for _ in 0..3 {
        assert_eq!(s.poll_event(), None);
        assert_eq!(s.poll_http_response("a"), None);
        assert_eq!(s.poll_ws_action("a"), None);
    }
}
