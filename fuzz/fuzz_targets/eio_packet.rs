//! Decodes arbitrary bytes as one Engine.io packet, in the string form (when UTF-8) and in
//! the binary form. Oracle: success re-encodes to exactly the input (the string, base64 and
//! binary forms are canonical); every error is the documented one for the input's first
//! bytes.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use pushwire_engineio::{Packet, PacketError, PacketType, WsMessage};

fuzz_target!(|data: &[u8]| {
    // Binary form.
    match Packet::decode_binary(Bytes::copy_from_slice(data)) {
        Ok(p) => {
            let mut out = Vec::new();
            p.encode_binary(&mut out);
            assert_eq!(out, data);
            assert_eq!(p.kind.number(), data[0]);
            assert_eq!(Packet::from_ws_message(p.to_ws_message(true)), Ok(p));
        }
        Err(PacketError::Empty) => assert!(data.is_empty()),
        Err(PacketError::UnknownTypeByte(b)) => {
            assert_eq!(b, data[0]);
            assert!(b > 6);
        }
        Err(e) => panic!("undocumented binary-form error {e:?}"),
    }

    // String and base64 forms.
    let Ok(s) = core::str::from_utf8(data) else {
        return;
    };
    let first = s.as_bytes().first().copied();
    let type_digit = |c: Option<&u8>| c.and_then(|&c| PacketType::from_digit(c)).is_some();
    match Packet::decode_str(s) {
        Ok(p) => {
            assert_eq!(p.to_str_form(), s, "string form is canonical");
            assert_eq!(p.str_len(), s.len());
            assert_eq!(p.str_utf16_len(), s.encode_utf16().count());
            assert_eq!(p.data.is_binary(), first == Some(b'b'));
            let message = p.to_ws_message(false);
            assert_eq!(message, WsMessage::Text(s.to_owned()));
        }
        Err(PacketError::Empty) => assert!(s.is_empty()),
        Err(PacketError::UnknownTypeChar(c)) => {
            assert_eq!(Some(c), s.chars().next());
            assert!(c != 'b' && !type_digit(s.as_bytes().first()));
        }
        Err(PacketError::Base64Type) => {
            assert_eq!(first, Some(b'b'));
            assert!(!type_digit(s.as_bytes().get(1)));
        }
        Err(PacketError::InvalidBase64) => {
            assert_eq!(first, Some(b'b'));
            assert!(type_digit(s.as_bytes().get(1)));
        }
        Err(e) => panic!("undocumented string-form error {e:?}"),
    }
});
