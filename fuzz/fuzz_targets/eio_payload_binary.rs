//! Decodes arbitrary bytes as an XHR2 binary payload in arbitrary chunks under small
//! limits. Oracle: see `eio_payload_common.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("eio_payload_common.rs");

fuzz_target!(|input: Input| {
    let (whole, _) = run(PayloadFormat::Binary, &input);
    let ok: Vec<Packet> = whole.iter().filter_map(|r| r.clone().ok()).collect();
    let error_free = whole.iter().all(Result::is_ok);
    let mut b = Vec::new();
    pushwire_engineio::encode_binary_payload(&ok, &mut b);
    // A base64 packet inside a string entry (`b…`) re-encodes as a binary entry; only
    // without any `b` byte is the re-encoding a pure deletion of non-canonical digits.
    if !input.data.contains(&b'b') {
        check_reencoding(&b, &input.data, error_free);
    }
    let again: Vec<_> = pushwire_engineio::decode_binary_payload(b, Limits::UNLIMITED).collect();
    assert_eq!(again, ok.iter().cloned().map(Ok).collect::<Vec<_>>());
});
