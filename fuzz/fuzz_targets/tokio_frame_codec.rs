//! pushwire-tokio's `FrameCodec` (a tokio-util `Decoder`) on arbitrary bytes, as a server
//! (masked frames expected) and as a client (unmasked). Oracle:
//! - chunking: feeding the input in the chunks the fuzzer chose gives the same frames and
//!   the same error as feeding it whole;
//! - bounded: a declared length over the 64 KiB limit is refused, and the buffer never
//!   reserves more than the frame it holds plus 64 KiB;
//! - roundtrip: every decoded frame, encoded by the other role's codec and decoded again by
//!   this role's, is the same frame.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use pushwire_tokio::codec::{Frame, FrameCodec};
use pushwire_tokio::{CodecConfig, Role};
use pushwire_ws::FixedMaskKey;
use tokio_util::codec::{Decoder, Encoder};

const LIMIT: u64 = 64 * 1024;

fn codec(role: Role) -> FrameCodec {
    let config = CodecConfig::DEFAULT.with_max_frame_size(LIMIT);
    FrameCodec::with_mask_keys(role, config, Box::new(FixedMaskKey([0x5a, 1, 2, 3])))
}

/// Decodes `chunks` fed one after the other: the frames, and the error that ended it.
fn decode(role: Role, chunks: &[&[u8]]) -> (Vec<Frame>, Option<String>) {
    let mut c = codec(role);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match c.decode(&mut buf) {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => return (frames, Some(e.to_string())),
            }
            // Never more than one frame's worth plus a 64 KiB reservation.
            assert!(buf.capacity() <= buf.len() + LIMIT as usize + 14 + 65_536);
        }
    }
    match c.decode_eof(&mut buf) {
        Ok(Some(f)) => frames.push(f),
        Ok(None) => {}
        Err(e) => return (frames, Some(e.to_string())),
    }
    (frames, None)
}

fuzz_target!(|input: (Vec<u8>, Vec<u8>, bool)| {
    let (data, cuts, server) = input;
    let role = if server { Role::Server } else { Role::Client };
    let whole = decode(role, &[&data]);
    // The fuzzer's chunking: each cut byte is the length of the next chunk.
    let mut chunks = Vec::new();
    let mut rest = &data[..];
    for &n in &cuts {
        let n = (n as usize).min(rest.len());
        chunks.push(&rest[..n]);
        rest = &rest[n..];
    }
    chunks.push(rest);
    assert_eq!(decode(role, &chunks), whole, "chunking changed the result");

    let peer = if server { Role::Client } else { Role::Server };
    for frame in &whole.0 {
        assert!(frame.payload.len() as u64 <= LIMIT);
        let mut wire = BytesMut::new();
        // A decoded frame passed the control-frame rules, so the encoder takes it.
        codec(peer)
            .encode(frame.clone(), &mut wire)
            .expect("a decoded frame encodes");
        let again = codec(role)
            .decode(&mut wire)
            .expect("re-encoded frame decodes");
        assert_eq!(
            again.as_ref(),
            Some(frame),
            "decode(encode(frame)) == frame"
        );
        assert!(wire.is_empty());
    }
});
