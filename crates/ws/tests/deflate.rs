//! permessage-deflate through whole connections: negotiation in the handshake, messages both
//! ways, fragmented compressed messages, limits, and a proptest roundtrip per parameter set.
#![cfg(feature = "deflate")]

use bytes::Bytes;
use proptest::prelude::*;
use pushwire_ws::deflate::negotiate::{self, Agreement, ClientWindowBits, Offer, ServerPolicy};
use pushwire_ws::deflate::{DeflateConfig, Engine, PerMessageDeflate};
use pushwire_ws::frame::{FrameHeader, OpCode, MAX_HEADER_LEN, RSV1};
use pushwire_ws::handshake::{ClientHandshake, ClientRequest, HandshakeLimits, ServerHandshake};
use pushwire_ws::mask::apply_mask;
use pushwire_ws::{Config, Connection, ConnectionState, Event, FixedMaskKey, Role};

fn cfg(threshold: usize) -> DeflateConfig {
    DeflateConfig::DEFAULT.with_threshold(threshold)
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
        to.feed(&c).unwrap();
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
    s.feed(&frames(&z, OpCode::Text, 4, false)).unwrap();
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
    s.feed(&frames(&z, OpCode::Binary, 3, true)).unwrap();
    let e = s.poll_event().unwrap_err();
    assert_eq!(e.close_code(), Some(1002));
}

#[test]
fn zip_bomb_closes_1009() {
    let mut enc = PerMessageDeflate::new(Role::Client, Agreement::default(), cfg(0));
    let z = enc.compress(&vec![0u8; 8 << 20]).unwrap();
    let mut config = Config::default();
    config.limits.max_message_size = 1 << 20;
    let mut s = server_with(config);
    s.feed(&frames(&z, OpCode::Binary, 1, false)).unwrap();
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
fn a_message_inflating_to_exactly_the_limit_is_delivered() {
    let mut enc = PerMessageDeflate::new(Role::Client, Agreement::default(), cfg(0));
    let limit = 1 << 16;
    let mut config = Config::default();
    config.limits.max_message_size = limit as u64;
    let mut s = server_with(config);
    let z = enc.compress(&vec![7u8; limit]).unwrap();
    s.feed(&frames(&z, OpCode::Binary, 1, false)).unwrap();
    assert_eq!(
        s.poll_event().unwrap(),
        Some(Event::Binary(vec![7u8; limit].into()))
    );
    let z = enc.compress(&vec![7u8; limit + 1]).unwrap();
    s.feed(&frames(&z, OpCode::Binary, 1, false)).unwrap();
    assert_eq!(s.poll_event().unwrap_err().close_code(), Some(1009));
}

#[test]
fn corrupt_text_is_1007() {
    let mut s = server_with(Config::default());
    s.feed(&frames(&[0xff, 0xff, 0xff], OpCode::Text, 1, false))
        .unwrap();
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

/// Either engine: each side of a connection picks its own, so every pairing is checked
/// (both speak the same DEFLATE, so any mix must interoperate).
fn engines() -> impl Strategy<Value = Engine> {
    prop_oneof![Just(Engine::Miniz), Just(Engine::ZlibRs)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// compress → decompress over a sequence of messages, each direction, per parameter set
    /// and engine pairing.
    #[test]
    fn roundtrip(a in agreements(), msgs in messages(), threshold in 0usize..100,
        ec in engines(), es in engines()) {
        let mut c = Connection::with_mask_keys(Role::Client, Config::default(),
            Box::new(FixedMaskKey([5, 6, 7, 8])));
        c.set_extension(Box::new(PerMessageDeflate::new(Role::Client, a,
            cfg(threshold).with_engine(ec))));
        let mut s = Connection::server(Config::default());
        s.set_extension(Box::new(PerMessageDeflate::new(Role::Server, a,
            cfg(threshold).with_engine(es))));
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
    fn codec_roundtrip(a in agreements(), msgs in messages(), role in any::<bool>(),
        ee in engines(), ed in engines(), level in 1u8..=10) {
        let (me, peer) = if role { (Role::Client, Role::Server) } else { (Role::Server, Role::Client) };
        let mut enc = PerMessageDeflate::new(me, a, cfg(0).with_engine(ee).with_level(level));
        let mut dec = PerMessageDeflate::new(peer, a, cfg(0).with_engine(ed));
        for m in &msgs {
            let z = enc.compress(m).unwrap();
            prop_assert_eq!(&dec.decompress(&z, m.len() as u64).unwrap(), m);
        }
    }
}

/// The frames on a wire: (header, unmasked payload).
fn parse_frames(mut wire: &[u8]) -> Vec<(FrameHeader, Vec<u8>)> {
    use pushwire_ws::frame::HeaderDecode;
    let mut out = Vec::new();
    while !wire.is_empty() {
        let HeaderDecode::Complete { header, header_len } =
            FrameHeader::decode(wire, true).unwrap()
        else {
            panic!("truncated frame header");
        };
        let len = header.payload_len as usize;
        let mut p = wire[header_len..header_len + len].to_vec();
        if let Some(k) = header.mask {
            apply_mask(&mut p, k, 0);
        }
        out.push((header, p));
        wire = &wire[header_len + len..];
    }
    out
}

/// Deterministic bytes that do not compress (xorshift).
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn takeover_pair(threshold: usize) -> (Connection, Connection) {
    let a = Agreement::default();
    let mut c = Connection::with_mask_keys(
        Role::Client,
        Config::default(),
        Box::new(FixedMaskKey([5, 6, 7, 8])),
    );
    c.set_extension(Box::new(PerMessageDeflate::new(
        Role::Client,
        a,
        cfg(threshold),
    )));
    let mut s = Connection::server(Config::default());
    s.set_extension(Box::new(PerMessageDeflate::new(
        Role::Server,
        a,
        cfg(threshold),
    )));
    (c, s)
}

#[test]
fn send_fragmented_compresses_then_splits() {
    for role in [Role::Client, Role::Server] {
        let (mut c, mut s) = takeover_pair(0);
        let (from, to) = match role {
            Role::Client => (&mut c, &mut s),
            Role::Server => (&mut s, &mut c),
        };
        let text = "{\"op\":\"fragmented\",\"ok\":true} ".repeat(40);
        from.send_fragmented(pushwire_ws::MessageKind::Text, text.clone(), 16)
            .unwrap();
        let wire = pump(from, to);
        let frames = parse_frames(&wire);
        assert!(frames.len() > 1, "{role:?}: split into frames");
        // "set the "Per-Message Compressed" bit of the first frame" (RFC 7692 §6.1) and
        // "MUST NOT set [it on] non-first fragments of a data message".
        assert_eq!(frames[0].0.rsv, RSV1);
        assert_eq!(frames[0].0.opcode, OpCode::Text);
        for (h, p) in &frames[1..] {
            assert_eq!((h.rsv, h.opcode), (0, OpCode::Continuation));
            assert!(p.len() <= 16);
        }
        let total: usize = frames.iter().map(|f| f.1.len()).sum();
        assert!(
            total < text.len() / 4,
            "{role:?}: compressed ({total} bytes)"
        );
        assert_eq!(
            to.poll_event().unwrap(),
            Some(Event::Text(text.as_str().into()))
        );
    }
}

#[test]
fn send_fragment_streams_a_compressed_message() {
    for role in [Role::Client, Role::Server] {
        let (mut c, mut s) = takeover_pair(64);
        let (from, to) = match role {
            Role::Client => (&mut c, &mut s),
            Role::Server => (&mut s, &mut c),
        };
        let parts = [
            "{\"a\":",
            "[1,2,3,1,2,3,1,2,3,1,2,3]",
            ",\"b\":\"xyzxyzxyzxyz\"}",
            "",
        ];
        let mut wire = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            let fin = i + 1 == parts.len();
            from.send_fragment(pushwire_ws::MessageKind::Text, p.as_bytes().to_vec(), fin)
                .unwrap();
            if i == 1 {
                // A control frame between fragments.
                from.send_ping(&b"p"[..]).unwrap();
            }
            wire.extend(pump(from, to));
        }
        let frames = parse_frames(&wire);
        let data: Vec<_> = frames
            .iter()
            .filter(|f| f.0.opcode != OpCode::Ping)
            .collect();
        assert_eq!(data.len(), 4);
        // Compressed although the first fragment is below the threshold: the size of a
        // streamed message is unknown when RSV1 is decided.
        assert_eq!(data[0].0.rsv, RSV1);
        assert!(data[1..].iter().all(|f| f.0.rsv == 0));
        assert!(frames
            .iter()
            .all(|f| f.0.opcode != OpCode::Ping || f.0.rsv == 0));
        // The final fragment, empty of data, still ends the stream without the tail.
        assert!(!data[3].1.ends_with(&[0, 0, 0xff, 0xff]));
        let msg: String = parts.concat();
        let mut events = Vec::new();
        while let Some(e) = to.poll_event().unwrap() {
            events.push(e);
        }
        assert_eq!(
            events.last(),
            Some(&Event::Text(msg.as_str().into())),
            "{role:?}"
        );
        // The stream continues with context takeover: the next message refers back.
        let again = msg.repeat(2);
        from.send_text(again.as_str()).unwrap();
        let wire = pump(from, to);
        assert!(wire.len() < 30, "{role:?}: {} bytes", wire.len());
        assert_eq!(
            to.poll_event().unwrap(),
            Some(Event::Text(again.as_str().into()))
        );
    }
}

#[test]
fn send_fragment_single_final_fragment_is_a_whole_message() {
    let (mut c, mut s) = takeover_pair(64);
    s.send_fragment(pushwire_ws::MessageKind::Text, &b"short"[..], true)
        .unwrap();
    let wire = pump(&mut s, &mut c);
    assert_eq!(wire, b"\x81\x05short", "below the threshold: uncompressed");
    assert_eq!(c.poll_event().unwrap(), Some(Event::Text("short".into())));
}

#[test]
fn incompressible_message_goes_uncompressed() {
    for takeover in [true, false] {
        let a = Agreement {
            server_no_context_takeover: !takeover,
            client_no_context_takeover: !takeover,
            ..Agreement::default()
        };
        let mut c = Connection::with_mask_keys(
            Role::Client,
            Config::default(),
            Box::new(FixedMaskKey([5, 6, 7, 8])),
        );
        c.set_extension(Box::new(PerMessageDeflate::new(Role::Client, a, cfg(0))));
        let mut s = Connection::server(Config::default());
        s.set_extension(Box::new(PerMessageDeflate::new(Role::Server, a, cfg(0))));
        let r = noise(700, 42);
        s.send_binary(r.clone()).unwrap();
        let wire = pump(&mut s, &mut c);
        let frames = parse_frames(&wire);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].0.rsv, 0, "not smaller: sent as is");
        assert_eq!(frames[0].1, r);
        assert_eq!(
            c.poll_event().unwrap(),
            Some(Event::Binary(r.clone().into()))
        );
        // The same bytes twice in one message compress (the second copy refers to the
        // first); had the compressor kept the uncompressed message in its window, it would
        // refer back into bytes the client's inflater never saw.
        let twice = [r.clone(), r.clone()].concat();
        s.send_binary(twice.clone()).unwrap();
        let wire = pump(&mut s, &mut c);
        let frames = parse_frames(&wire);
        assert_eq!(frames[0].0.rsv, RSV1);
        assert!(frames[0].1.len() < 800, "{} bytes", frames[0].1.len());
        assert_eq!(c.poll_event().unwrap(), Some(Event::Binary(twice.into())));
        // And an empty message (below nothing, threshold 0) does not shrink either.
        s.send_binary(Vec::new()).unwrap();
        let wire = pump(&mut s, &mut c);
        assert_eq!(wire, [0x82, 0x00]);
        assert_eq!(c.poll_event().unwrap(), Some(Event::Binary(Bytes::new())));
    }
}

/// How a message is sent in the mixed proptest.
#[derive(Debug, Clone)]
enum Send {
    Whole,
    Fragmented(usize),
    Streamed(Vec<usize>),
}

#[derive(Debug, Clone)]
enum Gen {
    Noise(usize, u64),
    Json(usize),
    /// The previous message (as sent) repeated: compressible only through references into
    /// it, the case that breaks when an uncompressed message was left in the window.
    RepeatPrevious(usize),
}

fn mixed() -> impl Strategy<Value = Vec<(Gen, Send)>> {
    let gen = prop_oneof![
        (0usize..1500, any::<u64>()).prop_map(|(n, s)| Gen::Noise(n, s)),
        (0usize..3000).prop_map(Gen::Json),
        (1usize..4).prop_map(Gen::RepeatPrevious),
    ];
    let send = prop_oneof![
        Just(Send::Whole),
        (1usize..400).prop_map(Send::Fragmented),
        proptest::collection::vec(0usize..700, 0..5).prop_map(Send::Streamed),
    ];
    proptest::collection::vec((gen, send), 1..16)
}

fn send_as(from: &mut Connection, m: &[u8], how: &Send) {
    use pushwire_ws::MessageKind::Binary;
    match how {
        Send::Whole => from.send_binary(m.to_vec()).unwrap(),
        Send::Fragmented(n) => from.send_fragmented(Binary, m.to_vec(), *n).unwrap(),
        Send::Streamed(cuts) => {
            let mut rest = m;
            for &c in cuts {
                let (a, b) = rest.split_at(c.min(rest.len()));
                from.send_fragment(Binary, a.to_vec(), false).unwrap();
                rest = b;
            }
            from.send_fragment(Binary, rest.to_vec(), true).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Compressible and incompressible messages mixed, with context takeover on (and, for
    /// contrast, off or with a small window), sent whole, fragmented after compression or
    /// streamed fragment by fragment: every message arrives intact, in both directions, and
    /// no compressed message is larger than the original.
    #[test]
    fn mixed_roundtrip_with_context_takeover(
        msgs in mixed(),
        threshold in 0usize..80,
        variant in 0u8..4,
    ) {
        let a = match variant {
            0 | 1 => Agreement::default(),
            2 => Agreement { server_no_context_takeover: true, client_no_context_takeover: true,
                ..Agreement::default() },
            _ => Agreement { server_max_window_bits: 9, client_max_window_bits: 10,
                ..Agreement::default() },
        };
        let mut c = Connection::with_mask_keys(Role::Client, Config::default(),
            Box::new(FixedMaskKey([5, 6, 7, 8])));
        c.set_extension(Box::new(PerMessageDeflate::new(Role::Client, a, cfg(threshold))));
        let mut s = Connection::server(Config::default());
        s.set_extension(Box::new(PerMessageDeflate::new(Role::Server, a, cfg(threshold))));
        let json = b"{\"event\":\"tick\",\"n\":12345,\"tags\":[\"a\",\"b\"]}";
        let mut prev: Vec<u8> = Vec::new();
        for (g, how) in &msgs {
            let m = match g {
                Gen::Noise(n, seed) => noise(*n, *seed),
                Gen::Json(n) => json.repeat(n / json.len() + 1)[..*n].to_vec(),
                Gen::RepeatPrevious(k) => prev.repeat(*k),
            };
            for dir in 0..2 {
                let (from, to) = if dir == 0 { (&mut c, &mut s) } else { (&mut s, &mut c) };
                send_as(from, &m, how);
                let wire = pump(from, to);
                let frames = parse_frames(&wire);
                prop_assert!(frames.iter().skip(1).all(|f| f.0.rsv == 0));
                if matches!(how, Send::Whole) {
                    // A whole message never goes out larger than it is.
                    prop_assert!(frames[0].1.len() <= m.len());
                }
                prop_assert_eq!(to.poll_event().unwrap(), Some(Event::Binary(m.clone().into())));
            }
            prev = m;
        }
    }
}

#[test]
fn poll_event_ref_inflates_compressed_messages() {
    // The borrowed fast path takes only frames with RSV clear; compressed ones go through
    // the extension as with poll_event. Mixed compressed and uncompressed messages.
    let (mut c, mut s) = takeover_pair(64);
    let long = "{\"borrowed\":true} ".repeat(30);
    let noise = noise(500, 9);
    c.send_text(long.as_str()).unwrap();
    c.send_text("short").unwrap();
    c.send_binary(noise.clone()).unwrap();
    c.send_text(long.as_str()).unwrap();
    let wire = pump(&mut c, &mut s);
    let rsv: Vec<u8> = parse_frames(&wire).iter().map(|f| f.0.rsv).collect();
    assert_eq!(rsv, [RSV1, 0, 0, RSV1]);
    let mut got = Vec::new();
    while let Some(ev) = s.poll_event_ref().unwrap() {
        got.push(match ev {
            pushwire_ws::EventRef::Text(t) => t.as_str().as_bytes().to_vec(),
            pushwire_ws::EventRef::Binary(b) => b.to_vec(),
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(
        got,
        [long.as_bytes(), b"short", &noise[..], long.as_bytes()].map(<[u8]>::to_vec)
    );
}
