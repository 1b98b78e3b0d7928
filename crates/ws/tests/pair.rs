//! A client and a server joined in memory: handshake, messages both ways, close.

use bytes::Bytes;
use pushwire_ws::handshake::{ClientHandshake, ClientRequest, HandshakeLimits, ServerHandshake};
use pushwire_ws::{
    CloseFrame, Config, Connection, ConnectionState, Event, FixedMaskKey, MessageKind, Role,
};

struct Pair {
    client: Connection,
    server: Connection,
    client_events: Vec<Event>,
    server_events: Vec<Event>,
}

impl Pair {
    /// Moves bytes both ways and collects events until nothing moves.
    fn drive(&mut self) {
        loop {
            let mut moved = false;
            while let Some(chunk) = self.client.poll_transmit() {
                self.server.feed(&chunk).unwrap();
                moved = true;
            }
            while let Some(chunk) = self.server.poll_transmit() {
                self.client.feed(&chunk).unwrap();
                moved = true;
            }
            while let Some(e) = self.server.poll_event().unwrap() {
                self.server_events.push(e);
                moved = true;
            }
            while let Some(e) = self.client.poll_event().unwrap() {
                self.client_events.push(e);
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }
}

fn handshake() -> Pair {
    let mut keys = FixedMaskKey([0xA1, 0xB2, 0xC3, 0xD4]);
    let mut req = ClientRequest::new("localhost:9001", "/echo");
    req.protocols = vec!["v2.chat".into(), "v1.chat".into()];
    let mut ch = ClientHandshake::new(&req, &mut keys, HandshakeLimits::default()).unwrap();
    let mut sh = ServerHandshake::default();

    // Request in two pieces.
    let request = ch.request();
    assert!(sh.feed(&request[..20]).unwrap().is_none());
    let offer = sh.feed(&request[20..]).unwrap().unwrap();
    assert_eq!(offer.path(), "/echo");
    assert_eq!(offer.host(), "localhost:9001");
    let chosen = offer.protocols()[1].clone();
    let response = offer.accept(Some(&chosen), None).unwrap();

    let mut server = Connection::server(Config::default());
    server.feed_bytes(sh.take_remaining()).unwrap();
    // The server greets right away: the greeting travels in the same chunk as the 101.
    server.send_text("welcome").unwrap();
    let mut wire = response.to_vec();
    while let Some(c) = server.poll_transmit() {
        wire.extend_from_slice(&c);
    }
    let accepted = ch.feed(&wire).unwrap().unwrap();
    assert_eq!(accepted.protocol.as_deref(), Some("v1.chat"));
    let mut client = Connection::with_mask_keys(Role::Client, Config::default(), Box::new(keys));
    client.feed_bytes(ch.take_remaining()).unwrap();
    Pair {
        client,
        server,
        client_events: Vec::new(),
        server_events: Vec::new(),
    }
}

#[test]
fn pair_handshake_messages_and_close() {
    let mut p = handshake();
    p.drive();
    assert_eq!(p.client_events, vec![Event::Text("welcome".into())]);
    p.client_events.clear();

    p.client.send_text("hello").unwrap();
    p.client.send_binary(vec![1u8, 2, 3]).unwrap();
    p.client.send_ping("are you there").unwrap();
    p.client
        .send_fragmented(MessageKind::Text, "fragmented ✓ text", 4)
        .unwrap();
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    p.server.send_binary(big.clone()).unwrap();
    p.drive();
    assert_eq!(
        p.server_events,
        vec![
            Event::Text("hello".into()),
            Event::Binary(Bytes::from_static(&[1, 2, 3])),
            Event::Ping(Bytes::from_static(b"are you there")),
            Event::Text("fragmented ✓ text".into()),
        ]
    );
    assert_eq!(
        p.client_events,
        vec![
            Event::Binary(big.into()),
            Event::Pong(Bytes::from_static(b"are you there")),
        ]
    );
    p.server_events.clear();
    p.client_events.clear();

    // Client starts the close; the server echoes; the server closes the transport first.
    p.client.send_close(1000, "bye").unwrap();
    p.drive();
    assert_eq!(
        p.server_events,
        vec![Event::Close(Some(CloseFrame::new(1000, "bye").unwrap()))]
    );
    assert_eq!(
        p.client_events,
        vec![Event::Close(Some(CloseFrame::new(1000, "").unwrap()))]
    );
    assert_eq!(p.server.state(), ConnectionState::Closed);
    assert_eq!(p.client.state(), ConnectionState::Closed);
    assert!(p.server.should_close_transport());
    assert!(!p.client.should_close_transport());
    p.client.feed_eof();
    assert!(p.client.should_close_transport());
}

#[test]
fn pair_server_initiated_close() {
    let mut p = handshake();
    p.drive();
    p.server.send_close(1001, "going away").unwrap();
    p.client.send_text("crossing").unwrap();
    p.drive();
    // The message the client sent before seeing the close is dropped by the server; the
    // client's reply echoes the code.
    assert_eq!(
        p.server_events,
        vec![Event::Close(Some(CloseFrame::new(1001, "").unwrap()))]
    );
    assert_eq!(
        p.client_events,
        vec![
            Event::Text("welcome".into()),
            Event::Close(Some(CloseFrame::new(1001, "going away").unwrap())),
        ]
    );
    assert_eq!(p.server.state(), ConnectionState::Closed);
    assert_eq!(p.client.state(), ConnectionState::Closed);
    assert!(p.server.should_close_transport());
}

/// The target: at most 128 bytes inline (cold state is boxed; see docs/performance.md).
#[test]
#[cfg(target_pointer_width = "64")]
fn connection_inline_size() {
    let size = std::mem::size_of::<Connection>();
    assert!(size <= 128, "size_of::<Connection>() = {size}");
}

#[test]
fn connection_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Connection>();
    assert_send::<ServerHandshake>();
    assert_send::<ClientHandshake>();
}

/// `Connection::new` needs `std` (its default mask-key source).
#[cfg(feature = "std")]
#[test]
fn default_constructor_masks_only_as_client() {
    let mut c = Connection::new(Role::Client, Config::default());
    c.send_text("x").unwrap();
    let out = c.poll_transmit().unwrap();
    assert_eq!(out[1] & 0x80, 0x80);
    let mut s = Connection::new(Role::Server, Config::default());
    s.send_text("x").unwrap();
    assert_eq!(&s.poll_transmit().unwrap()[..], &[0x81, 0x01, b'x']);
}

/// The one-call upgrade on both sides: permessage-deflate agreed and installed, the bytes that
/// followed each head delivered, the subprotocol chosen.
#[cfg(feature = "deflate")]
#[test]
fn pair_into_connection_with_deflate_and_early_frames() {
    use pushwire_ws::deflate::DeflateConfig;
    let mut keys = FixedMaskKey([1, 2, 3, 4]);
    let mut req = ClientRequest::new("localhost", "/");
    req.protocols = vec!["chat".into()];
    req.extensions = vec!["permessage-deflate; client_max_window_bits".into()];
    let mut ch = ClientHandshake::new(&req, &mut keys, HandshakeLimits::DEFAULT).unwrap();
    // The client's first frame travels with its request.
    let mut early = Connection::with_mask_keys(Role::Client, Config::DEFAULT, Box::new(keys));
    early.send_text("early").unwrap();
    let mut wire = ch.request().to_vec();
    wire.extend_from_slice(&early.poll_transmit().unwrap());

    let mut sh = ServerHandshake::default();
    let offer = sh.feed(&wire).unwrap().unwrap();
    let (response, mut server) = sh
        .into_connection(
            &offer,
            Some("chat"),
            Config::DEFAULT,
            Some(DeflateConfig::default()),
        )
        .unwrap();
    assert!(
        std::str::from_utf8(&response)
            .unwrap()
            .contains("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"),
        "{response:?}"
    );
    assert_eq!(
        server.poll_event().unwrap(),
        Some(Event::Text("early".into()))
    );
    let text = "compressible ".repeat(100);
    server.send_text(text.as_str()).unwrap();
    let mut back = response.to_vec();
    let frames = server.take_transmit();
    let compressed = bytes::Buf::chunk(&frames).to_vec();
    assert_eq!(compressed[0], 0xC1, "FIN + RSV1 + text: compressed");
    assert!(compressed.len() < 200);
    back.extend_from_slice(&compressed);

    let accepted = ch.feed(&back).unwrap().unwrap();
    assert_eq!(accepted.protocol.as_deref(), Some("chat"));
    let mut client = ch
        .into_connection(
            &accepted,
            Config::DEFAULT,
            Box::new(FixedMaskKey([5, 6, 7, 8])),
            Some(DeflateConfig::default()),
        )
        .unwrap();
    assert_eq!(client.poll_event().unwrap(), Some(Event::Text(text.into())));
    assert_eq!(client.poll_event().unwrap(), None);
}

/// A client that cannot run the extension the server accepted fails the handshake.
#[test]
fn client_into_connection_refuses_an_extension_it_cannot_run() {
    let mut keys = FixedMaskKey([1, 2, 3, 4]);
    let mut req = ClientRequest::new("localhost", "/");
    req.extensions = vec!["permessage-deflate".into()];
    let mut ch = ClientHandshake::new(&req, &mut keys, HandshakeLimits::DEFAULT).unwrap();
    let offer = ServerHandshake::default()
        .feed(&ch.request())
        .unwrap()
        .unwrap();
    let response = offer.accept(None, Some("permessage-deflate")).unwrap();
    let accepted = ch.feed(&response).unwrap().unwrap();
    let r = ch.into_connection(
        &accepted,
        Config::DEFAULT,
        Box::new(FixedMaskKey([5, 6, 7, 8])),
        None,
    );
    assert_eq!(
        r.err(),
        Some(pushwire_ws::handshake::ResponseError::Extension)
    );
}
