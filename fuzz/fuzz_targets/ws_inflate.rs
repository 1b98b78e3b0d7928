//! permessage-deflate inflate of arbitrary compressed payloads under limits.
//!
//! Oracles: decompression never returns more than the size limit, fails only with 1007
//! (corrupt) or 1009 (too big / ratio), and compress → decompress returns the exact input for
//! every parameter set, message after message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwire_ws::deflate::negotiate::Agreement;
use pushwire_ws::deflate::{DeflateConfig, PerMessageDeflate};
use pushwire_ws::Role;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let flags = data[0];
    let limit = u64::from(data[1]) * 257 + u64::from(data[2] & 0x0f);
    let agreed = Agreement {
        server_no_context_takeover: flags & 1 != 0,
        client_no_context_takeover: flags & 2 != 0,
        server_max_window_bits: 8 + ((flags >> 2) & 7),
        client_max_window_bits: 8 + ((data[2] >> 4) & 7),
    };
    let config = DeflateConfig {
        threshold: 0,
        max_ratio: if flags & 0x20 != 0 { 4 } else { 0 },
        ratio_floor: 64,
        ..DeflateConfig::default()
    };
    let role = if flags & 0x40 != 0 { Role::Client } else { Role::Server };
    let mut dec = PerMessageDeflate::new(role, agreed, config);
    // Arbitrary payloads, split into messages at 0xfe bytes.
    for msg in data[3..].split(|&b| b == 0xfe) {
        match dec.decompress(msg, limit) {
            Ok(out) => assert!(out.len() as u64 <= limit, "output beyond the limit"),
            Err(e) => assert!(e.code == 1007 || e.code == 1009, "code {}", e.code),
        }
    }
    // Exact roundtrip of the same bytes as plain messages, peer roles swapped.
    let peer = if role == Role::Client { Role::Server } else { Role::Client };
    let mut enc = PerMessageDeflate::new(peer, agreed, config);
    let mut dec = PerMessageDeflate::new(role, agreed, DeflateConfig { max_ratio: 0, ..config });
    for msg in data[3..].split(|&b| b == 0xfe) {
        let z = enc.compress(msg).expect("compress");
        let out = dec.decompress(&z, msg.len() as u64).expect("roundtrip");
        assert_eq!(out, msg);
    }
});
