// Shared by ws_server_connection.rs and ws_client_connection.rs, which set `ROLE` and
// `include!` this file: the run and the oracle are the same for both roles.

use bytes::BufMut;
use pushwire_ws::frame::{FrameHeader, HeaderDecode, OpCode};
use pushwire_ws::{Config, Connection, Event, FixedMaskKey, ProtocolError, Role};

type Outcome = (Vec<Event>, Option<ProtocolError>, Vec<u8>);

/// How the input goes in.
#[derive(Clone, Copy, PartialEq)]
enum How {
    /// `feed`, polled with `poll_event`.
    Feed,
    /// `feed`, polled with `poll_event_ref` (events copied out).
    Borrowed,
    /// Read into `read_room` with the chunk sizes as read sizes (a room may take less),
    /// polled with `poll_event`.
    Room,
}

/// Feeds `data` in chunks of `chunk_sizes` (cycled; whole if empty), `how`.
fn run(data: &[u8], chunk_sizes: &[u8], how: How) -> Outcome {
    let mut config = Config::default();
    config.limits.max_frame_size = 4096;
    config.limits.max_message_size = 8192;
    config.limits.max_fragments = 16;
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
        // Each chunk is polled empty before the next and fuzz inputs are tiny next to the
        // input bound, so no feed is refused.
        if how == How::Room {
            let mut room = c.read_room(n).expect("within the input bound");
            let n = room.remaining().min(n);
            assert!(n > 0, "a room takes at least one byte");
            room.buf_mut().put_slice(&rest[..n]);
            c.commit_read(room).expect("within the input bound");
            rest = &rest[n..];
        } else {
            c.feed(&rest[..n]).expect("within the input bound");
            rest = &rest[n..];
        }
        loop {
            let polled = if how == How::Borrowed {
                c.poll_event_ref().map(|e| e.map(|e| e.to_event()))
            } else {
                c.poll_event()
            };
            match polled {
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
    let whole = run(data, &[], How::Feed);
    let byte_by_byte = run(data, &[0], How::Feed);
    let chunked = run(data, chunk_sizes, How::Feed);
    assert_eq!(whole, byte_by_byte);
    assert_eq!(whole, chunked);
    // The borrowing poll sees exactly the same events, error and replies.
    assert_eq!(whole, run(data, &[], How::Borrowed), "poll_event_ref, whole");
    assert_eq!(
        whole,
        run(data, chunk_sizes, How::Borrowed),
        "poll_event_ref, chunked"
    );
    // So does reading straight into the input buffer, whatever the read sizes.
    assert_eq!(whole, run(data, &[], How::Room), "read_room, whole");
    assert_eq!(whole, run(data, chunk_sizes, How::Room), "read_room, chunked");

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
