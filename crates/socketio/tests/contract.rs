//! The codec contract of docs/architecture.md ("The sans-IO contract"), rule by rule, for
//! pushwire-socketio, with the same test names as in the other codec crates. Rules covered in
//! depth elsewhere (`tests/server.rs`, `tests/client.rs`, the fuzz targets) are checked once
//! more here in their shortest form.

use std::time::Duration;

use bytes::Bytes;
use pushwire_socketio::{
    client, server, BuildError, DecodeError, Decoder, Instant, Limits, Packet, PacketData,
    ProtocolVersion::{V4, V5},
    Value,
};

/// R1: `DEFAULT` is what `Default` gives, and each `Config` holds the default limits.
#[test]
fn r1_defaults_are_the_documented_constants() {
    assert_eq!(Limits::default(), Limits::DEFAULT);
    assert_eq!(server::Config::default(), server::Config::DEFAULT);
    assert_eq!(client::Config::default(), client::Config::DEFAULT);
    assert_eq!(server::Config::DEFAULT.limits, Limits::DEFAULT);
    assert_eq!(client::Config::DEFAULT.limits, Limits::DEFAULT);
    // socket.io-parser 4.2's `maxAttachments`; socket.io 4's `connectTimeout`;
    // socket.io-client's reconnection defaults.
    assert_eq!(Limits::DEFAULT.max_attachments, 10);
    assert_eq!(
        server::Config::DEFAULT.connect_timeout,
        Duration::from_millis(45_000)
    );
    let c = client::Config::DEFAULT;
    assert!(c.reconnection);
    assert_eq!(c.reconnection_attempts, None);
    assert_eq!(c.reconnection_delay, Duration::from_millis(1_000));
    assert_eq!(c.reconnection_delay_max, Duration::from_millis(5_000));
    assert_eq!(c.randomization_factor, 0.5);
    assert_eq!(c.timeout, Some(Duration::from_millis(20_000)));
}

/// R1: each `with_*` setter sets its own field and no other.
#[test]
fn r1_each_setter_sets_its_field_only() {
    let d = Limits::DEFAULT;
    let a = d.with_max_attachments(3);
    assert_eq!(
        (a.max_attachments, a.max_packet_bytes),
        (3, d.max_packet_bytes)
    );
    let b = d.with_max_packet_bytes(7);
    assert_eq!(
        (b.max_attachments, b.max_packet_bytes),
        (d.max_attachments, 7)
    );
    let s = server::Config::DEFAULT;
    let t = Duration::from_secs(3);
    assert_eq!(s.with_connect_timeout(t).connect_timeout, t);
    assert_eq!(
        s.with_connect_timeout(t)
            .with_connect_timeout(s.connect_timeout),
        s
    );
    assert_eq!(
        s.with_max_namespaces(2)
            .with_max_namespaces(s.max_namespaces),
        s
    );
    assert_eq!(
        s.with_max_pending_acks(2)
            .with_max_pending_acks(s.max_pending_acks),
        s
    );
    assert_eq!(
        s.with_max_queued_messages(2)
            .with_max_queued_messages(s.max_queued_messages),
        s
    );
    assert_eq!(
        s.with_limits(d.with_max_attachments(1))
            .limits
            .max_attachments,
        1
    );
    let c = client::Config::DEFAULT;
    assert_eq!(c.with_reconnection(false).with_reconnection(true), c);
    assert_eq!(c.with_reconnection_delay(t).reconnection_delay, t);
    assert_eq!(
        c.with_reconnection_delay(t).reconnection_delay_max,
        c.reconnection_delay_max
    );
    assert_eq!(c.with_max_transmit_queue(5).max_transmit_queue, 5);
    assert_eq!(
        c.with_max_transmit_queue(5).max_send_buffer,
        c.max_send_buffer
    );
}

/// R2: every public error compares, clones, and is a `std::error::Error`.
#[test]
fn r2_errors_are_comparable_std_errors() {
    fn std_error<E: std::error::Error + Clone + PartialEq + Send + Sync + 'static>(e: E) {
        assert_eq!(e.clone(), e);
        assert!(!e.to_string().is_empty());
    }
    std_error(DecodeError::Empty);
    std_error(BuildError::InvalidNamespace("x".into()));
    std_error(server::SendError::Closed);
    std_error(client::EmitError::NotJoined("/a".into()));
    std_error(client::ConnectError::AuthOnImplicitNamespace);
}

/// R2: a limit error names its numbers.
#[test]
fn r2_limit_errors_name_their_numbers() {
    let e = Decoder::new(V5, Limits::DEFAULT.with_max_attachments(2))
        .push(PacketData::Text(r#"53-["a"]"#.into()))
        .unwrap_err();
    assert_eq!(e, DecodeError::TooManyAttachments { limit: 2 });
    assert!(e.to_string().contains('2'));
    let e = Decoder::new(V5, Limits::DEFAULT.with_max_packet_bytes(4))
        .push(PacketData::Text(r#"2["abc"]"#.into()))
        .unwrap_err();
    assert_eq!(e, DecodeError::PacketTooLarge { limit: 4 });
}

/// R3: input past a limit is refused whole and nothing decoded before it is lost; the
/// error is sticky.
#[test]
fn r3_refused_feed_takes_nothing_and_loses_nothing() {
    let mut dec = Decoder::new(V5, Limits::DEFAULT.with_max_packet_bytes(64));
    let ok = dec.push(PacketData::Text(r#"2["first"]"#.into())).unwrap();
    assert_eq!(ok.unwrap().event_name(), Some("first"));
    dec.push(PacketData::Text(
        r#"51-["a",{"_placeholder":true,"num":0}]"#.into(),
    ))
    .unwrap();
    let e = dec
        .push(PacketData::Binary(Bytes::from(vec![0; 64])))
        .unwrap_err();
    assert_eq!(e, DecodeError::PacketTooLarge { limit: 64 });
    // Sticky: a good packet after the error is refused with the same error.
    assert_eq!(dec.push(PacketData::Text(r#"2["x"]"#.into())), Err(e));
}

/// R4: encoding cannot fail once a packet is built (building checks), and every output
/// queue is bounded.
#[test]
fn r4_encoder_writes_into_any_bufmut() {
    let p = Packet::event(V5, "/a", "e", &[Value::from(1u64)]).unwrap();
    let mut a = String::from("prefix:");
    p.encode_text(&mut a);
    assert_eq!(a, r#"prefix:2/a,["e",1]"#);
    assert_eq!(p.to_text(), r#"2/a,["e",1]"#);
    // The check happens when building.
    assert!(Packet::event(V5, "a", "e", &[]).is_err());
}

#[test]
fn r4_output_is_bounded() {
    let now = Instant::ZERO;
    // Server: past `max_queued_messages`, emit is refused and nothing is queued.
    let config = server::Config::DEFAULT.with_max_queued_messages(3);
    let mut s = server::Connection::new(&config, V5, "eio", now);
    s.handle_message(now, PacketData::Text("0".into()));
    while s.poll_event().is_some() {}
    s.accept("/", Some("S")).unwrap();
    let mut refused = 0;
    for _ in 0..10 {
        if let Err(server::SendError::OutputFull { limit, .. }) = s.emit(now, "/", "e", &[], None) {
            assert_eq!(limit, 3);
            refused += 1;
        }
    }
    assert!(refused >= 7);
    let mut queued = 0;
    while s.poll_transmit().is_some() {
        queued += 1;
    }
    assert!(queued <= 3, "{queued}");
    // Client: the send buffer (emits before the namespace is connected) is bounded.
    let config = client::Config::DEFAULT.with_max_send_buffer(2);
    let mut c = client::Connection::new(config, V4, 1);
    c.connect(now, "/", None).unwrap();
    let results: Vec<_> = (0..5).map(|_| c.emit(now, "/", "e", &[])).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 2);
    assert!(matches!(
        results[4],
        Err(client::EmitError::SendBufferFull { limit: 2 })
    ));
}

/// R5: time is an `Instant` argument; a deadline far in the future saturates instead of
/// overflowing.
#[test]
fn r5_time_is_an_instant_and_deadlines_saturate() {
    let now = Instant::from_duration(Duration::from_secs(5));
    let config = server::Config::DEFAULT.with_connect_timeout(Duration::MAX);
    let mut s = server::Connection::new(&config, V5, "eio", now);
    // A connect timeout of `Duration::MAX` saturates at the last instant: no overflow, no
    // panic, and nothing fires before the end of time.
    assert_eq!(s.poll_timeout(), Some(Instant::MAX));
    s.handle_timeout(now + Duration::from_secs(1_000_000_000));
    assert!(!s.is_closed());
    let config = server::Config::DEFAULT.with_connect_timeout(Duration::from_secs(1));
    let mut s = server::Connection::new(&config, V5, "eio", now);
    assert_eq!(s.poll_timeout(), Some(now + Duration::from_secs(1)));
    s.handle_timeout(now + Duration::from_secs(1));
    assert!(s.is_closed());
}

/// R6: polling after `None` is harmless, and polling never needs input first.
#[test]
fn r6_polling_after_none_is_harmless() {
    let now = Instant::ZERO;
    let mut s = server::Connection::new(&server::Config::DEFAULT, V5, "eio", now);
    for _ in 0..3 {
        assert!(s.poll_event().is_none());
        assert!(s.poll_transmit().is_none());
    }
    let mut c = client::Connection::new(client::Config::DEFAULT, V5, 1);
    for _ in 0..3 {
        assert!(c.poll_event().is_none());
        assert!(c.poll_transmit().is_none());
        assert!(c.poll_transport().is_none());
    }
    let mut dec = Decoder::new(V5, Limits::DEFAULT);
    assert_eq!(
        dec.push(PacketData::Text(
            r#"51-["a",{"_placeholder":true,"num":0}]"#.into()
        )),
        Ok(None)
    );
    assert!(dec.is_reconstructing());
}
