//! Arbitrary packets through every encoder and back. Oracle: decode(encode(x)) == x for the
//! string/base64 form, the binary form, WebSocket frames, text and XHR2 payloads (whole and
//! byte by byte), JSONP responses; the UTF-16 lengths written equal JavaScript's
//! `String.length`; and the JSONP request body decodes to the payload (up to the reference's
//! one lossy case, a backslash before a newline).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pushwire_engineio::{
    decode_binary_payload, decode_jsonp_request, decode_jsonp_response, decode_text_payload,
    encode_binary_payload, encode_jsonp_request, encode_jsonp_response, encode_text_payload,
    Limits, Packet, PacketType, PayloadDecoder, PayloadFormat,
};

#[derive(Debug, Arbitrary)]
struct P {
    kind: u8,
    binary: bool,
    text: String,
    bytes: Vec<u8>,
}

fuzz_target!(|input: (Vec<P>, u64, bool)| {
    let (raw, j, supports_binary) = input;
    let packets: Vec<Packet> = raw
        .into_iter()
        .map(|p| {
            let kind = PacketType::from_number(p.kind % 7).unwrap();
            if p.binary {
                Packet::binary(kind, p.bytes)
            } else {
                Packet::text(kind, p.text)
            }
        })
        .collect();

    for p in &packets {
        let s = p.to_str_form();
        assert_eq!(s.encode_utf16().count(), p.str_utf16_len());
        assert_eq!(Packet::decode_str(&s).as_ref(), Ok(p));
        assert_eq!(
            Packet::from_ws_message(p.to_ws_message(supports_binary)).as_ref(),
            Ok(p)
        );
    }

    let mut text = Vec::new();
    encode_text_payload(&packets, &mut text);
    let text = String::from_utf8(text).expect("a text payload is UTF-8");
    let expect: Vec<_> = packets.iter().cloned().map(Ok).collect();
    let got: Vec<_> = decode_text_payload(text.clone(), Limits::UNLIMITED).collect();
    assert_eq!(got, expect);

    let mut bin = Vec::new();
    encode_binary_payload(&packets, &mut bin);
    let got: Vec<_> = decode_binary_payload(bin.clone(), Limits::UNLIMITED).collect();
    assert_eq!(got, expect);

    // Byte by byte.
    for (format, wire) in [
        (PayloadFormat::Text, text.as_bytes()),
        (PayloadFormat::Binary, &bin[..]),
    ] {
        let mut d = PayloadDecoder::new(format, Limits::UNLIMITED);
        let mut got = Vec::new();
        for b in wire {
            d.feed(core::slice::from_ref(b)).expect("no limit");
            while let Some(p) = d.poll_packet().unwrap() {
                got.push(Ok(p));
            }
        }
        d.feed_eof();
        assert_eq!(d.poll_packet(), Ok(None));
        assert!(d.is_finished());
        assert_eq!(got, expect);
    }

    // JSONP.
    let mut resp = Vec::new();
    encode_jsonp_response(j, &text, &mut resp);
    let resp = String::from_utf8(resp).expect("a JSONP response is UTF-8");
    assert_eq!(decode_jsonp_response(&resp), Ok((j, text.clone())));
    let mut req = Vec::new();
    encode_jsonp_request(&text, &mut req);
    let back = decode_jsonp_request(&req).unwrap();
    if !text.contains("\\\n") {
        assert_eq!(back, text);
    }
});
