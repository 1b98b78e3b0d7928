//! One packet in revision 4: the string form and the WebSocket message.
//!
//! - **string form** `<type digit><data>` for text data, e.g. `4hello`; binary data as
//!   `b<base64>` with no type digit — in revision 4 only a `message` carries binary data.
//! - **WebSocket message**: text data as a text message in the string form; binary data as a
//!   binary message holding the bytes alone (no type byte).

use alloc::string::String;
use base64::Engine as _;
use bytes::BufMut;

use crate::error::PacketError;
use crate::packet::{base64_len, Packet, PacketData};
use crate::packet_type::PacketType;
use crate::sink::{BufSink, Sink, BASE64};
use crate::transport::WsMessage;

/// Length in bytes of [`encode_packet`]'s output.
#[must_use]
pub fn packet_len(packet: &Packet) -> usize {
    match &packet.data {
        PacketData::Text(s) => 1 + s.len(),
        PacketData::Binary(b) => 1 + base64_len(b.len()),
    }
}

/// Appends the revision 4 string form of `packet` to `out`: `<digit><text>` for text data,
/// `b<base64>` (standard alphabet, padded) for binary data.
///
/// > Binary payloads MUST be base64-encoded and prefixed with a `b` character
///
/// The `b` form has no type digit: it always decodes as a `message`. A binary packet of
/// another type is written the same way, as engine.io-parser 5 does (its `encodePacket`
/// ignores the type of binary data), so it comes back as a binary `message`.
///
/// ```
/// use pushwire_engineio::{v4, Packet};
///
/// let mut out = Vec::new();
/// v4::encode_packet(&Packet::message("hello"), &mut out);
/// assert_eq!(out, b"4hello");
/// out.clear();
/// v4::encode_packet(&Packet::binary_message(vec![1, 2, 3, 4]), &mut out);
/// assert_eq!(out, b"bAQIDBA==");
/// ```
pub fn encode_packet<B: BufMut>(packet: &Packet, out: &mut B) {
    write_packet(packet, &mut BufSink(out));
}

/// [`encode_packet`] into any [`Sink`].
#[inline]
pub(crate) fn write_packet<S: Sink>(packet: &Packet, out: &mut S) {
    match &packet.data {
        PacketData::Text(s) => {
            out.put_ascii(packet.kind.digit());
            out.put_str(s);
        }
        PacketData::Binary(b) => {
            out.put_ascii(b'b');
            out.put_base64(b);
        }
    }
}

/// The revision 4 string form as a new `String` (see [`encode_packet`]).
#[must_use]
pub fn packet_to_string(packet: &Packet) -> String {
    let mut s = String::with_capacity(packet_len(packet));
    write_packet(packet, &mut s);
    s
}

/// Decodes the revision 4 string form: `<digit><text>` (a single digit is empty text) or
/// `b<base64>`, a binary `message`.
///
/// Not the revision 3 decoder: `b4AQID` here is the base64 `4AQID` (invalid), not a message
/// `AQID` — a decoder accepting both revisions misreads one as the other.
///
/// # Errors
/// [`PacketError::Empty`] for `""`; [`PacketError::UnknownTypeChar`] when the first
/// character is neither `0`–`6` nor `b`; [`PacketError::InvalidBase64`] when the data after
/// `b` is not canonical padded base64 (RFC 4648 §4) — engine.io-parser's `Buffer.from(…,
/// 'base64')` skips bad characters instead, we refuse them as the revision 3 decoder does.
///
/// ```
/// use pushwire_engineio::{v4, Packet, PacketError};
///
/// assert_eq!(v4::decode_packet("4hello"), Ok(Packet::message("hello")));
/// assert_eq!(v4::decode_packet("bAQIDBA=="), Ok(Packet::binary_message(vec![1, 2, 3, 4])));
/// assert_eq!(v4::decode_packet("b4AQIDBA=="), Err(PacketError::InvalidBase64));
/// ```
pub fn decode_packet(s: &str) -> Result<Packet, PacketError> {
    let first = *s.as_bytes().first().ok_or(PacketError::Empty)?;
    if first == b'b' {
        // > Binary payloads MUST be base64-encoded and prefixed with a `b` character
        let data = BASE64
            .decode(&s.as_bytes()[1..])
            .map_err(|_| PacketError::InvalidBase64)?;
        return Ok(Packet::binary_message(data));
    }
    // > <packet type>[<data>]
    let kind = type_of(first, s)?;
    // `first` is ASCII, so index 1 is a char boundary.
    Ok(Packet::text(kind, &s[1..]))
}

/// Decodes the revision 4 string form like [`decode_packet`], from an owned `String` (a
/// WebSocket text message): text data reuses its allocation.
///
/// # Errors
/// As [`decode_packet`].
pub fn decode_packet_string(mut s: String) -> Result<Packet, PacketError> {
    match s.as_bytes().first() {
        Some(&first) if first != b'b' => {
            let kind = type_of(first, &s)?;
            // `first` is ASCII: removing it keeps the rest valid UTF-8.
            s.drain(..1);
            Ok(Packet::text(kind, s))
        }
        _ => decode_packet(&s),
    }
}

/// The type of a string-form packet whose first byte is `first`.
fn type_of(first: u8, s: &str) -> Result<PacketType, PacketError> {
    PacketType::from_digit(first).ok_or_else(|| {
        PacketError::UnknownTypeChar(s.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER))
    })
}

/// The packet as one revision 4 WebSocket message: text data as a text message in the string
/// form, binary data as a binary message of the bytes alone when the peer supports binary,
/// else as a text message `b<base64>` (the `b64=1` query parameter, which engine.io 6 still
/// honours on its websocket transport).
///
/// > Binary payloads are sent as is, without modification.
///
/// ```
/// use pushwire_engineio::{v4, Packet, WsMessage};
///
/// let m = v4::packet_to_ws_message(&Packet::binary_message(vec![1, 2]), true);
/// assert_eq!(m, WsMessage::Binary(vec![1, 2].into()));
/// ```
#[must_use]
pub fn packet_to_ws_message(packet: &Packet, supports_binary: bool) -> WsMessage {
    match &packet.data {
        PacketData::Binary(b) if supports_binary => WsMessage::Binary(b.clone()),
        _ => WsMessage::Text(packet_to_string(packet)),
    }
}

/// Decodes a revision 4 WebSocket message: a text message with [`decode_packet_string`], a
/// binary message as a binary `message` holding all its bytes (an empty binary message is
/// an empty binary `message`, as engine.io-parser 5 reads it).
///
/// # Errors
/// As [`decode_packet`], for text messages; a binary message always decodes.
pub fn packet_from_ws_message(message: WsMessage) -> Result<Packet, PacketError> {
    match message {
        WsMessage::Text(s) => decode_packet_string(s),
        // > Binary payloads are sent as is, without modification.
        WsMessage::Binary(b) => Ok(Packet::binary_message(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use bytes::Bytes;

    fn enc(p: &Packet) -> String {
        let mut out = Vec::new();
        encode_packet(p, &mut out);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s, packet_to_string(p));
        assert_eq!(s.len(), packet_len(p));
        s
    }

    #[test]
    fn spec_example_websocket_hello() {
        // > 4      => message packet type
        // > hello  => message payload (UTF-8 encoded)
        assert_eq!(decode_packet("4hello"), Ok(Packet::message("hello")));
        assert_eq!(enc(&Packet::message("hello")), "4hello");
        assert_eq!(
            packet_to_ws_message(&Packet::message("hello"), true),
            WsMessage::Text("4hello".into())
        );
    }

    #[test]
    fn spec_example_binary_prefix() {
        // > b         => binary prefix
        // > AQIDBA==  => buffer <01 02 03 04> encoded as base64
        let p = Packet::binary_message(vec![1u8, 2, 3, 4]);
        assert_eq!(enc(&p), "bAQIDBA==");
        assert_eq!(decode_packet("bAQIDBA=="), Ok(p));
    }

    #[test]
    fn spec_example_heartbeat_and_upgrade_packets() {
        // > 2probe (ping packet) / 3probe (pong packet) / 5 (upgrade packet)
        assert_eq!(
            decode_packet("2probe"),
            Ok(Packet::text(PacketType::Ping, "probe"))
        );
        assert_eq!(
            decode_packet("3probe"),
            Ok(Packet::text(PacketType::Pong, "probe"))
        );
        assert_eq!(decode_packet("5"), Ok(Packet::empty(PacketType::Upgrade)));
        assert_eq!(decode_packet("2"), Ok(Packet::empty(PacketType::Ping)));
        assert_eq!(decode_packet("3"), Ok(Packet::empty(PacketType::Pong)));
    }

    #[test]
    fn binary_websocket_frames_carry_the_bytes_alone() {
        // > Binary payloads are sent as is, without modification.
        let p = Packet::binary_message(vec![4u8, 1, 2]);
        assert_eq!(
            packet_to_ws_message(&p, true),
            WsMessage::Binary(Bytes::from_static(&[4, 1, 2]))
        );
        assert_eq!(
            packet_from_ws_message(WsMessage::Binary(Bytes::from_static(&[4, 1, 2]))),
            Ok(p.clone())
        );
        // No type byte: a leading 4 is data, unlike revision 3.
        assert_eq!(
            Packet::decode_binary(Bytes::from_static(&[4, 1, 2])),
            Ok(Packet::binary_message(vec![1u8, 2]))
        );
        assert_eq!(
            packet_from_ws_message(WsMessage::Binary(Bytes::new())),
            Ok(Packet::binary_message(Bytes::new()))
        );
        // b64=1: binary as a text message in the `b` form.
        assert_eq!(
            packet_to_ws_message(&p, false),
            WsMessage::Text("bBAEC".into())
        );
        assert_eq!(
            packet_from_ws_message(packet_to_ws_message(&p, false)),
            Ok(p)
        );
    }

    #[test]
    fn revision_3_and_4_base64_forms_are_not_confused() {
        // A v4 `b…` whose base64 starts with `4`: the v3 decoder must not read it as a
        // message, the v4 decoder must not drop the `4`.
        assert_eq!(
            decode_packet("b4+++"),
            Ok(Packet::binary_message(vec![0xe3u8, 0xef, 0xbe]))
        );
        assert_eq!(Packet::decode_str("b4+++"), Err(PacketError::InvalidBase64));
        // v3's base64 form of [1, 2, 3, 4] is not v4 base64 (one character too many).
        assert_eq!(decode_packet("b4AQIDBA=="), Err(PacketError::InvalidBase64));
        // v4's form is no v3 packet (no type digit).
        assert_eq!(
            Packet::decode_str("bAQIDBA=="),
            Err(PacketError::Base64Type)
        );
    }

    #[test]
    fn binary_data_of_other_types_travels_as_a_message() {
        // engine.io-parser 5 writes the data of a binary packet whatever its type.
        let p = Packet::binary(PacketType::Ping, vec![1u8]);
        assert_eq!(enc(&p), "bAQ==");
        assert_eq!(
            decode_packet("bAQ=="),
            Ok(Packet::binary_message(vec![1u8]))
        );
    }

    #[test]
    fn errors() {
        assert_eq!(decode_packet(""), Err(PacketError::Empty));
        assert_eq!(decode_packet("7"), Err(PacketError::UnknownTypeChar('7')));
        assert_eq!(decode_packet("x4"), Err(PacketError::UnknownTypeChar('x')));
        assert_eq!(decode_packet("😀"), Err(PacketError::UnknownTypeChar('😀')));
        assert_eq!(
            decode_packet("\u{1e}4"),
            Err(PacketError::UnknownTypeChar('\u{1e}'))
        );
        for bad in ["bAQ=", "bAQI", "bAR==", "bA!==", "bAQ==\n", "b-_8=", "b4"] {
            assert_eq!(
                decode_packet(bad),
                Err(PacketError::InvalidBase64),
                "{bad:?}"
            );
        }
        assert_eq!(decode_packet("b"), Ok(Packet::binary_message(Bytes::new())));
    }

    #[test]
    fn owned_decode_matches_borrowed_decode() {
        for wire in [
            "", "4", "4hello", "2probe", "6", "7", "x", "😀", "4€😀", "bAQ==", "b", "bAQ=",
        ] {
            assert_eq!(
                decode_packet_string(wire.into()),
                decode_packet(wire),
                "{wire:?}"
            );
            assert_eq!(
                packet_from_ws_message(WsMessage::Text(wire.into())),
                decode_packet(wire),
                "{wire:?}"
            );
        }
    }

    #[test]
    fn owned_decode_keeps_the_allocation_and_reads_the_base64_form() {
        // `decode_packet_string`: "text data reuses its allocation". Sending every string
        // through `decode_packet` would decode the same packets, but into a copy.
        let mut wire = String::with_capacity(32);
        wire.push_str("4hello€");
        let start = wire.as_ptr() as usize;
        let p = decode_packet_string(wire).unwrap();
        assert_eq!(p.kind, PacketType::Message);
        let PacketData::Text(t) = &p.data else {
            panic!("text data expected: {p:?}")
        };
        assert_eq!(t, "hello€");
        assert_eq!(t.as_ptr() as usize, start, "the text was copied");
        // > Binary payloads MUST be base64-encoded and prefixed with a `b` character
        let want = Packet::binary_message(vec![1u8, 2, 3]);
        assert_eq!(decode_packet_string("bAQID".into()), Ok(want.clone()));
        assert_eq!(decode_packet("bAQID"), Ok(want));
    }

    #[test]
    fn every_type_roundtrips() {
        for kind in PacketType::ALL {
            let p = Packet::text(kind, "x€😀\u{1e}");
            assert_eq!(decode_packet(&enc(&p)), Ok(p.clone()));
            assert_eq!(
                packet_from_ws_message(packet_to_ws_message(&p, true)),
                Ok(p)
            );
        }
    }
}
