//! Feeds an arbitrary sequence of text and binary Engine.io messages to a Socket.IO
//! `Decoder` of a fuzzed revision and limits. Oracle: every decoded packet's value can be
//! read, and the packet re-encodes (`to_messages`) to messages that a fresh decoder turns
//! into an equal packet (same type, namespace, id, JSON text, attachments, value), complete
//! at the last message and not before; errors are sticky (every later message gets the same
//! error, never a packet); the decoder waits for attachments exactly when a binary packet is
//! incomplete.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use pushwire_socketio::{DecodeError, Decoder, Limits, Packet, PacketData, ProtocolVersion};

/// The input: three bytes (bit 0 of the first: revision 5; the second: the attachment limit
/// mod 16; the third: the packet size limit in 64-byte units, 0 for the default), then the
/// messages separated by 0xFF (a byte UTF-8 never holds): a message starting with `t` is
/// text (the rest, lossily UTF-8), any other is binary (all its bytes). Simple enough to
/// write seeds by hand (`fuzz/seeds/sio_packet`, from the socket.io-parser vectors).
fn parse(data: &[u8]) -> Option<(ProtocolVersion, Limits, Vec<PacketData>)> {
    let (head, rest) = data.split_at_checked(3)?;
    let version = if head[0] & 1 == 1 {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V4
    };
    let mut limits = Limits::DEFAULT.with_max_attachments(usize::from(head[1] % 16));
    if head[2] != 0 {
        limits = limits.with_max_packet_bytes(usize::from(head[2]) * 64);
    }
    let messages = rest
        .split(|b| *b == 0xff)
        .map(|m| match m.split_first() {
            Some((b't', t)) => PacketData::Text(String::from_utf8_lossy(t).into_owned()),
            _ => PacketData::Binary(Bytes::copy_from_slice(m)),
        })
        .collect();
    Some((version, limits, messages))
}

fn reencode(version: ProtocolVersion, limits: Limits, p: &Packet) {
    let msgs = p.to_messages();
    assert_eq!(msgs.len(), 1 + p.attachments().len());
    let mut dec = Decoder::new(version, limits);
    let mut got = None;
    for (i, m) in msgs.iter().enumerate() {
        let r = dec
            .push(m.clone())
            .unwrap_or_else(|e| panic!("re-encoded packet refused ({e}): {msgs:?}"));
        if i + 1 < msgs.len() {
            assert!(r.is_none(), "complete before its last attachment: {msgs:?}");
        } else {
            got = r;
        }
    }
    let q = got.unwrap_or_else(|| panic!("re-encoded packet incomplete: {msgs:?}"));
    assert_eq!(q.kind(), p.kind());
    assert_eq!(q.nsp(), p.nsp());
    assert_eq!(q.id(), p.id());
    assert_eq!(q.json(), p.json());
    assert_eq!(q.attachments(), p.attachments());
    assert_eq!(q.event_name(), p.event_name());
    assert_eq!(q.value(), p.value());
    assert_eq!(q.to_messages(), msgs);
}

fuzz_target!(|data: &[u8]| {
    let Some((version, limits, messages)) = parse(data) else {
        return;
    };
    let mut dec = Decoder::new(version, limits);
    let mut error: Option<DecodeError> = None;
    for m in messages {
        let r = dec.push(m);
        if let Some(e) = &error {
            assert_eq!(r.as_ref(), Err(e), "errors are sticky");
            continue;
        }
        match r {
            Ok(Some(p)) => {
                assert!(!dec.is_reconstructing());
                p.value().expect("a decoded packet's value reads");
                p.args().expect("a decoded packet's args read");
                reencode(version, Limits::UNLIMITED, &p);
            }
            Ok(None) => assert!(dec.is_reconstructing(), "no packet, nothing waiting"),
            Err(e) => error = Some(e),
        }
    }
});
