//! One Engine.io packet: its type, its data, and its three wire forms.
//!
//! - **string form** `<type digit><data>` — text data, e.g. `4hello` (spec, "Packet");
//! - **binary form** — the type number as the first byte, then the bytes (a binary WebSocket
//!   message, or a binary packet inside an XHR2 payload);
//! - **base64 form** `b<type digit><base64>` — binary data for peers without binary support.
//!
//! Encoding cannot fail; decoding returns a [`PacketError`].

use alloc::string::String;
use alloc::vec::Vec;
use base64::Engine as _;
use bytes::{BufMut, Bytes};

use crate::error::PacketError;
use crate::packet_type::PacketType;
use crate::sink::{BufSink, Sink, BASE64};
use crate::transport::WsMessage;
use crate::utf16::utf16_len;

/// The data of a packet: text (sent in the string form) or binary (sent in the binary form,
/// or the base64 form to peers without binary support).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PacketData {
    /// Text. The empty string is also what a packet without data (`2`, `6`, …) decodes to;
    /// engine.io-parser does not distinguish the two on the wire either.
    Text(String),
    /// Binary data.
    Binary(Bytes),
}

impl PacketData {
    /// Whether this is [`PacketData::Binary`].
    #[must_use]
    pub fn is_binary(&self) -> bool {
        matches!(self, Self::Binary(_))
    }

    /// The text, if this is text data.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            Self::Binary(_) => None,
        }
    }

    /// The bytes, if this is binary data.
    #[must_use]
    pub fn as_binary(&self) -> Option<&Bytes> {
        match self {
            Self::Text(_) => None,
            Self::Binary(b) => Some(b),
        }
    }
    /// The data's length in bytes (UTF-8 bytes for text).
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::Text(s) => s.len(),
            Self::Binary(b) => b.len(),
        }
    }

    /// Whether the data is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An Engine.io packet: a [`PacketType`] and its [`PacketData`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Packet {
    /// The packet type.
    pub kind: PacketType,
    /// The data (empty text when the packet carries none).
    pub data: PacketData,
}

impl Packet {
    /// A packet of type `kind` with text `data`.
    #[must_use]
    pub fn text(kind: PacketType, data: impl Into<String>) -> Self {
        Self {
            kind,
            data: PacketData::Text(data.into()),
        }
    }

    /// A packet of type `kind` with binary `data`.
    #[must_use]
    pub fn binary(kind: PacketType, data: impl Into<Bytes>) -> Self {
        Self {
            kind,
            data: PacketData::Binary(data.into()),
        }
    }

    /// A packet of type `kind` without data (`1`, `2`, `5`, `6`, …).
    #[must_use]
    pub fn empty(kind: PacketType) -> Self {
        Self::text(kind, String::new())
    }

    /// A text `message` packet (`4<text>`).
    #[must_use]
    pub fn message(text: impl Into<String>) -> Self {
        Self::text(PacketType::Message, text)
    }

    /// A binary `message` packet.
    #[must_use]
    pub fn binary_message(data: impl Into<Bytes>) -> Self {
        Self::binary(PacketType::Message, data)
    }

    /// Length in bytes of [`Packet::encode_str`]'s output.
    #[must_use]
    pub fn str_len(&self) -> usize {
        match &self.data {
            PacketData::Text(s) => 1 + s.len(),
            PacketData::Binary(b) => 2 + base64_len(b.len()),
        }
    }

    /// Length in UTF-16 code units of [`Packet::encode_str`]'s output: the length a text
    /// payload writes in front of the packet.
    #[must_use]
    pub fn str_utf16_len(&self) -> usize {
        match &self.data {
            PacketData::Text(s) => 1 + utf16_len(s),
            PacketData::Binary(b) => 2 + base64_len(b.len()),
        }
    }

    /// Appends the string form `<digit><text>` to `out`, or for binary data the base64 form
    /// `b<digit><base64>`.
    ///
    /// > The packet encoding format for a string is as follows `<packet type id>[<data>]`
    ///
    /// > an identifier `b` is put before a packet encoding that contains binary data
    pub fn encode_str<B: BufMut>(&self, out: &mut B) {
        self.write_str(&mut BufSink(out));
    }

    /// [`Packet::encode_str`] into any [`Sink`].
    #[inline]
    pub(crate) fn write_str<S: Sink>(&self, out: &mut S) {
        match &self.data {
            PacketData::Text(s) => {
                out.put_ascii(self.kind.digit());
                out.put_str(s);
            }
            PacketData::Binary(b) => {
                out.put_ascii(b'b');
                out.put_ascii(self.kind.digit());
                out.put_base64(b);
            }
        }
    }

    /// The string form as a new `String` (see [`Packet::encode_str`]).
    #[must_use]
    pub fn to_str_form(&self) -> String {
        let mut s = String::with_capacity(self.str_len());
        self.write_str(&mut s);
        s
    }

    /// Appends the binary form — the type number as one byte, then the data — to `out`.
    /// Text data is written as its UTF-8 bytes (it decodes back as binary data).
    ///
    /// > When sending binary data, the packet type id is sent in the first byte of the
    /// > binary contents, followed by the actual packet data.
    pub fn encode_binary<B: BufMut>(&self, out: &mut B) {
        out.put_u8(self.kind.number());
        match &self.data {
            PacketData::Text(s) => out.put_slice(s.as_bytes()),
            PacketData::Binary(b) => out.put_slice(b),
        }
    }

    /// The packet as one WebSocket message, as engine.io's websocket transport sends it:
    /// text data as a text message in the string form; binary data as a binary message in the
    /// binary form when the peer supports binary, else as a text message in the base64 form
    /// (the `b64=1` query parameter).
    #[must_use]
    pub fn to_ws_message(&self, supports_binary: bool) -> WsMessage {
        match &self.data {
            PacketData::Binary(b) if supports_binary => {
                let mut out = Vec::with_capacity(1 + b.len());
                self.encode_binary(&mut out);
                WsMessage::Binary(Bytes::from(out))
            }
            _ => WsMessage::Text(self.to_str_form()),
        }
    }

    /// Decodes a WebSocket message (see [`Packet::decode_str`] and [`Packet::decode_binary`]).
    ///
    /// # Errors
    /// As the two functions it calls.
    pub fn from_ws_message(message: WsMessage) -> Result<Self, PacketError> {
        match message {
            WsMessage::Text(s) => Self::decode_string(s),
            WsMessage::Binary(b) => Self::decode_binary(b),
        }
    }

    /// Decodes the string form (`4hello`, `2`, …) or the base64 form (`b4AQID`).
    ///
    /// A packet of a single digit decodes to empty text data.
    ///
    /// # Errors
    /// [`PacketError::Empty`] for `""`; [`PacketError::UnknownTypeChar`] when the first
    /// character is neither `0`–`6` nor `b`; [`PacketError::Base64Type`] and
    /// [`PacketError::InvalidBase64`] for a malformed base64 form.
    pub fn decode_str(s: &str) -> Result<Self, PacketError> {
        let first = *s.as_bytes().first().ok_or(PacketError::Empty)?;
        if first == b'b' {
            // > an identifier `b` is put before a packet encoding that contains binary data
            let kind = s
                .as_bytes()
                .get(1)
                .and_then(|&c| PacketType::from_digit(c))
                .ok_or(PacketError::Base64Type)?;
            let data = BASE64
                .decode(&s.as_bytes()[2..])
                .map_err(|_| PacketError::InvalidBase64)?;
            return Ok(Self::binary(kind, data));
        }
        // > The packet type id is an integer. The following are the accepted packet types.
        let kind = PacketType::from_digit(first).ok_or_else(|| {
            PacketError::UnknownTypeChar(s.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER))
        })?;
        // `first` is ASCII, so index 1 is a char boundary.
        Ok(Self::text(kind, &s[1..]))
    }

    /// Decodes the string or base64 form like [`Packet::decode_str`], from an owned
    /// `String` (a WebSocket text message, say): text data reuses its allocation (the type
    /// digit is removed in place) instead of being copied.
    ///
    /// # Errors
    /// As [`Packet::decode_str`].
    pub fn decode_string(mut s: String) -> Result<Self, PacketError> {
        match s.as_bytes().first() {
            Some(&first) if first != b'b' => {
                let kind = PacketType::from_digit(first).ok_or_else(|| {
                    PacketError::UnknownTypeChar(
                        s.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER),
                    )
                })?;
                // `first` is ASCII: removing it keeps the rest valid UTF-8.
                s.drain(..1);
                Ok(Self::text(kind, s))
            }
            _ => Self::decode_str(&s),
        }
    }

    /// Decodes the binary form: the first byte is the type number (0–6), the rest is the
    /// data, shared with `bytes` without a copy.
    ///
    /// # Errors
    /// [`PacketError::Empty`] for no bytes, [`PacketError::UnknownTypeByte`] for a first
    /// byte above 6.
    pub fn decode_binary(mut bytes: Bytes) -> Result<Self, PacketError> {
        let first = *bytes.first().ok_or(PacketError::Empty)?;
        // > the packet type id is sent in the first byte of the binary contents
        let kind = PacketType::from_number(first).ok_or(PacketError::UnknownTypeByte(first))?;
        let _ = bytes.split_to(1);
        Ok(Self::binary(kind, bytes))
    }
}

/// Length of padded base64 for `n` bytes.
pub(crate) const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn s(p: &Packet) -> String {
        p.to_str_form()
    }

    #[test]
    fn data_length_is_in_bytes() {
        assert_eq!(PacketData::Text("é€".into()).len(), 5);
        assert!(!PacketData::Text("é€".into()).is_empty());
        assert!(PacketData::Text(String::new()).is_empty());
        assert_eq!(PacketData::Binary(Bytes::from_static(&[0, 1, 2])).len(), 3);
        assert!(PacketData::Binary(Bytes::new()).is_empty());
    }

    #[test]
    fn spec_example_probe() {
        // > example: 2probe
        let p = Packet::decode_str("2probe").unwrap();
        assert_eq!(p, Packet::text(PacketType::Ping, "probe"));
        assert_eq!(s(&p), "2probe");
    }

    #[test]
    fn spec_example_binary_message() {
        // > 4|0|1|2|3|4|5
        let p = Packet::decode_binary(Bytes::from_static(&[4, 0, 1, 2, 3, 4, 5])).unwrap();
        assert_eq!(p, Packet::binary_message(vec![0u8, 1, 2, 3, 4, 5]));
        let mut out = Vec::new();
        p.encode_binary(&mut out);
        assert_eq!(out, [4, 0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn spec_example_hello_world() {
        // > 1. server sends: 4HelloWorld
        assert_eq!(
            Packet::decode_str("4HelloWorld").unwrap(),
            Packet::message("HelloWorld")
        );
    }

    #[test]
    fn spec_example_base64() {
        // > b4AQIDBA==  => buffer content encoded in base64
        let p = Packet::binary_message(vec![1u8, 2, 3, 4]);
        assert_eq!(s(&p), "b4AQIDBA==");
        assert_eq!(Packet::decode_str("b4AQIDBA==").unwrap(), p);
    }

    #[test]
    fn every_type_roundtrips_in_every_form() {
        for kind in PacketType::ALL {
            let t = Packet::text(kind, "x€😀");
            assert_eq!(Packet::decode_str(&s(&t)).unwrap(), t);
            let b = Packet::binary(kind, vec![0u8, 255, kind.number()]);
            assert_eq!(Packet::decode_str(&s(&b)).unwrap(), b);
            let WsMessage::Binary(f) = b.to_ws_message(true) else {
                panic!("binary message expected")
            };
            assert_eq!(f[0], kind.number());
            assert_eq!(Packet::decode_binary(f).unwrap(), b);
            assert_eq!(Packet::from_ws_message(b.to_ws_message(false)).unwrap(), b);
            assert_eq!(kind.digit(), b'0' + kind.number());
            assert_eq!(PacketType::from_digit(kind.digit()), Some(kind));
        }
    }

    #[test]
    fn owned_decode_matches_borrowed_decode() {
        for wire in [
            "",
            "4",
            "4hello",
            "2probe",
            "6",
            "7",
            "x4",
            "😀",
            "4€😀",
            "b4AQIDBA==",
            "b4",
            "b",
            "b9AQ==",
            "b4AQ=",
        ] {
            assert_eq!(
                Packet::decode_string(wire.into()),
                Packet::decode_str(wire),
                "{wire:?}"
            );
            assert_eq!(
                Packet::from_ws_message(WsMessage::Text(wire.into())),
                Packet::decode_str(wire),
                "{wire:?}"
            );
        }
    }

    #[test]
    fn owned_decode_keeps_the_allocation_and_reads_the_base64_form() {
        // `decode_string`: "text data reuses its allocation (the type digit is removed in
        // place) instead of being copied". Sending every string through `decode_str` would
        // decode the same packets, but into a copy.
        let mut wire = String::with_capacity(32);
        wire.push_str("4hello€");
        let start = wire.as_ptr() as usize;
        let p = Packet::decode_string(wire).unwrap();
        assert_eq!(p.kind, PacketType::Message);
        let PacketData::Text(t) = &p.data else {
            panic!("text data expected: {p:?}")
        };
        assert_eq!(t, "hello€");
        assert_eq!(t.as_ptr() as usize, start, "the text was copied");
        // > For the purposes of decoding, an identifier `b` is put before a packet encoding
        // > that contains binary data.
        for (wire, kind) in [
            ("b4AQID", PacketType::Message),
            ("b2AQID", PacketType::Ping),
        ] {
            let want = Packet::binary(kind, vec![1u8, 2, 3]);
            assert_eq!(
                Packet::decode_string(wire.into()),
                Ok(want.clone()),
                "{wire}"
            );
            assert_eq!(Packet::decode_str(wire), Ok(want), "{wire}");
        }
    }

    #[test]
    fn packet_without_data_is_empty_text() {
        // The reference decodes a one-character packet without `data`; we use "".
        assert_eq!(
            Packet::decode_str("6").unwrap(),
            Packet::empty(PacketType::Noop)
        );
        assert_eq!(s(&Packet::message("")), "4");
    }

    #[test]
    fn empty_packet_is_an_error() {
        assert_eq!(Packet::decode_str(""), Err(PacketError::Empty));
        assert_eq!(Packet::decode_binary(Bytes::new()), Err(PacketError::Empty));
    }

    #[test]
    fn unknown_types_are_errors() {
        assert_eq!(
            Packet::decode_str("7"),
            Err(PacketError::UnknownTypeChar('7'))
        );
        assert_eq!(
            Packet::decode_str("x4"),
            Err(PacketError::UnknownTypeChar('x'))
        );
        assert_eq!(
            Packet::decode_str("😀"),
            Err(PacketError::UnknownTypeChar('😀'))
        );
        assert_eq!(
            Packet::decode_binary(Bytes::from_static(&[7, 1])),
            Err(PacketError::UnknownTypeByte(7))
        );
        assert_eq!(
            Packet::decode_binary(Bytes::from_static(b"4hi")),
            Err(PacketError::UnknownTypeByte(b'4'))
        );
    }

    #[test]
    fn malformed_base64_packets_are_errors() {
        assert_eq!(Packet::decode_str("b"), Err(PacketError::Base64Type));
        assert_eq!(Packet::decode_str("b9AQ=="), Err(PacketError::Base64Type));
        assert_eq!(Packet::decode_str("b4AQ="), Err(PacketError::InvalidBase64));
        assert_eq!(
            Packet::decode_str("b4A!=="),
            Err(PacketError::InvalidBase64)
        );
        assert_eq!(
            Packet::decode_str("b4").unwrap(),
            Packet::binary_message(Bytes::new())
        );
    }

    #[test]
    fn lengths_match_output() {
        for p in [
            Packet::message("a😀"),
            Packet::binary_message(vec![1u8, 2]),
            Packet::empty(PacketType::Ping),
        ] {
            let out = s(&p);
            assert_eq!(p.str_len(), out.len());
            assert_eq!(p.str_utf16_len(), out.encode_utf16().count());
        }
    }
}
