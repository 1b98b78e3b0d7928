//! `Connection::split`: the receiving half answers pings and the peer's Close on its own,
//! exactly one Close goes out whichever half closes, a failure reaches the sender, state and
//! permessage-deflate contexts carry across split and reunite, and reunite refuses strangers.

use bytes::{Buf, Bytes};
use pushwire_ws::close::CloseFrame;
use pushwire_ws::frame::OpCode;
use pushwire_ws::{
    Config, Connection, ConnectionState, Event, FixedMaskKey, ProtocolError, Role, SendError,
    Transmit,
};

fn bytes_of(mut t: Transmit) -> Vec<u8> {
    let mut v = Vec::new();
    while t.has_remaining() {
        let c = t.chunk();
        v.extend_from_slice(c);
        let n = c.len();
        t.advance(n);
    }
    v
}

fn client() -> Connection {
    Connection::with_mask_keys(
        Role::Client,
        Config::default(),
        Box::new(FixedMaskKey([1, 2, 3, 4])),
    )
}

fn pump(from: &mut Connection, to: &mut Connection) {
    let wire = bytes_of(from.take_transmit());
    to.feed(&wire).unwrap();
}

/// Opcodes of the unmasked (server) frames in `wire`, with their payloads.
fn server_frames(wire: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < wire.len() {
        let op = wire[i] & 0x0F;
        let len = usize::from(wire[i + 1] & 0x7F);
        assert!(
            len < 126 && wire[i + 1] & 0x80 == 0,
            "small unmasked frames only"
        );
        out.push((op, wire[i + 2..i + 2 + len].to_vec()));
        i += 2 + len;
    }
    out
}

fn events(rx: &mut pushwire_ws::Receiver) -> (Vec<Event>, Option<ProtocolError>) {
    let mut v = Vec::new();
    loop {
        match rx.poll_event() {
            Ok(Some(e)) => v.push(e),
            Ok(None) => return (v, None),
            Err(e) => return (v, Some(e)),
        }
    }
}

/// RFC 6455 §5.5.2 "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
/// response" and §5.5.1 "the endpoint MUST send a Close frame in response": both come out of
/// the receiving half alone, while the sender's own frames stay in the sender.
#[test]
fn the_receiver_answers_pings_and_close_alone() {
    let mut peer = client();
    let (mut rx, mut tx) = Connection::server(Config::default()).split().unwrap();
    tx.send_text("from the sender").unwrap();
    peer.send_ping("p1").unwrap();
    peer.send_text("hello").unwrap();
    peer.send_close(1001, "bye").unwrap();
    let wire = bytes_of(peer.take_transmit());
    rx.feed(&wire).unwrap();
    let (evs, err) = events(&mut rx);
    assert_eq!(err, None);
    assert_eq!(evs.len(), 3);
    assert!(matches!(&evs[0], Event::Ping(p) if &p[..] == b"p1"));
    assert!(matches!(&evs[1], Event::Text(t) if t.as_str() == "hello"));
    assert!(matches!(&evs[2], Event::Close(Some(c)) if c.code() == 1001));
    let replies = server_frames(&bytes_of(rx.take_transmit()));
    assert_eq!(
        replies,
        vec![(0xA, b"p1".to_vec()), (0x8, 1001u16.to_be_bytes().to_vec())]
    );
    // The sender's frame is its own, and after the receiver's reply nothing more may go.
    assert_eq!(
        server_frames(&bytes_of(tx.take_transmit())),
        vec![(0x1, b"from the sender".to_vec())]
    );
    assert_eq!(tx.send_text("late"), Err(SendError::Closing));
    assert_eq!(tx.send_close(1000, ""), Err(SendError::Closing));
    assert_eq!(tx.state(), ConnectionState::Closed);
    assert_eq!(rx.state(), ConnectionState::Closed);
    assert!(rx.should_close_transport());
}

/// The sender starts the closing handshake: the peer's reply completes it without a second
/// Close from the receiver, and data the peer sent after our Close is dropped ("The
/// application MUST NOT send any more data frames after sending a Close frame" on its side;
/// on ours, data after our Close is not delivered).
#[test]
fn one_close_when_the_sender_closes_first() {
    let mut peer = client();
    let (mut rx, mut tx) = Connection::server(Config::default()).split().unwrap();
    tx.send_close(1000, "done").unwrap();
    assert_eq!(tx.send_text("x"), Err(SendError::Closing));
    let ours = bytes_of(tx.take_transmit());
    assert_eq!(server_frames(&ours)[0].0, 0x8);
    peer.send_text("in flight").unwrap();
    peer.feed(&ours).unwrap();
    while peer.poll_event().unwrap().is_some() {}
    rx.feed(&bytes_of(peer.take_transmit())).unwrap();
    let (evs, err) = events(&mut rx);
    assert_eq!(err, None);
    assert_eq!(evs.len(), 1, "the text after our Close is dropped: {evs:?}");
    assert!(matches!(&evs[0], Event::Close(Some(c)) if c.code() == 1000));
    assert_eq!(rx.buffered_output(), 0, "no second Close");
    assert!(rx.should_close_transport());
}

/// A protocol error in the receiver fails the sender too; the Close with the error's code
/// comes from the receiver.
#[test]
fn a_receiver_failure_reaches_the_sender() {
    let (mut rx, mut tx) = Connection::server(Config::default()).split().unwrap();
    // An unmasked frame from a client: "a server MUST close the connection upon receiving a
    // frame that is not masked" (protocol error, 1002).
    rx.feed(&[0x81, 0x01, b'a']).unwrap();
    let (evs, err) = events(&mut rx);
    assert!(evs.is_empty());
    assert_eq!(err.unwrap().close_code(), Some(1002));
    let out = server_frames(&bytes_of(rx.take_transmit()));
    assert_eq!(out, vec![(0x8, 1002u16.to_be_bytes().to_vec())]);
    assert_eq!(
        tx.send_binary(Bytes::from_static(b"x")),
        Err(SendError::Failed)
    );
    assert_eq!(tx.state(), ConnectionState::Failed);
}

/// Output queued before the split stays in order with the sender; a pong pending at the
/// split stays with the receiver.
#[test]
fn split_keeps_what_was_queued() {
    let mut peer = client();
    let mut server = Connection::server(Config::default());
    peer.send_ping("pp").unwrap();
    pump(&mut peer, &mut server);
    assert!(matches!(server.poll_event(), Ok(Some(Event::Ping(_)))));
    server.send_text("one").unwrap();
    server.send_binary(vec![7u8; 2000]).unwrap();
    let before = server.buffered_output();
    let (mut rx, mut tx) = server.split().unwrap();
    assert_eq!(rx.buffered_output() + tx.buffered_output(), before);
    assert_eq!(
        server_frames(&bytes_of(rx.take_transmit())),
        vec![(0xA, b"pp".to_vec())]
    );
    let sent = bytes_of(tx.take_transmit());
    peer.feed(&sent).unwrap();
    assert!(matches!(peer.poll_event(), Ok(Some(Event::Text(t))) if t.as_str() == "one"));
    assert!(matches!(peer.poll_event(), Ok(Some(Event::Binary(b))) if b.len() == 2000));
}

/// A client's receiving half masks its replies ("a client MUST mask all frames that it
/// sends to the server") with its own keys; the server unmasks them.
#[test]
fn a_client_receiver_masks_its_replies() {
    let mut server = Connection::server(Config::default());
    let (mut rx, mut tx) = client()
        .split_with_keys(Box::new(FixedMaskKey([9, 9, 9, 9])))
        .unwrap();
    server.send_ping("are you there").unwrap();
    rx.feed(&bytes_of(server.take_transmit())).unwrap();
    assert!(matches!(rx.poll_event(), Ok(Some(Event::Ping(_)))));
    let pong = bytes_of(rx.take_transmit());
    assert_eq!(pong[1] & 0x80, 0x80, "masked");
    assert_eq!(&pong[2..6], &[9, 9, 9, 9]);
    tx.send_text("masked too").unwrap();
    server.feed(&pong).unwrap();
    server.feed(&bytes_of(tx.take_transmit())).unwrap();
    assert!(matches!(server.poll_event(), Ok(Some(Event::Pong(p))) if &p[..] == b"are you there"));
    assert!(matches!(server.poll_event(), Ok(Some(Event::Text(t))) if t.as_str() == "masked too"));
}

/// Reunite gives back one connection that goes on where the halves left off; halves of
/// different connections, or a receiver with output not yet taken, are refused and given
/// back.
#[test]
fn reunite_checks_the_pair() {
    let (rx_a, tx_a) = Connection::server(Config::default()).split().unwrap();
    let (rx_b, tx_b) = Connection::server(Config::default()).split().unwrap();
    let e = Connection::reunite(rx_a, tx_b).unwrap_err();
    assert!(e.not_a_pair());
    let (rx_a, tx_b) = e.into_parts();
    let mut peer = client();
    let (mut rx_a, mut tx_a) = (rx_a, tx_a);
    peer.send_ping("x").unwrap();
    rx_a.feed(&bytes_of(peer.take_transmit())).unwrap();
    assert!(matches!(rx_a.poll_event(), Ok(Some(Event::Ping(_)))));
    tx_a.send_text("queued in the sender").unwrap();
    let e = Connection::reunite(rx_a, tx_a).unwrap_err();
    assert!(!e.not_a_pair(), "the pong is not taken yet");
    let (mut rx_a, tx_a) = e.into_parts();
    let _pong = rx_a.take_transmit();
    let mut conn = Connection::reunite(rx_a, tx_a).unwrap();
    assert_eq!(conn.state(), ConnectionState::Open);
    conn.send_text("after").unwrap();
    peer.feed(&bytes_of(conn.take_transmit())).unwrap();
    assert!(matches!(
        peer.poll_event(),
        Ok(Some(Event::Pong(_))) | Ok(Some(Event::Text(_)))
    ));
    let texts: Vec<String> = std::iter::from_fn(|| peer.poll_event().ok().flatten())
        .filter_map(|e| match e {
            Event::Text(t) => Some(t.as_str().to_owned()),
            _ => None,
        })
        .collect();
    assert!(texts.ends_with(&["after".to_owned()]), "{texts:?}");
    // The reunited connection splits again.
    let (_rx, _tx) = conn.split().unwrap();
    drop((rx_b, tx_b));
}

/// The sender's Close, then reunite: the connection knows it sent Close, so the peer's reply
/// finishes the handshake without another Close.
#[test]
fn reunite_keeps_the_close_state() {
    let mut peer = client();
    let (rx, mut tx) = Connection::server(Config::default()).split().unwrap();
    tx.send_close(1000, "").unwrap();
    peer.feed(&bytes_of(tx.take_transmit())).unwrap();
    assert!(matches!(peer.poll_event(), Ok(Some(Event::Close(_)))));
    let mut conn = Connection::reunite(rx, tx).unwrap();
    assert_eq!(conn.state(), ConnectionState::CloseSent);
    pump(&mut peer, &mut conn);
    assert!(
        matches!(conn.poll_event(), Ok(Some(Event::Close(Some(c)))) if c == CloseFrame::new(1000, "").unwrap())
    );
    assert_eq!(conn.buffered_output(), 0);
    assert_eq!(conn.state(), ConnectionState::Closed);
}

/// A frame the receiver must reject after our Close stays rejected: opcode checks do not
/// depend on the split.
#[test]
fn reserved_opcodes_still_fail_a_half() {
    let (mut rx, _tx) = Connection::server(Config::default()).split().unwrap();
    rx.feed(&[0x83, 0x80, 0, 0, 0, 0]).unwrap();
    let (_, err) = events(&mut rx);
    assert_eq!(err.and_then(|e| e.close_code()), Some(1002));
    let _ = OpCode::Text;
}

#[cfg(feature = "deflate")]
mod deflate {
    use super::*;
    use pushwire_ws::deflate::negotiate::Agreement;
    use pushwire_ws::deflate::{DeflateConfig, PerMessageDeflate};
    use pushwire_ws::{Extension, ExtensionError, MessageKind};

    fn with_deflate(mut c: Connection) -> Connection {
        let role = c.role();
        c.set_extension(Box::new(PerMessageDeflate::new(
            role,
            Agreement::default(),
            DeflateConfig::DEFAULT.with_threshold(0),
        )));
        c
    }

    /// With context takeover both ways, compressed messages keep flowing across a split and a
    /// reunite: the halves carry the compressor and the decompressor with their windows.
    #[test]
    fn contexts_survive_split_and_reunite() {
        let mut peer = with_deflate(client());
        let mut server = with_deflate(Connection::server(Config::default()));
        // An unsplit twin with the same history: the split sender must write its bytes.
        let mut twin = with_deflate(Connection::server(Config::default()));
        let msg = "the same words again and again ".repeat(20);
        for _ in 0..3 {
            peer.send_text(msg.clone()).unwrap();
            server.send_text(msg.clone()).unwrap();
            twin.send_text(msg.clone()).unwrap();
        }
        pump(&mut peer, &mut server);
        pump(&mut server, &mut peer);
        let _ = twin.take_transmit();
        let (mut rx, mut tx) = server.split().unwrap();
        for _ in 0..3 {
            peer.send_text(msg.clone()).unwrap();
            tx.send_text(msg.clone()).unwrap();
            twin.send_text(msg.clone()).unwrap();
        }
        rx.feed(&bytes_of(peer.take_transmit())).unwrap();
        let sent = bytes_of(tx.take_transmit());
        assert_eq!(
            sent,
            bytes_of(twin.take_transmit()),
            "same compressor state"
        );
        assert!(
            sent.len() < msg.len(),
            "compressed against the window: {}",
            sent.len()
        );
        peer.feed(&sent).unwrap();
        let (evs, err) = events(&mut rx);
        assert_eq!(err, None);
        assert_eq!(evs.len(), 6);
        let mut server = Connection::reunite(rx, tx).unwrap();
        peer.send_text(msg.clone()).unwrap();
        server.send_text(msg.clone()).unwrap();
        pump(&mut peer, &mut server);
        pump(&mut server, &mut peer);
        let mut got = 0;
        while let Ok(Some(e)) = server.poll_event() {
            assert!(matches!(&e, Event::Text(t) if t.as_str() == msg));
            got += 1;
        }
        assert_eq!(got, 1);
        let mut got = 0;
        while let Ok(Some(e)) = peer.poll_event() {
            assert!(matches!(&e, Event::Text(t) if t.as_str() == msg), "{e:?}");
            got += 1;
        }
        assert_eq!(got, 7);
    }

    struct Shared;

    impl Extension for Shared {
        fn rsv_bits(&self) -> u8 {
            0
        }
        fn decode(
            &mut self,
            _: MessageKind,
            _: u8,
            p: Bytes,
            _: u64,
        ) -> Result<Bytes, ExtensionError> {
            Ok(p)
        }
        fn encode(&mut self, _: MessageKind, p: Bytes) -> Result<(u8, Bytes), ExtensionError> {
            Ok((0, p))
        }
    }

    /// An extension that cannot split refuses the split and gives the connection back.
    #[test]
    fn an_unsplittable_extension_refuses() {
        let mut c = Connection::server(Config::default());
        c.set_extension(Box::new(Shared));
        c.send_text("kept").unwrap();
        let c = c.split().unwrap_err().into_connection();
        assert_eq!(c.state(), ConnectionState::Open);
        assert!(c.buffered_output() > 0, "nothing lost");
    }
}

/// Every method of the receiving half does what the connection's does.
#[test]
fn the_receiver_is_the_connection_for_reading() {
    use bytes::BufMut;
    let mut peer = client();
    peer.send_text("one").unwrap();
    peer.send_binary(vec![5u8; 300]).unwrap();
    peer.send_ping("p").unwrap();
    let wire = bytes_of(peer.take_transmit());
    let mut config = Config::default();
    config.auto_pong = false;
    let (mut rx, tx) = Connection::server(config).split().unwrap();
    assert_eq!((rx.role(), rx.config()), (Role::Server, config));
    assert_eq!((tx.role(), tx.config()), (Role::Server, config));
    assert!(format!("{rx:?}").starts_with("Receiver("), "{rx:?}");
    assert!(format!("{tx:?}").starts_with("Sender("), "{tx:?}");
    // A whole message and part of the next, as owned bytes: the rest stays buffered.
    rx.feed_bytes(Bytes::copy_from_slice(&wire[..20])).unwrap();
    assert_eq!(rx.buffered_input(), 20);
    assert!(rx.input_capacity() >= 20);
    match rx.poll_event_ref() {
        Ok(Some(pushwire_ws::EventRef::Text(t))) => assert_eq!(t.as_str(), "one"),
        other => panic!("{other:?}"),
    }
    assert_eq!(rx.poll_event_ref(), Ok(None));
    assert_eq!(rx.buffered_input(), 20 - 9);
    // The rest through a read room.
    let mut room = rx.read_room(4096).unwrap();
    room.buf_mut().put_slice(&wire[20..]);
    rx.commit_read(room).unwrap();
    let (evs, err) = events(&mut rx);
    assert_eq!(err, None);
    assert_eq!(
        evs,
        vec![
            Event::Binary(vec![5u8; 300].into()),
            Event::Ping(Bytes::from_static(b"p"))
        ]
    );
    // auto_pong off: the answer is the application's, from this half.
    assert_eq!(rx.buffered_output(), 0);
    rx.send_pong("p").unwrap();
    assert_eq!(
        server_frames(&bytes_of(rx.take_transmit())),
        vec![(0xA, b"p".to_vec())]
    );
    assert!(!rx.should_close_transport());
    assert_eq!(rx.error(), None);
    // The end of the stream before the close handshake fails the connection.
    rx.feed_eof();
    assert_eq!(rx.poll_event(), Err(ProtocolError::UnexpectedEof));
    assert_eq!(rx.error(), Some(&ProtocolError::UnexpectedEof));
    assert_eq!(rx.state(), ConnectionState::Failed);
    assert!(rx.should_close_transport());
}

/// The errors of split and reunite say what went wrong.
#[test]
fn split_and_reunite_errors_describe_themselves() {
    struct Joined;
    impl pushwire_ws::Extension for Joined {
        fn rsv_bits(&self) -> u8 {
            pushwire_ws::frame::RSV1
        }
        fn decode(
            &mut self,
            _: pushwire_ws::MessageKind,
            _: u8,
            p: Bytes,
            _: u64,
        ) -> Result<Bytes, pushwire_ws::ExtensionError> {
            Ok(p)
        }
        fn encode(
            &mut self,
            _: pushwire_ws::MessageKind,
            p: Bytes,
        ) -> Result<(u8, Bytes), pushwire_ws::ExtensionError> {
            Ok((0, p))
        }
    }
    let mut conn = Connection::server(Config::default());
    conn.set_extension(Box::new(Joined));
    let e = conn.split().unwrap_err();
    assert_eq!(
        e.to_string(),
        "the negotiated extension cannot be split into two directions"
    );
    assert_eq!(format!("{e:?}"), "SplitError { .. }");
    let mut conn = e.into_connection();
    conn.send_text("still usable").unwrap();
    let (rx_a, _tx_a) = Connection::server(Config::default()).split().unwrap();
    let (_rx_b, tx_b) = Connection::server(Config::default()).split().unwrap();
    let e = Connection::reunite(rx_a, tx_b).unwrap_err();
    assert_eq!(e.to_string(), "the halves come from different connections");
    assert_eq!(format!("{e:?}"), "ReuniteError { not_a_pair: true, .. }");
    let mut peer = client();
    peer.send_ping("x").unwrap();
    let (mut rx, tx) = Connection::server(Config::default()).split().unwrap();
    rx.feed(&bytes_of(peer.take_transmit())).unwrap();
    let _ = events(&mut rx);
    let e = Connection::reunite(rx, tx).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the receiving half still has output to write"
    );
    assert_eq!(format!("{e:?}"), "ReuniteError { not_a_pair: false, .. }");
}

/// A message being streamed, and a large frame whose head was already handed out, carry
/// across split and reunite: the sender continues the message, and a pong never lands
/// between a head and its payload.
#[test]
fn a_streamed_message_and_a_half_written_frame_survive_split_and_reunite() {
    let mut peer = client();
    let mut server = Connection::server(Config::default());
    server.send_binary(vec![3u8; 100_000]).unwrap();
    let head = server.poll_transmit().unwrap();
    assert!(head.len() < 100, "the head alone: {}", head.len());
    server
        .send_fragment(pushwire_ws::MessageKind::Text, "ab", false)
        .unwrap();
    let queued = server.buffered_output();
    let (rx, mut tx) = server.split().unwrap();
    assert_eq!(tx.buffered_output(), queued);
    assert_eq!(
        tx.send_text("not now"),
        Err(SendError::MessageInProgress),
        "the sender knows a message is being streamed"
    );
    let mut conn = Connection::reunite(rx, tx).unwrap();
    assert_eq!(conn.buffered_output(), queued);
    // A ping arrives while the large frame is half written.
    peer.send_ping("pp").unwrap();
    conn.feed(&bytes_of(peer.take_transmit())).unwrap();
    assert!(matches!(conn.poll_event(), Ok(Some(Event::Ping(_)))));
    conn.send_fragment(pushwire_ws::MessageKind::Text, "c", true)
        .unwrap();
    let mut wire = head.to_vec();
    while let Some(chunk) = conn.poll_transmit() {
        wire.extend_from_slice(&chunk);
    }
    peer.feed(&wire).unwrap();
    let mut got = Vec::new();
    while let Some(e) = peer.poll_event().unwrap() {
        got.push(e);
    }
    assert_eq!(
        got,
        vec![
            Event::Binary(vec![3u8; 100_000].into()),
            Event::Pong(Bytes::from_static(b"pp")),
            Event::Text("abc".into()),
        ]
    );
}

/// Every sending method of the sending half does what the connection's does.
#[test]
fn the_sender_is_the_connection_for_sending() {
    use pushwire_ws::MessageKind;
    let (_rx, mut tx) = Connection::server(Config::default()).split().unwrap();
    tx.send_fragmented(MessageKind::Binary, vec![1u8, 2, 3, 4, 5], 2)
        .unwrap();
    tx.send_fragment(MessageKind::Text, "fr", false).unwrap();
    tx.send_ping("pi").unwrap();
    tx.send_fragment(MessageKind::Text, "ag", true).unwrap();
    tx.send_pong("po").unwrap();
    assert_eq!(
        tx.send_ping(vec![0; 126]),
        Err(SendError::ControlTooLong {
            len: 126,
            limit: 125
        })
    );
    assert_eq!(
        tx.send_pong(vec![0; 126]),
        Err(SendError::ControlTooLong {
            len: 126,
            limit: 125
        })
    );
    assert_eq!(
        server_frames(&bytes_of(tx.take_transmit())),
        vec![
            (0x2, vec![1, 2]),
            (0x0, vec![3, 4]),
            (0x0, vec![5]),
            (0x1, b"fr".to_vec()),
            (0x9, b"pi".to_vec()),
            (0x0, b"ag".to_vec()),
            (0xA, b"po".to_vec()),
        ]
    );
}
