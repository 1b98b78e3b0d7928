//! Decodes arbitrary bytes as a revision 4 payload (packets joined by `\x1e`) in arbitrary
//! chunks under small limits. Oracle: the shared one of `eio_payload_common.rs` (chunk
//! invariance within the bound, exact refusals past it, one-shot equal to incremental, at
//! most one error and last, at most `max_packets`), and:
//! - each packet's string form is at most `max_packet_bytes`;
//! - an error-free decode is canonical: the packets re-encode to exactly the input; the
//!   packets before an error re-encode to a prefix of the input;
//! - decode(encode(packets)) == packets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwire_engineio::v4;

include!("eio_payload_common.rs");

fuzz_target!(|input: Input| {
    let one_shot =
        |data: Vec<u8>, limits| -> Results { v4::decode_payload(data, limits).collect() };
    let (whole, limits) = run_with(&v4::PayloadDecoder::new, &one_shot, &input);
    let ok: Vec<Packet> = whole.iter().filter_map(|r| r.clone().ok()).collect();
    for p in &ok {
        assert!(
            v4::packet_len(p) <= limits.max_packet_bytes,
            "packet over the limit"
        );
    }
    let mut again = Vec::new();
    v4::encode_payload(&ok, &mut again);
    assert_eq!(again.len(), v4::payload_len(&ok));
    if whole.iter().all(Result::is_ok) {
        assert_eq!(again, input.data, "an error-free decode is canonical");
    } else if !ok.is_empty() {
        assert!(
            input.data.starts_with(&again),
            "packets before the error are a prefix"
        );
        let back: Vec<_> = v4::decode_payload(again, Limits::UNLIMITED).collect();
        assert_eq!(back, ok.into_iter().map(Ok).collect::<Vec<_>>());
    }
});
