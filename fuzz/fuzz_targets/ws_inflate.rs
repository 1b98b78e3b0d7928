//! permessage-deflate inflate of arbitrary compressed payloads under limits.
//!
//! Oracles: decompression never returns more than the size limit, fails only with 1007
//! (corrupt) or 1009 (too big / ratio), and compress → decompress returns the exact input for
//! every parameter set, message after message — also through the sending paths
//! (`Extension::encode` with its uncompressed fallback, `encode_fragment` for streamed
//! messages), where a message is compressed only when that makes it smaller.
//!
//! Engines: the inflate of arbitrary payloads runs on miniz_oxide and zlib-rs side by side:
//! a message both accept must inflate to the same bytes (they may disagree on where a
//! broken stream is first refused: see the loop); the roundtrips compress with one engine
//! and inflate with the other (flag 0x80 picks which).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use pushwire_ws::deflate::negotiate::Agreement;
use pushwire_ws::deflate::{DeflateConfig, Engine, PerMessageDeflate};
use pushwire_ws::frame::RSV1;
use pushwire_ws::{Extension, MessageKind, Role};

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
    // Levels 1..=10: zlib-rs takes a different path per level range.
    let config = DeflateConfig::DEFAULT
        .with_threshold(0)
        .with_level(1 + data[1] % 10)
        .with_max_ratio(if flags & 0x20 != 0 { 4 } else { 0 })
        .with_ratio_floor(64);
    let role = if flags & 0x40 != 0 {
        Role::Client
    } else {
        Role::Server
    };
    let (one, other) = if flags & 0x80 != 0 {
        (Engine::ZlibRs, Engine::Miniz)
    } else {
        (Engine::Miniz, Engine::ZlibRs)
    };
    let mut dec = PerMessageDeflate::new(role, agreed, config.with_engine(one));
    let mut twin = PerMessageDeflate::new(role, agreed, config.with_engine(other));
    // Arbitrary payloads, split into messages at 0xfe bytes.
    for msg in data[3..].split(|&b| b == 0xfe) {
        let mine = dec.decompress(msg, limit);
        match &mine {
            Ok(out) => assert!(out.len() as u64 <= limit, "output beyond the limit"),
            Err(e) => assert!(e.code == 1007 || e.code == 1009, "code {}", e.code),
        }
        let theirs = twin.decompress(msg, limit);
        match (&mine, &theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{one:?} and {other:?} inflate differently"),
            // Both refuse: the close code may differ for a message both corrupt and over the
            // limit (each engine stops where its output or its decoding ends).
            (Err(_), Err(_)) => break,
            // Only one refuses, as corrupt: miniz_oxide inflates a distance reaching before
            // the stream's start as zeros, and refuses some broken block headers at once
            // where zlib-rs, like zlib, still waits for the next message's bytes
            // (docs/ws.md). Any other one-sided refusal (a limit) would mean the outputs
            // differ. Either way the connection closes; nothing after it is comparable.
            (Err(e), Ok(_)) | (Ok(_), Err(e)) => {
                assert_eq!(e.code, 1007, "one engine alone refused with {}", e.code);
                break;
            }
        }
    }
    // Exact roundtrip of the same bytes as plain messages, peer roles swapped.
    let peer = if role == Role::Client {
        Role::Server
    } else {
        Role::Client
    };
    let mut enc = PerMessageDeflate::new(peer, agreed, config.with_engine(one));
    let mut dec = PerMessageDeflate::new(role, agreed, config.with_max_ratio(0).with_engine(other));
    for msg in data[3..].split(|&b| b == 0xfe) {
        let z = enc.compress(msg).expect("compress");
        let out = dec.decompress(&z, msg.len() as u64).expect("roundtrip");
        assert_eq!(out, msg);
    }
    // The sending paths of the extension: whole messages (threshold, and the uncompressed
    // fallback that resets a context-takeover compressor) and messages streamed in fragments
    // (the message's pieces between 0xfd bytes, each a fragment), mixed, with the receiver's
    // view: only RSV1 messages are inflated.
    let mut enc =
        PerMessageDeflate::new(peer, agreed, config.with_threshold(16).with_engine(other));
    let mut dec = PerMessageDeflate::new(role, agreed, config.with_max_ratio(0).with_engine(one));
    for (i, msg) in data[3..].split(|&b| b == 0xfe).enumerate() {
        let kind = MessageKind::Binary;
        let (sent, rsv, wire) = if i % 2 == 0 {
            let (rsv, z) = enc
                .encode(kind, Bytes::copy_from_slice(msg))
                .expect("encode");
            if rsv & RSV1 != 0 {
                assert!(z.len() < msg.len(), "compressed only when smaller");
            }
            (msg.to_vec(), rsv, z.to_vec())
        } else {
            let parts: Vec<&[u8]> = msg.split(|&b| b == 0xfd).collect();
            let mut rsv = 0;
            let mut wire = Vec::new();
            for (k, p) in parts.iter().enumerate() {
                let (r, z) = enc
                    .encode_fragment(
                        kind,
                        Bytes::copy_from_slice(p),
                        k == 0,
                        k + 1 == parts.len(),
                    )
                    .expect("encode_fragment");
                if k == 0 {
                    rsv = r;
                }
                wire.extend_from_slice(&z);
            }
            (parts.concat(), rsv, wire)
        };
        let out = if rsv & RSV1 != 0 {
            dec.decompress(&wire, sent.len() as u64).expect("roundtrip")
        } else {
            wire
        };
        assert_eq!(out, sent);
    }
});
