//! Parses arbitrary bytes as a client's opening handshake, whole and byte by byte.
//! Oracle: both give the same result; a rejection answers 400 or 426 with a well-formed
//! response; an accepted offer has a 16-byte base64 key and its 101 response carries the
//! matching Sec-WebSocket-Accept; consumed head + remaining bytes = input. The first input
//! byte may prepend part of a valid request so the fuzzer reaches the header validation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwire_ws::handshake::{accept_key, HandshakeLimits, ServerHandshake};

const PREFIXES: [&[u8]; 4] = [
    b"",
    b"GET /chat HTTP/1.1\r\n",
    b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
    b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
];

fuzz_target!(|input: &[u8]| {
    let Some((&mode, body)) = input.split_first() else {
        return;
    };
    let mut owned = PREFIXES[mode as usize % 4].to_vec();
    owned.extend_from_slice(body);
    let data = &owned[..];
    let mut limits = HandshakeLimits::default();
    limits.max_line_len = 256;
    limits.max_headers = 16;
    limits.max_head_len = 1024;

    let mut whole = ServerHandshake::new(limits);
    let r_whole = whole.feed(data);
    let rest_whole = whole.take_remaining();

    let mut bytewise = ServerHandshake::new(limits);
    let mut r_bytes = Ok(None);
    let mut done_at = None;
    for (i, b) in data.iter().enumerate() {
        match bytewise.feed(std::slice::from_ref(b)) {
            Ok(None) => {}
            other => {
                if done_at.is_none() {
                    done_at = Some(i + 1);
                    r_bytes = other;
                    if r_bytes.is_err() {
                        break;
                    }
                }
            }
        }
    }
    assert_eq!(r_whole, r_bytes);
    match r_whole {
        Ok(Some(offer)) => {
            let head_len = done_at.unwrap();
            assert_eq!(rest_whole.len() + head_len, data.len());
            assert_eq!(&rest_whole[..], &data[head_len..]);
            assert_eq!(&bytewise.take_remaining()[..], &data[head_len..]);
            // A GET upgrade always has its key (only RFC 8441 offers have none).
            let key = offer.key().expect("an HTTP/1.1 offer has a key");
            assert_eq!(key.len(), 24);
            let resp = offer.accept(None, None).unwrap();
            let accept = accept_key(key.as_bytes());
            let line = format!("Sec-WebSocket-Accept: {accept}\r\n");
            assert!(resp.windows(line.len()).any(|w| w == line.as_bytes()));
        }
        Ok(None) => assert!(rest_whole.is_empty()),
        Err(e) => {
            assert!(matches!(e.status(), 400 | 426));
            let resp = e.response();
            assert!(resp.starts_with(format!("HTTP/1.1 {} ", e.status()).as_bytes()));
            assert!(resp.ends_with(b"\r\n\r\n"));
        }
    }
});
