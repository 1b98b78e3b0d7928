//! Property tests for revision 4: decode(encode(x)) == x for packets, WebSocket messages and
//! payloads; any split of a body gives the same packets and error as the whole body; the v4
//! and v3 decoders never agree on a binary packet's base64 form.

use proptest::prelude::*;
use pushwire_engineio::{v4, Limits, Packet, PacketType, PayloadError, WsMessage};

fn kind() -> impl Strategy<Value = PacketType> {
    (0u8..7).prop_map(|n| PacketType::from_number(n).unwrap())
}

/// Text biased towards the interesting cases: the separator, `b` (looks like base64),
/// digits (look like types), multi-byte and astral characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        "[a-z0-9b€é😀\u{10FFFF}\u{1e}\n=+/]*",
        Just(String::new()),
    ]
}

/// A packet revision 4 can carry: any type with text, binary data only in a `message`.
fn packet(text: BoxedStrategy<String>) -> impl Strategy<Value = Packet> {
    prop_oneof![
        (kind(), text).prop_map(|(k, t)| Packet::text(k, t)),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(Packet::binary_message),
    ]
}

/// Packets for a polling payload: their text holds no separator ("this assumes the record
/// separator is not used in the data").
fn payload_packets() -> impl Strategy<Value = Vec<Packet>> {
    let text = text().prop_map(|t| t.replace('\u{1e}', "")).boxed();
    proptest::collection::vec(packet(text), 1..12)
}

#[path = "common/decoding.rs"]
mod decoding;

/// Feeds `input` in the chunks given by `cuts`, polling after each, then EOF.
fn decode_chunked(
    input: &[u8],
    cuts: &[usize],
    limits: Limits,
) -> Vec<Result<Packet, PayloadError>> {
    decoding::decode_chunked(v4::PayloadDecoder::new(limits), input, cuts)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn packet_string_form_roundtrips(p in packet(text().boxed())) {
        let s = v4::packet_to_string(&p);
        let mut buf = bytes::BytesMut::new();
        v4::encode_packet(&p, &mut buf);
        prop_assert_eq!(&buf[..], s.as_bytes());
        prop_assert_eq!(s.len(), v4::packet_len(&p));
        prop_assert_eq!(v4::decode_packet_string(s.clone()), Ok(p.clone()));
        prop_assert_eq!(v4::decode_packet(&s), Ok(p));
    }

    #[test]
    fn websocket_message_roundtrips(p in packet(text().boxed()), supports_binary in any::<bool>()) {
        let m = v4::packet_to_ws_message(&p, supports_binary);
        match (&m, &p.data) {
            // > Binary payloads are sent as is, without modification.
            (WsMessage::Binary(b), pushwire_engineio::PacketData::Binary(d)) => {
                prop_assert!(supports_binary);
                prop_assert_eq!(b, d);
            }
            (WsMessage::Text(s), _) => prop_assert_eq!(s, &v4::packet_to_string(&p)),
            _ => prop_assert!(false, "text data in a binary message"),
        }
        prop_assert_eq!(v4::packet_from_ws_message(m), Ok(p));
    }

    #[test]
    fn owned_and_borrowed_packet_decode_agree(s in text()) {
        prop_assert_eq!(v4::decode_packet_string(s.clone()), v4::decode_packet(&s));
    }

    /// The socketioxide bug: the two revisions' base64 forms never decode to the same binary
    /// packet, so neither decoder misreads the other's output.
    #[test]
    fn v3_and_v4_base64_forms_are_never_confused(data in proptest::collection::vec(any::<u8>(), 0..48)) {
        let p = Packet::binary_message(data);
        let v3 = p.to_str_form();
        let v4s = v4::packet_to_string(&p);
        prop_assert!(v4::decode_packet(&v3).is_err(), "v4 decoder read v3's {}", v3);
        prop_assert!(Packet::decode_str(&v4s).map_or(true, |q| q != p), "v3 decoder read v4's {}", v4s);
    }

    #[test]
    fn payload_roundtrips(ps in payload_packets(), cuts in proptest::collection::vec(any::<usize>(), 0..6)) {
        let mut out = Vec::new();
        v4::encode_payload(&ps, &mut out);
        prop_assert_eq!(out.len(), v4::payload_len(&ps));
        let owned = v4::payload_to_string(&ps);
        prop_assert_eq!(&out[..], owned.as_bytes());
        let expect: Vec<_> = ps.iter().cloned().map(Ok).collect();
        let whole: Vec<_> = v4::decode_payload(out.clone(), Limits::DEFAULT).collect();
        prop_assert_eq!(&whole, &expect);
        prop_assert_eq!(decode_chunked(&out, &cuts, Limits::DEFAULT), expect);
    }

    /// Arbitrary (mostly malformed) input: within the payload bound the result does not
    /// depend on how the body is split; past it the whole body is refused and a split body
    /// yields a prefix of the unbounded packets, then one error. Packets stay within the
    /// limits, and decoded packets re-encode into a payload that decodes to them again.
    #[test]
    fn chunk_invariance_on_arbitrary_input(
        input in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            "([0-7b][a-zA-Z0-9€😀=+/]{0,6}\u{1e}?){0,6}".prop_map(String::into_bytes),
            proptest::collection::vec(prop_oneof![Just(0x1eu8), Just(b'4'), Just(b'b'), Just(b'A'), Just(b'='), any::<u8>()], 0..64),
        ],
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        max_packet in 1usize..40,
        max_payload in 1usize..80,
        max_packets in 1usize..6,
    ) {
        let limits = Limits::DEFAULT
            .with_max_packet_bytes(max_packet)
            .with_max_payload_bytes(max_payload)
            .with_max_packets(max_packets);
        let whole = decode_chunked(&input, &[], limits);
        let chunked = decode_chunked(&input, &cuts, limits);
        let too_large = PayloadError::PayloadTooLarge { limit: max_payload };
        if input.len() <= max_payload {
            prop_assert_eq!(&whole, &chunked);
        } else {
            prop_assert_eq!(&whole, &vec![Err(too_large.clone())]);
            let unbounded = decode_chunked(&input, &[], limits.with_max_payload_bytes(usize::MAX));
            let (last, oks) = chunked.split_last().expect("an error at least");
            prop_assert!(oks.len() <= unbounded.len());
            prop_assert_eq!(oks, &unbounded[..oks.len()]);
            if *last != Err(too_large.clone()) {
                prop_assert_eq!(&chunked, &unbounded);
            }
        }
        let one_shot: Vec<_> = v4::decode_payload(input.clone(), limits).collect();
        prop_assert_eq!(&whole, &one_shot);
        // At most one error, and it comes last.
        prop_assert!(whole.iter().rev().skip(1).all(Result::is_ok));
        let ok: Vec<Packet> = whole.iter().filter_map(|r| r.clone().ok()).collect();
        prop_assert!(ok.len() <= max_packets);
        for p in &ok {
            prop_assert!(v4::packet_len(p) <= max_packet);
        }
        if whole.iter().all(Result::is_ok) {
            // A clean decode is canonical: re-encoding gives the input back.
            let mut again = Vec::new();
            v4::encode_payload(&ok, &mut again);
            prop_assert_eq!(again, input);
        } else if !ok.is_empty() {
            let mut s = Vec::new();
            v4::encode_payload(&ok, &mut s);
            let again: Vec<_> = v4::decode_payload(s, Limits::UNLIMITED).collect();
            prop_assert_eq!(again, ok.iter().cloned().map(Ok).collect::<Vec<_>>());
        }
    }
}
