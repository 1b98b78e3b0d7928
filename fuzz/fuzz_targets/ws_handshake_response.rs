//! Feeds arbitrary bytes to a client handshake as the server's response, whole and in
//! input-chosen chunks. The input may start with a valid 101 prefix so the fuzzer reaches the
//! header checks. Oracle: every split gives the same result; success implies status 101 and the
//! expected Sec-WebSocket-Accept present; remaining bytes + head = input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwire_ws::handshake::{ClientHandshake, ClientRequest, HandshakeLimits};
use pushwire_ws::FixedMaskKey;

fn client() -> ClientHandshake {
    let mut req = ClientRequest::new("example.com", "/");
    req.protocols = vec!["chat".into()];
    req.extensions = vec!["permessage-deflate".into()];
    let mut limits = HandshakeLimits::default();
    limits.max_line_len = 256;
    limits.max_headers = 16;
    limits.max_head_len = 1024;
    ClientHandshake::new(&req, &mut FixedMaskKey([1, 2, 3, 4]), limits).unwrap()
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, body)) = input.split_first() else {
        return;
    };
    let mut data = Vec::new();
    if mode & 1 == 1 {
        let c = client();
        data.extend_from_slice(
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
                c.expected_accept()
            )
            .as_bytes(),
        );
    }
    data.extend_from_slice(body);
    let step = (mode as usize >> 1) % 13 + 1;

    let mut whole = client();
    let r_whole = whole.feed(&data);
    let mut chunked = client();
    let mut r_chunked = Ok(None);
    for piece in data.chunks(step) {
        match chunked.feed(piece) {
            Ok(None) => {}
            other => {
                r_chunked = other;
                break;
            }
        }
    }
    assert_eq!(r_whole, r_chunked);
    if let Ok(Some(acc)) = &r_whole {
        let rest = whole.take_remaining();
        let head_len = data.len() - rest.len();
        assert!(data[..head_len].starts_with(b"HTTP/1."));
        assert!(data[..head_len].ends_with(b"\r\n\r\n"));
        let head = &data[..head_len];
        let want = client().expected_accept().to_string();
        assert!(head.windows(want.len()).any(|w| w == want.as_bytes()));
        if let Some(p) = &acc.protocol {
            assert_eq!(p, "chat");
        }
    }
});
