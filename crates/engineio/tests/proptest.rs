//! Property tests: decode(encode(x)) == x for packets and payloads, and chunk invariance of
//! the incremental payload decoder.

use bytes::Bytes;
use proptest::prelude::*;
use pushwire_engineio::{
    decode_binary_payload, decode_text_payload, encode_binary_payload, encode_payload,
    encode_text_payload, EncodedPayload, Limits, Packet, PacketType, PayloadDecoder, PayloadError,
    PayloadFormat, WsMessage,
};

fn kind() -> impl Strategy<Value = PacketType> {
    (0u8..7).prop_map(|n| PacketType::from_number(n).unwrap())
}

/// Text biased towards the interesting cases: ASCII, 2- and 3-byte characters, astral
/// characters (2 UTF-16 units), digits and `:` (look like lengths), `b` (looks like base64).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        "[a-z0-9:b€é😀\u{10FFFF}\u{2028}\n\\\\]*",
        Just(String::new()),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        (kind(), text()).prop_map(|(k, t)| Packet::text(k, t)),
        (kind(), proptest::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(k, b)| Packet::binary(k, b)),
    ]
}

fn packets() -> impl Strategy<Value = Vec<Packet>> {
    proptest::collection::vec(packet(), 0..12)
}

#[path = "common/decoding.rs"]
mod decoding;

/// Feeds `input` in the chunks given by `cuts`, polling after each, then EOF.
fn decode_chunked(
    format: PayloadFormat,
    input: &[u8],
    cuts: &[usize],
    limits: Limits,
) -> Vec<Result<Packet, PayloadError>> {
    decoding::decode_chunked(PayloadDecoder::new(format, limits), input, cuts)
}

fn is_truncated_or_other(got: &[Result<Packet, PayloadError>]) -> bool {
    got.iter().filter(|r| r.is_err()).count() <= 1 && got.iter().rev().skip(1).all(Result::is_ok)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn packet_string_form_roundtrips(p in packet()) {
        let s = p.to_str_form();
        // The caller's buffer gets the same bytes as the owned form.
        let mut buf = bytes::BytesMut::new();
        p.encode_str(&mut buf);
        prop_assert_eq!(&buf[..], s.as_bytes());
        prop_assert_eq!(s.len(), p.str_len());
        prop_assert_eq!(s.encode_utf16().count(), p.str_utf16_len());
        prop_assert_eq!(Packet::decode_string(s.clone()), Ok(p.clone()));
        prop_assert_eq!(Packet::decode_str(&s), Ok(p));
    }

    #[test]
    fn owned_and_borrowed_packet_decode_agree(s in text()) {
        prop_assert_eq!(Packet::decode_string(s.clone()), Packet::decode_str(&s));
        prop_assert_eq!(pushwire_engineio::utf16_len(&s), s.encode_utf16().count());
    }

    #[test]
    fn packet_frame_roundtrips(p in packet(), supports_binary in any::<bool>()) {
        let f = p.to_ws_message(supports_binary);
        if !supports_binary {
            prop_assert!(matches!(f, WsMessage::Text(_)));
        }
        prop_assert_eq!(Packet::from_ws_message(f), Ok(p));
    }

    #[test]
    fn binary_form_roundtrips(k in kind(), data in proptest::collection::vec(any::<u8>(), 0..64)) {
        let p = Packet::binary(k, data);
        let mut out = Vec::new();
        p.encode_binary(&mut out);
        prop_assert_eq!(Packet::decode_binary(Bytes::from(out)), Ok(p));
    }

    #[test]
    fn text_payload_roundtrips(ps in packets(), cuts in proptest::collection::vec(any::<usize>(), 0..6)) {
        let mut s = Vec::new();
        encode_text_payload(&ps, &mut s);
        let s = String::from_utf8(s).unwrap();
        prop_assert_eq!(encode_payload(&ps, false), EncodedPayload::Text(s.clone()));
        let whole: Vec<_> = decode_text_payload(s.clone(), Limits::DEFAULT).collect();
        let expect: Vec<_> = ps.iter().cloned().map(Ok).collect();
        prop_assert_eq!(&whole, &expect);
        prop_assert_eq!(decode_chunked(PayloadFormat::Text, s.as_bytes(), &cuts, Limits::DEFAULT), expect);
    }

    #[test]
    fn binary_payload_roundtrips(ps in packets(), cuts in proptest::collection::vec(any::<usize>(), 0..6)) {
        let mut b = Vec::new();
        encode_binary_payload(&ps, &mut b);
        let whole: Vec<_> = decode_binary_payload(b.clone(), Limits::DEFAULT).collect();
        let expect: Vec<_> = ps.iter().cloned().map(Ok).collect();
        prop_assert_eq!(&whole, &expect);
        prop_assert_eq!(decode_chunked(PayloadFormat::Binary, &b, &cuts, Limits::DEFAULT), expect);
    }

    /// Arbitrary (mostly malformed) input: within the payload bound the result does not
    /// depend on how the body is split; past it, the body is refused whole and a split body
    /// yields packets of its accepted part, then one error. At most one error comes last,
    /// and decoded packets re-encode into a payload that decodes to them again.
    #[test]
    fn chunk_invariance_on_arbitrary_input(
        text_format in any::<bool>(),
        input in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            "([0-9]{1,2}:[0-9b][a-zA-Z0-9€😀=]{0,6}){0,6}".prop_map(String::into_bytes),
            proptest::collection::vec(prop_oneof![0u8..3, Just(0xff), Just(b'4'), any::<u8>()], 0..64),
        ],
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        max_packet in 1usize..40,
        max_payload in 1usize..80,
        max_packets in 1usize..6,
    ) {
        let format = if text_format { PayloadFormat::Text } else { PayloadFormat::Binary };
        let limits = Limits::DEFAULT
            .with_max_packet_bytes(max_packet)
            .with_max_payload_bytes(max_payload)
            .with_max_packets(max_packets);
        let whole = decode_chunked(format, &input, &[], limits);
        let chunked = decode_chunked(format, &input, &cuts, limits);
        let too_large = PayloadError::PayloadTooLarge { limit: max_payload };
        if input.len() <= max_payload {
            prop_assert_eq!(&whole, &chunked);
        } else {
            prop_assert_eq!(&whole, &vec![Err(too_large.clone())]);
            // The split body: a prefix of what an unbounded decoder returns, then either the
            // same peer error or `PayloadTooLarge`.
            let unbounded = decode_chunked(
                format,
                &input,
                &[],
                limits.with_max_payload_bytes(usize::MAX),
            );
            let (last, oks) = chunked.split_last().expect("an error at least");
            prop_assert!(oks.len() <= unbounded.len());
            prop_assert_eq!(oks, &unbounded[..oks.len()]);
            if *last != Err(too_large.clone()) {
                prop_assert_eq!(&chunked, &unbounded);
            }
            prop_assert!(is_truncated_or_other(&chunked));
        }
        let one_shot: Vec<_> = match format {
            PayloadFormat::Text => decode_text_payload(input.clone(), limits).collect(),
            PayloadFormat::Binary => decode_binary_payload(input.clone(), limits).collect(),
        };
        prop_assert_eq!(&whole, &one_shot);
        prop_assert!(is_truncated_or_other(&whole));
        let ok: Vec<Packet> = whole.iter().filter_map(|r| r.clone().ok()).collect();
        prop_assert!(ok.len() <= max_packets);
        let mut s = Vec::new();
        encode_text_payload(&ok, &mut s);
        let s = String::from_utf8(s).unwrap();
        let again: Vec<_> = decode_text_payload(s, Limits::UNLIMITED).collect();
        prop_assert_eq!(again, ok.iter().cloned().map(Ok).collect::<Vec<_>>());
    }
}
