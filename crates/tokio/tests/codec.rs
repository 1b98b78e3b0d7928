//! FrameCodec (feature `codec`): the examples of RFC 6455 §5.7, the frame rules, the size
//! limit, and chunk invariance.

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use proptest::prelude::*;
use pushwire_tokio::codec::{Frame, FrameCodec};
use pushwire_tokio::pushwire_ws::frame::{HeaderError, OpCode};
use pushwire_tokio::pushwire_ws::{FixedMaskKey, ProtocolError};
use pushwire_tokio::{CodecConfig, CodecError, Config, Message, Role, WebSocketStream};
use tokio_util::codec::{Decoder, Encoder, Framed};

/// The key of the masked examples of §5.7.
const RFC_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// "Hello" masked with [`RFC_KEY`].
const MASKED_HELLO: [u8; 5] = [0x7f, 0x9f, 0x4d, 0x51, 0x58];

fn server() -> FrameCodec {
    FrameCodec::new(Role::Server, CodecConfig::DEFAULT)
}

fn client() -> FrameCodec {
    FrameCodec::new(Role::Client, CodecConfig::DEFAULT)
}

fn client_with_key(key: [u8; 4]) -> FrameCodec {
    FrameCodec::with_mask_keys(
        Role::Client,
        CodecConfig::DEFAULT,
        Box::new(FixedMaskKey(key)),
    )
}

/// Decodes everything in `wire`, which must hold whole frames only.
fn decode_all(codec: &mut FrameCodec, wire: &[u8]) -> Vec<Frame> {
    let mut buf = BytesMut::from(wire);
    let mut frames = Vec::new();
    while let Some(f) = codec.decode(&mut buf).unwrap() {
        frames.push(f);
    }
    assert!(buf.is_empty(), "left over: {buf:?}");
    frames
}

fn encode(codec: &mut FrameCodec, frame: Frame) -> Vec<u8> {
    let mut out = BytesMut::new();
    codec.encode(frame, &mut out).unwrap();
    out.to_vec()
}

fn protocol_error(r: Result<Option<Frame>, CodecError>) -> ProtocolError {
    match r {
        Err(CodecError::Protocol(e)) => e,
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

fn with_mask(head: &[u8], key: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut v = head.to_vec();
    v.extend_from_slice(&key);
    v.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    v
}

// ---- RFC 6455 §5.7 ----

#[test]
fn rfc_5_7_single_frame_unmasked_text() {
    // "0x81 0x05 0x48 0x65 0x6c 0x6c 0x6f (contains "Hello")"
    let wire = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(decode_all(&mut client(), &wire), [Frame::text("Hello")]);
    assert_eq!(encode(&mut server(), Frame::text("Hello")), wire);
}

#[test]
fn rfc_5_7_single_frame_masked_text() {
    // "0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58 (contains "Hello")"
    let mut wire = vec![0x81, 0x85];
    wire.extend(RFC_KEY);
    wire.extend(MASKED_HELLO);
    assert_eq!(decode_all(&mut server(), &wire), [Frame::text("Hello")]);
    assert_eq!(
        encode(&mut client_with_key(RFC_KEY), Frame::text("Hello")),
        wire
    );
}

#[test]
fn rfc_5_7_fragmented_unmasked_text() {
    // "0x01 0x03 0x48 0x65 0x6c (contains "Hel")" then "0x80 0x02 0x6c 0x6f (contains "lo")"
    let wire = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    let frames = [
        Frame::text("Hel").with_fin(false),
        Frame::continuation(&b"lo"[..]),
    ];
    // Not reassembled: two frames come out.
    assert_eq!(decode_all(&mut client(), &wire), frames);
    let mut s = server();
    let mut out = Vec::new();
    for f in frames {
        out.extend(encode(&mut s, f));
    }
    assert_eq!(out, wire);
}

#[test]
fn rfc_5_7_unmasked_ping_and_masked_pong() {
    // "0x89 0x05 0x48 0x65 0x6c 0x6c 0x6f (contains a body of "Hello", but the contents of
    // the body are arbitrary)"
    let ping = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(
        decode_all(&mut client(), &ping),
        [Frame::ping(&b"Hello"[..])]
    );
    assert_eq!(encode(&mut server(), Frame::ping(&b"Hello"[..])), ping);
    // "0x8a 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58 (contains a body of "Hello",
    // matching the body of the ping)"
    let mut pong = vec![0x8a, 0x85];
    pong.extend(RFC_KEY);
    pong.extend(MASKED_HELLO);
    assert_eq!(
        decode_all(&mut server(), &pong),
        [Frame::pong(&b"Hello"[..])]
    );
    assert_eq!(
        encode(&mut client_with_key(RFC_KEY), Frame::pong(&b"Hello"[..])),
        pong
    );
}

#[test]
fn rfc_5_7_256_bytes_and_64_kib_binary() {
    // "0x82 0x7E 0x0100 [256 bytes of binary data]"
    let data: Vec<u8> = (0..=255).collect();
    let mut wire = vec![0x82, 0x7E, 0x01, 0x00];
    wire.extend(&data);
    assert_eq!(encode(&mut server(), Frame::binary(data.clone())), wire);
    assert_eq!(decode_all(&mut client(), &wire), [Frame::binary(data)]);
    // "0x82 0x7F 0x0000000000010000 [65536 bytes of binary data]"
    let big = vec![0xA5u8; 65536];
    let mut wire = vec![0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0];
    wire.extend(&big);
    assert_eq!(encode(&mut server(), Frame::binary(big.clone())), wire);
    assert_eq!(decode_all(&mut client(), &wire), [Frame::binary(big)]);
}

// ---- Frame rules ----

#[test]
fn server_rejects_unmasked_frame() {
    let mut s = server();
    let mut buf = BytesMut::from(&[0x81, 0x02, b'h', b'i'][..]);
    let e = protocol_error(s.decode(&mut buf));
    assert_eq!(e, ProtocolError::UnmaskedFrame);
    assert_eq!(e.close_code(), Some(1002));
    // Sticky.
    assert_eq!(
        protocol_error(s.decode(&mut BytesMut::new())),
        ProtocolError::UnmaskedFrame
    );
}

#[test]
fn client_rejects_masked_frame() {
    let wire = with_mask(&[0x81, 0x82], [1, 2, 3, 4], b"hi");
    let e = protocol_error(client().decode(&mut BytesMut::from(&wire[..])));
    assert_eq!(e, ProtocolError::MaskedFrame);
}

#[test]
fn reserved_bits_are_refused_unless_allowed() {
    let wire = with_mask(&[0xC1, 0x82], [1, 2, 3, 4], b"hi"); // RSV1 set
    let e = protocol_error(server().decode(&mut BytesMut::from(&wire[..])));
    assert_eq!(e, ProtocolError::ReservedBits(0x40));
    let mut lenient = FrameCodec::new(
        Role::Server,
        CodecConfig::DEFAULT.with_allow_reserved_bits(true),
    );
    let frames = decode_all(&mut lenient, &wire);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].rsv, 0x40);
    assert_eq!(frames[0].payload, &b"hi"[..]);
}

#[test]
fn control_frames_over_125_bytes_or_fragmented_are_refused_both_ways() {
    // A ping declaring 126 bytes: refused from the header.
    let e = protocol_error(client().decode(&mut BytesMut::from(&[0x89, 0x7E, 0x00, 0x7E][..])));
    assert_eq!(
        e,
        ProtocolError::ControlFrameTooLong {
            len: 126,
            limit: 125
        }
    );
    let e = protocol_error(client().decode(&mut BytesMut::from(&[0x09, 0x00][..])));
    assert_eq!(e, ProtocolError::FragmentedControlFrame);

    let mut out = BytesMut::new();
    let r = server().encode(Frame::ping(vec![0u8; 126]), &mut out);
    assert!(
        matches!(
            r,
            Err(CodecError::ControlTooLong {
                len: 126,
                limit: 125
            })
        ),
        "{r:?}"
    );
    let r = server().encode(Frame::pong(Bytes::new()).with_fin(false), &mut out);
    assert!(matches!(r, Err(CodecError::FragmentedControl)), "{r:?}");
    assert!(out.is_empty(), "nothing written on a refusal");
    // 125 is fine.
    server()
        .encode(Frame::ping(vec![0u8; 125]), &mut out)
        .unwrap();
    assert_eq!(out.len(), 127);
}

#[test]
fn non_minimal_length_is_refused_by_default() {
    // "the length of a 124-byte-long string can't be encoded as the sequence 126, 0, 124"
    let mut wire = vec![0x82, 0x7E, 0x00, 0x7C];
    wire.extend([0u8; 124]);
    let e = protocol_error(client().decode(&mut BytesMut::from(&wire[..])));
    assert_eq!(e, ProtocolError::Header(HeaderError::NonMinimalLength(124)));
    let mut lenient = FrameCodec::new(
        Role::Client,
        CodecConfig::DEFAULT.with_require_minimal_length(false),
    );
    assert_eq!(
        decode_all(&mut lenient, &wire),
        [Frame::binary(vec![0u8; 124])]
    );
}

#[test]
fn oversize_length_is_refused_from_the_header_without_allocating() {
    // A masked binary frame declaring 2^62 bytes, and nothing else.
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(&[0x82, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    let cap = buf.capacity();
    let e = protocol_error(server().decode(&mut buf));
    assert_eq!(
        e,
        ProtocolError::FrameTooLarge {
            len: 1 << 62,
            limit: 16 << 20
        }
    );
    assert_eq!(e.close_code(), Some(1009));
    assert_eq!(buf.capacity(), cap, "no room reserved for the payload");
}

#[test]
fn frame_size_limit_is_exact() {
    let config = CodecConfig::DEFAULT.with_max_frame_size(1000);
    let at = with_mask(&[0x82, 0xFE, 0x03, 0xE8], [9, 8, 7, 6], &[1u8; 1000]);
    let mut s = FrameCodec::new(Role::Server, config);
    assert_eq!(decode_all(&mut s, &at), [Frame::binary(vec![1u8; 1000])]);
    let over = with_mask(&[0x82, 0xFE, 0x03, 0xE9], [9, 8, 7, 6], &[1u8; 1001]);
    let e = protocol_error(
        FrameCodec::new(Role::Server, config).decode(&mut BytesMut::from(&over[..])),
    );
    assert_eq!(
        e,
        ProtocolError::FrameTooLarge {
            len: 1001,
            limit: 1000
        }
    );
}

#[test]
fn a_partial_frame_at_eof_is_unexpected_eof() {
    let mut c = client();
    assert_eq!(c.decode_eof(&mut BytesMut::new()).unwrap(), None);
    let mut buf = BytesMut::from(&[0x81, 0x05, b'H', b'e'][..]);
    assert_eq!(
        c.decode(&mut buf).unwrap(),
        None,
        "incomplete is not an error"
    );
    let e = protocol_error(c.decode_eof(&mut buf));
    assert_eq!(e, ProtocolError::UnexpectedEof);
    assert_eq!(e.close_code(), None);
}

#[test]
fn close_frame_body_is_parsed_on_request() {
    let close = pushwire_tokio::CloseFrame::new(1001, "bye").unwrap();
    let wire = encode(&mut server(), Frame::close(Some(&close)));
    assert_eq!(wire, [0x88, 0x05, 0x03, 0xE9, b'b', b'y', b'e']);
    let f = decode_all(&mut client(), &wire).remove(0);
    assert_eq!(f.close_frame().unwrap(), Some(close));
    assert_eq!(Frame::close(None).close_frame().unwrap(), None);
}

// ---- Over a transport ----

#[tokio::test]
async fn framed_client_talks_to_a_websocketstream_server() {
    let (a, b) = tokio::io::duplex(4096);
    let mut framed = Framed::new(a, client());
    let mut ws = WebSocketStream::from_raw(b, Role::Server, Config::DEFAULT);
    framed.send(Frame::text("hi from framed")).await.unwrap();
    assert_eq!(
        ws.recv().await.unwrap().unwrap(),
        Message::text("hi from framed")
    );
    ws.send(Message::Ping(Bytes::from_static(b"p")))
        .await
        .unwrap();
    ws.send(Message::text("back")).await.unwrap();
    // The codec yields the ping and does not answer it.
    assert_eq!(
        framed.next().await.unwrap().unwrap(),
        Frame::ping(&b"p"[..])
    );
    assert_eq!(framed.next().await.unwrap().unwrap(), Frame::text("back"));
    framed.send(Frame::pong(&b"p"[..])).await.unwrap();
    assert_eq!(
        ws.recv().await.unwrap().unwrap(),
        Message::Pong(Bytes::from_static(b"p"))
    );
}

// ---- Properties ----

fn frame_strategy() -> impl Strategy<Value = Frame> {
    let data = (
        prop_oneof![
            Just(OpCode::Text),
            Just(OpCode::Binary),
            Just(OpCode::Continuation)
        ],
        any::<bool>(),
        prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 0..300),
            1 => proptest::collection::vec(any::<u8>(), 65534..65538),
        ],
    )
        .prop_map(|(op, fin, p)| Frame::new(op, p).with_fin(fin));
    let control = (
        prop_oneof![Just(OpCode::Ping), Just(OpCode::Pong), Just(OpCode::Close)],
        proptest::collection::vec(any::<u8>(), 0..=125),
    )
        .prop_map(|(op, p)| Frame::new(op, p));
    prop_oneof![3 => data, 1 => control]
}

/// Feeds `wire` in the pieces that `cuts` mark, decoding after each.
fn decode_chunked(codec: &mut FrameCodec, wire: &[u8], cuts: &[usize]) -> Vec<Frame> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    points.push(wire.len());
    points.sort_unstable();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut at = 0;
    for p in points {
        buf.extend_from_slice(&wire[at..p]);
        at = p;
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            frames.push(f);
        }
    }
    assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
    frames
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn client_to_server_roundtrips_in_any_chunking(
        frames in proptest::collection::vec(frame_strategy(), 0..8),
        key in any::<[u8; 4]>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        let mut c = client_with_key(key);
        let mut wire = BytesMut::new();
        for f in &frames {
            c.encode(f.clone(), &mut wire).unwrap();
        }
        prop_assert_eq!(&decode_all(&mut server(), &wire), &frames);
        prop_assert_eq!(&decode_chunked(&mut server(), &wire, &cuts), &frames);
    }

    #[test]
    fn server_to_client_roundtrips_in_any_chunking(
        frames in proptest::collection::vec(frame_strategy(), 0..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        let mut s = server();
        let mut wire = BytesMut::new();
        for f in &frames {
            s.encode(f.clone(), &mut wire).unwrap();
        }
        prop_assert_eq!(&decode_chunked(&mut client(), &wire, &cuts), &frames);
    }
}
