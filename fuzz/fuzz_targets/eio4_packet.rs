//! Decodes arbitrary bytes as one revision 4 packet: the string form (when UTF-8) and a
//! binary WebSocket message. Oracle: success re-encodes to exactly the input (the string and
//! `b<base64>` forms are canonical); every error is the documented one for the input's first
//! byte; a binary message is always a binary `message` holding the same bytes; the revision
//! 3 decoder never reads a revision 4 `b…` packet as the same packet (and vice versa).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use pushwire_engineio::{v4, Packet, PacketError, PacketType, WsMessage};

fuzz_target!(|data: &[u8]| {
    // Binary WebSocket message: the bytes alone, no type byte.
    let bytes = Bytes::copy_from_slice(data);
    let p = v4::packet_from_ws_message(WsMessage::Binary(bytes.clone()))
        .expect("a binary message always decodes");
    assert_eq!(p, Packet::binary_message(bytes.clone()));
    assert_eq!(v4::packet_to_ws_message(&p, true), WsMessage::Binary(bytes));
    let text = v4::packet_to_ws_message(&p, false);
    assert_eq!(v4::packet_from_ws_message(text.clone()), Ok(p.clone()));
    // Neither revision reads the other's base64 form as this packet.
    let WsMessage::Text(v4_form) = text else {
        panic!("b64 form is text")
    };
    assert_ne!(Packet::decode_str(&v4_form), Ok(p.clone()));
    assert_ne!(v4::decode_packet(&p.to_str_form()), Ok(p));

    // String form.
    let Ok(s) = core::str::from_utf8(data) else {
        return;
    };
    let owned = v4::decode_packet_string(s.to_owned());
    let r = v4::decode_packet(s);
    assert_eq!(owned, r, "owned and borrowed decode agree");
    match r {
        Ok(p) => {
            assert_eq!(v4::packet_to_string(&p), s, "string form is canonical");
            assert_eq!(v4::packet_len(&p), s.len());
            assert_eq!(p.data.is_binary(), s.starts_with('b'));
            if p.data.is_binary() {
                assert_eq!(p.kind, PacketType::Message);
                assert_ne!(Packet::decode_str(s), Ok(p.clone()), "v3 misread {s:?}");
            }
            let m = v4::packet_to_ws_message(&p, true);
            assert_eq!(v4::packet_from_ws_message(m), Ok(p));
        }
        Err(PacketError::Empty) => assert!(s.is_empty()),
        Err(PacketError::UnknownTypeChar(c)) => {
            assert_eq!(Some(c), s.chars().next());
            assert!(c != 'b' && PacketType::from_digit(s.as_bytes()[0]).is_none());
        }
        Err(PacketError::InvalidBase64) => assert!(s.starts_with('b')),
        Err(e) => panic!("undocumented error {e:?}"),
    }
});
