//! permessage-deflate through whole connections: negotiation in the handshake, messages both
//! ways, fragmented compressed messages, limits, and a proptest roundtrip per parameter set.
#![cfg(feature = "deflate")]

use bytes::Bytes;
use proptest::prelude::*;
use pushwire_ws::deflate::negotiate::{self, Agreement, ClientWindowBits, Offer, ServerPolicy};
use pushwire_ws::deflate::{DeflateConfig, PerMessageDeflate};
use pushwire_ws::frame::{FrameHeader, OpCode, MAX_HEADER_LEN, RSV1};
use pushwire_ws::handshake::{ClientHandshake, ClientRequest, HandshakeLimits, ServerHandshake};
use pushwire_ws::mask::apply_mask;
use pushwire_ws::{Config, Connection, ConnectionState, Event, FixedMaskKey, Role};

fn cfg(threshold: usize) -> DeflateConfig {
    DeflateConfig {
        threshold,
        ..DeflateConfig::default()
    }
}

/// A client and a server that negotiated deflate through the real handshake.
fn negotiated(offer: Offer, policy: ServerPolicy, config: Config) -> (Connection, Connection) {
    let mut keys = FixedMaskKey([1, 2, 3, 4]);
    let mut req = ClientRequest::new("example.com", "/");
    req.extensions = vec![offer.to_header()];
    let mut ch = ClientHandshake::new(&req, &mut keys, HandshakeLimits::default()).unwrap();
    let mut sh = ServerHandshake::new(HandshakeLimits::default());
    let o = sh.feed(&ch.request()).unwrap().unwrap();
    let agreed = negotiate::server_accept(o.extensions(), &policy).unwrap();
    let resp = o.accept(None, Some(&agreed.to_header())).unwrap();
    let accepted = ch.feed(&resp).unwrap().unwrap();
    let client_agreed = negotiate::client_accept(&[offer], &accepted.extensions[0]).unwrap();
    assert_eq!(client_agreed, agreed);
    let mut client = Connection::with_mask_keys(Role::Client, config, Box::new(keys));
    client.set_extension(Box::new(PerMessageDeflate::new(
        Role::Client,
        client_agreed,
        cfg(0),
    )));
    let mut server = Connection::server(config);
    server.set_extension(Box::new(PerMessageDeflate::new(
        Role::Server,
        agreed,
        cfg(0),
    )));
    (client, server)
}

fn pump(from: &mut Connection, to: &mut Connection) -> Vec<u8> {
    let mut wire = Vec::new();
    while let Some(c) = from.poll_transmit() {
        wire.extend_from_slice(&c);
        to.feed(&c);
    }
    wire
}

#[test]
fn messages_both_ways_with_rsv1() {
    let (mut c, mut s) = negotiated(
        Offer {
            client_max_window_bits: ClientWindowBits::Any,
            ..Offer::default()
        },
        ServerPolicy::default(),
        Config::default(),
    );
    let text = "hello hello hello hello".repeat(20);
    c.send_text(text.as_str()).unwrap();
    let wire = pump(&mut c, &mut s);
    // Server-bound frame: FIN + RSV1 + text, and smaller than the text.
    assert_eq!(wire[0], 0x80 | RSV1 | 0x1);
    assert!(wire.len() < text.len() / 4);
    assert_eq!(
        s.poll_event().unwrap(),
        Some(Event::Text(text.as_str().into()))
    );
    s.send_binary(vec![7u8; 10_000]).unwrap();
    let wire = pump(&mut s, &mut c);
    assert_eq!(wire[0], 0x80 | RSV1 | 0x2);
    assert_eq!(
        c.poll_event().unwrap(),
        Some(Event::Binary(vec![7u8; 10_000].into()))
    );
}

/// Frames of one compressed message, masked, RSV1 on the first only (unless `rsv_all`).
fn frames(payload: &[u8], opcode: OpCode, pieces: usize, rsv_all: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let step = payload.len().div_ceil(pieces).max(1);
    let chunks: Vec<&[u8]> = payload.chunks(step).collect();
    for (i, ch) in chunks.iter().enumerate() {
        let h = FrameHeader {
            fin: i + 1 == chunks.len(),
            rsv: if i == 0 || rsv_all { RSV1 } else { 0 },
            opcode: if i == 0 { opcode } else { OpCode::Continuation },
            mask: Some([9, 8, 7, 6]),
            payload_len: ch.len() as u64,
        };
        let mut hb = [0u8; MAX_HEADER_LEN];
        let n = h.encode(&mut hb);
        out.extend_from_slice(&hb[..n]);
        let mut p = ch.to_vec();
        apply_mask(&mut p, [9, 8, 7, 6], 0);
        out.extend_from_slice(&p);
    }
    out
}

fn server_with(config: Config) -> Connection {
    let mut s = Connection::server(config);
    s.set_extension(Box::new(PerMessageDeflate::new(
        Role::Server,
        Agreement::default(),
        cfg(0),
    )));
    s
}

#[test]
fn fragmented_compressed_message() {
    let mut enc = PerMessageDeflate::new(Role::Client, Agreement::default(), cfg(0));
    let msg = "fragmented and compressed ".repeat(50);
    let z = enc.compress(msg.as_bytes()).unwrap();
    let mut s = server_with(Config::default());
    s.feed(&frames(&z, OpCode::Text, 4, false));
    assert_eq!(
        s.poll_event().unwrap(),
        Some(Event::Text(msg.as_str().into()))
    );
}

#[test]
fn rsv1_on_continuation_is_1002() {
    let mut enc = PerMessageDeflate::new(Role::Client, Agreement::default(), cfg(0));
    let z = enc.compress("abc".repeat(100).as_bytes()).unwrap();
    let mut s = server_with(Config::default());
    s.feed(&frames(&z, OpCode::Binary, 3, true));
    let e = s.poll_event().unwrap_err();
    assert_eq!(e.close_code(), Some(1002));
}

#[test]
fn zip_bomb_closes_1009() {
    let mut enc = PerMessageDeflate::new(Role::Client, Agreement::default(), cfg(0));
    let z = enc.compress(&vec![0u8; 8 << 20]).unwrap();
    let mut config = Config::default();
    config.max_message_size = 1 << 20;
    let mut s = server_with(config);
    s.feed(&frames(&z, OpCode::Binary, 1, false));
    let e = s.poll_event().unwrap_err();
    assert_eq!(e.close_code(), Some(1009));
    assert_eq!(s.state(), ConnectionState::Failed);
    // The close frame 1009 is queued.
    let out: Vec<u8> = std::iter::from_fn(|| s.poll_transmit())
        .flat_map(|b: Bytes| b.to_vec())
        .collect();
    assert_eq!(out, [0x88, 0x02, 0x03, 0xf1]);
}

#[test]
fn corrupt_text_is_1007() {
    let mut s = server_with(Config::default());
    s.feed(&frames(&[0xff, 0xff, 0xff], OpCode::Text, 1, false));
    assert_eq!(s.poll_event().unwrap_err().close_code(), Some(1007));
}

fn agreements() -> impl Strategy<Value = Agreement> {
    (any::<bool>(), any::<bool>(), 8u8..=15, 8u8..=15).prop_map(|(snct, cnct, sb, cb)| Agreement {
        server_no_context_takeover: snct,
        client_no_context_takeover: cnct,
        server_max_window_bits: sb,
        client_max_window_bits: cb,
    })
}

fn messages() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let msg = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        // Compressible: few distinct bytes, with repeats across messages.
        proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b' ')], 0..3000),
        (0usize..2000).prop_map(|n| b"{\"event\":\"tick\",\"n\":1}".repeat(n / 20 + 1)),
    ];
    proptest::collection::vec(msg, 1..12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// compress → decompress over a sequence of messages, each direction, per parameter set.
    #[test]
    fn roundtrip(a in agreements(), msgs in messages(), threshold in 0usize..100) {
        let mut c = Connection::with_mask_keys(Role::Client, Config::default(),
            Box::new(FixedMaskKey([5, 6, 7, 8])));
        c.set_extension(Box::new(PerMessageDeflate::new(Role::Client, a, cfg(threshold))));
        let mut s = Connection::server(Config::default());
        s.set_extension(Box::new(PerMessageDeflate::new(Role::Server, a, cfg(threshold))));
        for m in &msgs {
            c.send_binary(m.clone()).unwrap();
            pump(&mut c, &mut s);
            prop_assert_eq!(s.poll_event().unwrap(), Some(Event::Binary(m.clone().into())));
            s.send_binary(m.clone()).unwrap();
            pump(&mut s, &mut c);
            prop_assert_eq!(c.poll_event().unwrap(), Some(Event::Binary(m.clone().into())));
        }
    }

    /// The codec alone: decompress(compress(m)) == m for every message in order.
    #[test]
    fn codec_roundtrip(a in agreements(), msgs in messages(), role in any::<bool>()) {
        let (me, peer) = if role { (Role::Client, Role::Server) } else { (Role::Server, Role::Client) };
        let mut enc = PerMessageDeflate::new(me, a, cfg(0));
        let mut dec = PerMessageDeflate::new(peer, a, cfg(0));
        for m in &msgs {
            let z = enc.compress(m).unwrap();
            prop_assert_eq!(&dec.decompress(&z, m.len() as u64).unwrap(), m);
        }
    }
}
