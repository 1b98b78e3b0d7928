// Shared by ws_server_connection.rs and ws_client_connection.rs, which set `ROLE` and
// `include!` this file: the run and the oracle are the same for both roles.

use pushwire_ws::frame::{FrameHeader, HeaderDecode, OpCode};
use pushwire_ws::{Config, Connection, Event, FixedMaskKey, ProtocolError, Role};

type Outcome = (Vec<Event>, Option<ProtocolError>, Vec<u8>);

fn run(data: &[u8], chunk_sizes: &[u8]) -> Outcome {
    let mut config = Config::default();
    config.max_frame_size = 4096;
    config.max_message_size = 8192;
    config.max_fragments = 16;
    let mut c = Connection::with_mask_keys(ROLE, config, Box::new(FixedMaskKey([5, 6, 7, 8])));
    let mut events = Vec::new();
    let mut error = None;
    let mut rest = data;
    let mut sizes = chunk_sizes.iter().cycle();
    while !rest.is_empty() && error.is_none() {
        let n = if chunk_sizes.is_empty() {
            rest.len()
        } else {
            (*sizes.next().unwrap() as usize % 17 + 1).min(rest.len())
        };
        c.feed(&rest[..n]);
        rest = &rest[n..];
        loop {
            match c.poll_event() {
                Ok(Some(e)) => events.push(e),
                Ok(None) => break,
                Err(e) => {
                    assert_eq!(c.poll_event(), Err(e.clone()), "sticky");
                    error = Some(e);
                    break;
                }
            }
        }
    }
    let mut out = Vec::new();
    while let Some(chunk) = c.poll_transmit() {
        out.extend_from_slice(&chunk);
    }
    assert_eq!(c.buffered_output(), 0);
    (events, error, out)
}

fn frames(mut out: &[u8]) -> Vec<(OpCode, Vec<u8>)> {
    let mut v = Vec::new();
    while !out.is_empty() {
        let Ok(HeaderDecode::Complete { header, header_len }) = FrameHeader::decode(out, true)
        else {
            panic!("connection wrote an invalid frame")
        };
        assert_eq!(header.mask.is_some(), ROLE == Role::Client, "masking rule");
        let end = header_len + header.payload_len as usize;
        let mut p = out[header_len..end].to_vec();
        if let Some(k) = header.mask {
            pushwire_ws::mask::apply_mask(&mut p, k, 0);
        }
        v.push((header.opcode, p));
        out = &out[end..];
    }
    v
}

fuzz_target!(|input: &[u8]| {
    let (split_len, data) = match input.split_first() {
        Some((&n, rest)) => ((n as usize % 8).min(rest.len()), rest),
        None => return,
    };
    let (chunk_sizes, data) = data.split_at(split_len);
    let whole = run(data, &[]);
    let byte_by_byte = run(data, &[0]);
    let chunked = run(data, chunk_sizes);
    assert_eq!(whole, byte_by_byte);
    assert_eq!(whole, chunked);

    let (events, error, out) = whole;
    let written = frames(&out);
    if let Some(code) = error.as_ref().and_then(ProtocolError::close_code) {
        let closes: Vec<_> = written
            .iter()
            .filter(|(op, _)| *op == OpCode::Close)
            .collect();
        assert_eq!(closes.len(), 1);
        assert_eq!(
            written.last().unwrap(),
            &(OpCode::Close, code.to_be_bytes().to_vec())
        );
    }
    for e in &events {
        if let Event::Text(t) = e {
            assert!(std::str::from_utf8(t.as_bytes()).is_ok());
        }
    }
});
