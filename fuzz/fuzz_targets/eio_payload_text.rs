//! Decodes arbitrary bytes as a text payload (`<length>:<packet>…`, lengths in UTF-16
//! units) in arbitrary chunks under small limits. Oracle: see `eio_payload_common.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("eio_payload_common.rs");

fuzz_target!(|input: Input| {
    let (whole, _) = run(PayloadFormat::Text, &input);
    let ok: Vec<Packet> = whole.iter().filter_map(|r| r.clone().ok()).collect();
    let error_free = whole.iter().all(Result::is_ok);
    if !ok.is_empty() {
        let mut s = Vec::new();
        pushwire_engineio::encode_text_payload(&ok, &mut s);
        let s = String::from_utf8(s).expect("a text payload is UTF-8");
        check_reencoding(s.as_bytes(), &input.data, error_free);
        let again: Vec<_> = pushwire_engineio::decode_text_payload(s, Limits::UNLIMITED).collect();
        assert_eq!(again, ok.iter().cloned().map(Ok).collect::<Vec<_>>());
    } else if error_free {
        // Only `0:` entries (or nothing): the input must be non-empty and made of them.
        assert!(!input.data.is_empty());
    }
});
