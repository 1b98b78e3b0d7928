//! A split connection (`Connection::split` → `Receiver` + `Sender`) against an unsplit twin
//! given the same script: peer frames (text, ping, close with a valid or invalid code, raw
//! bytes) fed in chunks, our sends (text, ping, close), drains, in an order chosen by the
//! input, for either role.
//! Oracle: the receiver yields exactly the twin's events and error and reports its state; the
//! sender's send results are the twin's; at every drain the two halves together wrote the same
//! frames as the twin (compared as multisets: the halves have two queues); at most one Close
//! frame is ever written by the two halves together, and exactly as many as by the twin.
#![no_main]

use bytes::Buf;
use libfuzzer_sys::fuzz_target;
use pushwire_ws::frame::{FrameHeader, HeaderDecode, OpCode};
use pushwire_ws::{Config, Connection, Event, FixedMaskKey, Receiver, Role, Sender};

fn conn(role: Role) -> Connection {
    Connection::with_mask_keys(
        role,
        Config::default(),
        Box::new(FixedMaskKey([5, 6, 7, 8])),
    )
}

fn drain(t: pushwire_ws::Transmit) -> Vec<u8> {
    let mut t = t;
    let mut v = Vec::new();
    while t.has_remaining() {
        let c = t.chunk();
        v.extend_from_slice(c);
        let n = c.len();
        t.advance(n);
    }
    v
}

/// The frames in `out`, unmasked, checking the role's masking rule.
fn frames(mut out: &[u8], role: Role) -> Vec<(u8, Vec<u8>)> {
    let code = |op: OpCode| match op {
        OpCode::Continuation => 0,
        OpCode::Text => 1,
        OpCode::Binary => 2,
        OpCode::Close => 8,
        OpCode::Ping => 9,
        OpCode::Pong => 10,
    };
    let mut v = Vec::new();
    while !out.is_empty() {
        let Ok(HeaderDecode::Complete { header, header_len }) = FrameHeader::decode(out, true)
        else {
            panic!("a half wrote an invalid frame")
        };
        assert_eq!(header.mask.is_some(), role == Role::Client, "masking rule");
        let end = header_len + header.payload_len as usize;
        let mut p = out[header_len..end].to_vec();
        if let Some(k) = header.mask {
            pushwire_ws::mask::apply_mask(&mut p, k, 0);
        }
        v.push((code(header.opcode), p));
        out = &out[end..];
    }
    v
}

struct Run {
    role: Role,
    twin: Connection,
    rx: Receiver,
    tx: Sender,
    events: (Vec<Event>, Vec<Event>),
    closes: (usize, usize),
}

impl Run {
    fn feed(&mut self, bytes: &[u8], chunk: usize) {
        for piece in bytes.chunks(chunk.max(1)) {
            assert_eq!(self.twin.feed(piece), self.rx.feed(piece), "feed result");
            loop {
                let (a, b) = (self.twin.poll_event(), self.rx.poll_event());
                assert_eq!(a, b, "events and errors");
                match a {
                    Ok(Some(e)) => {
                        self.events.0.push(e);
                        if let Ok(Some(e)) = b {
                            self.events.1.push(e);
                        }
                    }
                    _ => break,
                }
            }
            assert_eq!(self.twin.state(), self.rx.state(), "receiver state");
        }
    }

    fn drain(&mut self) {
        let twin = frames(&drain(self.twin.take_transmit()), self.role);
        let mut halves = frames(&drain(self.rx.take_transmit()), self.role);
        halves.extend(frames(&drain(self.tx.take_transmit()), self.role));
        let close = 8;
        self.closes.0 += twin.iter().filter(|f| f.0 == close).count();
        self.closes.1 += halves.iter().filter(|f| f.0 == close).count();
        let (mut twin, mut halves) = (twin, halves);
        twin.sort();
        halves.sort();
        assert_eq!(twin, halves, "the halves wrote the twin's frames");
        assert!(self.closes.1 <= 1, "at most one Close");
        assert_eq!(self.closes.0, self.closes.1);
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, mut script)) = input.split_first() else {
        return;
    };
    let role = if first & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let peer_role = if role == Role::Server {
        Role::Client
    } else {
        Role::Server
    };
    let mut peer = conn(peer_role);
    let Ok((rx, tx)) = conn(role).split_with_keys(Box::new(FixedMaskKey([5, 6, 7, 8]))) else {
        panic!("no extension: the split cannot be refused")
    };
    let mut run = Run {
        role,
        twin: conn(role),
        rx,
        tx,
        events: (Vec::new(), Vec::new()),
        closes: (0, 0),
    };
    let mut next = || -> Option<u8> {
        let (&b, rest) = script.split_first()?;
        script = rest;
        Some(b)
    };
    while let Some(op) = next() {
        let arg = next().unwrap_or(0);
        match op % 8 {
            0..=2 => {
                let _ = match op % 8 {
                    0 => peer.send_text("x".repeat(usize::from(arg) % 200)),
                    1 => peer.send_ping(vec![arg; usize::from(arg) % 126]),
                    // 1000..1015 (1004–1006 and 1015 are invalid on the wire; the peer's own
                    // encoder refuses those, so send them raw below instead).
                    _ => peer.send_close(1000 + u16::from(arg % 4), ""),
                };
                let bytes = drain(peer.take_transmit());
                let chunk = usize::from(next().unwrap_or(0)) % 9 + 1;
                run.feed(&bytes, chunk);
            }
            3 => {
                let n = usize::from(arg) % 6;
                let raw: Vec<u8> = (0..n).map_while(|_| next()).collect();
                run.feed(&raw, raw.len());
            }
            4 => {
                let text = "y".repeat(usize::from(arg) % 700);
                assert_eq!(
                    run.twin.send_text(text.clone()),
                    run.tx.send_text(text),
                    "send_text result"
                );
            }
            5 => assert_eq!(
                run.twin.send_ping(vec![arg; 3]),
                run.tx.send_ping(vec![arg; 3]),
                "send_ping result"
            ),
            6 => assert_eq!(
                run.twin.send_close(1000, "bye"),
                run.tx.send_close(1000, "bye"),
                "send_close result"
            ),
            _ => run.drain(),
        }
    }
    run.drain();
    assert_eq!(run.events.0, run.events.1);
});
